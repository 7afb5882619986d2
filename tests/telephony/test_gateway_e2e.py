"""End-to-end calls: the real server on 127.0.0.1, a simulated caller acting like Twilio,
the real recogniser, dialogue, synthesiser and SQLite store; Twilio's REST API is the local
simulated one. Assertions are on what was understood and done, not on exact words."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support import FIXTURES, running
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from dialogue.core import Dialogue
from dialogue.state import SessionStore
from telephony import server as srv
from telephony.caller import CallerError, SimulatedCaller
from telephony.outcome import OUTCOMES
from telephony.replay import phone_ulaw
from telephony.services import Services
from telephony.settings import Settings
from telephony.store import Store
from telephony.twilio import protocol
from telephony.twilio.protocol import Connected, Start
from telephony.twilio.rest import TwilioRest
from telephony.twilio.simapi import SimulatedTwilioApi
from voice.tts import Speaker
from voice.tts.cache import AudioCache

pytestmark = pytest.mark.model
ACCOUNT = "AC" + "1" * 32
TOKEN = "e2e-secret-token"
OPEN = dt.datetime(2026, 12, 8, 10, 0)  # Tuesday morning: agents take transfers
NIGHT = dt.datetime(2026, 12, 6, 22, 0)  # Sunday night: callbacks only
DEMODAM = "+31205550100"
VOORBEELDRIJK = "+31305550200"
TIMEOUT = 120


class Clock:
    def __init__(self) -> None:
        self.now = OPEN

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(scope="module")
def api() -> Iterator[SimulatedTwilioApi]:
    with SimulatedTwilioApi(ACCOUNT, TOKEN, any_call=True) as fake:
        yield fake


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def services(whisper, content, nlu, api, clock, tmp_path_factory) -> Iterator[Services]:
    tmp = tmp_path_factory.mktemp("gateway")
    settings = Settings(twilio_account_sid=ACCOUNT, twilio_auth_token=TOKEN,
                        twilio_api_url=api.url, max_call_seconds=300)
    with ThreadPoolExecutor(4) as pool:
        s = Services(settings=settings, content=content,
                     dialogue=Dialogue(content, nlu, SessionStore(":memory:"), clock=clock),
                     recognizer=whisper, speaker=Speaker(cache=AudioCache(tmp / "tts")),
                     pool=pool, store=Store(f"sqlite:///{tmp / 'calls.sqlite3'}"),
                     rest=TwilioRest(ACCOUNT, TOKEN, api_url=api.url))
        s.warm_up()
        yield s
        s.store.close()


@pytest.fixture(scope="module")
def base(services) -> Iterator[str]:
    config = srv.config(srv.build_app(services), services)
    config.port, config.lifespan = 0, "on"
    with running(config) as port:
        services.settings = dataclasses.replace(services.settings, port=port)
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def _office_open(clock):
    clock.now = OPEN


def clip(name: str) -> bytes:
    return phone_ulaw(FIXTURES / name)


def run(coro):
    async def bounded():
        async with asyncio.timeout(TIMEOUT):
            return await coro

    return asyncio.run(bounded())


def caller(base: str, to: str = DEMODAM, token: str = TOKEN) -> SimulatedCaller:
    return SimulatedCaller(base, to, auth_token=token, account_sid=ACCOUNT, fast=True)


def stored(services: Services, call_sid: str, timeout: float = 15.0):
    """The call's row once the gateway has stored its end."""
    for _ in range(int(timeout / 0.1)):
        call = services.store.call(call_sid)
        if call is not None and call.ended_at is not None:
            return call
        threading.Event().wait(0.1)
    raise AssertionError(f"call {call_sid} was not stored as ended")


def handovers_of(services: Services, call_sid: str):
    """The open handovers (transfers, callback requests) of one demodam call."""
    return [h for h in services.store.open_handovers(["demodam"]) if h.call_id == call_sid]


def loket_turns(services: Services, call_sid: str):
    return [t for t in services.store.turns(call_sid) if t.role == "loket"]


def test_greeting_then_a_question_answered_and_stored(base, services):
    async def body():
        async with caller(base) as sim:
            await sim.greeting()
            turn = await sim.turn(clip("grofvuil_02.wav"), "grofvuil_02")
            for _ in range(100):  # each turn is stored once played, before the call ends
                if len(loket_turns(services, sim.call_sid)) == 1:
                    break
                await asyncio.sleep(0.05)
            assert loket_turns(services, sim.call_sid)[0].text.startswith("Goedendag")
            return sim, turn

    sim, turn = run(body())
    result = sim.result
    assert result.greeting_s is not None and result.frames_received > 100
    assert result.marks_answered >= 2  # Loket learns what was played
    assert turn.answered and turn.latency_s is not None
    call = stored(services, sim.call_sid)
    assert call.contained and call.end_reason == "stopped" and call.municipality == "demodam"
    assert call.outcome == "contained"
    said = loket_turns(services, sim.call_sid)
    assert len({t.text for t in said}) == len(said)  # each stored once
    assert "Demodam" in said[0].text
    assert said[1].intent == "grofvuil" and said[1].latency_ms is not None
    heard = [t for t in services.store.turns(sim.call_sid) if t.role == "caller"]
    assert heard[0].text and heard[0].recognition_ms is not None
    statuses = [e.status for e in services.store.events(sim.call_sid)]
    assert statuses == ["completed"]  # the status callback was recorded


def test_keypad_postcode_in_a_multi_turn_flow(base, services):
    async def body():
        async with caller(base) as sim:
            await sim.greeting()
            await sim.turn(clip("afvalkalender_01.wav"), "afvalkalender_01")
            await sim.press("9991")
            return sim

    sim = run(body())
    stored(services, sim.call_sid)
    said = loket_turns(services, sim.call_sid)
    assert said[1].intent == "afvalkalender" and "postcode" in said[1].text
    keys = [t for t in services.store.turns(sim.call_sid) if t.role == "caller"][1]
    assert keys.text == "9991"
    assert "letters" in said[2].text  # the digits were taken; the flow asks what is missing


def test_barge_in_stops_loket_and_takes_the_new_question(base, services):
    """The caller talks over the greeting (at a normal level, louder than line echo)."""

    async def body():
        async with caller(base) as sim:
            assert await sim.speaking()  # the greeting is playing
            await asyncio.sleep(0.8)
            await sim.turn(clip("grofvuil_02.wav"), "grofvuil_02")
            return sim

    sim = run(body())
    assert sim.result.clears >= 1  # Loket told Twilio to drop its queued audio
    stored(services, sim.call_sid)
    said = loket_turns(services, sim.call_sid)
    heard = [t for t in services.store.turns(sim.call_sid) if t.role == "caller"]
    # The greeting was cut off; the words spoken over it reached the dialogue as a turn
    # (their onset came from the audio kept while Loket was talking) and got an answer.
    assert said[0].cut_off and heard and heard[0].text
    assert said[1].intent is not None and not said[1].cut_off


def test_transfer_redirects_the_call_with_a_whisper(base, services, api):
    before = len(api.whispers)
    api.dialled.clear()

    async def body():
        async with caller(base) as sim:
            await sim.greeting()
            await sim.press("0")  # 0: a person
            return sim

    sim = run(body())
    assert sim.result.ended_by == "loket", services.store.turns(sim.call_sid)
    assert api.dialled.wait(10)
    twiml = api.calls[sim.call_sid].twiml
    assert len(twiml) == 1 and "<Dial" in twiml[0]
    whisper = api.whispers[before]
    assert whisper.call_sid == sim.call_sid
    assert whisper.target == services.content.get("demodam").municipality.transfer_number
    assert whisper.heard and "Loket" in whisper.heard and len(whisper.heard) > 30
    request = next(r for r in api.requests if sim.call_sid in r.path)
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{sim.call_sid}.json"
    call = stored(services, sim.call_sid)
    assert call.end_reason == "transfer" and call.outcome == "transferred"
    kinds = [(h.kind, h.reason) for h in handovers_of(services, sim.call_sid)]
    assert kinds == [("transfer", "asked")]
    assert [m for m in services.metrics.render()[0].decode().splitlines()
            if m.startswith('loket_transfers_total{reason="asked"}')] != []


def test_stream_ending_during_a_transfer_does_not_cancel_it(base, services, api, caplog):
    """Twilio ends the media stream as soon as it redirects the call, often before the REST
    request has returned: the end of the stream must not cancel the transfer halfway."""
    caplog.set_level(logging.INFO, logger="telephony.gateway")

    def hung_up() -> int:
        return sum("the caller hung up" in r.getMessage() for r in caplog.records)

    async def body():
        sim = caller(base)
        await sim.dial()
        await sim.greeting()
        api.hold.clear()  # the redirect is received but not yet answered
        try:
            seen = hung_up()
            await sim.press("0")
            while not any(sim.call_sid in r.path for r in api.requests):
                await asyncio.sleep(0.02)
            await sim.hangup()  # the stream ends (stop + close) during the redirect
            while hung_up() == seen:  # the gateway has seen the end of the stream
                await asyncio.sleep(0.02)
        finally:
            api.hold.set()
        return sim

    sim = run(body())
    call = stored(services, sim.call_sid)
    kinds = [h.kind for h in handovers_of(services, sim.call_sid)]
    assert kinds == ["transfer"]
    assert call.end_reason == "transfer" and call.outcome == "transferred"


def test_callback_request_out_of_hours(base, services, clock):
    clock.now = NIGHT

    async def body():
        async with caller(base) as sim:
            await sim.greeting()
            await sim.turn(clip("medewerker_02.wav"), "medewerker_02")  # → offers a callback
            await sim.turn(clip("ja_01.wav"), "ja_01")  # → asks the name
            await sim.turn(clip("nee_02.wav"), "a name")  # any words do as a name
            await sim.press("0612345678")  # the phone number by keypad
            await sim.turn(clip("container_01.wav"), "container_01")  # the question
            return sim

    sim = run(body())
    call = stored(services, sim.call_sid)
    rows = handovers_of(services, sim.call_sid)
    assert [(h.kind, h.data.get("telefoon")) for h in rows] == [("callback", "0612345678")]
    assert call.end_reason == "stopped" and call.outcome == "callback"
    assert "onvolledig" not in rows[0].summary


def outcomes(services: Services) -> dict[str, float]:
    """loket_calls_total per outcome, as /metrics shows it."""
    registry = services.metrics.registry
    return {name: registry.get_sample_value("loket_calls_total", {"outcome": name}) or 0
            for name in OUTCOMES}


def test_callback_accepted_then_hung_up_reaches_the_desk_as_incomplete(base, services, clock):
    """Accepting a callback and hanging up before giving the details is not "contained":
    the request reaches the desk with what is known (the caller's number), marked
    incomplete, and counts as a callback."""
    clock.now = NIGHT
    before = outcomes(services)

    async def body():
        async with caller(base) as sim:
            await sim.greeting()
            await sim.turn(clip("medewerker_02.wav"), "medewerker_02")  # → offers a callback
            await sim.turn(clip("ja_01.wav"), "ja_01")  # → asks the name; the caller hangs up
            return sim

    sim = run(body())
    call = stored(services, sim.call_sid)
    assert call.outcome == "callback" and not call.contained
    rows = handovers_of(services, sim.call_sid)
    assert [h.kind for h in rows] == ["callback"] and "onvolledig" in rows[0].summary
    after = outcomes(services)
    assert after["callback"] == before["callback"] + 1
    assert after["contained"] == before["contained"]


def test_an_offer_of_a_person_left_unanswered_is_lost(base, services, clock):
    clock.now = NIGHT

    async def body():
        async with caller(base) as sim:
            await sim.greeting()
            await sim.turn(clip("medewerker_02.wav"), "medewerker_02")  # → offers a callback
            return sim

    sim = run(body())
    call = stored(services, sim.call_sid)
    assert call.outcome == "lost" and not call.contained
    assert not handovers_of(services, sim.call_sid)


def test_a_call_in_which_nothing_was_understood_is_abandoned(base, services):
    """A caller turn that was heard but not understood is no answer: not "contained"."""
    before = outcomes(services)

    async def body():
        async with caller(base) as sim:
            await sim.greeting()
            turn = await sim.press("5")  # no key is expected: "sorry, I did not get that"
            return sim, turn

    sim, turn = run(body())
    assert turn.answered
    call = stored(services, sim.call_sid)
    assert call.outcome == "abandoned" and not call.contained
    after = outcomes(services)
    assert after["abandoned"] == before["abandoned"] + 1
    assert after["contained"] == before["contained"]


def test_second_municipality_by_called_number(base, services):
    async def body():
        async with caller(base, VOORBEELDRIJK) as sim:
            await sim.greeting()
            return sim

    sim = run(body())
    call = stored(services, sim.call_sid)
    assert call.municipality == "voorbeeldrijk"
    assert "Voorbeeldrijk" in loket_turns(services, sim.call_sid)[0].text


def test_forged_or_missing_signatures_are_refused(base):
    with pytest.raises(CallerError, match="403"):
        run(caller(base, token="not-the-token").dial())
    response = httpx.post(f"{base}/twilio/voice", data={"CallSid": "CA" + "2" * 32,
                                                         "To": DEMODAM})
    assert response.status_code == 403

    async def unsigned_stream():
        async with connect(base.replace("http", "ws") + "/twilio/media"):
            pass

    with pytest.raises(InvalidStatus):
        run(unsigned_stream())


def test_second_stream_for_a_live_call_is_refused(base, services):
    """A replayed (signed) voice webhook and a captured handshake signature do not open a
    second stream for a live call: it is refused, and the live call goes on undisturbed."""

    async def intrude(sim: SimulatedCaller) -> int | None:
        hook = f"{base}/twilio/voice"
        form = {"CallSid": sim.call_sid, "AccountSid": ACCOUNT, "From": sim.caller,
                "To": sim.to, "CallStatus": "ringing", "Direction": "inbound"}
        async with httpx.AsyncClient(timeout=10) as http:
            twiml = (await http.post(hook, data=form, headers=sim._sign(hook, form))).text
        params = {p.get("name"): p.get("value") for p in ET.fromstring(twiml).iter("Parameter")}
        start = Start("MZ" + "6" * 32, sim.call_sid, ACCOUNT, sequence_number=1,
                      custom_parameters={**params, "municipality": "voorbeeldrijk"})
        url = base.replace("http", "ws") + "/twilio/media"
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10), \
                    connect(url, additional_headers=sim._sign(url, {})) as ws:
                await ws.send(protocol.to_json(Connected()))
                await ws.send(protocol.to_json(start))
                with contextlib.suppress(ConnectionClosed):
                    async for _ in ws:
                        pass
                return ws.close_code
        return None  # the server took the stream

    async def body():
        async with caller(base) as sim:
            await sim.greeting()
            code = await intrude(sim)
            turn = await sim.turn(clip("grofvuil_02.wav"), "grofvuil_02")
            return sim, turn, code, not sim.ended

    sim, turn, code, still_up = run(body())
    assert code == 1008
    assert turn.answered and still_up  # the live call was not ended by the intruder
    call = stored(services, sim.call_sid)
    assert call.municipality == "demodam" and call.end_reason == "stopped"
    said = loket_turns(services, sim.call_sid)
    assert said[0].text.startswith("Goedendag") and said[1].intent == "grofvuil"
    # one greeting: no second call loop ran on this call
    assert not any(t.text.startswith("Goedendag") for t in said[1:])


BAD_FRAMES = {
    "bad JSON": '{"event": "media", ',
    "bad base64": json.dumps({"event": "media", "streamSid": "MZ" + "9" * 32,
                              "media": {"payload": "%%%not base64%%%"}}),
    "unknown event": json.dumps({"event": "explode", "streamSid": "MZ" + "9" * 32}),
    "huge frame": json.dumps({"event": "media", "streamSid": "MZ" + "9" * 32,
                              "media": {"payload": "A" * 200_000}}),
}


def test_malformed_messages_end_only_their_own_call(base, services):
    """Each broken call is closed (1008/1009) and keeps what it stored; a call running
    alongside goes on and is understood."""

    async def broken(frame: str) -> tuple[str, int | None]:
        sim = caller(base)
        await sim.dial()
        await sim.greeting()
        await sim.raw(frame)
        await asyncio.wait_for(sim._closed.wait(), 30)  # the server closes the stream
        code = sim._ws.close_code
        await sim.hangup()
        return sim.call_sid, code

    async def media_before_start() -> int | None:
        signed = caller(base)
        url = base.replace("http", "ws") + "/twilio/media"
        headers = signed._sign(url, {})
        async with connect(url, additional_headers=headers) as ws:
            await ws.send(protocol.to_json(Connected()))
            await ws.send(json.dumps({"event": "media", "streamSid": "MZ" + "8" * 32,
                                      "media": {"track": "inbound", "chunk": "1",
                                                "timestamp": "0", "payload": "//8="}}))
            await ws.send(protocol.to_json(Start("MZ" + "8" * 32, "CA" + "8" * 32, ACCOUNT)))
            with contextlib.suppress(ConnectionClosed):
                async for _ in ws:
                    pass
            return ws.close_code

    async def body():
        good = caller(base)
        await good.dial()
        await good.greeting()
        talk = asyncio.create_task(good.turn(clip("grofvuil_02.wav"), "grofvuil_02"))
        results = await asyncio.gather(*(broken(f) for f in BAD_FRAMES.values()))
        early = await media_before_start()
        turn = await talk
        await good.hangup()
        return good, turn, results, early

    good, turn, results, early = run(body())
    assert turn.answered
    stored(services, good.call_sid)
    assert loket_turns(services, good.call_sid)[1].intent == "grofvuil"
    for (sid, code), name in zip(results, BAD_FRAMES, strict=True):
        assert code in (1008, 1009), name
        call = stored(services, sid)
        assert call.end_reason == "stopped", name
        assert "Demodam" in loket_turns(services, sid)[0].text, name  # nothing lost
    assert early == 1000 and services.store.call("CA" + "8" * 32) is None


def test_a_transfer_appears_live_on_the_agent_desk(base, services, tmp_path):
    """Chromium logged in at /desk; a simulated call asks for a person; its card appears
    without a reload, with the summary and the caller's number."""
    from browser import chromium, need_chromium

    need_chromium()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from telephony.caller import DEFAULT_CALLER

    password = "e2e-wachtwoord-1"
    services.store.add_agent("e2e-agent", password, ["demodam"])
    with chromium(tmp_path / "chromium") as browser:
        wait = WebDriverWait(browser, 30)
        browser.get(f"{base}/desk")
        browser.find_element(By.ID, "username").send_keys("e2e-agent")
        browser.find_element(By.ID, "password").send_keys(password)
        browser.find_element(By.CSS_SELECTOR, "form.login button").click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "live"), "Live"))
        browser.execute_script("window.notReloaded = true;")

        async def body():
            async with caller(base) as sim:
                await sim.greeting()
                await sim.turn(clip("medewerker_02.wav"), "medewerker_02")
                if not sim.ended:  # not heard as asking for a person: the keypad then
                    await sim.press("0")
                return sim

        sim = run(body())
        row = handovers_of(services, sim.call_sid)[0]
        card = wait.until(ec.visibility_of_element_located((By.ID, f"overdracht-{row.id}")))
        assert browser.execute_script("return window.notReloaded === true;")
        assert row.summary[:40] in card.text and DEFAULT_CALLER in card.text
