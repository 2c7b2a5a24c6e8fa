"""What the bot says: texts built from the selectors of the other apps, in Telegram's HTML parse mode through
`core.text.tg_html`, which escapes every value put into a template (names and titles come from users and the
feed)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from accounts.models import VerificationRequest
from accounts.selectors import player_for, site_user_for
from core.money import money_text
from core.text import tg_html
from giveaways.selectors import raffle_tickets_of, raffles_open
from growth.selectors import referral_link
from races.feed.leaderboard import leaderboard_around, leaderboard_page
from races.feed.names import player_public_name
from races.models import LeaderboardPeriod
from races.selectors.players import LOOKUP_MAX, players_lookup
from races.selectors.races import race_current, race_position
from vip.selectors import TierTable, bonus_codes_for

HELP = (
    "<b>GoatedVIPs bot</b>\n"
    "/stats – your wagers, ranks and VIP tier\n"
    "/race – your position in the current race\n"
    "/leaderboard – the top 10, by period\n"
    "/check_stats <i>name or uid</i> – a player's public figures\n"
    "/bonuscodes – bonus codes you can claim\n"
    "/join [race number] – join an opt-in race\n"
    "/raffle – open raffles and your tickets\n"
    "/enter [raffle number] – enter a giveaway (one ticket)\n"
    "/notify on|off – race and account messages from me\n"
    "/privacy – how your Goated name appears to others\n"
    "/break – take a break from rewards, races and promotions\n"
    "/verify <i>goated name</i> – link your Goated account (private chat)\n"
    "/play – join Goated with our code\n"
    "/website – the GoatedVIPs site\n"
    "/help – this list"
)
STAFF_HELP = {  # by command; /help lists those the sender's role may use (core.roles.bot_commands_for)
    "pending": "/pending – requests to review",
    "approve": "/approve <i>id</i>",
    "reject": "/reject <i>id</i> [reason]",
    "broadcast": "/broadcast <i>text</i>",
}
FEATURE_OFF = "This feature is off for now ({}). Please try again later."


def staff_help(commands: list[str]) -> str:
    lines = [STAFF_HELP[command] for command in commands if command in STAFF_HELP]
    return "\n\n<b>Staff</b>\n" + "\n".join(lines) if lines else ""


def feature_off_text(label: str) -> str:
    return tg_html(FEATURE_OFF, label.lower())


BREAK_TEXT = (
    "🌱 <b>Take a break</b>\n"
    "For 1, 7, 30 or 180 days, or for good: no rewards, raffles, race entries or promotional messages, and your "
    "name is hidden. It cannot be shortened.\n\n"
    "Open the link below and confirm on the site with your password (never send your password here). The link "
    "works once and for {minutes} minutes."
)


NOT_VERIFIED = "I don't know your Goated account yet. Send /verify <i>your goated name</i> in a private chat with me."


def _duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h {rest // 60}m" if days else f"{hours}h {rest // 60}m"


def _figures(player) -> list[str]:
    """A player's wager and global rank in every period, and their VIP tier (public figures)."""
    lines = []
    for value, label in LeaderboardPeriod.choices:
        rank = player.rank_for(value)
        lines.append(f"{label}: {money_text(player.wager_for(value))}" + (f" (#{rank})" if rank else ""))
    tier = TierTable().progress(player.wager_all_time).current
    if tier:
        lines.append(tg_html("VIP tier: <b>{}</b>", tier.name))
    return lines


def stats_text(telegram_id: int) -> str:
    player = player_for(telegram_id)
    if player is None:
        return NOT_VERIFIED
    lines = [tg_html("<b>{}</b>", player.name), *_figures(player)]
    progress = TierTable().progress(player.wager_all_time)
    if progress.next:
        lines.append(tg_html("{} more to reach {}", money_text(progress.to_next), progress.next.name))
    around = leaderboard_around(LeaderboardPeriod.MONTHLY, player.uid, NEIGHBOURS)["results"]
    if len(around) > 1:
        lines += ["", "<b>Around you this month</b>"]
        lines += [_neighbour(r["rank"], r["name"], Decimal(r["wagered"]), r["uid"] == player.uid) for r in around]
    return "\n".join(lines)


CHECK_USAGE = "Usage: /check_stats <i>goated name or uid</i>"


def check_stats_text(query: str) -> str:
    """Another player's public figures, unless their linked site account keeps its stats private."""
    query = " ".join(query.split())
    if not query:
        return CHECK_USAGE
    if len(query) > 64:
        return "That is longer than any Goated name or uid. " + CHECK_USAGE
    found = players_lookup(query)
    if not found:
        return tg_html("I don't know a player called <b>{}</b>. Names must match exactly (any case).", query)
    if len(found) > 1:
        more = " (and more)" if len(found) == LOOKUP_MAX else ""
        uids = ", ".join(tg_html("<code>{}</code>", p.uid) for p in found)
        return tg_html("Several players are called <b>{}</b>{}: ask with a uid: ", query, more) + uids
    player = found[0]
    owner = getattr(player, "site_user", None)
    if owner is not None and not owner.show_stats:
        return tg_html("<b>{}</b> keeps their stats private.", player_public_name(player))
    return "\n".join([tg_html("<b>{}</b>", player_public_name(player)), *_figures(player)])


def website_text() -> str:
    return tg_html("Races, leaderboards, the VIP ladder and your account: {}", settings.SITE_URL)


NEIGHBOURS = 2  # rows above and below in /stats and /race


def _neighbour(rank: int, name: str, wagered: Decimal, me: bool) -> str:
    line = tg_html("{}. {} – {}", rank, name, money_text(wagered))
    return f"<b>{line} ← you</b>" if me else line


def race_text(telegram_id: int, around: int = NEIGHBOURS) -> str:
    race = race_current(race_type=None)
    if race is None:
        return "No race is live right now. I'll tell you when the next one starts."
    left = _duration((race.end_date - timezone.now()).total_seconds())
    head = tg_html("<b>{}</b> – {} pool, ends in {}", race.title, money_text(race.prize_pool), left)
    player = player_for(telegram_id)
    if player is None:
        return f"{head}\n\n{NOT_VERIFIED}"
    position = race_position(race, player.pk, n=around)
    if position is None:
        return f"{head}\n\nYou have not wagered in this race yet."
    me = position.row
    lines = [head, "", f"You are <b>#{me.rank}</b> with {money_text(me.wagered)} wagered."]
    if not me.prize_eligible:
        lines.append(f"Wager at least {money_text(race.min_wager)} to be eligible for a prize.")
    if me.prize > 0:
        lines.append(f"Current prize: {money_text(me.prize)}.")
    if position.target is not None:
        lines.append(f"{money_text(position.gap)} more to pass #{position.target.rank}.")
    if len(position.around) > 1:
        lines += ["", "<b>Around you</b>"]
        lines += [_neighbour(r.rank, r.name, r.wagered, r.uid == player.uid) for r in position.around]
    return "\n".join(lines)


PERIOD_TITLES = {"today": "today", "weekly": "this week", "monthly": "this month", "all_time": "of all time"}


BOARD_PAGE = 10
BOARD_PAGES = 10  # the bot pages through the top 100; the site has the rest


def leaderboard_pages(period: str) -> int:
    """How many pages of BOARD_PAGE rows the bot offers for a period (at least 1)."""
    total = leaderboard_page(period, 1, 0)["total"]
    return max(1, min(BOARD_PAGES, -(-total // BOARD_PAGE)))


def leaderboard_text(period: str = LeaderboardPeriod.MONTHLY, page: int = 1) -> str:
    title = PERIOD_TITLES[LeaderboardPeriod(period)]
    rows = leaderboard_page(period, BOARD_PAGE, (page - 1) * BOARD_PAGE)["results"]
    if not rows:
        return f"Nobody has wagered {title} yet." if period != "all_time" else "Nobody has wagered yet."
    body = "\n".join(tg_html("{}. {} – {}", r["rank"], r["name"], money_text(Decimal(r["wagered"]))) for r in rows)
    heading = f"Top 10 {title}" if page == 1 else f"Ranks {rows[0]['rank']}–{rows[-1]['rank']} {title}"
    return f"<b>{heading}</b>\n{body}"


def bonus_codes_text(telegram_id: int) -> str:
    """The codes this Telegram user may claim: the site's visibility rule (audience, tier), public codes only."""
    user = site_user_for(telegram_id)
    visible = [c for c in bonus_codes_for(user, limit=50) if c.owner_id is None]
    codes = visible[:CODES_SHOWN]
    if not codes:
        return "No bonus codes right now. Check back soon!"
    lines = ["<b>Bonus codes</b>"]
    for c in codes:
        note = tg_html(" · {}", c.description) if c.description else ""
        lines.append(tg_html("<code>{}</code> – {}", c.code, money_text(c.amount)) + note)
    if len(visible) > CODES_SHOWN:
        more = f"{len(visible) - CODES_SHOWN}{'+' if len(visible) == 50 else ''}"
        lines.append(tg_html("…and {} more on the site: {}/bonus-codes/", more, settings.SITE_URL))
    if user is None:
        lines.append("\nLink your site account to claim codes and see members-only ones.")
    return "\n".join(lines)


CODES_SHOWN = 10


def play_text() -> str:
    return tg_html("Join Goated with our code and race for prizes: {}", referral_link("telegram-play"))


def request_text(r: VerificationRequest) -> str:
    who = f"@{r.telegram_username}" if r.telegram_username else str(r.user or r.telegram_id)
    feed = "not in feed"
    if r.player:
        feed = f"month {money_text(r.player.wager_month)}, all-time {money_text(r.player.wager_all_time)}"
    return tg_html("#{} {} claims <b>{}</b> ({})", r.pk, who, r.goated_name, feed)


def raffle_text(telegram_id: int) -> str:
    """/raffle: the open raffles, what each gives tickets for, the sender's tickets when they are linked."""
    raffles = raffles_open()
    if not raffles:
        return (
            "No raffle is open right now. New ones are posted in the channel and at " + settings.SITE_URL + "/raffles/"
        )
    player = player_for(telegram_id)
    lines = ["<b>Open raffles</b>"]
    for raffle in raffles[:10]:
        how = f"giveaway: /enter {raffle.pk} for a ticket" if raffle.is_giveaway else (
            f"1 ticket per {money_text(raffle.ticket_wager)} wagered"
        )  # fmt: skip
        lines.append(tg_html(
            "#{} <b>{}</b> – {} for {} winner(s), {}; drawn {} UTC", raffle.pk, raffle.title,
            money_text(raffle.prize_pool), raffle.winners_count, how, raffle.ends_at.strftime("%d %b %H:%M"),
        ))  # fmt: skip
        if player is not None:
            lines.append(tg_html("   your tickets: <b>{}</b>", f"{raffle_tickets_of(raffle, player):,}"))
    if player is None:
        lines.append("Link your Goated account (/verify) to see your tickets.")
    return "\n".join(lines)
