"""Removing personal data from text before it is logged.

`redact(text)` replaces BSNs (9 digits passing the 11-proof, written with spaces or dots or
spoken as words), IBANs, phone numbers and e-mail addresses with the markers '[bsn]',
'[iban]', '[telefoon]' and '[e-mail]'. `RedactingFilter` does the same for log records.
Cheap checks come first, so lines without digits or '@' cost next to nothing.

Names cannot be found this way, so exceptions are logged by type and place only:
`failure(exc)` for a log line, and `RedactingFilter` replaces every traceback with
`stack(exc)`, which keeps the frames and drops the messages (they may quote what a
caller said).
"""

from __future__ import annotations

import contextlib
import logging
import re
import traceback
from collections.abc import Mapping
from pathlib import Path

from dialogue.nlu import codes
from dialogue.nlu.symbols import symbols

MARKERS = {"bsn": "[bsn]", "iban": "[iban]", "phone": "[telefoon]", "email": "[e-mail]"}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = re.compile(r"\b([A-Z]{2})\s?(\d{2})((?:\s?[A-Z0-9]){11,30})", re.I)
_NL_IBAN = re.compile(r"NL\d{2}[A-Z]{4}\d{10}", re.I)
# IBAN lengths per country (SEPA and neighbours); others are not recognised.
IBAN_LENGTHS = {
    "NL": 18, "BE": 16, "DE": 22, "FR": 27, "GB": 22, "LU": 20, "ES": 24, "IT": 27, "PT": 25,
    "AT": 20, "CH": 21, "IE": 22, "DK": 18, "SE": 24, "NO": 15, "FI": 18, "PL": 28, "CZ": 24,
    "SK": 24, "HU": 28, "GR": 27, "RO": 24, "BG": 22, "HR": 21, "SI": 19, "EE": 20, "LV": 21,
    "LT": 20, "MT": 31, "CY": 28, "IS": 26, "LI": 21, "MC": 27, "SM": 27, "TR": 26,
}
_DIGIT = re.compile(r"\d")
_NUMBER_WORD = re.compile(
    r"\b(?:nul|een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|\w+tien|"
    r"\w+tig|\w*honderd\w*|\w*duizend\w*)\b", re.I)
_MIN_DIGITS = 5  # fewer digits than this cannot be a phone number or BSN


def iban_ok(compact: str) -> bool:
    """Country length and mod-97 checksum; a Dutch IBAN only needs its shape."""
    cc = compact[:2].upper()
    if IBAN_LENGTHS.get(cc) != len(compact):
        return False
    if cc == "NL" and _NL_IBAN.fullmatch(compact):
        return True
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _iban_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in _IBAN.finditer(text):
        # characters of the candidate with their positions, to cut it at the country length
        chars = [(i, ch) for i, ch in enumerate(text[m.start():m.end()], m.start())
                 if not ch.isspace()]
        length = IBAN_LENGTHS.get(m.group(1).upper())
        if length is None or len(chars) < length:
            continue
        compact = "".join(ch for _, ch in chars[:length])
        end = chars[length - 1][0] + 1
        if iban_ok(compact) and not (end < len(text) and text[end].isalnum()):
            spans.append((m.start(), end))
    return spans


def _replace(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Replace non-overlapping spans (the earlier one wins) from the right."""
    kept: list[tuple[int, int, str]] = []
    for a, b, marker in sorted(spans):
        if not kept or a >= kept[-1][1]:
            kept.append((a, b, marker))
    for a, b, marker in reversed(kept):
        if a > 0 and text[a - 1] == "(" and ")" in text[a:b]:
            a -= 1  # '(020) 123 45 67' as a whole
        text = text[:a] + marker + text[b:]
    return text


def redact(text: str) -> str:
    """`text` without BSNs, IBANs, phone numbers and e-mail addresses."""
    if not text:
        return text
    if "@" in text:
        text = _EMAIL.sub(MARKERS["email"], text)
    spoken_mail = codes.emails(text)  # only does work when 'apenstaartje' or 'at' is said
    if spoken_mail:
        text = _replace(text, [(a, b, MARKERS["email"]) for _, _, a, b in spoken_mail])
    digits = len(_DIGIT.findall(text))
    if digits >= 12:
        spans = _iban_spans(text)
        if spans:
            text = _replace(text, [(a, b, MARKERS["iban"]) for a, b in spans])
            digits = len(_DIGIT.findall(text))
    if digits >= _MIN_DIGITS or len(_NUMBER_WORD.findall(text)) >= 4:
        found = codes.numbers(symbols(text))
        if found:
            text = _replace(text, [(a, b, MARKERS[kind]) for kind, _, a, b in found])
    return text


def _where(exc: BaseException) -> str:
    """file:line (function) where `exc` was raised, the file relative to its package."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    parts = Path(last.filename).parts
    short = "/".join(parts[-2:]) if len(parts) >= 2 else last.filename
    return f"{short}:{last.lineno} ({last.name})"


def failure(exc: BaseException) -> str:
    """An exception for a log line: its type and where it was raised, never its message.

    Messages can quote input (a name, a transcript) that `redact` cannot recognise."""
    return f"{type(exc).__name__} at {_where(exc)}"


def stack(exc: BaseException) -> str:
    """A traceback without messages or source lines: the frames (file, line, function) of
    `exc` and its causes, and their types."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__
                                         else current.__context__)
    parts: list[str] = []
    for item in reversed(chain):
        if parts:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last, messages withheld):\n")
        parts.extend(f'  File "{f.filename}", line {f.lineno}, in {f.name}\n'
                     for f in traceback.extract_tb(item.__traceback__))
        parts.append(f"{type(item).__module__}.{type(item).__qualname__}")
    return "".join(parts)


class RedactingFilter(logging.Filter):
    """Redacts log records: the message and its arguments; a traceback keeps its frames
    but loses its messages. Attach it to handlers."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = stack(record.exc_info[1])
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        args = record.args
        if isinstance(args, Mapping):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in args.items()}
        elif isinstance(args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
            if any(_leaks(a) for a in record.args):
                # a number or object that prints personal data: format it here, then redact
                # (a broken format is left for logging to report)
                with contextlib.suppress(TypeError, ValueError):
                    record.msg, record.args = redact(record.getMessage()), None
        return True


def _leaks(arg: object) -> bool:
    if arg is None or isinstance(arg, (str, bool, float)):
        return False
    shown = str(arg)
    return redact(shown) != shown
