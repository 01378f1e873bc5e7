"""The requests-per-minute budget every client of one account shares (``RateBudget``)."""

from __future__ import annotations

import threading
import time


class RateBudget:
    """A requests-per-minute budget shared by every thread of a process for one account.

    Requests are spaced ``60 / per_minute`` seconds apart, so no 60-second window ever holds
    more than ``per_minute`` of them (a burst allowance would let two windows' worth through).

    :param per_minute: the budget; ``None`` or ``0`` means unlimited.
    """

    _shared: dict[str, RateBudget] = {}
    _shared_lock = threading.Lock()

    def __init__(self, per_minute: float | None) -> None:
        self.per_minute = per_minute or 0
        self._interval = 60.0 / self.per_minute if self.per_minute else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, key: str, per_minute: float | None) -> RateBudget:
        """Return the process-wide budget for ``key`` (e.g. an API host and company)."""
        with cls._shared_lock:
            budget = cls._shared.get(key)
            if budget is None or budget.per_minute != (per_minute or 0):
                budget = cls._shared[key] = cls(per_minute)
            return budget

    def reserve(self) -> float:
        """Claim the next slot; return how many seconds the caller must wait for it."""
        if not self._interval:
            return 0.0
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
            return slot - now

    def acquire(self) -> None:
        """Block until the next slot (thread-safe)."""
        wait = self.reserve()
        if wait > 0:
            time.sleep(wait)
