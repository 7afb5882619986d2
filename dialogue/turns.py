"""What goes into the core and what comes out: one vocabulary for every channel."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass
class UserTurn:
    """What the caller did: said something (with recogniser detail) or pressed keys."""

    text: str = ""
    confidence: float | None = None  # the recogniser's, when it has one
    # the recogniser's n-best, best first: (text, posterior) or bare texts
    alternatives: list[tuple[str, float]] | list[str] = field(default_factory=list)
    dtmf: str | None = None  # keys pressed, e.g. "1234#"
    heard: str | None = None  # set when the caller cut Loket off: what they did hear
    at: dt.datetime | None = None  # when the turn happened (default: now)


@dataclass
class DtmfSpec:
    """Keys the dialogue accepts now, e.g. 4 digits then '#'."""

    min_digits: int = 1
    max_digits: int = 1
    terminator: str | None = None
    description: str = "0 voor een medewerker"


@dataclass
class Expect:
    """What the dialogue expects next; usable as a recogniser grammar."""

    phrases: list[str] = field(default_factory=list)
    dtmf: DtmfSpec | None = None
    slot: str | None = None  # the slot being asked for, if any


@dataclass
class Line:
    """One line of the transcript."""

    role: Literal["caller", "loket"]
    text: str
    at: str  # ISO time
    intent: str | None = None
    confidence: float | None = None
    cut_off: bool = False
    reading: str | None = None  # the recogniser's reading acted on, when not its top one


@dataclass
class Handover:
    """Everything a contact-centre agent needs when a call or callback reaches them."""

    reason: str  # asked | not_understood | not_automatable | sensitive | melding | callback
    summary: str
    topic: str | None
    municipality: str
    data: dict[str, str]
    transcript: list[Line]
    created_at: str
    callback: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Action:
    type: Literal["transfer", "callback", "record", "hangup"]  # record: for the desk
    handover: Handover | None = None


@dataclass
class BotTurn:
    """What Loket does next: say (phone), show (chat), expect and act."""

    spoken: str
    text: str
    intent: str | None = None
    confidence: float | None = None
    expect: Expect = field(default_factory=Expect)
    actions: list[Action] = field(default_factory=list)
    end: bool = False
    answered: bool = False  # this turn answers the caller's question (for call outcomes)
    private: bool = False  # spoken text holds what the caller gave: never cache its audio

    def action(self, kind: str) -> Action | None:
        return next((a for a in self.actions if a.type == kind), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
