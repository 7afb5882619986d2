"""A streaming endpointer: turns 20 ms PCM frames into speech start/pause/end events.

Pure state machine (no threads, no asyncio). Speech is confirmed once
``min_speech_ms`` of voiced frames fall within ``start_window_ms``, and is
then back-dated to its first voiced frame, with ``pre_roll_ms`` of audio kept
before it so the first syllable is not lost. A pause of ``pause_ms`` raises
:class:`PauseStarted` (a chance to decode speculatively); if speech returns,
:class:`SpeechResumed` says to discard that work. ``trailing_silence_ms`` of
silence ends the utterance, as does reaching ``max_utterance_ms``.
"""

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from voice import FRAME_MS
from voice.codecs import frame_size
from voice.vad.webrtc_vad import WebRtcVad


@dataclass(slots=True)
class EndpointerConfig:
    """Endpointing thresholds, all in milliseconds except ``aggressiveness``."""

    trailing_silence_ms: int = 600
    min_speech_ms: int = 160
    start_window_ms: int = 300
    max_utterance_ms: int = 15000
    pre_roll_ms: int = 500
    pause_ms: int = 200
    keep_trailing_ms: int = 200
    aggressiveness: int = 2
    min_dbfs: float = -50.0


@dataclass(slots=True, frozen=True)
class SpeechStarted:
    """Speech confirmed; ``time`` is the onset in seconds since the stream began."""

    time: float


@dataclass(slots=True, frozen=True)
class PauseStarted:
    """The caller paused; ``audio`` is the utterance so far (for speculative decoding)."""

    time: float
    audio: np.ndarray = field(repr=False)


@dataclass(slots=True, frozen=True)
class SpeechResumed:
    """Speech went on after a :class:`PauseStarted`; discard speculative work."""

    time: float


@dataclass(slots=True, frozen=True)
class SpeechEnded:
    """The utterance is over; ``audio`` covers ``start``..``end`` seconds."""

    start: float
    end: float
    audio: np.ndarray = field(repr=False)
    reason: str = "silence"  # "silence" | "max_length" | "flush" | "early"


Event = SpeechStarted | PauseStarted | SpeechResumed | SpeechEnded


class Endpointer:
    """Feed int16 PCM (any chunk size) at 8 or 16 kHz; get events back."""

    def __init__(self, rate: int = 16000, config: EndpointerConfig | None = None) -> None:
        self.rate = rate
        self.config = config or EndpointerConfig()
        c = self.config
        self._vad = WebRtcVad(rate, c.aggressiveness, c.min_dbfs)
        self._frame = frame_size(rate, FRAME_MS)
        self._window = max(1, c.start_window_ms // FRAME_MS)
        self._pre = max(0, c.pre_roll_ms // FRAME_MS)
        self.reset()

    def reset(self, keep_clock: bool = True) -> None:
        """Drop any utterance in progress; the clock keeps running unless told."""
        if not keep_clock or not hasattr(self, "_n"):
            self._n = 0
        self._pending = np.zeros(0, dtype=np.int16)
        self._history: deque[tuple[np.ndarray, bool]] = deque(maxlen=self._window + self._pre)
        self._speaking = False
        self._recent: deque[bool] = deque(maxlen=3)
        self._utterance: list[np.ndarray] = []
        self._start_frame = 0
        self._silence_run = 0
        self._paused = False

    @property
    def in_speech(self) -> bool:
        """True between :class:`SpeechStarted` and :class:`SpeechEnded`."""
        return self._speaking

    @property
    def time(self) -> float:
        """Seconds of audio consumed so far."""
        return self._n * FRAME_MS / 1000

    def feed(self, pcm: np.ndarray) -> list[Event]:
        """Consume samples; returns the events they caused, in order."""
        data = np.concatenate([self._pending, np.asarray(pcm, dtype=np.int16)])
        events: list[Event] = []
        whole = len(data) // self._frame * self._frame
        for i in range(0, whole, self._frame):
            events += self._step(data[i : i + self._frame])
        self._pending = data[whole:]
        return events

    def flush(self) -> list[Event]:
        """End of input: close an utterance in progress."""
        if not self._speaking:
            return []
        return [self._end("flush", trim=self._silence_run)]

    def end_now(self) -> SpeechEnded | None:
        """End the utterance early while the caller pauses (e.g. it is clearly complete).

        Returns None unless a :class:`PauseStarted` is in effect; the audio is the
        same as that pause's, so its speculative decode stays valid.
        """
        if not (self._speaking and self._paused):
            return None
        return self._end("early", trim=self._silence_run)

    def _step(self, frame: np.ndarray) -> list[Event]:
        voiced = self._vad.is_speech(frame)
        self._n += 1
        if not self._speaking:
            self._history.append((frame, voiced))
            return self._maybe_start()
        c = self.config
        self._utterance.append(frame)
        self._recent.append(voiced)
        events: list[Event] = []
        # Line noise makes lone frames look voiced: speech goes on only when
        # two of the last three frames are voiced.
        if voiced and sum(self._recent) >= 2:
            if self._paused:
                events.append(SpeechResumed(self.time))
            self._silence_run = 0
            self._paused = False
        else:
            self._silence_run += 1
            ms = self._silence_run * FRAME_MS
            if not self._paused and ms >= c.pause_ms:
                self._paused = True
                events.append(PauseStarted(self.time, self._audio(trim=self._silence_run)))
            if ms >= c.trailing_silence_ms:
                events.append(self._end("silence", trim=self._silence_run))
                return events
        if len(self._utterance) * FRAME_MS >= c.max_utterance_ms:
            events.append(self._end("max_length", trim=0))
        return events

    def _maybe_start(self) -> list[Event]:
        recent = list(self._history)[-self._window :]
        voiced_ms = sum(v for _, v in recent) * FRAME_MS
        if voiced_ms < self.config.min_speech_ms:
            return []
        hist = list(self._history)
        onset = len(hist) - len(recent) + next(i for i, (_, v) in enumerate(recent) if v)
        first = max(0, onset - self._pre)
        self._utterance = [f for f, _ in hist[first:]]
        self._start_frame = self._n - len(hist) + first
        self._speaking = True
        self._recent.extend((True, True))
        self._silence_run = 0
        self._paused = False
        self._history.clear()
        onset_time = (self._n - len(hist) + onset) * FRAME_MS / 1000
        return [SpeechStarted(onset_time)]

    def _audio(self, trim: int) -> np.ndarray:
        # Never keep more trailing silence than a pause holds, so a speculative
        # decode at the pause covers exactly the audio of the final utterance.
        keep = min(self.config.keep_trailing_ms, self.config.pause_ms) // FRAME_MS
        cut = max(0, trim - keep)
        frames = self._utterance[: len(self._utterance) - cut] if cut else self._utterance
        return np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)

    def _end(self, reason: str, trim: int) -> SpeechEnded:
        audio = self._audio(trim)
        start = self._start_frame * FRAME_MS / 1000
        event = SpeechEnded(start, start + len(audio) / self.rate, audio, reason)
        self._speaking = False
        self._recent.clear()
        self._utterance = []
        self._silence_run = 0
        self._paused = False
        self._history.clear()
        return event
