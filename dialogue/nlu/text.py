"""Normalising Dutch utterances before classification, the same for training and use."""

from __future__ import annotations

import re
import unicodedata

FILLERS = frozenset({"eh", "ehm", "uh", "uhm", "hm", "hmm", "euh", "ehh", "uhh", "mmm"})
_NON_WORD = re.compile(r"[^\w\s@'-]+")
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case without accents: 'Drieënvijftig' → 'drieenvijftig'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize(text: str) -> str:
    """Lower case, no accents, punctuation or hesitations; single spaces."""
    folded = _NON_WORD.sub(" ", fold(text)).replace("-", " ").replace("'", "")
    words = [w for w in _SPACE.split(folded) if w and w not in FILLERS]
    return " ".join(words)
