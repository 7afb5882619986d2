"""Retention of every store, end to end: the real server with its stores in one data
directory (call store, dialogue sessions, synthesis cache), a simulated caller, and
`loket purge` run as operators and cron run it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import FIXTURES, ROOT, running

from dialogue.core import Dialogue
from dialogue.state import SessionStore
from dialogue.turns import UserTurn
from telephony import server as srv
from telephony.caller import DEFAULT_CALLER, SimulatedCaller
from telephony.replay import phone_ulaw
from telephony.services import Services
from telephony.settings import Settings
from telephony.store import Store
from voice.tts import Speaker
from voice.tts.cache import AudioCache

pytestmark = pytest.mark.model
TOKEN = "retention-secret-token"
NIGHT = dt.datetime(2026, 12, 6, 22, 0)  # Sunday night: callback requests, no transfers
DEMODAM = "+31205550100"
TYPED = "0612345678"


@contextlib.contextmanager
def gateway(data: Path, whisper, content, nlu) -> Iterator[tuple[Services, str]]:
    """The live server with every store in `data`; yields its services and base URL."""
    settings = Settings(twilio_auth_token=TOKEN, max_call_seconds=300)
    with ThreadPoolExecutor(4) as pool:
        services = Services(
            settings=settings, content=content,
            dialogue=Dialogue(content, nlu, SessionStore(data / "sessions.sqlite3"),
                              clock=lambda: NIGHT),
            recognizer=whisper, speaker=Speaker(cache=AudioCache(data / "tts")), pool=pool,
            store=Store(f"sqlite:///{data / 'loket.sqlite3'}"))
        config = srv.config(srv.build_app(services), services)
        config.port, config.lifespan = 0, "on"
        try:
            with running(config) as port:
                yield services, f"http://127.0.0.1:{port}"
        finally:
            services.store.close()
            services.dialogue.store.close()


def ended(services: Services, call_sid: str):
    for _ in range(300):
        call = services.store.call(call_sid)
        if call is not None and call.ended_at is not None:
            return call
        threading.Event().wait(0.1)
    raise AssertionError(f"call {call_sid} was not stored as ended")


def holding(data: Path, text: str) -> list[str]:
    """The files under `data` whose raw bytes contain `text`."""
    needle = text.encode()
    return [str(f.relative_to(data)) for f in sorted(data.rglob("*"))
            if f.is_file() and needle in f.read_bytes()]


def purge_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOKET_DATA": str(data), "PYTHONPATH": str(ROOT)}
    env.pop("LOKET_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "loket", "purge", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_after_a_purge_no_personal_text_is_left_in_any_file(tmp_path, whisper, content, nlu):
    """A callback request by phone (name by voice, number by keypad); the session is gone
    when the call ends; `loket purge --older-than 0` leaves no trace of the caller's
    number, name or words in any file of the data directory, while the gateway runs."""
    data = tmp_path / "data"
    with gateway(data, whisper, content, nlu) as (services, base):
        async def body():
            async with asyncio.timeout(120):
                async with SimulatedCaller(base, DEMODAM, auth_token=TOKEN, fast=True) as sim:
                    await sim.greeting()
                    await sim.turn(phone_ulaw(FIXTURES / "medewerker_02.wav"))  # an offer
                    await sim.turn(phone_ulaw(FIXTURES / "ja_01.wav"))  # → the name?
                    await sim.turn(phone_ulaw(FIXTURES / "container_01.wav"))  # a "name"
                    await sim.press(TYPED)  # the number
                    await sim.turn(phone_ulaw(FIXTURES / "grofvuil_02.wav"))  # the question
                    return sim

        sim = asyncio.run(body())
        call = ended(services, sim.call_sid)
        assert call.outcome == "callback"
        assert services.dialogue.store.get(sim.call_sid) is None  # deleted at the call's end
        (request,) = [h for h in services.store.open_handovers(["demodam"])
                      if h.call_id == sim.call_sid]
        assert request.data["telefoon"] == TYPED
        said = [t.text for t in services.store.turns(sim.call_sid)
                if t.role == "caller" and len(t.text) > 8]
        personal = [TYPED, DEFAULT_CALLER, request.data["naam"], *said]
        for text in personal:  # the check below can see them
            assert holding(data, text), text

        result = purge_cli(data, "--older-than", "0",
                           "--database", f"sqlite:///{data / 'loket.sqlite3'}")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("purged every finished call: 1 calls and 1 handovers")

        for text in personal:
            assert holding(data, text) == [], text
        call = services.store.call(sim.call_sid)  # the figures stay
        assert call.outcome == "callback" and call.purged_at is not None and call.caller is None
        assert len(services.store.turns(sim.call_sid)) > 5


def test_a_callback_half_given_when_the_process_died_reaches_the_desk(tmp_path, whisper,
                                                                      content, nlu):
    """The process stops while a caller is giving a callback request; at the next start
    the request reaches the desk with what was given, marked incomplete."""
    data = tmp_path / "data"
    data.mkdir()
    sid = "CA" + "7" * 32
    # the first process: the call gets as far as the caller's name, then the process dies
    with Store(f"sqlite:///{data / 'loket.sqlite3'}") as store:
        store.start_call(sid, "demodam", DEFAULT_CALLER, DEMODAM)
    sessions = SessionStore(data / "sessions.sqlite3")
    dialogue = Dialogue(content, nlu, sessions, clock=lambda: NIGHT)
    dialogue.start(sid, "demodam", DEFAULT_CALLER)
    dialogue.respond(sid, UserTurn(text="Ik wil met een mens praten."))
    dialogue.respond(sid, UserTurn(text="Ja graag."))
    dialogue.respond(sid, UserTurn(text="Jan de Vries"))
    sessions.close()

    with gateway(data, whisper, content, nlu) as (services, _base):
        rows = []
        for _ in range(300):  # closed at start-up, before any call
            rows = [h for h in services.store.open_handovers(["demodam"]) if h.call_id == sid]
            if rows:
                break
            threading.Event().wait(0.1)
        assert [(h.kind, h.data) for h in rows] == [("callback", {"naam": "Jan de Vries"})]
        assert "onvolledig" in rows[0].summary
        call = ended(services, sid)
        assert (call.end_reason, call.outcome) == ("interrupted", "callback")
        assert services.dialogue.store.get(sid) is None


def test_purge_command_errors_are_one_line(tmp_path):
    data = tmp_path / "data"
    bad = purge_cli(data, "--database", "not a url")
    assert bad.returncode == 2 and bad.stderr.startswith("error: not a database URL")
    assert "Traceback" not in bad.stderr
    empty = purge_cli(data)
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.strip() == (
        "purged calls older than 30 days: 0 calls and 0 handovers blanked, 0 left-over "
        "sessions removed (0 incomplete callback requests sent to the desk)")
