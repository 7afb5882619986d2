"""The live stream over a real uvicorn server (TestClient cannot stream forever)."""

import time

import httpx
from desk_helpers import PASSWORD, add_handover, csrf_of


def _login(client: httpx.Client) -> None:
    page = client.get("/desk/login")
    response = client.post("/desk/login", data={"csrf": csrf_of(page.text), "username": "anna",
                                                "password": PASSWORD})
    assert response.status_code == 303


def _events(lines):
    """(event, data) pairs from server-sent-event lines."""
    name, data = None, []
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and name is not None:
            yield name, "\n".join(data)
            name, data = None, []


def test_stream_delivers_new_handovers(live):
    timeout = httpx.Timeout(10.0)
    with httpx.Client(base_url=live.url, timeout=timeout) as client:
        _login(client)
        with client.stream("GET", "/desk/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = _events(response.iter_lines())
            name, first = next(events)
            assert name == "handovers" and "geen open overdrachten" in first
            other = add_handover(live.store, "voorbeeldrijk")
            live.hub.notify("voorbeeldrijk")
            hid = add_handover(live.store, "demodam", summary="Regel een.\r\nRegel twee.")
            live.hub.notify("demodam")  # from this (non-event-loop) thread
            name, second = next(events)
            assert name == "handovers"
            assert "Regel een.\nRegel twee." in second  # multi-line data survives
            assert f"overdracht-{hid}" in second and f"overdracht-{other}" not in second
        # the browser went away: the subscription ends
        deadline = time.monotonic() + 5
        while len(live.hub) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(live.hub) == 0


def test_stream_says_logout_when_the_session_ends(live):
    with httpx.Client(base_url=live.url, timeout=10.0) as client:
        _login(client)
        assert client.head("/desk/events").status_code == 204
        with client.stream("GET", "/desk/events") as response:
            events = _events(response.iter_lines())
            assert next(events)[0] == "handovers"
            live.store.update_agent("anna", password="een-ander-wachtwoord")
            live.hub.notify("demodam")
            assert next(events)[0] == "logout"
        assert client.head("/desk/events").status_code == 401
