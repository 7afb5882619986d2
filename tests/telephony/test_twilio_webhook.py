import logging
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from dialogue.content.loader import load_content
from telephony.app import create_app
from telephony.errors import TelephonyError
from telephony.settings import Settings
from telephony.twilio.tickets import CallTicket
from telephony.twilio.webhook import (
    UNKNOWN_NUMBER_NL,
    signature_ok,
    signed_urls,
    unknown_number_twiml,
    voice_twiml,
    websocket_url,
)

TOKEN = "12345678901234567890123456789012"
CALL = "CA5123456789abcdef0123456789abcdef"
CALLER = "+31612345678"
DEMODAM = "+31205550100"
VOORBEELDRIJK = "+31305550200"


@pytest.fixture(scope="module")
def content():
    return load_content()


def _client(content, status_sink=None, **settings) -> TestClient:
    settings = {"twilio_auth_token": TOKEN, **settings}
    return TestClient(create_app(Settings(**settings), content, status_sink=status_sink))


def _call(to: str = DEMODAM, **extra: str) -> dict[str, str]:
    return {"CallSid": CALL, "AccountSid": "AC" + "0" * 32, "From": CALLER, "To": to,
            "CallStatus": "ringing", "Direction": "inbound", **extra}


def _post(client: TestClient, path: str, params: dict, url: str | None = None,
          signature: str | None = "sign"):
    """POST form fields; signature='sign' signs them for `url` (default: the request URL)."""
    headers = {}
    if signature == "sign":
        signed = url or f"http://testserver{path}"
        headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(signed, params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, data=params, headers=headers)


def _stream(twiml: str) -> tuple[str, dict[str, str]]:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    (connect,) = root
    assert connect.tag == "Connect"
    (stream,) = connect
    assert stream.tag == "Stream"
    params = {p.get("name"): p.get("value") for p in stream.iter("Parameter")}
    return stream.get("url"), params


# --- the TwiML and signature helpers ---------------------------------------------------


def test_voice_twiml_connects_a_stream_with_parameters():
    twiml = voice_twiml("wss://loket.example.nl/twilio/media",
                        {"call_id": CALL, "municipality": "demodam", "caller": "a&b<c>\""})
    url, params = _stream(twiml)
    assert url == "wss://loket.example.nl/twilio/media"
    assert params == {"call_id": CALL, "municipality": "demodam", "caller": "a&b<c>\""}


def test_unknown_number_twiml_apologises_in_dutch_and_hangs_up():
    root = ET.fromstring(unknown_number_twiml())
    assert [el.tag for el in root] == ["Say", "Hangup"]
    say = root.find("Say")
    assert say.get("language") == "nl-NL"
    assert say.text == UNKNOWN_NUMBER_NL and "Excuses" in say.text


def test_websocket_url():
    assert websocket_url("https://loket.example.nl/twilio/media") == \
        "wss://loket.example.nl/twilio/media"
    assert websocket_url("http://127.0.0.1:8080/twilio/media") == \
        "ws://127.0.0.1:8080/twilio/media"
    with pytest.raises(ValueError):
        websocket_url("ftp://x/y")


def test_signed_urls_put_the_public_url_first():
    assert signed_urls("http://10.0.0.5:8080/twilio/voice?x=1", "https://loket.example.nl") == [
        "https://loket.example.nl/twilio/voice?x=1", "http://10.0.0.5:8080/twilio/voice?x=1"]
    assert signed_urls("http://testserver/twilio/voice", None) == [
        "http://testserver/twilio/voice"]


def test_signature_ok():
    url = "https://loket.example.nl/twilio/voice"
    params = _call()
    good = RequestValidator(TOKEN).compute_signature(url, params)
    assert signature_ok(TOKEN, [url], params, good)
    assert signature_ok(TOKEN, ["http://other/", url], params, good)
    assert not signature_ok(TOKEN, [url], {**params, "From": "+31611111111"}, good)
    assert not signature_ok("another-token", [url], params, good)
    assert not signature_ok(TOKEN, [url], params, None)
    assert not signature_ok(TOKEN, [url], params, "")
    # the SDK's port tolerance: Twilio may sign with or without the default port
    assert signature_ok(TOKEN, ["https://loket.example.nl:443/twilio/voice"], params, good)


# --- POST /twilio/voice ----------------------------------------------------------------


def _ticket(client: TestClient, twiml: str, call_sid: str = CALL) -> CallTicket:
    """What the server kept for the stream of this TwiML (its only parameter is a token)."""
    _, params = _stream(twiml)
    assert list(params) == ["token"]
    return client.app.state.tickets.redeem(params["token"], call_sid)


def test_signed_call_gets_a_stream_to_its_municipality(content):
    client = _client(content)
    response = _post(client, "/twilio/voice", _call())
    assert response.status_code == 200
    assert "xml" in response.headers["content-type"]
    url, _ = _stream(response.text)
    assert url == "ws://testserver/twilio/media"
    assert _ticket(client, response.text) == CallTicket(CALL, "demodam", CALLER, DEMODAM)


def test_second_municipality_by_called_number(content):
    client = _client(content)
    response = _post(client, "/twilio/voice", _call(to=VOORBEELDRIJK))
    assert _ticket(client, response.text).municipality == "voorbeeldrijk"


def test_public_url_is_what_twilio_signed_and_gives_wss(content):
    client = _client(content, public_url="https://loket.example.nl")
    response = _post(client, "/twilio/voice", _call(),
                     url="https://loket.example.nl/twilio/voice")
    assert response.status_code == 200
    assert _stream(response.text)[0] == "wss://loket.example.nl/twilio/media"
    # the server's own URL still validates (direct access without the proxy)
    assert _post(client, "/twilio/voice", _call()).status_code == 200
    # a plain-http public URL streams over ws://
    client = _client(content, public_url="http://loket.local:8080")
    response = _post(client, "/twilio/voice", _call(), url="http://loket.local:8080/twilio/voice")
    assert _stream(response.text)[0] == "ws://loket.local:8080/twilio/media"


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", "wrong"])
def test_missing_or_bad_signature_is_forbidden(content, signature):
    response = _post(_client(content), "/twilio/voice", _call(), signature=signature)
    assert response.status_code == 403


def test_signature_over_other_fields_or_url_is_forbidden(content):
    client = _client(content)
    params = _call()
    signature = RequestValidator(TOKEN).compute_signature(
        "http://testserver/twilio/voice", params)
    tampered = {**params, "To": VOORBEELDRIJK}
    response = client.post("/twilio/voice", data=tampered,
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    response = _post(client, "/twilio/voice", params, url="https://elsewhere.example/x")
    assert response.status_code == 403


def test_disabled_checking_accepts_unsigned_requests(content):
    client = _client(content, validate_signature=False, twilio_auth_token=None)
    response = _post(client, "/twilio/voice", _call(), signature=None)
    assert response.status_code == 200
    assert _ticket(client, response.text).municipality == "demodam"


def test_checking_without_a_token_refuses_to_start(content):
    with pytest.raises(TelephonyError, match="TWILIO_AUTH_TOKEN"):
        create_app(Settings(), content)


@pytest.mark.parametrize("to", ["+31101234567", ""])
def test_unknown_called_number_gets_the_apology(content, to, caplog):
    with caplog.at_level(logging.INFO, logger="telephony"):
        response = _post(_client(content), "/twilio/voice", _call(to=to))
    assert response.status_code == 200
    assert response.text == unknown_number_twiml()
    assert "31101234567" not in caplog.text and "31612345678" not in caplog.text


def test_call_without_callsid_is_a_bad_request(content):
    params = _call()
    del params["CallSid"]
    assert _post(_client(content), "/twilio/voice", params).status_code == 400


# --- POST /twilio/status, GET /health --------------------------------------------------


def test_status_goes_to_the_sink(content):
    seen: list[dict[str, str]] = []
    client = _client(content, status_sink=seen.append)
    params = _call(CallStatus="completed", CallDuration="42")
    response = _post(client, "/twilio/status", params)
    assert response.status_code == 204
    assert seen == [params]


def test_async_status_sink(content):
    seen: list[dict[str, str]] = []

    async def sink(fields: dict[str, str]) -> None:
        seen.append(fields)

    response = _post(_client(content, status_sink=sink), "/twilio/status", _call())
    assert response.status_code == 204 and seen[0]["CallSid"] == CALL


def test_status_needs_a_signature(content):
    seen: list[dict[str, str]] = []
    client = _client(content, status_sink=seen.append)
    assert _post(client, "/twilio/status", _call(), signature=None).status_code == 403
    assert seen == []


def test_status_without_sink_is_logged_without_numbers(content, caplog):
    with caplog.at_level(logging.INFO, logger="telephony"):
        params = _call(CallStatus="completed", CallDuration="42")
        assert _post(_client(content), "/twilio/status", params).status_code == 204
    assert "completed" in caplog.text and CALL in caplog.text
    assert "31612345678" not in caplog.text and "205550100" not in caplog.text


def test_failing_sink_is_a_500_and_a_redacted_log_line(content, caplog):
    def sink(fields: dict[str, str]) -> None:
        raise RuntimeError(f"cannot store call from {fields['From']}")

    with caplog.at_level(logging.INFO, logger="telephony"):
        response = _post(_client(content, status_sink=sink), "/twilio/status", _call())
    assert response.status_code == 500
    assert "status sink failed" in caplog.text and "31612345678" not in caplog.text


def test_health(content):
    response = _client(content).get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_oversized_webhook_body_is_refused(content):
    response = _client(content).post("/twilio/voice", data={"CallSid": CALL, "x": "y" * 70_000})
    assert response.status_code == 413
