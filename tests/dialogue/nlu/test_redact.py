"""Removing BSNs, IBANs, phone numbers and e-mail addresses from log text."""

import io
import logging
import time

import pytest

from dialogue.nlu.redact import RedactingFilter, failure, iban_ok, redact


@pytest.mark.parametrize(("text", "expected"), [
    ("mijn bsn is 123456782", "mijn bsn is [bsn]"),
    ("bsn 123 456 782 graag", "bsn [bsn] graag"),
    ("123.456.782", "[bsn]"),
    ("mijn bsn is een twee drie vier vijf zes zeven acht twee",
     "mijn bsn is [bsn]"),
    ("twaalf vierendertig zesenvijftig achtenzeventig twee", "[bsn]"),
    ("NL91 ABNA 0417 1643 00 en 12", "[iban] en 12"),
    ("iban nl91abna0417164300.", "iban [iban]."),
    ("rekening NL91ABNA0417164300", "rekening [iban]"),
    ("BE68539007547034", "[iban]"),
    ("DE89 3704 0044 0532 0130 00", "[iban]"),
    ("GB82WEST12345698765432", "[iban]"),
    ("bel 06-12345678 of (020) 123 45 67", "bel [telefoon] of [telefoon]"),
    ("+31 6 12345678", "[telefoon]"),
    ("caller +31612345678 connected", "caller [telefoon] connected"),
    ("+32 2 555 12 34", "[telefoon]"),
    ("nul zes twaalf vierendertig zesenvijftig achtenzeventig", "[telefoon]"),
    ("mail jan.jansen@example.nl nu", "mail [e-mail] nu"),
    ("jan punt jansen apenstaartje example punt nl", "[e-mail]"),
    ("bsn 123456782, tel 0612345678, mail a@b.nl",
     "bsn [bsn], tel [telefoon], mail [e-mail]"),
])
def test_redacts(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "bsn 123456789",  # fails the 11-proof
    "ik heb drie kinderen",
    "postcode 1234 AB huisnummer 12",
    "session 2026-11-25 10:00:00,123 ok",
    "om 10.30 uur op 14-3",
    "NL91 ABNA 0417",  # too short for an IBAN
    "DE00 3704 0044 0532 0130 00",  # wrong checksum
    "",
])
def test_leaves_other_text_alone(text):
    assert redact(text) == text


def test_iban_checksum():
    assert iban_ok("NL91ABNA0417164300")
    assert iban_ok("BE68539007547034")
    assert not iban_ok("BE68539007547035")
    assert not iban_ok("XX68539007547034")


def test_redaction_is_idempotent():
    once = redact("bsn 123456782 en 0612345678")
    assert redact(once) == once


def _record(msg: str, args: object) -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, None)


def test_filter_redacts_message_and_string_args():
    f = RedactingFilter()
    rec = _record("caller %s said %s", ("0612345678", "mijn bsn is 123456782"))
    assert f.filter(rec) is True
    assert rec.getMessage() == "caller [telefoon] said mijn bsn is [bsn]"
    rec = _record("mail jan@example.nl", None)
    f.filter(rec)
    assert rec.getMessage() == "mail [e-mail]"


def test_filter_redacts_numeric_and_mapping_args():
    f = RedactingFilter()
    rec = _record("bsn %d", (123456782,))
    f.filter(rec)
    assert rec.getMessage() == "bsn [bsn]"
    rec = _record("count %d of %s", (3, "x"))
    f.filter(rec)
    assert rec.getMessage() == "count 3 of x"
    rec = _record("tel %(tel)s", ({"tel": "06 12345678"},))
    f.filter(rec)
    assert rec.getMessage() == "tel [telefoon]"


def test_filter_on_a_handler():
    log = logging.getLogger("loket.test.redact")
    handler = logging.Handler()
    seen: list[str] = []
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    try:
        log.warning("terugbellen op %s", "nul zes een twee drie vier vijf zes zeven acht")
    finally:
        log.removeHandler(handler)
    assert seen == ["terugbellen op [telefoon]"]


def test_fast_enough_for_every_log_line():
    lines = ["session 42 caller: ik wil graag een afspraak maken voor mijn paspoort",
             "session 42 caller: mijn nummer is 0612345678 en postcode 1234 AB",
             "session 42 loket: Een paspoort kost 84,70 euro."] * 300
    t0 = time.perf_counter()
    for line in lines:
        redact(line)
    per_line = (time.perf_counter() - t0) / len(lines)
    assert per_line < 0.002  # generous: ~0.05 ms on a laptop


def _raise_with_name() -> None:
    try:
        int("Jan de Vries")
    except ValueError as exc:
        raise RuntimeError("no callback for Jan de Vries, 06 12345678") from exc


def test_failure_names_type_and_place_never_the_message():
    try:
        _raise_with_name()
    except RuntimeError as exc:
        line = failure(exc)
    assert line.startswith("RuntimeError at nlu/test_redact.py:")
    assert "_raise_with_name" in line and "Vries" not in line and "1234" not in line


def test_logged_traceback_keeps_frames_and_drops_messages():
    log = logging.getLogger("loket.test.redact.exc")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    try:
        try:
            _raise_with_name()
        except RuntimeError:
            log.exception("callback failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "_raise_with_name" in text and "builtins.RuntimeError" in text
    assert "builtins.ValueError" in text  # the cause's frames are kept too
    assert "06 12345678" not in text and "12345678" not in text
    assert "Vries" not in text
