"""The phone gateway's call handler: one Twilio media stream → one `CallLoop`.

For each stream it waits for `start`, opens the call in the store, runs the call loop
(audio, keys and marks in; audio, marks and clears out), stores each turn once its
answer has been played, and the outcome when the call is over. Handovers are stored as
they happen and announced to the agent desk. Transfers redirect the live call through
Twilio's REST API with a whisper for the agent; without API credentials (or when the API
fails) the call loop takes a callback request instead.

Nothing here raises into the web server: a failing store or desk is logged and the call
goes on; a stream that breaks the protocol ends only its own call.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from dialogue.errors import DialogueError
from dialogue.nlu.redact import failure, redact
from dialogue.turns import Handover
from telephony.app import AFTER_DIAL_PATH, WHISPER_PATH
from telephony.call import CallLoop
from telephony.calltypes import TurnRecord
from telephony.errors import TelephonyError
from telephony.outcome import PERSON_PENDING, CallFacts, outcome
from telephony.retention import leftover_callback
from telephony.twilio.output import TwilioOutput
from telephony.twilio.protocol import Connected, Dtmf, InboundMessage, Mark, Media, Start, Stop
from telephony.twilio.stream import Send
from telephony.twilio.webhook import public_url, transfer_twiml

if TYPE_CHECKING:
    from telephony.services import Services

log = logging.getLogger(__name__)

WHISPER_TTL_S = 600  # Twilio fetches the whisper within seconds of the redirect


class Whispers:
    """Summaries the agent hears on pick-up, behind unguessable one-call tokens."""

    def __init__(self, ttl_s: float = WHISPER_TTL_S) -> None:
        self._ttl = ttl_s
        self._items: dict[str, tuple[float, str]] = {}

    def add(self, summary: str) -> str:
        now = time.monotonic()
        self._items = {k: v for k, v in self._items.items() if v[0] > now}
        token = secrets.token_urlsafe(16)
        self._items[token] = (now + self._ttl, summary)
        return token

    def get(self, token: str) -> str | None:
        item = self._items.get(token)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]


def _utc(wall: float | None) -> dt.datetime | None:
    return None if wall is None else dt.datetime.fromtimestamp(wall, dt.UTC)


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def call_facts(loop: CallLoop, out: TwilioOutput, pending: str | None) -> CallFacts:
    """What `telephony.outcome` needs; `pending` is the question the dialogue was waiting
    on an answer to when the call ended (its kind), if any."""
    callback = any(h.callback for h in loop.handovers)
    failed = loop.end_reason == "transfer_failed" and not callback
    return CallFacts(transferred=out.transferred, callback=callback,
                     error=loop.end_reason == "error",
                     answered=any(t.answered for t in loop.turns),
                     person_needed=failed or pending in PERSON_PENDING)


class Gateway:
    """The `CallHandler` of the live server."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self.whispers = Whispers()

    async def run(self, messages: AsyncIterator[InboundMessage], send: Send, /) -> None:
        start = await self._wait_start(messages)
        if start is None:
            return
        t0 = time.perf_counter()
        # The app admits a stream only with its call's token and replaces the parameters
        # with what the signed voice webhook said: they are the server's own record.
        call_id = start.call_sid
        municipality = start.custom_parameters.get("municipality", "")
        caller = start.custom_parameters.get("caller") or None
        try:
            pack = self.s.content.get(municipality)
        except DialogueError:
            log.warning("call %s: unknown municipality %r, ending", redact(call_id),
                        municipality[:64])
            return
        called = start.custom_parameters.get("called") or None

        async def transfer(handover: Handover | None) -> bool:
            return await self._transfer(call_id, pack.slug, handover)

        async def keep(handover: Handover, kind: str) -> None:
            await self._keep(call_id, handover, kind)

        # Each turn is stored once played, so a crash loses at most the current one. The
        # write runs beside the call (a transfer must not wait for it); _finish awaits it.
        writes: dict[int, asyncio.Task[object | None]] = {}
        opened = False  # the call's row exists

        async def keep_turn(turn: TurnRecord) -> None:
            if opened and turn.index not in writes:
                writes[turn.index] = asyncio.create_task(
                    self._store("add_turns", call_id, turn_rows([turn])))

        out = TwilioOutput(send, start.stream_sid, transfer)
        loop = CallLoop(self.s.dialogue, self.s.recognizer, self.s.speaker, out, self.s.pool,
                        session_id=call_id, municipality=pack.slug, caller=caller,
                        config=self.s.call_config(), on_handover=keep, on_turn=keep_turn)
        if self.s.metrics is not None:
            self.s.metrics.call_started()
        log.info("call %s for %s: started", redact(call_id), pack.slug)
        try:
            await loop.start(t0)  # the greeting first, then the bookkeeping
            opened = await self._store("start_call", call_id, pack.slug, caller,
                                       called) is not None
            pump = asyncio.create_task(self._pump(messages, loop, call_id))
            ended = asyncio.create_task(loop.wait_ended())
            try:
                await asyncio.wait({pump, ended}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (pump, ended):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
        finally:
            await loop.stop()
            await self._finish(call_id, loop, out, writes)

    async def _wait_start(self, messages: AsyncIterator[InboundMessage]) -> Start | None:
        async for message in messages:
            if isinstance(message, Connected):
                continue
            if isinstance(message, Start):
                return message
            log.warning("media stream: %s before start, ending the stream",
                        type(message).__name__.lower())
            return None
        return None

    async def _pump(self, messages: AsyncIterator[InboundMessage], loop: CallLoop,
                    call_id: str) -> None:
        async for message in messages:
            match message:
                case Media():
                    if message.track in ("inbound", "inbound_track"):
                        await loop.audio(message.payload)
                case Dtmf():
                    await loop.dtmf(message.digit)
                case Mark():
                    await loop.mark(message.name)
                case Stop():
                    log.info("call %s: the caller hung up", redact(call_id))
                    return
                case _:
                    log.debug("call %s: %s ignored", redact(call_id), type(message).__name__)

    # -- transfers and handovers ---------------------------------------------------------

    async def _transfer(self, call_id: str, municipality: str,
                        handover: Handover | None) -> bool:
        rest = self.s.rest
        if rest is None:
            log.warning("call %s: no Twilio API credentials, cannot transfer", redact(call_id))
            return False
        target = self.s.content.get(municipality).municipality.transfer_number
        summary = handover.summary if handover is not None else ""
        whisper = public_url(self.s.public_base(), f"{WHISPER_PATH}/{self.whispers.add(summary)}")
        try:
            after = public_url(self.s.public_base(), AFTER_DIAL_PATH)
            await rest.aredirect(call_id, transfer_twiml(target, whisper, action=after))
        except (TelephonyError, ValueError) as exc:
            log.error("call %s: transfer failed: %s", redact(call_id), redact(str(exc)))
            return False
        reason = handover.reason if handover is not None else "asked"
        if self.s.metrics is not None:
            self.s.metrics.transfer(reason)
        log.info("call %s: transferred to the contact centre (%s)", redact(call_id), reason)
        if handover is not None:
            await self._keep(call_id, handover, "transfer")
        return True

    async def _keep(self, call_id: str, handover: Handover, kind: str) -> None:
        stored = await self._store("add_handover", call_id, handover, kind)
        if stored is not None and self.s.hub is not None:
            self.s.hub.notify(handover.municipality)

    # -- persistence ---------------------------------------------------------------------

    async def _store(self, method: str, *args: object, **kwargs: object) -> object | None:
        """Call a store method off the event loop; failures are logged, never raised."""
        store = self.s.store
        if store is None:
            return None
        try:
            return await asyncio.to_thread(getattr(store, method), *args, **kwargs)
        except Exception as exc:
            log.error("store %s failed: %s", method, failure(exc))  # SQL errors quote values
            return None

    async def _close_session(self, call_id: str, loop: CallLoop) -> str | None:
        """Delete the call's dialogue session; a callback request the caller was still
        giving goes to the desk first, marked incomplete. Returns the kind of question
        the dialogue was still waiting on (None when a callback request was kept)."""
        sessions = self.s.dialogue.store
        try:
            session = await asyncio.to_thread(sessions.get, call_id)
        except Exception as exc:
            log.error("call %s: reading its session failed: %s", redact(call_id),
                      failure(exc))
            return None
        if session is None:
            return None
        pending = session.pending.kind if session.pending is not None else None
        left = leftover_callback(session, self.s.content)
        if left is not None:
            loop.handovers.append(left)
            await self._keep(call_id, left, "callback")
            pending = None
        try:
            await asyncio.to_thread(sessions.delete, call_id)
        except Exception as exc:
            log.error("call %s: deleting its session failed: %s", redact(call_id),
                      failure(exc))
        return pending

    async def _finish(self, call_id: str, loop: CallLoop, out: TwilioOutput,
                      writes: dict[int, asyncio.Task[object | None]]) -> None:
        pending = await self._close_session(call_id, loop)
        result = outcome(call_facts(loop, out, pending))
        if self.s.metrics is not None:
            self.s.metrics.call_ended(result)
            self.s.metrics.recognition_failed(loop.recognition_failures)
            for turn in loop.turns:
                if turn.source == "start":
                    if turn.latency_s is not None:
                        self.s.metrics.greeting(turn.latency_s)
                elif turn.source in ("speech", "dtmf"):
                    self.s.metrics.turn(turn.latency_s, turn.recognition_s)
        if self.s.store is not None:
            done = await asyncio.gather(*writes.values())
            stored = {i for i, ok in zip(writes, done, strict=True) if ok is not None}
            rest = [t for t in loop.turns if t.index not in stored]
            if rest:
                await self._store("add_turns", call_id, turn_rows(rest))
            await self._store("end_call", call_id, loop.end_reason or "stopped",
                              result == "contained", outcome=result)
        log.info("call %s: ended (%s, %s, %d turns)", redact(call_id),
                 loop.end_reason or "stopped", result, len(loop.turns))


def turn_rows(turns: list[TurnRecord]) -> list[dict[str, object]]:
    """Store rows for a call's turns: the caller's words (or keys), then Loket's answer."""
    rows: list[dict[str, object]] = []
    for t in turns:
        at = _utc(t.at)
        if t.source in ("speech", "dtmf"):
            rows.append({"role": "caller", "text": t.heard, "confidence": t.confidence,
                         "ended_at": at, "recognition_ms": _ms(t.recognition_s)})
        if t.said:
            rows.append({"role": "loket", "text": t.said, "intent": t.intent,
                         "started_at": at, "latency_ms": _ms(t.latency_s),
                         "cut_off": t.interrupted})
    return rows
