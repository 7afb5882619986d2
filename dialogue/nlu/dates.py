"""Dates and clock times in Dutch utterances, relative to a given moment.

'volgende week dinsdag' → '2026-12-01', 'tien over half elf' → '10:40',
'kwart over drie' → '15:15' (afternoon for 1–6 unless the morning is mentioned).
"""

from __future__ import annotations

from datetime import date, timedelta

from dialogue.nlu.codes import Candidate
from dialogue.nlu.numbers import ordinal_value
from dialogue.nlu.symbols import Sym

WEEKDAYS = {"maandag": 0, "dinsdag": 1, "woensdag": 2, "donderdag": 3, "vrijdag": 4,
            "zaterdag": 5, "zondag": 6}
MONTHS = {"januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7,
          "augustus": 8, "september": 9, "oktober": 10, "november": 11, "december": 12}
# Abbreviations only count right after a day number ('14 jan', not 'jan punt jansen').
MONTH_ABBR = {"jan": 1, "feb": 2, "mrt": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
              "sep": 9, "sept": 9, "okt": 10, "nov": 11, "dec": 12}
RELATIVE = {"vandaag": 0, "morgen": 1, "overmorgen": 2, "gisteren": -1, "eergisteren": -2,
            "vanochtend": 0, "vanmorgen": 0, "vanmiddag": 0, "vanavond": 0,
            "morgenochtend": 1, "morgenvroeg": 1, "morgenmiddag": 1, "morgenavond": 1}
_DAYPART_SUFFIXES = ("ochtend", "middag", "avond", "nacht", "morgen")
_NEXT = frozenset({"volgende", "volgend"})
_COMING = frozenset({"aanstaande", "komende", "deze"})
_ORDINAL_SUFFIX = frozenset({"e", "de", "ste"})
# Words that may follow 'de veertiende' when it is a date.
_AFTER_DAY = frozenset({"om", "van", "rond", "omstreeks", "s", "graag", "dan", "of", "en", "is",
                        "lukt", "kan", "past", "schikt", "in", "tussen", "na", "voor"})
_GREETINGS = frozenset({"goede", "goeie", "goeiemorgen"})


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _day_number(syms: list[Sym], i: int) -> tuple[int, int] | None:
    """A day of the month at symbol i ('14', 'veertien', 'veertiende', '14e'): (day, next i)."""
    s = syms[i]
    if s.value is not None and 1 <= s.value <= 31 and s.words <= 1:
        nxt = i + 1
        if (s.words == 0 and nxt < len(syms) and syms[nxt].gap == ""
                and syms[nxt].word in _ORDINAL_SUFFIX):
            nxt += 1  # '14e', '1ste'
        return s.value, nxt
    ordinal = ordinal_value(s.word) if s.digits is None else None
    if ordinal and ordinal <= 31:
        return ordinal, i + 1
    return None


def _month(syms: list[Sym], i: int, after_digits: bool) -> int | None:
    if i >= len(syms):
        return None
    w = syms[i].word
    return MONTHS.get(w) or (MONTH_ABBR.get(w) if after_digits else None)


def _calendar(syms: list[Sym], i: int, today: date) -> tuple[date, int] | None:
    """'14 maart [2027]', 'veertiende maart', 'de veertiende': (date, next i)."""
    found = _day_number(syms, i)
    if found is None:
        return None
    day, j = found
    month = _month(syms, j, syms[i].words == 0)
    if month is None:
        # 'de veertiende' or 'de 14e': this month, or the next one when it has passed
        is_ordinal = (syms[i].words == 0 and j > i + 1) or syms[i].digits is None
        if not (is_ordinal and i > 0 and syms[i - 1].word == "de"):
            return None
        if j < len(syms) and syms[j].word not in _AFTER_DAY and syms[j].digits is None:
            return None  # 'de eerste keer' is no date
        year, mon = today.year, today.month
        for _ in range(3):
            d = _valid(year, mon, day)
            if d is not None and d >= today:
                return d, j
            year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
        return None
    j += 1
    if j < len(syms) and syms[j].value is not None and 1900 <= syms[j].value <= 2100:
        d = _valid(syms[j].value, month, day)
        return (d, j + 1) if d else None
    d = _valid(today.year, month, day)
    if d is not None and d < today:
        d = _valid(today.year + 1, month, day)
    return (d, j) if d else None


def _weekday(word: str) -> int | None:
    """Weekday index of 'dinsdag' or 'dinsdagmiddag'."""
    for name, idx in WEEKDAYS.items():
        if word == name or (word.startswith(name) and word[len(name):] in _DAYPART_SUFFIXES):
            return idx
    return None


def _written(syms: list[Sym], i: int, today: date) -> tuple[date, int] | None:
    """'2026-03-14', '14-3', '14/3/2027', '14.03.2027'."""
    parts = [syms[i]]
    k = i + 1
    while k < len(syms) and len(parts) < 3 and syms[k].words == 0 and syms[k].digits and (
            syms[k].gap in ("-", "/", ".")):
        parts.append(syms[k])
        k += 1
    if len(parts) < 2 or any(p.words or p.digits is None for p in parts):
        return None
    seps = {p.gap for p in parts[1:]}
    if len(seps) != 1 or (k < len(syms) and syms[k].gap in ("-", "/", ".") and syms[k].digits):
        return None
    nums = [p.digits or "" for p in parts]
    if len(nums) == 3 and len(nums[0]) == 4:
        d = _valid(int(nums[0]), int(nums[1]), int(nums[2]))
    elif len(nums) == 3 and len(nums[2]) in (2, 4) and len(nums[0]) <= 2:
        year = int(nums[2]) + (2000 if len(nums[2]) == 2 else 0)
        d = _valid(year, int(nums[1]), int(nums[0]))
    elif len(nums) == 2 and seps != {"."} and all(len(n) <= 2 for n in nums):
        d = _valid(today.year, int(nums[1]), int(nums[0]))
        if d is not None and d < today:
            d = _valid(today.year + 1, int(nums[1]), int(nums[0]))
    else:
        d = None
    return (d, k) if d else None


def _relative(syms: list[Sym], i: int, today: date) -> tuple[date, int] | None:
    """'morgen', 'volgende week dinsdag', 'over twee weken', 'vrijdag'."""
    w = syms[i].word
    if w in RELATIVE and not (w == "morgen" and i > 0 and syms[i - 1].word in _GREETINGS):
        return today + timedelta(days=RELATIVE[w]), i + 1
    nxt = syms[i + 1] if i + 1 < len(syms) else None
    if w in _NEXT or w in _COMING:
        j = i + 2 if nxt is not None and w in _NEXT and nxt.word == "week" else i + 1
        idx = _weekday(syms[j].word) if j < len(syms) else None
        if idx is None:
            return None
        if w in _NEXT:  # that weekday in next week
            monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
            return monday + timedelta(days=idx), j + 1
        return today + timedelta(days=(idx - today.weekday() - 1) % 7 + 1), j + 1
    idx = _weekday(w)
    if idx is not None:  # the next such day, today excluded
        return today + timedelta(days=(idx - today.weekday() - 1) % 7 + 1), i + 1
    if w == "over" and nxt is not None and nxt.value and i + 2 < len(syms):
        unit = syms[i + 2].word
        days = {"dag": 1, "dagen": 1, "week": 7, "weken": 7}.get(unit)
        if days:
            return today + timedelta(days=days * nxt.value), i + 3
    return None


def dates(syms: list[Sym], today: date) -> list[Candidate]:
    found: list[Candidate] = []
    i = 0
    while i < len(syms):
        hit = None
        if syms[i].digits is not None and syms[i].words == 0:
            hit = _written(syms, i, today)
        hit = hit or _calendar(syms, i, today) or _relative(syms, i, today)
        if hit is None:
            i += 1
            continue
        d, j = hit
        if _weekday(syms[j - 1].word) is not None and j < len(syms):
            # 'vrijdag 27 november', 'dinsdag de veertiende': the calendar date says it
            k = j + 1 if syms[j].word == "de" and j + 1 < len(syms) else j
            cal = _calendar(syms, k, today)
            if cal is not None:
                d, j = cal
        found.append(("date", d.isoformat(), syms[i].start, syms[j - 1].end))
        i = j
    return found
