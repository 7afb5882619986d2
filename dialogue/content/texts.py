"""One municipality's resolved content and its texts with placeholders filled."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dialogue import hours
from dialogue.content.schema import Conversation, Municipality, Topic


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass
class MunicipalContent:
    municipality: Municipality
    topics: dict[str, Topic]  # national topics merged with this municipality's overrides
    conversation: Conversation
    own_answers: frozenset[str] = frozenset()  # topics whose answer this municipality wrote

    @property
    def slug(self) -> str:
        return self.municipality.slug

    def variables(self) -> dict[str, str]:
        m = self.municipality
        return {
            "gemeente": m.name,
            "telefoon": m.phone_spoken,
            "adres": m.address,
            "website": m.website,
            "openingstijden": hours.spoken_hours(m.opening_hours),
        }

    def fill(self, text: str, **extra: str) -> str:
        """Fill placeholders; unknown ones (validated away) become empty."""
        return text.format_map(_Blank(self.variables(), **extra))

    def prompt(self, key: str, **extra: str) -> str:
        return self.fill(self.conversation.prompts[key], **extra)

    def enabled(self, topic_id: str) -> bool:
        topic = self.topics.get(topic_id)
        return topic is not None and topic.enabled

    def office_open(self, now: dt.datetime) -> bool:
        m = self.municipality
        return hours.is_open(m.office_hours, m.holidays, now, m.timezone)

    def office_reopens(self, now: dt.datetime) -> str:
        m = self.municipality
        when = hours.next_opening(m.office_hours, m.holidays, now, m.timezone)
        return hours.spoken_moment(when, now) if when else "de volgende werkdag"

    def waste_days(self, postcode: str) -> str | None:
        """Pickup days for a postcode from the longest matching prefix."""
        best: tuple[int, str] | None = None
        for area in self.municipality.waste_schedule:
            for prefix in area.postcodes:
                if postcode.startswith(prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), area.ophaaldagen)
        return best[1] if best else None
