"""Reading a slot's value from what the caller said or keyed."""

from __future__ import annotations

import re

from dialogue.content.schema import Slot
from dialogue.nlu import entities
from dialogue.nlu.text import normalize
from dialogue.nlu.understand import Understanding

_NAME_LEAD = re.compile(
    r"^(ja |nou |eh )*(mijn naam is|ik heet|ik ben|met|dit is|u spreekt met)\s+", re.I)
_THIS_NUMBER = re.compile(r"\b(dit nummer|dit telefoonnummer|hetzelfde nummer|waarmee ik bel|"
                          r"nummer waar ik mee bel|ja)\b")


# Slot types whose values are recognisable in any sentence, asked for or not.
TYPED = frozenset({"postcode", "huisnummer", "date", "time", "phone", "email"})


def _entity(text: str, kind: str) -> str | None:
    return next((e.value for e in entities.extract(text) if e.type == kind), None)


def values_in(slots: list[Slot], text: str, filled: dict[str, str], asked: Slot | None = None,
              u: Understanding | None = None) -> dict[str, str]:
    """Every slot value in this turn: the asked slot in any form, the others when typed.

    'Postcode 9991 AB, huisnummer 12' gives both when only the postcode was asked; letters
    after keyed postcode digits ('a b twaalf' after 9991) complete the postcode.
    """
    text = text.strip()
    if not text:
        return {}
    digits = filled.pop("_postcode_cijfers", None)
    if digits and asked is not None and asked.type == "postcode":
        text = f"{digits} {text}"
    found = entities.extract(text)
    values: dict[str, str] = {}
    used: set[int] = set()
    for slot in slots:
        if slot.type not in TYPED:
            continue
        hit = next((n for n, e in enumerate(found) if e.type == slot.type and n not in used),
                   None)
        if hit is not None:
            used.add(hit)
            values[slot.name] = found[hit].value
    if asked is not None and asked.name not in values:
        value = slot_value(asked, text, {}, u)
        if value is not None:
            values[asked.name] = value
    return values


def correction(slots: list[Slot], text: str) -> dict[str, str]:
    """Values in an answer to a read-back: 'nee, huisnummer 14', or just 'nee veertien'
    when one slot takes a plain number."""
    values = values_in(slots, text, {})
    numeric = [x for x in slots if x.type in ("huisnummer", "number")]
    if len(numeric) == 1 and numeric[0].name not in values:
        answer = next((e for e in entities.extract(text) if e.type == "yesno"), None)
        rest = text[answer.end:] if answer is not None and answer.start == 0 else text
        value = slot_value(numeric[0], rest.strip(" ,.!"), {}, None)  # 'nee, twaalf a'
        if value is not None:
            values[numeric[0].name] = value
    return values


def slot_value(slot: Slot, text: str, filled: dict[str, str], u: Understanding | None,
               dtmf: bool = False) -> str | None:
    """The value for `slot` in this turn, or None when it is not there."""
    text = text.strip()
    if not text:
        return None
    if slot.type == "postcode":
        digits = filled.pop("_postcode_cijfers", None)
        if dtmf:
            return None  # four digits alone: the letters still have to be said
        return _entity(f"{digits} {text}" if digits else text, "postcode")
    if slot.type == "huisnummer":
        if dtmf:
            return text if text.isdigit() else None
        # asked for a house number, '12-2' is one, not a date
        return (_entity(text, "huisnummer") or _entity(text, "number")
                or _entity(f"huisnummer {text}", "huisnummer"))
    if slot.type in {"date", "time", "phone", "email", "number"}:
        if dtmf and slot.type in {"phone", "number"}:
            return text
        return _entity(text, slot.type)
    if slot.type == "name":
        name = _NAME_LEAD.sub("", text).strip(" .")
        return name if 1 <= len(name.split()) <= 6 else None
    # free text: anything with some substance
    return text if len(normalize(text).split()) >= 2 else None


def callback_value(field: str, text: str, u: Understanding | None,
                   caller: str | None) -> str | None:
    """Name, phone number or question for a callback request."""
    text = (text or "").strip()
    if not text:
        return None
    if field == "naam":
        name = _NAME_LEAD.sub("", text).strip(" .")
        return name if 1 <= len(name.split()) <= 6 else None
    if field == "telefoon":
        number = _entity(text, "phone")
        if number:
            return number
        if caller and _THIS_NUMBER.search(normalize(text)):
            return caller
        return None
    return text if len(normalize(text).split()) >= 2 else None
