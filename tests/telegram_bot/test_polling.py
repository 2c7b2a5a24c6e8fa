"""`runbot` survives the Bot API going away: the server is killed under a running bot for as many failed polls as
it takes aiogram's backoff to reach its longest wait (about 30 s with the defaults; the test shortens the waits
with `runbot --backoff-max`), comes back on the same port, and the bot answers the next command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

from tests.realtime.servers import ROOT, child_env, free_port
from tests.telegram_bot.fake_telegram import TOKEN

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]
# The first wait is a fifth of the longest and grows by 1.3 per failed poll: it reaches the cap on the 7th.
BACKOFF_MAX = 0.5
FAILED_POLLS = 10


def start_api(port: int, sent: Path, update_id: int, text: str) -> subprocess.Popen:
    api = subprocess.Popen(
        [sys.executable, "-m", "tests.telegram_bot.bot_api_process", "--port", str(port), "--sent", str(sent),
         "--update-id", str(update_id), "--text", text], cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            urlopen(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe", timeout=1).close()
            return api
        except OSError:
            time.sleep(0.1)
    api.kill()
    raise RuntimeError("the fake Bot API did not start")


def wait_sent(sent: Path, containing: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if sent.exists():
            for line in sent.read_text().splitlines():
                text = json.loads(line).get("text", "")
                if containing in text:
                    return text
        time.sleep(0.2)
    raise AssertionError(f"the bot sent nothing containing {containing!r}")


def wait_failed_polls(log: Path, count: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.read_text().count("Failed to fetch updates") >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"the bot did not log {count} failed polls")


def test_the_bot_answers_again_after_the_bot_api_was_gone_until_the_polling_backoff_hit_its_cap(tmp_path):
    port, sent, log = free_port(), tmp_path / "sent.jsonl", tmp_path / "bot.log"
    env = child_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=f"http://127.0.0.1:{port}", LOG_LEVEL="ERROR")
    api = start_api(port, sent, update_id=1, text="/help")
    with open(log, "w") as stderr:
        bot = subprocess.Popen([sys.executable, "manage.py", "runbot", "--backoff-max", str(BACKOFF_MAX)], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
    try:
        wait_sent(sent, "/check_stats", 30)  # the answer to /help
        assert "Failed to fetch updates" not in log.read_text()
        api.kill()
        api.wait(10)
        wait_failed_polls(log, FAILED_POLLS, 30)
        assert bot.poll() is None, "runbot exited while the Bot API was away"
        api = start_api(port, sent, update_id=2, text="/website")
        assert "Races, leaderboards" in wait_sent(sent, "Races, leaderboards", 30)
    finally:
        bot.terminate()
        api.kill()
        bot.wait(10)
        api.wait(10)
