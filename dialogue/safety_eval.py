"""``loket eval safety``: recall on sensitive phrasings, false triggers on near-misses."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from dialogue.errors import DialogueError
from dialogue.evaluate import tsv_rows
from dialogue.nlu.understand import Understander

NONE = "none"


@dataclass
class Case:
    text: str
    situation: str  # a safety id, or "none"
    kind: str


@dataclass
class SafetyReport:
    positives: int
    recall: float  # any situation found
    right: float  # the right situation (the right help line)
    near_misses: int
    false_triggers: float
    by_kind: dict[str, tuple[int, int]]  # kind -> (items, correct)
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # text, expected, got

    def to_dict(self) -> dict:
        return {
            "positives": self.positives, "recall": round(self.recall, 4),
            "right_line": round(self.right, 4), "near_misses": self.near_misses,
            "false_triggers": round(self.false_triggers, 4),
            "by_kind": {k: {"items": n, "correct": ok} for k, (n, ok) in self.by_kind.items()},
        }


def read_tsv(path: Path, known: set[str]) -> list[Case]:
    """Rows with `text`, `situation` (a safety id or none) and `kind`."""
    cases = []
    for n, row in tsv_rows(path, {"text", "situation", "kind"}):
        text, situation = row.get("text", ""), row.get("situation", "")
        if situation not in known | {NONE}:
            raise DialogueError(f"{path}:{n}: unknown situation {situation!r}")
        if not text:
            raise DialogueError(f"{path}:{n}: empty text")
        cases.append(Case(text, situation, row.get("kind", "") or "-"))
    return cases


def run(cases: list[Case], nlu: Understander) -> SafetyReport:
    found = right = false = 0
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for case in cases:
        hit = nlu.understand(case.text).safety
        got = hit.id if hit else NONE
        ok = got == case.situation
        tally = kinds[f"{'near-miss' if case.situation == NONE else 'safety'}/{case.kind}"]
        tally[0] += 1
        tally[1] += ok
        if case.situation == NONE:
            false += got != NONE
        else:
            found += got != NONE
            right += ok
        if not ok:
            misses.append((case.text, case.situation, got))
    positives = sum(c.situation != NONE for c in cases)
    negatives = len(cases) - positives
    return SafetyReport(
        positives=positives, recall=found / positives if positives else 1.0,
        right=right / positives if positives else 1.0, near_misses=negatives,
        false_triggers=false / negatives if negatives else 0.0,
        by_kind={k: (v[0], v[1]) for k, v in sorted(kinds.items())}, misses=misses)
