"""Production settings refuse to start without their secrets (the original shipped weak fallbacks)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "goatedvips.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _load_settings(DEBUG="0", ALLOWED_HOSTS="goatedvips.example")
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a long random value when DEBUG=0" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _load_settings(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set when DEBUG=0" in result.stderr


def test_production_starts_with_its_settings():
    result = _load_settings(DEBUG="0", SECRET_KEY="x" * 50, ALLOWED_HOSTS="goatedvips.example")
    assert result.returncode == 0, result.stderr


def test_production_turns_staff_two_factor_on_and_development_leaves_it_off():
    check = "from django.conf import settings; print(settings.STAFF_2FA, settings.DEBUG)"
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "STAFF_2FA"}}

    def run(**extra):
        return subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {check}"], cwd=ROOT, capture_output=True,
            text=True, timeout=60, check=False,
            env={**env, "DJANGO_SETTINGS_MODULE": "goatedvips.settings", **extra},
        )  # fmt: skip

    assert run(DEBUG="0", SECRET_KEY="x" * 50, ALLOWED_HOSTS="goatedvips.example").stdout.split() == ["True", "False"]
    assert run(DEBUG="1").stdout.split() == ["False", "True"]
    unset = run(SECRET_KEY="x" * 50, ALLOWED_HOSTS="goatedvips.example")  # DEBUG not given at all
    assert unset.stdout.split() == ["True", "False"]
