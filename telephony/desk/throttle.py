"""Login throttling for the desk: growing delays per (account, address), in memory.

Failed logins are counted per exact username and client address together. A few
failures are free; after that each further try must wait, and the wait doubles with
every failure up to `MAX_DELAY_S`. A right password resets the count for that pair.

So a wrong guess never locks an agent out: the same agent on another address, another
agent behind the same proxy address, and "vera" next to "VERA" (two accounts) each have
their own count. An attacker is slowed per pair instead; `FAIL_DELAY_S` in the routes
adds a short wait to every failure on top.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILS = 3  # failures before any wait
FIRST_DELAY_S = 15.0  # the wait after failure FREE_FAILS; it doubles after each next one
MAX_DELAY_S = 15 * 60.0
FORGET_S = 24 * 60 * 60  # a pair without failures this long starts again at zero
MAX_TRACKED = 10_000  # pairs kept; beyond this the oldest are forgotten


@dataclass
class _Fails:
    count: int
    last: float  # monotonic time of the latest failure


def delay(count: int) -> float:
    """Seconds to wait after `count` failures in a row: 0, 0, 15, 30, 60, ... up to 15 min."""
    if count < FREE_FAILS:
        return 0.0
    return min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (count - FREE_FAILS))


class LoginThrottle:
    """Failed logins per (username, client address)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._fails: dict[tuple[str, str], _Fails] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._fails)

    def retry_after(self, username: str, client: str) -> int:
        """Whole seconds until this name may try again from this address; 0 when it may now."""
        now = self._clock()
        with self._lock:
            fails = self._fails.get((username, client))
            if fails is None:
                return 0
            if now - fails.last > FORGET_S:
                del self._fails[(username, client)]
                return 0
            left = fails.last + delay(fails.count) - now
        return max(0, int(left + 0.999))

    def failed(self, username: str, client: str) -> None:
        now = self._clock()
        key = (username, client)
        with self._lock:
            fails = self._fails.get(key)
            if fails is None or now - fails.last > FORGET_S:
                if len(self._fails) >= MAX_TRACKED:
                    self._prune(now)
                self._fails[key] = _Fails(1, now)
            else:
                fails.count += 1
                fails.last = now

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._fails.pop((username, client), None)

    def _prune(self, now: float) -> None:
        for key in [k for k, f in self._fails.items() if now - f.last > FORGET_S]:
            del self._fails[key]
        if len(self._fails) >= MAX_TRACKED:  # still full: forget half, unthrottled pairs first
            order = sorted(self._fails, key=lambda k: (self._fails[k].count >= FREE_FAILS,
                                                       self._fails[k].last))
            for key in order[:MAX_TRACKED // 2]:
                del self._fails[key]
