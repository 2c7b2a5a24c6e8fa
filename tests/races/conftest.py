"""A local affiliate feed server for the race tests that drive real syncs."""

from __future__ import annotations

import json
import time

import pytest
from werkzeug import Response

FEED = "/referral-leaderboard"


def feed_rows(**players: tuple[str, str, str]) -> dict:
    """{uid: (this_week, this_month, all_time)} in the upstream format."""
    return {
        "success": True,
        "data": [
            {"uid": uid, "name": uid.title(), "wagered": {"today": "0", "this_week": w, "this_month": m, "all_time": a}}
            for uid, (w, m, a) in players.items()
        ],
    }


@pytest.fixture
def upstream(httpserver, settings):
    """A local affiliate server; `answer(body, delay=seconds)` sets the next answer."""
    settings.AFFILIATE_API_URL = httpserver.url_for(FEED)
    settings.AFFILIATE_API_TOKEN = "tok"
    settings.FEED_MAX_RETRIES = 0

    def answer(body: dict, delay: float = 0) -> None:
        def handler(request):
            time.sleep(delay)
            return Response(json.dumps(body), content_type="application/json")

        httpserver.clear()
        httpserver.expect_request(FEED).respond_with_handler(handler)

    return answer
