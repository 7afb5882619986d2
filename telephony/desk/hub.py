"""Wakes the desk's live streams when handovers change.

`DeskHub.notify(municipality)` may be called from any thread or from the event loop. Each
subscriber (one server-sent-events stream) remembers its own event loop, so a wake-up from
another thread goes through `loop.call_soon_threadsafe`. Subscriptions end with their
``with`` block, also when the stream is cancelled because the browser went away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator

log = logging.getLogger(__name__)


class Subscription:
    """One live stream's interest in some municipalities."""

    def __init__(self, municipalities: Iterable[str], loop: asyncio.AbstractEventLoop) -> None:
        self.municipalities = frozenset(municipalities)
        self.loop = loop
        self._event = asyncio.Event()

    def wake(self) -> None:
        """Set the event; call on this subscription's loop only."""
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """True when woken within `timeout` seconds (the flag is then cleared)."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class DeskHub:
    """Fan-out of 'this municipality's handovers changed' to the live streams."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self.closed = False

    def __len__(self) -> int:
        with self._lock:
            return len(self._subs)

    @contextlib.contextmanager
    def subscribe(self, municipalities: Iterable[str]) -> Iterator[Subscription]:
        """Subscribe for the ``with`` block; call from a coroutine (records its loop)."""
        sub = Subscription(municipalities, asyncio.get_running_loop())
        with self._lock:
            self._subs.add(sub)
        try:
            yield sub
        finally:
            with self._lock:
                self._subs.discard(sub)

    def retarget(self, sub: Subscription, municipalities: Iterable[str]) -> None:
        """Change what a subscription listens to (an agent's municipalities changed)."""
        sub.municipalities = frozenset(municipalities)

    def notify(self, municipality: str) -> None:
        """Wake every stream that shows `municipality`; safe from any thread."""
        self._wake(lambda sub: municipality in sub.municipalities)

    def close(self) -> None:
        """Wake every stream so it ends (server shutdown); later streams end at once."""
        self.closed = True
        self._wake(lambda sub: True)

    def _wake(self, wanted: Callable[[Subscription], bool]) -> None:
        with self._lock:
            subs = [s for s in self._subs if wanted(s)]
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for sub in subs:
            if sub.loop is running:
                sub.wake()
                continue
            try:
                sub.loop.call_soon_threadsafe(sub.wake)
            except RuntimeError:  # that loop is closed: its stream is gone
                log.debug("desk stream on a closed event loop skipped")
