import datetime as dt
import logging
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from dialogue.turns import Handover, Line
from telephony.errors import StoreError, TelephonyError
from telephony.store import Store, default_url
from telephony.store.db import MIGRATIONS
from telephony.store.models import Base

UTC = dt.UTC
PHONE = "+31612345678"
SECRET = "mijn BSN is 111222333"


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def url(tmp_path) -> str:
    return _url(tmp_path / "db" / "loket.sqlite3")


@pytest.fixture
def store(url):
    with Store(url) as s:
        yield s


def _handover(municipality: str = "utrecht", created: str = "2025-03-04T10:15:00+01:00",
              callback: bool = False) -> Handover:
    return Handover(
        reason="callback" if callback else "asked",
        summary="Beller wil een medewerker spreken over paspoort. Gegevens: naam Jan.",
        topic="paspoort",
        municipality=municipality,
        data={"naam": "Jan de Vries", "telefoon": PHONE},
        transcript=[
            Line(role="caller", text=SECRET, at="2025-03-04T10:14:00+01:00",
                 intent="paspoort", confidence=0.81),
            Line(role="loket", text="Ik verbind u door.", at="2025-03-04T10:14:05+01:00",
                 cut_off=True),
        ],
        created_at=created,
        callback=callback,
    )


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


# -- schema ---------------------------------------------------------------------------------

def test_migrations_create_the_schema_from_empty(tmp_path):
    path = tmp_path / "new" / "dir" / "loket.sqlite3"  # the directory is created too
    with Store(_url(path)) as store:
        inspector = sa.inspect(store.engine)
        assert set(inspector.get_table_names()) == {
            "alembic_version", "calls", "call_events", "turns", "handovers", "agents"}
        with store.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == _head()
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert path.is_file()


def test_models_and_migrations_agree(store):
    opts = {"compare_type": True}
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata) == []
        # the comparison does see differences: a column the migrations lack
        other = sa.MetaData()
        for table in Base.metadata.sorted_tables:
            table.to_metadata(other)
        other.tables["calls"].append_column(sa.Column("extra", sa.Integer))
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), other)
        assert [d[0] for d in diff] == ["add_column"]


def test_default_url_lives_in_loket_data(monkeypatch, tmp_path):
    monkeypatch.setenv("LOKET_DATA", str(tmp_path / "data"))
    assert default_url() == f"sqlite:///{tmp_path / 'data' / 'loket.sqlite3'}"
    with Store() as store:
        assert store.url.database == str(tmp_path / "data" / "loket.sqlite3")
    assert (tmp_path / "data" / "loket.sqlite3").is_file()


# -- calls, turns and handovers ----------------------------------------------------------------

def test_round_trip_of_a_call_survives_a_restart(url):
    start = dt.datetime(2025, 3, 4, 9, 14, tzinfo=UTC)
    record = _handover()
    with Store(url) as store:
        store.start_call("CA1", "utrecht", PHONE, "+31302860000", started_at=start)
        assert store.start_call("CA1", "elders", None, None).municipality == "utrecht"  # retry
        store.add_event("CA1", "ringing", {"CallSid": "CA1", "From": PHONE})
        first = store.add_turn("CA1", "caller", SECRET, intent="paspoort", confidence=0.81,
                               started_at=start, ended_at=start + dt.timedelta(seconds=3),
                               recognition_ms=420, latency_ms=900)
        second = store.add_turn("CA1", "loket", "Ik verbind u door.", cut_off=True)
        assert (first.index, second.index) == (0, 1)
        handover_id = store.add_handover("CA1", record, "transfer")
        ended = store.end_call("CA1", "transfer", contained=False)
        assert store.end_call("CA1", "hangup", contained=True).end_reason == "transfer"
        assert ended.status == "completed"

    with Store(url) as again:  # a restart sees everything
        [call] = again.calls(10)
        assert (call.id, call.municipality, call.caller, call.called) == (
            "CA1", "utrecht", PHONE, "+31302860000")
        assert call.started_at == start and call.started_at.tzinfo is not None
        assert call.ended_at is not None and call.ended_at >= start
        assert (call.end_reason, call.contained) == ("transfer", False)
        assert [(e.status, e.fields) for e in again.events("CA1")] == [
            ("ringing", {"CallSid": "CA1", "From": PHONE})]

        turns = again.turns("CA1")
        assert [(t.index, t.role, t.text) for t in turns] == [
            (0, "caller", SECRET), (1, "loket", "Ik verbind u door.")]
        assert (turns[0].intent, turns[0].confidence) == ("paspoort", 0.81)
        assert (turns[0].recognition_ms, turns[0].latency_ms) == (420, 900)
        assert turns[0].ended_at == start + dt.timedelta(seconds=3)
        assert (turns[0].cut_off, turns[1].cut_off) == (False, True)
        assert turns[0].line().text == SECRET and turns[0].line().role == "caller"

        row = again.handover(handover_id)
        assert row is not None
        assert (row.call_id, row.kind, row.status, row.topic) == ("CA1", "transfer", "open",
                                                                 "paspoort")
        assert row.created_at == dt.datetime.fromisoformat(record.created_at)
        back = row.record()
        assert back.transcript == record.transcript
        assert (back.reason, back.summary, back.data) == (record.reason, record.summary,
                                                          record.data)
        assert dt.datetime.fromisoformat(back.created_at) == row.created_at
        assert again.handover(handover_id + 100) is None


def test_two_stores_on_one_file_share_data_and_writers_wait(url):
    with Store(url) as one, Store(url) as two:
        one.start_call("CA1", "utrecht", PHONE, None)
        assert [c.id for c in two.calls(5)] == ["CA1"]

        def talk(store: Store, role: str) -> None:
            for i in range(20):
                store.add_turn("CA1", role, f"zin {i}")

        threads = [threading.Thread(target=talk, args=(s, r))
                   for s, r in ((one, "caller"), (two, "loket"), (one, "loket"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        turns = one.turns("CA1")
        assert [t.index for t in turns] == list(range(60))


def test_unknown_calls_and_bad_arguments(store):
    with pytest.raises(StoreError, match="no call CAx"):
        store.end_call("CAx", "hangup", contained=True)
    with pytest.raises(StoreError, match="no call CAx"):
        store.add_turn("CAx", "caller", "hallo")
    with pytest.raises(ValueError):
        store.add_turn("CAx", "robot", "hallo")
    with pytest.raises(ValueError):
        store.add_handover(None, _handover(), "email")
    # a status callback for a call Loket never saw is still kept
    store.add_event("CAx", "completed", {"CallStatus": "completed"})
    assert [e.status for e in store.events("CAx")] == ["completed"]


def test_open_and_handled_handovers_per_municipality(store):
    store.start_call("CA1", "utrecht", PHONE, None)
    a = store.add_handover("CA1", _handover("utrecht", "2025-03-04T10:00:00+01:00"), "transfer")
    b = store.add_handover(None, _handover("utrecht", "2025-03-04T09:00:00+01:00", True),
                           "callback")
    c = store.add_handover(None, _handover("zeist"), "record")

    assert [h.id for h in store.open_handovers(["utrecht"])] == [b, a]  # oldest first
    assert [h.id for h in store.open_handovers(["zeist", "utrecht"])] == [b, a, c]
    assert store.open_handovers([]) == []
    assert store.handover(b).record().callback is True

    done = store.mark_handled(a, "anne")
    assert (done.status, done.handled_by) == ("handled", "anne")
    assert done.handled_at is not None
    assert store.mark_handled(a, "bert").handled_by == "anne"  # the first agent keeps it
    assert [h.id for h in store.open_handovers(["utrecht"])] == [b]
    with pytest.raises(StoreError, match="no handover"):
        store.mark_handled(999, "anne")


# -- retention ------------------------------------------------------------------------------

def test_purge_blanks_personal_data_but_keeps_counts(store):
    now = dt.datetime.now(UTC)
    old, new = now - dt.timedelta(days=40), now - dt.timedelta(days=2)
    for call_id, start in (("CAold", old), ("CAnew", new)):
        store.start_call(call_id, "utrecht", PHONE, "+31302860000", started_at=start)
        store.add_event(call_id, "completed", {"From": PHONE}, at=start)
        store.add_turn(call_id, "caller", SECRET, intent="paspoort", started_at=start)
        store.add_turn(call_id, "loket", "Ik verbind u door.")
        store.end_call(call_id, "transfer", contained=False, ended_at=start)
    old_h = store.add_handover("CAold", _handover(created=old.isoformat()), "transfer")
    new_h = store.add_handover("CAnew", _handover(created=new.isoformat()), "transfer")
    # without a call: an old handled one goes, an old open one stays until handled
    handled = store.add_handover(None, _handover(created=old.isoformat()), "callback")
    store.mark_handled(handled, "anne")
    waiting = store.add_handover(None, _handover(created=old.isoformat()), "callback")

    assert store.purge(older_than_days=30) == (1, 2)  # one call, two handovers
    assert store.purge(older_than_days=30) == (0, 0)  # nothing left to blank

    calls = {c.id: c for c in store.calls(10)}
    assert set(calls) == {"CAold", "CAnew"}  # rows stay
    assert calls["CAold"].caller is None and calls["CAold"].purged_at is not None
    assert (calls["CAold"].end_reason, calls["CAold"].contained) == ("transfer", False)
    assert calls["CAnew"].caller == PHONE and calls["CAnew"].purged_at is None

    old_turns, new_turns = store.turns("CAold"), store.turns("CAnew")
    assert len(old_turns) == 2 and all(t.text == "" for t in old_turns)  # counts stay
    assert old_turns[0].intent == "paspoort"
    assert [t.text for t in new_turns] == [SECRET, "Ik verbind u door."]
    assert store.events("CAold")[0].fields == {}
    assert store.events("CAnew")[0].fields == {"From": PHONE}

    for hid in (old_h, handled):
        row = store.handover(hid)
        assert (row.transcript, row.data, row.summary) == ([], {}, "")
        assert row.reason and row.topic == "paspoort"  # not personal: kept for statistics
    for hid in (new_h, waiting):
        assert store.handover(hid).transcript != []

    with pytest.raises(ValueError):
        store.purge(-1)


# -- agents -----------------------------------------------------------------------------------

def test_agent_passwords_are_hashed_and_verified(store):
    agent = store.add_agent("anne", "correct paard batterij", ["utrecht", "zeist", "utrecht"])
    assert agent.municipalities == ["utrecht", "zeist"]
    assert agent.password_hash.startswith("scrypt$")
    assert "correct paard batterij" not in agent.password_hash
    # a random salt: the same password hashes differently
    other = store.add_agent("bert", "correct paard batterij", ["zeist"])
    assert other.password_hash != agent.password_hash

    ok = store.verify_agent("anne", "correct paard batterij")
    assert ok is not None and ok.username == "anne" and ok.municipalities == ["utrecht", "zeist"]
    assert store.verify_agent("anne", "Correct paard batterij") is None
    assert store.verify_agent("anne", "") is None
    assert store.verify_agent("nobody", "correct paard batterij") is None

    with pytest.raises(StoreError, match="already exists"):
        store.add_agent("anne", "een ander wachtwoord", [])
    with pytest.raises(StoreError, match="at least"):
        store.add_agent("carla", "kort", [])

    store.update_agent("anne", password="nieuw wachtwoord", municipalities=["bunnik"])
    assert store.verify_agent("anne", "correct paard batterij") is None
    assert store.verify_agent("anne", "nieuw wachtwoord").municipalities == ["bunnik"]
    assert [a.username for a in store.agents()] == ["anne", "bert"]
    assert store.remove_agent("bert") is True and store.remove_agent("bert") is False
    assert store.agent("bert") is None


# -- errors and privacy ------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    "geen url",
    "nosuchdialect://host/db",
    "postgresql+nosuchdriver://loket:geheim@localhost/loket",
])
def test_a_bad_url_gives_one_clear_line(bad):
    with pytest.raises(StoreError) as info:
        Store(bad)
    message = str(info.value)
    assert "\n" not in message and "geheim" not in message
    assert isinstance(info.value, TelephonyError)


def test_an_unusable_database_gives_store_error(tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"dit is geen database " * 200)
    with pytest.raises(StoreError, match=r"cannot open database .*not a database"):
        Store(_url(junk))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the directory"):
        Store(_url(blocker / "sub" / "loket.sqlite3"))


def test_transcripts_are_never_logged(store, caplog):
    caplog.set_level(logging.DEBUG)
    store.start_call("CA1", "utrecht", PHONE, None)
    store.add_turn("CA1", "caller", SECRET)
    store.add_handover("CA1", _handover(), "transfer")
    store.purge(0)
    assert caplog.records  # something was logged ...
    assert "111222333" not in caplog.text and PHONE not in caplog.text  # ... but no data
