"""``loket content import-upl``: fetch the official UPL product list into the data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(highlight=False, soft_wrap=True)


def import_upl(
    source: Annotated[
        str,
        typer.Argument(help="UPL-actueel.csv: a file path or an http(s) URL"),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="catalogue to write (default: $LOKET_DATA/upl.json)"),
    ] = None,
) -> None:
    """Import the Uniforme Productnamenlijst (UPL) for no-wrong-door referrals.

    The official list: https://standaarden.overheid.nl/owms/oquery/UPL-actueel.csv
    """
    from dialogue.referral.catalogue import default_catalogue_path
    from dialogue.referral.catalogue import import_upl as run_import

    is_url = "://" in source
    if not is_url and not Path(source).is_file():
        raise typer.BadParameter(f"{source}: no such file (give a path or an http(s) URL)",
                                 param_hint="SOURCE")
    if is_url and not source.lower().startswith(("http://", "https://")):
        raise typer.BadParameter(f"{source}: only http(s) URLs are supported",
                                 param_hint="SOURCE")
    dest = out or default_catalogue_path()
    stats = run_import(source, dest)  # ContentError on a bad download or CSV
    console.print(stats.summary(), markup=False)
