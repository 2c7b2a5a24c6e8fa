"""The affiliate's referral-leaderboard feed: HTTP client and strict validation (the demo feed is `demo_feed.py`).

The feed is external and untrusted (docs/design.md §4). Everything here turns bytes into a `FeedBatch` of clean rows or
raises `FeedError` with a one-line reason; nothing here touches the database.
"""

from __future__ import annotations

import functools
import json
import random
import re
import ssl
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import NamedTuple

import httpx
from django.conf import settings

from races.feed.credentials import feed_token_current
from races.feed.demo import demo_feed_payload

# Stored with 8 decimal places (races.feed.models.WAGER); 16 integer digits is the column's ceiling.
AMOUNT_PLACES = Decimal("0.00000001")
AMOUNT_MAX = Decimal("9999999999999999")
NAME_MAX = 64
UID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PERIOD_KEYS = ("today", "this_week", "this_month", "all_time")  # in the order a rejected row is explained
REJECT_SAMPLE = 5  # how many rejected-row reasons a sync log keeps


class FeedError(Exception):
    """The whole payload is unusable; the sync must fail and change nothing."""


class FeedRow(NamedTuple):
    """One clean row. A tuple (immutable; built in a fraction of a frozen dataclass's time, 50,000 per sync)."""

    uid: str
    name: str
    today: Decimal
    week: Decimal
    month: Decimal
    all_time: Decimal


@dataclass
class FeedBatch:
    rows: list[FeedRow]
    received: int
    rejected: int = 0
    duplicates: int = 0
    reject_reasons: list[str] = field(default_factory=list)
    source: str = "affiliate"
    fetch_ms: int = 0
    # When the response arrived (the demo feed: the moment it describes). The data is as of this time at the
    # latest: a race that ended before it must not take it (docs/races.md, "Time").
    received_at: datetime | None = None


class _Invalid:
    """Stands in for NaN/Infinity literals, which Python's json accepts but the feed must not."""

    def __repr__(self) -> str:
        return "non-finite number"


_INVALID = _Invalid()


# --- HTTP ----------------------------------------------------------------------------------------------------


def _retry_delay(attempt: int) -> float:
    """Exponential backoff with full jitter: upstream is slow and shared, so retries must not synchronise."""
    cap = settings.FEED_BACKOFF_SECONDS * (2**attempt)
    return random.uniform(0, cap)  # noqa: S311 - jitter, not security


def _fetch_once(client: httpx.Client, url: str, headers: dict[str, str]) -> bytes:
    limit = settings.FEED_MAX_BYTES
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code >= 500:
            raise _Transient(f"upstream answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise FeedError(f"upstream answered HTTP {response.status_code}")
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FeedError(f"payload of {int(declared):,} bytes is over the {limit:,}-byte cap")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise FeedError(f"payload is over the {limit:,}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)


class _Transient(Exception):
    pass


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS context of every fetch, built once per process: loading the CA bundle (httpx's default, certifi)
    for each fetch took 180-310 ms on a loaded 2-core machine, the longest single step of a small sync."""
    return httpx.create_ssl_context()


def feed_fetch(url: str, token: str = "") -> bytes:
    """GET the feed with bounded, jittered retries on network errors, timeouts and 5xx; FeedError otherwise."""
    headers = {"Accept": "application/json", "User-Agent": "GoatedVIPs-sync/1"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    timeout = httpx.Timeout(settings.FEED_READ_TIMEOUT, connect=settings.FEED_CONNECT_TIMEOUT)
    attempts = settings.FEED_MAX_RETRIES + 1
    last = "no attempt made"
    with httpx.Client(timeout=timeout, follow_redirects=False, verify=_tls()) as client:
        for attempt in range(attempts):
            if attempt:
                time.sleep(_retry_delay(attempt - 1))
            try:
                return _fetch_once(client, url, headers)
            except _Transient as exc:
                last = str(exc)
            except httpx.ConnectError as exc:
                last = f"could not connect to the feed ({_short(exc)})"
            except httpx.TimeoutException:
                last = "the feed timed out"
            except httpx.HTTPError as exc:
                last = f"HTTP error talking to the feed ({_short(exc)})"
    raise FeedError(f"{last} (after {attempts} attempt{'s' if attempts > 1 else ''})")


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:120]


# --- validation ----------------------------------------------------------------------------------------------


def _amount(value: object) -> Decimal:
    if type(value) is Decimal and value.is_finite() and 0 <= value <= AMOUNT_MAX:  # json's parse_float: the rule
        return value.quantize(AMOUNT_PLACES, rounding=ROUND_DOWN)
    if type(value) is not Decimal:
        if isinstance(value, bool) or value is None or value is _INVALID:
            raise ValueError(f"{value!r} is not a number")
        if isinstance(value, int):
            value = Decimal(value)
        elif isinstance(value, str):
            try:
                value = Decimal(value.strip())
            except InvalidOperation:
                raise ValueError(f"{value[:20]!r} is not a number") from None
        if not isinstance(value, Decimal):
            raise ValueError(f"{value!r} is not a number")
    if not value.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if value < 0:
        raise ValueError(f"{value} is negative")
    if value > AMOUNT_MAX:
        raise ValueError(f"{value} is absurdly large")
    # Round down like the money rules elsewhere; 8 places keep every figure upstream has sent so far.
    return value.quantize(AMOUNT_PLACES, rounding=ROUND_DOWN)


def clean_name(raw: str) -> str:
    """Strip control/format characters and surrounding space, cap the length."""
    if raw.isprintable() and len(raw) <= NAME_MAX and raw == raw.strip() and "  " not in raw:
        return raw  # nearly every name: nothing to clean, and checking costs far less than rebuilding
    text = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())[:NAME_MAX]


def feed_row_validate(item: object) -> FeedRow:
    """One feed row → FeedRow, or ValueError saying what is wrong with it."""
    if not isinstance(item, dict):
        raise ValueError("row is not an object")
    uid = item.get("uid")
    if not isinstance(uid, str) or not UID_RE.match(uid):
        raise ValueError("missing or malformed uid")
    name = item.get("name")
    name = clean_name(name) if isinstance(name, str) else ""
    if not name:
        raise ValueError(f"uid {uid}: missing name")
    wagered = item.get("wagered")
    if not isinstance(wagered, dict):
        raise ValueError(f"uid {uid}: missing wagered")
    try:  # every period present and valid, as nearly every row is: one try, no per-period bookkeeping
        return FeedRow(
            uid, name, _amount(wagered["today"]), _amount(wagered["this_week"]), _amount(wagered["this_month"]),
            _amount(wagered["all_time"]),
        )  # fmt: skip
    except (KeyError, ValueError):
        raise ValueError(_period_problem(uid, wagered)) from None


def _period_problem(uid: str, wagered: dict) -> str:
    """What is wrong with a row's periods: the first missing or invalid one, in the feed's order."""
    for key in PERIOD_KEYS:
        if key not in wagered:
            return f"uid {uid}: missing wagered.{key}"
        try:
            _amount(wagered[key])
        except ValueError as exc:
            return f"uid {uid}: wagered.{key} {exc}"
    return f"uid {uid}: malformed wagered"


def _rows_of(payload: object) -> list:
    if isinstance(payload, list):
        return payload
    if not isinstance(payload, dict):
        raise FeedError("payload is neither an object nor a list")
    if "success" in payload and payload["success"] is not True:
        message = payload.get("message") or payload.get("error") or ""
        detail = f": {str(message)[:120]}" if message else ""
        raise FeedError(f"upstream reported success: false{detail}")
    for key in ("data", "results"):
        if key in payload:
            rows = payload[key]
            if not isinstance(rows, list):
                raise FeedError(f"'{key}' is not a list")
            return rows
    raise FeedError("payload has neither 'data' nor 'results'")


def _preferred(a: FeedRow, b: FeedRow) -> FeedRow:
    """Duplicate uids: keep the row with the most wagered (then the greater name), whatever the order."""
    key = lambda r: (r.all_time, r.month, r.week, r.today, r.name)  # noqa: E731
    return a if key(a) >= key(b) else b


class _Rejected(NamedTuple):
    """A row the parser already found invalid (feed_parse validates each row object as it is decoded)."""

    reason: str


def _row_hook(obj: dict) -> object:
    """json's object_hook: an object that is a row of the feed (it has a uid) becomes its FeedRow — or the reason it
    is invalid — the moment it is decoded, so 500,000 row dicts (and their `wagered` dicts) never exist at once:
    the peak memory of a large feed is its FeedRows, not its parse tree. Every other object stays a dict."""
    if "uid" not in obj:
        return obj
    try:
        return feed_row_validate(obj)
    except ValueError as exc:
        return _Rejected(str(exc))


def feed_rows_clean(items: Iterable[object], received: int) -> FeedBatch:
    batch = FeedBatch(rows=[], received=received)
    by_uid: dict[str, FeedRow] = {}
    for item in items:
        try:
            if type(item) is _Rejected:
                raise ValueError(item.reason)
            row = item if type(item) is FeedRow else feed_row_validate(item)
        except ValueError as exc:
            batch.rejected += 1
            if len(batch.reject_reasons) < REJECT_SAMPLE:
                batch.reject_reasons.append(str(exc)[:200])
            continue
        if row.uid in by_uid:
            batch.duplicates += 1
            row = _preferred(by_uid[row.uid], row)
        by_uid[row.uid] = row
    batch.rows = list(by_uid.values())
    if received and not batch.rows:
        first = f" (first: {batch.reject_reasons[0]})" if batch.reject_reasons else ""
        raise FeedError(f"every one of the {received:,} rows was invalid{first}")
    if not received:
        raise FeedError("the feed listed no players")
    return batch


def feed_parse(body: bytes) -> FeedBatch:
    """Bytes → FeedBatch. Numbers become Decimal straight from their text, so nothing passes through float."""
    if len(body) > settings.FEED_MAX_BYTES:
        raise FeedError(f"payload is over the {settings.FEED_MAX_BYTES:,}-byte cap")
    stripped = body.lstrip()[:1]
    if stripped == b"<":
        raise FeedError("upstream sent an HTML page instead of JSON (error page or login wall?)")
    try:
        payload = json.loads(body, parse_float=Decimal, parse_constant=lambda _name: _INVALID, object_hook=_row_hook)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"invalid JSON ({_short(exc)})") from None
    rows = _rows_of(payload)
    return feed_rows_clean(rows, len(rows))


def feed_source() -> str:
    """Where the data comes from: "affiliate" (AFFILIATE_API_URL) or "demo" (the built-in simulation)."""
    return "affiliate" if settings.AFFILIATE_API_URL else "demo"


def feed_load() -> FeedBatch:
    """Fetch and validate the configured feed, or the demo feed when AFFILIATE_API_URL is unset."""
    started = time.monotonic()
    if feed_source() == "affiliate":
        body = feed_fetch(settings.AFFILIATE_API_URL, feed_token_current().token)
        received_at = datetime.now(UTC)
        batch = feed_parse(body)
    else:
        received_at = datetime.now(UTC)
        payload = demo_feed_payload(received_at)
        batch = feed_rows_clean(payload["data"], len(payload["data"]))
        batch.source = feed_source()
    batch.received_at = received_at
    batch.fetch_ms = int((time.monotonic() - started) * 1000)
    return batch
