"""The gateway's call store: calls, Twilio events, turns, handovers and desk agents.

`Store(url)` opens any SQLAlchemy URL (default: `default_url()`, a SQLite file in
``$LOKET_DATA``) and migrates it to the newest schema with Alembic before use. Every method
is one short transaction of its own, so one `Store` can be shared between threads. Rows come
back detached: read their attributes freely, changes are not saved.

SQLite runs in WAL mode with a busy timeout; transactions that write start with
``BEGIN IMMEDIATE`` so concurrent writers wait for each other instead of failing.

Problems (bad URL, unreachable database, unknown ids) raise `StoreError` with one line.
Transcripts are personal data: they are never logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, func, or_, select, update
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from dialogue import turns as dialogue_turns
from dialogue.nlu.redact import redact
from telephony.errors import StoreError
from telephony.store import passwords
from telephony.store.models import (
    KINDS,
    ROLES,
    Agent,
    Call,
    CallEvent,
    Handover,
    Turn,
    utcnow,
)

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000
MIN_PASSWORD = 8
# Twilio CallStatus values after which a call is over
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_WRITE = "loket_write"  # execution option: this transaction will write
LIVE_S = 3600  # a call that never ended is finished after this long (calls last <= 600 s)


def data_dir() -> Path:
    """``$LOKET_DATA``, default ``~/.local/share/loket``."""
    return Path(os.environ.get("LOKET_DATA") or Path.home() / ".local" / "share" / "loket")


def default_url() -> str:
    """``sqlite:///$LOKET_DATA/loket.sqlite3``."""
    return f"sqlite:///{data_dir() / 'loket.sqlite3'}"


def _first_line(exc: BaseException) -> str:
    """A short, redacted description of a database error (no SQL, no parameters)."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    text = lines[0] if lines else type(cause).__name__
    return redact(text)


def _parse_time(value: str) -> dt.datetime:
    """An ISO time from a dialogue record; naive means the machine's local time."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return utcnow()
    return parsed.astimezone(dt.UTC)


def _sqlite_setup(engine: Engine) -> None:
    """WAL, busy timeout and foreign keys per connection; BEGIN emitted by us."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # sqlite3 must not BEGIN on its own
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA secure_delete = ON")  # blanked text is overwritten
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # a writer takes the lock up front, so it waits (busy timeout) instead of failing
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """Calls, turns, handovers and agents in one database; see the module docstring."""

    def __init__(self, url: str | None = None) -> None:
        url = url or default_url()
        try:
            parsed = make_url(url)
        except (SQLAlchemyError, ValueError):
            # the URL itself is not shown: it may hold a password
            raise StoreError("not a database URL (expected e.g. sqlite:///path/loket.sqlite3 "
                             "or postgresql+psycopg://user@host/loket)") from None
        self.url: URL = parsed
        self._shown = parsed.render_as_string(hide_password=True)
        self.engine = self._engine(parsed)
        writer = self.engine.execution_options(**{_WRITE: True})
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(writer, expire_on_commit=False)
        try:
            self._migrate(writer)
        except BaseException:
            self.engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"Store({self._shown!r})"

    def close(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- opening -------------------------------------------------------------------------

    def _engine(self, url: URL) -> Engine:
        sqlite = url.get_backend_name() == "sqlite"
        options: dict[str, Any] = {}
        if sqlite:
            database = url.database or ""
            if database in {"", ":memory:"}:
                # one shared connection, or every thread would see its own empty database
                options = {"poolclass": StaticPool,
                           "connect_args": {"check_same_thread": False}}
            elif not database.startswith("file:"):
                try:
                    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"cannot create the directory for {database}: "
                                     f"{exc.strerror}") from None
        try:
            engine = create_engine(url, **options)
        except ImportError as exc:
            raise StoreError(f"cannot use database {self._shown}: its driver is not installed "
                             f"({_first_line(exc)})") from None
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot use database {self._shown}: {_first_line(exc)}") from None
        if sqlite:
            _sqlite_setup(engine)
        return engine

    def _migrate(self, writer: Engine) -> None:
        """Bring the schema to the newest revision, in one transaction."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        sqlite = self.url.get_backend_name() == "sqlite"
        try:
            with writer.connect() as conn:
                raw = conn.connection.dbapi_connection
                if sqlite and raw is not None:
                    # table rebuilds (batch mode) must not cascade into child tables
                    raw.execute("PRAGMA foreign_keys = OFF")
                try:
                    with conn.begin():
                        config.attributes["connection"] = conn
                        command.upgrade(config, "head")
                finally:
                    if sqlite and raw is not None:
                        raw.execute("PRAGMA foreign_keys = ON")
        except CommandError as exc:
            raise StoreError(f"cannot migrate database {self._shown}: {_first_line(exc)} "
                             "(made by a newer Loket?)") from None
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"cannot open database {self._shown}: {_first_line(exc)}") from None
        log.debug("call store ready: %s", self._shown)

    @contextmanager
    def _session(self, write: bool = False) -> Iterator[Session]:
        maker = self._write if write else self._read
        try:
            with maker() as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(f"database error ({self._shown}): {_first_line(exc)}") from None

    # -- calls ---------------------------------------------------------------------------

    def start_call(self, call_id: str, municipality: str, caller: str | None,
                   called: str | None, *, started_at: dt.datetime | None = None,
                   status: str = "in-progress") -> Call:
        """Record a new call; a repeated start (a retried webhook) returns the first."""
        with self._session(write=True) as s:
            call = s.get(Call, call_id)
            if call is None:
                call = Call(id=call_id, municipality=municipality, caller=caller,
                            called=called, started_at=started_at or utcnow(), status=status,
                            contained=False)
                s.add(call)
            return call

    def end_call(self, call_id: str, reason: str, contained: bool, *,
                 outcome: str | None = None, ended_at: dt.datetime | None = None) -> Call:
        """Mark a call ended with its `outcome` (see telephony.outcome); the first end
        counts, later ones change nothing."""
        with self._session(write=True) as s:
            call = s.get(Call, call_id)
            if call is None:
                raise StoreError(f"no call {call_id}")
            if call.ended_at is None:
                call.ended_at = ended_at or utcnow()
                call.end_reason = reason
                call.contained = contained
                call.outcome = outcome
                if call.status not in FINAL_STATUSES:
                    call.status = "completed"
            return call

    def add_event(self, call_id: str, status: str, fields: Mapping[str, Any],
                  *, at: dt.datetime | None = None) -> int:
        """Keep a Twilio status callback (all its fields); updates the call's status."""
        with self._session(write=True) as s:
            row = CallEvent(call_id=call_id, status=status, at=at or utcnow(),
                            fields=dict(fields))
            s.add(row)
            call = s.get(Call, call_id)
            if call is not None:
                call.status = status
            s.flush()
            return row.id

    def call(self, call_id: str) -> Call | None:
        with self._session() as s:
            return s.get(Call, call_id)

    def calls(self, limit: int = 50, municipalities: list[str] | None = None) -> list[Call]:
        """The newest calls first, optionally only those of some municipalities."""
        query = select(Call).order_by(Call.started_at.desc(), Call.id).limit(limit)
        if municipalities is not None:
            query = query.where(Call.municipality.in_(municipalities))
        with self._session() as s:
            return list(s.scalars(query))

    def events(self, call_id: str) -> list[CallEvent]:
        query = select(CallEvent).where(CallEvent.call_id == call_id)
        with self._session() as s:
            return list(s.scalars(query.order_by(CallEvent.at, CallEvent.id)))

    # -- turns ---------------------------------------------------------------------------

    def add_turn(self, call_id: str, role: str, text: str, *, intent: str | None = None,
                 confidence: float | None = None, started_at: dt.datetime | None = None,
                 ended_at: dt.datetime | None = None, recognition_ms: int | None = None,
                 latency_ms: int | None = None, cut_off: bool = False,
                 index: int | None = None) -> Turn:
        """Append a turn to a call; `index` defaults to the next one (0, 1, ...)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        with self._session(write=True) as s:
            if s.get(Call, call_id) is None:
                raise StoreError(f"no call {call_id}")
            if index is None:
                last = s.scalar(select(func.max(Turn.index)).where(Turn.call_id == call_id))
                index = 0 if last is None else last + 1
            turn = Turn(call_id=call_id, index=index, role=role, text=text, intent=intent,
                        confidence=confidence, started_at=started_at, ended_at=ended_at,
                        recognition_ms=recognition_ms, latency_ms=latency_ms, cut_off=cut_off)
            s.add(turn)
            return turn

    def add_turns(self, call_id: str, rows: list[Mapping[str, Any]]) -> int:
        """Append several turns (dicts of `add_turn`'s arguments) in one transaction."""
        for row in rows:
            if row.get("role") not in ROLES:
                raise ValueError(f"role must be one of {ROLES}, got {row.get('role')!r}")
        with self._session(write=True) as s:
            if s.get(Call, call_id) is None:
                raise StoreError(f"no call {call_id}")
            last = s.scalar(select(func.max(Turn.index)).where(Turn.call_id == call_id))
            start = 0 if last is None else last + 1
            s.add_all(Turn(call_id=call_id, index=start + i, **{"text": "", **row})
                      for i, row in enumerate(rows))
        return len(rows)

    def turns(self, call_id: str) -> list[Turn]:
        """A call's turns in order."""
        query = select(Turn).where(Turn.call_id == call_id).order_by(Turn.index)
        with self._session() as s:
            return list(s.scalars(query))

    # -- handovers -----------------------------------------------------------------------

    def add_handover(self, call_id: str | None, handover: dialogue_turns.Handover,
                     kind: str) -> int:
        """Keep a dialogue handover for the desk (status 'open'); returns its id."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        record = handover.to_dict()
        with self._session(write=True) as s:
            if call_id is not None and s.get(Call, call_id) is None:
                raise StoreError(f"no call {call_id}")
            row = Handover(call_id=call_id, municipality=handover.municipality,
                           reason=handover.reason, summary=handover.summary,
                           topic=handover.topic, data=dict(handover.data),
                           transcript=record["transcript"],
                           created_at=_parse_time(handover.created_at), kind=kind,
                           status="open")
            s.add(row)
            s.flush()
            log.info("handover %d (%s, %s) for %s", row.id, kind, handover.reason,
                     handover.municipality)
            return row.id

    def open_handovers(self, municipalities: list[str]) -> list[Handover]:
        """Open handovers of these municipalities, oldest first."""
        if not municipalities:
            return []
        query = (select(Handover)
                 .where(Handover.status == "open", Handover.municipality.in_(municipalities))
                 .order_by(Handover.created_at, Handover.id))
        with self._session() as s:
            return list(s.scalars(query))

    def handover(self, handover_id: int) -> Handover | None:
        with self._session() as s:
            return s.get(Handover, handover_id)

    def mark_handled(self, handover_id: int, agent: str) -> Handover:
        """Mark a handover handled by `agent`; the first agent to do so keeps it."""
        with self._session(write=True) as s:
            row = s.get(Handover, handover_id)
            if row is None:
                raise StoreError(f"no handover {handover_id}")
            if row.status != "handled":
                row.status, row.handled_by, row.handled_at = "handled", agent, utcnow()
            return row

    # -- retention -----------------------------------------------------------------------

    def purge(self, older_than_days: int, *, live_s: float = LIVE_S) -> tuple[int, int]:
        """Blank the personal data of finished calls started more than `older_than_days`
        ago (0: every finished call). A call that never ended (the process stopped) counts
        as finished once it started more than `live_s` seconds ago.

        Those calls keep their rows, times, outcome and number of turns; their caller number,
        turn texts, event fields and handover summaries, data and transcripts are blanked.
        Handled handovers created before the cut-off are blanked too (with or without a
        call); open ones without a call are kept until an agent handles them. Returns how
        many calls and handovers were blanked now; running it again returns (0, 0). Call
        `compact()` afterwards so the blanked text cannot be read back from the file.
        """
        if older_than_days < 0:
            raise ValueError("older_than_days must not be negative")
        now = utcnow()
        cutoff = now - dt.timedelta(days=older_than_days)
        finished = or_(Call.ended_at.is_not(None),
                       Call.started_at < now - dt.timedelta(seconds=live_s))
        old = select(Call.id).where(Call.started_at < cutoff, finished,
                                    Call.purged_at.is_(None))
        plain = {"synchronize_session": False}
        with self._session(write=True) as s:
            s.execute(update(Turn).where(Turn.call_id.in_(old)).values(text="")
                      .execution_options(**plain))
            s.execute(update(CallEvent)
                      .where(or_(CallEvent.call_id.in_(old), CallEvent.at < cutoff))
                      .values(fields={}).execution_options(**plain))
            handovers = s.execute(
                update(Handover)
                .where(Handover.purged_at.is_(None),
                       or_(Handover.call_id.in_(old),
                           (Handover.status == "handled") & (Handover.created_at < cutoff)))
                .values(summary="", data={}, transcript=[], purged_at=now)
                .execution_options(**plain)).rowcount
            calls = s.execute(update(Call).where(Call.id.in_(old))
                              .values(caller=None, purged_at=now)
                              .execution_options(**plain)).rowcount
        log.info("purged %d calls and %d handovers older than %d days",
                 calls, handovers, older_than_days)
        return calls, handovers

    def compact(self) -> bool:
        """SQLite: rewrite the file (VACUUM) and empty the write-ahead log, so blanked and
        deleted text is gone from both. False when another connection kept the log busy
        (try again later). Other databases reclaim space themselves: True."""
        if self.url.get_backend_name() != "sqlite":
            return True
        try:
            with self.engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                assert raw is not None
                raw.execute("VACUUM")
                busy = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"cannot compact database {self._shown}: "
                             f"{_first_line(exc)}") from None
        except Exception as exc:  # sqlite3's own errors: busy or locked, try next time
            log.warning("compacting %s failed: %s", self._shown, redact(str(exc)))
            return False
        return not (busy and busy[0])

    # -- agents --------------------------------------------------------------------------

    def add_agent(self, username: str, password: str, municipalities: list[str]) -> Agent:
        """A new desk agent for these municipalities (slugs)."""
        username = username.strip()
        if not username:
            raise StoreError("an agent needs a username")
        if len(password) < MIN_PASSWORD:
            raise StoreError(f"a password needs at least {MIN_PASSWORD} characters")
        hashed = passwords.hash_password(password)
        with self._session(write=True) as s:
            if s.scalar(select(Agent.id).where(Agent.username == username)) is not None:
                raise StoreError(f"agent {username!r} already exists")
            agent = Agent(username=username, password_hash=hashed,
                          municipalities=list(dict.fromkeys(municipalities)),
                          created_at=utcnow())
            s.add(agent)
            return agent

    def agent(self, username: str) -> Agent | None:
        with self._session() as s:
            return s.scalar(select(Agent).where(Agent.username == username))

    def agents(self) -> list[Agent]:
        with self._session() as s:
            return list(s.scalars(select(Agent).order_by(Agent.username)))

    def update_agent(self, username: str, *, password: str | None = None,
                     municipalities: list[str] | None = None) -> Agent:
        """Change an agent's password and/or municipalities."""
        if password is not None and len(password) < MIN_PASSWORD:
            raise StoreError(f"a password needs at least {MIN_PASSWORD} characters")
        hashed = passwords.hash_password(password) if password is not None else None
        with self._session(write=True) as s:
            agent = s.scalar(select(Agent).where(Agent.username == username))
            if agent is None:
                raise StoreError(f"no agent {username!r}")
            if hashed is not None:
                agent.password_hash = hashed
            if municipalities is not None:
                agent.municipalities = list(dict.fromkeys(municipalities))
            return agent

    def remove_agent(self, username: str) -> bool:
        """Delete an agent; False when there was none."""
        with self._session(write=True) as s:
            agent = s.scalar(select(Agent).where(Agent.username == username))
            if agent is None:
                return False
            s.delete(agent)
            return True

    def verify_agent(self, username: str, password: str) -> Agent | None:
        """The agent when the password is right, else None (as slow for unknown users)."""
        agent = self.agent(username)
        stored = agent.password_hash if agent is not None else passwords.dummy_hash()
        ok = passwords.check_password(password, stored)
        return agent if ok and agent is not None else None
