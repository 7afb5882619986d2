"""Follow-up questions about the current topic: "en wat kost dat?", "wat moet ik meenemen?"."""

from __future__ import annotations

import re

from dialogue.nlu.text import normalize

# Aspect → patterns on normalised text. Order matters: the first match wins.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kosten", re.compile(r"\b(kost|kosten|kos|prijs|tarief|betalen|betaal|bedrag|euro|"
                          r"hoe duur|wat moet ik (er )?voor (be)?talen|leges|gratis)\b")),
    ("meenemen", re.compile(r"\b(meenemen|mee nemen|meebrengen|mee brengen|meenemen|"
                            r"mee moet|mee te nemen|nodig|welke papieren|documenten|"
                            r"wat heb ik nodig)\b")),
    ("duur", re.compile(r"\b(hoe lang|hoelang|duurt|duren|wanneer (is het|kan ik het) "
                        r"(klaar|ophalen)|levertijd|hoe snel|hoeveel dagen|klaar)\b")),
    ("afspraak", re.compile(r"\b(afspraak|langskomen|langs komen|zomaar komen|"
                            r"zonder afspraak)\b")),
    ("waar", re.compile(r"\b(waar moet ik|waar kan ik|waar is|welk loket|adres|waar)\b")),
)


def aspect_of(text: str) -> str | None:
    """The fact a follow-up question asks for, or None."""
    norm = normalize(text)
    for aspect, pattern in _PATTERNS:
        if pattern.search(norm):
            return aspect
    return None


def is_short_followup(text: str) -> bool:
    """A question that only makes sense with the previous topic ("en wat kost dat")."""
    return len(normalize(text).split()) <= 8
