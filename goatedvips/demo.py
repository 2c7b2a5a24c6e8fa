"""Demo data for embedded mode and local development (`manage.py seed_demo`). Idempotent."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import verification_approve, verification_request_create
from accounts.terms import TERMS_VERSION
from core.models import AuditEntry
from giveaways.models import Raffle, RaffleEntry
from giveaways.services import raffle_draw, raffle_open
from notifications.services import notification_preferences_get
from races.models import Player, WagerRace
from races.services.sync import sync_wagers
from vip.models import BonusCode, WheelSegment

# A 100 % table (the original system's 103.5 % one is rejected by validation).
MONTHLY_DISTRIBUTION = {"1": 40, "2": 20, "3": 12, "4": 8, "5": 6, "6": 5, "7": 3, "8": 2.5, "9": 2, "10": 1.5}
WEEKLY_DISTRIBUTION = {"1": 50, "2": 30, "3": 20}

DEMO_CODES = [
    # code, description, amount, required wager, limit, days valid, audience
    ("WELCOME10", "Welcome bonus for new members", "10.00", "500.00", 500, 30, BonusCode.Audience.EVERYONE),
    ("GOATED25", "Weekend reload", "25.00", "2500.00", 100, 7, BonusCode.Audience.EVERYONE),
    ("VIPONLY50", "For verified players only", "50.00", "10000.00", 20, 14, BonusCode.Audience.VERIFIED),
]

# Weights are integers; "Try again" dominates, the big prize is rare.
DEMO_SEGMENTS = [
    ("Try again", 12000, "0", "#64748B"),
    ("$0.10 bonus", 200, "0.10", "#A78BFA"),
    ("Try again", 12000, "0", "#64748B"),
    ("$0.50 bonus", 60, "0.50", "#38BDF8"),
    ("Try again", 12000, "0", "#64748B"),
    ("$2 bonus", 10, "2.00", "#D7FF00"),
    ("Try again", 12000, "0", "#64748B"),
    ("$5 bonus", 4, "5.00", "#FB7185"),
    ("Try again", 12000, "0", "#64748B"),
    ("$100 bonus", 1, "100.00", "#FACC15"),
]


@dataclass
class DemoReport:
    players_created: int = 0
    players_existing: int = 0
    races: list[str] = field(default_factory=list)
    codes_created: int = 0
    segments_created: int = 0
    accounts: list[tuple[str, str | None]] = field(default_factory=list)
    sync_note: str = ""
    demo_player: str = ""
    raffles: list[str] = field(default_factory=list)


def _month_window(now: datetime) -> tuple[datetime, datetime]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _next_week_window(now: datetime) -> tuple[datetime, datetime]:
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    start = monday + timedelta(days=7)
    return start, start + timedelta(days=7)


def _seed_players(report: DemoReport) -> None:
    """Players come from one feed sync (the demo feed unless AFFILIATE_API_URL is set), like in production."""
    result = sync_wagers()
    if result.skipped:
        report.sync_note = "a sync was already running; players arrive with it"
    elif not result.ok:
        report.sync_note = f"the feed sync failed ({result.error}); players arrive with the next good sync"
    report.players_created = result.created
    report.players_existing = result.received - result.rejected - result.duplicates - result.created


def _seed_races(report: DemoReport, now: datetime) -> None:
    start, end = _month_window(now)
    monthly, created = WagerRace.objects.get_or_create(
        type=WagerRace.Type.MONTHLY,
        start_date=start,
        defaults={
            "title": f"{start:%B %Y} Monthly Race",
            "status": WagerRace.Status.LIVE,
            "end_date": end,
            "prize_pool": Decimal("5000.00"),
            "min_wager": Decimal("1000.00"),
            "prize_distribution": MONTHLY_DISTRIBUTION,
            "recurrence": WagerRace.Recurrence.MONTHLY,
            "went_live_at": start,
            "description": "Wager on Goated under our code this month; the top 10 share the pool.",
            "rules": "Wagers count from the 1st 00:00 UTC to the last day 23:59:59 UTC. "
            "A minimum of $1,000 wagered is needed to win a prize.",
        },
    )
    report.races.append(f"{monthly.title} ({monthly.status}, {'created' if created else 'exists'})")
    wstart, wend = _next_week_window(now)
    weekly, created = WagerRace.objects.get_or_create(
        type=WagerRace.Type.WEEKLY,
        start_date=wstart,
        defaults={
            "title": f"Weekly Sprint from {wstart:%d %b}",
            "status": WagerRace.Status.UPCOMING,
            "end_date": wend,
            "prize_pool": Decimal("1000.00"),
            "min_wager": Decimal("250.00"),
            "prize_distribution": WEEKLY_DISTRIBUTION,
            "recurrence": WagerRace.Recurrence.WEEKLY,
            "description": "A one-week sprint: the top 3 of the week split $1,000.",
        },
    )
    report.races.append(f"{weekly.title} ({weekly.status}, {'created' if created else 'exists'})")


def _seed_codes_and_wheel(report: DemoReport, now: datetime) -> None:
    for code, description, amount, wager, limit, days, audience in DEMO_CODES:
        _, created = BonusCode.objects.get_or_create(
            code=code,
            defaults={
                "description": description,
                "amount": Decimal(amount),
                "required_wager": Decimal(wager),
                "claim_limit": limit,
                # At the end of a day UTC, as operators set them (admin's default too), not at seed time.
                "expires_at": (now + timedelta(days=days)).replace(hour=23, minute=59, second=59, microsecond=0),
                "audience": audience,
            },
        )
        report.codes_created += created
    if not WheelSegment.objects.exists():
        WheelSegment.objects.bulk_create(
            WheelSegment(position=i, label=label, weight=weight, reward_amount=Decimal(reward), color=color)
            for i, (label, weight, reward, color) in enumerate(DEMO_SEGMENTS)
        )
        report.segments_created = len(DEMO_SEGMENTS)


def _ensure_account(username: str, email: str, *, staff: bool, group: str | None) -> tuple[str, str | None]:
    """Create the account with a random password (returned once), or leave an existing one untouched."""
    if User.objects.filter(username=username).exists():
        return username, None
    password = secrets.token_urlsafe(12)
    user = User.objects.create_user(username=username, email=email, password=password)
    user.is_staff = staff
    user.is_superuser = staff and group is None
    user.email_verified = True
    # Seeded accounts, not people: they start with the current terms accepted (a real player confirms at sign-up).
    user.adult_confirmed_at = user.terms_accepted_at = timezone.now()
    user.terms_version = TERMS_VERSION
    user.save()
    notification_preferences_get(user)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return username, password


def seed_demo(*, progress: Callable[[str], None] = lambda _msg: None) -> DemoReport:
    """Create demo players, races, codes, wheel segments and accounts. Safe to run again: adds only what is missing."""
    report = DemoReport()
    now = timezone.now()
    with transaction.atomic():
        progress("Races: a live monthly race and next week's race…")
        _seed_races(report, now)
        progress("Bonus codes and wheel segments…")
        _seed_codes_and_wheel(report, now)
        progress("Accounts…")
        report.accounts.append(_ensure_account("admin", "admin@goatedvips.local", staff=True, group=None))
        report.accounts.append(_ensure_account("operator", "operator@goatedvips.local", staff=True, group="Operators"))
        report.accounts.append(_ensure_account("support", "support@goatedvips.local", staff=True, group="Support"))
        report.accounts.append(_ensure_account("demo", "demo@goatedvips.local", staff=False, group=None))
    # After the races exist, so the live race's standings are computed by the same sync.
    progress("Players: one feed sync…")
    _seed_players(report)
    progress("The demo account: a verified Goated player, so it can claim codes and spin…")
    _link_demo_account(report)
    progress("Raffles: this week's ticket raffle, an open giveaway and last week's drawn one…")
    _seed_raffles(report, timezone.now())
    return report


def _raffle(title: str, **fields) -> tuple[Raffle, bool]:
    return Raffle.objects.get_or_create(title=title, defaults=fields)


def _seed_raffles(report: DemoReport, now: datetime) -> None:
    """Raffles after the players: an open wager raffle counts tickets from each sync of the moving demo feed."""
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    weekly, _ = _raffle(
        f"Ticket raffle, week of {monday:%d %b}", starts_at=monday, ends_at=monday + timedelta(days=7),
        prize_pool=Decimal("250.00"), winners_count=5, ticket_wager=Decimal("500.00"),
        prize_distribution={"1": 40, "2": 25, "3": 15, "4": 10, "5": 10},
        description="Every $500 you wager on Goated this week is a ticket. Five winners, drawn Monday 00:00 UTC.",
    )  # fmt: skip
    raffle_open(weekly.pk, now=now)
    giveaway, _ = _raffle(
        "Community giveaway: $50 Goated tip", starts_at=now - timedelta(hours=2), ends_at=now + timedelta(days=3),
        prize_pool=Decimal("50.00"), winners_count=1, ticket_wager=Decimal("0"), prize_distribution={"1": 100},
        description="One free ticket for every verified player who presses Enter. Drawn live on stream.",
    )  # fmt: skip
    raffle_open(giveaway.pk, now=now)
    drawn, made_drawn = _raffle(
        "Last week's giveaway: $60 for 3 winners", starts_at=monday - timedelta(days=7),
        ends_at=monday - timedelta(days=1), prize_pool=Decimal("60.00"), winners_count=3, ticket_wager=Decimal("0"),
        prize_distribution={"1": 50, "2": 30, "3": 20},
    )  # fmt: skip
    if made_drawn:
        raffle_open(drawn.pk, now=drawn.starts_at)
        players = list(Player.objects.order_by("-wager_all_time")[:24])
        RaffleEntry.objects.bulk_create(
            RaffleEntry(raffle=drawn, player=p, baseline_all_time=0, measured=0, tickets=1, entered_at=drawn.starts_at)
            for p in players
        )  # fmt: skip
        raffle_draw(drawn.pk, now=drawn.ends_at + timedelta(seconds=1))
    for raffle in (weekly, giveaway, drawn):
        raffle.refresh_from_db()
        report.raffles.append(f"{raffle.title} ({raffle.status})")


def _link_demo_account(report: DemoReport) -> None:
    """Link `demo` to a demo player the way a real player is linked (a claim approved by staff), once."""
    demo = User.objects.filter(username="demo").first()
    reviewer = User.objects.filter(username="admin").first()
    if demo is None or demo.player_id is not None or reviewer is None:
        return
    # A player from the middle of the pack, so the demo shows what most players see: a rank and a gap to a prize.
    free = Player.objects.filter(site_user__isnull=True).order_by("-wager_all_time", "uid")
    player = free[13:14].first() or free.first()
    if player is None:
        report.sync_note = report.sync_note or "no players yet, so the demo account is not linked"
        return
    request = verification_request_create(user=demo, goated_name=player.name)
    verification_approve(request.pk, actor=reviewer, source=AuditEntry.Source.SYSTEM)
    report.demo_player = player.name
