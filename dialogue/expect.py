"""What the caller may say or key next, derived from the pending question."""

from __future__ import annotations

from dialogue.content.texts import MunicipalContent
from dialogue.state import Pending
from dialogue.turns import DtmfSpec, Expect

YES_NO_PHRASES = ["ja", "nee", "ja graag", "nee dank u", "klopt", "dat klopt niet"]
DIGITS = ["nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"]
LETTERS = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
           "q", "r", "s", "t", "u", "v", "w", "x", "y", "z"]
ALWAYS = ["medewerker", "herhalen", "dank u wel", "tot ziens"]

_SLOT_DTMF = {
    "postcode": DtmfSpec(4, 4, "#", "de 4 cijfers van uw postcode, dan hekje"),
    "huisnummer": DtmfSpec(1, 5, "#", "uw huisnummer, dan hekje"),
    "phone": DtmfSpec(10, 10, "#", "het telefoonnummer, dan hekje"),
    "number": DtmfSpec(1, 9, "#", "het getal, dan hekje"),
}


def _topic_phrases(pack: MunicipalContent) -> list[str]:
    phrases: list[str] = []
    for topic in pack.topics.values():
        if topic.enabled:
            phrases.extend(topic.keywords[:3])
    return phrases


def expect_for(pending: Pending | None, pack: MunicipalContent) -> Expect:
    """Phrases usable as a recogniser grammar, and the keys accepted."""
    if pending is None:
        return Expect([*_topic_phrases(pack), *ALWAYS], DtmfSpec())
    if pending.kind in {"followup", "anything_else", "offer_callback", "offer_person", "confirm"}:
        return Expect([*YES_NO_PHRASES, *ALWAYS], DtmfSpec(description="1 voor ja, 2 voor nee"))
    if pending.kind == "clarify":
        titles = [pack.topics[o].title for o in pending.options if o in pack.topics]
        return Expect([*titles, *(k for o in pending.options for k in pack.topics[o].keywords[:3]),
                       *ALWAYS], DtmfSpec(description="1 of 2"))
    if pending.kind == "slot":
        topic = pack.topics.get(pending.topic or "")
        slot = next((s for s in topic.slots if s.name == pending.slot), None) if topic else None
        kind = slot.type if slot else "text"
        phrases = {"postcode": [*DIGITS, *LETTERS, "van"], "huisnummer": [*DIGITS, *LETTERS],
                   "number": DIGITS}.get(kind, [])
        return Expect([*phrases, *ALWAYS], _SLOT_DTMF.get(kind), slot=pending.slot)
    if pending.kind == "callback" and pending.slot == "telefoon":
        return Expect([*DIGITS, "dit nummer", *ALWAYS], _SLOT_DTMF["phone"], slot="telefoon")
    return Expect(list(ALWAYS), None, slot=pending.slot)
