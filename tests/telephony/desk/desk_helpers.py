"""Helpers shared by the desk tests."""

import re

from dialogue.turns import Handover, Line
from telephony.store import Store

PASSWORD = "geheim-wachtwoord-1"
CALLER = "+31612345678"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def make_handover(municipality: str = "demodam", summary: str = "Beller wil een paspoort.",
                  callback: bool = False) -> Handover:
    return Handover(
        reason="callback" if callback else "asked",
        summary=summary,
        topic="paspoort",
        municipality=municipality,
        data={"naam": "Jan de Vries", "postcode": "1234 AB"},
        transcript=[
            Line(role="caller", text="Ik wil een nieuw paspoort.",
                 at="2025-03-04T10:14:00+01:00", intent="paspoort", confidence=0.81),
            Line(role="loket", text="Ik verbind u door met een medewerker.",
                 at="2025-03-04T10:14:05+01:00"),
        ],
        created_at="2025-03-04T10:15:00+01:00",
        callback=callback,
    )


def add_handover(store: Store, municipality: str = "demodam", call_id: str | None = None,
                 **kwargs) -> int:
    if call_id is not None:
        store.start_call(call_id, municipality, CALLER, "+31201234567")
    kind = "callback" if kwargs.get("callback") else "transfer"
    return store.add_handover(call_id, make_handover(municipality, **kwargs), kind)


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, username: str = "anna", password: str = PASSWORD):
    """Log in through the form; returns the POST's response."""
    page = client.get("/desk/login")
    assert page.status_code == 200
    return client.post("/desk/login", data={"csrf": csrf_of(page.text), "username": username,
                                            "password": password})
