"""The desk's HTML, in Dutch (B1) for the agents; every value goes through `html.escape`.

`render_list` makes the list of open handovers; the page shows it at once and the live
stream sends it again whenever it changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

PREFIX = "/desk"
LOGIN = f"{PREFIX}/login"
LOGOUT = f"{PREFIX}/logout"
EVENTS = f"{PREFIX}/events"
STATIC = f"{PREFIX}/static"

KINDS = {"transfer": "Doorverbonden", "callback": "Terugbelverzoek", "record": "Melding"}
REASONS = {
    "asked": "De beller vroeg om een medewerker.",
    "not_understood": "Loket begreep de beller niet goed.",
    "not_automatable": "Loket kan dit niet zelf regelen.",
    "sensitive": "Het gaat om een gevoelig onderwerp.",
    "melding": "De beller deed een melding.",
    "callback": "De beller wil teruggebeld worden.",
}
ROLES = {"caller": "Beller", "loket": "Loket"}
LOW_CONFIDENCE = 0.6  # a caller line heard with less recogniser confidence gets a warning
MISHEARD = "Mogelijk verkeerd verstaan"
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")


@dataclass(frozen=True)
class Item:
    """One open handover as the agent sees it."""

    id: int
    kind: str
    reason: str
    municipality: str  # slug
    municipality_name: str
    caller: str | None
    summary: str
    topic: str | None  # intent id
    data: dict[str, str]
    transcript: list[dict[str, Any]]  # `dialogue.turns.Line` as dicts
    created_at: dt.datetime
    timezone: str = "Europe/Amsterdam"
    topic_title: str | None = None  # the topic in Dutch, from the content pack

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "reason": self.reason,
            "municipality": self.municipality, "caller": self.caller,
            "summary": self.summary, "topic": self.topic, "topic_title": self.topic_title,
            "data": dict(self.data),
            "transcript": self.transcript, "created_at": self.created_at.isoformat(),
        }


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return dt.UTC


def _parse(at: object) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(str(at))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def dutch_date(moment: dt.datetime, zone: str) -> str:
    """'4 maart 2025, 10:15' in the municipality's time zone."""
    local = moment.astimezone(_zone(zone))
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def _offset(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"+{whole // 60}:{whole % 60:02d}"


def _label(key: str) -> str:
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _misheard(line: dict[str, Any]) -> bool:
    """A caller line the recogniser was unsure of (its confidence, not the intent's)."""
    conf = line.get("confidence")
    return (line.get("role") == "caller" and isinstance(conf, int | float)
            and not isinstance(conf, bool) and conf < LOW_CONFIDENCE)


def _transcript(item: Item) -> str:
    if not item.transcript:
        return '<p class="muted">Er is geen gesprek opgeslagen.</p>'
    zone = _zone(item.timezone)
    times = [_parse(line.get("at")) for line in item.transcript]
    start = next((t for t in times if t is not None), None)
    rows = []
    for line, at in zip(item.transcript, times, strict=True):
        role = str(line.get("role", ""))
        when = ""
        if at is not None and start is not None:
            when = (f'<time datetime="{escape(at.isoformat())}">'
                    f"{at.astimezone(zone):%H:%M:%S}</time> "
                    f'<span class="offset">{_offset((at - start).total_seconds())}</span>')
        note = ""
        if line.get("cut_off"):
            note = ' <span class="note">(onderbroken door de beller)</span>'
        if _misheard(line):
            note += f' <span class="warning">{MISHEARD}</span>'
        rows.append(f'<li class="line {escape(role)}"><span class="when">{when}</span>'
                    f'<span class="who">{escape(ROLES.get(role, role))}</span>'
                    f'<span class="text">{escape(str(line.get("text", "")))}{note}</span></li>')
    return f'<ol class="transcript">{"".join(rows)}</ol>'


def _data(data: dict[str, str]) -> str:
    if not data:
        return '<p class="muted">Geen gegevens verzameld.</p>'
    rows = "".join(f"<dt>{escape(_label(k))}</dt><dd>{escape(str(v))}</dd>"
                   for k, v in data.items())
    return f'<dl class="data">{rows}</dl>'


def render_item(item: Item, csrf: str) -> str:
    kind = KINDS.get(item.kind, item.kind)
    caller = escape(item.caller) if item.caller else "onbekend nummer"
    topic = item.topic_title or (_label(item.topic) if item.topic else "")
    # The summary says why and about what; the reason alone stands in when it was blanked.
    summary = item.summary or REASONS.get(item.reason, "") or "Geen samenvatting."
    return (
        f'<article class="handover {escape(item.kind)}" id="overdracht-{item.id}" '
        f'data-id="{item.id}">'
        f'<header><span class="kind">{escape(kind)}</span> '
        f'<span class="muni">{escape(item.municipality_name)}</span> '
        f'<time datetime="{escape(item.created_at.isoformat())}">'
        f"{escape(dutch_date(item.created_at, item.timezone))}</time></header>"
        f'<p class="caller">Telefoonnummer: <strong>{caller}</strong></p>'
        + (f'<p class="topic">Onderwerp: <strong>{escape(topic)}</strong></p>' if topic else "")
        + f'<p class="summary">{escape(summary)}</p>'
        + "<h3>Verzamelde gegevens</h3>" + _data(item.data)
        + "<details><summary>Hele gesprek</summary>" + _transcript(item) + "</details>"
        + f'<form class="handled" method="post" action="{PREFIX}/handovers/{item.id}/handled">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        '<button type="submit">Afgehandeld</button></form>'
        "</article>"
    )


def render_list(items: list[Item], csrf: str) -> str:
    """The open handovers as HTML, newest first."""
    if not items:
        return '<p class="empty">Er zijn nu geen open overdrachten.</p>'
    ordered = sorted(items, key=lambda i: (i.created_at, i.id), reverse=True)
    return "".join(render_item(item, csrf) for item in ordered)


def _page(title: str, body: str, *, body_attrs: str = "", script: bool = False) -> str:
    js = f'<script src="{STATIC}/desk.js" defer></script>' if script else ""
    return (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        f'<link rel="stylesheet" href="{STATIC}/desk.css">{js}</head>'
        f"<body{body_attrs}>{body}</body></html>"
    )


def render_login(csrf: str, *, message: str | None = None, username: str = "") -> str:
    alert = f'<p class="alert" role="alert">{escape(message)}</p>' if message else ""
    form = (
        f'<form class="login" method="post" action="{LOGIN}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        '<label for="username">Gebruikersnaam</label>'
        f'<input id="username" name="username" autocomplete="username" required '
        f'value="{escape(username)}" maxlength="64">'
        '<label for="password">Wachtwoord</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required maxlength="1024">'
        '<button type="submit">Inloggen</button></form>'
    )
    body = f'<main class="narrow"><h1>Loket – inloggen</h1>{alert}{form}</main>'
    return _page("Inloggen – Loket", body)


def render_desk(username: str, municipalities: list[str], csrf: str, items: list[Item]) -> str:
    names = ", ".join(municipalities) or "geen gemeenten"
    count = len(items)
    body = (
        '<header class="top"><h1>Loket – overdrachten</h1>'
        f'<p>Ingelogd als <strong>{escape(username)}</strong> voor {escape(names)}.</p>'
        f'<form method="post" action="{LOGOUT}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        '<button type="submit" class="quiet">Uitloggen</button></form></header>'
        '<main><p id="live" class="live" role="status" aria-live="polite">'
        "Verbinden…</p>"
        '<p id="problem" class="alert" role="alert" hidden></p>'
        f'<section id="handovers" aria-label="Open overdrachten">{render_list(items, csrf)}'
        "</section></main>"
    )
    attrs = f' data-events="{EVENTS}" data-login="{LOGIN}" data-count="{count}"'
    return _page(title(count), body, body_attrs=attrs, script=True)


def title(count: int) -> str:
    return f"({count}) Overdrachten – Loket" if count else "Overdrachten – Loket"


def render_error(status: int, message: str) -> str:
    body = (f'<main class="narrow"><h1>Dat lukte niet</h1><p class="alert">{escape(message)}'
            f'</p><p><a href="{PREFIX}">Terug naar de overdrachten</a></p></main>')
    return _page(f"Fout {status} – Loket", body)
