"""The bot's own writes: joining a race and the community group's moderation (everything else the bot does is a
service of another app: accounts for linking and verification, notifications for delivery and broadcasts, whose
`broadcast_start` the staff /broadcast calls)."""

from __future__ import annotations

import contextlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.selectors import player_for, site_user_for
from core.audit import audit_record
from core.errors import ServiceError
from core.models import AuditEntry
from core.ratelimit import rate_count
from core.text import tg_html
from giveaways.models import Raffle
from giveaways.services import raffle_enter
from notifications.models import BotUser
from races.models import RaceEntry, WagerRace
from races.services.entries import race_join
from telegram_bot import texts


def race_join_from_bot(telegram_id: int, args: str) -> str:
    """/join [race id]: the player linked to this Telegram account joins an opt-in race (the only open one when
    no id is given). The answer, in Telegram HTML."""
    player, user = player_for(telegram_id), site_user_for(telegram_id)
    if player is None:
        return texts.NOT_VERIFIED
    open_races = list(  # open by status and not ended by the clock (WagerRace.has_ended)
        WagerRace.objects.filter(
            WagerRace.not_ended_q(timezone.now()), entry=WagerRace.Entry.OPT_IN, status__in=WagerRace.OPEN_STATUSES
        ).order_by("start_date")[:10]
    )
    raw = (args or "").strip().lstrip("#")
    if raw:
        if not raw.isdigit() or len(raw) > 9:
            return "Send /join followed by the race number, like /join 12."
        race_id = int(raw)
    elif len(open_races) == 1:
        race_id = open_races[0].pk
    elif not open_races:
        return "No race is open for joining right now: in the current races everyone counts."
    else:
        lines = [tg_html("#{} {}", r.pk, r.title) for r in open_races]
        return "Several races are open. Send /join with the number:\n" + "\n".join(lines)
    try:
        entry = race_join(race_id, player=player, user=user, source=RaceEntry.Source.BOT)
    except ServiceError as exc:
        return tg_html("{}", exc.message)
    return tg_html("✅ You're in <b>{}</b>. Your wagers count from now on.", entry.race.title)


def raffle_enter_from_bot(telegram_id: int, args: str) -> str:
    """/enter [raffle id]: the site account linked to this Telegram account enters a giveaway (the only open one
    when no id is given), by the same rules as the site. The answer, in Telegram HTML."""
    user = site_user_for(telegram_id)
    if user is None:
        return "Link your site account first: Settings → Telegram on the site."
    giveaways = list(
        Raffle.objects.filter(Raffle.not_ended_q(timezone.now()), status=Raffle.Status.OPEN, ticket_wager=0)
        .order_by("ends_at")[:10]
    )  # fmt: skip
    raw = (args or "").strip().lstrip("#")
    if raw:
        if not raw.isdigit() or len(raw) > 9:
            return "Send /enter followed by the giveaway number, like /enter 4."
        raffle_id = int(raw)
    elif len(giveaways) == 1:
        raffle_id = giveaways[0].pk
    elif not giveaways:
        return "No giveaway is open right now. /raffle lists the raffles, where your wagers earn tickets."
    else:
        lines = [tg_html("#{} {}", r.pk, r.title) for r in giveaways]
        return "Several giveaways are open. Send /enter with the number:\n" + "\n".join(lines)
    try:
        raffle_enter(raffle_id, user, source=AuditEntry.Source.BOT)
    except ServiceError as exc:
        return tg_html("{}", exc.message)
    return tg_html("🎟 You're in <b>{}</b> with one ticket. Good luck!", Raffle.objects.get(pk=raffle_id).title)


# --- the community group: moderation and the flood guard --------------------------------------------------------


@transaction.atomic
def moderation_record(action: str, *, chat_id: int, member_id: int, member_name: str, admin_id: int | None,
                      admin_name: str, minutes: int | None = None) -> AuditEntry:  # fmt: skip
    """Audit one moderation step in the community group (`telegram.mute`, `.unmute`, `.ban`, `.flood_mute`).
    The target is the member's BotUser; the actor is the admin's site account when they have one linked."""
    member, _ = BotUser.objects.get_or_create(telegram_id=member_id, defaults={"first_name": member_name[:64]})
    actor = site_user_for(admin_id) if admin_id else None
    who = f"Telegram admin {admin_name} ({admin_id})" if admin_id else "the flood guard"
    after = {"chat": chat_id, "member": member_id, **({"minutes": minutes} if minutes else {})}
    if action == "telegram.unmute":
        flood_flag_clear(chat_id, member_id)
    return audit_record(actor=actor, action=action, target=member, after=after, source=AuditEntry.Source.BOT,
                        note=f"by {who} in chat {chat_id}")  # fmt: skip


# Longer than any flood window: a round that expired early would fall back to a count from before the /unmute.
FLOOD_ROUND_SECONDS = 24 * 3600


def _flood_keys(chat_id: int, member_id: int) -> tuple[str, str]:
    """The "muted already" flag, and the round the member's messages are counted in (a new one after /unmute)."""
    return f"tg:flooded:{chat_id}:{member_id}", f"tg:flood-round:{chat_id}:{member_id}"


def flood_check(chat_id: int, member_id: int) -> bool:
    """Count one message of a member of the community group; True once when they reach TELEGRAM_FLOOD_MESSAGES
    within TELEGRAM_FLOOD_SECONDS (then not again until the mute has run out or an admin lifted it). Counted by
    the site's rate limiter (django-ratelimit: fixed windows of TELEGRAM_FLOOD_SECONDS in the shared cache)."""
    window, limit = settings.TELEGRAM_FLOOD_SECONDS, settings.TELEGRAM_FLOOD_MESSAGES
    flag_key, round_key = _flood_keys(chat_id, member_id)
    try:
        round_ = cache.get(round_key, 0)
        count = rate_count("telegram-flood", f"{chat_id}:{member_id}:{round_}", f"{limit}/{window}s")
        if count is None or count < limit:
            return False
        return cache.add(flag_key, 1, timeout=settings.TELEGRAM_FLOOD_MUTE_MINUTES * 60)
    except Exception:  # no cache: no flood guard, rather than no bot
        return False


def flood_flag_clear(chat_id: int, member_id: int) -> None:
    """Re-arm the guard (an admin lifted the mute): forget the flag, and count the member's messages afresh in a
    new round, since a limiter's window cannot be emptied. The round outlives any counting window."""
    flag_key, round_key = _flood_keys(chat_id, member_id)
    with contextlib.suppress(Exception):  # nothing to clear without a cache
        cache.delete(flag_key)
        cache.set(round_key, uuid.uuid4().hex, timeout=FLOOD_ROUND_SECONDS)
