"""The recogniser interface shared by every engine.

A :class:`Recognizer` is loaded once per process and shared by all calls. Each
call opens its own :class:`Stream`, feeds it 16-bit PCM frames and receives
partial and final :class:`RecognitionResult`s. Phrase hints (expected answers
such as "ja", "nee", digits or product names) come from the dialogue.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(slots=True, frozen=True)
class Word:
    """One recognised word with its timing (seconds from stream start) and confidence."""

    text: str
    start: float
    end: float
    confidence: float | None = None


@dataclass(slots=True)
class RecognitionResult:
    """A partial or final hypothesis for the current utterance."""

    text: str
    is_final: bool
    confidence: float | None = None
    words: list[Word] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0
    # The n-best readings (text, posterior over the n-best), this text first; may be empty.
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    # Set when the recogniser failed on this utterance (the text is then empty).
    error: str | None = None

    def to_dict(self) -> dict:
        """Plain dict for JSON output."""
        return {
            "text": self.text,
            "is_final": self.is_final,
            "confidence": self.confidence,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "words": [
                {
                    "text": w.text,
                    "start": round(w.start, 3),
                    "end": round(w.end, 3),
                    "confidence": w.confidence,
                }
                for w in self.words
            ],
            "alternatives": [{"text": t, "score": p} for t, p in self.alternatives],
        }


@dataclass(slots=True, frozen=True)
class Capabilities:
    """What an engine can do, so callers can adapt (e.g. add an endpointer)."""

    streaming: bool
    partials: bool
    word_timings: bool
    grammar: bool
    native_rates: tuple[int, ...]


class Stream(ABC):
    """One utterance stream (one per call)."""

    rate: int

    @abstractmethod
    def feed(self, pcm: np.ndarray) -> list[RecognitionResult]:
        """Feed int16 PCM at ``self.rate``; returns any partial/final results now ready."""

    @abstractmethod
    def finish(self) -> list[RecognitionResult]:
        """End of input: flush and return the remaining final result(s)."""

    @abstractmethod
    def reset(self) -> None:
        """Forget the current utterance and start afresh (e.g. after barge-in)."""

    def set_hints(self, phrases: Sequence[str] | None) -> None:  # noqa: B027
        """Replace the expected phrases (``None`` or empty = free speech)."""


class Recognizer(ABC):
    """A loaded recognition engine; thread-safe to open streams from many calls."""

    name: str
    model: str
    capabilities: Capabilities

    @abstractmethod
    def stream(self, rate: int = 16000, hints: Sequence[str] | None = None) -> Stream:
        """Open a new stream for one call."""

    def transcribe(
        self,
        pcm: np.ndarray,
        rate: int = 16000,
        hints: Sequence[str] | None = None,
        words: bool = True,
    ) -> RecognitionResult:
        """Recognise a whole recording; joins the final results into one.

        ``words=False`` says word timings are not needed; an engine may skip them.
        """
        s = self.stream(rate, hints)
        step = rate // 50
        results: list[RecognitionResult] = []
        for i in range(0, len(pcm), step * 10):
            results += s.feed(pcm[i : i + step * 10])
        results += s.finish()
        failed = next((r.error for r in results if r.error), None)
        if failed:
            from voice.errors import RecognitionError

            raise RecognitionError(failed)
        return join_finals([r for r in results if r.is_final])

    def close(self) -> None:  # noqa: B027
        """Release worker threads and models."""


def join_finals(finals: Sequence[RecognitionResult]) -> RecognitionResult:
    """Merge several final results into one (confidence: word-weighted mean)."""
    finals = [f for f in finals if f.text.strip()]
    if not finals:
        return RecognitionResult(text="", is_final=True, confidence=None)
    words = [w for f in finals for w in f.words]
    confs = [
        (f.confidence, max(1, len(f.text.split()))) for f in finals if f.confidence is not None
    ]
    conf = round(sum(c * n for c, n in confs) / sum(n for _, n in confs), 3) if confs else None
    return RecognitionResult(
        text=" ".join(f.text.strip() for f in finals),
        is_final=True,
        confidence=conf,
        words=words,
        start=finals[0].start,
        end=finals[-1].end,
        alternatives=list(finals[0].alternatives) if len(finals) == 1 else [],
    )
