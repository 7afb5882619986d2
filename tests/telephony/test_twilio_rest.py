import asyncio
import base64
import logging
import socket
import time
import xml.etree.ElementTree as ET

import pytest

from telephony.errors import TelephonyError, TwilioApiError
from telephony.settings import Settings
from telephony.twilio.rest import TwilioRest
from telephony.twilio.simapi import SimulatedTwilioApi as FakeTwilioApi
from telephony.twilio.webhook import (
    TRANSFER_ANNOUNCEMENT_NL,
    TRANSFER_FALLBACK_NL,
    after_dial_twiml,
    transfer_target_kind,
    transfer_twiml,
    whisper_twiml,
)

SID = "AC" + "a1" * 16
TOKEN = "twilio-auth-token-0123456789abcd"
CALL = "CA" + "0123456789abcdef" * 2
OTHER = "CA" + "f" * 32
AGENT = "+31207001234"
WHISPER = "https://loket.example.nl/twilio/whisper?call=CA1&x=1"


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # never through a proxy from the environment
    with FakeTwilioApi(SID, TOKEN) as fake:
        fake.add_call(CALL)
        yield fake


@pytest.fixture
def rest(api):
    return TwilioRest(SID, TOKEN, api_url=api.url, timeout_s=2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- TwiML builders ----------------------------------------------------------------------------

def test_transfer_twiml_to_a_number_whispers_to_the_agent():
    root = ET.fromstring(transfer_twiml(AGENT, WHISPER, caller_id="+31851234567", timeout_s=25))
    assert [el.tag for el in root] == ["Say", "Dial", "Say", "Hangup"]
    say, dial, fallback, _ = root
    assert (say.text, say.get("language")) == (TRANSFER_ANNOUNCEMENT_NL, "nl-NL")
    assert dial.attrib == {"callerId": "+31851234567", "timeout": "25"}
    [number] = dial
    assert (number.tag, number.text, number.attrib) == ("Number", AGENT, {"url": WHISPER})
    assert (fallback.text, fallback.get("language")) == (TRANSFER_FALLBACK_NL, "nl-NL")
    assert "kantoortijden" in fallback.text


def test_transfer_twiml_to_a_sip_address():
    target = "sip:kcc@sip.demodam.nl;transport=tls"
    root = ET.fromstring(transfer_twiml(target, WHISPER, announcement="Een moment.",
                                        action="https://loket.example.nl/twilio/dial"))
    dial = root.find("Dial")
    assert dial.attrib == {"timeout": "30", "action": "https://loket.example.nl/twilio/dial"}
    [sip] = dial
    assert (sip.tag, sip.text, sip.attrib) == ("Sip", target, {"url": WHISPER})
    assert root.find("Say").text == "Een moment."


def test_transfer_twiml_without_whisper():
    [number] = ET.fromstring(transfer_twiml(AGENT, None)).find("Dial")
    assert number.attrib == {}


@pytest.mark.parametrize("target", ["0207001234", "+0207001234", "31207001234", "tel:+3120700",
                                    "sip:", "sip:kcc@", "http://kcc.example.nl", "", "+31 20 700"])
def test_invalid_transfer_target(target):
    with pytest.raises(ValueError, match=r"E\.164"):
        transfer_twiml(target, WHISPER)


@pytest.mark.parametrize(("target", "kind"), [
    (AGENT, "number"), ("sip:kcc@sip.demodam.nl", "sip"), ("sips:kcc@sip.demodam.nl:5061", "sip"),
    ("SIP:sip.demodam.nl", "sip"),
])
def test_transfer_target_kinds(target, kind):
    assert transfer_target_kind(target) == kind


def test_whisper_twiml_is_what_the_agent_hears():
    root = ET.fromstring(whisper_twiml(" Beller vraagt naar een paspoort & rijbewijs. "))
    [say] = root
    assert say.get("language") == "nl-NL"
    assert say.text == ("Doorverbonden beller van Loket. "
                        "Beller vraagt naar een paspoort & rijbewijs.")


@pytest.mark.parametrize(("status", "fallback"), [
    ("completed", False), ("answered", False), ("no-answer", True), ("busy", True),
    ("failed", True), ("canceled", True),
])
def test_after_dial(status, fallback):
    root = ET.fromstring(after_dial_twiml(status))
    assert [el.tag for el in root] == (["Say", "Hangup"] if fallback else ["Hangup"])


# -- REST API ----------------------------------------------------------------------------------

def test_redirect_sends_the_exact_request(api, rest):
    twiml = transfer_twiml(AGENT, WHISPER)
    rest.redirect(CALL, twiml)
    [req] = api.requests
    assert req.method == "POST"
    assert req.path == f"/2010-04-01/Accounts/{SID}/Calls/{CALL}.json"
    expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert req.headers["Authorization"] == expected
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert req.headers["Accept"] == "application/json"
    assert req.form == {"Twiml": [twiml]}
    assert api.calls[CALL].twiml == [twiml]


def test_redirect_to_a_sip_address(api, rest):
    twiml = transfer_twiml("sip:kcc@sip.demodam.nl", WHISPER)
    rest.redirect(CALL, twiml)
    [twiml_sent] = api.requests[0].form["Twiml"]
    sip = ET.fromstring(twiml_sent).find("Dial/Sip")
    assert (sip.text, sip.get("url")) == ("sip:kcc@sip.demodam.nl", WHISPER)


def test_hangup(api, rest):
    rest.hangup(CALL)
    [req] = api.requests
    assert req.path.endswith(f"/Calls/{CALL}.json")
    assert req.form == {"Status": ["completed"]}
    assert api.calls[CALL].status == "completed"


def test_unknown_call_is_one_clear_error(api, rest):
    with pytest.raises(TwilioApiError) as err:
        rest.hangup(OTHER)
    assert str(err.value) == f"Twilio API: call {OTHER} not found (404, code 20404)"
    assert isinstance(err.value, TelephonyError)


def test_ended_call_cannot_be_redirected(api, rest):
    rest.hangup(CALL)
    with pytest.raises(TwilioApiError, match=r"Cannot redirect\. \(400, code 21220\)$") as err:
        rest.redirect(CALL, transfer_twiml(AGENT, None))
    assert "\n" not in str(err.value)


def test_bad_credentials(api):
    with pytest.raises(TwilioApiError, match=r"authentication failed.*\(401, code 20003\)"):
        TwilioRest(SID, "wrong-token", api_url=api.url).hangup(CALL)


def test_errors_never_show_a_phone_number(api, rest, caplog):
    caplog.set_level(logging.DEBUG)
    api.fail_next(400, 21210, "The source phone number provided, +31612345678, is not yet "
                              "verified for your account.\nVerify it first.")
    with pytest.raises(TwilioApiError) as err:
        rest.redirect(CALL, transfer_twiml(AGENT, None, caller_id="+31612345678"))
    message = str(err.value)
    assert message.startswith(f"Twilio API: redirect call {CALL} failed: The source phone")
    assert message.endswith("Verify it first. (400, code 21210)")
    assert "[telefoon]" in message and "\n" not in message
    assert "612345678" not in message + caplog.text


def test_server_not_listening_fails_fast():
    rest = TwilioRest(SID, TOKEN, api_url=f"http://127.0.0.1:{_free_port()}", timeout_s=2)
    start = time.monotonic()
    with pytest.raises(TwilioApiError, match=r"cannot reach http://127\.0\.0\.1:\d+ \("):
        rest.hangup(CALL)
    assert time.monotonic() - start < 2


def test_slow_api_times_out(api):
    api.delay_s = 2.0
    rest = TwilioRest(SID, TOKEN, api_url=api.url, timeout_s=0.2)
    start = time.monotonic()
    with pytest.raises(TwilioApiError, match=r"no answer from .* within 0\.2 s"):
        rest.hangup(CALL)
    assert time.monotonic() - start < 1.5  # the client gave up; the server would answer at 2 s


def test_bad_call_sid_and_twiml_are_refused_before_any_request(api, rest):
    with pytest.raises(ValueError, match="call SID"):
        rest.hangup("CA../../Accounts")
    with pytest.raises(ValueError, match="4000"):
        rest.redirect(CALL, "<Response>" + "x" * 4000 + "</Response>")
    assert api.requests == []


def test_async_wrappers_do_not_block_the_loop(api, rest):
    api.delay_s = 0.3
    api.add_call(OTHER)

    async def scenario() -> int:
        ticks = 0
        done = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        await asyncio.gather(rest.aredirect(CALL, transfer_twiml(AGENT, WHISPER)),
                             rest.ahangup(OTHER))
        done.set()
        await task
        return ticks

    ticks = asyncio.run(scenario())
    assert ticks >= 10  # the loop kept running while the requests waited (~30 ticks)
    assert api.max_in_flight == 2  # and the two ran side by side
    assert api.calls[CALL].twiml and api.calls[OTHER].status == "completed"


def test_async_errors_are_the_same(api, rest):
    with pytest.raises(TwilioApiError, match="not found"):
        asyncio.run(rest.ahangup(OTHER))


def test_from_settings(api):
    assert TwilioRest.from_settings(Settings()) is None
    assert TwilioRest.from_settings(Settings(twilio_account_sid=SID)) is None
    rest = TwilioRest.from_settings(Settings(twilio_account_sid=SID, twilio_auth_token=TOKEN,
                                             twilio_api_url=api.url))
    assert rest is not None and rest.api_url == api.url
    rest.hangup(CALL)
    assert len(api.requests) == 1
    default = TwilioRest.from_settings(Settings(twilio_account_sid=SID, twilio_auth_token=TOKEN))
    assert default is not None and default.api_url == "https://api.twilio.com"


def test_missing_credentials_or_bad_url():
    with pytest.raises(TwilioApiError, match="auth token"):
        TwilioRest(SID, "")
    with pytest.raises(TwilioApiError, match="http"):
        TwilioRest(SID, TOKEN, api_url="ftp://127.0.0.1")
