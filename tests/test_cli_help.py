"""Every command's --help shows its texts whole: brackets such as '[toets 12#]' are text,
not Rich markup that silently disappears."""

import re

import typer
from typer.testing import CliRunner

from loket.cli import app

BRACKETED = re.compile(r"\[[^\[\]]+\]")


def _commands(command, path: tuple[str, ...] = ()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():  # Typer vendors click
        yield from _commands(sub, (*path, name))


def _flat(text: str) -> str:
    """Help output without box drawing and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_every_help_text_keeps_its_brackets():
    root = typer.main.get_command(app)
    runner = CliRunner()
    checked = 0
    for path, command in _commands(root):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        wanted = [b for text in texts for b in BRACKETED.findall(text)]
        if not wanted:
            continue
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        shown = _flat(result.output)
        for bracket in wanted:
            assert _flat(bracket) in shown, f"loket {' '.join(path)} --help lost {bracket!r}"
            checked += 1
    assert checked >= 1  # at least `loket chat --script` has one
