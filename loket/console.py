"""Where commands write for people: errors and progress go to stderr."""

import typer
from rich.console import Console

err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> typer.Exit:
    """Print one `error: …` line and return the exit (code 2) for the caller to raise."""
    err.print(f"error: {message}", markup=False)
    return typer.Exit(2)
