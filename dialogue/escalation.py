"""Handover records: what an agent reads when a caller reaches them (or asks to be called)."""

from __future__ import annotations

import datetime as dt
import re

from dialogue.content.texts import MunicipalContent
from dialogue.state import Session
from dialogue.turns import Handover

REASONS = {
    "asked": "wil een medewerker spreken",
    "not_understood": "werd twee keer niet begrepen",
    "not_automatable": "heeft een vraag die een medewerker moet behandelen",
    "sensitive": "noemde een gevoelige situatie",
    "melding": "doet een melding",
    "callback": "vraagt om teruggebeld te worden",
}
SLOT_LABELS = {"postcode": "postcode", "huisnummer": "huisnummer", "locatie": "locatie",
               "omschrijving": "omschrijving", "naam": "naam", "telefoon": "telefoon",
               "vraag": "vraag"}


def _last_caller_words(session: Session) -> str | None:
    for line in reversed(session.transcript):
        if line.role == "caller" and len(line.text.split()) >= 3:
            return line.text
    return None


def summary(session: Session, pack: MunicipalContent, reason: str, topic: str | None,
            data: dict[str, str], detail: str | None = None) -> str:
    """One or two Dutch sentences for the agent."""
    about = f" over {pack.topics[topic].title}" if topic in pack.topics else ""
    first = f"Beller {REASONS.get(reason, reason)}{about}"
    first += f" ({detail})." if detail else "."
    if data:
        facts = ", ".join(f"{SLOT_LABELS.get(k, k)} {v}" for k, v in data.items())
        return f"{first} Gegevens: {facts}."
    said = _last_caller_words(session)
    if said:
        said = re.sub(r"\s+", " ", said).strip()
        said = said if len(said) <= 140 else said[:137] + "..."
        return f"{first} Laatst gezegd: '{said}'."
    return first


def handover(session: Session, pack: MunicipalContent, reason: str, now: dt.datetime,
             data: dict[str, str] | None = None, detail: str | None = None,
             callback: bool = False) -> Handover:
    """Build and remember a handover record for this session."""
    data = dict(data or {})
    record = Handover(
        reason=reason,
        summary=summary(session, pack, reason, session.topic, data, detail),
        topic=session.topic,
        municipality=pack.slug,
        data=data,
        transcript=list(session.transcript),
        created_at=now.isoformat(timespec="seconds"),
        callback=callback,
    )
    session.handovers.append(record)
    return record
