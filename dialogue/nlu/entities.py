"""Entities in a Dutch utterance: numbers, postcodes, dates, times, yes/no and more.

`extract(text, now)` reads recogniser or chat text ('twaalf vierendertig a van anton bee',
'kwart over drie', '06-12345678') and returns typed, normalised values with their spans:

    number      '53'             postcode  '1234AB'        huisnummer  '12A', '12-2'
    date        '2026-03-14'     time      '15:15'         yesno       'ja' / 'nee'
    bsn         '123456782'      kenteken  '12-ABC-3'      phone       '0612345678'
    email       'jan.jansen@example.nl'

Where candidates overlap the more specific type wins (a postcode over its number).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialogue.nlu import codes
from dialogue.nlu.codes import Candidate
from dialogue.nlu.dates import dates
from dialogue.nlu.symbols import Sym, symbols, tokens
from dialogue.nlu.times import times

# Higher wins an overlap; equal priority: the longer span.
PRIORITY = {"email": 10, "phone": 9, "bsn": 9, "postcode": 9, "kenteken": 8, "huisnummer": 7,
            "date": 6, "time": 6, "yesno": 5, "number": 1}


@dataclass(frozen=True)
class Entity:
    type: str
    value: str  # normalised: '1234AB', '2026-03-14', '09:30'
    text: str  # the span of the input it came from
    start: int
    end: int


# -- house numbers ----------------------------------------------------------------------

_HOUSE_TRIGGERS = frozenset({"nummer", "huisnummer", "nr"})
_STREET_SUFFIXES = ("straat", "laan", "weg", "plein", "gracht", "kade", "singel", "dijk",
                    "dreef", "steeg", "markt", "plantsoen", "boulevard", "allee", "hof", "park")
_NOT_STREETS = frozenset({"onderweg", "halfweg", "vanweg", "hierweg"})
_ADDITION = frozenset({"toevoeging", "huisletter"})
_BETWEEN = frozenset({"eh", "ehm", "uh", "uhm", "en"})  # words between a postcode and its number


def _is_street(word: str) -> bool:
    return word not in _NOT_STREETS and any(
        word.endswith(sfx) and len(word) > len(sfx) + 2 for sfx in _STREET_SUFFIXES)


def _house(syms: list[Sym], j: int) -> tuple[str, int] | None:
    """A house number with its addition from symbol j: ('12A', next i)."""
    if j >= len(syms) or syms[j].value is None or (syms[j].digits or "0")[0] == "0":
        return None
    # dictated digit by digit: 'een twee a' is 12A
    parts = [syms[j].digits or ""]
    k = j + 1
    while (syms[j].words == 1 and syms[j].value < 10 and k < len(syms) and syms[k].words == 1
           and syms[k].value is not None and syms[k].value < 10 and len(parts) < 5):
        parts.append(syms[k].digits or "")
        k += 1
    floor = None
    if k < len(syms) and syms[k].word == "hoog" and len(parts) > 1:
        floor = parts.pop()  # 'twaalf drie hoog': the last number is the floor
    number = "".join(parts)
    if not number.isdigit() or not 0 < int(number) < 100_000:
        return None
    nxt = syms[k] if k < len(syms) else None
    if floor is not None:
        return f"{number}-{floor}", k + 1
    if nxt is None:
        return number, k
    if nxt.word == "hoog":
        return f"{number} hoog", k + 1
    if nxt.word == "bis":
        return f"{number} bis", k + 1
    if nxt.gap.strip() == "-" and nxt.digits and nxt.words == 0:
        return f"{number}-{nxt.digits}", k + 1
    if nxt.dash and k + 1 < len(syms) and syms[k + 1].digits:
        return f"{number}-{syms[k + 1].digits}", k + 2
    if nxt.value is not None and k + 1 < len(syms) and syms[k + 1].word == "hoog":
        return f"{number}-{nxt.digits}", k + 2
    if nxt.letters and len(nxt.letters) == 1 and not nxt.gap.strip() and (
            k + 1 >= len(syms) or not syms[k + 1].any_letters()):
        return number + nxt.letters, k + 1
    if nxt.word in _ADDITION and k + 1 < len(syms):
        extra = syms[k + 1]
        letter = extra.any_letters()
        if letter and len(letter) == 1:
            return number + letter, k + 2  # 'twaalf toevoeging a'
        if extra.digits and extra.words <= 1:
            return f"{number}-{extra.digits}", k + 2  # 'twaalf toevoeging twee'
    return number, k


def house_numbers(syms: list[Sym], postcodes: list[Candidate]) -> list[Candidate]:
    """House numbers after 'nummer', a postcode or a street name, or written as '12a'."""
    after_postcode = {c[3] for c in postcodes}
    before_postcode = {c[2] for c in postcodes}
    found: list[Candidate] = []
    for i, s in enumerate(syms):
        j = None
        nxt = syms[i + 1] if i + 1 < len(syms) else None
        if s.word in _HOUSE_TRIGGERS:
            j = i + 2 if i + 1 < len(syms) and syms[i + 1].word == "is" else i + 1
        elif s.end in after_postcode or _is_street(s.word):
            j = i + 1
            while s.end in after_postcode and j < min(len(syms), i + 3) and (
                    syms[j].word in _BETWEEN):
                j += 1  # '9991 AB eh 14', '9991 AB en 77'
        elif s.digits and s.words == 0 and i + 1 < len(syms) and syms[i + 1].gap == "" and (
                syms[i + 1].letters and len(syms[i + 1].letters or "") == 1
                and syms[i + 1].word != "e"):
            j = i  # '12a', but '14e' is an ordinal
        elif s.digits and i + 1 < len(syms) and syms[i + 1].word == "bis":
            j = i  # '12 bis'
        elif i == 0 and s.value is not None and len(syms) == 2 and syms[1].letters:
            j = 0  # the whole answer is 'twaalf a'
        elif (s.digits and not s.weak and nxt is not None and nxt.start in before_postcode
              and "," in nxt.gap and (i == 0 or syms[i - 1].digits is None)):
            j = i  # '12, 9991 AB': the number said right before the postcode
        hit = _house(syms, j) if j is not None else None
        if hit:
            start = syms[i].start if s.word in _HOUSE_TRIGGERS else syms[j].start
            found.append(("huisnummer", hit[0], start, syms[hit[1] - 1].end))
    return found


# -- yes and no -------------------------------------------------------------------------

_YES = ["ja", "jawel", "jazeker", "jaja", "jep", "jup", "yes", "klopt", "correct", "prima",
        "precies", "zeker", "inderdaad", "akkoord", "goed", "oke", "ok", "okay", "okee",
        "juist", "graag", "natuurlijk", "uiteraard", "absoluut", "perfect", "top",
        "dat klopt", "dat is goed", "dat is juist", "dat is correct", "dat is prima",
        "dat is het", "is goed", "is prima", "ja hoor", "zeker weten", "doe maar", "in orde",
        "dat is in orde", "ik denk het wel", "dat wil ik", "heel graag", "klopt helemaal"]
_NO = ["nee", "neen", "nope", "nee hoor", "klopt niet", "dat klopt niet", "niet",
       "liever niet", "dat is niet goed", "dat is niet juist", "dat is fout", "fout",
       "niet juist", "niet correct", "incorrect", "zeker niet", "absoluut niet",
       "helemaal niet", "ik denk het niet", "dat is het niet", "niet goed", "hoeft niet",
       "dat hoeft niet", "nee bedankt", "nee dank u", "nee dank je"]
_PHRASES = sorted([(tuple(p.split()), "ja") for p in _YES] + [(tuple(p.split()), "nee")
                                                           for p in _NO],
                  key=lambda x: -len(x[0]))
# Answers that also open an ordinary sentence: only an answer when little follows.
_WEAK = frozenset({"ja", "jaja", "goed", "oke", "ok", "okay", "okee", "prima", "juist", "top",
                   "niet", "graag", "precies"})
_FILLERS = frozenset({"eh", "ehm", "uh", "uhm", "euh", "hm", "hmm", "nou", "oh", "ah", "o"})
_POLITE = frozenset({"hoor", "he", "hè", "graag", "dank", "u", "je", "wel", "bedankt",
                     "alstublieft", "alsjeblieft", "meneer", "mevrouw", "dus"})
_NOT_ANSWER = frozenset({"goedemorgen", "goedemiddag", "goedenavond", "goedendag", "hallo",
                         "hoi", "dag", "met", "ik", "mijn", "wij", "we", "kunt", "kan", "wat",
                         "hoe", "waar", "wanneer"})


def yes_no(text: str) -> list[Candidate]:
    toks = tokens(text)
    words = [t.word for t in toks]
    i = 0
    while i < len(words) and words[i] in _FILLERS:
        i += 1
    chain: list[tuple[str, ...]] = []
    answer, end = None, i
    while end < len(words):
        match = next(((p, v) for p, v in _PHRASES if tuple(words[end:end + len(p)]) == p), None)
        if match is None:
            break
        chain.append(match[0])
        answer, end = match[1], end + len(match[0])  # 'ja nee' is no: the last one counts
    if answer is None:
        return []
    rest = [w for w in words[end:] if w not in _POLITE]
    if rest and ((chain == [("klopt",)] and rest[0] == "het") or text.rstrip().endswith("?")):
        return []  # a question: 'klopt het dat ik morgen een afspraak heb?'
    weak = len(chain) == 1 and len(chain[0]) == 1 and chain[0][0] in _WEAK
    if weak and rest and rest[0] in _NOT_ANSWER:
        return []
    limit = 3 if weak else 12
    if len(rest) > limit:
        return []
    return [("yesno", answer, toks[i].start, toks[end - 1].end)]


# -- plain numbers ----------------------------------------------------------------------

def plain_numbers(syms: list[Sym]) -> list[Candidate]:
    """Numbers; digits dictated one after another ('nul zes twaalf') form one number."""
    found: list[Candidate] = []
    run: list[Sym] = []
    for s in [*syms, None]:
        if s is not None and s.digits is not None and (not run or s.gap.isspace()):
            run.append(s)
            continue
        if run and not (len(run) == 1 and run[0].weak):
            found.append(("number", "".join(r.digits or "" for r in run), run[0].start,
                          run[-1].end))
        run = [s] if s is not None and s.digits is not None else []
    return found


# -- all together -----------------------------------------------------------------------

def _now() -> datetime:
    try:
        return datetime.now(ZoneInfo("Europe/Amsterdam"))
    except ZoneInfoNotFoundError:  # no tz database on this machine
        return datetime.now()


def _resolve(cands: list[Candidate]) -> list[Candidate]:
    """Keep the most specific of overlapping candidates."""
    kept: list[Candidate] = []
    for c in sorted(cands, key=lambda c: (-PRIORITY[c[0]], c[2] - c[3], c[2])):
        if all(c[3] <= k[2] or c[2] >= k[3] for k in kept):
            kept.append(c)
    return sorted(kept, key=lambda c: c[2])


def extract(text: str, now: datetime | None = None) -> list[Entity]:
    """All entities in `text`, ordered by start; dates relative to `now` (default: now in
    Europe/Amsterdam)."""
    if not text or not text.strip():
        return []
    today = (now or _now()).date()
    syms = symbols(text)
    postcodes = codes.postcodes(syms)
    cands = [*codes.emails(text), *codes.numbers(syms), *postcodes, *codes.plates(text, syms),
             *house_numbers(syms, postcodes), *dates(syms, today), *times(syms),
             *yes_no(text), *plain_numbers(syms)]
    return [Entity(t, v, text[a:b], a, b) for t, v, a, b in _resolve(cands)]
