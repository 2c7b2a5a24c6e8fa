"""Wager adjustments (applied at once, kept by every later sync, refused after finalization) and race entry
rules (opt-in, a cap, a minimum VIP tier): through the services, admin, the site, the API and the bot."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from core.errors import Conflict
from core.models import AuditEntry
from races.models import Player, RaceEntry, RaceParticipant, WagerRace
from races.services.adjustments import AdjustmentRefused, race_adjust
from races.services.entries import JoinRefused, race_join
from races.services.lifecycle import race_tick
from tests.factories import UserFactory, staff_member
from tests.races.test_race_engine import DEC_1, apply_sync, monthly_race
from vip.models import VipTier

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vip_ladder", "clock_in_november_race")]
MID = datetime(2026, 11, 20, tzinfo=UTC)


def standings(race) -> list[tuple[str, Decimal, Decimal]]:
    rows = RaceParticipant.objects.filter(race=race, rank__isnull=False).select_related("player").order_by("rank")
    return [(p.player.uid, p.wagered, p.adjustment) for p in rows]


def prizes(race) -> dict[str, Decimal]:
    from races.selectors.races import race_standings

    return {s.uid: s.prize for s in race_standings(race, limit=10)[1]}


# --- adjustments ----------------------------------------------------------------------------------------------


def test_an_adjustment_moves_the_standing_and_prize_at_once_and_survives_the_next_sync():
    race = monthly_race(prize_distribution={"1": 60, "2": 40})
    operator = staff_member("Operators")
    apply_sync(MID, {"ace": ("1000", "0", "1000"), "bee": ("900", "0", "900")})
    assert prizes(race) == {"ace": Decimal("300.00"), "bee": Decimal("200.00")}
    race_adjust(race.pk, player_id=Player.objects.get(uid="ace").pk, amount="-250", actor=operator,
                reason="Bet voided by the casino (dispute #881)")  # fmt: skip
    assert standings(race) == [("bee", Decimal("900"), Decimal("0")), ("ace", Decimal("750"), Decimal("-250"))]
    assert prizes(race) == {"bee": Decimal("300.00"), "ace": Decimal("200.00")}
    # The next sync measures ace at 1,100: the debit still applies on top.
    apply_sync(MID + timedelta(hours=1), {"ace": ("1100", "0", "1100"), "bee": ("950", "0", "950")})
    assert standings(race) == [("bee", Decimal("950"), Decimal("0")), ("ace", Decimal("850"), Decimal("-250"))]
    entry = AuditEntry.objects.get(action="race.adjust")
    assert entry.actor == operator
    assert entry.after["reason"].startswith("Bet voided")
    assert entry.after["wagered"] == "750.00000000"


def test_a_debit_never_takes_a_standing_below_zero_and_a_credit_can_bring_in_a_new_player():
    race = monthly_race()
    apply_sync(MID, {"ace": ("100", "0", "100")})
    ace = Player.objects.get(uid="ace")
    race_adjust(race.pk, player_id=ace.pk, amount="-500", reason="Fraud reversal", actor=None)
    assert standings(race) == []  # 100 - 500 counts as nothing: unranked
    assert RaceParticipant.objects.get(race=race, player=ace).wagered == 0
    newcomer = Player.objects.create(uid="new", name="Newcomer")
    race_adjust(race.pk, player_id=newcomer.pk, amount="75.5", reason="Deposit bonus wager missed by the feed",
                actor=None)  # fmt: skip
    assert standings(race) == [("new", Decimal("75.5"), Decimal("75.5"))]


@pytest.mark.parametrize(
    ("amount", "reason", "error"),
    [("0", "x", "non-zero"), ("abc", "x", "must be a number"), ("1e20", "x", "non-zero"), ("NaN", "x", "non-zero"),
     ("0.000000001", "x", "At most 8 decimals"), ("10", "  ", "Say why"), ("10", "x" * 501, "under 500")],
)  # fmt: skip
def test_bad_adjustments_are_refused_and_change_nothing(amount, reason, error):
    race = monthly_race()
    apply_sync(MID, {"ace": ("100", "0", "100")})
    with pytest.raises(AdjustmentRefused, match=error):
        race_adjust(race.pk, player_id=Player.objects.get(uid="ace").pk, amount=amount, reason=reason, actor=None)
    assert standings(race) == [("ace", Decimal("100"), Decimal("0"))]
    assert not race.adjustments.exists()


def test_after_finalization_an_adjustment_is_refused(django_capture_on_commit_callbacks):
    race = monthly_race()
    apply_sync(MID, {"ace": ("100", "0", "100")})
    with django_capture_on_commit_callbacks(execute=True):
        race_tick(now=DEC_1 + timedelta(seconds=5))
    race.refresh_from_db()
    assert race.status == WagerRace.Status.COMPLETED
    with pytest.raises(Conflict, match="adjustments apply to live races only"):
        race_adjust(race.pk, player_id=Player.objects.get(uid="ace").pk, amount="50", reason="Late", actor=None)
    assert not race.adjustments.exists()


def test_admin_adds_adjustments_shows_them_as_adjusted_and_never_edits_them(client):
    race = monthly_race()
    apply_sync(MID, {"ace": ("100", "0", "100")})
    client.force_login(staff_member("Operators"))
    add = reverse("admin:races_wageradjustment_add")
    bad = client.post(add, {"race": race.pk, "player_uid": "nobody", "amount": "10", "reason": "x"})
    assert "No player has this uid." in bad.content.decode()
    response = client.post(add, {"race": race.pk, "player_uid": "ace", "amount": "40", "reason": "Missed bets"})
    assert response.status_code == 302
    assert standings(race) == [("ace", Decimal("140"), Decimal("40"))]
    participants = client.get(reverse("admin:races_raceparticipant_changelist")).content.decode()
    assert "adjusted +40.00" in participants
    adjustment = race.adjustments.get()
    assert client.post(reverse("admin:races_wageradjustment_change", args=[adjustment.pk]),
                       {"amount": "4000"}).status_code == 403  # fmt: skip
    # A race that is over is not offered, and a forged post is refused by the service.
    race.status = WagerRace.Status.COMPLETED
    race.save(update_fields=["status"])
    forged = client.post(add, {"race": race.pk, "player_uid": "ace", "amount": "40", "reason": "Late"})
    assert "Select a valid choice" in forged.content.decode()


# --- entry rules --------------------------------------------------------------------------------------------------


def test_in_an_opt_in_race_only_players_who_joined_are_ranked():
    race = monthly_race(entry=WagerRace.Entry.OPT_IN)
    apply_sync(MID, {"ace": ("1000", "0", "1000"), "bee": ("500", "0", "500")})
    assert standings(race) == []
    race_join(race.pk, player=Player.objects.get(uid="bee"))
    assert standings(race) == [("bee", Decimal("500"), Decimal("0"))]  # counted at once, from the month's counter
    apply_sync(MID + timedelta(hours=1), {"ace": ("2000", "0", "2000"), "bee": ("600", "0", "600")})
    assert standings(race) == [("bee", Decimal("600"), Decimal("0"))]


def test_the_cap_refuses_the_next_join_with_a_clear_error_even_at_once(transactional_db):
    race = monthly_race(entry=WagerRace.Entry.OPT_IN, max_participants=3)
    players = [Player.objects.create(uid=f"p{i}", name=f"P{i}") for i in range(6)]
    barrier, outcomes = threading.Barrier(6, timeout=10), []

    def join(player):
        try:
            barrier.wait()
            race_join(race.pk, player=player)
            outcomes.append("in")
        except JoinRefused as exc:
            outcomes.append(exc.code)
        except Exception as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(p,)) for p in players]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert outcomes.count("in") <= 3
    assert RaceEntry.objects.filter(race=race).count() == outcomes.count("in")
    # Fill any place a refused lock left free, then the next one hears why.
    for player in players:
        if RaceEntry.objects.filter(race=race).count() < 3:
            race_join(race.pk, player=player)
    late = Player.objects.create(uid="late", name="Late")
    with pytest.raises(JoinRefused, match=r"This race is full: all 3 places are taken\.") as refused:
        race_join(race.pk, player=late)
    assert refused.value.code == "race_full"
    assert RaceEntry.objects.filter(race=race).count() == 3


def test_a_minimum_tier_keeps_lower_players_out_of_the_standings_and_the_race():
    gold = VipTier.objects.get(slug="gold")  # 100,000 all-time
    race = monthly_race(min_tier=gold)
    apply_sync(MID, {"whale": ("5000", "0", "150000"), "minnow": ("9000", "0", "20000")})
    assert standings(race) == [("whale", Decimal("5000"), Decimal("0"))]
    opt_in = monthly_race(title="Gold sprint", entry=WagerRace.Entry.OPT_IN, min_tier=gold)
    with pytest.raises(JoinRefused, match="for Gold players and above"):
        race_join(opt_in.pk, player=Player.objects.get(uid="minnow"))


def test_joining_is_refused_where_it_makes_no_sense():
    open_race = monthly_race()
    player = Player.objects.create(uid="x", name="X")
    with pytest.raises(JoinRefused, match="Everyone counts"):
        race_join(open_race.pk, player=player)
    with pytest.raises(JoinRefused, match="Link your Goated account"):
        race_join(open_race.pk, player=None)
    done = monthly_race(title="Done", entry=WagerRace.Entry.OPT_IN)
    WagerRace.objects.filter(pk=done.pk).update(status=WagerRace.Status.COMPLETED)
    with pytest.raises(Conflict, match="cannot be joined"):
        race_join(done.pk, player=player)


def test_join_on_the_site_and_by_the_api(client):
    race = monthly_race(entry=WagerRace.Entry.OPT_IN, max_participants=1)
    page = client.get(reverse("races:detail", args=[race.pk])).content.decode()
    assert "Sign in to join" in page
    assert "0 of 1 places taken" in page
    user = UserFactory(player=Player.objects.create(uid="me", name="Me"))
    client.force_login(user)
    assert 'id="join-race"' in client.get(reverse("races:detail", args=[race.pk])).content.decode()
    client.post(reverse("races:join", args=[race.pk]))
    assert "You're in." in client.get(reverse("races:detail", args=[race.pk])).content.decode()
    assert client.post(f"/api/v1/races/{race.pk}/join/").status_code == 200  # already in: the same entry
    other = UserFactory(player=Player.objects.create(uid="other", name="Other"))
    client.force_login(other)
    response = client.post(f"/api/v1/races/{race.pk}/join/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "race_full"
    assert client.post("/api/v1/races/999999/join/").status_code == 404
    unlinked = UserFactory()
    client.force_login(unlinked)
    assert client.post(f"/api/v1/races/{race.pk}/join/").json()["error"]["code"] == "not_linked"
