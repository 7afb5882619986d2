"""Session state survives a restart: SQLite file, JSON round trip."""

from pathlib import Path

from dialogue.state import Pending, Session, SessionStore
from dialogue.turns import Handover, Line


def test_session_round_trip_through_a_file(tmp_path: Path):
    path = tmp_path / "state" / "sessions.sqlite3"
    store = SessionStore(path)
    line = Line("caller", "ik wil een paspoort", "2026-12-07T09:00:00", "paspoort_id", 0.9)
    session = Session(id="abc", municipality="demodam", caller="+31612345678",
                      topic="paspoort_id", pending=Pending("slot", "afvalkalender", "postcode"),
                      slots={"huisnummer": "12A"}, transcript=[line])
    session.handovers.append(Handover("asked", "Beller wil iemand spreken.", "paspoort_id",
                                      "demodam", {"postcode": "1234AB"}, [line],
                                      "2026-12-07T09:00:00"))
    store.put(session)
    store.close()

    again = SessionStore(path).get("abc")  # a new process opening the same file
    assert again == session


def test_update_and_delete():
    store = SessionStore(":memory:")
    session = Session(id="x", municipality="demodam")
    store.put(session)
    session.misses = 2
    store.put(session)
    got = store.get("x")
    assert got is not None and got.misses == 2
    store.delete("x")
    assert store.get("x") is None
