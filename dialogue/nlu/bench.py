"""``loket bench nlu``: what each part of intent understanding adds, and what it costs.

Per labelled TSV: accuracy and confidently wrong (a wrong intent, not onbekend, with
confidence >= 0.7) for the n-grams alone, the embeddings alone, both combined, and
the whole `understand()` (which adds referral). Then latency per utterance, resident
memory, and optionally the first start from an empty cache.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from dialogue.content.loader import Content
from dialogue.evaluate import Item
from dialogue.nlu.understand import Understander

SURE = 0.7  # a wrong answer at or above this confidence is confidently wrong
VARIANTS = {"ngrams": ("ngram",), "embeddings": ("semantic",),
            "combined": ("ngram", "semantic")}


@dataclass
class Score:
    items: int
    accuracy: float
    confidently_wrong: float  # share of all items
    abstained: float  # share answered onbekend


@dataclass
class Speed:
    utterances: int
    p50_ms: float
    p95_ms: float


def rss_mb() -> float:
    """Resident memory of this process in MB (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _score(expected: list[str], got: list[tuple[str, float]]) -> Score:
    n = len(expected)
    right = sum(e == g for e, (g, _) in zip(expected, got, strict=True))
    sure = sum(e != g and g != "onbekend" and c >= SURE
               for e, (g, c) in zip(expected, got, strict=True))
    abstained = sum(g == "onbekend" for g, _ in got)
    return Score(n, right / n, sure / n, abstained / n)


def ablation(items: list[Item], nlu: Understander) -> dict[str, Score]:
    """Each variant's score on the items, with the understander's onbekend threshold."""
    texts = [i.text for i in items]
    expected = [i.intent for i in items]
    vectors = nlu.encoder.queries(texts)
    out: dict[str, Score] = {}
    for name, parts in VARIANTS.items():
        if "semantic" in parts and nlu.classifier.semantic is None:
            continue
        ranked = nlu.classifier.predict(texts, vectors, parts)
        got = [(r[0][0] if r[0][1] >= nlu.threshold else "onbekend", r[0][1]) for r in ranked]
        out[name] = _score(expected, got)
    full = [nlu.understand(t) for t in texts]
    out["understand"] = _score(expected, [(u.intent, u.confidence) for u in full])
    return out


def latency(texts: list[str], nlu: Understander, limit: int = 300) -> Speed:
    """Milliseconds per `understand()` call, one utterance at a time, after a warm-up."""
    texts = [t for t in texts if t.strip()][:limit]
    for t in texts[:5]:
        nlu.understand(t)
    times = []
    for t in texts:
        start = time.perf_counter()
        nlu.understand(t)
        times.append((time.perf_counter() - start) * 1000)
    return Speed(len(times), float(np.percentile(times, 50)), float(np.percentile(times, 95)))


def first_start(content: Content, catalogue=None) -> float:
    """Seconds to a ready understander from an empty cache (training + embedding)."""
    old = os.environ.get("LOKET_CACHE")
    with tempfile.TemporaryDirectory(prefix="loket-bench-") as tmp:
        os.environ["LOKET_CACHE"] = tmp
        try:
            start = time.monotonic()
            Understander(content, catalogue).understand("ik wil een nieuw paspoort")
            return time.monotonic() - start
        finally:
            if old is None:
                os.environ.pop("LOKET_CACHE", None)
            else:
                os.environ["LOKET_CACHE"] = old


def to_dict(scores: dict[str, dict[str, Score]], speed: Speed, memory: dict[str, float],
            cold: float | None) -> dict:
    return {
        "sets": {path: {name: {k: round(v, 4) if isinstance(v, float) else v
                               for k, v in asdict(s).items()}
                        for name, s in per.items()}
                 for path, per in scores.items()},
        "latency_ms": {"utterances": speed.utterances, "p50": round(speed.p50_ms, 1),
                       "p95": round(speed.p95_ms, 1)},
        "memory_mb": {k: round(v) for k, v in memory.items()},
        "first_start_s": None if cold is None else round(cold, 1),
    }
