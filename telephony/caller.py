"""A simulated caller that behaves like Twilio towards the gateway (for `loket call` and tests).

It signs and posts the voice webhook, opens the media WebSocket the TwiML names, sends
`connected` and `start` with the TwiML's parameters (the call's one-time token), numbers
every message after `connected` from 1 (`sequenceNumber`), streams each caller turn as
20 ms μ-law frames (in real time, or as fast as possible), keeps streaming silence the way
a phone line does, plays Loket's audio into a recording on the call's own timeline, answers
marks once the audio before them has "played", answers `clear` by dropping what is queued,
and hangs up with `stop` and a signed status callback.

Latency per turn: from the end of the caller's speech (the last voiced frame of the turn,
by webrtcvad) to the first frame of Loket's audio that arrives after it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import numpy as np
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from telephony.calltypes import FRAME, ULAW_SILENCE
from telephony.errors import TelephonyError
from telephony.twilio import protocol
from telephony.twilio.protocol import Connected, Dtmf, Mark, Media, Start, Stop
from telephony.twilio.webhook import SIGNATURE_HEADER
from voice import FRAME_MS, PHONE_RATE
from voice.codecs import mulaw_decode
from voice.vad.webrtc_vad import WebRtcVad

ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_CALLER = "+31612345678"
FRAME_S = FRAME_MS / 1000
ANSWER_QUIET_S = 1.2  # Loket's answer is over after this long without audio
ANSWER_TIMEOUT_S = 40.0
TRAILING_SILENCE_S = 1.0  # silence sent after a turn in --fast mode to close it


class CallerError(TelephonyError):
    """The simulated call could not be placed or broke off."""


@dataclass
class Turn:
    """One caller turn as the caller experienced it."""

    label: str
    latency_s: float | None = None  # end of speech → Loket's first audio frame
    answered: bool = False
    overlapped: bool = False  # Loket was already talking when the caller stopped


@dataclass
class CallResult:
    call_sid: str
    turns: list[Turn] = field(default_factory=list)
    reply: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    greeting_s: float | None = None  # webhook sent → first audio frame
    ended_by: str = "caller"  # caller | loket
    say: str | None = None  # TwiML <Say> text when no stream was offered
    frames_received: int = 0
    marks_answered: int = 0
    clears: int = 0


def speech_end(ulaw: bytes) -> int:
    """Index of the frame after the last voiced frame of a turn (0 when none is voiced)."""
    vad = WebRtcVad(PHONE_RATE)
    last = -1
    for i in range(0, len(ulaw) // FRAME):
        if vad.is_speech(mulaw_decode(ulaw[i * FRAME : (i + 1) * FRAME])):
            last = i
    return last + 1


def _stream_from_twiml(twiml: str) -> tuple[str | None, dict[str, str], str | None]:
    """The <Stream> URL and its parameters, or the <Say> text of a refusal."""
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        raise CallerError("the voice webhook did not answer TwiML") from None
    stream = root.find("./Connect/Stream")
    if stream is None:
        says = [el.text or "" for el in root.iter("Say")]
        return None, {}, " ".join(says) or None
    params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return stream.get("url"), params, None


class SimulatedCaller:
    """One call; use `async with SimulatedCaller(...) as call:` then `turn()`/`press()`."""

    def __init__(self, server: str, to: str, *, auth_token: str, caller: str = DEFAULT_CALLER,
                 account_sid: str = ACCOUNT_SID, fast: bool = False) -> None:
        self.server = server.rstrip("/")
        self.to, self.caller, self.fast = to, caller, fast
        self.account_sid = account_sid
        self.call_sid = "CA" + secrets.token_hex(16)
        self.stream_sid = "MZ" + secrets.token_hex(16)
        self._validator = RequestValidator(auth_token)
        self._ws: ClientConnection | None = None
        self._t0 = 0.0
        self._chunk = 0
        self._sequence = 0  # the last sequenceNumber sent
        self._reply: list[np.ndarray] = []  # Loket's audio on the call's timeline
        self._reply_at = 0  # samples of the call timeline covered by the recording
        self._queued_until = 0.0  # monotonic time Loket's queued audio ends
        self._pending: list[tuple[float, str]] = []  # (play-out time, mark name)
        self._last_audio = 0.0
        self._first_after: float | None = None
        self._waiting_since: float | None = None
        self._closed = asyncio.Event()
        self._speaking = False
        self._tasks: list[asyncio.Task[Any]] = []
        self.result = CallResult(self.call_sid)

    # -- setup -----------------------------------------------------------------------
    def _sign(self, url: str, params: dict[str, str]) -> dict[str, str]:
        return {SIGNATURE_HEADER: self._validator.compute_signature(url, params)}

    async def __aenter__(self) -> SimulatedCaller:
        await self.dial()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.hangup()

    async def dial(self) -> None:
        url = f"{self.server}/twilio/voice"
        form = {"CallSid": self.call_sid, "AccountSid": self.account_sid, "From": self.caller,
                "To": self.to, "CallStatus": "ringing", "Direction": "inbound",
                "ApiVersion": "2010-04-01"}
        self._t0 = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                response = await http.post(url, data=form, headers=self._sign(url, form))
        except httpx.HTTPError as exc:
            raise CallerError(f"cannot reach {self.server} ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise CallerError(f"the voice webhook answered HTTP {response.status_code}")
        stream_url, params, say = _stream_from_twiml(response.text)
        if stream_url is None:
            self.result.say, self.result.ended_by = say, "loket"
            self._closed.set()
            return
        try:
            self._ws = await connect(stream_url, additional_headers=self._sign(stream_url, {}),
                                     max_size=2**20)
        except (OSError, ConnectionClosed) as exc:
            raise CallerError(f"cannot open the media stream ({type(exc).__name__})") from None
        except Exception as exc:  # the handshake was refused (e.g. HTTP 403)
            raise CallerError(f"media stream refused: {exc}") from None
        await self._send(protocol.to_json(Connected()))
        await self._emit(Start(self.stream_sid, self.call_sid, self.account_sid, ("inbound",),
                               custom_parameters=params))
        self._tasks = [asyncio.create_task(self._receive()),
                       asyncio.create_task(self._marks())]
        if not self.fast:
            self._tasks.append(asyncio.create_task(self._line_noise()))
        self._waiting_since = self._t0

    # -- the caller's side -------------------------------------------------------------
    @property
    def ended(self) -> bool:
        return self._closed.is_set()

    async def greeting(self) -> None:
        """Wait until the greeting has been played."""
        await self._await_answer()
        if self._first_after is not None:
            self.result.greeting_s = self._first_after - self._t0

    async def speaking(self, timeout_s: float = ANSWER_TIMEOUT_S) -> bool:
        """Wait until Loket's audio is arriving (to talk over it); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.ended:
            if time.monotonic() - self._last_audio < 2 * FRAME_S:
                return True
            await asyncio.sleep(FRAME_S / 2)
        return False

    async def answer_started(self, timeout_s: float = ANSWER_TIMEOUT_S) -> bool:
        """Wait for the first frame of Loket's answer after the last turn; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.ended:
            if self._first_after is not None:
                return True
            await asyncio.sleep(FRAME_S / 2)
        return self._first_after is not None

    async def turn(self, ulaw: bytes, label: str = "", wait: bool = True) -> Turn:
        """Say one turn, then (with `wait`) wait for Loket's answer to finish."""
        turn = Turn(label)
        self.result.turns.append(turn)
        if self.ended:
            return turn
        end = speech_end(ulaw)
        frames = [ulaw[i : i + FRAME] for i in range(0, len(ulaw) - FRAME + 1, FRAME)]
        if self.fast:
            frames += [ULAW_SILENCE * FRAME] * int(TRAILING_SILENCE_S / FRAME_S)
        self._speaking = True
        try:
            for i, frame in enumerate(frames):
                if i == end:
                    self._waiting_since = time.monotonic()
                    self._first_after = None
                    # Loket answered a first part while the caller went on: no latency
                    turn.overlapped = self._waiting_since - self._last_audio < 4 * FRAME_S
                await self._frame(frame)
                if self.ended:
                    return turn
        finally:
            self._speaking = False
        if end >= len(frames):
            self._waiting_since, self._first_after = time.monotonic(), None
        if not wait:
            return turn
        turn.answered = await self._await_answer()
        if (self._first_after is not None and self._waiting_since is not None
                and not turn.overlapped):
            turn.latency_s = self._first_after - self._waiting_since
        return turn

    async def press(self, digits: str, gap_s: float = 0.3) -> Turn:
        """Press keys, then wait for Loket's answer."""
        turn = Turn(f"keys {digits}")
        self.result.turns.append(turn)
        for n, digit in enumerate(digits):
            if n == len(digits) - 1:
                self._waiting_since, self._first_after = time.monotonic(), None
            await self.key(digit)
            if n < len(digits) - 1:
                await asyncio.sleep(0 if self.fast else gap_s)
        turn.answered = await self._await_answer()
        if self._first_after is not None and self._waiting_since is not None:
            turn.latency_s = self._first_after - self._waiting_since
        return turn

    async def key(self, digit: str) -> None:
        await self._emit(Dtmf(self.stream_sid, digit))

    async def raw(self, text: str | bytes) -> None:
        """Send any frame as it is (for tests of malformed input)."""
        if self._ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await self._ws.send(text)

    async def hangup(self) -> CallResult:
        """Send `stop`, close the stream, post the status callback; returns the result."""
        if self._ws is not None and not self.ended:
            await self._emit(Stop(self.stream_sid, self.account_sid, self.call_sid))
            with contextlib.suppress(Exception):
                await self._ws.close()
        self._closed.set()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self._status("completed")
        self.result.reply = (np.concatenate(self._reply) if self._reply
                             else np.zeros(0, dtype=np.int16))
        return self.result

    # -- internals ---------------------------------------------------------------------
    async def _emit(self, message: Start | Media | Dtmf | Mark | Stop) -> None:
        """Send a message with the next sequence number, as Twilio numbers them."""
        self._sequence += 1
        await self._send(protocol.to_json(replace(message, sequence_number=self._sequence)))

    async def _send(self, text: str) -> None:
        if self._ws is None or self.ended:
            return
        try:
            await self._ws.send(text)
        except ConnectionClosed:
            self._closed.set()

    async def _frame(self, frame: bytes) -> None:
        self._chunk += 1
        t_ms = self._chunk * FRAME_MS
        await self._emit(Media(self.stream_sid, "inbound", self._chunk, t_ms, frame))
        if not self.fast:  # keep real time against the call's start
            await asyncio.sleep(max(0.0, self._t0 + self._chunk * FRAME_S - time.monotonic()))
        else:
            await asyncio.sleep(0)

    async def _line_noise(self) -> None:
        """A phone line never goes quiet: silence frames whenever the caller is not talking."""
        while not self.ended:
            if self._speaking:
                await asyncio.sleep(FRAME_S)
                continue
            await self._frame(ULAW_SILENCE * FRAME)

    async def _await_answer(self) -> bool:
        """Wait for Loket to start and then finish talking; False on timeout."""
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while time.monotonic() < deadline and not self.ended:
            if self.fast:  # keep the line alive at four times real time
                await self._frame(ULAW_SILENCE * FRAME)
                await asyncio.sleep(FRAME_S / 4)
            else:
                await asyncio.sleep(FRAME_S)
            started = self._first_after is not None
            quiet = time.monotonic() - max(self._last_audio, self._queued_until)
            if started and not self._pending and quiet >= ANSWER_QUIET_S:
                return True
        return self._first_after is not None

    async def _receive(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                message = json.loads(raw)
                event = message.get("event")
                now = time.monotonic()
                if event == "media":
                    self._play(base64.b64decode(message["media"]["payload"]), now)
                elif event == "mark":
                    self._pending.append((max(now, self._queued_until),
                                          message["mark"]["name"]))
                elif event == "clear":
                    self.result.clears += 1
                    self._queued_until = now  # queued audio is dropped, marks come back
                    self._pending = [(now, name) for _, name in self._pending]
        except ConnectionClosed:
            pass
        finally:
            if not self._closed.is_set():
                self.result.ended_by = "loket"
            self._closed.set()

    def _play(self, ulaw: bytes, now: float) -> None:
        self.result.frames_received += 1
        if self._first_after is None and self._waiting_since is not None:
            self._first_after = now
        self._last_audio = now
        start = max(now, self._queued_until)
        self._queued_until = start + len(ulaw) / PHONE_RATE
        at = int((start - self._t0) * PHONE_RATE)
        if at > self._reply_at:  # silence on the line before this audio
            self._reply.append(np.zeros(at - self._reply_at, dtype=np.int16))
            self._reply_at = at
        pcm = mulaw_decode(ulaw)
        self._reply.append(pcm)
        self._reply_at += len(pcm)

    async def _marks(self) -> None:
        """Echo marks once the audio queued before them has played."""
        while not self.ended:
            now = time.monotonic()
            due = [p for p in self._pending if self.fast or p[0] <= now]
            for item in due:
                self._pending.remove(item)
                await self._emit(Mark(self.stream_sid, item[1]))
                self.result.marks_answered += 1
            await asyncio.sleep(0.005 if self.fast else FRAME_S)

    async def _status(self, status: str) -> None:
        url = f"{self.server}/twilio/status"
        seconds = str(int(time.monotonic() - self._t0)) if self._t0 else "0"
        form = {"CallSid": self.call_sid, "AccountSid": self.account_sid, "From": self.caller,
                "To": self.to, "CallStatus": status, "CallDuration": seconds,
                "Direction": "inbound", "ApiVersion": "2010-04-01"}
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=5) as http:
                await http.post(url, data=form, headers=self._sign(url, form))


async def call(server: str, to: str, clips: Sequence[tuple[str, bytes]], *, auth_token: str,
               dtmf: Sequence[tuple[str, float]] = (), fast: bool = False,
               caller: str = DEFAULT_CALLER, account_sid: str = ACCOUNT_SID) -> CallResult:
    """One whole call: greeting, then each clip as a turn, keys at their times; hang up."""
    sim = SimulatedCaller(server, to, auth_token=auth_token, caller=caller, fast=fast,
                          account_sid=account_sid)
    await sim.dial()
    keys = asyncio.create_task(_keys(sim, dtmf)) if dtmf else None
    try:
        await sim.greeting()
        for label, ulaw in clips:
            if sim.ended:
                break
            await sim.turn(ulaw, label)
        if keys is not None:
            await keys
            if not sim.ended:
                await sim._await_answer()
    finally:
        if keys is not None:
            keys.cancel()
        result = await sim.hangup()
    return result


async def _keys(sim: SimulatedCaller, dtmf: Sequence[tuple[str, float]]) -> None:
    for digits, at in sorted(dtmf, key=lambda d: d[1]):
        await asyncio.sleep(max(0.0, sim._t0 + at - time.monotonic()))
        for digit in digits:
            await sim.key(digit)
            await asyncio.sleep(0.1)
        sim._waiting_since, sim._first_after = time.monotonic(), None
