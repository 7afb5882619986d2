"""Clock times in Dutch utterances: 'half tien' → '09:30', 'kwart over drie' → '15:15'.

Spoken Dutch times use a 12-hour clock. Without a part of the day, 1–6 o'clock is taken
as the afternoon (a municipality's office hours); 's ochtends / 's middags / 's avonds /
's nachts decide otherwise.
"""

from __future__ import annotations

from dialogue.nlu.codes import Candidate
from dialogue.nlu.symbols import Sym

_BEFORE_DURATION = frozenset({"over", "binnen", "duurt", "duren", "kost", "per", "ruim"})
_MINUTES = frozenset({"minuut", "minuten", "min"})
_AFTER_OM = frozenset({"s", "uur", "smiddags", "smorgens", "savonds", "snachts", "sochtends",
                       "middags", "ochtends", "morgens", "avonds", "nachts", "precies",
                       "ongeveer", "graag", "of", "en", "dan"})
_GREETING_PREFIXES = ("goede", "goeie", "goeden")
_MORNINGS = frozenset({"morgenvroeg", "vanmorgen"})


def daypart(syms: list[Sym]) -> str | None:
    """'am', 'pm', 'evening' or 'night' when the utterance names a part of the day."""
    for s in syms:
        w = s.word
        if w.startswith(_GREETING_PREFIXES):
            continue
        if w.endswith(("ochtend", "ochtends", "morgens", "voormiddag")) or w in _MORNINGS:
            return "am"
        if w.endswith(("middag", "middags")):
            return "pm"
        if w.endswith(("avond", "avonds")):
            return "evening"
        if w.endswith(("nacht", "nachts")) or w == "middernacht":
            return "night"
    return None


def _clock(hour: int, minute: int, twelve: bool, part: str | None) -> str:
    """'HH:MM' for a spoken (12-hour) or written (24-hour) time."""
    if twelve:
        if part == "am":
            pass
        elif part == "pm":
            hour += 12 if hour <= 7 else 0
        elif part == "evening":
            hour = 0 if hour == 12 else hour + 12
        elif part == "night":
            hour = 0 if hour == 12 else hour + 12 if hour >= 7 else hour
        elif 1 <= hour <= 6:
            hour += 12
    return f"{hour % 24:02d}:{minute:02d}"


def _num(syms: list[Sym], i: int, lo: int, hi: int) -> int | None:
    """A number from lo to hi at symbol i: one word, or at most two written digits."""
    if i >= len(syms):
        return None
    s = syms[i]
    if s.value is None or not lo <= s.value <= hi or s.words > 1:
        return None
    return None if s.words == 0 and len(s.digits or "") > 2 else s.value


def _word(syms: list[Sym], i: int, *words: str) -> bool:
    return i < len(syms) and syms[i].word in words


def _before_half(h: int) -> int:
    """The hour before 'half h' on a 12-hour clock: 'half een' is half past twelve."""
    return 12 if h == 1 else h - 1


def _spoken(syms: list[Sym], i: int, after_om: bool = False
            ) -> tuple[int, int, bool, int] | None:
    """(hour, minute, twelve-hour, next i) for a spoken time starting at symbol i."""
    # 'tien over half elf', 'vijf voor half drie'
    m = 15 if _word(syms, i, "kwart") else _num(syms, i, 1, 14)
    k = i + 1 + _word(syms, i + 1, *_MINUTES)
    if m is not None and not syms[i].weak and _word(syms, k, "over", "voor"):
        if _word(syms, k + 1, "half"):
            h = _num(syms, k + 2, 1, 12)
            if h is not None:
                base = _before_half(h) * 60 + 30
                t = base + m if syms[k].word == "over" else base - m
                return (t // 60 - 1) % 12 + 1, t % 60, True, k + 3
        h = _num(syms, k + 1, 1, 12)
        if h is not None and (m == 15 or m <= 20 or k > i + 1):
            t = h * 60 + m if syms[k].word == "over" else h * 60 - m
            return (t // 60 - 1) % 12 + 1, t % 60, True, k + 2
    if _word(syms, i, "half"):
        h = _num(syms, i + 1, 1, 12)
        if h is not None:
            return _before_half(h), 30, True, i + 2
    h = _num(syms, i, 0, 24)
    if h is not None and _word(syms, i + 1, "uur"):
        if (i > 0 and syms[i - 1].word in _BEFORE_DURATION) or (syms[i].weak and not after_om):
            return None  # 'over drie uur', 'het duurt twee uur', 'een uur wachten'
        minute = _num(syms, i + 2, 1, 59)
        nxt = i + 3 if minute is not None else i + 2
        return h, minute or 0, 1 <= h <= 12, nxt
    if _word(syms, i, "om") and i + 1 < len(syms):
        inner = _written(syms, i + 1) or _spoken(syms, i + 1, after_om=True)
        if inner is not None:
            return inner
        h = _num(syms, i + 1, 1, 24)
        if h is not None and (i + 2 >= len(syms) or syms[i + 2].word in _AFTER_OM):
            return h, 0, h <= 12, i + 2
    return None


def _written(syms: list[Sym], i: int) -> tuple[int, int, bool, int] | None:
    """'10:30', '10.30', '9u30', '14h15'."""
    s = syms[i]
    if s.words or s.digits is None or len(s.digits) > 2 or i + 1 >= len(syms):
        return None
    j = i + 1
    if syms[j].gap == "" and syms[j].word in ("u", "h"):
        j += 1
        if j >= len(syms) or syms[j].gap != "":
            return None
    elif syms[j].gap not in (":", "."):
        return None
    m = syms[j]
    if m.words or m.digits is None or len(m.digits) != 2:
        return None
    hour, minute = int(s.digits), int(m.digits)
    if hour > 24 or minute > 59:
        return None
    if j + 1 < len(syms) and (syms[j + 1].word == "euro" or syms[j + 1].gap in (".", ":", "-")):
        return None  # a price or a longer number
    if "€" in s.gap:
        return None
    nxt = j + 2 if _word(syms, j + 1, "uur") else j + 1
    return hour, minute, 1 <= hour <= 12 and not s.digits.startswith("0"), nxt


def times(syms: list[Sym]) -> list[Candidate]:
    part = daypart(syms)
    found: list[Candidate] = []
    i = 0
    while i < len(syms):
        hit = _written(syms, i) or _spoken(syms, i)
        if hit is None:
            if syms[i].word == "middernacht":
                found.append(("time", "00:00", syms[i].start, syms[i].end))
            i += 1
            continue
        hour, minute, twelve, j = hit
        found.append(("time", _clock(hour, minute, twelve, part), syms[i].start, syms[j - 1].end))
        i = j
    return found
