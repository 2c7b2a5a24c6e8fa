"""The configuration every bench runs: production's (DEBUG=0, the SSL redirect on, HSTS, the real middleware list),
with HTTPS reported by the balancer's X-Forwarded-Proto header, as nginx sends it. A figure taken in debug mode is
not a result (tests/core/test_benches.py fails if a bench asks for it)."""

from __future__ import annotations

# Throwaway values: the benches serve nothing but their own load generators on loopback.
ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-" + "k" * 48,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "CSRF_TRUSTED_ORIGINS": "https://127.0.0.1,https://localhost",
    "SECURE_SSL_REDIRECT": "1",
    "STAFF_2FA": "1",
}
# What the balancer adds to every request it forwards (SECURE_PROXY_SSL_HEADER reads it).
HEADERS = {"X-Forwarded-Proto": "https"}
SETTINGS_LINE = (
    "settings: production (DEBUG=0, SECURE_SSL_REDIRECT on, HSTS, the real middleware; requests carry "
    "X-Forwarded-Proto: https)"
)
