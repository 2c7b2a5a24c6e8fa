"""A burst of referral clicks on `/go/<slug>/`, then the flush, then the staff CSV checked against what was sent.

    .venv/bin/python bench/go.py [--requests 1000] [--concurrency 50] [--servers 1] [--seed 36]

The site runs as the Procfile's `web` runs it (uvicorn goatedvips.asgi:application --lifespan off
--no-proxy-headers --ws-max-size 65536 --no-access-log) with production settings (bench/production.py: DEBUG=0,
the SSL redirect, HSTS; every request carries X-Forwarded-Proto: https) behind one trusted proxy hop
(TRUSTED_PROXY_HOPS=1, each client's address in X-Forwarded-For as nginx sends it), on a PostgreSQL database of
its own (gb_go_<pid>, dropped afterwards) and Redis (database 11 under a key prefix of its own, its keys deleted
afterwards).

`--requests` requests go out `--concurrency` at a time from cookie-less clients (a fixed seed): a few hundred
visitors (an address and a browser each) clicking varied slugs (plain `/go/` too), some with a `utm_content`,
mixed with crawler and link-preview agents, HEADs and prefetches (redirected, not counted). Every answer must be
a 302 to REFERRAL_URL with the right utm_*; none may be a 5xx or a failed connection. Then the beat's flush
(growth.referral_clicks_flush, run once here) and `GET /admin/analytics/referral-clicks.csv` as a staff member
with the second factor proven: per slug its clicks must equal the counted requests sent (a person's GET) and
its unique visitors the distinct visitors among them. Prints a table; exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from urllib.request import urlopen

sys.path.insert(0, str(Path(__file__).resolve().parent))
import production
from fanout import ROOT, free_port

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/11"
REFERRAL_URL = "https://goated.example/r/VIP?lang=en"
SLUGS = ["", "friday-stream", "tg-post-12", "site-hero", "telegram-play", "never-named-7"]
BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
]
CRAWLERS = [
    "TelegramBot (like TwitterBot)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]
# The Procfile's web line (uvicorn picks httptools and uvloop when installed, as in production).
WEB = ["-m", "uvicorn", "goatedvips.asgi:application", "--host", "127.0.0.1", "--lifespan", "off",
       "--no-proxy-headers", "--ws-max-size", "65536", "--no-access-log"]  # fmt: skip
STAFF_SESSION = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.cached_db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
user = get_user_model().objects.create_superuser("bench-operator", "bench@example.com", "x" * 24)
device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
session = SessionStore()
session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(), DEVICE_ID_SESSION_KEY: device.persistent_id})
session.create()
print(session.session_key)
"""
FLUSH = "from growth.services import referral_clicks_flush; print(referral_clicks_flush())"


@dataclass(frozen=True)
class Shot:
    method: str
    slug: str
    visitor: int  # the client's address and browser
    agent: str
    prefetch: bool
    utm_content: str

    @property
    def counted(self) -> bool:
        return self.method == "GET" and self.agent in BROWSERS and not self.prefetch

    @property
    def path(self) -> str:
        path = f"/go/{self.slug}/" if self.slug else "/go/"
        return f"{path}?utm_content={self.utm_content}" if self.utm_content else path

    def headers(self) -> dict[str, str]:
        headers = {**production.HEADERS, "User-Agent": self.agent, "X-Forwarded-For": address(self.visitor)}
        if self.prefetch:
            headers["Sec-Purpose"] = "prefetch"
        return headers


def address(visitor: int) -> str:
    return f"10.36.{visitor // 200}.{visitor % 200 + 1}"


def plan(requests: int, seed: int) -> list[Shot]:
    """The requests to send: 90 % a person's GET, the rest crawler GETs, HEADs and prefetches."""
    rng = random.Random(seed)
    visitors = max(1, requests * 3 // 5)
    browser_of = [rng.choice(BROWSERS) for _ in range(visitors)]
    shots = []
    for _ in range(requests):
        visitor, slug, roll = rng.randrange(visitors), rng.choice(SLUGS), rng.random()
        utm = f"bench-{rng.randrange(5)}" if rng.random() < 0.1 else ""
        if roll < 0.04:
            shots.append(Shot("GET", slug, visitor, rng.choice(CRAWLERS), False, utm))
        elif roll < 0.07:
            shots.append(Shot("HEAD", slug, visitor, browser_of[visitor], False, utm))
        elif roll < 0.10:
            shots.append(Shot("GET", slug, visitor, browser_of[visitor], True, utm))
        else:
            shots.append(Shot("GET", slug, visitor, browser_of[visitor], False, utm))
    return shots


def expected_target(shot: Shot) -> dict[str, str]:
    query = {"lang": "en", "utm_source": "goatedvips", "utm_medium": "referral"}
    if shot.slug:
        query["utm_campaign"] = shot.slug
    if shot.utm_content:
        query["utm_content"] = shot.utm_content
    return query


def target_ok(shot: Shot, location: str | None) -> bool:
    if not location:
        return False
    got, want = urlsplit(location), urlsplit(REFERRAL_URL)
    return (got.scheme, got.netloc, got.path) == (want.scheme, want.netloc, want.path) and dict(
        parse_qsl(got.query, keep_blank_values=True)
    ) == expected_target(shot)


async def burst(bases: list[str], shots: list[Shot], concurrency: int) -> list[tuple[int, bool, float]]:
    """(status, right Location, seconds) per shot, in order; status 0 for a failed connection."""
    import aiohttp

    results: list[tuple[int, bool, float]] = [(0, False, 0.0)] * len(shots)
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                     timeout=timeout) as session:  # fmt: skip

        async def one(index: int, shot: Shot) -> None:
            url = bases[index % len(bases)] + shot.path
            async with gate:
                began = time.perf_counter()
                try:
                    async with session.request(shot.method, url, headers=shot.headers(),
                                               allow_redirects=False) as response:  # fmt: skip
                        await response.read()
                        ok = target_ok(shot, response.headers.get("Location"))
                        results[index] = (response.status, ok, time.perf_counter() - began)
                except (TimeoutError, aiohttp.ClientError):
                    results[index] = (0, False, time.perf_counter() - began)

        await asyncio.gather(*(one(i, shot) for i, shot in enumerate(shots)))
    return results


async def fetch_csv(base: str, session_key: str) -> list[list[str]]:
    """The staff CSV, as an operator downloads it (a session with the second factor proven)."""
    import aiohttp

    headers = {**production.HEADERS, "Cookie": f"sessionid={session_key}"}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        url = f"{base}/admin/analytics/referral-clicks.csv"
        async with session.get(url, headers=headers, allow_redirects=False) as response:
            body = await response.text()
            if response.status != 200 or not response.headers.get("Content-Type", "").startswith("text/csv"):
                raise SystemExit(f"CSV: {response.status} {response.headers.get('Content-Type')} {body[:200]}")
    return list(csv.reader(io.StringIO(body)))


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def start_web(env: dict, count: int) -> tuple[list[subprocess.Popen], list[int]]:
    procs, ports = [], []
    for _ in range(count):
        port = free_port()
        procs.append(subprocess.Popen([sys.executable, *WEB, "--port", str(port)], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        ports.append(port)
    for port in ports:
        for _ in range(300):
            try:
                with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit(f"the server on :{port} never answered /healthz")
    return procs, ports


def report(shots: list[Shot], results: list[tuple[int, bool, float]], rows: list[list[str]], moved: int) -> bool:
    statuses = Counter(status for status, _ok, _t in results)
    wrong_target = sum(1 for status, ok, _t in results if status == 302 and not ok)
    latencies = [seconds * 1000 for _s, _ok, seconds in results]
    sent = Counter(shot.slug for shot in shots if shot.counted)
    visitors = defaultdict(set)
    for shot in shots:
        if shot.counted:
            visitors[shot.slug].add(shot.visitor)
    clicks, unique = Counter(), Counter()
    for _day, campaign, n, u in rows[1:]:
        clicks[campaign] += int(n)
        unique[campaign] += int(u)
    not_counted = Counter(
        "HEAD" if s.method == "HEAD" else "prefetch" if s.prefetch else "crawler" for s in shots if not s.counted
    )
    print(f"\nrequests {len(shots)}: 302 {statuses[302]}, 5xx {sum(v for k, v in statuses.items() if k >= 500)}, "
          f"other {sum(v for k, v in statuses.items() if k not in (302,) and k < 500)}, wrong Location {wrong_target}; "
          f"latency p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
          f"max {max(latencies):.1f} ms")  # fmt: skip
    print(f"not counted by design: {dict(not_counted)}; the flush moved {moved} clicks")
    print(f"\n{'campaign':<16}{'sent (GET, person)':>20}{'CSV clicks':>12}{'visitors':>10}{'CSV unique':>12}")
    good = statuses[302] == len(shots) and wrong_target == 0 and moved == sum(sent.values())
    for slug in SLUGS:
        print(f"{slug or '(plain /go/)':<16}{sent[slug]:>20}{clicks[slug]:>12}{len(visitors[slug]):>10}"
              f"{unique[slug]:>12}")  # fmt: skip
        good = good and clicks[slug] == sent[slug] and unique[slug] == len(visitors[slug])
    good = good and set(clicks) <= set(SLUGS)
    print(f"{'total':<16}{sum(sent.values()):>20}{sum(clicks.values()):>12}")
    print("\nPASS" if good else "\nFAIL")
    return good


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--servers", type=int, default=1, help="uvicorn processes, requests spread round-robin")
    parser.add_argument("--seed", type=int, default=36)
    args = parser.parse_args()
    print(production.SETTINGS_LINE)
    database, prefix = f"gb_go_{os.getpid()}", f"gb-go-{os.getpid()}"
    env = {
        **os.environ, **production.ENV, "DJANGO_SETTINGS_MODULE": "goatedvips.settings", "REDIS_URL": REDIS,
        "CACHE_KEY_PREFIX": prefix, "CHANNEL_LAYER_PREFIX": prefix, "TRUSTED_PROXY_HOPS": "1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}", "REFERRAL_URL": REFERRAL_URL,
        "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    env.pop("DATABASE_REPLICA_URL", None)
    manage = [sys.executable, "manage.py"]
    subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {database}"], check=True)
    procs: list[subprocess.Popen] = []
    try:
        subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        session_key = subprocess.run([*manage, "shell", "-c", STAFF_SESSION], cwd=ROOT, env=env, check=True,
                                     capture_output=True, text=True).stdout.strip().splitlines()[-1]  # fmt: skip
        procs, ports = start_web(env, args.servers)
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        shots = plan(args.requests, args.seed)
        began = time.perf_counter()
        results = asyncio.run(burst(bases, shots, args.concurrency))
        elapsed = time.perf_counter() - began
        print(f"burst: {len(shots)} requests, {args.concurrency} at a time, {args.servers} uvicorn process(es), "
              f"{elapsed:.2f} s ({len(shots) / elapsed:.0f} req/s)")  # fmt: skip
        before = subprocess.run(["psql", env["DATABASE_URL"], "-tAc", "SELECT count(*) FROM growth_referralclickday"],
                                capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
        print(f"click rows in the database after the burst, before the flush: {before} (counting is cache-only)")
        flushed = subprocess.run([*manage, "shell", "-c", FLUSH], cwd=ROOT, env=env, check=True,
                                 capture_output=True, text=True)  # fmt: skip
        moved = int(flushed.stdout.strip().splitlines()[-1])
        rows = asyncio.run(fetch_csv(bases[0], session_key))
        if rows[0] != ["day", "campaign", "clicks", "unique_visitors"]:
            raise SystemExit(f"CSV header: {rows[0]}")
        good = report(shots, results, rows, moved)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], check=True)
        keys = subprocess.run(["redis-cli", "-u", REDIS, "--scan", "--pattern", f"{prefix}*"],
                              capture_output=True, text=True).stdout.split()  # fmt: skip
        for start in range(0, len(keys), 500):
            subprocess.run(["redis-cli", "-u", REDIS, "del", *keys[start : start + 500]], capture_output=True)
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
