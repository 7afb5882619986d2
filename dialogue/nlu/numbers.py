"""Dutch number words: cardinals via text2num, ordinals, and joining words into one number."""

from __future__ import annotations

from functools import lru_cache

from text_to_num import text2num

from dialogue.nlu.text import fold

# Words text2num might read as numbers but which are too ambiguous on their own.
_NOT_NUMBERS = frozenset({"half", "paar", "enkele"})
_ORDINAL_SPECIAL = {"eerste": 1, "derde": 3, "achtste": 8}
MULTIPLIERS = {"honderd": 100, "duizend": 1000, "miljoen": 1_000_000}


@lru_cache(maxsize=8192)
def word_value(word: str) -> int | None:
    """The value of one Dutch number word ('drieënvijftig' → 53), or None."""
    w = fold(word)
    if not w.isalpha() or w in _NOT_NUMBERS:
        return None
    for spelling in (w, w.replace("eeen", "eeën")):  # text2num needs 'tweeën…' with its ë
        try:
            return int(text2num(spelling, "nl"))
        except Exception:  # text2num raises ValueError (and sometimes others) for non-numbers
            continue
    return None


@lru_cache(maxsize=4096)
def ordinal_value(word: str) -> int | None:
    """The value of an ordinal ('veertiende' → 14, 'eerste' → 1), or None."""
    w = fold(word)
    if w in _ORDINAL_SPECIAL:
        return _ORDINAL_SPECIAL[w]
    for suffix in ("ste", "de"):
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            value = word_value(w[: -len(suffix)])
            if value:
                return value
    return None


def tail_scale(value: int) -> int:
    """The multiplier a number ends in: 2000 → 1000, 1200 → 100, 53 → 1.

    A number that ends in 'honderd' or 'duizend' can still take a smaller number after it
    ('tweeduizend vijfentwintig' is 2025); anything else is closed.
    """
    if value == 0:
        return 1
    for scale in (1_000_000, 1000, 100):
        if value % scale == 0:
            return scale
    return 1


def joins(prev_value: int, prev_words: int, value: int, word: str) -> int | None:
    """The value of `prev` followed by `value` when they form one number, else None."""
    scale = tail_scale(prev_value)
    if scale > 1 and 0 < value < scale:
        return prev_value + value  # 'tweeduizend' 'vijfentwintig'
    mult = MULTIPLIERS.get(fold(word))
    if mult and prev_words == 1 and 0 < prev_value < mult:
        return prev_value * mult  # 'zestien' 'honderd'
    return None
