"""The site's rate limiter (django-ratelimit) counted for a caller without an HTTP request, as the bot does."""

from __future__ import annotations

from core.ratelimit import rate_count


def test_rate_count_counts_each_key_and_group_on_its_own(ratelimit_clock):
    assert [rate_count("bot-test", "1001", "3/m") for _ in range(4)] == [1, 2, 3, 4]
    assert rate_count("bot-test", "2002", "3/m") == 1
    assert rate_count("other-test", "1001", "3/m") == 1
    ratelimit_clock.advance(60)
    assert rate_count("bot-test", "1001", "3/m") == 1  # a new window


def test_rate_count_is_none_when_rate_limits_are_off(settings):
    settings.RATELIMIT_ENABLE = False
    assert rate_count("bot-test", "1001", "3/m") is None
