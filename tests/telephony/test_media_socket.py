"""The media WebSocket over a real uvicorn server on 127.0.0.1, driven by a websockets client.
Each stream first gets its token from a voice webhook, as Twilio's would."""

import asyncio
import base64
import contextlib
import json
import logging
import secrets
import threading
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import numpy as np
import pytest
import uvicorn
from support import running
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from dialogue.content.loader import load_content
from telephony.app import create_app
from telephony.settings import Settings
from telephony.twilio import protocol
from telephony.twilio.protocol import (
    MAX_MESSAGE_BYTES,
    Connected,
    Dtmf,
    InboundMessage,
    Mark,
    Media,
    Start,
    Stop,
    to_json,
)
from telephony.twilio.stream import DrainHandler, Send
from telephony.twilio.tickets import TICKET_TTL_S, StreamTickets
from voice.codecs import mulaw_encode

ACCOUNT = "AC" + "0" * 32
CALLER = "+31612345678"
DEMODAM = "+31205550100"
TIMEOUT = 10


class Recorder:
    """A call handler that records every message per stream and answers a little:
    on start it sends a mark and one frame of audio, on DTMF '*' a clear, on '9' it fails."""

    def __init__(self) -> None:
        self.calls: dict[str, list[InboundMessage]] = {}
        self.ended: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def _event(self, sid: str) -> threading.Event:
        with self._lock:
            return self.ended.setdefault(sid, threading.Event())

    async def run(self, messages: AsyncIterator[InboundMessage], send: Send, /) -> None:
        seen: list[InboundMessage] = []
        sid = ""
        try:
            async for message in messages:
                seen.append(message)
                sid = sid or getattr(message, "stream_sid", "")
                if sid:
                    self.calls[sid] = seen
                if isinstance(message, Start):
                    await send(protocol.mark(sid, "welkom"))
                    await send(protocol.media(sid, b"\xff" * 160))
                elif isinstance(message, Dtmf) and message.digit == "*":
                    await send(protocol.clear(sid))
                elif isinstance(message, Dtmf) and message.digit == "9":
                    raise RuntimeError(f"handler broke for caller {CALLER}")
        finally:
            if sid:
                self._event(sid).set()

    def wait(self, sid: str) -> list[InboundMessage]:
        assert self._event(sid).wait(TIMEOUT), f"handler for {sid} did not finish"
        return self.calls[sid]


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """Run `app` on a free port of 127.0.0.1 in a thread; yields the ws:// base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    with running(config) as port:
        yield f"ws://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def content():
    return load_content()


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def base_url(content, recorder) -> Iterator[str]:
    settings = Settings(validate_signature=False)
    with serve(create_app(settings, content, on_call=recorder)) as url:
        yield url


def _call(sid: str) -> str:
    return "CA" + sid[2:]


def _webhook(base_url: str, call_sid: str, caller: str = CALLER, to: str = DEMODAM,
             headers: dict[str, str] | None = None) -> dict[str, str]:
    """Post the voice webhook for a call; returns the TwiML's stream parameters."""
    url = base_url.replace("ws://", "http://") + "/twilio/voice"
    form = {"CallSid": call_sid, "AccountSid": ACCOUNT, "From": caller, "To": to}
    response = httpx.post(url, data=form, headers=headers or {})
    assert response.status_code == 200, response.text
    stream = ET.fromstring(response.text).find("./Connect/Stream")
    return {p.get("name"): p.get("value") for p in stream.iter("Parameter")}


def _start(sid: str, params: dict[str, str] | None = None, call_sid: str | None = None) -> Start:
    return Start(sid, call_sid or _call(sid), ACCOUNT, ("inbound",),
                 custom_parameters=params or {}, sequence_number=1)


def _admitted(base_url: str, sid: str) -> Start:
    """A start for stream `sid` with the token of a voice webhook for its call."""
    return _start(sid, _webhook(base_url, _call(sid)))


def _record(sid: str) -> dict[str, str]:
    """The call's parameters as the handler gets them: from the voice webhook."""
    return {"call_id": _call(sid), "municipality": "demodam", "caller": CALLER,
            "called": DEMODAM}


def _as_seen(messages: list[InboundMessage]) -> list[InboundMessage]:
    """What the handler gets for `messages`: the start carries the webhook's record."""
    return [replace(m, custom_parameters=_record(m.stream_sid)) if isinstance(m, Start) else m
            for m in messages]


def _audio(n: int) -> bytes:
    return mulaw_encode(np.full(160, 1000 * n, dtype=np.int16))


async def _closed(ws: ClientConnection) -> tuple[int | None, list[dict]]:
    """Read until the server closes; returns the close code and what it sent."""
    received = []
    with contextlib.suppress(ConnectionClosed):
        async for raw in ws:
            received.append(json.loads(raw))
    await ws.wait_closed()
    return ws.close_code, received


def _run(coro):
    async def bounded():
        async with asyncio.timeout(TIMEOUT):
            return await coro

    return asyncio.run(bounded())


def test_full_exchange_reaches_the_handler_in_order(base_url, recorder):
    sid = "MZ" + "a1" * 16
    sent: list[InboundMessage] = [
        Connected(),
        _admitted(base_url, sid),
        *(Media(sid, "inbound", i, 20 * i, _audio(i), 1 + i) for i in range(1, 6)),
        Dtmf(sid, "*", "inbound_track", 7),
        Mark(sid, "welkom", 8),
        Stop(sid, ACCOUNT, "CA" + sid[2:], 9),
    ]

    async def call():
        async with connect(f"{base_url}/twilio/media") as ws:
            for message in sent:
                await ws.send(to_json(message))
            return await _closed(ws)

    code, answers = _run(call())
    assert recorder.wait(sid) == _as_seen(sent)  # connected is passed on too
    assert recorder.wait(sid)[1].custom_parameters["municipality"] == "demodam"
    assert code == 1000
    assert answers == [
        {"event": "mark", "streamSid": sid, "mark": {"name": "welkom"}},
        {"event": "media", "streamSid": sid,
         "media": {"payload": base64.b64encode(b"\xff" * 160).decode()}},
        {"event": "clear", "streamSid": sid},
    ]


def test_media_before_start_reaches_the_handler(base_url, recorder):
    sid = "MZ" + "b2" * 16
    sent = [Media(sid, "inbound", 1, 0, _audio(1)), _admitted(base_url, sid),
            Stop(sid, ACCOUNT, "CA1")]

    async def call():
        async with connect(f"{base_url}/twilio/media") as ws:
            for message in sent:
                await ws.send(to_json(message))
            return await _closed(ws)

    code, _ = _run(call())
    assert code == 1000
    assert recorder.wait(sid) == _as_seen(sent)


def test_binary_frames_are_refused(base_url, recorder, caplog):
    """Twilio sends JSON as text frames; a binary frame (which could be UTF-16) is refused."""
    sid = "MZ" + "c3" * 16
    start = _admitted(base_url, sid)

    async def call():
        async with connect(f"{base_url}/twilio/media") as ws:
            await ws.send(to_json(start))
            await ws.send(to_json(Stop(sid, ACCOUNT, "CA1")).encode())
            return await _closed(ws)

    with caplog.at_level(logging.WARNING, logger="telephony"):
        assert _run(call())[0] == 1008
        assert [type(m) for m in recorder.wait(sid)] == [Start]
    assert "binary" in caplog.text


BAD_FRAMES = {
    "bad json": "{not json",
    "bad base64": json.dumps({"event": "media", "streamSid": "MZx", "media": {
        "track": "inbound", "chunk": "1", "timestamp": "0", "payload": "%%%"}}),
    "unknown event": json.dumps({"event": "transcript", "streamSid": "MZx"}),
    "huge frame": json.dumps({"event": "mark", "streamSid": "MZx", "mark": {
        "name": "x" * (2 * MAX_MESSAGE_BYTES)}}),
    "invalid utf-8": b'{"event": "\xff"}',
    "a-law audio": to_json(_start("MZ" + "e" * 32)).replace("x-mulaw", "x-alaw"),
    "huge number": '{"event": "mark", "streamSid": "MZx", "mark": {"name": "a"}, "n": %s}'
                   % ("9" * 5000),
    "utf-16": to_json(Mark("MZx", "a")).encode("utf-16"),
    "connected with a bad sequence number": '{"event": "connected", "protocol": "Call", '
                                            '"version": "1.0.0", "sequenceNumber": "x"}',
    "repeated sequence number": to_json(Mark("MZx", "a", 1)),  # start was number 1
    "second start": to_json(_start("MZ" + "e" * 32)),
}


@pytest.mark.parametrize("bad", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
def test_malformed_frame_closes_only_its_own_socket(base_url, recorder, bad, caplog):
    good_sid = "MZ" + secrets.token_hex(16)  # one stream per call: new calls each time
    bad_sid = "MZ" + secrets.token_hex(16)
    good_sent = [Connected(), _admitted(base_url, good_sid)]
    bad_start = _admitted(base_url, bad_sid)
    good_rest = [Media(good_sid, "inbound", 1, 0, _audio(3)), Stop(good_sid, ACCOUNT, "CA1")]

    async def calls():
        async with connect(f"{base_url}/twilio/media") as good, \
                connect(f"{base_url}/twilio/media", max_size=None) as broken:
            for message in good_sent:
                await good.send(to_json(message))
            await broken.send(to_json(bad_start))
            await broken.send(bad)
            await broken.send(to_json(Stop(bad_sid, ACCOUNT, "CA1")))  # never read
            broken_code, _ = await _closed(broken)
            # the first call carries on after the other socket was closed
            for message in good_rest:
                await good.send(to_json(message))
            good_code, answers = await _closed(good)
            return broken_code, good_code, answers

    recorder.calls.pop(good_sid, None)
    recorder.ended.pop(good_sid, None)
    recorder.ended.pop(bad_sid, None)
    with caplog.at_level(logging.WARNING, logger="telephony"):
        broken_code, good_code, answers = _run(calls())
        assert [type(m) for m in recorder.wait(bad_sid)] == [Start]
    assert broken_code == 1008
    assert good_code == 1000
    assert recorder.wait(good_sid) == _as_seen(good_sent + good_rest)
    assert [a["event"] for a in answers] == ["mark", "media"]
    warnings = [r for r in caplog.records if r.name == "telephony.app"]
    assert len(warnings) == 1 and bad_sid in warnings[0].getMessage()
    assert "closed" in warnings[0].getMessage()
    assert "31612345678" not in caplog.text


BAD_FIRST = {name: frame for name, frame in BAD_FRAMES.items()
             if name not in ("repeated sequence number", "second start")}


@pytest.mark.parametrize("bad", BAD_FIRST.values(), ids=BAD_FIRST.keys())
def test_malformed_frame_before_start_is_a_protocol_error(base_url, bad, caplog):
    """Before start too: 1008 and one log line, whatever is wrong with the frame."""

    async def call():
        async with connect(f"{base_url}/twilio/media", max_size=None) as ws:
            await ws.send(to_json(Connected()))
            await ws.send(bad)
            return await _closed(ws)

    with caplog.at_level(logging.WARNING, logger="telephony"):
        code, _ = _run(call())
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("telephony")]
    assert code == 1008, lines
    assert len(lines) == 1 and "closed" in lines[0], lines


def test_failing_handler_closes_with_1011_and_a_redacted_log(base_url, recorder, caplog):
    sid = "MZ" + "f6" * 16
    start = _admitted(base_url, sid)

    async def call():
        async with connect(f"{base_url}/twilio/media") as ws:
            await ws.send(to_json(start))
            await ws.send(to_json(Dtmf(sid, "9")))
            return await _closed(ws)

    with caplog.at_level(logging.WARNING, logger="telephony"):
        code, _ = _run(call())
        recorder.wait(sid)
    assert code == 1011
    assert "call handler failed" in caplog.text and "RuntimeError" in caplog.text
    assert "31612345678" not in caplog.text


def test_many_concurrent_calls_stay_apart(base_url, recorder):
    sids = [f"MZ{i:032x}" for i in range(1, 9)]
    starts = {sid: _admitted(base_url, sid) for sid in sids}

    async def call(sid: str):
        async with connect(f"{base_url}/twilio/media") as ws:
            await ws.send(to_json(starts[sid]))
            for i in range(1, 11):
                await ws.send(to_json(Media(sid, "inbound", i, 20 * i, _audio(i % 5))))
                await asyncio.sleep(0)
            await ws.send(to_json(Stop(sid, ACCOUNT, "CA1")))
            return await _closed(ws)

    async def all_calls():
        return await asyncio.gather(*(call(sid) for sid in sids))

    results = _run(all_calls())
    assert [code for code, _ in results] == [1000] * len(sids)
    for sid in sids:
        got = recorder.wait(sid)
        assert [m.chunk for m in got if isinstance(m, Media)] == list(range(1, 11))
        assert all(m.stream_sid == sid for m in got)


def test_default_handler_consumes_until_stop(content):
    settings = Settings(validate_signature=False)

    async def call(url: str):
        sid = "MZ" + "0" * 32
        start = _admitted(url, sid)
        async with connect(f"{url}/twilio/media") as ws:
            for message in [Connected(), start, Media(sid, "inbound", 1, 0, _audio(1)),
                            Stop(sid, ACCOUNT, "CA1")]:
                await ws.send(to_json(message))
            return await _closed(ws)

    with serve(create_app(settings, content)) as url:
        code, answers = _run(call(url))
    assert code == 1000 and answers == []  # echoes nothing


def test_drain_handler_stops_at_stop():
    async def stream():
        yield Connected()
        yield Stop("MZ1", ACCOUNT, "CA1")
        raise AssertionError("read past stop")

    async def send(text: str) -> None:
        raise AssertionError("the default handler says nothing")

    asyncio.run(DrainHandler().run(stream(), send))


def test_handshake_needs_twilios_signature_when_checking(content, caplog):
    token = "12345678901234567890123456789012"
    settings = Settings(twilio_auth_token=token)

    sid = "MZ" + "7" * 32

    async def call(url: str, headers: dict[str, str]):
        async with connect(f"{url}/twilio/media", additional_headers=headers) as ws:
            await ws.send(to_json(start))
            await ws.send(to_json(Stop(sid, ACCOUNT, "CA1")))
            return await _closed(ws)

    with serve(create_app(settings, content)) as url, \
            caplog.at_level(logging.WARNING, logger="telephony"):
        hook = url.replace("ws://", "http://") + "/twilio/voice"
        form = {"CallSid": _call(sid), "AccountSid": ACCOUNT, "From": CALLER, "To": DEMODAM}
        signed = {"X-Twilio-Signature": RequestValidator(token).compute_signature(hook, form)}
        start = _start(sid, _webhook(url, _call(sid), headers=signed))
        signature = RequestValidator(token).compute_signature(f"{url}/twilio/media", {})
        assert _run(call(url, {"X-Twilio-Signature": signature}))[0] == 1000
        for headers in [{}, {"X-Twilio-Signature": "d3Jvbmc="}]:
            with pytest.raises(InvalidStatus) as info:
                _run(call(url, headers))
            assert info.value.response.status_code == 403
    assert caplog.text.count("rejected media stream") == 2


def test_caller_hanging_up_without_stop_ends_the_handler(base_url, recorder, caplog):
    sid = "MZ" + "8" * 32
    start = _admitted(base_url, sid)

    async def call():
        async with connect(f"{base_url}/twilio/media") as ws:
            await ws.send(to_json(start))
            await ws.send(to_json(Media(sid, "inbound", 1, 0, _audio(1))))
        # closed by us, mid-call; the handler may still be sending its welcome

    with caplog.at_level(logging.WARNING, logger="telephony"):
        _run(call())
        assert [type(m) for m in recorder.wait(sid)][:1] == [Start]
    assert "telephony.app" not in {r.name for r in caplog.records}


def test_hard_stop_after_the_call_time_limit(content, monkeypatch, caplog):
    monkeypatch.setattr("telephony.app.HARD_STOP_GRACE_S", 0)
    settings = Settings(validate_signature=False, max_call_seconds=1)

    async def call(url: str):
        start = _admitted(url, "MZ" + "9" * 32)
        async with connect(f"{url}/twilio/media") as ws:
            await ws.send(to_json(start))
            return await _closed(ws)  # never sends stop: the server must end it

    with serve(create_app(settings, content)) as url, \
            caplog.at_level(logging.WARNING, logger="telephony"):
        code, _ = _run(call(url))
    assert code == 1000
    assert "over the call time limit" in caplog.text


# --- a stream is bound to its call by the voice webhook's one-time token ----------------


def _stream_code(url: str, start: Start) -> int | None:
    """Open a stream with `start`; the close code."""

    async def call():
        async with connect(f"{url}/twilio/media") as ws:
            await ws.send(to_json(Connected()))
            await ws.send(to_json(start))
            await ws.send(to_json(Stop(start.stream_sid, ACCOUNT, start.call_sid, 2)))
            return (await _closed(ws))[0]

    return _run(call())


def _refusal_logged(caplog, sid: str) -> None:
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("telephony")]
    assert len(lines) == 1 and "refused" in lines[0], lines
    assert "31612345678" not in caplog.text


def test_forged_parameters_are_ignored(base_url, recorder):
    """Municipality and caller come from the webhook, whatever the stream claims."""
    sid = "MZ" + "1a" * 16
    params = {**_webhook(base_url, _call(sid)), "municipality": "voorbeeldrijk",
              "caller": "+31699999999", "call_id": "CA" + "0" * 32}
    assert _stream_code(base_url, _start(sid, params)) == 1000
    (start,) = [m for m in recorder.wait(sid) if isinstance(m, Start)]
    assert start.custom_parameters == _record(sid)


@pytest.mark.parametrize("params", [{}, {"token": ""}, {"token": "made-up-token"},
                                    {"municipality": "demodam", "caller": CALLER}])
def test_stream_without_a_valid_token_is_refused(base_url, recorder, params, caplog):
    sid = "MZ" + "2b" * 16
    recorder.calls.pop(sid, None)
    with caplog.at_level(logging.WARNING, logger="telephony"):
        assert _stream_code(base_url, _start(sid, params)) == 1008
    assert sid not in recorder.calls  # the handler never saw a start
    _refusal_logged(caplog, sid)


def test_token_of_another_call_is_refused(base_url, recorder, caplog):
    """A captured handshake replayed with another call SID gets nowhere with a real token."""
    sid, other = "MZ" + "3c" * 16, "MZ" + "4d" * 16
    params = _webhook(base_url, _call(sid))
    with caplog.at_level(logging.WARNING, logger="telephony"):
        assert _stream_code(base_url, _start(other, params)) == 1008
    _refusal_logged(caplog, other)
    assert other not in recorder.calls
    # the token was spent on the attempt: the real stream cannot use it any more either
    assert _stream_code(base_url, _start(sid, params)) == 1008


def test_token_is_used_once(base_url, recorder, caplog):
    sid = "MZ" + "5e" * 16
    params = _webhook(base_url, _call(sid))
    assert _stream_code(base_url, _start(sid, params)) == 1000
    assert [type(m) for m in recorder.wait(sid)] == [Connected, Start, Stop]
    again = "MZ" + "6f" * 16  # a new stream SID, same call and token
    with caplog.at_level(logging.WARNING, logger="telephony"):
        assert _stream_code(base_url, _start(again, params, call_sid=_call(sid))) == 1008
    _refusal_logged(caplog, again)
    assert again not in recorder.calls


def test_second_stream_for_a_live_call_is_refused_and_the_first_goes_on(base_url, recorder,
                                                                        caplog):
    sid, intruder = "MZ" + "7a" * 16, "MZ" + "8b" * 16
    first = _admitted(base_url, sid)
    # a replayed (signed) webhook for the same call gives a fresh token...
    second = _start(intruder, _webhook(base_url, _call(sid)), call_sid=_call(sid))

    async def calls():
        async with connect(f"{base_url}/twilio/media") as live:
            await live.send(to_json(first))
            await live.send(to_json(Media(sid, "inbound", 1, 20, _audio(1), 2)))
            async with connect(f"{base_url}/twilio/media") as other:
                await other.send(to_json(second))  # ...but not a second stream
                other_code, _ = await _closed(other)
            for i in range(2, 5):
                await live.send(to_json(Media(sid, "inbound", i, 20 * i, _audio(i), i + 1)))
            await live.send(to_json(Stop(sid, ACCOUNT, _call(sid), 6)))
            live_code, answers = await _closed(live)
            return other_code, live_code, answers

    with caplog.at_level(logging.WARNING, logger="telephony"):
        other_code, live_code, answers = _run(calls())
        got = recorder.wait(sid)
    assert other_code == 1008 and live_code == 1000
    assert [a["event"] for a in answers] == ["mark", "media"]
    assert [m.chunk for m in got if isinstance(m, Media)] == [1, 2, 3, 4]
    assert isinstance(got[-1], Stop) and got[0].custom_parameters == _record(sid)
    assert intruder not in recorder.calls
    _refusal_logged(caplog, intruder)


def test_expired_token_is_refused(content, caplog):
    clock = FakeClock()
    recorder = Recorder()
    settings = Settings(validate_signature=False)
    app = create_app(settings, content, on_call=recorder, tickets=StreamTickets(clock=clock))
    sid = "MZ" + "9c" * 16
    with serve(app) as url, caplog.at_level(logging.WARNING, logger="telephony"):
        params = _webhook(url, _call(sid))
        clock.now += TICKET_TTL_S + 1
        assert _stream_code(url, _start(sid, params)) == 1008
        # a fresh webhook for the same call, used in time, works
        assert _stream_code(url, _start(sid, _webhook(url, _call(sid)))) == 1000
    assert [type(m) for m in recorder.wait(sid)] == [Connected, Start, Stop]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_stream_that_never_starts_is_closed(content, monkeypatch, caplog):
    """A handshake alone holds no socket for long: no start in time is a protocol error."""
    monkeypatch.setattr("telephony.twilio.stream.START_TIMEOUT_S", 0.3, raising=False)
    settings = Settings(validate_signature=False)

    async def call(url: str):
        async with connect(f"{url}/twilio/media") as ws:
            await ws.send(to_json(Connected()))
            return await _closed(ws)  # never sends start

    with serve(create_app(settings, content)) as url, \
            caplog.at_level(logging.WARNING, logger="telephony"):
        code, _ = _run(call(url))
    assert code == 1008
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("telephony")]
    assert len(lines) == 1 and "no start" in lines[0], lines
