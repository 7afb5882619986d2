"""Twilio's bidirectional Media Streams messages (`<Connect><Stream>`), in one place.

Inbound, Twilio sends JSON text frames: `connected`, `start`, `media`, `dtmf`, `mark` and
`stop`. `parse(raw)` turns one frame into a typed, frozen message and raises `ProtocolError`
for anything else, and never another exception: text that is not UTF-8, bad JSON (also
NaN, Infinity and numbers of more than 20 digits), an unknown event, a missing or mistyped
field, text fields with control characters, bad base64, a frame or payload over the size
limits, or a media format other than 8 kHz mono μ-law. Parsing is stateless: ordering
(say, media before start, or sequence numbers) is for `MediaSocket` and the call handler.

Outbound, `media`, `mark` and `clear` build the JSON Twilio accepts on the same socket.
`to_json` writes an inbound message the way Twilio would, for tests and local simulators.

Error messages describe the structure only; they never quote payloads or parameter values,
so they are safe to log (after `redact`, as all log lines).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from telephony.errors import TelephonyError

MAX_MESSAGE_BYTES = 64 * 1024  # one whole JSON frame
MAX_PAYLOAD_BYTES = 16 * 1024  # decoded μ-law audio in one media frame (~2 s at 8 kHz)
MAX_FIELD_CHARS = 256  # SIDs, names, tracks, parameter names and values
MAX_NUMBER_DIGITS = 20  # any JSON integer in a frame (2**64 has 20 digits)

ENCODING = "audio/x-mulaw"
SAMPLE_RATE = 8000
CHANNELS = 1
DTMF_DIGITS = frozenset("0123456789*#ABCD")

# base64 text needed for MAX_PAYLOAD_BYTES: checked before decoding anything
_MAX_PAYLOAD_B64 = 4 * -(-MAX_PAYLOAD_BYTES // 3)
# control characters (they could forge log lines) and lone surrogates (not UTF-8)
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class ProtocolError(TelephonyError):
    """A frame that is not a valid Media Streams message; the socket should be closed."""


@dataclass(frozen=True, slots=True)
class MediaFormat:
    encoding: str = ENCODING
    sample_rate: int = SAMPLE_RATE
    channels: int = CHANNELS


@dataclass(frozen=True, slots=True)
class Connected:
    protocol: str = "Call"
    version: str = "1.0.0"
    sequence_number: int | None = None  # Twilio sends none, but one must be a number


@dataclass(frozen=True, slots=True)
class Start:
    stream_sid: str
    call_sid: str
    account_sid: str
    tracks: tuple[str, ...] = ("inbound",)
    media_format: MediaFormat = field(default_factory=MediaFormat)
    custom_parameters: dict[str, str] = field(default_factory=dict)
    sequence_number: int | None = None


@dataclass(frozen=True, slots=True)
class Media:
    stream_sid: str
    track: str
    chunk: int
    timestamp: int  # milliseconds since the stream started
    payload: bytes  # μ-law, 8 kHz mono (decoded from base64)
    sequence_number: int | None = None


@dataclass(frozen=True, slots=True)
class Dtmf:
    stream_sid: str
    digit: str
    track: str = "inbound_track"
    sequence_number: int | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    """A mark we sent, echoed back once the audio before it has played (or was cleared)."""

    stream_sid: str
    name: str
    sequence_number: int | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    stream_sid: str
    account_sid: str
    call_sid: str
    sequence_number: int | None = None


InboundMessage = Connected | Start | Media | Dtmf | Mark | Stop


# --- reading ---------------------------------------------------------------------------


def _obj(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise ProtocolError(f"{where}{key} is missing or not an object")
    return value


def _str(data: Mapping[str, Any], key: str, where: str, *, empty: bool = False,
         limit: int = MAX_FIELD_CHARS) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ProtocolError(f"{where}{key} is missing or not a string")
    if not value and not empty:
        raise ProtocolError(f"{where}{key} is empty")
    if len(value) > limit:
        raise ProtocolError(f"{where}{key} is longer than {limit} characters")
    if _UNPRINTABLE.search(value):
        raise ProtocolError(f"{where}{key} has control characters")
    return value


def _int(data: Mapping[str, Any], key: str, where: str) -> int:
    """A non-negative integer; Twilio writes counters as decimal strings."""
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    raise ProtocolError(f"{where}{key} is missing or not a non-negative integer")


def _sequence(data: Mapping[str, Any]) -> int | None:
    return None if data.get("sequenceNumber") is None else _int(data, "sequenceNumber", "")


def _stream_sid(data: Mapping[str, Any]) -> str:
    return _str(data, "streamSid", "")


def _media_format(data: Mapping[str, Any]) -> MediaFormat:
    fmt = _obj(data, "mediaFormat", "start.")
    encoding = _str(fmt, "encoding", "start.mediaFormat.")
    rate = fmt.get("sampleRate")
    channels = fmt.get("channels")
    if (encoding, rate, channels) != (ENCODING, SAMPLE_RATE, CHANNELS) or isinstance(
            rate, bool) or isinstance(channels, bool):
        raise ProtocolError(
            f"unsupported media format (expected {ENCODING}, {SAMPLE_RATE} Hz, mono)")
    return MediaFormat(encoding, SAMPLE_RATE, CHANNELS)


def _parameters(data: Mapping[str, Any]) -> dict[str, str]:
    params = data.get("customParameters", {})
    if not isinstance(params, Mapping):
        raise ProtocolError("start.customParameters is not an object")
    if len(params) > 64:
        raise ProtocolError("start.customParameters has too many entries")
    out: dict[str, str] = {}
    for name, value in params.items():
        if len(name) > MAX_FIELD_CHARS:
            raise ProtocolError("start.customParameters has an over-long name")
        if not isinstance(value, str) or len(value) > MAX_FIELD_CHARS:
            raise ProtocolError("start.customParameters values must be short strings")
        if _UNPRINTABLE.search(name) or _UNPRINTABLE.search(value):
            raise ProtocolError("start.customParameters has control characters")
        out[name] = value
    return out


def _start(data: Mapping[str, Any]) -> Start:
    body = _obj(data, "start", "")
    tracks = body.get("tracks", ["inbound"])
    if isinstance(tracks, str):
        tracks = [tracks]
    if (not isinstance(tracks, list) or not tracks or len(tracks) > 4
            or not all(isinstance(t, str) and t for t in tracks)):
        raise ProtocolError("start.tracks is not a list of track names")
    # streamSid sits inside `start` and at the top level; either will do
    sid = body.get("streamSid") or data.get("streamSid")
    return Start(
        stream_sid=_str({"streamSid": sid}, "streamSid", "start."),
        call_sid=_str(body, "callSid", "start."),
        account_sid=_str(body, "accountSid", "start."),
        tracks=tuple(tracks),
        media_format=_media_format(body),
        custom_parameters=_parameters(body),
        sequence_number=_sequence(data),
    )


def _payload(media: Mapping[str, Any]) -> bytes:
    text = media.get("payload")
    if not isinstance(text, str):
        raise ProtocolError("media.payload is missing or not a string")
    if len(text) > _MAX_PAYLOAD_B64:
        raise ProtocolError(f"media.payload is larger than {MAX_PAYLOAD_BYTES} bytes")
    try:
        audio = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("media.payload is not valid base64") from None
    if len(audio) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"media.payload is larger than {MAX_PAYLOAD_BYTES} bytes")
    return audio


def _media(data: Mapping[str, Any]) -> Media:
    body = _obj(data, "media", "")
    return Media(
        stream_sid=_stream_sid(data),
        track=_str(body, "track", "media."),
        chunk=_int(body, "chunk", "media."),
        timestamp=_int(body, "timestamp", "media."),
        payload=_payload(body),
        sequence_number=_sequence(data),
    )


def _dtmf(data: Mapping[str, Any]) -> Dtmf:
    body = _obj(data, "dtmf", "")
    digit = _str(body, "digit", "dtmf.")
    if digit not in DTMF_DIGITS:
        raise ProtocolError("dtmf.digit is not a single key (0-9, *, #, A-D)")
    track = body.get("track", "inbound_track")
    if not isinstance(track, str):
        raise ProtocolError("dtmf.track is not a string")
    return Dtmf(_stream_sid(data), digit, track, _sequence(data))


def _mark(data: Mapping[str, Any]) -> Mark:
    body = _obj(data, "mark", "")
    return Mark(_stream_sid(data), _str(body, "name", "mark."), _sequence(data))


def _stop(data: Mapping[str, Any]) -> Stop:
    body = _obj(data, "stop", "")
    return Stop(
        stream_sid=_stream_sid(data),
        account_sid=_str(body, "accountSid", "stop."),
        call_sid=_str(body, "callSid", "stop."),
        sequence_number=_sequence(data),
    )


def _connected(data: Mapping[str, Any]) -> Connected:
    return Connected(_str(data, "protocol", ""), _str(data, "version", ""), _sequence(data))


_READERS = {
    "connected": _connected,
    "start": _start,
    "media": _media,
    "dtmf": _dtmf,
    "mark": _mark,
    "stop": _stop,
}


def _number(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise ProtocolError(f"frame has a number of more than {MAX_NUMBER_DIGITS} digits")
    return int(text)


def _no_constant(_name: str) -> NoReturn:
    raise ProtocolError("frame has NaN or Infinity, which is not JSON")


def _text(raw: str | bytes) -> str:
    """The frame as text: UTF-8 only (json.loads would guess UTF-16 and UTF-32 from bytes)."""
    if len(raw) > MAX_MESSAGE_BYTES:  # at least this many bytes
        raise ProtocolError(f"frame is larger than {MAX_MESSAGE_BYTES} bytes")
    if isinstance(raw, str):
        if raw.isascii():
            return raw
        try:
            size = len(raw.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate
            raise ProtocolError("frame is not UTF-8 text") from None
        if size > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"frame is larger than {MAX_MESSAGE_BYTES} bytes")
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("frame is not UTF-8 text") from None


def parse(raw: str | bytes) -> InboundMessage:
    """One inbound Media Streams frame as a typed message, or `ProtocolError`."""
    try:
        data = json.loads(_text(raw), parse_int=_number, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise ProtocolError("frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("frame is not a JSON object")
    event = data.get("event")
    if not isinstance(event, str):
        raise ProtocolError("frame has no event")
    reader = _READERS.get(event)
    if reader is None:
        # name it only when it looks like an event name, never arbitrary text
        named = event.isascii() and event.replace("_", "").isalpha() and len(event) <= 32
        raise ProtocolError(f"unknown event {event!r}" if named else "unknown event")
    return reader(data)


# --- writing ---------------------------------------------------------------------------


def _dump(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def _check_sid(stream_sid: str) -> None:
    if not stream_sid:
        raise ValueError("stream_sid is empty")


def media(stream_sid: str, ulaw: bytes) -> str:
    """Audio for Twilio to play: raw 8 kHz mono μ-law, sent as base64."""
    _check_sid(stream_sid)
    payload = base64.b64encode(ulaw).decode("ascii")
    return _dump({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def mark(stream_sid: str, name: str) -> str:
    """A marker after queued audio; Twilio echoes it back when that audio has played."""
    _check_sid(stream_sid)
    if not name:
        raise ValueError("mark name is empty")
    return _dump({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear(stream_sid: str) -> str:
    """Drop all audio Twilio has queued but not yet played (barge-in)."""
    _check_sid(stream_sid)
    return _dump({"event": "clear", "streamSid": stream_sid})


def to_json(message: InboundMessage) -> str:
    """An inbound message written as Twilio sends it (for tests and simulators)."""
    out: dict[str, Any]
    match message:
        case Connected():
            out = {"event": "connected", "protocol": message.protocol,
                   "version": message.version}
        case Start():
            fmt = message.media_format
            out = {"event": "start", "streamSid": message.stream_sid, "start": {
                "streamSid": message.stream_sid,
                "accountSid": message.account_sid,
                "callSid": message.call_sid,
                "tracks": list(message.tracks),
                "customParameters": dict(message.custom_parameters),
                "mediaFormat": {"encoding": fmt.encoding, "sampleRate": fmt.sample_rate,
                                "channels": fmt.channels},
            }}
        case Media():
            out = {"event": "media", "streamSid": message.stream_sid, "media": {
                "track": message.track,
                "chunk": str(message.chunk),
                "timestamp": str(message.timestamp),
                "payload": base64.b64encode(message.payload).decode("ascii"),
            }}
        case Dtmf():
            out = {"event": "dtmf", "streamSid": message.stream_sid,
                   "dtmf": {"track": message.track, "digit": message.digit}}
        case Mark():
            out = {"event": "mark", "streamSid": message.stream_sid,
                   "mark": {"name": message.name}}
        case Stop():
            out = {"event": "stop", "streamSid": message.stream_sid,
                   "stop": {"accountSid": message.account_sid, "callSid": message.call_sid}}
        case _:
            raise TypeError(f"not an inbound message: {type(message).__name__}")
    if message.sequence_number is not None:
        out["sequenceNumber"] = str(message.sequence_number)
    return _dump(out)
