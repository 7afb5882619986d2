"""Written Dutch to spoken Dutch, for espeak-ng (which reads words literally).

Rules, in the order applied:
- URLs become "de website" and e-mail addresses "het e-mailadres op de website":
  addresses are never read aloud.
- Amounts: "€ 84,70" -> "vierentachtig euro zeventig", "€ 0,50" -> "vijftig cent",
  "€ 5,-" -> "vijf euro"; a dot groups thousands ("€ 1.250").
- Dates: "14-03-2026", "14/3", "14 maart 2026" -> "veertien maart tweeduizend zesentwintig".
- Times: "9:30", "09.30 uur", "9.30u" -> "negen uur dertig"; "17:00" -> "zeventien uur".
- Postcodes: "2511 AB" -> "vijfentwintig elf, aa bee" (digits in two pairs, letters named).
- Phone numbers: service numbers as people say them ("14 020" -> "veertien nul twintig",
  "0800-2000" -> "nul achthonderd, twintig nul nul", "1400" -> "veertienhonderd"); emergency
  numbers digit by digit ("112" -> "één één twee"); other numbers digit by digit in groups.
- Abbreviations from :data:`ABBREVIATIONS`, as whole words ("BRP" -> "bee er pee").
- Ordinals ("3e" -> "derde"), percentages, house numbers with a letter ("12a" -> "twaalf a"),
  and the remaining numbers as words.
"""

import re

from num2words import num2words

ABBREVIATIONS: dict[str, str] = {
    "BRP": "bee er pee",
    "WOZ": "wos",
    "Wmo": "wee em oo",
    "WMO": "wee em oo",
    "DigiD": "diegie dee",
    "KCC": "kaa see see",
    "BSN": "bee es en",
    "IBAN": "iebaan",
    "ID-kaart": "ie dee kaart",
    "UWV": "uu wee vee",
    "SVB": "es vee bee",
    "DUO": "duo",
    "IND": "ie en dee",
    "RDW": "er dee wee",
    "CAK": "see aa kaa",
    "KvK": "kaa vee kaa",
    "GGD": "gee gee dee",
    "AOW": "aa oo wee",
    "WW": "wee wee",
    "WIA": "wie aa",
    "BTW": "bee tee wee",
    "btw": "bee tee wee",
    "e-mail": "iemeel",
    "E-mail": "iemeel",
    "e-mailadres": "iemeel adres",
    "bijv.": "bijvoorbeeld",
    "o.a.": "onder andere",
    "ca.": "ongeveer",
    "nr.": "nummer",
    "t/m": "tot en met",
    "enz.": "enzovoort",
    "i.p.v.": "in plaats van",
    "z.s.m.": "zo snel mogelijk",
    "m.b.t.": "met betrekking tot",
    "incl.": "inclusief",
    "excl.": "exclusief",
    "&": "en",
    "ma": "maandag",
    "di": "dinsdag",
    "wo": "woensdag",
    "do": "donderdag",
    "vr": "vrijdag",
    "za": "zaterdag",
    "zo": "zondag",
}
# Day abbreviations only in a list of days ("ma t/m vr", "ma-vr"), never as ordinary words.
_DAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
LETTERS = {
    "a": "aa",
    "b": "bee",
    "c": "see",
    "d": "dee",
    "e": "ee",
    "f": "ef",
    "g": "gee",
    "h": "haa",
    "i": "ie",
    "j": "jee",
    "k": "kaa",
    "l": "el",
    "m": "em",
    "n": "en",
    "o": "oo",
    "p": "pee",
    "q": "kuu",
    "r": "er",
    "s": "es",
    "t": "tee",
    "u": "uu",
    "v": "vee",
    "w": "wee",
    "x": "iks",
    "y": "ei",
    "z": "zet",
}
MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
_EMERGENCY = {"112", "113", "144"}
_ABBREV_DOTS = (
    "bijv.",
    "o.a.",
    "ca.",
    "nr.",
    "enz.",
    "i.p.v.",
    "z.s.m.",
    "m.b.t.",
    "incl.",
    "excl.",
    "t/m",
)


def words(n: int) -> str:
    """A whole number in Dutch words."""
    return num2words(n, lang="nl")


def _digits(s: str) -> str:
    return " ".join(words(int(d)) for d in s if d.isdigit())


def _amount(m: re.Match) -> str:
    whole = int(m.group("whole").replace(".", ""))
    cents = m.group("cents")
    c = int(cents.ljust(2, "0")) if cents and cents.isdigit() else 0
    if whole == 0 and c:
        return f"{words(c)} cent"
    return f"{words(whole)} euro" + (f" {words(c)}" if c else "")


def _date(day: str, month: int, year: str | None) -> str:
    out = f"{words(int(day))} {MONTHS[month - 1]}"
    return out + (f" {words(int(year))}" if year else "")


def _numeric_date(m: re.Match) -> str:
    d, mo = int(m.group("d")), int(m.group("m"))
    if not (1 <= d <= 31 and 1 <= mo <= 12):
        return m.group(0)
    return _date(m.group("d"), mo, m.group("y"))


def _time(m: re.Match) -> str:
    h, mi = int(m.group("h")), int(m.group("mi"))
    if h > 24 or mi > 59:
        return m.group(0)
    return f"{words(h)} uur" + (f" {words(mi)}" if mi else "")


def _postcode(m: re.Match) -> str:
    d = m.group("digits")
    letters = " ".join(LETTERS[c] for c in m.group("letters").lower())
    return f"{words(int(d[:2]))} {words(int(d[2:]))}, {letters}"


def _phone(m: re.Match) -> str:
    raw = m.group(0)
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+31"):
        digits = "0" + digits[2:]
    if digits.startswith(("0800", "0900")):
        rest = digits[4:]
        pairs = [rest[i : i + 2] for i in range(0, len(rest), 2)]
        said = ", ".join(_pair(p) for p in pairs)
        return f"nul {words(int(digits[1:4]))}, {said}"
    groups = [g for g in re.split(r"[\s-]+", raw.replace("+31", "0 ")) if g]
    return ", ".join(_digits(g) for g in groups)


def _pair(p: str) -> str:
    if len(p) == 2 and p[0] != "0":
        return words(int(p))
    return _digits(p)


def _service(m: re.Match) -> str:
    area = m.group("area")
    return (
        f"veertien {_digits(area[0])} {words(int(area[1:]))}"
        if area[0] == "0"
        else (f"veertien {_digits(area)}")
    )


def _ordinal(m: re.Match) -> str:
    return num2words(int(m.group(1)), lang="nl", to="ordinal")


def _number(m: re.Match) -> str:
    text = m.group(0)
    if text in _EMERGENCY:
        return _digits(text)
    if "," in text:
        whole, frac = text.split(",", 1)
        return f"{words(int(whole.replace('.', '')))} komma {_digits(frac)}"
    if text == "1400":
        return "veertienhonderd"
    return words(int(text.replace(".", "")))


_MONTH_RE = "|".join(MONTHS)
_RULES: list[tuple[re.Pattern, object]] = [
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "het e-mailadres op de website"),
    (
        re.compile(r"\b(?:https?://|www\.)\S+|\b[\w.-]+\.(?:nl|com|org|eu)(?:/\S*)?", re.I),
        "de website",
    ),
    (
        re.compile(
            r"(?:€|EUR)\s?(?P<whole>\d{1,3}(?:\.\d{3})+|\d+)(?:,(?P<cents>\d{1,2}|-{1,2}))?"
        ),
        _amount,
    ),
    (re.compile(r"\b(?P<d>\d{1,2})[-/](?P<m>\d{1,2})(?:[-/](?P<y>\d{4}))?\b"), _numeric_date),
    (
        re.compile(rf"\b(?P<d>\d{{1,2}}) (?P<mon>{_MONTH_RE})(?: (?P<y>\d{{4}}))?\b", re.I),
        lambda m: _date(m.group("d"), MONTHS.index(m.group("mon").lower()) + 1, m.group("y")),
    ),
    (re.compile(r"\b(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:\s?(?:uur|u)\b)?"), _time),
    (re.compile(r"\b(?P<digits>[1-9]\d{3}) ?(?P<letters>[A-Z]{2})\b"), _postcode),
    (re.compile(r"\b14 ?(?P<area>0\d{2,3})\b"), _service),
    (re.compile(r"\b0[89]00[- ]?\d{4}\b"), _phone),
    (re.compile(r"(?:\+31[\s-]?|\b0)\d{1,3}[\s-]?\d{6,8}\b"), _phone),
    (re.compile(r"\b(\d+)(?:e|ste|de)\b"), _ordinal),
    (re.compile(r"(\d+(?:,\d+)?)\s?%"), lambda m: f"{m.group(1)} procent"),
    (
        re.compile(r"\b(\d+)-?([a-zA-Z])\b(?![.,]\d)"),
        lambda m: f"{m.group(1)} {m.group(2).lower()}",
    ),
]


def _abbreviations(text: str) -> str:
    days = "|".join(_DAYS)
    text = re.sub(
        rf"\b({days})\s*(?:-|t/m)\s*({days})\b",
        lambda m: f"{ABBREVIATIONS[m.group(1)]} tot en met {ABBREVIATIONS[m.group(2)]}",
        text,
    )
    for short, spoken in ABBREVIATIONS.items():
        if short in _DAYS:
            continue
        pattern = re.escape(short)
        left = r"(?<![\w-])" if short[0].isalnum() else ""
        right = r"(?!\w)" if short[-1].isalnum() else ""
        text = re.sub(left + pattern + right, spoken, text)
    return text


def normalize(text: str) -> str:
    """Turn written Dutch into what a speaker says (see the module docstring)."""
    t = " ".join(text.split())
    for pattern, repl in _RULES[:2]:
        t = pattern.sub(repl, t)
    t = _abbreviations(t)
    for pattern, repl in _RULES[2:]:
        t = pattern.sub(repl, t)
    t = re.sub(r"\d+(?:\.\d{3})*(?:,\d+)?", _number, t)
    return " ".join(t.split())


def split_sentences(text: str) -> list[str]:
    """Split into sentences at . ! ? (not inside numbers, abbreviations or initials)."""
    protected = text
    for abbr in _ABBREV_DOTS:
        protected = protected.replace(abbr, abbr.replace(".", "\x00"))
    protected = re.sub(r"\b([A-Z])\.", "\\1\x00", protected)  # initials: J. de Vries
    parts = re.split(r"(?<=[.!?])\s+(?=\S)", protected)
    return [p.replace("\x00", ".").strip() for p in parts if p.strip()]
