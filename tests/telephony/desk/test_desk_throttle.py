"""Login throttling per (account, address) through a real uvicorn started with the
gateway's own config, and X-Forwarded-For believed only from trusted proxies."""

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import httpx
import pytest
from desk_helpers import PASSWORD, login
from support import running

from telephony import server as srv
from telephony.desk import throttle
from telephony.desk.throttle import LoginThrottle
from telephony.settings import Settings

WRONG = "nog-steeds-fout"
OTHER_PEER = "127.0.0.3"  # a loopback address that is not a trusted proxy by default


@contextmanager
def gateway(app, **settings) -> Iterator[str]:
    """`app` on uvicorn with the config `loket gateway` uses, on a free port."""
    config = srv.config(app, SimpleNamespace(settings=Settings(port=0, **settings)))
    config.log_level = "warning"
    with running(config) as port:
        yield f"http://127.0.0.1:{port}"


def client(base: str, forwarded_for: str | None = None,
           source: str | None = None) -> httpx.Client:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    transport = httpx.HTTPTransport(local_address=source) if source else None
    return httpx.Client(base_url=base, headers=headers, transport=transport)


def fail_until_throttled(http: httpx.Client, username: str = "anna") -> httpx.Response:
    """Wrong passwords until the desk asks to wait; returns that answer."""
    for _ in range(throttle.FREE_FAILS + 1):
        response = login(http, username, WRONG)
        if response.status_code == 429:
            return response
        assert response.status_code == 401
    raise AssertionError("never throttled")


def test_right_password_from_another_address_while_one_is_throttled(app):
    with gateway(app) as base:  # the peer, 127.0.0.1, is a trusted proxy by default
        with client(base, "198.51.100.7") as first:
            blocked = fail_until_throttled(first)
            assert int(blocked.headers["retry-after"]) > 0 and "te vaak" in blocked.text
            assert login(first).status_code == 429  # the right password waits here too
        with client(base, "198.51.100.8") as second:
            assert login(second).status_code == 303  # but not at another address
            assert second.get("/desk").status_code == 200


def test_names_are_not_case_folded(app, store):
    store.add_agent("vera", PASSWORD, ["demodam"])
    with gateway(app) as base, client(base) as http:
        fail_until_throttled(http, "VERA")  # no such agent: some guesser
        assert login(http, "vera").status_code == 303


@pytest.mark.parametrize(("trusted", "source"), [
    (None, OTHER_PEER),  # the default trusts 127.0.0.1 and ::1 only
    ((), None),  # LOKET_TRUSTED_PROXIES=none: not even 127.0.0.1
])
def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(app, trusted, source):
    settings = {} if trusted is None else {"trusted_proxies": trusted}
    with gateway(app, **settings) as base:
        with client(base, "203.0.113.1", source) as first:
            fail_until_throttled(first)
        with client(base, "203.0.113.2", source) as spoofed:
            assert login(spoofed).status_code == 429  # still the same peer


def test_a_configured_proxy_is_believed(app):
    with gateway(app, trusted_proxies=(OTHER_PEER,)) as base:
        with client(base, "203.0.113.1", OTHER_PEER) as first:
            fail_until_throttled(first)
        with client(base, "203.0.113.2", OTHER_PEER) as second:
            assert login(second).status_code == 303


def test_delays_grow_and_a_success_resets():
    now = [1000.0]
    limiter = LoginThrottle(clock=lambda: now[0])
    waits = []
    for _ in range(10):
        limiter.failed("anna", "10.0.0.1")
        waits.append(limiter.retry_after("anna", "10.0.0.1"))
    assert waits[:throttle.FREE_FAILS - 1] == [0] * (throttle.FREE_FAILS - 1)
    growing = waits[throttle.FREE_FAILS - 1:]
    assert growing[0] > 0 and growing == sorted(growing) and growing[-1] == 15 * 60
    assert limiter.retry_after("anna", "10.0.0.2") == 0
    assert limiter.retry_after("Anna", "10.0.0.1") == 0
    now[0] += 15 * 60 + 1
    assert limiter.retry_after("anna", "10.0.0.1") == 0  # waited long enough
    limiter.failed("anna", "10.0.0.1")
    assert limiter.retry_after("anna", "10.0.0.1") == 15 * 60  # the count is kept
    limiter.succeeded("anna", "10.0.0.1")
    assert limiter.retry_after("anna", "10.0.0.1") == 0
    limiter.failed("anna", "10.0.0.1")
    assert limiter.retry_after("anna", "10.0.0.1") == 0


def test_memory_stays_bounded_and_keeps_throttled_pairs(monkeypatch):
    monkeypatch.setattr(throttle, "MAX_TRACKED", 50)
    limiter = LoginThrottle(clock=lambda: 1.0)
    for _ in range(throttle.FREE_FAILS):
        limiter.failed("anna", "10.0.0.1")
    for n in range(200):  # a guesser sprays names to push that pair out
        limiter.failed(f"naam{n}", "10.0.0.9")
    assert len(limiter) <= 50
    assert limiter.retry_after("anna", "10.0.0.1") > 0
