"""core.memo.LocalMemo: what a process keeps of the shared cache for a second."""

from __future__ import annotations

from core.memo import LocalMemo


def test_a_value_is_loaded_once_while_fresh_and_again_once_forgotten_or_stale():
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    memo = LocalMemo(60.0)
    assert [memo.get("k", load), memo.get("k", load)] == [1, 1]
    assert memo.get("other", load) == 2  # each key on its own
    memo.forget("k")
    assert memo.get("k", load) == 3
    assert memo.get("other", load) == 2  # forgetting one key keeps the others
    LocalMemo.forget_all()
    assert memo.get("other", load) == 4
    memo.seconds = 0.0  # stale at once: every get loads
    assert [memo.get("k", load), memo.get("k", load)] == [5, 6]
