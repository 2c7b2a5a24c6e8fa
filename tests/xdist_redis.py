"""pytest plugin for a run on Redis in pytest-xdist workers (`-p tests.xdist_redis`, `make test-postgres`).

Each worker is a process with a test database of its own (pytest-django names it test_<name>_gw<N>); this gives it
a Redis database of its own too: worker gw<N> takes REDIS_URL's database number minus N (gw0 15, gw1 14 for
`make test-postgres`), and a channel-layer prefix of its own (pub/sub channels are the server's, not a database's).
Workers sharing one Redis would flush each other's cache, rate-limit counters and channel layer between tests.
Loaded with -p, so it runs before pytest-django reads the settings (a conftest would be too late: the settings
module reads REDIS_URL when it is imported).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit


def worker_redis_url(url: str, worker: str) -> str:
    """`url` with its database number lowered by the worker's number (redis://host:6379/15, gw1 → .../14)."""
    number = int(worker.removeprefix("gw") or 0)
    if not url or number == 0:
        return url
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) - number
    if database < 0:
        raise ValueError(f"{url}: no Redis database left for xdist worker {worker}")
    return urlunsplit(parts._replace(path=f"/{database}"))


def layer_prefix(url: str) -> str:
    """The channel layer's prefix for a run on `url`'s Redis database. Redis's pub/sub channels belong to the
    server, not to a database: two runs with one prefix would receive each other's group events (seen: a test's
    socket got a "leaderboard.updated" another worker's test had sent)."""
    return f"gv-asgi-db{int(urlsplit(url).path.strip('/') or 0)}"


_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], _worker)
    os.environ["CHANNEL_LAYER_PREFIX"] = layer_prefix(os.environ["REDIS_URL"])
