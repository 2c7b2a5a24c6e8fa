"""The referral code players type on Goated when they sign up: the last part of REFERRAL_URL's path
(`https://www.goated.com/r/GOATEDVIPS` → `GOATEDVIPS`), so the link and the code shown as text never disagree."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings


@lru_cache(maxsize=4)
def _code_of(url: str) -> str:
    parts = [p for p in urlsplit(url).path.split("/") if p]
    return parts[-1] if parts else ""


def referral_code() -> str:
    return _code_of(settings.REFERRAL_URL)
