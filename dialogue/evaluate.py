"""``loket eval nlu``: accuracy, macro-F1 and the worst confusions on a labelled TSV.

A set needs the columns ``text`` and ``intent``; others are ignored, except ``kind``
(e.g. citizen_question), ``source_id`` and ``organisation`` (the organisation a
``buiten_gemeente`` item belongs to), which the report breaks results down by.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sklearn.metrics import f1_score

from dialogue.errors import DialogueError
from dialogue.intents import INTENTS, TOPICS
from dialogue.nlu.understand import Understander

SAFE = {"onbekend"}  # a wrong answer that asks again instead of guessing
CONFIDENT_WRONG = 0.7  # a wrong intent (not onbekend) given with at least this confidence

ROOT = Path(__file__).resolve().parent.parent
OWN_TEST_SET = ROOT / "tests" / "data" / "nlu" / "testset.tsv"
EXTERNAL_DEV_SET = ROOT / "tests" / "data" / "nlu" / "external" / "devset.tsv"
# Held out: never looked at when changing the model or content; only its figure is read.
HOLDOUT_SET = ROOT / "tests" / "data" / "nlu" / "external" / "holdout.tsv"


@dataclass
class Item:
    text: str
    intent: str
    kind: str = ""
    source: str = ""
    organisation: str = ""


@dataclass
class GroupStats:
    items: int = 0
    correct: int = 0
    confident_wrong: int = 0

    def to_dict(self) -> dict:
        return {"items": self.items, "accuracy": round(self.correct / self.items, 4),
                "confident_wrong": self.confident_wrong,
                "confident_wrong_rate": round(self.confident_wrong / self.items, 4)}


@dataclass
class NluReport:
    items: int
    accuracy: float
    macro_f1: float
    confusions: list[tuple[str, str, int]]
    wrong_safe: int  # wrong, but onbekend or clarification
    wrong_confident: int  # wrong topic given with confidence ≥ 0.6
    confident_wrong: int = 0  # wrong, not onbekend, confidence ≥ CONFIDENT_WRONG
    by_kind: dict[str, GroupStats] = field(default_factory=dict)
    by_source: dict[str, GroupStats] = field(default_factory=dict)
    referrals: int = 0  # items labelled with an organisation
    referrals_right: int = 0  # ... routed to buiten_gemeente with that organisation
    misses: list[tuple[str, str, str, float]] = field(default_factory=list)

    @property
    def confident_wrong_rate(self) -> float:
        return self.confident_wrong / self.items

    def to_dict(self) -> dict:
        out = {
            "items": self.items,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "wrong_safe": self.wrong_safe,
            "wrong_confident": self.wrong_confident,
            "confident_wrong": self.confident_wrong,
            "confident_wrong_rate": round(self.confident_wrong_rate, 4),
            "confusions": [{"expected": e, "got": g, "count": n} for e, g, n in self.confusions],
        }
        if len(self.by_kind) > 1 or "" not in self.by_kind:
            out["by_kind"] = {k: s.to_dict() for k, s in sorted(self.by_kind.items())}
        if len(self.by_source) > 1 or "" not in self.by_source:
            out["by_source"] = {k: s.to_dict() for k, s in sorted(self.by_source.items())}
        if self.referrals:
            out["organisation_right"] = round(self.referrals_right / self.referrals, 4)
        return out


def tsv_rows(path: Path, columns: set[str]) -> list[tuple[int, dict[str, str]]]:
    """(line number, stripped values) per row of a TSV with at least ``columns``; every
    problem (missing file, not text, missing column, no rows) is one clear error."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            missing = columns - set(reader.fieldnames or [])
            if missing:
                raise DialogueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            rows = [(n, {k: (v or "").strip() for k, v in row.items() if k is not None})
                    for n, row in enumerate(reader, start=2)]
    except FileNotFoundError:
        raise DialogueError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DialogueError(f"{path}: is a directory, not a TSV file") from None
    except UnicodeDecodeError:
        raise DialogueError(f"{path}: not UTF-8 text") from None
    if not rows:
        raise DialogueError(f"{path}: no rows")
    return rows


def read_tsv(path: Path) -> list[Item]:
    """Rows with `text` and `intent`; every problem is one clear error."""
    items = []
    for n, row in tsv_rows(path, {"text", "intent"}):
        text, intent = row.get("text", ""), row.get("intent", "")
        if intent not in INTENTS:
            raise DialogueError(f"{path}:{n}: unknown intent {intent!r}")
        if not text:
            raise DialogueError(f"{path}:{n}: empty text")
        items.append(Item(text, intent, kind=row.get("kind", ""),
                          source=row.get("source_id", ""),
                          organisation=row.get("organisation", "")))
    return items


def run(items: list[Item], nlu: Understander) -> NluReport:
    expected, got = [], []
    wrong_safe = wrong_confident = confident_wrong = 0
    referrals = referrals_right = 0
    by_kind: dict[str, GroupStats] = defaultdict(GroupStats)
    by_source: dict[str, GroupStats] = defaultdict(GroupStats)
    misses = []
    for item in items:
        u = nlu.understand(item.text)
        predicted = u.intent
        expected.append(item.intent)
        got.append(predicted)
        groups = (by_kind[item.kind], by_source[item.source])
        for g in groups:
            g.items += 1
        if item.organisation:
            referrals += 1
            org = u.organisation.id if u.organisation else ""
            referrals_right += predicted == "buiten_gemeente" and org == item.organisation
        if predicted == item.intent:
            for g in groups:
                g.correct += 1
            continue
        misses.append((item.text, item.intent, predicted, u.confidence))
        if predicted not in SAFE and u.confidence >= CONFIDENT_WRONG:
            confident_wrong += 1
            for g in groups:
                g.confident_wrong += 1
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
        confident_wrong=confident_wrong,
        by_kind=dict(by_kind),
        by_source=dict(by_source),
        referrals=referrals,
        referrals_right=referrals_right,
        misses=misses,
    )
