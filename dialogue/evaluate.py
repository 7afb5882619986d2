"""``loket eval nlu``: accuracy, macro-F1 and the worst confusions on a labelled TSV."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sklearn.metrics import f1_score

from dialogue.errors import DialogueError
from dialogue.intents import INTENTS, TOPICS
from dialogue.nlu.understand import Understander

SAFE = {"onbekend"}  # a wrong answer that asks again instead of guessing


@dataclass
class Item:
    text: str
    intent: str


@dataclass
class NluReport:
    items: int
    accuracy: float
    macro_f1: float
    confusions: list[tuple[str, str, int]]
    wrong_safe: int  # wrong, but onbekend or clarification
    wrong_confident: int  # wrong topic given with confidence ≥ 0.6
    misses: list[tuple[str, str, str, float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "items": self.items,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "wrong_safe": self.wrong_safe,
            "wrong_confident": self.wrong_confident,
            "confusions": [{"expected": e, "got": g, "count": n} for e, g, n in self.confusions],
        }


def read_tsv(path: Path) -> list[Item]:
    """Rows with `text` and `intent`; every problem is one clear error."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            missing = {"text", "intent"} - set(reader.fieldnames or [])
            if missing:
                raise DialogueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            items = []
            for n, row in enumerate(reader, start=2):
                text, intent = (row.get("text") or "").strip(), (row.get("intent") or "").strip()
                if intent not in INTENTS:
                    raise DialogueError(f"{path}:{n}: unknown intent {intent!r}")
                items.append(Item(text, intent))
    except FileNotFoundError:
        raise DialogueError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DialogueError(f"{path}: not UTF-8 text") from None
    if not items:
        raise DialogueError(f"{path}: no rows")
    return items


def run(items: list[Item], nlu: Understander) -> NluReport:
    expected, got = [], []
    wrong_safe = wrong_confident = 0
    misses = []
    for item in items:
        u = nlu.understand(item.text)
        predicted = u.intent
        expected.append(item.intent)
        got.append(predicted)
        if predicted == item.intent:
            continue
        misses.append((item.text, item.intent, predicted, u.confidence))
        alt = [i for i, _ in u.alternatives[:2]]
        clarification = predicted in TOPICS and item.intent in alt and len(alt) == 2 and (
            u.alternatives[0][1] - u.alternatives[1][1] < 0.2)
        if predicted in SAFE or clarification:
            wrong_safe += 1
        elif predicted in TOPICS and u.confidence >= 0.6:
            wrong_confident += 1
    correct = sum(e == g for e, g in zip(expected, got, strict=True))
    labels = sorted(set(expected))
    pairs = Counter((e, g) for e, g in zip(expected, got, strict=True) if e != g)
    return NluReport(
        items=len(items),
        accuracy=correct / len(items),
        macro_f1=float(f1_score(expected, got, labels=labels, average="macro", zero_division=0)),
        confusions=[(e, g, n) for (e, g), n in pairs.most_common(10)],
        wrong_safe=wrong_safe,
        wrong_confident=wrong_confident,
        misses=misses,
    )
