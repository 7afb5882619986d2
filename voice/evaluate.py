"""Recognition benchmark over a manifest of recordings (``loket eval asr``)."""

import csv
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voice import SAMPLE_RATE, audio
from voice.asr.base import Recognizer
from voice.channel import phone_channel
from voice.errors import AudioError
from voice.wer import Score


@dataclass(slots=True, frozen=True)
class Item:
    """One manifest row."""

    path: Path
    transcript: str


@dataclass(slots=True)
class FileResult:
    """Outcome for one recording."""

    file: str
    reference: str
    hypothesis: str
    words: int
    errors: int
    seconds: float
    audio_seconds: float


@dataclass(slots=True)
class Report:
    """Totals of a run."""

    engine: str
    model: str
    phone: bool
    score: Score = field(default_factory=Score)
    strict: Score = field(default_factory=lambda: Score(compounds=False))
    seconds: float = 0.0
    audio_seconds: float = 0.0
    files: list[FileResult] = field(default_factory=list)

    @property
    def rtf(self) -> float:
        """Processing time divided by audio duration."""
        return self.seconds / self.audio_seconds if self.audio_seconds else 0.0

    @property
    def median_seconds(self) -> float:
        """Median recognition time per file."""
        return statistics.median(f.seconds for f in self.files) if self.files else 0.0

    def to_dict(self) -> dict:
        """The ``--json`` object."""
        return {
            "wer": round(self.score.wer, 4),
            "wer_strict": round(self.strict.wer, 4),
            "rtf": round(self.rtf, 4),
            "median_seconds": round(self.median_seconds, 3),
            "files": len(self.files),
            "words": self.score.words,
            "errors": self.score.errors,
            "substitutions": self.score.substitutions,
            "deletions": self.score.deletions,
            "insertions": self.score.insertions,
            "engine": self.engine,
            "model": self.model,
            "phone": self.phone,
            "audio_seconds": round(self.audio_seconds, 2),
        }


def read_manifest(path: Path, limit: int | None = None) -> list[Item]:
    """Read a TSV manifest with at least ``file`` and ``transcript`` columns."""
    if not path.is_file():
        raise AudioError(f"{path}: manifest not found")
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise AudioError(f"{path}: not a readable TSV manifest ({exc})") from None
    if not rows or not {"file", "transcript"} <= set(rows[0]):
        raise AudioError(f"{path}: manifest needs a header with 'file' and 'transcript' columns")
    items = [Item(path.parent / r["file"], r["transcript"] or "") for r in rows if r.get("file")]
    items = items[:limit] if limit else items
    missing = [i.path for i in items if not i.path.is_file()]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise AudioError(f"{missing[0]}: listed in {path.name} but not found{more}")
    return items


def run(
    items: list[Item],
    recognizer: Recognizer,
    phone: bool = False,
    on_file: Callable[[FileResult], None] | None = None,
) -> Report:
    """Recognise every item once and score it."""
    report = Report(recognizer.name, recognizer.model, phone)
    for item, pcm in _load_all(items, phone):
        t0 = time.perf_counter()
        hyp = recognizer.transcribe(pcm, SAMPLE_RATE, words=False).text  # text is scored
        spent = time.perf_counter() - t0
        one = report.score.add(item.transcript, hyp)
        report.strict.add(item.transcript, hyp)
        res = FileResult(
            str(item.path.name),
            item.transcript,
            hyp,
            one.words,
            one.errors,
            spent,
            len(pcm) / SAMPLE_RATE,
        )
        report.files.append(res)
        report.seconds += spent
        report.audio_seconds += res.audio_seconds
        if on_file:
            on_file(res)
    return report


def _load_all(items: list[Item], phone: bool) -> Iterator[tuple[Item, np.ndarray]]:
    for item in items:
        pcm = audio.load(item.path, SAMPLE_RATE)
        yield item, (phone_channel(pcm, SAMPLE_RATE) if phone else pcm)
