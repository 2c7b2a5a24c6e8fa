import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from races.models import HistoricalRace, RaceResult, WagerRace
from tests.factories import PlayerFactory, WagerRaceFactory
from tests.races.test_models import ORIGINAL_BAD_TABLE

CHANGELIST = reverse("admin:races_wagerrace_changelist")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _action(client, action: str, *races):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [r.pk for r in races]}, follow=True
    )  # fmt: skip


@pytest.mark.django_db
def test_operator_starts_then_finalizes_a_race_from_admin(staff_client):
    race = WagerRaceFactory(start_date=timezone.now() + timedelta(days=1), end_date=timezone.now() + timedelta(days=8))
    response = _action(staff_client, "start_now", race)
    assert "Started: 1 race(s)." in response.content.decode()
    response = _action(staff_client, "finalize_now", race)
    assert "Finalized: 1 race(s)." in response.content.decode()
    race.refresh_from_db()
    assert race.status == WagerRace.Status.COMPLETED
    assert HistoricalRace.objects.filter(race=race, metadata__forced=True).count() == 1


@pytest.mark.django_db
def test_admin_actions_explain_what_they_refused(staff_client):
    race = WagerRaceFactory(status=WagerRace.Status.COMPLETED)
    content = _action(staff_client, "cancel", race).content.decode()
    assert "is completed and can no longer be cancelled" in content
    content = _action(staff_client, "recompute", race).content.decode()
    assert "Only a live race can be recomputed" in content
    content = _action(staff_client, "finalize_now", race).content.decode()
    assert "nothing to do in status completed" in content


@pytest.mark.django_db
def test_admin_refuses_a_prize_table_over_100_percent(staff_client):
    now = timezone.now()
    response = staff_client.post(
        reverse("admin:races_wagerrace_add"),
        {
            "title": "Bad table",
            "type": "monthly",
            "status": "upcoming",
            "recurrence": "none",
            "start_date_0": now.strftime("%Y-%m-%d"),
            "start_date_1": "00:00:00",
            "end_date_0": (now + timedelta(days=30)).strftime("%Y-%m-%d"),
            "end_date_1": "00:00:00",
            "prize_pool": "500",
            "min_wager": "0",
            "prize_distribution": json.dumps(ORIGINAL_BAD_TABLE),
            "participants-TOTAL_FORMS": "0",
            "participants-INITIAL_FORMS": "0",
            "results-TOTAL_FORMS": "0",
            "results-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "Prize percentages add up to 103.5 %" in response.content.decode()
    assert not WagerRace.objects.filter(title="Bad table").exists()


@pytest.mark.django_db
def test_change_page_shows_the_prize_table_and_freezes_finished_races(staff_client):
    race = WagerRaceFactory(
        prize_pool=Decimal("100"), prize_distribution={"1": 60, "2": 40}, status=WagerRace.Status.COMPLETED
    )
    content = staff_client.get(reverse("admin:races_wagerrace_change", args=[race.pk])).content.decode()
    assert "<td>#1</td><td>$60.00</td>" in content
    assert 'name="prize_pool"' not in content  # read-only once completed
    assert content.count("Prize distribution") == 0  # the saved table in money only, not its raw mapping too


@pytest.mark.django_db
def test_admin_race_actions_and_edits_are_audited_with_before_and_after(staff_client, staff_user):
    from core.models import AuditEntry

    race = WagerRaceFactory(start_date=timezone.now() + timedelta(days=1), end_date=timezone.now() + timedelta(days=8))
    _action(staff_client, "start_now", race)
    entry = AuditEntry.objects.get(action="race.start")
    assert (entry.actor, entry.source, entry.target_type, entry.target_id) == (
        staff_user,
        "admin",
        "races.wagerrace",
        str(race.pk),
    )
    assert (entry.before["status"], entry.after["status"]) == ("upcoming", "live")
    refused = WagerRaceFactory(status=WagerRace.Status.COMPLETED)
    _action(staff_client, "cancel", refused)
    assert not AuditEntry.objects.filter(action="race.cancel").exists()  # nothing happened, nothing recorded


@pytest.mark.django_db
def test_change_page_shows_the_top_of_live_standings_then_of_final_results(staff_client):
    from races.services.lifecycle import race_finalize, race_start
    from races.services.standings import races_refresh_after_sync
    from tests.factories import PlayerFactory

    now = timezone.now()
    race = WagerRaceFactory(start_date=now - timedelta(days=1), end_date=now + timedelta(days=1))
    race_start(race.pk, now=race.start_date)
    for i in range(25):
        PlayerFactory(name=f"Runner{i}", wager_all_time=Decimal(1000 - i))
    races_refresh_after_sync(now)
    url = reverse("admin:races_wagerrace_change", args=[race.pk])
    content = staff_client.get(url).content.decode()
    assert "<td>#1</td><td>Runner0</td>" in content
    assert "<td>#20</td>" in content
    assert "<td>#21</td>" not in content
    race_finalize(race.pk, force=True)
    content = staff_client.get(url).content.decode()
    assert "<td>#1</td><td>Runner0</td>" in content
    assert f"/admin/races/raceresult/?race__id__exact={race.pk}" in content


def _race_post(**changes) -> dict:
    now = timezone.now()
    data = {
        "title": "Editor race", "type": "weekend", "recurrence": "none", "entry": "open",
        "start_date_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"), "start_date_1": "00:00:00",
        "end_date_0": (now + timedelta(days=3)).strftime("%Y-%m-%d"), "end_date_1": "00:00:00",
        "prize_pool": "300", "min_wager": "0",
    }  # fmt: skip
    return {**data, **changes}


@pytest.mark.django_db
def test_the_prize_table_editor_has_a_row_per_rank_and_saves_the_mapping(staff_client):
    add = reverse("admin:races_wagerrace_add")
    page = staff_client.get(add).content.decode()
    assert 'name="prize_distribution__pct_1"' in page
    assert "js/admin-prize-table.js" in page
    assert "Add a rank" in page
    response = staff_client.post(add, _race_post(**{
        "prize_distribution__pct_1": "50", "prize_distribution__pct_2": "30.5", "prize_distribution__pct_3": "",
    }))  # fmt: skip
    assert response.status_code == 302
    race = WagerRace.objects.get(title="Editor race")
    assert race.prize_distribution == {"1": 50, "2": 30.5}
    edit = staff_client.get(reverse("admin:races_wagerrace_change", args=[race.pk])).content.decode()
    assert 'name="prize_distribution__pct_2" value="30.5"' in edit
    assert 'name="prize_distribution__pct_3"' not in edit  # no empty ranks: "Add a rank" appends one
    assert "Add a rank" in edit
    assert edit.count('class="prize-table"') == 1  # one prize table on the page: the editor
    assert 'class="prize-preview"' not in edit


@pytest.mark.django_db
def test_a_rank_that_wins_nothing_shows_a_dash_not_zero_dollars(staff_client):
    from races.admin.races import prize_text

    assert prize_text(Decimal("0")) == "–"
    assert prize_text(None) == "–"
    assert prize_text(Decimal("12.5")) == "$12.50"
    race = WagerRaceFactory(prize_pool=Decimal("100"), prize_distribution={"1": 100}, status=WagerRace.Status.COMPLETED)
    for rank, prize in ((1, Decimal("100")), (2, Decimal("0"))):
        player = PlayerFactory()
        RaceResult.objects.create(race=race, player=player, rank=rank, name=player.name, uid=player.uid,
                                  wagered=Decimal("10"), prize=prize)  # fmt: skip
    content = staff_client.get(reverse("admin:races_wagerrace_change", args=[race.pk])).content.decode()
    assert "<td>$10.00</td><td>–</td></tr>" in content  # the final standings' rank 2
    assert "$0.00" not in content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cells", "error"),
    [
        ({"1": "60", "3": "20"}, "Ranks must run 1, 2, 3"),
        ({"1": "70", "2": "40"}, "add up to 110 %"),
        ({"1": "abc"}, "Percentage for rank 1 must be a number."),
        ({"1": "-5"}, "must be above 0"),
    ],
)
def test_the_editor_keeps_todays_validation(staff_client, cells, error):
    data = _race_post(**{f"prize_distribution__pct_{rank}": pct for rank, pct in cells.items()})
    response = staff_client.post(reverse("admin:races_wagerrace_add"), data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not WagerRace.objects.filter(title="Editor race").exists()
