"""Retention: every store of personal data is purged, and nothing purged can be read back.

Personal data (caller numbers, names, what callers said) is kept in three places:

- the call store (``LOKET_DATABASE_URL``): calls, turns, Twilio events and handovers.
  `Store.purge` blanks what is older than the retention period (0 days: every finished
  call); counts, times and outcomes stay.
- the dialogue's session store (``$LOKET_DATA/sessions.sqlite3``): a call's conversation
  state while it runs. The gateway deletes it when the call ends. A session left behind
  by a stopped process is closed at the next start (or by a purge, once it cannot belong
  to a live call): a callback request the caller was still giving reaches the desk with
  what was given, marked incomplete ("onvolledig").
- the synthesis cache: sentences that repeat what a caller said (`BotTurn.private`) are
  never cached, so it holds no personal data.

Both SQLite files overwrite deleted text (``secure_delete``), and after a purge they are
rewritten (``VACUUM``) and their write-ahead logs emptied, so no blanked text is left in
any file.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dialogue.content.loader import Content
from dialogue.errors import DialogueError
from dialogue.escalation import incomplete_callback
from dialogue.state import Session, SessionStore
from dialogue.turns import Handover
from telephony.outcome import CallFacts, outcome
from telephony.store import Store
from telephony.store.db import LIVE_S

log = logging.getLogger(__name__)

TZ = ZoneInfo("Europe/Amsterdam")
INTERRUPTED = "interrupted"  # end reason of a call whose process stopped


@dataclass
class PurgeReport:
    calls: int = 0  # calls blanked now
    handovers: int = 0  # handovers blanked now
    sessions: int = 0  # left-over dialogue sessions closed and deleted
    callbacks: int = 0  # of which half-given callback requests sent to the desk
    compacted: bool = True  # every SQLite file rewritten and its log emptied

    def line(self, days: int) -> str:
        """One line for operators and cron mail."""
        scope = "every finished call" if days == 0 else f"calls older than {days} days"
        text = (f"purged {scope}: {self.calls} calls and {self.handovers} handovers blanked, "
                f"{self.sessions} left-over sessions removed "
                f"({self.callbacks} incomplete callback requests sent to the desk)")
        if not self.compacted:
            text += "; a database was busy, the files are compacted at the next purge"
        return text


def leftover_callback(session: Session, content: Content,
                      now: dt.datetime | None = None) -> Handover | None:
    """The callback request this session was taking, with what was given, marked
    incomplete; None when none was being taken or there is nothing to call back on."""
    try:
        pack = content.get(session.municipality)
    except DialogueError:
        return None
    handover = incomplete_callback(session, pack, now or dt.datetime.now(TZ))
    if handover is None or not (handover.data.get("telefoon") or session.caller):
        return None
    return handover


def close_sessions(sessions: SessionStore, content: Callable[[], Content],
                   store: Store | None, idle_s: float) -> tuple[int, int]:
    """Close the sessions not changed for `idle_s` seconds (0: all; only at start-up, when
    no call runs): their half-given callback requests go to the desk, their calls are
    ended as interrupted, the sessions are deleted. Returns (sessions, callbacks)."""
    closed = callbacks = 0
    for session_id in sessions.idle(idle_s):
        session = sessions.get(session_id)
        handover = leftover_callback(session, content()) if session is not None else None
        if store is not None:
            call = store.call(session_id)
            if handover is not None:
                store.add_handover(session_id if call is not None else None, handover,
                                   "callback")
                callbacks += 1
            if call is not None and call.ended_at is None:
                result = outcome(CallFacts(callback=handover is not None, error=True))
                store.end_call(session_id, INTERRUPTED, False, outcome=result)
        sessions.delete(session_id)
        closed += 1
    if closed:
        log.info("closed %d left-over dialogue sessions (%d incomplete callback requests)",
                 closed, callbacks)
    return closed, callbacks


def purge(store: Store | None, sessions: SessionStore | None,
          content: Callable[[], Content], days: int, *,
          idle_s: float = LIVE_S) -> PurgeReport:
    """Purge every store: left-over sessions, then the call store; then compact both."""
    report = PurgeReport()
    if sessions is not None:
        report.sessions, report.callbacks = close_sessions(sessions, content, store, idle_s)
    if store is not None:
        report.calls, report.handovers = store.purge(days)
        report.compacted = store.compact()
    if sessions is not None:
        report.compacted = sessions.compact() and report.compacted
    return report
