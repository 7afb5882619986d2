"""One phone call: caller audio and keys in, Loket's voice and call actions out.

:class:`CallLoop` joins the voice layer (endpointing, recognition, synthesis) and the
dialogue core. It knows nothing of Twilio: a transport feeds it 8 kHz μ-law frames,
keys and playback marks, and receives audio, marks, clears, transfers and hang-ups
through :class:`Output`. Blocking work (dialogue, synthesis) runs on a shared thread
pool; the recogniser runs on its own worker, so the event loop never waits.

Flow per caller turn: μ-law → :class:`SegmentingStream` (endpointer + Whisper) →
final text → ``Dialogue.respond`` → sentences synthesised one by one → 20 ms frames,
with a mark after each sentence so the loop knows what the caller has heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np

from dialogue.core import Dialogue
from dialogue.turns import BotTurn, DtmfSpec, Expect, Handover, UserTurn
from telephony.bargein import BargeIn, loud_db
from telephony.calltypes import (
    FRAME,
    ULAW_SILENCE,
    CallConfig,
    Output,
    TurnRecord,
    hints,
    ulaw_frames,
)
from voice import FRAME_MS, PHONE_RATE
from voice.asr.base import RecognitionResult
from voice.asr.segmenting import SegmentingStream
from voice.codecs import mulaw_decode, mulaw_encode
from voice.tts import SENTENCE_GAP_S, Speaker
from voice.tts.normalize import split_sentences

if TYPE_CHECKING:
    from voice.asr.whisper_asr import WhisperRecognizer

__all__ = ["FRAME", "ULAW_SILENCE", "CallConfig", "CallLoop", "Output", "TurnRecord", "hints"]

log = logging.getLogger(__name__)
T = TypeVar("T")
HandoverSink = Callable[[Handover, str], Awaitable[None]]  # (handover, kind) → stored
TurnSink = Callable[[TurnRecord], Awaitable[None]]  # a turn whose answer has been played

REPROMPT = "Bent u er nog? Waarmee kan ik u helpen?"
SILENCE_GOODBYE = "Ik hoor u niet meer. Dank u wel voor het bellen. Tot ziens!"
TIME_UP = "Dit gesprek duurt te lang voor mij. Belt u gerust nog eens. Tot ziens!"
SORRY = "Sorry, er ging bij mij iets mis. Belt u later nog eens. Tot ziens!"
MISHEARD = "Sorry, dat verstond ik niet. Wilt u het nog een keer zeggen?"
MAX_MISHEARD = 3  # recognition failed this many times in a row: say SORRY and hang up
TRANSFER_FAILED = ("Het doorverbinden lukt nu helaas niet. Een medewerker belt u zo snel "
                   "mogelijk terug. Tot ziens!")
_SENTENCE_END = re.compile(r"(?<!\.)[.?!]\s*$")  # Whisper closes whole sentences, not "..."
_POLL_S = 0.01  # how often a pending final is checked for
_LEAD_S = 0.06  # paced audio may run this far ahead of real time (far-end jitter buffer)
_MARK_GRACE_S = 3.0  # after the last frame, wait this long for the far end's final mark


@dataclass(slots=True)
class _Speech:
    result: RecognitionResult
    t_end: float
    recognition_s: float


@dataclass(slots=True)
class _Keys:
    digits: str
    t_end: float


@dataclass(slots=True)
class _Misheard:
    """The recogniser failed on the caller's utterance."""

    t_end: float


@dataclass(slots=True)
class _Event:
    kind: Literal["start", "silence"]


class CallLoop:
    """One call. Inputs are async methods; nothing here raises into the transport."""

    def __init__(
        self,
        dialogue: Dialogue,
        recognizer: WhisperRecognizer,
        speaker: Speaker,
        output: Output,
        pool: Executor | None = None,
        *,
        session_id: str,
        municipality: str | None = None,
        caller: str | None = None,
        config: CallConfig | None = None,
        on_handover: HandoverSink | None = None,
        on_turn: TurnSink | None = None,
    ) -> None:
        self.cfg = config or CallConfig()
        self.session_id = session_id
        self.turns: list[TurnRecord] = []
        self.handovers: list[Handover] = []  # callback and record handovers, to persist
        self.end_reason: str | None = None
        self._dialogue, self._speaker, self._out, self._pool = dialogue, speaker, output, pool
        self._municipality, self._caller = municipality, caller
        self._on_handover = on_handover
        self._on_turn = on_turn
        self._ended = asyncio.Event()
        self._t_start: float | None = None
        self._stream = SegmentingStream(recognizer, PHONE_RATE, config=self.cfg.endpointer,
                                        words=False, live=True)
        self._barge = BargeIn(self.cfg.barge_in_ms, self.cfg.barge_in_window_ms,
                               self.cfg.echo_margin_db)
        self._inbox: asyncio.Queue[_Speech | _Keys | _Misheard | _Event] = asyncio.Queue()
        self._expect = Expect()
        self._rest = b""  # μ-law bytes short of a whole frame
        self._ring: deque[np.ndarray] = deque(maxlen=1000 // FRAME_MS)  # last second heard
        self._ends: deque[float] = deque()  # perf_counter at each end of speech
        self._started = self._stopped = self._handling = self._playing = False
        self._interruptible = True
        self._echo_frames = 0  # caller frames still gated against echo after playback
        self._marks: dict[str, str] = {}  # mark name → sentence still to be confirmed
        self._last_mark = ""
        self._heard: list[str] = []  # sentences of the current answer the caller heard
        self._played = asyncio.Event()
        self._cut_heard: str | None = None  # for the next UserTurn after a barge-in
        self._record: TurnRecord | None = None  # the answer being played
        self._silences = 0
        self._misheard = 0  # failed recognitions in a row
        self.recognition_failures = 0  # in the whole call, for the metrics
        self._turn = 0  # numbers the marks of each answer
        self._digits = ""
        self._transferring = False  # a transfer (or its fallback callback) is under way
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    # -- inputs ---------------------------------------------------------------------
    async def start(self, t0: float | None = None) -> None:
        """Open the dialogue and play the greeting (returns at once). ``t0`` is the
        ``perf_counter`` time the call arrived, for the greeting's latency."""
        if self._started or self._stopped:
            return
        self._started = True
        self._t_start = t0 if t0 is not None else time.perf_counter()
        self._spawn("worker", self._work())
        if self.cfg.max_call_s:
            self._spawn("max_call", self._time_up(self.cfg.max_call_s))
        self._inbox.put_nowait(_Event("start"))

    async def audio(self, ulaw: bytes) -> None:
        """8 kHz μ-law from the caller, normally one 20 ms frame."""
        if self._stopped or not self._started:
            log.debug("call %s: audio ignored (not running)", self.session_id)
            return
        if not isinstance(ulaw, bytes | bytearray) or not ulaw or len(ulaw) % 2:
            log.debug("call %s: malformed audio ignored", self.session_id)
            return
        data = self._rest + bytes(ulaw)
        whole = len(data) // FRAME * FRAME
        self._rest = data[whole:]
        for i in range(0, whole, FRAME):
            try:
                await self._frame(mulaw_decode(data[i : i + FRAME]))
            except Exception:  # one bad frame must not end the call
                log.exception("call %s: audio frame failed", self.session_id)

    async def dtmf(self, digit: str) -> None:
        """One key pressed by the caller."""
        if (self._stopped or not self._started or not isinstance(digit, str)
                or len(digit) != 1 or digit not in "0123456789*#"):
            log.debug("call %s: a key ignored", self.session_id)  # never which key
            return
        self._cancel("silence")
        if self._playing and self._interruptible:
            await self._barge_in(replay_audio=False)
        spec: DtmfSpec | None = self._expect.dtmf
        if spec is None:  # no keys expected: only '0' (a person) means something
            if digit == "0":
                self._inbox.put_nowait(_Keys("0", time.perf_counter()))
            return
        if digit == spec.terminator:
            if self._digits:
                self._flush_keys(spec.terminator)
            return
        self._digits += digit
        if len(self._digits) >= spec.max_digits:
            self._flush_keys()
        else:
            self._spawn("dtmf", self._keys_timeout(self.cfg.dtmf_timeout_s))

    async def mark(self, name: str) -> None:
        """The far end has played audio up to mark ``name``."""
        sentence = self._marks.pop(name, None)
        if sentence is None:
            log.debug("call %s: stale mark %r", self.session_id, name)
            return
        self._heard.append(sentence)
        if name == self._last_mark:
            self._played.set()

    async def stop(self) -> None:
        """The call is over (hung up by the caller or the transport closed).

        A transfer under way is finished first: redirecting a call ends its media stream,
        often before the redirect request returns, and that must not cancel it (nor the
        callback request that replaces a failed transfer)."""
        if self._stopped:
            return
        self._stopped = True
        self.end_reason = self.end_reason or "stopped"
        finishing = self._tasks.pop("worker", None) if self._transferring else None
        for name in list(self._tasks):
            self._cancel(name)
        self._stream.reset()
        self._ended.set()
        if finishing is not None and finishing is not asyncio.current_task():
            await asyncio.wait({finishing})  # never cancels it, even if we are cancelled

    async def wait_ended(self) -> None:
        """Return once the call is over (stopped, transferred or hung up)."""
        await self._ended.wait()

    @property
    def ended(self) -> bool:
        """True once the call was stopped, transferred or hung up."""
        return self._stopped

    @property
    def idle(self) -> bool:
        """Nothing in progress: no speech, decode, turn or playback (for replay and tests)."""
        return not (self._stream.endpointer.in_speech or self._stream.busy or self._handling
                    or self._playing or not self._inbox.empty() or self._digits)

    async def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until :attr:`idle` (or the call ended); False on timeout."""
        deadline = time.perf_counter() + timeout
        while not (self._stopped or self.idle):
            if time.perf_counter() > deadline:
                return False
            await asyncio.sleep(_POLL_S)
        return True

    # -- caller audio ------------------------------------------------------------------
    async def _frame(self, pcm: np.ndarray) -> None:
        self._ring.append(pcm)
        if self._playing:
            if self._interruptible and self._barge.feed(pcm):
                await self._barge_in()
            return  # while Loket talks, caller audio reaches the recogniser only on barge-in
        if self._echo_frames > 0:  # the echo of Loket's last words may still come back
            self._echo_frames -= 1
            if not self._barge.passes(pcm):
                pcm = np.zeros_like(pcm)
        self._feed(pcm)

    def _feed(self, pcm: np.ndarray) -> None:
        was = self._stream.endpointer.in_speech
        try:
            results = self._stream.feed(pcm)
        except Exception:
            log.exception("call %s: recogniser failed", self.session_id)
            self._stream.reset()
            return
        now = self._stream.endpointer.in_speech
        if now and not was:
            self._cancel("silence")
        if was and not now:
            self._turn_ended()
        self._take(results)

    def _turn_ended(self) -> None:
        self._ends.append(time.perf_counter())
        if "poll" not in self._tasks:
            self._spawn("poll", self._poll())

    def _take(self, results: list[RecognitionResult]) -> None:
        for r in results:
            if not r.is_final:
                log.debug("call %s: partial, %d characters", self.session_id, len(r.text))
                if self.cfg.early_end and _sentence_end(r.text):
                    self._spawn("early", self._early(r))
                continue
            now = time.perf_counter()
            t_end = self._ends.popleft() if self._ends else now
            if r.error:
                self.recognition_failures += 1
                log.warning("call %s: recognition failed, asking again", self.session_id)
                self._inbox.put_nowait(_Misheard(t_end))
                continue
            log.debug("call %s: final, %d characters, %.2f sure", self.session_id,
                      len(r.text), r.confidence or 0.0)
            self._inbox.put_nowait(_Speech(r, t_end, now - t_end))

    async def _poll(self) -> None:
        """Collect finals the recogniser finishes while the caller is silent."""
        try:
            while self._stream.busy:
                await asyncio.sleep(_POLL_S)
                self._take(self._stream.wait(0))
        except Exception:
            log.exception("call %s: recogniser failed", self.session_id)
            self._stream.reset()
        finally:
            self._tasks.pop("poll", None)
        self._ends.clear()
        if self.idle and not self._stopped:
            self._arm_silence()  # the caller made a sound but said nothing

    async def _early(self, partial: RecognitionResult) -> None:
        """End the turn before the trailing silence when the pause's transcript is complete."""
        try:
            done = await self._run(self._dialogue.complete, self.session_id, partial.text)
        except Exception:
            log.exception("call %s: completeness check failed", self.session_id)
            return
        finally:
            if self._tasks.get("early") is asyncio.current_task():
                del self._tasks["early"]
        ended = done and not self._stopped and self._stream.end_now(after=partial)
        log.debug("call %s: partial complete=%s, ended early=%s", self.session_id, done, ended)
        if ended:
            self._turn_ended()
            self._take(self._stream.wait(0))

    async def _barge_in(self, replay_audio: bool = True) -> None:
        """The caller talks over Loket (or keys): stop playback, keep what they heard."""
        heard = " ".join(self._heard)
        log.debug("call %s: barge-in after %d sentence(s)", self.session_id, len(self._heard))
        self._cut_heard = heard
        self._marks = {}
        self._playing = False
        if self._record is not None:
            self._record.interrupted = True
        self._cancel("playback")
        with contextlib.suppress(Exception):
            await self._out.clear()
        ring = list(self._ring)  # the onset of the caller's words
        self._ring.clear()
        for pcm in ring if replay_audio else []:
            self._feed(pcm)
        if not self._stream.endpointer.in_speech and not self._stream.busy:
            self._arm_silence()  # loud, but not words after all

    # -- keys ---------------------------------------------------------------------------
    def _flush_keys(self, terminator: str | None = None) -> None:
        self._cancel("dtmf")
        digits, self._digits = self._digits, ""
        if digits:
            self._inbox.put_nowait(_Keys(digits + (terminator or ""), time.perf_counter()))

    async def _keys_timeout(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._tasks.pop("dtmf", None)
        self._flush_keys()

    # -- turns --------------------------------------------------------------------------
    async def _work(self) -> None:
        """Handle caller turns one at a time."""
        while not self._stopped:
            event = await self._inbox.get()
            self._handling = True
            try:
                await self._handle(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("call %s: turn failed", self.session_id)
                await self._close(SORRY, "error", "error")
            finally:
                self._handling = False

    async def _handle(self, event: _Speech | _Keys | _Misheard | _Event) -> None:
        if isinstance(event, _Event) and event.kind == "start":
            bot = await self._run(self._dialogue.start, self.session_id, self._municipality,
                                  self._caller)
            record = TurnRecord(0, "start", said=bot.spoken, t_end=self._t_start)
            self.turns.append(record)
            await self._answer(bot, record)
            return
        if isinstance(event, _Event):  # silence
            self._silences += 1
            if self._silences >= 2:
                await self._close(SILENCE_GOODBYE, "silence", "silence")
                return
            record = TurnRecord(len(self.turns), "silence", said=REPROMPT)
            self.turns.append(record)
            if await self._say(REPROMPT, record, interruptible=True):
                self._arm_silence()
            return
        self._silences = 0
        if isinstance(event, _Misheard):
            await self._misheard_turn(event)
            return
        self._misheard = 0
        if isinstance(event, _Speech):
            r = event.result
            user = UserTurn(text=r.text, confidence=r.confidence, alternatives=r.alternatives)
            record = TurnRecord(len(self.turns), "speech", heard=r.text, confidence=r.confidence,
                                recognition_s=event.recognition_s, t_end=event.t_end)
        else:
            user = UserTurn(dtmf=event.digits)
            record = TurnRecord(len(self.turns), "dtmf", heard=event.digits, dtmf=event.digits,
                                t_end=event.t_end)
        user.heard = record.barged_in_after = self._cut_heard
        self._cut_heard = None
        t0 = time.perf_counter()
        bot = await self._run(self._dialogue.respond, self.session_id, user)
        record.dialogue_s = time.perf_counter() - t0
        record.intent, record.said, record.answered = bot.intent, bot.spoken, bot.answered
        record.actions = [a.type for a in bot.actions]
        self.turns.append(record)
        await self._answer(bot, record)

    async def _misheard_turn(self, event: _Misheard) -> None:
        """Recognition failed: ask the caller to say it again (the dialogue is unchanged)."""
        self._misheard += 1
        if self._misheard >= MAX_MISHEARD:
            await self._close(SORRY, "error", "error")
            return
        record = TurnRecord(len(self.turns), "misheard", said=MISHEARD, t_end=event.t_end)
        self.turns.append(record)
        if await self._say(MISHEARD, record, interruptible=True):
            self._arm_silence()

    async def _answer(self, bot: BotTurn, record: TurnRecord) -> None:
        """Speak a bot turn, then carry out its actions."""
        self._expect = bot.expect
        self._stream.set_hints(hints(bot.expect.phrases))
        for action in bot.actions:
            if action.type in ("callback", "record") and action.handover is not None:
                self.handovers.append(action.handover)
                await self._keep(action.handover, action.type)
        heard_all = await self._say(bot.spoken, record, interruptible=not bot.end,
                                    private=bot.private)
        transfer = bot.action("transfer")
        if transfer is not None:
            await self._finish("transfer", transfer.handover)
        elif bot.end or bot.action("hangup") is not None:
            await self._finish("hangup")
        elif heard_all:
            self._arm_silence()

    async def _close(self, text: str, source: Literal["silence", "time_up", "error"],
                     reason: str) -> None:
        """Say a last sentence and hang up."""
        self.turns.append(TurnRecord(len(self.turns), source, said=text, actions=["hangup"]))
        await self._say(text, self.turns[-1], interruptible=False)
        await self._finish(reason)

    async def _keep(self, handover: Handover, kind: str) -> None:
        if self._on_handover is None:
            return
        try:
            await self._on_handover(handover, kind)
        except Exception:  # the desk missing one must not end the call
            log.exception("call %s: storing a %s handover failed", self.session_id, kind)

    async def _finish(self, reason: str, handover: Handover | None = None) -> None:
        self.end_reason = reason
        if reason == "transfer":
            self._transferring = True
            ok = False
            try:
                ok = await self._out.transfer(handover)
            except Exception:
                log.exception("call %s: transfer failed", self.session_id)
            if not ok:  # nobody to take the call: an agent calls back instead
                self.end_reason = reason = "transfer_failed"
                if handover is not None:
                    handover.callback = True
                    self.handovers.append(handover)
                    await self._keep(handover, "callback")
                self.turns.append(TurnRecord(len(self.turns), "error", said=TRANSFER_FAILED,
                                             actions=["hangup"]))
                await self._say(TRANSFER_FAILED, self.turns[-1], interruptible=False)
        if reason != "transfer":
            try:
                await self._out.hangup()
            except Exception:
                log.exception("call %s: hang-up failed", self.session_id)
        worker = self._tasks.pop("worker", None)  # stop() must not cancel the running turn
        await self.stop()
        if worker is not None and worker is not asyncio.current_task():
            worker.cancel()

    async def _time_up(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._tasks.pop("max_call", None)
        log.info("call %s: maximum call length reached", self.session_id)
        self._cancel("worker")
        self._cancel("playback")
        if self._playing:
            self._playing = False
            with contextlib.suppress(Exception):
                await self._out.clear()
        self._inbox = asyncio.Queue()
        await self._close(TIME_UP, "time_up", "max_length")

    # -- silence ------------------------------------------------------------------------
    def _arm_silence(self) -> None:
        if self.cfg.reprompt_s is not None and not self._stopped:
            self._spawn("silence", self._silence(self.cfg.reprompt_s))

    async def _silence(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._tasks.pop("silence", None)
        if self.idle:
            self._inbox.put_nowait(_Event("silence"))

    # -- playback -----------------------------------------------------------------------
    async def _say(self, text: str, record: TurnRecord | None, interruptible: bool,
                   private: bool = False) -> bool:
        """Play ``text``; False when the caller cut it off. ``private`` text (what the
        caller gave, read back) stays out of the synthesis cache."""
        self._cancel("silence")
        sentences = split_sentences(text)
        if not sentences or self._stopped:
            return True
        self._turn += 1
        self._marks = {f"{self._turn}.{i}": s for i, s in enumerate(sentences)}
        self._last_mark = f"{self._turn}.{len(sentences) - 1}"
        self._heard, self._record, self._interruptible = [], record, interruptible
        self._played = asyncio.Event()
        self._barge.reset()
        task = self._spawn("playback", self._play(sentences, record, private))
        await asyncio.wait({task})
        self._playing = False
        self._record = None
        self._echo_frames = int(self.cfg.echo_tail_s * 1000) // FRAME_MS
        if record is not None and self._on_turn is not None:
            try:
                await self._on_turn(record)
            except Exception:
                log.exception("call %s: storing a turn failed", self.session_id)
        return not task.cancelled()

    async def _play(self, sentences: list[str], record: TurnRecord | None,
                    private: bool = False) -> None:
        loop = asyncio.get_running_loop()
        gap = ulaw_frames(ULAW_SILENCE * int(SENTENCE_GAP_S * PHONE_RATE))
        upcoming = loop.run_in_executor(self._pool, self._synth, sentences[0], private)
        t0: float | None = None
        sent = 0
        try:
            for i in range(len(sentences)):
                pcm = await upcoming
                if i + 1 < len(sentences):  # synthesise the next while this one plays
                    upcoming = loop.run_in_executor(self._pool, self._synth, sentences[i + 1],
                                                    private)
                self._barge.reference_db = max(self._barge.reference_db, loud_db(pcm))
                for frame in ulaw_frames(mulaw_encode(pcm)) or gap[:1]:
                    if t0 is None:
                        t0 = loop.time()
                        self._start_playing(record)
                    await self._send(frame, t0, sent)
                    sent += 1
                await self._out.send_mark(f"{self._turn}.{i}")
                for frame in gap if i + 1 < len(sentences) else []:
                    await self._send(frame, t0 or loop.time(), sent)
                    sent += 1
            assert t0 is not None
            left = t0 + sent * FRAME_MS / 1000 - loop.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._played.wait(), max(0.0, left) + _MARK_GRACE_S)
            if not self._played.is_set():
                log.debug("call %s: no final mark from the far end", self.session_id)
        finally:
            self._tasks.pop("playback", None)

    def _start_playing(self, record: TurnRecord | None) -> None:
        self._playing = True
        if self._stream.endpointer.in_speech:
            # Words begun before Loket spoke: kept only if the caller goes on (barge-in).
            self._stream.endpointer.reset()
        if record is not None and record.t_end is not None:
            record.latency_s = time.perf_counter() - record.t_end

    async def _send(self, frame: bytes, t0: float, sent: int) -> None:
        if self.cfg.pace:
            delay = t0 + sent * FRAME_MS / 1000 - _LEAD_S - asyncio.get_running_loop().time()
            if delay > 0:
                await asyncio.sleep(delay)
        await self._out.send_audio(frame)

    def _synth(self, sentence: str, private: bool = False) -> np.ndarray:
        parts = list(self._speaker.sentences(sentence, PHONE_RATE, cache=not private))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)

    # -- helpers ------------------------------------------------------------------------
    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _spawn(self, name: str, coro: Any) -> asyncio.Task[Any]:
        self._cancel(name)
        task = asyncio.create_task(coro, name=f"call-{self.session_id}-{name}")
        self._tasks[name] = task
        return task

    def _cancel(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()


def _sentence_end(text: str) -> bool:
    return bool(_SENTENCE_END.search(text))
