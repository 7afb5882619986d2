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


def _entity(text: str, kind: str) -> str | None:
    return next((e.value for e in entities.extract(text) if e.type == kind), None)


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
        return _entity(text, "huisnummer") or _entity(text, "number")
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
