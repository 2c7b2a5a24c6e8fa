"""Every page and API endpoint at scale: 100,000 players, 20 races, 1,000 users, on PostgreSQL + Redis.

    .venv/bin/python bench/pages.py [--players 100000] [--repeat 25] [--keep]

Builds a PostgreSQL database of its own (`goatedvips_bench_pages`): the players with COPY and their ranks in one
statement, 1,000 users (half linked to players), 4 live races with their standings over every player, 16
completed races with results and archive rows, a ticket and notifications for the signed-in user. Then it asks
each page and API endpoint `--repeat` times through Django's test client (the whole middleware stack, the
Redis cache warm as in production) and prints the median and p90 server time and the number of queries of each
— signed out, and signed in as a linked player — with pass/fail against the target: median <= 20 ms
(issue 18). Constant query counts at 10 and 1,000 rows are asserted by the test suite (tests/races/
test_pages.py, test_around.py, tests/core/test_admin_queries.py); this bench shows the counts at 100,000.
`--keep` reuses the database built by an earlier run.

    .venv/bin/python bench/pages.py --against REV [--rounds 3]

Side by side in one run (issue 32: "within 20 % of the parent"): the code at REV (a git worktree under var/) and
this tree each build a database of their own, then are measured in alternating rounds, each round a fresh
process per tree; the table shows each endpoint's median over the rounds for both and their ratio, with
pass/fail for the public pages (new median <= 1.2 x REV's).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import production  # bench/production.py: the production configuration every bench runs

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve()
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "goatedvips_bench_pages"
TARGET_MS = 20.0


def environment(redis_url: str, database: str = DATABASE) -> dict:
    return {
        **production.ENV, "ALLOWED_HOSTS": "testserver", "STAFF_2FA": "0", "LOG_LEVEL": "ERROR",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}", "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "goatedvips.settings", "LEADERBOARD_FAST_PATH": "0",
    }  # fmt: skip


def _terms_accepted() -> dict:
    """The fields saying a user confirmed 18+ and accepted the terms, for code that has them (an older tree
    measured side by side has not)."""
    from django.utils import timezone

    try:
        from accounts.terms import TERMS_VERSION
    except ImportError:
        return {}
    now = timezone.now()
    return {"adult_confirmed_at": now, "terms_version": TERMS_VERSION, "terms_accepted_at": now}


def build(players: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from notifications.models import Notification
    from races.feed.leaderboard import leaderboard_cache_refresh
    from races.feed.ranks import player_ranks_recompute
    from races.models import HistoricalRace, Player, RaceResult, WagerRace
    from races.services.standings import races_refresh_after_sync
    from support.models import SupportTicket, TicketMessage

    rng = random.Random(18)
    now = timezone.now()
    started = time.perf_counter()
    columns = "uid, name, wager_today, wager_week, wager_month, wager_all_time, first_seen, last_seen, updated_at"
    with connection.cursor() as cursor, cursor.copy(f"COPY races_player ({columns}) FROM STDIN") as copy:
        for i in range(players):
            month = round(rng.paretovariate(1.2) * 300, 2)
            today = 0 if rng.random() < 0.6 else round(month * 0.05, 2)
            seen = now - timedelta(days=60, seconds=i)
            copy.write_row((f"u{i:08d}", f"Player{i}", today, round(month * 0.3, 2), month, round(month * 12, 2),
                            seen, now, now))  # fmt: skip
    player_ranks_recompute()
    print(f"  {players:,} players with ranks in {time.perf_counter() - started:.1f} s", flush=True)

    password = make_password("bench-password")
    linked = list(Player.objects.order_by("?").values_list("pk", flat=True)[:500])
    User.objects.bulk_create(
        [
            User(
                username=f"user{i}",
                email=f"user{i}@example.com",
                password=password,
                email_verified=True,
                **_terms_accepted(),
                player_id=linked[i] if i < len(linked) else None,
                verification_status="verified" if i < len(linked) else "unverified",
            )
            for i in range(1_000)
        ],
        batch_size=500,
    )
    types = [WagerRace.Type.MONTHLY, WagerRace.Type.WEEKLY, WagerRace.Type.WEEKEND, WagerRace.Type.CUSTOM]
    for i, race_type in enumerate(types):
        WagerRace.objects.create(
            title=f"Live race {i}", type=race_type, status=WagerRace.Status.LIVE, prize_pool=Decimal("10000"),
            start_date=now - timedelta(days=2), end_date=now + timedelta(days=5), went_live_at=now - timedelta(days=2),
            prize_distribution={"1": 40, "2": 25, "3": 15, "4": 10, "5": 10},
        )  # fmt: skip
    started = time.perf_counter()
    races_refresh_after_sync(now)
    print(f"  4 live races' standings in {time.perf_counter() - started:.1f} s", flush=True)
    top = list(Player.objects.order_by("-wager_month")[:100])
    for i in range(16):
        end = now - timedelta(days=30 * (i + 1))
        race = WagerRace.objects.create(
            title=f"Finished race {i}", type=WagerRace.Type.MONTHLY, status=WagerRace.Status.COMPLETED,
            prize_pool=Decimal("5000"), start_date=end - timedelta(days=30), end_date=end,
            prize_distribution={"1": 50, "2": 30, "3": 20},
        )  # fmt: skip
        results = [
            RaceResult(
                race=race,
                player=p,
                rank=r + 1,
                name=p.name,
                uid=p.uid,
                wagered=p.wager_month,
                prize=Decimal({0: 2500, 1: 1500, 2: 1000}.get(r, 0)),
                prize_eligible=True,
            )
            for r, p in enumerate(top)
        ]
        RaceResult.objects.bulk_create(results)
        WagerRace.objects.filter(pk=race.pk).update(standings_total=len(results))  # as finalization writes it
        HistoricalRace.objects.create(
            race=race, title=race.title, type=race.type, month=end.month, year=end.year, prize_pool=race.prize_pool,
            start_date=race.start_date, end_date=end, total_wagered=sum(p.wager_month for p in top),
            participant_count=len(top),
            participants=[{"rank": r.rank, "uid": r.uid, "name": r.name, "wagered": str(r.wagered),
                           "prize": str(r.prize)} for r in results],
        )  # fmt: skip
    me = User.objects.get(username="user0")
    ticket = SupportTicket.objects.create(user=me, subject="Where is my prize?")
    TicketMessage.objects.bulk_create([TicketMessage(ticket=ticket, author=me, body=f"Message {i}") for i in range(20)])
    Notification.objects.bulk_create([Notification(user=me, title=f"Note {i}", body="Hi") for i in range(60)])
    with connection.cursor() as cursor:
        # As autovacuum would have by the time a table this size is read: index-only scans need the visibility map.
        cursor.execute("VACUUM ANALYZE")
    leaderboard_cache_refresh()


def measure(repeat: int) -> list[tuple[str, str, float, float, int, int]]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from races.feed.leaderboard import leaderboard_cache_refresh
    from races.models import Player, WagerRace

    cache.clear()
    leaderboard_cache_refresh()
    live = WagerRace.objects.filter(status="live").order_by("pk").first()
    done = WagerRace.objects.filter(status="completed").order_by("pk").first()
    deep = Player.objects.get(ranks__rank_monthly=Player.objects.filter(wager_month__gt=0).count() * 9 // 10)
    mid = Player.objects.get(ranks__rank_all_time=50_000 if Player.objects.count() >= 50_000 else 5)
    ticket = User.objects.get(username="user0").tickets.first()
    public = [
        "/", "/leaderboard/?period=monthly", "/leaderboard/?period=all_time&page=100", "/leaderboard/?q=Player123",
        "/races/", f"/races/{live.pk}/", f"/races/{done.pk}/", f"/players/{mid.uid}/", "/vip/", "/how-it-works/",
        "/faq/", "/api/v1/leaderboard/?period=monthly&limit=100", "/api/v1/leaderboard/?period=monthly&offset=50000",
        f"/api/v1/leaderboard/around/?uid={deep.uid}&n=5", "/api/v1/races/", f"/api/v1/races/{live.pk}/?limit=100",
        f"/api/v1/races/{live.pk}/around/?uid={deep.uid}", f"/api/v1/races/{done.pk}/results/",
        f"/api/v1/races/{live.pk}/progress/", "/api/v1/races/current/",
    ]  # fmt: skip
    signed_in = [
        "/", "/leaderboard/?period=monthly", f"/races/{live.pk}/", "/accounts/settings/", "/notifications/",
        "/support/", f"/support/{ticket.pk}/", "/bonus-codes/", "/wheel/", "/api/v1/me/", "/api/v1/me/rank/",
        "/api/v1/notifications/", "/api/v1/bonus-codes/", "/api/v1/wheel/", "/api/v1/support/tickets/",
        "/api/v1/me/payouts/",
    ]  # fmt: skip
    rows = []
    for who, urls in (("signed out", public), ("signed in", signed_in)):
        client = Client(headers=production.HEADERS)  # HTTPS, as the balancer reports it
        if who == "signed in":
            client.force_login(User.objects.get(username="user0"))
        for url in urls:
            for _ in range(3):
                assert client.get(url).status_code == 200, url  # warm: caches, templates, connections
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, url
            with CaptureQueriesContext(connection) as ctx:
                client.get(url)
            ordered = sorted(times)
            rows.append((who, url, statistics.median(times), ordered[int(0.9 * len(ordered))], len(ctx), 0))
    return rows


def run_tree(args) -> None:
    """Build (unless --keep) and measure the code tree at --root against its --database; rows to --json."""
    root = Path(args.root).resolve() if args.root else ROOT
    os.environ.update(environment(args.redis, args.database))
    sys.path.insert(0, str(root))
    if not args.keep:
        subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)"], check=True)
        subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {args.database}"], check=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=root, check=True)
    # Production settings serve hashed static names from the manifest, as after a deploy.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=root, check=True)
    os.chdir(root)
    import django

    django.setup()
    if not args.keep:
        print(f"Building {args.players:,} players, 20 races, 1,000 users …", flush=True)
        build(args.players)
    rows = measure(args.repeat)
    if args.json:
        Path(args.json).write_text(json.dumps(rows))
        return
    print(f"\n{'who':<11}{'endpoint':<62}{'median ms':>10}{'p90 ms':>8}{'queries':>9}  verdict")
    failures = 0
    for who, url, median, p90, queries, _ in rows:
        ok = median <= TARGET_MS
        failures += not ok
        print(f"{who:<11}{url[:61]:<62}{median:>10.1f}{p90:>8.1f}{queries:>9}  {'PASS' if ok else 'FAIL'}")
    print(f"\n{len(rows) - failures} of {len(rows)} endpoints at a median <= {TARGET_MS:.0f} ms")


def side_by_side(args) -> None:
    """REV's tree and this one, built once each, then measured in alternating rounds (fresh processes)."""
    rev = subprocess.run(["git", "rev-parse", "--short=10", args.against], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    tree = ROOT / "var" / f"bench-tree-{rev}"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True)
    trees = {rev: tree, "this tree": ROOT}
    results: dict[str, list[list]] = {label: [] for label in trees}
    out = ROOT / "var" / "bench-pages"
    out.mkdir(parents=True, exist_ok=True)
    for n in range(args.rounds):
        for i, (label, root) in enumerate(trees.items()):
            print(f"round {n + 1}/{args.rounds}: {label}", flush=True)
            target = out / f"{i}-{n}.json"
            command = [sys.executable, str(BENCH), "--root", str(root), "--database", f"{DATABASE}_{i}",
                       "--players", str(args.players), "--repeat", str(args.repeat), "--redis", args.redis,
                       "--json", str(target), *(["--keep"] if n or args.keep else [])]  # fmt: skip
            subprocess.run(command, check=True)
            results[label].append(json.loads(target.read_text()))
    old, new = (results[label] for label in trees)
    print(
        f"\n{production.SETTINGS_LINE}\n{args.players:,} players; median of {args.rounds} rounds, each the median of "
        f"{args.repeat} requests\n"
    )
    print(f"{'who':<11}{'endpoint':<52}{rev:>12}{'this tree':>11}{'ratio':>7}  verdict")
    failures = checked = 0
    for k, (who, url, *_rest) in enumerate(old[0]):
        before = statistics.median(r[k][2] for r in old)
        after = statistics.median(r[k][2] for r in new if r[k][1] == url)
        ratio = after / before if before else float("inf")
        page = who == "signed out" and not url.startswith("/api/")
        verdict = ("PASS" if ratio <= 1.2 else "FAIL") if page else ""
        checked += page
        failures += verdict == "FAIL"
        print(f"{who:<11}{url[:51]:<52}{before:>10.1f}ms{after:>9.1f}ms{ratio:>7.2f}  {verdict}")
    print(f"\n{checked - failures} of {checked} public pages within 20 % of {rev}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="reuse the database of an earlier run")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--against", help="measure this git revision side by side with this tree")
    parser.add_argument("--rounds", type=int, default=3, help="with --against: alternating rounds")
    parser.add_argument("--root", help=argparse.SUPPRESS)  # the code tree a --against child measures
    parser.add_argument("--database", default=DATABASE, help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.against:
        side_by_side(args)
    else:
        run_tree(args)


if __name__ == "__main__":
    main()
