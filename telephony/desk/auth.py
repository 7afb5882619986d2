"""Desk sessions and CSRF tokens, all in this process's memory (throttling: throttle.py).

A session cookie holds a random token; the server keeps only its SHA-256, so looking a
session up takes no secret-dependent time. Sessions end after `IDLE_S` without use, after
`MAX_S` in all, on logout, and when the agent's password changes or the agent is removed
(see `Session.fingerprint`). The gateway runs as one process, so memory is enough: a
restart logs everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

IDLE_S = 60 * 60  # one hour without a request
MAX_S = 12 * 60 * 60  # a long working day
MAX_SESSIONS = 10_000


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def fingerprint(password_hash: str) -> str:
    """A short tag of an agent's password hash: changes when the password does."""
    return _digest(password_hash)[:16]


def tokens_match(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a submitted token with the expected one."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@dataclass
class Session:
    username: str
    fingerprint: str  # of the password hash at login
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    created: float = field(default_factory=time.monotonic)
    seen: float = field(default_factory=time.monotonic)

    def expired(self, now: float) -> bool:
        return now - self.seen > IDLE_S or now - self.created > MAX_S


class Sessions:
    """Logged-in agents by cookie token."""

    def __init__(self) -> None:
        self._by_digest: dict[str, Session] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_digest)

    def create(self, username: str, password_hash: str) -> tuple[str, Session]:
        """A new session; returns the cookie token (never stored) and the session."""
        token = secrets.token_urlsafe(32)
        session = Session(username, fingerprint(password_hash))
        now = time.monotonic()
        with self._lock:
            self._prune(now)
            if len(self._by_digest) >= MAX_SESSIONS:  # drop the oldest
                oldest = min(self._by_digest, key=lambda d: self._by_digest[d].seen)
                del self._by_digest[oldest]
            self._by_digest[_digest(token)] = session
        return token, session

    def get(self, token: str | None, *, touch: bool = True) -> Session | None:
        """The live session for a cookie token, or None."""
        if not token or len(token) > 128:
            return None
        key = _digest(token)
        now = time.monotonic()
        with self._lock:
            session = self._by_digest.get(key)
            if session is None:
                return None
            if session.expired(now):
                del self._by_digest[key]
                return None
            if touch:
                session.seen = now
            return session

    def end(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._by_digest.pop(_digest(token), None)

    def end_agent(self, username: str) -> None:
        """Log an agent out everywhere."""
        with self._lock:
            for key in [k for k, s in self._by_digest.items() if s.username == username]:
                del self._by_digest[key]

    def _prune(self, now: float) -> None:
        for key in [k for k, s in self._by_digest.items() if s.expired(now)]:
            del self._by_digest[key]
