"""Handover records: what an agent reads when a caller reaches them (or asks to be called).

The summary is one short text (also read to the agent on a transfer): why the caller
needs a person and about what. Collected data and the transcript travel beside it, so
the summary does not repeat them.
"""

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
INCOMPLETE = "onvolledig: de beller gaf niet alle gegevens"
_ARTICLES = ("uw ", "de ", "het ", "een ")
_NOT_A_QUESTION = {"medewerker", "bevestigen", "ontkennen", "groet", "bedankt", "afscheid"}


def about(title: str) -> str:
    """A topic title ("uw paspoort of ID-kaart", said to the caller) as the agent reads it:
    "paspoort of ID-kaart"."""
    words = title.strip().split()
    if words and words[0].lower() == "uw":
        words = words[1:]
    return " ".join("de" if w == "uw" else w for w in words)


def topic_label(title: str) -> str:
    """A topic title as a heading for the agent: "Ophaaldagen van het afval"."""
    text = about(title)
    for article in _ARTICLES:
        if text.lower().startswith(article):
            text = text[len(article):]
            break
    return text[:1].upper() + text[1:]


def _last_caller_words(session: Session) -> str | None:
    """The caller's latest real sentence (not "ik wil een medewerker", "ja" or "nee")."""
    for line in reversed(session.transcript):
        if (line.role == "caller" and len(line.text.split()) >= 3
                and line.intent not in _NOT_A_QUESTION):
            return line.text
    return None


def summary(session: Session, pack: MunicipalContent, reason: str, topic: str | None,
            data: dict[str, str], detail: str | None = None) -> str:
    """One or two Dutch sentences for the agent: why and about what.

    The collected data are shown beside the summary, so they are not repeated in it;
    only without a topic or data do the caller's last words say what the call is about.
    """
    subject = f" over {about(pack.topics[topic].title)}" if topic in pack.topics else ""
    if reason == "melding":  # "doet een melding over een melding over …" says it twice
        subject = subject.replace(" over een melding over ", " over ", 1)
    first = f"Beller {REASONS.get(reason, reason)}{subject}"
    first += f" ({detail})." if detail else "."
    if subject or data:
        return first
    said = _last_caller_words(session)
    if said:
        said = re.sub(r"\s+", " ", said).strip()
        said = said if len(said) <= 140 else said[:137] + "..."
        return f"{first} De beller zei: '{said}'."
    return first


def handover(session: Session, pack: MunicipalContent, reason: str, now: dt.datetime,
             data: dict[str, str] | None = None, detail: str | None = None,
             callback: bool = False) -> Handover:
    """Build and remember a handover record for this session."""
    data = dict(data or {})
    topic = session.topic
    record = Handover(
        reason=reason,
        summary=summary(session, pack, reason, topic, data, detail),
        topic=topic,
        municipality=pack.slug,
        data=data,
        transcript=list(session.transcript),
        created_at=now.isoformat(timespec="seconds"),
        callback=callback,
    )
    session.handovers.append(record)
    return record


def incomplete_callback(session: Session, pack: MunicipalContent,
                        now: dt.datetime) -> Handover | None:
    """The callback request the caller had accepted but not finished (they hung up, or the
    process stopped, while giving the details): what was given so far, marked incomplete
    in the summary. None when no callback request was being taken."""
    pending = session.pending
    if session.ended or pending is None or pending.kind != "callback":
        return None
    data = {k: v for k, v in session.callback.items() if k != "reden"}
    if "vraag" not in data and session.topic in pack.topics:
        data["vraag"] = pack.topics[session.topic].title
    detail = REASONS.get(pending.reason or "")
    detail = f"{INCOMPLETE}; {detail}" if detail else INCOMPLETE
    return handover(session, pack, "callback", now, data, detail=detail, callback=True)
