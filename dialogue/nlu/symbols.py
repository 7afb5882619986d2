"""Reading an utterance as symbols: words, numbers and spelled letters, with their spans.

Recognisers write 'een twee drie vier a van anton bee' as often as '1234 AB'. Each token
is read once here, so the entity scanners only see numbers and letters, not how they
were said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dialogue.nlu.numbers import joins, word_value
from dialogue.nlu.text import fold

_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+")

# Dutch letter names as people say them.
LETTER_NAMES = {
    "aa": "A", "bee": "B", "be": "B", "cee": "C", "ce": "C", "dee": "D", "ee": "E",
    "ef": "F", "eff": "F", "gee": "G", "ha": "H", "haa": "H", "ie": "I", "jee": "J",
    "ka": "K", "kaa": "K", "el": "L", "em": "M", "en": "N", "oo": "O", "pee": "P",
    "ku": "Q", "kuu": "Q", "er": "R", "es": "S", "tee": "T", "uu": "U", "vee": "V",
    "wee": "W", "iks": "X", "ix": "X", "ij": "Y", "ypsilon": "Y", "zet": "Z", "zed": "Z",
}
# The Dutch spelling alphabet.
SPELLING = {
    "anton": "A", "bernard": "B", "cornelis": "C", "dirk": "D", "eduard": "E",
    "ferdinand": "F", "gerard": "G", "hendrik": "H", "izaak": "I", "johan": "J",
    "karel": "K", "lodewijk": "L", "marie": "M", "maria": "M", "nico": "N", "otto": "O",
    "pieter": "P", "quotient": "Q", "rudolf": "R", "simon": "S", "teunis": "T",
    "theodoor": "T", "utrecht": "U", "victor": "V", "willem": "W", "xantippe": "X",
    "ypsilon": "Y", "ijmuiden": "Y", "zaandam": "Z", "zacharias": "Z",
}
# Letter names that are also very common words: only a weak letter reading.
_AMBIGUOUS_LETTERS = frozenset({"en", "er", "u", "ie", "e", "o"})
# Two-letter words that are not a pair of letters after a postcode's digits.
COMMON_WORDS = frozenset({
    "al", "an", "da", "de", "di", "do", "dr", "ga", "ha", "hé", "he", "hm", "ik", "in", "is",
    "ja", "je", "jo", "me", "mn", "na", "nu", "of", "oh", "ok", "om", "op", "pa", "te",
    "to", "uw", "we", "wi", "zo", "ze", "zn",
    "km", "kg", "cm", "mm", "ml", "mg", "mb", "kb", "pk", "kw", "st", "nr", "no",
})
DASH_WORDS = frozenset({"streepje", "koppelteken", "liggend", "minteken"})
# Gaps that keep a dictated number together: '06-123 456 78', '123.456.782', '(0)'.
_NUMBER_GAP = re.compile(r"[\s\-./()]*")


@dataclass
class Sym:
    """One word, number or letter of the utterance."""

    start: int
    end: int
    word: str  # folded lower case; words of a joined number separated by spaces
    gap: str  # the input between the previous symbol and this one
    digits: str | None = None  # number reading: '12' for 'twaalf' or '12'
    value: int | None = None
    words: int = 0  # how many number words were joined (0 for written digits)
    weak: bool = False  # 'een' that is probably the article
    letters: str | None = None  # sure letter reading: 'A' for 'a van anton', 'AB' for '1234AB'
    loose: str | None = None  # possible letter reading: 'en' → 'N', 'ab' → 'AB'
    dash: bool = False  # 'streepje'

    @property
    def glued(self) -> bool:
        """Written against the previous symbol: '1234ab', '12-ABC'."""
        return self.gap in ("", "-")

    def any_letters(self) -> str | None:
        return self.letters or self.loose


def tokens(text: str) -> list[Sym]:
    """Plain tokens: runs of digits or of letters, with the gap before each."""
    out: list[Sym] = []
    prev = 0
    for m in _TOKEN.finditer(text):
        out.append(Sym(m.start(), m.end(), fold(m.group()), text[prev:m.start()]))
        prev = m.end()
    return out


def _read(tok: Sym, raw: str, left: Sym | None, right: Sym | None) -> None:
    """Give one token its number and letter readings."""
    w = tok.word
    if w.isdigit():
        tok.digits, tok.value = w, int(w)
        return
    value = word_value(w)
    if value is not None:
        tok.digits, tok.value, tok.words = str(value), value, 1
        tok.weak = w == "een" and raw.lower() == "een"  # 'één' is meant as a number
        return
    if w in DASH_WORDS:
        tok.dash = True
        return
    glued_to_digits = (left is not None and left.word.isdigit() and tok.glued) or (
        right is not None and right.word.isdigit() and right.glued)
    code_after_digits = (left is not None and left.word.isdigit() and len(w) == 2
                         and raw.isupper() and w.isascii())
    if code_after_digits:
        tok.letters = w.upper()  # '9993 EF' as written: the letters E and F, not 'ef' (F)
    elif len(w) == 1:
        if w in _AMBIGUOUS_LETTERS and not glued_to_digits:
            tok.loose = w.upper()
        else:
            tok.letters = w.upper()
    elif w in LETTER_NAMES:
        if w in _AMBIGUOUS_LETTERS:
            tok.loose = LETTER_NAMES[w]
        else:
            tok.letters = LETTER_NAMES[w]
    elif w in SPELLING:
        tok.letters = SPELLING[w]
    elif len(w) <= 3 and w.isascii() and (raw.isupper() or glued_to_digits):
        tok.letters = w.upper()
    elif len(w) == 2 and w.isascii() and w not in COMMON_WORDS:
        tok.loose = w.upper()


def _spelled(toks: list[Sym], i: int) -> str | None:
    """The letter of 'a van anton' / 'ka als karel' starting at token i."""
    if i + 2 >= len(toks):
        return None
    letter = toks[i].letters or toks[i].loose
    if not letter or len(letter) != 1 or toks[i + 1].word not in ("van", "als", "voor"):
        return None
    word = toks[i + 2].word
    if SPELLING.get(word) == letter or (word.isalpha() and len(word) > 2 and
                                         word[0].upper() == letter):
        return letter
    return None


def symbols(text: str) -> list[Sym]:
    """The utterance as symbols: numbers joined ('tweeduizend vijfentwintig' is one),
    spelled letters merged ('a van anton' is one letter 'A')."""
    toks = tokens(text)
    for i, tok in enumerate(toks):
        _read(tok, text[tok.start:tok.end], toks[i - 1] if i else None,
              toks[i + 1] if i + 1 < len(toks) else None)
    out: list[Sym] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        letter = _spelled(toks, i)
        if letter:
            out.append(Sym(tok.start, toks[i + 2].end, " ".join(t.word for t in toks[i:i + 3]),
                           tok.gap, letters=letter))
            i += 3
            continue
        prev = out[-1] if out else None
        if (prev is not None and prev.words and tok.words and not tok.gap.strip()
                and tok.value is not None and prev.value is not None):
            joined = joins(prev.value, prev.words, tok.value, tok.word)
            if joined is not None:
                prev.value, prev.digits = joined, str(joined)
                prev.end, prev.word = tok.end, f"{prev.word} {tok.word}"
                prev.words += 1
                prev.weak = False
                i += 1
                continue
        out.append(tok)
        i += 1
    return out


def number_gap(gap: str) -> bool:
    """Whether a gap keeps two parts of a dictated number together."""
    return _NUMBER_GAP.fullmatch(gap) is not None


def digit_runs(syms: list[Sym]) -> list[list[int]]:
    """Indices of symbols forming one dictated digit string ('nul zes - twaalf 34')."""
    runs: list[list[int]] = []
    cur: list[int] = []
    dash_ok = False
    for i, s in enumerate(syms):
        if s.digits is not None and (not cur or number_gap(s.gap)):
            cur.append(i)
            dash_ok = False
        elif s.dash and cur and not dash_ok:
            dash_ok = True  # one 'streepje' between digits
        else:
            if cur:
                runs.append(cur)
            cur = [i] if s.digits is not None else []
            dash_ok = False
    if cur:
        runs.append(cur)
    return runs
