"""A Dutch word list used to re-rank a recogniser's n-best hypotheses.

Whisper base often prefers a near-miss that is not a Dutch word ("milieue",
"pein") over the right one a few places down its beam. Among hypotheses
whose model score is within ``margin`` of the best, the one with the fewest
unknown words wins (ties by score). The list is Debian's ``wdutch``
(OpenTaal); ``$LOKET_LEXICON`` may point at another file, one word per line.
Phrase hints from the dialogue count as known words.
"""

import logging
import os
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_PATHS = (Path("/usr/share/dict/dutch"), Path("/usr/share/dict/nederlands"))
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


@cache
def load(path: str | None = None) -> frozenset[str]:
    """The lower-cased word set (empty, with a warning, when no list is installed)."""
    candidates = [Path(path)] if path else []
    env = os.environ.get("LOKET_LEXICON")
    candidates += [Path(env)] if env else list(DEFAULT_PATHS)
    for p in candidates:
        try:
            with p.open(encoding="utf-8", errors="replace") as f:
                return frozenset(line.strip().lower() for line in f if line.strip())
        except OSError:
            continue
    log.warning("no Dutch word list found (install wdutch); n-best re-ranking is off")
    return frozenset()


def _hint_words(extra: Iterable[str]) -> set[str]:
    """The lower-cased words of the phrase hints (they count as known words)."""
    return {w.lower() for phrase in extra for w in phrase.split()}


def unknown_rate(text: str, words: frozenset[str], extra: Iterable[str] = ()) -> float:
    """Share of the words in ``text`` that are neither in ``words`` nor in ``extra``."""
    tokens = [t.strip("'’-").lower() for t in _WORD.findall(text)]
    tokens = [t for t in tokens if t]
    if not tokens:
        return 0.0
    hinted = _hint_words(extra)
    # Look up in both rather than joining them: a union copies the whole word list.
    return sum(t not in words and t not in hinted for t in tokens) / len(tokens)


def rerank(
    hypotheses: Sequence[tuple[str, float]],
    words: frozenset[str],
    extra: Iterable[str] = (),
    margin: float = 1.0,
    weight: float = 1.0,
) -> int:
    """Index of the preferred hypothesis; each is (text, length-normalised log score)."""
    if not words or len(hypotheses) < 2:
        return 0
    extra = list(extra)
    best = max(score for _, score in hypotheses)
    ranked = [
        (weight * unknown_rate(text, words, extra) - score, i)
        for i, (text, score) in enumerate(hypotheses)
        if score >= best - margin
    ]
    return min(ranked)[1]


_LETTERS = "abcdefghijklmnopqrstuvwxyzëïéèöüáóú"


def _edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return deletes | swaps | replaces | inserts


def correct(text: str, words: frozenset[str], extra: Iterable[str] = ()) -> str:
    """Replace unknown lower-case words by the one known word a single edit away.

    Capitalised words (names) and short words are left alone, and so is a word
    with several equally close known neighbours.
    """
    if not words:
        return text
    known = _hint_words(extra)

    def fix(m: re.Match) -> str:
        w = m.group(0)
        if len(w) < 4 or not w.isalpha() or not w.islower() or w in words or w in known:
            return w
        near = {c for c in _edits1(w) if c in words}
        return near.pop() if len(near) == 1 else w

    return re.sub(r"[^\W\d_]+", fix, text)
