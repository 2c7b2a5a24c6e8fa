"""No CSV the project hands out carries a formula: every export (race standings live and final, the payouts
queue, every analytics chart) is run with hostile text everywhere a person or the feed writes it, and no text
cell may start with = + - @ TAB or CR, while numbers still read back as numbers."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from core.csv_export import FORMULA_START, csv_text
from goatedvips.analytics import CHARTS
from payouts import services as payout_service
from payouts.models import Payout
from races.models import WagerRace
from races.services.lifecycle import race_finalize
from races.services.standings import races_refresh_after_sync
from tests.factories import PlayerFactory, SupportTicketFactory, WagerRaceFactory, staff_member

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"]
RACES = reverse("admin:races_wagerrace_changelist")
PAYOUTS = reverse("admin:payouts_payout_changelist")


def _read(content: bytes) -> tuple[list[str], list[list[str]]]:
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    return header, rows


def _assert_inert(name: str, header: list[str], rows: list[list[str]], numeric: set[str]) -> None:
    """Numeric columns parse as numbers; every other cell is text that no spreadsheet runs."""
    assert rows, f"{name}: the export is empty, so it proves nothing"
    for row in [header, *rows]:
        for column, cell in zip(header, row, strict=True):
            if column in numeric and row is not header:
                Decimal(cell)  # raises if a number was written as neutralised text
            else:
                assert not cell.startswith(FORMULA_START), f"{name}: {column}={cell!r} would run as a formula"


def _hostile_race() -> WagerRace:
    now = timezone.now()
    race = WagerRaceFactory(
        title=HOSTILE[0], status=WagerRace.Status.LIVE, start_date=now - timedelta(days=2),
        end_date=now + timedelta(days=1), prize_pool=Decimal("600"),
        prize_distribution={str(i): 10 for i in range(1, len(HOSTILE) + 1)},
    )  # fmt: skip
    for i, name in enumerate(HOSTILE):
        PlayerFactory(uid=f"{HOSTILE[-1 - i][:1]}uid{i}", name=name, wager_month=Decimal(900 - i * 100))
    races_refresh_after_sync(now)
    return race


def _standings(client, race) -> tuple[list[str], list[list[str]]]:
    response = client.post(RACES, {"action": "export_csv", "_selected_action": [race.pk]})
    assert response["Content-Type"].startswith("text/csv")
    return _read(b"".join(response.streaming_content))


def test_no_export_of_the_project_carries_a_formula_and_numbers_stay_numbers(client):
    operator, cashier = staff_member("Operators"), staff_member("Operators")
    client.force_login(operator)
    race = _hostile_race()
    SupportTicketFactory(subject=HOSTILE[0])
    numeric = {"race_id", "rank", "wagered", "prize"}
    header, live = _standings(client, race)
    _assert_inert("standings (live)", header, live, numeric)
    assert sorted(r[header.index("name")] for r in live) == sorted(f"'{h}" for h in HOSTILE)

    WagerRace.objects.filter(pk=race.pk).update(end_date=timezone.now() - timedelta(seconds=1))
    race_finalize(race.pk)
    header, final = _standings(client, race)
    _assert_inert("standings (final)", header, final, numeric)
    assert {r[header.index("prize")] for r in final} == {"60.00"}

    ids = list(Payout.objects.filter(race=race).order_by("pk").values_list("pk", flat=True))
    assert len(ids) == len(HOSTILE)
    payout_service.payouts_approve(ids, actor=operator)
    payout_service.payouts_mark_paid(ids[:3], actor=cashier, reference=HOSTILE[0])
    payout_service.payouts_mark_paid(ids[3:], actor=cashier, reference=HOSTILE[3])
    export = client.post(PAYOUTS, {"action": "export_csv", "_selected_action": ids})
    assert export["Content-Type"].startswith("text/csv")
    header, payouts = _read(export.content)
    _assert_inert("payouts", header, payouts, {"payout_id", "rank", "amount"})
    assert {r[header.index("reference")] for r in payouts} == {f"'{HOSTILE[0]}", f"'{HOSTILE[3]}"}
    assert {r[header.index("amount")] for r in payouts} == {"60.00"}

    for key in CHARTS:
        response = client.get(reverse("analytics-csv", args=[key]), {"days": 30})
        header, rows = _read(response.content)
        _assert_inert(f"analytics {key}", header, rows, set(header[1:]))
    header, rows = _read(client.get(reverse("analytics-csv", args=["race-prizes"]), {"days": 30}).content)
    assert rows[-1][0] == f"'{HOSTILE[0]}"


def test_text_is_neutralised_by_its_type_and_numbers_negative_ones_included_are_written_as_they_are():
    rows = [["-5", "=1", " =1", "a-b", -12, Decimal("-12.50"), Decimal("1E+3"), -0.5, True, None, 3]]
    (written,) = list(csv.reader(io.StringIO(csv_text(rows))))
    assert written == ["'-5", "'=1", " =1", "a-b", "-12", "-12.50", "1000", "-0.5", "True", "", "3"]


def test_every_csv_of_the_application_is_written_through_the_one_helper():
    root = Path(__file__).resolve().parents[2]
    skipped = {".venv", "tests", "bench", "node_modules", "var"}
    writer = re.compile(r"csv\.(writer|DictWriter)\(")
    modules = [p for p in root.rglob("*.py") if not skipped & set(p.relative_to(root).parts)]
    writers = [str(p.relative_to(root)) for p in modules if writer.search(p.read_text())]
    assert writers == ["core/csv_export.py"]
