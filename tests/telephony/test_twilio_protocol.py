import base64
import json

import numpy as np
import pytest

from telephony.errors import TelephonyError
from telephony.twilio import protocol
from telephony.twilio.protocol import (
    MAX_MESSAGE_BYTES,
    MAX_PAYLOAD_BYTES,
    Connected,
    Dtmf,
    Mark,
    Media,
    MediaFormat,
    ProtocolError,
    Start,
    Stop,
    parse,
    to_json,
)
from voice.codecs import mulaw_decode, mulaw_encode

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALL = "CA5123456789abcdef0123456789abcdef"
ACCOUNT = "AC" + "0" * 32


def _tone_ulaw(n: int = 160) -> bytes:
    t = np.arange(n) / 8000
    return mulaw_encode((np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16))


# Frames as Twilio writes them (shape per the Media Streams WebSocket messages reference).
TWILIO_FRAMES = {
    "connected": {"event": "connected", "protocol": "Call", "version": "1.0.0"},
    "start": {
        "event": "start", "sequenceNumber": "1", "streamSid": SID,
        "start": {
            "accountSid": ACCOUNT, "streamSid": SID, "callSid": CALL, "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"call_id": CALL, "municipality": "demodam"},
        },
    },
    "media": {
        "event": "media", "sequenceNumber": "3", "streamSid": SID,
        "media": {"track": "inbound", "chunk": "1", "timestamp": "5",
                  "payload": base64.b64encode(b"\x7f\xff\x00\x80").decode()},
    },
    "dtmf": {"event": "dtmf", "streamSid": SID, "sequenceNumber": "5",
             "dtmf": {"track": "inbound_track", "digit": "1"}},
    "mark": {"event": "mark", "sequenceNumber": "4", "streamSid": SID,
             "mark": {"name": "welkom"}},
    "stop": {"event": "stop", "sequenceNumber": "5", "streamSid": SID,
             "stop": {"accountSid": ACCOUNT, "callSid": CALL}},
}


def test_twilio_frames_parse_to_typed_messages():
    msgs = {name: parse(json.dumps(frame)) for name, frame in TWILIO_FRAMES.items()}
    assert msgs["connected"] == Connected("Call", "1.0.0")
    assert msgs["start"] == Start(SID, CALL, ACCOUNT, ("inbound",), MediaFormat(),
                                  {"call_id": CALL, "municipality": "demodam"}, 1)
    assert msgs["media"] == Media(SID, "inbound", 1, 5, b"\x7f\xff\x00\x80", 3)
    assert msgs["dtmf"] == Dtmf(SID, "1", "inbound_track", 5)
    assert msgs["mark"] == Mark(SID, "welkom", 4)
    assert msgs["stop"] == Stop(SID, ACCOUNT, CALL, 5)


def test_bytes_frames_and_missing_optional_fields():
    frame = {"event": "start", "start": {
        "streamSid": SID, "callSid": CALL, "accountSid": ACCOUNT,
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}
    start = parse(json.dumps(frame).encode())
    assert isinstance(start, Start)
    assert start.custom_parameters == {} and start.tracks == ("inbound",)
    assert start.sequence_number is None
    # streamSid only at the top level is accepted too
    frame["streamSid"] = frame["start"].pop("streamSid")
    assert parse(json.dumps(frame)).stream_sid == SID


@pytest.mark.parametrize("message", [
    Connected(),
    Start(SID, CALL, ACCOUNT, ("inbound",), MediaFormat(), {"caller": "+31612345678"}, 1),
    Start(SID, CALL, ACCOUNT),
    Media(SID, "inbound", 7, 140, _tone_ulaw(), 9),
    Media(SID, "inbound", 1, 0, b""),
    Dtmf(SID, "#", "inbound_track", 12),
    Dtmf(SID, "0"),
    Mark(SID, "zin-3", 20),
    Stop(SID, ACCOUNT, CALL, 30),
])
def test_round_trip(message):
    assert parse(to_json(message)) == message


def test_payload_is_the_mulaw_audio():
    audio = _tone_ulaw(800)
    msg = parse(to_json(Media(SID, "inbound", 1, 0, audio)))
    assert msg.payload == audio
    assert np.array_equal(mulaw_decode(msg.payload), mulaw_decode(audio))


def test_media_before_start_is_accepted():
    # ordering is the handler's business; parse is stateless
    assert isinstance(parse(json.dumps(TWILIO_FRAMES["media"])), Media)


def test_outbound_media_mark_clear_are_twilios_json():
    audio = _tone_ulaw()
    assert json.loads(protocol.media(SID, audio)) == {
        "event": "media", "streamSid": SID,
        "media": {"payload": base64.b64encode(audio).decode()}}
    assert json.loads(protocol.mark(SID, "einde-zin")) == {
        "event": "mark", "streamSid": SID, "mark": {"name": "einde-zin"}}
    assert json.loads(protocol.clear(SID)) == {"event": "clear", "streamSid": SID}


@pytest.mark.parametrize("build", [
    lambda: protocol.media("", b"\xff"),
    lambda: protocol.mark("", "x"),
    lambda: protocol.mark(SID, ""),
    lambda: protocol.clear(""),
])
def test_outbound_needs_a_stream(build):
    with pytest.raises(ValueError):
        build()


def _frame(name: str, **changes) -> str:
    """A Twilio frame with dotted-path changes; None deletes the field."""
    frame = json.loads(json.dumps(TWILIO_FRAMES[name]))
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = frame
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return json.dumps(frame)


MALFORMED = {
    "not json": "{event: media",
    "truncated json": json.dumps(TWILIO_FRAMES["media"])[:-3],
    "json array": "[1, 2]",
    "json string": '"media"',
    "no event": json.dumps({"streamSid": SID}),
    "event not a string": json.dumps({"event": 5}),
    "unknown event": json.dumps({"event": "transcript", "streamSid": SID}),
    "outbound-only event inbound": json.dumps({"event": "clear", "streamSid": SID}),
    "connected without version": _frame("connected", version=None),
    "start without body": _frame("start", start=None),
    "start without callSid": _frame("start", start__callSid=None),
    "start without accountSid": _frame("start", start__accountSid=None),
    "start without streamSid": _frame("start", streamSid=None, start__streamSid=None),
    "start without mediaFormat": _frame("start", start__mediaFormat=None),
    "a-law audio": _frame("start", start__mediaFormat__encoding="audio/x-alaw"),
    "16 kHz audio": _frame("start", start__mediaFormat__sampleRate=16000),
    "stereo audio": _frame("start", start__mediaFormat__channels=2),
    "sample rate as bool": _frame("start", start__mediaFormat__channels=True),
    "tracks not a list": _frame("start", start__tracks={"inbound": 1}),
    "parameter value not a string": _frame("start", start__customParameters={"a": 1}),
    "parameters not an object": _frame("start", start__customParameters=["a"]),
    "media without body": _frame("media", media=None),
    "media without payload": _frame("media", media__payload=None),
    "media without streamSid": _frame("media", streamSid=None),
    "media without chunk": _frame("media", media__chunk=None),
    "chunk not a number": _frame("media", media__chunk="eins"),
    "negative timestamp": _frame("media", media__timestamp="-20"),
    "sequence number not a number": _frame("media", sequenceNumber="x"),
    "bad base64": _frame("media", media__payload="!!not base64!!"),
    "base64 with bad padding": _frame("media", media__payload="abc"),
    "payload not a string": _frame("media", media__payload=[1, 2]),
    "payload too large": _frame(
        "media", media__payload=base64.b64encode(bytes(MAX_PAYLOAD_BYTES + 1)).decode()),
    "dtmf two keys": _frame("dtmf", dtmf__digit="12"),
    "dtmf without digit": _frame("dtmf", dtmf__digit=None),
    "mark without name": _frame("mark", mark__name=None),
    "mark with empty name": _frame("mark", mark__name=""),
    "stop without body": _frame("stop", stop=None),
    "stop without callSid": _frame("stop", stop__callSid=None),
    "huge frame": _frame("mark", padding="x" * MAX_MESSAGE_BYTES),
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_frames_raise_protocol_error(raw):
    with pytest.raises(ProtocolError):
        parse(raw)


def test_invalid_utf8_and_huge_bytes():
    with pytest.raises(ProtocolError, match="UTF-8"):
        parse(b'{"event": "\xff\xfe"}')
    with pytest.raises(ProtocolError, match="larger"):
        parse(b" " * (MAX_MESSAGE_BYTES + 1))


def test_protocol_error_is_a_telephony_error_and_quotes_no_values():
    assert issubclass(ProtocolError, TelephonyError)
    secret = "+31612345678"
    raws = [
        _frame("start", start__customParameters={"caller": [secret]}),
        _frame("media", media__payload=secret + "!"),
        json.dumps({"event": secret}),
    ]
    for raw in raws:
        with pytest.raises(ProtocolError) as info:
            parse(raw)
        assert "31612345678" not in str(info.value)


def test_unknown_event_is_named_when_it_is_a_name():
    with pytest.raises(ProtocolError, match="'transcript'"):
        parse(json.dumps({"event": "transcript"}))


def test_to_json_rejects_other_objects():
    with pytest.raises(TypeError):
        to_json("media")  # type: ignore[arg-type]


# --- edge cases: every bad frame is a ProtocolError, never another exception ------------

HUGE = "9" * 5000  # over Python's 4,300-digit limit for int(str)


def _raw(name: str, field: str, json_text: str) -> str:
    """A Twilio frame with one more top-level field written as raw JSON text."""
    return _frame(name)[:-1] + f', "{field}": {json_text}}}'


EDGE_CASES = {
    "huge sequence number": _raw("media", "sequenceNumber", HUGE),
    "huge number in an unread field": _raw("connected", "extra", HUGE),
    "huge negative number": _raw("mark", "extra", "-" + HUGE),
    "NaN": _raw("mark", "extra", "NaN"),
    "Infinity": _raw("stop", "extra", "-Infinity"),
    "connected with a bad sequence number": _frame("connected", sequenceNumber="x"),
    "connected with a negative sequence number": _frame("connected", sequenceNumber=-1),
    "lone surrogate in a SID": _frame("mark", streamSid="MZ\ud800"),
    "control character in a mark name": _frame("mark", mark__name="welkom\nERROR forged"),
    "control character in a parameter": _frame("start",
                                                start__customParameters={"token": "a\rb"}),
    "lone surrogate in the text itself": '{"event": "\ud800"}',
}


@pytest.mark.parametrize("raw", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases_raise_protocol_error(raw):
    with pytest.raises(ProtocolError):
        parse(raw)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32",
                                      "utf-32-le", "utf-8-sig"])
def test_only_plain_utf8_is_accepted(encoding):
    raw = json.dumps(TWILIO_FRAMES["mark"]).encode(encoding)
    with pytest.raises(ProtocolError):
        parse(raw)


def test_connected_sequence_number_is_read():
    assert parse(_frame("connected", sequenceNumber="1")) == Connected(sequence_number=1)
    assert parse(to_json(Connected(sequence_number=7))).sequence_number == 7


def _mutations(rng) -> str | bytes:
    """One frame broken in a random way: text edits, odd values or another encoding."""
    name = rng.choice(list(TWILIO_FRAMES))
    frame = json.loads(json.dumps(TWILIO_FRAMES[name]))
    odd = [None, True, -1, 0, 2**64, 1.5, 1e308, "", "x" * 300, "\ud800", "\x00", "é",
           [], [[[]]], {}, {"a": {"b": []}}, "9" * 30, "-5", " 1", "１２"]
    # change a field somewhere in the frame
    target = frame
    while True:
        key = rng.choice(list(target))
        if isinstance(target[key], dict) and rng.random() < 0.6:
            target = target[key]
            continue
        if rng.random() < 0.2:
            del target[key]
        else:
            target[key] = rng.choice(odd)
        break
    text = json.dumps(frame, ensure_ascii=rng.random() < 0.5)
    kind = rng.random()
    if kind < 0.3:  # byte-level edits
        data = bytearray(text.encode("utf-8", "surrogatepass"))
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            choice = rng.random()
            if choice < 0.4:
                data[i] = rng.randrange(256)
            elif choice < 0.7:
                del data[i]
            else:
                data.insert(i, rng.choice(b'{}[]",:\\0123456789eE-+.tfn \x00\xff'))
        return bytes(data)
    if kind < 0.4:  # a big number spliced in as raw JSON
        at = text.find(":", rng.randrange(len(text)))
        if at != -1:
            text = text[:at + 1] + rng.choice([HUGE, "1" * 5000 + ".5", "1e99999"]) + "," + \
                text[at + 1:]
        return text
    if kind < 0.5:
        return text.encode(rng.choice(["utf-16", "utf-32", "utf-16-le"]), "surrogatepass")
    if kind < 0.55:
        return "[" * rng.randint(1, 200_000)
    return text


def test_fuzzed_frames_only_ever_raise_protocol_error():
    import random

    rng = random.Random(20261213)
    kinds = set()
    for _ in range(4000):
        raw = _mutations(rng)
        try:
            message = parse(raw)
        except ProtocolError:
            kinds.add("refused")
            continue
        kinds.add(type(message).__name__)
    assert "refused" in kinds and len(kinds) > 3  # the fuzzer reaches both outcomes
