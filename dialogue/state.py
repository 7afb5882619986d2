"""Conversation state per session, stored in SQLite so a restart loses nothing."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dialogue.errors import DialogueError
from dialogue.turns import Handover, Line


@dataclass
class Pending:
    """The question Loket is waiting on an answer to."""

    kind: str  # followup | slot | confirm | clarify | anything_else | callback | offer_person
    topic: str | None = None
    slot: str | None = None
    options: list[str] = field(default_factory=list)
    value: str | None = None
    reason: str | None = None  # for offer_person: the escalation reason


@dataclass
class Session:
    id: str
    municipality: str
    caller: str | None = None  # caller's number, if the channel knows it
    topic: str | None = None  # current topic, for carry-over ("en wat kost dat?")
    pending: Pending | None = None
    slots: dict[str, str] = field(default_factory=dict)
    callback: dict[str, str] = field(default_factory=dict)
    misses: int = 0
    last_spoken: str | None = None
    last_text: str | None = None
    last_private: bool = False  # last_spoken holds what the caller gave
    transcript: list[Line] = field(default_factory=list)
    handovers: list[Handover] = field(default_factory=list)
    ended: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Session:
        data: dict[str, Any] = json.loads(raw)
        pending = data.pop("pending")
        transcript = [Line(**line) for line in data.pop("transcript")]
        handovers = []
        for h in data.pop("handovers"):
            h["transcript"] = [Line(**line) for line in h["transcript"]]
            handovers.append(Handover(**h))
        return cls(**data, pending=Pending(**pending) if pending else None,
                   transcript=transcript, handovers=handovers)


def default_state_path() -> Path:
    base = Path(os.environ.get("LOKET_DATA", Path.home() / ".local" / "share" / "loket"))
    return base / "sessions.sqlite3"


class SessionStore:
    """Sessions as JSON rows in one SQLite file (``:memory:`` for throwaway chats)."""

    def __init__(self, path: Path | str | None = None) -> None:
        target = str(path or default_state_path())
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
            # deleted rows are overwritten, not just unlinked: transcripts are personal
            self._db.execute("PRAGMA secure_delete=ON")
            if target != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, municipality TEXT,"
                " state TEXT NOT NULL, updated TEXT DEFAULT CURRENT_TIMESTAMP)"
            )
        except sqlite3.Error as exc:
            raise DialogueError(f"cannot open session store {target}: {exc}") from None
        self._lock = threading.Lock()

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            row = self._db.execute("SELECT state FROM sessions WHERE id = ?",
                                   (session_id,)).fetchone()
        return Session.from_json(row[0]) if row else None

    def put(self, session: Session) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO sessions (id, municipality, state) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET state = excluded.state,"
                " updated = CURRENT_TIMESTAMP",
                (session.id, session.municipality, session.to_json()),
            )

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def idle(self, seconds: float = 0) -> list[str]:
        """Ids of the sessions not changed for at least `seconds`, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM sessions WHERE updated <= datetime('now', ?) ORDER BY updated",
                (f"-{max(0, int(seconds))} seconds",)).fetchall()
        return [row[0] for row in rows]

    def compact(self) -> bool:
        """Rewrite the file and empty the write-ahead log, so that nothing deleted can be
        read back from either. False when another process kept the file busy."""
        with self._lock:
            try:
                self._db.execute("VACUUM")
                busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.OperationalError:  # locked by another process: next time
                return False
        return not (busy and busy[0])

    def close(self) -> None:
        self._db.close()
