"""The fast path serves in the production configuration (DEBUG=0, HTTPS as the balancer reports it, HSTS, the SSL
redirect with its exemptions), byte for byte as Django, and leaves the HTTPS redirect of plain HTTP to Django.
The settings are loaded for real, in a process of their own (tests/races/fastpath_production.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_fast_path_and_the_page_cache_answer_in_production_as_django_would(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "REDIS", "DJANGO_", "PYTEST"))}
    env |= {
        "DEBUG": "0", "SECRET_KEY": "p" * 50, "ALLOWED_HOSTS": "goatedvips.example",
        "CSRF_TRUSTED_ORIGINS": "https://goatedvips.example", "DJANGO_SETTINGS_MODULE": "goatedvips.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}", "READ_REPLICA": "0", "DATABASE_REPLICA_URL": "",
        "STATIC_ROOT": str(tmp_path / "static"),
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "tests.races.fastpath_production"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    assert seen["debug"] is False
    assert seen["first_status"] == 200
    assert seen["fast_answered"] == 1, "the fast path did not answer an HTTPS request in production"
    assert seen["same_status"]
    assert seen["same_body"]
    assert seen["same_headers"]
    assert seen["hsts"].startswith("max-age=31536000")
    assert seen["redirect"] == [301, "https://goatedvips.example/api/v1/leaderboard/?period=monthly&limit=5"]
    assert seen["redirect_same"]
    assert seen["served_after_redirect"] == 1  # plain HTTP went to Django, which redirected
    assert seen["health"] == 200  # exempt from the redirect, as before
    # The anonymous page cache serves in production too, the same bytes and headers as Django.
    assert seen["pages_served"] == 1
    assert seen["page_same"] == [200, 200, True, True]
