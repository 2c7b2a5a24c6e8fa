"""Raffles: tickets measured like a race (growth, late syncs, resets), the draw exactly once, payouts, refusals."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from core.models import AuditEntry
from giveaways.draw import Entry, draw_winners, entries_digest, seed_hash
from giveaways.models import Raffle, RaffleEntry, RaffleWinner
from giveaways.services import (
    raffle_cancel,
    raffle_draw,
    raffle_open,
    raffle_tick,
    raffles_refresh_after_sync,
    tickets_for,
)
from payouts.models import Payout
from races.models import Player
from tests.factories import PlayerFactory, UserFactory
from tests.races.conftest import feed_rows, upstream  # noqa: F401  (the local affiliate server fixture)
from vip.models import VipTier

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
NOV_8 = datetime(2026, 11, 8, tzinfo=UTC)


def wager_raffle(**kwargs) -> Raffle:
    defaults = {
        "title": "November ticket raffle", "starts_at": NOV_1, "ends_at": NOV_8, "prize_pool": Decimal("300.00"),
        "winners_count": 3, "prize_distribution": {"1": 50, "2": 30, "3": 20}, "ticket_wager": Decimal("100"),
    }  # fmt: skip
    return Raffle.objects.create(**(defaults | kwargs))


def set_all_time(as_of: datetime, figures: dict[str, str]) -> list[int]:
    """What a sync does: new all-time counters, then the raffle hook, inside one transaction as in a real sync."""
    with transaction.atomic():
        return _set_all_time(as_of, figures)


def _set_all_time(as_of: datetime, figures: dict[str, str]) -> list[int]:
    for uid, all_time in figures.items():
        Player.objects.update_or_create(
            uid=uid, defaults={"name": f"N{uid}", "wager_all_time": Decimal(all_time), "last_seen": as_of},
            create_defaults={"name": f"N{uid}", "wager_all_time": Decimal(all_time), "first_seen": as_of,
                             "last_seen": as_of},
        )  # fmt: skip
    return raffles_refresh_after_sync(as_of=as_of)


def tickets(raffle: Raffle) -> dict[str, int]:
    rows = RaffleEntry.objects.filter(raffle=raffle, tickets__gt=0).values_list("player__uid", "tickets")
    return dict(sorted(rows))


@pytest.mark.django_db
def test_a_new_raffle_commits_to_a_seed_it_does_not_show():
    raffle = wager_raffle()
    assert len(raffle.server_seed) == 64
    assert raffle.server_seed_hash == seed_hash(raffle.server_seed)
    assert raffle.seed_revealed is None
    assert raffle.status == Raffle.Status.UPCOMING


@pytest.mark.parametrize(
    ("measured", "ticket_wager", "expected"),
    [("0", "100", 0), ("99.99999999", "100", 0), ("100", "100", 1), ("250.5", "100", 2), ("0.29", "0.01", 29),
     ("1000000", "0.07", 14285714), ("5", "0", 0)],
)  # fmt: skip
def test_tickets_are_whole_units_of_growth_rounded_down(measured, ticket_wager, expected):
    assert tickets_for(Decimal(measured), Decimal(ticket_wager)) == expected


@pytest.mark.django_db
def test_tickets_come_from_growth_inside_the_window():
    set_all_time(NOV_1 - timedelta(days=1), {"a": "1000", "b": "50", "c": "0"})
    raffle = wager_raffle()
    assert raffle_open(raffle.pk, now=NOV_1)
    set_all_time(NOV_1 + timedelta(days=1), {"a": "1250", "b": "449.99", "c": "100", "d": "300"})
    # a: 250 of growth (2 tickets); b: 399.99 (3); c: 100 (1); d: new to the feed, all of it counts (3).
    assert tickets(raffle) == {"a": 2, "b": 3, "c": 1, "d": 3}


@pytest.mark.django_db
def test_a_sync_that_arrives_after_the_end_is_ignored_and_the_draw_uses_the_last_one_before():
    set_all_time(NOV_1 - timedelta(days=1), {"a": "0", "b": "0"})
    raffle = wager_raffle()
    raffle_open(raffle.pk, now=NOV_1)
    set_all_time(NOV_8 - timedelta(minutes=1), {"a": "500", "b": "300"})
    assert set_all_time(NOV_8 + timedelta(seconds=1), {"a": "500", "b": "9000"}) == []  # arrived after the end
    assert tickets(raffle) == {"a": 5, "b": 3}
    set_all_time(NOV_8, {"a": "700", "b": "300"})  # arrived exactly at the end: it counts, as for races
    assert tickets(raffle) == {"a": 7, "b": 3}


@pytest.mark.django_db
def test_an_upstream_reset_never_lowers_tickets():
    set_all_time(NOV_1 - timedelta(days=1), {"a": "1000"})
    raffle = wager_raffle()
    raffle_open(raffle.pk, now=NOV_1)
    set_all_time(NOV_1 + timedelta(days=1), {"a": "1500"})
    set_all_time(NOV_1 + timedelta(days=2), {"a": "0"})  # upstream sent a reset (or a partial figure)
    assert tickets(raffle) == {"a": 5}
    set_all_time(NOV_1 + timedelta(days=3), {"a": "1800"})
    assert tickets(raffle) == {"a": 8}


@pytest.mark.django_db
def test_only_open_wager_raffles_count_and_players_below_the_tier_are_not_entries():
    gold = VipTier.objects.create(name="Goldish", slug="goldish", min_wager=Decimal("5000"))
    set_all_time(NOV_1 - timedelta(days=1), {"rich": "6000", "new": "0"})
    tiered = wager_raffle(min_tier=gold)
    upcoming = wager_raffle(title="Later", starts_at=NOV_8, ends_at=NOV_8 + timedelta(days=7))
    raffle_open(tiered.pk, now=NOV_1)
    set_all_time(NOV_1 + timedelta(days=1), {"rich": "6400", "new": "400"})
    assert tickets(tiered) == {"new": 4, "rich": 4}
    assert tickets(upcoming) == {}
    raffle_draw(tiered.pk, now=NOV_8 + timedelta(seconds=1))
    tiered.refresh_from_db()
    assert tiered.entries_count == 1  # "new" has tickets but not the tier: not an entry
    assert list(RaffleWinner.objects.filter(raffle=tiered).values_list("uid", flat=True)) == ["rich"]


def _drawable(winners_count: int = 3) -> Raffle:
    set_all_time(NOV_1 - timedelta(days=1), {f"p{i}": "0" for i in range(6)})
    raffle = wager_raffle(winners_count=winners_count)
    raffle_open(raffle.pk, now=NOV_1)
    set_all_time(NOV_1 + timedelta(days=1), {f"p{i}": str(100 * (i + 1)) for i in range(6)})
    return raffle


@pytest.mark.django_db
def test_the_draw_follows_the_published_algorithm_reveals_the_seed_and_queues_payouts(
    django_capture_on_commit_callbacks,
):
    raffle = _drawable()
    users = {f"p{i}": UserFactory(player=Player.objects.get(uid=f"p{i}")) for i in range(6)}
    assert raffle_draw(raffle.pk, now=NOV_8).winners == 0  # not ended yet: nothing happens
    with django_capture_on_commit_callbacks(execute=True):
        result = raffle_draw(raffle.pk, now=NOV_8 + timedelta(seconds=1))
    raffle.refresh_from_db()
    entries = [Entry(f"p{i}", i + 1) for i in range(6)]
    expected = draw_winners(raffle.server_seed, entries, 3)
    assert raffle.status == Raffle.Status.DRAWN
    assert raffle.entries_digest == entries_digest(entries)
    assert (raffle.entries_count, raffle.tickets_total) == (6, 21)
    winners = list(RaffleWinner.objects.filter(raffle=raffle).order_by("position"))
    assert [(w.uid, w.tickets) for w in winners] == [(e.uid, e.tickets) for e in expected]
    assert [w.prize for w in winners] == [Decimal("150.00"), Decimal("90.00"), Decimal("60.00")]
    payouts = Payout.objects.filter(raffle=raffle).order_by("raffle_winner__position")
    assert [(p.source, p.amount, p.status, p.destination) for p in payouts] == [
        ("raffle", w.prize, "pending", w.name) for w in winners
    ]
    assert result.payouts == 3
    assert RaffleEntry.objects.filter(raffle=raffle, in_draw=True).count() == 6
    assert AuditEntry.objects.filter(action="raffle.draw", target_id=str(raffle.pk)).count() == 1
    told = {uid for uid, user in users.items() if user.notifications.filter(title__contains=raffle.title).exists()}
    assert told == {w.uid for w in winners}  # each winner once, nobody else
    again = raffle_draw(raffle.pk, now=NOV_8 + timedelta(days=1))
    assert again.already
    assert RaffleWinner.objects.filter(raffle=raffle).count() == 3


@pytest.mark.django_db
def test_no_entries_means_drawn_with_no_winners_and_no_payouts():
    raffle = wager_raffle()
    raffle_open(raffle.pk, now=NOV_1)
    raffle_draw(raffle.pk, now=NOV_8 + timedelta(seconds=1))
    raffle.refresh_from_db()
    assert raffle.status == Raffle.Status.DRAWN
    assert raffle.entries_digest == entries_digest([])
    assert not RaffleWinner.objects.filter(raffle=raffle).exists()
    assert not Payout.objects.filter(raffle=raffle).exists()


@pytest.mark.django_db
def test_positions_without_a_prize_pay_nothing_and_fewer_entries_mean_fewer_winners():
    set_all_time(NOV_1 - timedelta(days=1), {"a": "0", "b": "0"})
    raffle = wager_raffle(winners_count=5, prize_distribution={"1": 60, "2": 40})
    raffle_open(raffle.pk, now=NOV_1)
    set_all_time(NOV_1 + timedelta(days=1), {"a": "100", "b": "200"})
    raffle_draw(raffle.pk, now=NOV_8 + timedelta(seconds=1))
    assert RaffleWinner.objects.filter(raffle=raffle).count() == 2
    assert Payout.objects.filter(raffle=raffle).count() == 2


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_draws_write_one_set_of_winners():
    raffle = _drawable()
    barrier = threading.Barrier(8)
    outcomes, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            outcomes.append(raffle_draw(raffle.pk, now=NOV_8 + timedelta(seconds=1)))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(1 for o in outcomes if not o.already) == 1
    assert RaffleWinner.objects.filter(raffle=raffle).count() == 3
    assert Payout.objects.filter(raffle=raffle).count() == 3
    assert AuditEntry.objects.filter(action="raffle.draw").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_draw_that_fails_midway_leaves_the_raffle_open_and_nothing_written(settings):
    raffle = _drawable()
    # The payout provider named in settings does not exist: the draw fails after writing its winners, inside its
    # transaction (as a worker killed at that point would): nothing of it may remain.
    settings.PAYOUT_PROVIDER = "no.such.provider"
    with pytest.raises(Exception):  # noqa: B017, PT011 (whatever the failure, the assertion is what is left)
        raffle_draw(raffle.pk, now=NOV_8 + timedelta(seconds=1))
    raffle.refresh_from_db()
    assert raffle.status == Raffle.Status.OPEN
    assert raffle.entries_digest == ""
    assert not RaffleWinner.objects.filter(raffle=raffle).exists()
    assert not RaffleEntry.objects.filter(raffle=raffle, in_draw=True).exists()
    assert not Payout.objects.filter(raffle=raffle).exists()
    settings.PAYOUT_PROVIDER = "payouts.providers.ManualProvider"
    assert raffle_draw(raffle.pk, now=NOV_8 + timedelta(seconds=2)).winners == 3


@pytest.mark.django_db
def test_the_tick_opens_due_raffles_and_draws_ended_ones_and_says_so(capsys):
    set_all_time(NOV_1 - timedelta(days=1), {"a": "0"})
    due = wager_raffle()
    later = wager_raffle(title="Later", starts_at=timezone.now() + timedelta(days=1),
                         ends_at=timezone.now() + timedelta(days=2))  # fmt: skip
    report = raffle_tick(now=NOV_1 + timedelta(hours=1))
    assert report.opened == [due.pk]
    assert report.drawn == []
    call_command("raffle_tick")  # now (December 2026 or later): the November raffle has ended
    assert f"Raffles drawn: #{due.pk}" in capsys.readouterr().out
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == (Raffle.Status.DRAWN, Raffle.Status.UPCOMING)


@pytest.mark.django_db
def test_a_raffle_can_be_cancelled_before_its_draw_only():
    operator = UserFactory(is_staff=True)
    raffle = _drawable()
    other = wager_raffle(title="Other")
    assert raffle_cancel(other.pk, actor=operator)
    raffle_draw(raffle.pk, now=NOV_8 + timedelta(seconds=1))
    assert not raffle_cancel(raffle.pk, actor=operator)
    raffle.refresh_from_db()
    assert raffle.status == Raffle.Status.DRAWN
    assert raffle_draw(other.pk, now=NOV_8 + timedelta(days=1)).winners == 0


@pytest.mark.django_db
def test_the_real_sync_counts_tickets_in_its_own_transaction(upstream):  # noqa: F811
    PlayerFactory(uid="alpha", wager_all_time=Decimal("1000"))
    raffle = wager_raffle(starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now() + timedelta(days=1))
    raffle_open(raffle.pk)
    upstream(feed_rows(alpha=("0", "0", "1350"), beta=("0", "0", "120")))
    call_command("sync_wagers", verbosity=0)
    assert tickets(raffle) == {"alpha": 3, "beta": 1}


@pytest.mark.django_db
def test_a_raffle_prize_goes_through_the_payout_queue_like_a_race_prize(
    client, django_capture_on_commit_callbacks, api_client
):
    from notifications.models import Notification
    from payouts import services as payouts
    from tests.factories import staff_member

    raffle = _drawable(winners_count=1)
    raffle_draw(raffle.pk, now=NOV_8 + timedelta(seconds=1))
    winner = RaffleWinner.objects.get(raffle=raffle)
    user = UserFactory(player=winner.player)
    approver, cashier = staff_member("Operators"), staff_member("Operators")
    payout = Payout.objects.get(raffle=raffle)
    assert payouts.payouts_approve([payout.pk], actor=approver).changed == [payout.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert payouts.payouts_mark_paid([payout.pk], actor=cashier, reference="TIP-R1").changed == [payout.pk]
    note = Notification.objects.get(user=user, title__startswith="Your prize for")
    assert note.title == f"Your prize for {raffle.title} was paid"
    assert note.url == f"/raffles/{raffle.pk}/"
    csv = payouts.payouts_csv(Payout.objects.filter(pk=payout.pk))
    assert csv.splitlines()[1].startswith(f"{payout.pk},raffle,{raffle.title},1,")
    api_client.force_authenticate(user)
    mine = api_client.get("/api/v1/me/payouts/").json()["results"][0]
    assert (mine["source"], mine["race"], mine["raffle"]["id"], mine["rank"]) == ("raffle", None, raffle.pk, 1)
    client.force_login(approver)
    listing = client.get("/admin/payouts/payout/", {"status": "all"})  # paid: not in the default (pending) view
    assert listing.status_code == 200
    assert f"{raffle.title} (raffle)" in listing.content.decode()
