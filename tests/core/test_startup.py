"""How long a process takes to start matters: every web worker, Celery worker and management command pays it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_site_and_the_task_modules_does_not_import_the_bot_library():
    """aiogram's types take seconds to import (4.3 s of a 7.5 s `manage.py check` on a slow machine): a process
    that serves pages or runs tasks must not pay for it; only the bot's handlers import it, when they run."""
    code = (
        "import sys, django; django.setup()\n"
        "from django.urls import get_resolver; get_resolver().resolve('/telegram/webhook/')\n"
        "from goatedvips.celery import app; app.loader.import_default_modules()\n"
        "print(sorted(m for m in sys.modules if m == 'aiogram' or m.startswith('telegram_bot.')))\n"
    )
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "goatedvips.settings"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = done.stdout.strip().splitlines()[-1]
    assert "'telegram_bot.tasks'" in loaded  # the webhook and the task modules are loaded...
    assert "'aiogram'" not in loaded  # ...without the bot library
