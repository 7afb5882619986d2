"""Turns a batch recogniser into a streaming one with the endpointer.

When the caller pauses, the utterance so far is decoded speculatively; the
result is shown as a partial and, if the caller stays silent until the end
of the turn, becomes the final without decoding again. If the caller goes
on, the speculative job is cancelled. A caller that judges the partial
complete can end the turn early with :meth:`SegmentingStream.end_now`.
An utterance the recogniser failed on comes back as an empty final with
``error`` set, so the caller can ask again; a failed pause decode is redone.

Endpointing runs at the line's own rate and each utterance is resampled in one
piece: a streaming resampler rounds a little differently depending on where in
the stream a sample falls, so the same words reached the recogniser slightly
different (and were sometimes heard differently) from call to call.
"""

import time
from collections.abc import Sequence
from concurrent import futures
from typing import TYPE_CHECKING

import numpy as np

from voice import SAMPLE_RATE
from voice.asr.base import RecognitionResult, Stream
from voice.errors import RecognitionError
from voice.resample import resample
from voice.vad.endpointer import (
    Endpointer,
    EndpointerConfig,
    PauseStarted,
    SpeechEnded,
    SpeechResumed,
)

if TYPE_CHECKING:
    from voice.asr.whisper_asr import WhisperRecognizer, _Job


class SegmentingStream(Stream):
    """One call's stream over a shared :class:`WhisperRecognizer`."""

    def __init__(
        self,
        recognizer: "WhisperRecognizer",
        rate: int = SAMPLE_RATE,
        hints: Sequence[str] | None = None,
        config: EndpointerConfig | None = None,
        speculative: bool = True,
        words: bool = True,
        live: bool = False,
    ) -> None:
        if rate not in (8000, 16000):
            raise ValueError(f"unsupported stream rate {rate} Hz (use 8000 or 16000)")
        self.rate = rate
        self._rec = recognizer
        self._hints = tuple(hints or ())
        self._config = config
        self.speculative = speculative
        self.words = words  # word timings in the results (costs an alignment pass)
        self.live = live  # a caller waits for each result: the recogniser's faster settings
        # Set to a list to record (end-of-turn time, job) pairs, for benchmarks.
        self.timings: list[tuple[float, _Job]] | None = None
        self.endpointer = Endpointer(rate, config)
        self._speculative: tuple[int, _Job] | None = None
        self._pending: list[_Job] = []
        self._partial_shown: _Job | None = None
        self._partial_result: RecognitionResult | None = None

    def set_hints(self, phrases: Sequence[str] | None) -> None:
        """Expected phrases become Whisper hotwords for the next utterances."""
        self._hints = tuple(phrases or ())

    def feed(self, pcm: np.ndarray) -> list[RecognitionResult]:
        """Feed audio; never waits for the recogniser."""
        out: list[RecognitionResult] = []
        for ev in self.endpointer.feed(pcm):
            if isinstance(ev, PauseStarted) and self.speculative:
                self._cancel_speculative()
                self._speculative = (len(ev.audio), self._submit(ev.audio))
            elif isinstance(ev, SpeechResumed):
                self._cancel_speculative()
            elif isinstance(ev, SpeechEnded):
                self._end(ev)
        return out + self._ready()

    def finish(self) -> list[RecognitionResult]:
        """Flush the endpointer and wait for every outstanding utterance."""
        for ev in self.endpointer.flush():
            if isinstance(ev, SpeechEnded):
                self._end(ev)
        self._cancel_speculative()
        results = [j.future.result() for j in self._pending]
        self._pending = []
        return [r for r in results if r.text]

    def wait(self, timeout: float | None = None) -> list[RecognitionResult]:
        """Block until the oldest pending final is ready (or timeout); return ready results."""
        if self._pending:
            futures.wait([self._pending[0].future], timeout=timeout)
        return self._ready()

    @property
    def busy(self) -> bool:
        """True while a final result is still being decoded."""
        return bool(self._pending)

    def end_now(self, after: RecognitionResult | None = None) -> bool:
        """End the turn now if the caller is pausing; the pause's decode becomes the final.

        For callers that know the utterance is complete (it was understood)
        before the trailing silence runs out. With ``after`` (a partial this
        stream returned), only while that partial still covers the whole
        utterance. False when the turn was not ended.
        """
        if after is not None and (
            self._speculative is None or self._speculative[1] is not self._partial_shown
            or self._partial_result is not after
        ):
            return False
        ev = self.endpointer.end_now()
        if ev is None:
            return False
        self._end(ev)
        return True

    def reset(self) -> None:
        """Drop the utterance in progress and any pending decode."""
        self._cancel_speculative()
        for job in self._pending:
            job.cancelled = True
        self._pending = []
        self.endpointer.reset()

    def _submit(self, audio: np.ndarray, offset: float | None = None) -> "_Job":
        if offset is None:  # a pause: the audio ends now
            offset = max(0.0, self.endpointer.time - len(audio) / self.rate)
        audio = resample(audio, self.rate, SAMPLE_RATE)  # the same samples in, the same out
        return self._rec.submit(
            audio, self._hints, offset=offset, words=self.words, live=self.live
        )

    def _end(self, ev: SpeechEnded) -> None:
        spec = self._speculative
        self._speculative = None
        if spec is not None and spec[0] == len(ev.audio) and not _failed(spec[1]):
            job = spec[1]
        else:
            if spec is not None:
                spec[1].cancelled = True
            job = self._submit(ev.audio, ev.start)
        self._pending.append(job)
        if self.timings is not None:
            self.timings.append((time.perf_counter(), job))

    def _cancel_speculative(self) -> None:
        if self._speculative is not None:
            self._speculative[1].cancelled = True
            self._speculative = None

    def _ready(self) -> list[RecognitionResult]:
        out: list[RecognitionResult] = []
        spec = self._speculative
        if spec and spec[1].future.done() and spec[1] is not self._partial_shown:
            self._partial_shown = spec[1]
            r = _result(spec[1])
            if r.text:
                self._partial_result = RecognitionResult(
                    r.text, False, r.confidence, r.words, r.start, r.end
                )
                out.append(self._partial_result)
        while self._pending and self._pending[0].future.done():
            r = _result(self._pending.pop(0))
            if r.text or r.error:
                out.append(r)
        return out


def _failed(job: "_Job") -> bool:
    return job.future.done() and not job.future.cancelled() and job.future.exception() is not None


def _result(job: "_Job") -> RecognitionResult:
    """The job's result; a failed job gives an empty final with ``error`` set."""
    try:
        return job.future.result()
    except RecognitionError as exc:
        return RecognitionResult("", True, error=str(exc))
