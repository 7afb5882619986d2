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


def test_deleted_sessions_leave_no_text_in_the_files(tmp_path):
    """secure_delete plus compact(): a deleted session cannot be read back from the database
    file or its write-ahead log."""
    path = tmp_path / "sessions.sqlite3"
    store = SessionStore(path)
    for n in range(20):
        store.put(Session(id=f"s{n}", municipality="demodam", caller=f"+3161234{n:04d}"))
    store.put(Session(id="x", municipality="demodam", caller="+31698765432",
                      callback={"naam": "Jan de Vries"}))
    assert store.idle(0)[0] == "s0" and store.idle(3600) == []
    store.delete("x")
    store.compact()
    for file in tmp_path.iterdir():
        raw = file.read_bytes()
        assert b"+31698765432" not in raw and b"Jan de Vries" not in raw, file.name
    assert store.get("s3").caller == "+31612340003"  # the rest is intact
    store.close()
