"""The feed sync against a real local HTTP server speaking the affiliate's format (docs/design.md §4)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import execute_from_command_line
from django.db import IntegrityError, connection, transaction
from werkzeug import Response

from races.feed.lock import sync_running
from races.models import Player, PlayerRank, RaceParticipant, TransformationLog, WagerRace
from races.services.sync import sync_wagers

FEED_PATH = "/user/affiliate/referral-leaderboard/TESTCODE"


def row(uid: str, name: str, today="0", week="0", month="0", all_time="0") -> dict:
    return {"uid": uid, "name": name, "wagered": {"today": today, "this_week": week, "this_month": month,
                                                   "all_time": all_time}}  # fmt: skip


def raw_row(uid: str, name: str, today: str, week: str, month: str, all_time: str) -> str:
    """A row as JSON text with bare numbers, exactly as upstream writes them (no float round trip here)."""
    return (
        f'{{"uid": "{uid}", "name": "{name}", "wagered": {{"today": {today}, "this_week": {week}, '
        f'"this_month": {month}, "all_time": {all_time}}}}}'
    )


@pytest.fixture
def feed(httpserver, settings):
    """Point the sync at the local server; returns a function that sets what the server answers."""
    settings.AFFILIATE_API_URL = httpserver.url_for(FEED_PATH)
    settings.AFFILIATE_API_TOKEN = "test-token"
    settings.FEED_MAX_RETRIES = 0
    settings.FEED_BACKOFF_SECONDS = 0.01

    def serve(body, status: int = 200, content_type: str = "application/json") -> None:
        httpserver.clear()
        if not isinstance(body, str | bytes):
            body = json.dumps(body)
        httpserver.expect_request(FEED_PATH, headers={"Authorization": "Bearer test-token"}).respond_with_data(
            body, status=status, content_type=content_type
        )

    return serve


def players() -> dict[str, tuple]:
    return {
        p.uid: (p.name, p.wager_today, p.wager_week, p.wager_month, p.wager_all_time, p.rank_today, p.rank_monthly)
        for p in Player.objects.all()
    }


THREE = {
    "success": True,
    "data": [
        row("aB3dE5fG7hI9jK1lM2nO", "LuckyGoat88", "1523.4471", "18422.10932", "96310.552731", "1250380.99121"),
        row("zZ9yY8xX7wW6vV5uU4tT", "WhaleOne", "10", "20", "96310.552731", "2000000"),
        row("qQ1wW2eE3rR4tT5yY6uU", "Quiet", "0", "0", "0", "15"),
    ],
}


def test_first_sync_creates_every_player_with_exact_decimals_and_ranks(db, feed):
    feed(THREE)
    result = sync_wagers()
    assert result.ok, result.error
    assert (result.received, result.created, result.updated, result.unchanged, result.rejected) == (3, 3, 0, 0, 0)
    lucky = Player.objects.get(uid="aB3dE5fG7hI9jK1lM2nO")
    assert lucky.wager_month == Decimal("96310.552731")
    assert lucky.wager_all_time == Decimal("1250380.99121")
    assert lucky.rank_today == 1
    assert lucky.rank_weekly == 1
    log = TransformationLog.objects.get(pk=result.log_id)
    assert log.type == TransformationLog.Type.INFO
    assert log.payload["created"] == 3
    assert log.payload["ok"] is True


def _index_definitions() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'races_player'")
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'races_player'")
        return {r[0] for r in cursor.fetchall()}


def _rank_foreign_keys() -> set[tuple]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid), convalidated, condeferrable, condeferred "
                "FROM pg_constraint WHERE conrelid = 'races_playerrank'::regclass AND contype = 'f'"
            )
        else:
            cursor.execute("PRAGMA foreign_key_list('races_playerrank')")
        return set(cursor.fetchall())


def _rank_without_player_is_refused() -> bool:
    try:
        with transaction.atomic():
            PlayerRank.objects.create(player_id=987_654_321, rank_all_time=1)
            connection.check_constraints()  # the key is deferred: check now, not at a commit the test never makes
    except IntegrityError:
        return True
    return False


def test_a_big_first_sync_builds_the_indexes_at_the_end_and_keeps_every_one(db, feed):
    """A first load of BULK_LOAD_MIN_ROWS players or more sets the secondary indexes and the rank table's foreign
    key aside and puts them back (on PostgreSQL): afterwards both tables have exactly the indexes and keys they
    had, and they answer correctly."""
    from races.feed.load_postgres import BULK_LOAD_MIN_ROWS

    before = _index_definitions()
    keys_before = _rank_foreign_keys()
    assert len(before) >= 5  # the four leaderboard indexes and uid's at least
    assert len(keys_before) == 1  # PlayerRank.player
    count = BULK_LOAD_MIN_ROWS + 7
    uids = [f"bulk{i:016d}" for i in range(count)]
    feed(
        {"success": True, "data": [row(u, f"Bulk{i}", "1", str(i), str(i * 2), str(i * 3)) for i, u in enumerate(uids)]}
    )
    result = sync_wagers()
    assert result.ok, result.error
    assert result.created == count
    assert _index_definitions() == before
    top = Player.objects.order_by("-wager_month", "first_seen", "uid").first()
    assert (top.uid, top.rank_monthly, top.rank_all_time) == (uids[-1], 1, 1)
    assert Player.objects.filter(name__iexact="bulk42").get().uid == uids[42]
    assert Player.objects.get(uid=uids[0]).rank_monthly is None  # nothing wagered this month: unranked
    assert PlayerRank.objects.count() == count  # everyone wagered today: a rank row each
    assert _rank_foreign_keys() == keys_before
    assert _rank_without_player_is_refused()
    # A second sync of the same feed finds the table full: nothing is set aside, nothing written.
    again = sync_wagers()
    assert (again.created, again.updated, again.unchanged) == (0, 0, count)
    assert _index_definitions() == before


@pytest.mark.parametrize("count", [3, 5_007], ids=["small", "bulk"])
def test_names_with_the_characters_copy_escapes_are_stored_exactly_on_first_load_and_on_merge(db, feed, count):
    """The sync writes COPY's text format itself: a backslash, a literal `\\N` (COPY's NULL) and non-ASCII names
    arrive exactly, through the first load (straight into the table) and the merge (through the temporary
    table)."""
    names = ["back\\slash", "\\N", "Zoë 🐐 \\t"]
    data = [row(f"esc{i:06d}", names[i] if i < 3 else f"P{i}", all_time=str(i + 1)) for i in range(count)]
    feed({"data": data})
    assert sync_wagers().created == count
    stored = dict(Player.objects.filter(uid__in=["esc000000", "esc000001", "esc000002"]).values_list("uid", "name"))
    assert stored == {"esc000000": "back\\slash", "esc000001": "\\N", "esc000002": "Zoë 🐐 \\t"}
    data[0], data[1] = row("esc000000", "\\new\\", all_time="9"), row("esc000001", "tab\\tnot", all_time="9")
    feed({"data": data})
    assert sync_wagers().updated == 2
    assert Player.objects.get(uid="esc000000").name == "\\new\\"
    assert Player.objects.get(uid="esc000001").name == "tab\\tnot"


def test_tied_wagers_rank_by_first_seen_then_uid_and_zero_wagers_are_unranked(db, feed):
    feed(THREE)
    sync_wagers()
    # Same monthly wager and same first sync: the uid decides ("aB3..." < "zZ9...").
    assert Player.objects.get(uid="aB3dE5fG7hI9jK1lM2nO").rank_monthly == 1
    assert Player.objects.get(uid="zZ9yY8xX7wW6vV5uU4tT").rank_monthly == 2
    quiet = Player.objects.get(uid="qQ1wW2eE3rR4tT5yY6uU")
    assert quiet.rank_monthly is None
    assert quiet.rank_all_time == 3
    # A newcomer with the same wager ranks after both: it was seen later.
    feed({"data": [*THREE["data"], row("nEwC0mer000000000000", "Late", month="96310.552731", all_time="1")]})
    sync_wagers()
    assert Player.objects.get(uid="nEwC0mer000000000000").rank_monthly == 3


def test_amounts_are_parsed_as_decimal_from_the_text_so_point_one_plus_point_two_is_exact(db, feed):
    feed("[" + raw_row("dec1", "Decimal", "0.1", "0.2", "0.30000000", "12345678.12345678") + "]")
    assert sync_wagers().ok
    p = Player.objects.get(uid="dec1")
    assert p.wager_today + p.wager_week == Decimal("0.3") == p.wager_month
    if connection.vendor == "postgresql":  # SQLite stores decimals as doubles (15 digits); PostgreSQL is exact
        assert p.wager_all_time == Decimal("12345678.12345678")


@pytest.mark.parametrize("wrap", [lambda rows: {"results": rows}, lambda rows: rows], ids=["results", "bare-list"])
def test_results_key_and_bare_list_payloads_are_accepted(db, feed, wrap):
    feed(wrap(THREE["data"]))
    result = sync_wagers()
    assert result.ok
    assert result.created == 3


def test_the_same_sync_twice_writes_nothing_the_second_time(db, feed):
    feed(THREE)
    sync_wagers()
    before = list(Player.objects.order_by("uid").values_list("uid", "updated_at", "last_seen", "ranks__rank_all_time"))
    second = sync_wagers()
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert (
        list(Player.objects.order_by("uid").values_list("uid", "updated_at", "last_seen", "ranks__rank_all_time"))
        == before
    )
    # Not a player row and not a rank row written (unranked players have no rank row at all).
    assert TransformationLog.objects.get(pk=second.log_id).payload["rows_written"] == 0
    assert PlayerRank.objects.count() == 3
    quiet = PlayerRank.objects.get(player__uid="qQ1wW2eE3rR4tT5yY6uU")
    assert (quiet.rank_today, quiet.rank_monthly, quiet.rank_all_time) == (None, None, 3)


def test_a_changed_wager_is_counted_as_an_update_and_moves_ranks(db, feed):
    feed(THREE)
    sync_wagers()
    changed = [dict(r) for r in THREE["data"]]
    changed[2] = row("qQ1wW2eE3rR4tT5yY6uU", "Quiet", "5000", "5000", "5000", "5015")
    feed({"data": changed})
    result = sync_wagers()
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert Player.objects.get(uid="qQ1wW2eE3rR4tT5yY6uU").rank_today == 1


def test_bad_rows_are_skipped_and_counted_and_names_are_cleaned(db, feed):
    long_name = "X" * 200
    body = (
        "{"
        '"success": true, "data": ['
        + ",".join(
            [
                raw_row("good1", "Good\\u0000 One\\u200b", "1", "1", "1", "1"),
                raw_row("good2", long_name, "2", "2", "2", "2"),
                raw_row("neg", "Neg", "-1", "1", "1", "1"),
                raw_row("nan", "Nan", "NaN", "1", "1", "1"),
                raw_row("inf", "Inf", "1", "Infinity", "1", "1"),
                raw_row("text", "Text", '"lots"', "1", "1", "1"),
                raw_row("bool", "Bool", "true", "1", "1", "1"),
                raw_row("huge", "Huge", "1e30", "1", "1", "1"),
                '{"uid": "noname", "wagered": {"today": 1, "this_week": 1, "this_month": 1, "all_time": 1}}',
                '{"uid": "nowager", "name": "x"}',
                '{"uid": "partial", "name": "x", "wagered": {"today": 1}}',
                '{"uid": "bad uid!", "name": "x", "wagered": {"today": 1, "this_week": 1, "this_month": 1, '
                '"all_time": 1}}',
                '"not an object"',
                raw_row("good1", "Good One Again", "0", "0", "0", "0"),
            ]
        )
        + "]}"
    )
    feed(body)
    result = sync_wagers()
    assert result.ok
    assert (result.received, result.rejected, result.duplicates, result.created) == (14, 11, 1, 2)
    # The duplicate with the larger all-time wager wins, whatever the order.
    assert Player.objects.get(uid="good1").name == "Good One"
    assert Player.objects.get(uid="good2").name == "X" * 64
    log = TransformationLog.objects.get(pk=result.log_id)
    assert log.type == TransformationLog.Type.WARNING
    assert log.payload["rejected"] == 11
    assert "neg" in log.payload["reject_reasons"][0]


def _api_bytes(client) -> dict[str, bytes]:
    return {
        p: client.get("/api/v1/leaderboard/", {"period": p, "limit": 100}).content
        for p in ("today", "weekly", "monthly", "all_time")
    }


FAULTS = {
    "http-500": ({"status": 500, "body": "Internal Server Error"}, "HTTP 500"),
    "html-body": ({"body": "<!doctype html><html><body>Login</body></html>", "content_type": "text/html"}, "HTML"),
    "invalid-json": ({"body": '{"success": true, "data": [{"uid": '}, "invalid JSON"),
    "success-false": ({"body": {"success": False, "message": "token expired"}}, "success: false: token expired"),
    "every-row-invalid": ({"body": {"data": [row("a1", "A", "-5"), {"uid": "b2"}]}}, "every one of the 2 rows"),
    "wrong-shape": ({"body": {"success": True, "players": []}}, "neither 'data' nor 'results'"),
    "empty-feed": ({"body": {"success": True, "data": []}}, "no players"),
    "http-401": ({"status": 401, "body": "Unauthorized"}, "HTTP 401"),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_a_failed_sync_changes_nothing_and_logs_why(db, feed, client, fault):
    feed(THREE)
    sync_wagers()
    db_before, api_before = players(), _api_bytes(client)
    spec, reason = FAULTS[fault]
    feed(spec["body"], status=spec.get("status", 200), content_type=spec.get("content_type", "application/json"))
    result = sync_wagers()
    assert not result.ok
    assert reason in result.error
    assert players() == db_before
    assert _api_bytes(client) == api_before
    log = TransformationLog.objects.order_by("-created_at").first()
    assert log.type == TransformationLog.Type.ERROR
    assert reason in log.error_message


def test_a_payload_over_the_size_cap_is_refused_unread(db, feed, settings, client):
    feed(THREE)
    sync_wagers()
    db_before, api_before = players(), _api_bytes(client)
    settings.FEED_MAX_BYTES = 200
    feed({"data": THREE["data"] * 10})
    result = sync_wagers()
    assert not result.ok
    assert "200-byte cap" in result.error
    assert players() == db_before
    assert _api_bytes(client) == api_before


def test_connection_refused_fails_cleanly(db, settings, client):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.AFFILIATE_API_URL = f"http://127.0.0.1:{port}/feed"
    settings.FEED_MAX_RETRIES = 1
    settings.FEED_BACKOFF_SECONDS = 0.01
    api_before = _api_bytes(client)
    result = sync_wagers()
    assert not result.ok
    assert "could not connect" in result.error
    assert "after 2 attempts" in result.error
    assert Player.objects.count() == 0
    assert _api_bytes(client) == api_before


def held_feed(httpserver) -> threading.Event:
    """Serve THREE only once the returned event is set (at most 5 s): an upstream that takes its time."""
    release = threading.Event()

    def slow(_request):
        release.wait(5)
        return Response(json.dumps(THREE), content_type="application/json")

    httpserver.clear()
    httpserver.expect_request(FEED_PATH).respond_with_handler(slow)
    return release


def wait_for_request(httpserver, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_slow_upstream_times_out_cleanly(db, feed, httpserver, settings, client):
    feed(THREE)
    sync_wagers()
    db_before, api_before = players(), _api_bytes(client)
    settings.FEED_READ_TIMEOUT = 0.2

    done = held_feed(httpserver)
    result = sync_wagers()
    done.set()
    assert not result.ok
    assert "timed out" in result.error
    assert players() == db_before
    assert _api_bytes(client) == api_before
    wait_for_request(httpserver)  # let the handler finish before the next test


def test_a_transient_500_is_retried_with_backoff(db, feed, httpserver, settings):
    settings.FEED_MAX_RETRIES = 2
    httpserver.clear()
    httpserver.expect_ordered_request(FEED_PATH).respond_with_data("busy", status=503)
    httpserver.expect_ordered_request(FEED_PATH).respond_with_json(THREE)
    result = sync_wagers()
    assert result.ok
    assert result.created == 3
    assert len(httpserver.log) == 2


@pytest.mark.django_db(transaction=True)
def test_only_one_sync_runs_at_a_time(feed, httpserver):
    release = held_feed(httpserver)
    results = []

    def first_sync():
        try:
            results.append(sync_wagers())
        finally:
            connection.close()  # this thread's own connection: left open it blocks dropping the test database

    first = threading.Thread(target=first_sync)
    first.start()
    deadline = time.monotonic() + 5
    while not sync_running() and time.monotonic() < deadline:  # the first sync holds the lock
        time.sleep(0.01)
    second = sync_wagers()
    release.set()
    first.join(10)
    assert second.skipped
    assert second.ok
    assert "already running" in second.summary()
    assert results[0].ok
    assert results[0].created == 3
    assert TransformationLog.objects.count() == 1


def test_sync_wagers_command_prints_counts_and_exits_zero(db, feed, capsys):
    feed(THREE)
    execute_from_command_line(["manage.py", "sync_wagers"])
    out = capsys.readouterr().out
    assert "3 created, 0 updated, 0 unchanged, 0 rejected" in out


def test_sync_wagers_command_exits_non_zero_with_a_one_line_reason(transactional_db, feed, capsys):
    # transactional_db: a command run from argv closes every connection when it fails (Django's
    # run_from_argv); inside the test's own transaction that would hand an open transaction back to the pool.
    feed({"success": False}, status=200)
    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "sync_wagers"])
    assert exit_info.value.code != 0
    err = [line for line in capsys.readouterr().err.splitlines() if "werkzeug" not in line]  # the fake server's
    assert err == ["CommandError: sync failed: upstream reported success: false"]


def test_a_sync_updates_live_races_but_not_one_that_ended_before_the_data_was_fetched(db, feed):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    race = WagerRace.objects.create(
        title="November", type=WagerRace.Type.MONTHLY, status=WagerRace.Status.LIVE, prize_pool=Decimal("100"),
        start_date=start, end_date=start + timedelta(days=30), prize_distribution={"1": 60, "2": 40},
        went_live_at=start,
    )  # fmt: skip
    feed(THREE)
    assert sync_wagers(as_of=race.end_date - timedelta(minutes=1)).races == [race.pk]
    frozen = list(RaceParticipant.objects.filter(race=race).values_list("player__uid", "wagered", "rank"))
    assert len(frozen) == 2
    # After midnight upstream's monthly counters reset; that sync must not touch the ended race.
    reset = {"data": [row(r["uid"], r["name"], all_time=r["wagered"]["all_time"]) for r in THREE["data"]]}
    feed(reset)
    after = sync_wagers(as_of=race.end_date + timedelta(seconds=30))
    assert after.ok
    assert after.races == []
    assert list(RaceParticipant.objects.filter(race=race).values_list("player__uid", "wagered", "rank")) == frozen
