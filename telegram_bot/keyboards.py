"""Inline keyboards. Callback data is "<view>:<argument>:<telegram id of who asked>" (at most 64 bytes): a button
answers only the person it was made for, and edits its own message instead of sending a new one. Staff review
buttons are "verif:<approve|reject>:<request id>" (who may press them is asked when pressed)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from django.conf import settings

from growth.selectors import referral_link

LEADERBOARD_BUTTONS = [("today", "Today"), ("weekly", "Week"), ("monthly", "Month"), ("all_time", "All time")]


def _button(text: str, view: str, argument: str, owner: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=f"{view}:{argument}:{owner}")


def help_keyboard(owner: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="🎰 Play", url=referral_link("telegram-help")),
             InlineKeyboardButton(text="🌐 Website", url=settings.SITE_URL)],
            [_button("📊 Stats", "go", "stats", owner), _button("🏆 Leaderboard", "lb", "monthly", owner)],
            [_button("🏁 Race", "race", "top", owner), _button("🎁 Codes", "go", "codes", owner)],
        ]
    )  # fmt: skip


def leaderboard_keyboard(period: str, owner: int, page: int = 1, pages: int = 1) -> InlineKeyboardMarkup:
    periods = [
        _button(("• " if value == period else "") + label, "lb", value, owner) for value, label in LEADERBOARD_BUTTONS
    ]
    here = f"{period}.{page}"
    moves = [_button("‹ Prev", "lb", f"{period}.{page - 1}", owner)] if page > 1 else []
    moves.append(_button("🔄 Refresh", "lb", here, owner))
    if page < pages:
        moves.append(_button("Next ›", "lb", f"{period}.{page + 1}", owner))
    return InlineKeyboardMarkup(inline_keyboard=[periods, moves])


def board_view(argument: str) -> tuple[str, int] | None:
    """ "monthly" or "monthly.3" (a leaderboard button's argument) → (period, page); None for anything else."""
    period, _, page = argument.partition(".")
    if period not in dict(LEADERBOARD_BUTTONS) or (page and not (page.isdigit() and 1 <= int(page) <= 99)):
        return None
    return period, int(page or 1)


def race_keyboard(owner: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button("🔄 Refresh", "race", "top", owner), _button("📍 Around me", "race", "me", owner)]]
    )


def website_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="🌐 Open GoatedVIPs", url=settings.SITE_URL)]]
    )


def review_keyboard(request_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="✅ Approve", callback_data=f"verif:approve:{request_id}"),
                InlineKeyboardButton(text="❌ Reject", callback_data=f"verif:reject:{request_id}"),
            ]
        ]
    )


PRIVACY_BUTTONS = [("full", "Full name"), ("masked", "Masked"), ("hidden", "Hidden")]


def privacy_keyboard(owner: int) -> InlineKeyboardMarkup:
    """/privacy: one button per choice ("priv:<choice>:<owner>")."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button(label, "priv", value, owner) for value, label in PRIVACY_BUTTONS]]
    )


def break_keyboard(link: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="🌱 Take a break on the site", url=link)]])
