"""What the bot says: texts built from reads only (HTML parse mode; every feed-provided string is escaped)."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from html import escape

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from races.leaderboard import leaderboard_top
from races.models import LeaderboardPeriod, RaceParticipant, WagerRace
from telegram_bot.models import VerificationRequest
from telegram_bot.services import player_for, site_user_for

HELP = (
    "<b>GoatedVIPs bot</b>\n"
    "/stats – your wagers, ranks and VIP tier\n"
    "/race – your position in the current race\n"
    "/leaderboard – top 10 this month\n"
    "/bonuscodes – bonus codes you can claim\n"
    "/verify <i>goated name</i> – link your Goated account (private chat)\n"
    "/play – join Goated with our code\n"
    "/help – this list"
)
STAFF_HELP = (
    "\n\n<b>Staff</b>\n/pending – requests to review\n/approve <i>id</i>\n/reject <i>id</i> [reason]\n"
    "/broadcast <i>text</i>"
)
NOT_VERIFIED = "I don't know your Goated account yet. Send /verify <i>your goated name</i> in a private chat with me."


def money(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01'), rounding=ROUND_DOWN):,}"


def _duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h {rest // 60}m" if days else f"{hours}h {rest // 60}m"


def stats_text(telegram_id: int) -> str:
    from vip.models import VipTier

    player = player_for(telegram_id)
    if player is None:
        return NOT_VERIFIED
    lines = [f"<b>{escape(player.name)}</b>"]
    for value, label in LeaderboardPeriod.choices:
        rank = getattr(player, {"today": "rank_today", "weekly": "rank_weekly", "monthly": "rank_monthly",
                                "all_time": "rank_all_time"}[value])  # fmt: skip
        lines.append(f"{label}: {money(player.wager_for(value))}" + (f" (#{rank})" if rank else ""))
    tiers = list(VipTier.objects.order_by("min_wager"))
    current = [t for t in tiers if t.min_wager <= player.wager_all_time]
    upcoming = [t for t in tiers if t.min_wager > player.wager_all_time]
    if current:
        lines.append(f"VIP tier: <b>{escape(current[-1].name)}</b>")
    if upcoming:
        gap = upcoming[0].min_wager - player.wager_all_time
        lines.append(f"{money(gap)} more to reach {escape(upcoming[0].name)}")
    return "\n".join(lines)


def race_text(telegram_id: int) -> str:
    from races.lifecycle import prize_table

    race = WagerRace.objects.filter(status=WagerRace.Status.LIVE).order_by("end_date").first()
    if race is None:
        return "No race is live right now. I'll tell you when the next one starts."
    left = _duration((race.end_date - timezone.now()).total_seconds())
    head = f"<b>{escape(race.title)}</b> – {money(race.prize_pool)} pool, ends in {left}"
    player = player_for(telegram_id)
    if player is None:
        return f"{head}\n\n{NOT_VERIFIED}"
    entry = RaceParticipant.objects.filter(race=race, player=player, rank__isnull=False).first()
    if entry is None:
        return f"{head}\n\nYou have not wagered in this race yet."
    prizes = prize_table(race.prize_pool, race.prize_distribution)
    lines = [head, "", f"You are <b>#{entry.rank}</b> with {money(entry.wagered)} wagered."]
    if not entry.prize_eligible:
        lines.append(f"Wager at least {money(race.min_wager)} to be eligible for a prize.")
    paid_ranks = sorted(rank for rank, amount in prizes.items() if amount > 0)
    if entry.rank in prizes and prizes[entry.rank] > 0:
        lines.append(f"Current prize: {money(prizes[entry.rank])}.")
    if paid_ranks and entry.rank > 1:
        target = max([r for r in paid_ranks if r < entry.rank], default=None) or entry.rank - 1
        ahead = RaceParticipant.objects.filter(race=race, rank=target).first()
        if ahead is not None:
            lines.append(f"{money(ahead.wagered - entry.wagered)} more to pass #{target}.")
    return "\n".join(lines)


def leaderboard_text() -> str:
    rows = leaderboard_top(LeaderboardPeriod.MONTHLY, 10)
    if not rows:
        return "Nobody has wagered this month yet."
    body = "\n".join(f"{r['rank']}. {escape(r['name'])} – ${Decimal(r['wagered']):,}" for r in rows)
    return f"<b>Top 10 this month</b>\n{body}"


def bonus_codes_text(telegram_id: int) -> str:
    from vip.models import BonusCode

    user = site_user_for(telegram_id)
    now = timezone.now()
    codes = BonusCode.objects.filter(is_active=True, owner__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    if user is None or not user.is_verified:
        codes = codes.filter(audience=BonusCode.Audience.EVERYONE)
    codes = list(codes.order_by("-created_at")[:10])
    if not codes:
        return "No bonus codes right now. Check back soon!"
    lines = ["<b>Bonus codes</b>"]
    lines += [f"<code>{escape(c.code)}</code> – {money(c.amount)}" + (f" · {escape(c.description)}" if c.description
              else "") for c in codes]  # fmt: skip
    if user is None:
        lines.append("\nLink your site account to claim codes and see members-only ones.")
    return "\n".join(lines)


def play_text() -> str:
    return f"Join Goated with our code and race for prizes: {escape(settings.REFERRAL_URL)}"


def pending_requests(limit: int = 10) -> list[VerificationRequest]:
    return list(
        VerificationRequest.objects.filter(status=VerificationRequest.Status.PENDING)
        .select_related("player", "user")
        .order_by("requested_at")[:limit]
    )


def request_text(r: VerificationRequest) -> str:
    who = f"@{escape(r.telegram_username)}" if r.telegram_username else escape(str(r.user or r.telegram_id))
    feed = (
        f"month {money(r.player.wager_month)}, all-time {money(r.player.wager_all_time)}" if r.player else "not in feed"
    )
    return f"#{r.pk} {who} claims <b>{escape(r.goated_name)}</b> ({feed})"
