"""One beat at a time (goatedvips.beatlock): a second beat stands by while the first holds the advisory lock,
takes over when its session ends, and a leader whose connection broke sends nothing until it holds the lock again.
The real thing, with two beats on PostgreSQL, is `make chaos` step "second beat"; here a fake server's locks."""

from unittest import mock

import pytest

from goatedvips import beatlock


class FakeServer:
    """PostgreSQL's advisory locks as far as the beat uses them: one holder per id, freed with the session."""

    def __init__(self):
        self.holder = None
        self.up = True

    def connect(self):
        if not self.up:
            raise OSError("connection refused")
        return FakeConnection(self)


class FakeConnection:
    def __init__(self, server):
        self.server, self.closed = server, False

    def execute(self, sql, params=None):
        if not self.server.up:
            self.close()
            raise OSError("server closed the connection unexpectedly")
        result = mock.Mock()
        if "pg_try_advisory_lock" in sql:
            assert params == [beatlock.BEAT_LOCK_ID]
            if self.server.holder is None:
                self.server.holder = self
            result.fetchone.return_value = (self.server.holder is self,)
        return result

    def close(self):
        self.closed = True
        if self.server.holder is self:
            self.server.holder = None


@pytest.fixture
def server():
    return FakeServer()


def test_a_second_beat_stands_by_while_the_first_holds_the_lock(server):
    first, second = beatlock.BeatLeaderLock(server.connect), beatlock.BeatLeaderLock(server.connect)
    assert first.held() is True
    assert second.held() is False
    assert first.held() is True  # still the leader on the next tick
    assert second.held() is False


def test_the_standby_takes_over_when_the_leaders_session_ends(server):
    first, second = beatlock.BeatLeaderLock(server.connect), beatlock.BeatLeaderLock(server.connect)
    assert first.held()
    assert not second.held()
    first.release()  # the process ended: PostgreSQL frees its session's locks
    assert second.held() is True
    assert first.held() is False


def test_a_leader_whose_database_went_away_sends_nothing_until_it_holds_the_lock_again(server):
    leader = beatlock.BeatLeaderLock(server.connect)
    assert leader.held() is True
    server.up = False  # PostgreSQL restarts: every session (and lock) is gone
    assert leader.held() is False
    assert leader.held() is False  # cannot even connect
    server.up = True
    assert leader.held() is True


def test_the_scheduler_sends_nothing_while_standing_by(server, settings):
    settings.IS_POSTGRES = True
    other = beatlock.BeatLeaderLock(server.connect)
    assert other.held()
    scheduler = beatlock.LeaderScheduler.__new__(beatlock.LeaderScheduler)
    scheduler.leader, scheduler._leading = beatlock.BeatLeaderLock(server.connect), None
    with mock.patch("celery.beat.PersistentScheduler.tick", return_value=1.0) as tick:
        assert scheduler.tick() == beatlock.STANDBY_POLL_SECONDS
        assert tick.call_count == 0
        other.release()
        assert scheduler.tick() == 1.0
        assert tick.call_count == 1


def test_the_beat_runs_the_leader_scheduler():
    from goatedvips.celery import app

    assert app.conf.beat_scheduler == "goatedvips.beatlock:LeaderScheduler"
