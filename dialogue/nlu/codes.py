"""Codes in an utterance: postcode, BSN, phone number, licence plate and e-mail address.

Each scanner returns candidates `(type, value, start, end)`; entities.py resolves overlaps.
"""

from __future__ import annotations

import re

from dialogue.nlu.symbols import Sym, digit_runs, tokens

Candidate = tuple[str, str, int, int]  # (type, value, start, end)

_BAD_POSTCODE_LETTERS = frozenset({"SA", "SD", "SS"})
_SERVICE_PREFIXES = ("0800", "0900", "0906", "0909")
# Licence plate sidecodes 1-14 as letter/digit patterns; each pattern is unique.
SIDECODES = {
    "LLDDDD": (2, 4), "DDDDLL": (2, 4), "DDLLDD": (2, 4), "LLDDLL": (2, 4),
    "LLLLDD": (2, 4), "DDLLLL": (2, 4), "DDLLLD": (2, 5), "DLLLDD": (1, 4),
    "LLDDDL": (2, 5), "LDDDLL": (1, 4), "LLLDDL": (3, 5), "LDDLLL": (1, 3),
    "DLLDDD": (1, 3), "DDDLLD": (3, 5),
}
_PLATE_CONTEXT = re.compile(
    r"kenteken|nummerbord|\bauto|wagen|voertuig|parkeer|brommer|scooter|motor", re.I)
_MAX_WINDOW = 24  # symbols; dictated numbers are never longer


def elfproef(digits: str) -> bool:
    """The BSN 11-proof: 9·d1 + 8·d2 + … + 2·d8 − d9 is divisible by 11 (and not 0)."""
    if len(digits) != 9 or not digits.isdigit() or int(digits) == 0:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


def phone_value(digits: str, plus: bool = False) -> str | None:
    """Normalised phone number ('0612345678', '14020', '+3225551234') or None."""
    if plus or digits.startswith("00"):
        rest = digits if plus else digits[2:]
        if rest.startswith("31"):
            national = rest[2:]
            national = national[1:] if national.startswith("0") else national  # +31 (0)6
            return "0" + national if len(national) == 9 else None
        return "+" + rest if 8 <= len(rest) <= 15 else None
    if digits.startswith(_SERVICE_PREFIXES):
        return digits if 8 <= len(digits) <= 11 else None
    if len(digits) == 10 and digits[0] == "0" and digits[1] != "0":
        return digits
    if digits.startswith("140") and len(digits) in (5, 6):
        return digits  # 14 + area code without its 0 prefix digit: '14 020'
    return None


def _plus_before(syms: list[Sym], i: int) -> bool:
    return "+" in syms[i].gap or (i > 0 and syms[i - 1].word == "plus")


def _start(syms: list[Sym], i: int) -> int:
    """Start of symbol i, including a written '+' or a spoken 'plus' right before it."""
    s = syms[i]
    if i > 0 and syms[i - 1].word == "plus":
        return syms[i - 1].start
    return s.start - 1 if s.gap.endswith("+") else s.start


def numbers(syms: list[Sym]) -> list[Candidate]:
    """Phone numbers and BSNs in dictated or written digit strings."""
    found: list[Candidate] = []
    for run in digit_runs(syms):
        first = run[0]
        if first > 0 and syms[first].gap == "" and syms[first - 1].word.isalpha():
            continue  # digits of a code like 'DE00 3704 …' or 'AB12'
        run = run[:_MAX_WINDOW]
        a = 0
        while a < len(run):
            hit = None
            for b in range(len(run), a, -1):
                digits = "".join(syms[k].digits or "" for k in run[a:b])
                if len(digits) > 17:
                    continue
                phone = phone_value(digits, _plus_before(syms, run[a]))
                if phone:
                    hit = ("phone", phone, _start(syms, run[a]), syms[run[b - 1]].end), b
                elif elfproef(digits) and _whole_or_written(syms, run, a, b):
                    hit = ("bsn", digits, syms[run[a]].start, syms[run[b - 1]].end), b
                if hit:
                    break
            if hit:
                found.append(hit[0])
                a = hit[1]
            else:
                a += 1
    return found


def _whole_or_written(syms: list[Sym], run: list[int], a: int, b: int) -> bool:
    """A BSN is a whole dictated run, or written digits: not a slice of a dictation."""
    if b == len(run) and (a == 0 or (a == 1 and syms[run[0]].weak)):
        return True
    return all(syms[k].words == 0 for k in run[a:b])


def _letters_after(syms: list[Sym], i: int, want: int) -> tuple[str, int] | None:
    """`want` letters spelled from symbol i on: the letters and the index after them."""
    got = ""
    while i < len(syms) and len(got) < want:
        s = syms[i]
        letters = s.any_letters()
        if not letters or (got and s.gap.strip()):
            return None
        got += letters
        i += 1
    return (got, i) if len(got) == want else None


def postcodes(syms: list[Sym]) -> list[Candidate]:
    """Postcodes: four digits (first not 0) and two letters, however they were said."""
    found: list[Candidate] = []
    for run in digit_runs(syms):
        digits = ""
        for a in range(len(run) - 1, -1, -1):
            digits = (syms[run[a]].digits or "") + digits
            if len(digits) >= 4:
                break
        end = run[-1] + 1
        if len(digits) != 4 or digits[0] == "0" or end >= len(syms):
            continue
        if syms[end].gap.strip() not in ("", ","):
            continue  # '9991 AB' or '9991, AB' as a recogniser may write it
        after = _letters_after(syms, end, 2)
        if after is None or after[0] in _BAD_POSTCODE_LETTERS:
            continue
        found.append(("postcode", digits + after[0], syms[run[a]].start, syms[after[1] - 1].end))
    return found


def _plate_part(s: Sym, loose: bool) -> str | None:
    if s.digits is not None:
        return s.digits
    return s.letters or (s.loose if loose else None)


def plates(text: str, syms: list[Sym]) -> list[Candidate]:
    """Dutch licence plates in any sidecode: '12-ABC-3', 'gb 12 nk', 'twaalf a b c drie'."""
    context = _PLATE_CONTEXT.search(text) is not None
    found: list[Candidate] = []
    a = 0
    while a < len(syms):
        hit = None
        chars = ""
        dashes: list[int] = []  # character positions with a dash written or said before them
        b = a
        while b < len(syms) and len(chars) < 6:
            s = syms[b]
            if b > a and s.dash:
                dashes.append(len(chars))
                b += 1
                continue
            part = _plate_part(s, context)
            if part is None or (b > a and s.gap.strip() not in ("", "-")):
                break
            if b > a and "-" in s.gap:
                dashes.append(len(chars))
            chars += part
            b += 1
        if len(chars) == 6 and chars.isalnum():
            pattern = "".join("D" if c.isdigit() else "L" for c in chars)
            cuts = SIDECODES.get(pattern)
            longer = b < len(syms) and syms[b].gap in ("", "-") and (
                _plate_part(syms[b], context) is not None)
            if cuts and not longer and _plausible_plate(pattern, cuts, dashes, context):
                x, y = cuts
                value = f"{chars[:x]}-{chars[x:y]}-{chars[y:]}".upper()
                hit = ("kenteken", value, syms[a].start, syms[b - 1].end)
        if hit:
            found.append(hit)
            a = b
        else:
            a += 1
    return found


def _plausible_plate(pattern: str, cuts: tuple[int, int], dashes: list[int],
                     context: bool) -> bool:
    if dashes:
        return sorted(set(dashes)) == list(cuts)  # dashes exactly where the sidecode has them
    # undashed four digits and two letters is a postcode unless plates are being discussed
    return context or pattern != "DDDDLL"


_EMAIL_WORDS = {"punt": ".", "dot": ".", "apenstaartje": "@", "at": "@", "et": "@",
                "streepje": "-", "koppelteken": "-", "underscore": "_"}
_EMAIL_HINT = re.compile(r"@|\b(?:apenstaartje|at|et)\b", re.I)
_EMAIL = re.compile(
    r"(?<![\w.@+-])([a-z0-9_+]+(?: ?[._+-] ?[a-z0-9_+]+)*) ?@ ?"
    r"([a-z0-9]+(?: ?- ?[a-z0-9]+)*(?: ?\. ?[a-z0-9]+(?: ?- ?[a-z0-9]+)*)+)")


def emails(text: str) -> list[Candidate]:
    """E-mail addresses written or spelled out: 'jan punt jansen apenstaartje example punt nl'."""
    if not _EMAIL_HINT.search(text):
        return []
    # Rebuild the text with spoken separators as characters, remembering where each came from.
    flat: list[str] = []
    where: list[tuple[int, int]] = []
    for tok in tokens(text):
        if where:
            gap = tok.gap
            sep = gap if gap in (".", "@", "-", "_", "+", "") else " " if gap.isspace() else "|"
            flat.append(sep)
            where += [(tok.start - len(gap), tok.start)] * len(sep)
        piece = _EMAIL_WORDS.get(tok.word) or text[tok.start:tok.end].lower()
        flat.append(piece)
        where += [(tok.start, tok.end)] * len(piece)
    found: list[Candidate] = []
    for m in _EMAIL.finditer("".join(flat)):
        local, domain = m.group(1).replace(" ", ""), m.group(2).replace(" ", "")
        tld = domain.rsplit(".", 1)[-1]
        if tld.isalpha() and len(tld) >= 2:
            found.append(("email", f"{local}@{domain}", where[m.start()][0],
                          where[m.end() - 1][1]))
    return found
