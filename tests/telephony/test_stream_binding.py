"""The live server (store, metrics, desk) with signatures on: a media stream that does not
bring a fresh token from its own call's voice webhook is refused before it becomes a call.
No call is ever admitted here, so recogniser and synthesiser are never touched."""

import asyncio
import contextlib
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support import running
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from dialogue.core import Dialogue
from dialogue.state import SessionStore
from telephony import server as srv
from telephony.services import Services
from telephony.settings import Settings
from telephony.store import Store
from telephony.twilio.protocol import Connected, Start, to_json
from telephony.twilio.webhook import SIGNATURE_HEADER

TOKEN = "binding-test-token"
ACCOUNT = "AC" + "0" * 32
CALLER = "+31612345678"
DEMODAM = "+31205550100"
REAL = "CA" + "1" * 32  # a call that had its webhook
FAKE = "CA" + "2" * 32  # a call SID the attacker made up


@pytest.fixture(scope="module")
def services(content, nlu, tmp_path_factory) -> Iterator[Services]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('binding') / 'calls.sqlite3'}")
    with ThreadPoolExecutor(1) as pool:
        yield Services(settings=Settings(twilio_auth_token=TOKEN), content=content,
                       dialogue=Dialogue(content, nlu, SessionStore(":memory:")),
                       recognizer=None, speaker=None, pool=pool, store=store)
        store.close()


@pytest.fixture(scope="module")
def base(services) -> Iterator[str]:
    config = srv.config(srv.build_app(services), services)
    config.port, config.lifespan = 0, "on"
    with running(config) as port:
        yield f"http://127.0.0.1:{port}"


def sign(url: str, params: dict[str, str]) -> dict[str, str]:
    return {SIGNATURE_HEADER: RequestValidator(TOKEN).compute_signature(url, params)}


def webhook(base: str, call_sid: str) -> dict[str, str]:
    """A signed voice webhook, as Twilio posts it; the stream's parameters in the TwiML."""
    url = f"{base}/twilio/voice"
    form = {"CallSid": call_sid, "AccountSid": ACCOUNT, "From": CALLER, "To": DEMODAM}
    response = httpx.post(url, data=form, headers=sign(url, form))
    assert response.status_code == 200
    stream = ET.fromstring(response.text).find("./Connect/Stream")
    return {p.get("name"): p.get("value") for p in stream.iter("Parameter")}


def open_stream(base: str, call_sid: str, params: dict[str, str]) -> int | None:
    """A stream with a valid (captured) handshake signature; the close code."""
    url = base.replace("http://", "ws://") + "/twilio/media"
    start = Start("MZ" + call_sid[2:], call_sid, ACCOUNT, custom_parameters=params,
                  sequence_number=1)

    async def call() -> int | None:
        async with asyncio.timeout(20), connect(url, additional_headers=sign(url, {})) as ws:
            await ws.send(to_json(Connected()))
            await ws.send(to_json(start))
            with contextlib.suppress(ConnectionClosed):
                async for _ in ws:
                    pass
            return ws.close_code

    return asyncio.run(call())


def test_forged_streams_make_no_call(base, services, caplog):
    forged = {"call_id": FAKE, "municipality": "demodam", "caller": CALLER, "called": DEMODAM}
    real = webhook(base, REAL)
    assert list(real) == ["token"]  # the TwiML names no municipality or caller
    attempts = [
        (FAKE, forged),  # parameters as the old TwiML had them, no token
        (FAKE, {**forged, "token": real["token"]}),  # another call's token
    ]
    with caplog.at_level(logging.INFO, logger="telephony"):
        codes = [open_stream(base, sid, params) for sid, params in attempts]
    assert codes == [1008, 1008]
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 2 and "31612345678" not in caplog.text
    assert "started" not in caplog.text  # no call began
    assert services.store.call(FAKE) is None and services.store.call(REAL) is None
    assert services.store.open_handovers(["demodam"]) == []
    metrics = services.metrics.registry
    assert metrics.get_sample_value("loket_active_calls") == 0
    assert sum(metrics.get_sample_value("loket_calls_total", {"outcome": o}) or 0
               for o in ("contained", "transferred", "callback", "abandoned", "error")) == 0
