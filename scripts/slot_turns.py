"""How many turns a caller needs to get the waste days for an address (slots at once).

Reads tests/data/slots/addresses.tsv: each line is an address said in one form, either to
"Wat is uw postcode?" or as the first sentence of the call. A simulated caller then answers
what Loket still asks (postcode '9991 AB', house number '12', 'ja' to a right read-back,
'nee' to a wrong one). Prints the turns per call and whether the final address is right.

    PYTHONPATH=. .venv/bin/python scripts/slot_turns.py [--verbose]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

import dialogue
from dialogue.content.loader import load_content
from dialogue.core import Dialogue
from dialogue.nlu.understand import Understander
from dialogue.state import SessionStore
from dialogue.turns import UserTurn

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "slots" / "addresses.tsv"
DEFAULT = {"postcode": "9991AB", "huisnummer": "12"}  # the caller's address where a line has '-'
OPEN = dt.datetime(2026, 12, 8, 10, 0)
LIMIT = 8


def rows(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    head = lines[0].split("\t")
    return [dict(zip(head, ln.split("\t"), strict=True)) for ln in lines[1:]]


def said(slot: str, value: str) -> str:
    return f"{value[:4]} {value[4:]}" if slot == "postcode" else value.lower()


def call(d: Dialogue, sid: str, row: dict[str, str], verbose: bool) -> tuple[int, bool, bool]:
    """(caller turns, final address right, a value already given was asked again)."""
    want = {k: row[k] if row[k] != "-" else DEFAULT[k] for k in DEFAULT}
    given = {k for k in DEFAULT if row[k] != "-"}
    d.start(sid, "demodam")
    lines = [row["text"]] if row["when"] == "first" else ["wanneer wordt het afval opgehaald",
                                                          row["text"]]
    turns, asked_again = 0, False
    back = ""  # Loket's last text
    while turns < LIMIT:
        text = lines.pop(0) if lines else None
        if text is None:
            p = d.session(sid).pending
            if p is None:
                break
            if p.kind == "slot" and p.slot in want:
                asked_again |= p.slot in given
                text = said(p.slot, want[p.slot])
            elif p.kind == "confirm":
                right = re.search(rf"(?<!\w){re.escape(want['huisnummer'])}(?!\w)", back, re.I)
                if "postcode" in back:
                    right = right and want["postcode"] in back.replace(" ", "")
                text = "ja" if right else "nee"
            else:
                break
        bot = d.respond(sid, UserTurn(text=text))
        back = bot.text
        turns += 1
        if verbose:
            print(f"   > {text}\n   < {bot.spoken}")
        if bot.answered and "ophaaldagen" in bot.spoken.lower():
            ok = f"postcode {want['postcode']}, huisnummer {want['huisnummer']}" in bot.text
            return turns, ok, asked_again
    return turns, False, asked_again


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    root = Path(dialogue.__file__).resolve().parent.parent
    content = load_content(root / "content")
    d = Dialogue(content, Understander(content), SessionStore(":memory:"), clock=lambda: OPEN)
    data = rows(args.data)
    total = right = again = 0
    by_when: dict[str, list[int]] = {}
    for n, row in enumerate(data):
        if args.verbose:
            print(f"[{row['when']}] {row['text']}")
        turns, ok, asked = call(d, f"s{n}", row, args.verbose)
        total, right, again = total + turns, right + ok, again + asked
        by_when.setdefault(row["when"], []).append(turns)
        if not ok or asked or args.verbose:
            print(f"{turns} turns, {'right' if ok else 'WRONG'}{', asked again' if asked else ''}:"
                  f" {row['text']}", file=sys.stderr)
    print(f"{len(data)} calls: {total} caller turns ({total / len(data):.2f} per call), "
          f"{right} right addresses, {again} calls asked again for a value already given")
    for when, turns_ in sorted(by_when.items()):
        mean = sum(turns_) / len(turns_)
        print(f"  {when:6} {len(turns_):3} calls, {mean:.2f} caller turns per call")


if __name__ == "__main__":
    main()
