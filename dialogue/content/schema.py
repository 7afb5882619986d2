"""The shape of content packs: what a municipality edits, validated with pydantic.

A national library holds one file per topic plus the conversation texts; each
municipality has one file that adapts it (overrides, local facts, topics off).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from dialogue.intents import CONVERSATION, TOPICS

URL = re.compile(r"(https?://|www\.)\S+|\b\S+\.(nl|com|org|eu|net|info)\b", re.I)


def sentences(text: str) -> list[str]:
    """The sentences of a text, split after . ! or ?"""
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
DAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
SLOT_TYPES = ("postcode", "huisnummer", "date", "time", "phone", "email", "text", "name", "number")
FACT_KEYS = ("kosten", "meenemen", "afspraak", "duur", "waar")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _check_spoken(text: str) -> str:
    """Spoken text: no URLs read aloud, at most two short sentences."""
    if URL.search(text):
        raise ValueError("spoken text must not contain a URL or web address")
    said = sentences(text)
    if len(said) > 2:
        raise ValueError(f"spoken text has {len(said)} sentences; at most 2 per turn")
    if any(len(s.split()) > 25 for s in said):
        raise ValueError("spoken sentence longer than 25 words; keep it short (B1)")
    return text


class Answer(_Model):
    """A spoken answer (phone) and a longer text answer (chat)."""

    spoken: str = Field(min_length=2)
    text: str = Field(min_length=2)

    _spoken = field_validator("spoken")(lambda cls, v: _check_spoken(v))


class Facts(_Model):
    """Short spoken sentences answering the usual follow-up questions."""

    kosten: str | None = None
    meenemen: str | None = None
    afspraak: str | None = None
    duur: str | None = None
    waar: str | None = None
    appointment_needed: bool | None = None

    @field_validator(*FACT_KEYS)
    @classmethod
    def _spoken(cls, v: str | None) -> str | None:
        return None if v is None else _check_spoken(v)


class Slot(_Model):
    """Something the flow asks for before it can finish."""

    name: str = Field(pattern=r"^[a-z_]+$")
    type: Literal[SLOT_TYPES]  # type: ignore[valid-type]
    prompt: str
    confirm: bool = False

    _prompt = field_validator("prompt")(lambda cls, v: _check_spoken(v))


class FollowUp(_Model):
    """A question Loket asks after the answer; 'ja' leads to `on_yes`."""

    question: str
    on_yes: str  # an intent id, a fact key, or "medewerker"

    _question = field_validator("question")(lambda cls, v: _check_spoken(v))


class UplRef(_Model):
    name: str
    uri: str = Field(pattern=r"^https?://")


class Topic(_Model):
    """One municipal topic of the national library."""

    id: str
    title: str  # how Loket names it in a question: "uw paspoort of ID-kaart"
    upl: list[UplRef] = []
    answer: Answer
    facts: Facts = Facts()
    followup: FollowUp | None = None
    examples: list[str] = Field(min_length=8)
    keywords: list[str] = []
    slots: list[Slot] = []
    done: Answer | None = None  # said when all slots are filled
    automatable: bool = True  # False: hand over to a person after the answer
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in TOPICS:
            raise ValueError(f"unknown topic id {v!r}; expected one of: {', '.join(TOPICS)}")
        return v

    @model_validator(mode="after")
    def _slots_need_done(self) -> Topic:
        if self.slots and self.done is None:
            raise ValueError("a topic with slots needs a 'done' answer")
        return self


class TopicOverride(_Model):
    """A municipality's changes to a national topic; every field optional."""

    title: str | None = None
    answer: Answer | None = None
    facts: Facts | None = None
    followup: FollowUp | None = None
    examples: list[str] = []  # added to the national ones
    keywords: list[str] = []
    done: Answer | None = None
    automatable: bool | None = None
    enabled: bool | None = None


class Hours(_Model):
    """Opening hours per weekday: "08:30-17:00" or "gesloten"."""

    ma: str = "gesloten"
    di: str = "gesloten"
    wo: str = "gesloten"
    do: str = "gesloten"
    vr: str = "gesloten"
    za: str = "gesloten"
    zo: str = "gesloten"

    @field_validator(*DAYS)
    @classmethod
    def _valid(cls, v: str) -> str:
        if v != "gesloten" and not _HHMM.match(v):
            raise ValueError(f"{v!r} is not 'HH:MM-HH:MM' or 'gesloten'")
        return v


class WasteArea(_Model):
    """Pickup days for the addresses whose postcode starts with one of `postcodes`."""

    postcodes: list[str] = Field(min_length=1)  # "1234" or "1234A" prefixes
    ophaaldagen: str  # spoken: "Restafval op maandag, GFT op donderdag in de even weken."

    @field_validator("postcodes")
    @classmethod
    def _prefixes(cls, v: list[str]) -> list[str]:
        for prefix in v:
            if not re.fullmatch(r"[1-9]\d{3}[A-Z]{0,2}", prefix):
                raise ValueError(f"{prefix!r} is not a postcode prefix like 1234 or 1234AB")
        return v

    _spoken = field_validator("ophaaldagen")(lambda cls, v: _check_spoken(v))


def _e164(number: str, alternative: str = "") -> str:
    """A phone number that exists in its country's numbering plan, written as E.164."""
    valid = False
    if re.fullmatch(r"\+\d{8,15}", number):
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(number, None))
        except phonenumbers.NumberParseException:
            valid = False
    if not valid:
        raise ValueError(f"{number!r} is not a valid E.164 phone number like +31201234567"
                         f"{alternative}")
    return number


PhoneNumber = Annotated[str, AfterValidator(_e164)]


class Municipality(_Model):
    name: str
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    demo: bool = False
    phone_numbers: list[PhoneNumber] = Field(min_length=1)
    phone_spoken: str  # the general number as said aloud
    address: str
    website: str
    transfer_number: str  # contact centre, E.164 or sip:
    opening_hours: Hours  # the desk at the town hall
    office_hours: Hours  # when agents take transfers
    holidays: list[dt.date] = []
    timezone: str = "Europe/Amsterdam"
    waste_schedule: list[WasteArea] = []

    @field_validator("transfer_number")
    @classmethod
    def _transfer(cls, v: str) -> str:
        return v if v.startswith("sip:") else _e164(v, " or a sip: address")


class MunicipalPack(_Model):
    """One municipality's file: who it is and how it adapts the library."""

    municipality: Municipality
    topics: dict[str, TopicOverride] = {}

    @field_validator("topics")
    @classmethod
    def _known(cls, v: dict[str, TopicOverride]) -> dict[str, TopicOverride]:
        unknown = [k for k in v if k not in TOPICS]
        if unknown:
            raise ValueError(f"unknown topic id(s): {', '.join(unknown)}")
        return v


class Safety(_Model):
    """A sensitive situation: answered first with the right number."""

    id: str
    keywords: list[str] = Field(min_length=1)
    # Prototype phrasings for the semantic detector (dialogue/nlu/safety.py).
    examples: list[str] = []
    spoken: str
    text: str

    _spoken = field_validator("spoken")(lambda cls, v: _check_spoken(v))


class Conversation(_Model):
    """National texts and examples for the conversation intents."""

    examples: dict[str, list[str]]
    prompts: dict[str, str]
    safety: list[Safety] = []
    # Close to a sensitive situation but not one: negatives for the safety detector.
    safety_near_misses: list[str] = []

    @field_validator("safety")
    @classmethod
    def _safety(cls, v: list[Safety]) -> list[Safety]:
        ids = [s.id for s in v]
        if len(ids) != len(set(ids)):
            raise ValueError("safety ids must be unique")
        seen: dict[str, str] = {}
        for item in v:
            for example in item.examples:
                key = example.casefold()
                if key in seen:
                    raise ValueError(f"safety example {example!r} is in {seen[key]} "
                                     f"and {item.id}")
                seen[key] = item.id
        return v

    @model_validator(mode="after")
    def _near_misses_apart(self) -> Conversation:
        examples = {e.casefold() for s in self.safety for e in s.examples}
        both = [n for n in self.safety_near_misses if n.casefold() in examples]
        if both:
            raise ValueError(f"safety near-miss is also a safety example: {both[0]!r}")
        return self

    @field_validator("examples")
    @classmethod
    def _intents(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = [k for k in v if k not in CONVERSATION]
        if unknown:
            raise ValueError(f"unknown conversation intent(s): {', '.join(unknown)}")
        missing = [k for k in CONVERSATION if k not in v]
        if missing:
            raise ValueError(f"no examples for: {', '.join(missing)}")
        return v

    @field_validator("prompts")
    @classmethod
    def _prompts(cls, v: dict[str, str]) -> dict[str, str]:
        missing = [k for k in PROMPTS if k not in v]
        if missing:
            raise ValueError(f"missing prompt(s): {', '.join(missing)}")
        return v


# Every prompt the conversation needs; {placeholders} are filled at run time.
PROMPTS = {
    "greeting": "welcome, names the municipality: {gemeente}",
    "greeting_again": "after an answer: 'can I help you with anything else?' (yes/no)",
    "ask": "open question: 'what can I help you with?'",
    "offer_person": "after a sensitive answer: would you like to speak to a colleague? (yes/no)",
    "not_understood": "first miss: ask to rephrase in a few words",
    "not_understood_again": "second miss before escalation",
    "clarify": "two close topics: {a} and {b}",
    "clarify_again": "after a bare 'ja' to clarify: ask once more, {a} or {b}",
    "clarify_neither": "neither of the two topics: ask what it is about, mention a person",
    "confirm_slot": "read back a value: {value}",
    "postcode_letters": "after 4 postcode digits by keypad: ask the two letters",
    "slot_retry": "value not understood, ask again: {prompt}",
    "transfer": "connecting to a colleague",
    "callback_offer": "outside office hours: offer a callback",
    "callback_name": "ask the caller's name",
    "callback_phone": "ask the phone number",
    "callback_question": "ask the question in short",
    "callback_done": "callback registered; {wanneer} when they will call",
    "goodbye": "goodbye",
    "thanks": "reply to thanks, ask if anything else",
    "help": "what Loket can do",
    "no_fact": "the topic has no answer to that follow-up",
    "nothing_to_repeat": "nothing said yet",
    "disabled": "topic switched off locally: refer to {telefoon}",
    "referral_unknown": "another organisation, but which is unclear: 1400",
}
