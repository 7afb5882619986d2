"""The assembled gateway app without calls: retention at start-up, the calls API, the
whisper and after-dial TwiML, metrics and desk routes (signed like Twilio)."""

import datetime as dt
import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from dialogue.core import Dialogue
from dialogue.state import SessionStore
from telephony import server as srv
from telephony.services import Services
from telephony.settings import Settings
from telephony.store import Store
from telephony.twilio.webhook import SIGNATURE_HEADER

TOKEN = "server-test-token"
CALL = "CA" + "4" * 32


@pytest.fixture
def services(content, nlu, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'calls.sqlite3'}")
    with ThreadPoolExecutor(1) as pool:
        # No calls are placed here: recogniser and synthesiser are never touched.
        yield Services(settings=Settings(twilio_auth_token=TOKEN, retention_days=30),
                       content=content, dialogue=Dialogue(content, nlu, SessionStore(":memory:")),
                       recognizer=None, speaker=None, pool=pool, store=store)
        store.close()


def signed(url: str, params: dict | None = None) -> dict:
    return {SIGNATURE_HEADER: RequestValidator(TOKEN).compute_signature(url, params or {})}


def test_retention_purge_runs_at_start_up(services):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    services.store.start_call(CALL, "demodam", "+31612345678", "+31205550100", started_at=old)
    services.store.add_turn(CALL, "caller", "mijn BSN is 111222333")
    with TestClient(srv.build_app(services)):
        # The lifespan starts the purge in the background: wait for it while serving
        # (leaving at once would cancel it, which made this test fail now and then).
        for _ in range(300):
            if services.store.call(CALL).caller is None:
                break
            threading.Event().wait(0.1)
    assert services.store.call(CALL).caller is None
    assert services.store.turns(CALL)[0].text == ""


def test_calls_api_needs_a_signature(services):
    services.store.start_call(CALL, "demodam", None, None)
    services.store.end_call(CALL, "stopped", True)
    with TestClient(srv.build_app(services)) as client:
        url = f"http://testserver/api/calls/{CALL}"
        assert client.get(url).status_code == 403
        response = client.get(url, headers=signed(url))
        assert response.status_code == 200 and response.json()["call"]["ended"]
        unknown = "http://testserver/api/calls/CA" + "5" * 32
        assert client.get(unknown, headers=signed(unknown)).status_code == 404


def test_whisper_and_after_dial_twiml(services):
    app = srv.build_app(services)
    token = app.state.gateway.whispers.add("Beller wil een paspoort aanvragen.")
    with TestClient(app) as client:
        url = f"http://testserver/twilio/whisper/{token}"
        form = {"CallSid": CALL}
        assert client.post(url, data=form).status_code == 403
        said = ET.fromstring(client.post(url, data=form, headers=signed(url, form)).text)
        assert "paspoort" in said.find("Say").text
        url = "http://testserver/twilio/after-dial"
        for status, hangs_up_at_once in (("completed", True), ("no-answer", False)):
            form = {"CallSid": CALL, "DialCallStatus": status}
            root = ET.fromstring(client.post(url, data=form, headers=signed(url, form)).text)
            assert (root.find("Say") is None) == hangs_up_at_once
            assert root.find("Hangup") is not None


def test_metrics_and_desk_are_mounted(services):
    with TestClient(srv.build_app(services), follow_redirects=False) as client:
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and "loket_active_calls" in metrics.text
        assert client.get("/desk").status_code == 303  # to the login page
