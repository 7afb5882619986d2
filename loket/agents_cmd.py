"""``loket agents``: the contact-centre agents who may log in to the desk (/desk)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from dialogue.errors import DialogueError
from loket.console import fail
from telephony.errors import StoreError

if TYPE_CHECKING:
    from telephony.store.db import Store

agents_app = typer.Typer(help="Desk agents: who may log in to /desk, for which municipalities.",
                         no_args_is_help=True)

DatabaseOpt = Annotated[str | None, typer.Option(
    "--database", help="SQLAlchemy URL (default: LOKET_DATABASE_URL, else the SQLite file in "
    "LOKET_DATA)", show_default=False)]
StdinOpt = Annotated[bool, typer.Option(
    "--password-stdin", help="read the password from the first line of stdin")]
UserArg = Annotated[str, typer.Argument(help="the agent's username")]


def _store(database: str | None) -> Store:
    from telephony.store.db import Store, default_url

    return Store(database or os.environ.get("LOKET_DATABASE_URL") or default_url())


def _check_municipalities(slugs: list[str]) -> list[str]:
    """The slugs, each known to the content packs; raises `DialogueError` otherwise."""
    from dialogue.content.loader import load_content

    if not slugs:
        raise fail("give at least one municipality: --municipality SLUG")
    content = load_content()
    for slug in slugs:
        content.get(slug)
    return list(dict.fromkeys(slugs))


def _interactive() -> bool:
    return sys.stdin.isatty()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line.strip():
            raise fail("no password on stdin")
        return line.rstrip("\r\n")
    if not _interactive():
        raise fail("no terminal to ask for the password; use --password-stdin")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@agents_app.command("add")
def add(
    username: UserArg,
    municipality: Annotated[list[str] | None, typer.Option(
        "--municipality", "-g", help="municipality slug this agent serves (repeatable)")] = None,
    password_stdin: StdinOpt = False,
    database: DatabaseOpt = None,
) -> None:
    """Add an agent; asks for the password twice (or reads it with --password-stdin)."""
    try:
        slugs = _check_municipalities(municipality or [])
        password = _password(password_stdin)
        with _store(database) as store:
            agent = store.add_agent(username, password, slugs)
    except (StoreError, DialogueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"added agent {agent.username} for {', '.join(agent.municipalities)}")


@agents_app.command("list")
def list_agents(database: DatabaseOpt = None) -> None:
    """The agents: username, municipalities and when they were added."""
    try:
        with _store(database) as store:
            agents = store.agents()
    except StoreError as exc:
        raise fail(str(exc)) from None
    if not agents:
        typer.echo("no agents yet; add one with: loket agents add USERNAME -g SLUG")
        return
    for agent in agents:
        created = agent.created_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{agent.username}\t{','.join(agent.municipalities)}\t{created} UTC")


@agents_app.command("remove")
def remove(username: UserArg, database: DatabaseOpt = None) -> None:
    """Remove an agent; their desk sessions end at their next request."""
    try:
        with _store(database) as store:
            removed = store.remove_agent(username)
    except StoreError as exc:
        raise fail(str(exc)) from None
    if not removed:
        raise fail(f"no agent {username!r}")
    typer.echo(f"removed agent {username}")


@agents_app.command("passwd")
def passwd(username: UserArg, password_stdin: StdinOpt = False,
           database: DatabaseOpt = None) -> None:
    """Set a new password; the agent's desk sessions end."""
    try:
        with _store(database) as store:
            if store.agent(username) is None:
                raise fail(f"no agent {username!r}")
            store.update_agent(username, password=_password(password_stdin))
    except StoreError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"changed the password of agent {username}")
