"""A generated history for the dashboard's charts (demo and tests): N days of daily wager figures, sign-ups and
verifications, bonus claims, wheel spins, finished weekly races with their payouts, support tickets with replies,
and the last 24 hours of syncs. Deterministic (a fixed random seed) and idempotent (rows it made are marked and
skipped when it runs again)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import VerificationRequest
from accounts.terms import TERMS_VERSION
from core.models import AuditEntry
from payouts import services as payout_service
from payouts.models import Payout
from races.models import Player, RaceParticipant, TransformationLog, WagerDay, WagerRace
from races.services.lifecycle import race_finalize, race_start
from support.models import SupportTicket, TicketMessage
from vip.models import BonusCode, BonusCodeClaim, WheelSegment, WheelSpin

# Rows made here read like a real site's (names, subjects, references); the accounts are told apart by their email
# domain, which is how a second run knows there is nothing to do.
EMAIL_DOMAIN = "players.goatedvips.example"
ADJECTIVES = ["Lucky", "Savage", "Neon", "Crypto", "Midnight", "Golden", "Rapid", "Silent", "Wild", "Frosty", "Blazing",
              "Royal", "Cosmic", "Turbo", "Shadow", "Iron", "Mega", "Diamond", "Electric", "Velvet"]  # fmt: skip
NOUNS = ["Goat", "Rocket", "Tiger", "Whale", "Ace", "Viper", "Falcon", "Panda", "Shark", "Wolf", "Raven", "Knight",
         "Bull", "Fox", "Dragon", "Phoenix", "Cobra", "Lynx", "Maverick", "Otter"]  # fmt: skip
# (subject, the player's message, the staff reply)
TICKETS = [
    ("Bonus code says invalid", "I tried WELCOME10 on Goated and it says the code is invalid. Can you check?",
     "Codes are claimed here first, then used on Goated. Yours is claimed now; please try again."),
    ("Weekly race prize not received", "I finished 3rd in last week's race but I have not received the prize yet.",
     "Prizes go out every Monday after review. Yours is approved and will be sent today."),
    ("Can't link my Goated account", "It says my Goated name is already claimed by someone else.",
     "That name was linked to an older account of yours. I have moved it to this one."),
    ("Wager missing from the leaderboard", "I wagered about $2,000 yesterday but the board shows less.",
     "The feed updates every few minutes and only counts bets under our code. It has caught up now."),
    ("Wheel prize not credited", "I won $0.50 on the wheel this morning and cannot see it anywhere.",
     "Wheel prizes are credited within 24 hours. It shows on your account now."),
    ("How do VIP tiers work?", "What do I need to reach Gold, and what do I get there?",
     "Gold starts at $100,000 all-time wager under our code. The VIP page shows your progress and the perks."),
    ("Telegram bot does not answer", "I typed /verify in the group and nothing happens.",
     "Please send /verify to the bot in a private chat; in groups it only posts race results."),
    ("Change my email address", "I no longer use the email address on my account.",
     "You can change it under Account settings; a confirmation link goes to the new address."),
    ("Raffle tickets look wrong", "I wagered $1,600 this week but I only have 3 raffle tickets.",
     "A ticket is every full $500 wagered, so $1,600 makes 3 tickets. One more $400 and you have 4."),
    ("Race minimum question", "Do I need the $1,000 minimum to show on the race board?",
     "You show on the board from your first bet; the minimum only decides whether a place pays a prize."),
]  # fmt: skip


def _username(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = f"{rng.choice(ADJECTIVES)}{rng.choice(NOUNS)}{rng.randrange(2, 999)}"
        if name not in taken:
            taken.add(name)
            return name


@dataclass
class HistoryReport:
    days: int = 0
    users: int = 0
    races: int = 0
    tickets: int = 0
    syncs: int = 0


def _at(day, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=rng.randrange(0, 86_000))


@transaction.atomic
def history_generate(days: int = 90, *, now: datetime | None = None, seed: int = 90, progress=None) -> HistoryReport:
    now, rng, report = now or timezone.now(), random.Random(seed), HistoryReport(days=days)  # noqa: S311 (demo data)
    say = progress or (lambda _msg: None)
    today = now.astimezone(UTC).date()
    past = [today - timedelta(days=i) for i in range(days, 0, -1)]
    if get_user_model().objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").exists():
        say("history already generated: nothing to do")
        return report
    say(f"{days} days of wager figures")
    _wager_days(past, rng)
    say("sign-ups, verifications, claims and spins")
    report.users = _players(past, rng)
    say("finished weekly races with payouts")
    report.races = _weekly_races(past, today, rng, days)
    say("support tickets")
    report.tickets = _tickets(past, rng)
    say("the last 24 hours of syncs")
    report.syncs = _syncs(now, rng)
    return report


def _wager_days(past: list, rng: random.Random) -> None:
    for i, day in enumerate(past):
        weekend = day.weekday() >= 5
        wagered = Decimal(rng.randrange(80_000, 260_000) * (1.4 if weekend else 1)).quantize(Decimal("0.01"))
        WagerDay.objects.update_or_create(
            date=day, defaults={"wagered": wagered + Decimal(i * 900), "active_players": rng.randrange(60, 240)}
        )


def _players(past: list, rng: random.Random) -> int:
    """Sign-ups with their verifications, claims of a welcome code and wheel spins; returns the sign-ups."""
    User = get_user_model()
    last = past[-1]  # the code of the past quarter: expired since, so the bonus page does not list it any more
    code = BonusCode.objects.create(code="NEWGOAT5", amount=Decimal(5), claim_limit=None, description="New member gift",
                                    expires_at=datetime(last.year, last.month, last.day, tzinfo=UTC))  # fmt: skip
    segment = WheelSegment.objects.filter(is_active=True).order_by("position").first()
    n, taken = 0, set(User.objects.values_list("username", flat=True))
    for day in past:
        for _ in range(rng.randrange(0, 6)):
            joined = _at(day, rng)
            username = _username(rng, taken)
            user = User.objects.create(username=username, email=f"{username.lower()}@{EMAIL_DOMAIN}",
                                       date_joined=joined, email_verified=True, adult_confirmed_at=joined,
                                       terms_version=TERMS_VERSION, terms_accepted_at=joined)  # fmt: skip
            user.set_unusable_password()
            user.save(update_fields=["password"])
            n += 1
            if rng.random() < 0.5:
                VerificationRequest.objects.create(
                    user=user, goated_name=username, status=VerificationRequest.Status.APPROVED,
                    requested_at=joined, decided_at=joined + timedelta(hours=rng.randrange(1, 20)),
                    source=VerificationRequest.Source.SITE,
                )  # fmt: skip
            if rng.random() < 0.6:
                BonusCodeClaim.objects.create(code=code, user=user, claimed_at=joined + timedelta(minutes=30))
            if segment is not None and rng.random() < 0.7:
                seed_text = hashlib.sha256(f"spin-{n}".encode()).hexdigest()
                WheelSpin.objects.create(
                    user=user, spin_date=day, segment=segment, server_seed=seed_text,
                    server_seed_hash=hashlib.sha256(seed_text.encode()).hexdigest(),
                    client_seed=f"{username.lower()}-{day:%m%d}", roll=0, created_at=joined + timedelta(minutes=5),
                )  # fmt: skip
    return n


def _weekly_races(past: list, today, rng: random.Random, days: int) -> int:
    """The last 12 weeks' races, finalized through the engine, their prizes paid (but the latest week's)."""
    staff = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    players = list(Player.objects.order_by("pk")[: days * 4])
    races = 0
    for week_end in [d for d in past if d.weekday() == 0][-12:]:
        end = datetime(week_end.year, week_end.month, week_end.day, tzinfo=UTC)
        race = WagerRace.objects.create(
            title=f"Weekly Race {week_end - timedelta(days=7):%d %b} – {week_end - timedelta(days=1):%d %b}",
            type=WagerRace.Type.WEEKLY,
            start_date=end - timedelta(days=7), end_date=end, prize_pool=Decimal("1000"),
            prize_distribution={"1": 50, "2": 30, "3": 20},
        )  # fmt: skip
        race_start(race.pk, now=race.start_date)
        entrants = rng.sample(players, min(len(players), rng.randrange(8, 40))) if players else []
        ranked = sorted(((rng.randrange(500, 90_000), p) for p in entrants), key=lambda t: -t[0])
        RaceParticipant.objects.bulk_create([
            RaceParticipant(race=race, player=p, wagered=Decimal(w), measured=Decimal(w), baseline_all_time=0,
                            rank=rank, prize_eligible=True)
            for rank, (w, p) in enumerate(ranked, start=1)
        ])  # fmt: skip
        race_finalize(race.pk, now=end + timedelta(seconds=30))
        payouts = list(Payout.objects.filter(race=race).values_list("pk", flat=True))
        if payouts and week_end < today - timedelta(days=7):  # the latest week is still being paid
            # Approved by the system, paid by staff: four eyes (PAYOUT_FOUR_EYES) holds in the demo's history too.
            payout_service.payouts_approve(payouts, actor=None, source=AuditEntry.Source.SYSTEM)
            payout_service.payouts_mark_paid(payouts, actor=staff, reference=f"GT-{week_end:%y%m%d}-{race.pk:03d}")
            Payout.objects.filter(pk__in=payouts).update(paid_at=end + timedelta(days=rng.randrange(1, 4)))
        races += 1
    return races


def _tickets(past: list, rng: random.Random) -> int:
    staff = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    authors = list(get_user_model().objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").order_by("pk")[:200])
    tickets = 0
    for day in past:
        for _ in range(rng.randrange(0, 4)):
            if not authors:
                break
            opened = _at(day, rng)
            subject, question, answer = rng.choice(TICKETS)
            ticket = SupportTicket.objects.create(user=rng.choice(authors), subject=subject, description=question,
                                                  created_at=opened)  # fmt: skip
            if staff is not None and rng.random() < 0.9:
                replied = opened + timedelta(minutes=rng.randrange(10, 60 * 30))
                TicketMessage.objects.create(ticket=ticket, author=staff, body=answer, created_at=replied,
                                             is_staff_reply=True)  # fmt: skip
                if rng.random() < 0.8:
                    SupportTicket.objects.filter(pk=ticket.pk).update(
                        status=SupportTicket.Status.CLOSED, closed_at=replied + timedelta(hours=rng.randrange(1, 48))
                    )
            tickets += 1
    return tickets


def _syncs(now: datetime, rng: random.Random) -> int:
    syncs = 0
    for minutes in range(24 * 60, 0, -10):
        ok = rng.random() > 0.04
        TransformationLog.objects.create(
            type=TransformationLog.Type.INFO if ok else TransformationLog.Type.ERROR,
            message="Feed sync finished" if ok else "Feed sync failed", created_at=now - timedelta(minutes=minutes),
            duration_ms=rng.randrange(600, 4200), payload={"kind": "sync", "ok": ok, "generated": True},
            error_message="" if ok else "upstream answered 502",
        )  # fmt: skip
        syncs += 1
    return syncs
