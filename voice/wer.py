"""Word error rate with a Dutch text normalisation applied to both sides.

Both reference and hypothesis are lower-cased, stripped of punctuation and
emphasis accents (é -> e; the trema stays), hyphenated compounds are joined
(e-mail -> email), and numbers are written as Dutch
words, so "3" and "drie" or "'s morgens" and "smorgens" count as the same.

Dutch writes compounds as one word, and recognisers often split them
("loop afstand" for "loopafstand") or join words the other way. Unless
``compounds=False``, a hypothesis word pair whose concatenation is a reference
word, or a hypothesis word that is the concatenation of two adjacent reference
words, counts as the same, provided the joined form is in the Dutch word list
(so "republiekneutraal" for "republiek neutraal" is still wrong).
"""

import itertools
import re
import unicodedata
from dataclasses import dataclass

import jiwer
from num2words import num2words

from voice.asr import lexicon

_EMPHASIS = {"\u0301", "\u0300"}  # combining acute / grave
_SYMBOLS = {"%": " procent ", "€": " euro ", "&": " en ", "+": " plus "}


def _strip_emphasis(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _EMPHASIS))


def _number(match: re.Match) -> str:
    whole, frac = match.group(1), match.group(2)
    words = num2words(int(whole.replace(".", "")), lang="nl")
    if frac:
        words += " komma " + num2words(int(frac), lang="nl")
    return f" {words} "


def normalize(text: str) -> str:
    """Normalise Dutch text for comparison (see module docstring)."""
    t = _strip_emphasis(text.lower())
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    t = re.sub(r"(\d+(?:\.\d{3})*)(?:,(\d+))?", _number, t)
    t = re.sub(r"(?<!\w)[’'`]s[\s-]+(?=\w)", "s", t)  # 's morgens -> smorgens
    t = re.sub(r"[’'`]", "", t)
    t = re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", "", t)  # e-mail -> email, as compounds join
    t = re.sub(r"[^\w\s]|_", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def match_compounds(hyp: list[str], ref: list[str], words: frozenset[str]) -> list[str]:
    """Rewrite ``hyp`` so compounds are split or joined as in ``ref`` (see module docstring)."""
    ref_words = set(ref)
    ref_pairs = {a + b: (a, b) for a, b in itertools.pairwise(ref)}
    out: list[str] = []
    i = 0
    while i < len(hyp):
        w, nxt = hyp[i], hyp[i + 1] if i + 1 < len(hyp) else ""
        joined = w + nxt
        if nxt and joined in ref_words and joined in words and ref_pairs.get(joined) != (w, nxt):
            out.append(joined)
            i += 2
            continue
        if w in ref_pairs and w not in ref_words and w in words:
            out.extend(ref_pairs[w])
        else:
            out.append(w)
        i += 1
    return out


def edits(ref: str, hyp: str) -> tuple[int, int, int]:
    """(substitutions, deletions, insertions) between two normalised texts."""
    if not ref:
        return 0, 0, len(hyp.split())
    if not hyp:
        return 0, len(ref.split()), 0
    m = jiwer.process_words(ref, hyp)
    return m.substitutions, m.deletions, m.insertions


@dataclass(slots=True)
class Score:
    """Edit counts over a set of utterances; ``compounds`` applies the compound rule."""

    compounds: bool = True
    words: int = 0
    errors: int = 0
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0

    @property
    def wer(self) -> float:
        """Errors per reference word (0.0 for an empty reference set)."""
        return self.errors / self.words if self.words else 0.0

    def add(self, reference: str, hypothesis: str) -> "Score":
        """Score one pair of texts, add it to the totals and return that pair's score."""
        ref, hyp = normalize(reference), normalize(hypothesis)
        if self.compounds and ref and hyp:
            hyp = " ".join(match_compounds(hyp.split(), ref.split(), lexicon.load()))
        one = Score(self.compounds, words=len(ref.split()))
        one.substitutions, one.deletions, one.insertions = edits(ref, hyp)
        one.errors = one.substitutions + one.deletions + one.insertions
        for f in ("words", "errors", "substitutions", "deletions", "insertions"):
            setattr(self, f, getattr(self, f) + getattr(one, f))
        return one
