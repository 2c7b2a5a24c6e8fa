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
"""

from __future__ import annotations

import argparse
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
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "goatedvips_bench_pages"
TARGET_MS = 20.0


def environment(redis_url: str) -> dict:
    return {
        **production.ENV, "ALLOWED_HOSTS": "testserver", "STAFF_2FA": "0", "LOG_LEVEL": "ERROR",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}", "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "goatedvips.settings", "LEADERBOARD_FAST_PATH": "0",
    }  # fmt: skip


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="reuse the database of an earlier run")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    os.environ.update(environment(args.redis))
    sys.path.insert(0, str(ROOT))
    if not args.keep:
        subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"], check=True)
        subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {DATABASE}"], check=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)
    # Production settings serve hashed static names from the manifest, as after a deploy.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    import django

    django.setup()
    if not args.keep:
        print(f"Building {args.players:,} players, 20 races, 1,000 users …", flush=True)
        build(args.players)
    rows = measure(args.repeat)
    print(f"\n{'who':<11}{'endpoint':<62}{'median ms':>10}{'p90 ms':>8}{'queries':>9}  verdict")
    failures = 0
    for who, url, median, p90, queries, _ in rows:
        ok = median <= TARGET_MS
        failures += not ok
        print(f"{who:<11}{url[:61]:<62}{median:>10.1f}{p90:>8.1f}{queries:>9}  {'PASS' if ok else 'FAIL'}")
    print(f"\n{len(rows) - failures} of {len(rows)} endpoints at a median <= {TARGET_MS:.0f} ms")


if __name__ == "__main__":
    main()
