"""Short-lived copies of shared-cache entries kept in the process that read them.

A page asks the shared cache (Redis in production) for small, rarely edited things on every request: the VIP
ladder, a slot's experiment plan. Each read is a network round trip. A `LocalMemo` keeps what was read for
`seconds` (1 s, as the leaderboard's META_TTL_SECONDS): a change made in this process shows at once (the writer
calls `forget`), one made in another process within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, ClassVar


class LocalMemo:
    _all: ClassVar[list[LocalMemo]] = []
    _registry_lock = threading.Lock()

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._items: dict[Hashable, tuple[float, Any]] = {}
        with LocalMemo._registry_lock:
            LocalMemo._all.append(self)

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """The value kept for `key` while fresh, else `load()` (kept from now on)."""
        now, held = time.monotonic(), self._items.get(key)
        if held is not None and now - held[0] < self.seconds:
            return held[1]
        value = load()
        self._items[key] = (now, value)
        return value

    def forget(self, key: Hashable | None = None) -> None:
        """Drop one key (or all of them): the next `get` loads again."""
        if key is None:
            self._items.clear()
        else:
            self._items.pop(key, None)

    @classmethod
    def forget_all(cls) -> None:
        """Every memo of the process (tests: each starts from the database it made)."""
        for memo in list(cls._all):
            memo.forget()
