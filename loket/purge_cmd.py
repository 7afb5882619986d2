"""``loket purge``: blank callers' personal data in every store, for operators and cron."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from dialogue.errors import DialogueError
from loket.agents_cmd import DatabaseOpt
from loket.console import fail
from telephony.errors import TelephonyError


def purge(
    older_than: Annotated[int | None, typer.Option(
        "--older-than", min=0, metavar="DAYS",
        help="blank calls that started more than DAYS days ago; 0: every finished call "
        "(default: LOKET_RETENTION_DAYS, else 30)", show_default=False)] = None,
    database: DatabaseOpt = None,
) -> None:
    """Blank caller numbers, transcripts and handover data in the call store, remove
    dialogue sessions left by a stopped gateway (a half-given callback request goes to the
    desk, marked incomplete) and rewrite the files so nothing blanked can be read back.
    Safe while the gateway runs: live calls are not touched."""
    from dialogue.content.loader import Content, load_content
    from dialogue.state import SessionStore
    from telephony import retention
    from telephony.settings import Settings
    from telephony.store.db import Store, default_url

    try:
        days = older_than if older_than is not None else Settings.from_env().retention_days
        loaded: list[Content] = []

        def content() -> Content:  # only needed for a left-over callback request
            if not loaded:
                loaded.append(load_content())
            return loaded[0]

        url = database or os.environ.get("LOKET_DATABASE_URL") or default_url()
        with Store(url) as store:
            sessions = SessionStore()
            try:
                report = retention.purge(store, sessions, content, days)
            finally:
                sessions.close()
    except (TelephonyError, DialogueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(report.line(days))
