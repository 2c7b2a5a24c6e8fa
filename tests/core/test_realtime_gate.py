"""The coalescing gate of core.realtime when the cache does not answer: it sends at once rather than folding every
event into trailing sends that never find the gate open."""

from unittest import mock

from django.core.cache import caches

from core import realtime


def test_a_cache_that_answers_a_miss_for_being_down_sends_at_once(settings):
    settings.CACHES = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    with (
        mock.patch.object(realtime, "cache", caches.create_connection("default")),
        mock.patch.object(realtime, "send", return_value=True) as send,
    ):
        assert realtime.send_coalesced("leaderboard", "leaderboard.updated") is True
        assert realtime.send_coalesced("leaderboard", "leaderboard.updated") is True
    assert send.call_count == 2
    assert realtime._trailing == {}


def test_a_working_cache_still_folds_the_second_event_of_a_second():
    with mock.patch.object(realtime, "send", return_value=True) as send, mock.patch("threading.Timer") as timer:
        realtime.send_coalesced("test-gate-group", "leaderboard.updated")
        realtime.send_coalesced("test-gate-group", "leaderboard.updated")
    assert send.call_count == 1
    assert timer.call_count == 1
    realtime._trailing.pop("test-gate-group", None)


def test_a_cancelled_trailing_send_is_never_made():
    import time

    with mock.patch.object(realtime, "send", return_value=True) as send:
        realtime.send_coalesced("test-cancel-group", "leaderboard.updated")
        realtime.send_coalesced("test-cancel-group", "leaderboard.updated")  # folded: a trailing send is due
        realtime.trailing_cancel()
        time.sleep(realtime.COALESCE_SECONDS + 0.5)  # past the moment it was due
    assert send.call_count == 1
    assert realtime._trailing == {}
