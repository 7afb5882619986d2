"""Paths and helpers shared by the tests (import from here, not from conftest: a test
directory's own conftest.py would shadow the name)."""

import csv
from difflib import SequenceMatcher
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "audio_fixtures"
NL_DEV = ROOT.parent / "shared" / "speech" / "nl-dev"


def fixture_rows() -> list[dict]:
    with (FIXTURES / "manifest.tsv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def heard(keyword: str, text: str) -> bool:
    """A key word counts as heard when some word (or two joined) is spelled close to it."""
    from voice.wer import normalize

    words = normalize(text).split()
    grams = words + [a + b for a, b in pairwise(words)]
    return any(SequenceMatcher(None, keyword, g).ratio() >= 0.75 for g in grams)
