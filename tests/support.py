"""Paths and helpers shared by the tests (import from here, not from conftest: a test
directory's own conftest.py would shadow the name)."""

import contextlib
import csv
import threading
import time
from collections.abc import Iterator
from difflib import SequenceMatcher
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "audio_fixtures"
NL_DEV = ROOT.parent / "shared" / "speech" / "nl-dev"


def fixture_rows() -> list[dict]:
    with (FIXTURES / "manifest.tsv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def heard(keyword: str, text: str) -> bool:
    """A key word counts as heard when some word (or two joined) is spelled close to it."""
    from voice.wer import normalize

    words = normalize(text).split()
    grams = words + [a + b for a, b in pairwise(words)]
    return any(SequenceMatcher(None, keyword, g).ratio() >= 0.75 for g in grams)


@contextlib.contextmanager
def running(config: "uvicorn.Config") -> Iterator[int]:
    """A real uvicorn server for `config` in a background thread; yields its port."""
    import uvicorn

    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped"
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
