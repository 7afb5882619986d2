"""Spoken requests over the phone line: top hypothesis vs n-best choice (``loket eval spoken``).

Each recording (or text spoken by the project's synthesiser) goes through the telephone
channel (8 kHz μ-law) and the recogniser. The understanding of the top hypothesis alone
is compared with the reading chosen from the n-best: intent accuracy where the intent is
known, word error rate of the text acted on where the transcript is known.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dialogue.nlu.understand import Understander
from voice import SAMPLE_RATE, audio
from voice.asr.base import Recognizer
from voice.channel import phone_channel
from voice.errors import AudioError
from voice.wer import Score


@dataclass(slots=True)
class Spoken:
    """One request: its audio on the line, what was said and meant."""

    name: str
    transcript: str
    intent: str | None
    pcm: np.ndarray
    rate: int


@dataclass(slots=True)
class ItemResult:
    name: str
    transcript: str
    intent: str | None
    top: str  # the recogniser's top hypothesis
    chosen: str  # the reading the dialogue acted on
    readings: int  # distinct readings in the n-best
    top_intent: str
    nbest_intent: str
    top_errors: int
    chosen_errors: int
    words: int


@dataclass(slots=True)
class SpokenReport:
    items: list[ItemResult] = field(default_factory=list)
    top_wer: Score = field(default_factory=Score)
    chosen_wer: Score = field(default_factory=Score)
    top_s: list[float] = field(default_factory=list)  # understanding the top hypothesis
    nbest_s: list[float] = field(default_factory=list)  # understanding with the n-best

    def to_dict(self) -> dict:
        labelled = [r for r in self.items if r.intent]
        n = len(labelled)
        top = sum(r.top_intent == r.intent for r in labelled)
        nb = sum(r.nbest_intent == r.intent for r in labelled)
        return {
            "recordings": len(self.items),
            "with_intent": n,
            "top1_accuracy": round(top / n, 4) if n else None,
            "nbest_accuracy": round(nb / n, 4) if n else None,
            "fixed": sum(r.top_intent != r.intent == r.nbest_intent for r in labelled),
            "broken": sum(r.top_intent == r.intent != r.nbest_intent for r in labelled),
            "reading_changed": sum(r.chosen != r.top for r in self.items),
            "mean_readings": round(sum(r.readings for r in self.items) / len(self.items), 2)
            if self.items else 0,
            "top_wer": round(self.top_wer.wer, 4),
            "chosen_wer": round(self.chosen_wer.wer, 4),
            "words": self.top_wer.words,
            "understand_ms_p50": _ms(self.top_s, 0.5),
            "understand_ms_p95": _ms(self.top_s, 0.95),
            "nbest_understand_ms_p50": _ms(self.nbest_s, 0.5),
            "nbest_understand_ms_p95": _ms(self.nbest_s, 0.95),
        }


def _ms(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * q))], 1) \
        if ordered else None


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f, delimiter="\t"))
    except OSError as exc:
        raise AudioError(f"{path}: cannot read ({exc.strerror})") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise AudioError(f"{path}: not a readable TSV ({exc})") from None


def recordings(manifest: Path, intents: set[str], limit: int | None = None) -> Iterator[Spoken]:
    """Recordings of a manifest (``file``, ``transcript``, optional ``topic``/``intent``).

    A recording whose ``channel`` column says ``phone`` is on the line already.
    """
    rows = _rows(manifest)
    if rows and ("file" not in rows[0] or "transcript" not in rows[0]):
        raise AudioError(f"{manifest}: needs 'file' and 'transcript' columns")
    rows = [r for r in rows if (r.get("transcript") or "").strip()][:limit]

    def load() -> Iterator[Spoken]:
        for row in rows:
            pcm = audio.load(manifest.parent / row["file"], SAMPLE_RATE)
            if row.get("channel") != "phone":
                pcm = phone_channel(pcm, SAMPLE_RATE)
            label = row.get("intent") or row.get("topic")
            yield Spoken(row["file"], row["transcript"], label if label in intents else None,
                         pcm, SAMPLE_RATE)

    return load()


def synthesised(texts: Path, intents: set[str], limit: int | None = None,
                every: int = 1) -> Iterator[Spoken]:
    """Texts (``text``, ``intent``) spoken with the fixtures' varied voices, on the line."""
    from audio_fixtures.generate import render
    from voice.tts import Speaker

    rows = _rows(texts)
    if rows and ("text" not in rows[0] or "intent" not in rows[0]):
        raise AudioError(f"{texts}: needs 'text' and 'intent' columns")
    rows = [r for r in rows[::max(1, every)] if (r.get("text") or "").strip()][:limit]

    def speak() -> Iterator[Spoken]:
        speaker = Speaker(use_cache=False)
        for i, row in enumerate(rows):
            pcm, rate, meta = render(speaker, row["text"], i)
            if meta["channel"] != "phone":
                pcm = phone_channel(pcm, rate)
            label = row["intent"]
            yield Spoken(f"{texts.name}:{i}", row["text"],
                         label if label in intents else None, pcm, rate)

    return speak()


def run(items: Iterator[Spoken], rec: Recognizer, nlu: Understander,
        on_item: Callable[[ItemResult], None] | None = None) -> SpokenReport:
    """Recognise and understand every item, with and without the n-best choice."""
    report = SpokenReport()
    for item in items:
        r = rec.transcribe(item.pcm, item.rate, words=False)
        t0 = time.perf_counter()
        top = nlu.understand(r.text)
        t1 = time.perf_counter()
        nb = nlu.understand(r.text, r.alternatives) if r.alternatives else top
        report.top_s.append(t1 - t0)
        report.nbest_s.append(time.perf_counter() - t1 if r.alternatives else t1 - t0)
        one_top = report.top_wer.add(item.transcript, r.text)
        one_chosen = report.chosen_wer.add(item.transcript, nb.text)
        res = ItemResult(item.name, item.transcript, item.intent, r.text, nb.text,
                         max(1, len(r.alternatives)), top.intent, nb.intent,
                         one_top.errors, one_chosen.errors, one_top.words)
        report.items.append(res)
        if on_item is not None:
            on_item(res)
    return report
