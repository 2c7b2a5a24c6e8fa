"""Benchmarks measure what production runs (DESIGN §7): DEBUG=0, HTTPS as the balancer reports it. A bench that
asks for DEBUG=1 fails here; every bench takes its environment from bench/production.py and says so."""

from __future__ import annotations

import re
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
RUNNERS = ["backup.py", "chaos.py", "fanout.py", "go.py", "leaderboard_http.py", "load.py", "pages.py", "sync.py"]


def test_no_bench_sets_debug_on():
    on = re.compile(r"""["']?DEBUG["']?\s*[:=]\s*["']?(1|true|True|on|yes)\b""")
    found = [f"{p.name}:{n}" for p in sorted(BENCH.glob("*.py")) for n, line in enumerate(p.read_text().splitlines(), 1)
             if on.search(line)]  # fmt: skip
    assert found == []


def test_the_production_environment_is_production():
    import sys

    sys.path.insert(0, str(BENCH))
    try:
        import production
    finally:
        sys.path.remove(str(BENCH))
    assert production.ENV["DEBUG"] == "0"
    assert production.ENV["SECURE_SSL_REDIRECT"] == "1"
    assert production.HEADERS == {"X-Forwarded-Proto": "https"}


def test_every_bench_runs_the_production_environment():
    for name in RUNNERS:
        text = (BENCH / name).read_text()
        assert "production.ENV" in text, f"{name} does not take bench/production.py's environment"


def test_the_check_finds_a_bench_that_asks_for_debug(tmp_path):
    on = re.compile(r"""["']?DEBUG["']?\s*[:=]\s*["']?(1|true|True|on|yes)\b""")
    assert on.search('    env = {"DEBUG": "1", "LOG_LEVEL": "WARNING"}')
    assert on.search("DEBUG=1 .venv/bin/python bench/sync.py")
    assert not on.search('"DEBUG": "0"')
