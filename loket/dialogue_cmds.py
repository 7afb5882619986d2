"""Dialogue commands: content validate, understand, chat, eval nlu."""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from dialogue.evaluate import NluReport

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
MunicipalityOpt = Annotated[
    str | None, typer.Option("--municipality", "-g", help="municipality slug (default: first)")
]
ContentOpt = Annotated[
    Path | None, typer.Option("--content", help="content directory (default: LOKET_CONTENT)")
]

content_app = typer.Typer(help="Content packs: the national library and municipalities.",
                          no_args_is_help=True)


@content_app.command("validate")
def validate(
    directory: Annotated[Path | None, typer.Argument(help="content directory")] = None,
) -> None:
    """Check every file; print problems as file:line: message."""
    from dialogue.content.loader import check_content, default_content_dir

    root = directory or default_content_dir()
    content, problems = check_content(root)
    if problems:
        for problem in problems:
            typer.echo(str(problem), err=True)
        err.print(f"{len(problems)} problem(s) in {root}")
        raise typer.Exit(2)
    assert content is not None
    topics = sum(len(p.topics) for p in content.municipalities.values())
    out.print(f"ok: {len(content.topics)} national topics, {len(content.organisations)} "
              f"organisations, {len(content.municipalities)} municipalities "
              f"({', '.join(sorted(content.municipalities))}); {topics} topic versions")


def _understander(content_dir: Path | None):
    from dialogue.content.loader import load_content
    from dialogue.nlu.understand import Understander
    from dialogue.referral.catalogue import Catalogue, default_catalogue_path

    content = load_content(content_dir)
    path = default_catalogue_path()
    catalogue = Catalogue.load(path) if path.exists() else None
    return content, Understander(content, catalogue)


def understand(
    text: Annotated[str, typer.Argument(help="an utterance, or - to read one per line")],
    municipality: MunicipalityOpt = None,
    content_dir: ContentOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Intent, confidence, entities and referral for Dutch text."""
    content, nlu = _understander(content_dir)
    if municipality:
        content.get(municipality)  # fail clearly on an unknown slug
    if text == "-":
        for line in sys.stdin:
            if line.strip():
                print(json.dumps(nlu.understand(line.strip()).to_json(), ensure_ascii=False),
                      flush=True)
        return
    result = nlu.understand(text).to_json()
    if json_out:
        print(json.dumps(result, ensure_ascii=False))
        return
    out.print(f"{result['intent']} ({result['confidence']:.2f})", markup=False)
    for alt in result["alternatives"]:
        out.print(f"  or {alt['intent']} ({alt['confidence']:.2f})", markup=False)
    for ent in result["entities"]:
        out.print(f"  {ent['type']}: {ent['value']}  ← {ent['text']!r}", markup=False)
    if result["organisation"]:
        out.print(f"  organisation: {result['organisation']}", markup=False)


def _parse_line(line: str):
    """'[toets 1234#]' is DTMF; '[onderbroken: tekst]' marks an interruption."""
    from dialogue.turns import UserTurn

    stripped = line.strip()
    if stripped.startswith("[toets") and stripped.endswith("]"):
        return UserTurn(dtmf=stripped[6:-1].strip())
    return UserTurn(text=stripped)


def _show(role: str, text: str) -> None:
    typer.echo(f"{role}: {text}")


def chat(
    municipality: MunicipalityOpt = None,
    script: Annotated[Path | None, typer.Option("--script", help="read the caller's lines from a "
                                                "file; '[toets 12#]' presses keys")] = None,
    at: Annotated[str | None, typer.Option("--at", help="pretend it is this time, ISO "
                                           "(e.g. 2026-12-01T20:00)")] = None,
    content_dir: ContentOpt = None,
    state: Annotated[Path | None, typer.Option("--state", help="SQLite file for sessions")] = None,
    session: Annotated[str | None, typer.Option("--session", help="continue this session")] = None,
) -> None:
    """Talk with Loket in the terminal (text)."""
    from dialogue.core import Dialogue
    from dialogue.errors import DialogueError
    from dialogue.state import SessionStore

    content, nlu = _understander(content_dir)
    clock = None
    if at:
        try:
            fixed = dt.datetime.fromisoformat(at)
        except ValueError:
            raise DialogueError(f"--at {at!r} is not an ISO date and time") from None
        clock = lambda: fixed  # noqa: E731
    dialogue = Dialogue(content, nlu, SessionStore(state or ":memory:"), clock=clock)
    if session and dialogue.store.get(session):
        sid = session
        _show("Loket", dialogue.session(sid).last_spoken or "")
    else:
        sid = session or uuid.uuid4().hex[:12]
        _show("Loket", dialogue.start(sid, municipality).spoken)
    lines = (script.read_text(encoding="utf-8").splitlines() if script else None)
    if script and lines is None:
        raise DialogueError(f"cannot read {script}")
    source = iter(lines) if lines is not None else None
    while True:
        if source is not None:
            line = next(source, None)
            if line is None:
                break
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            _show("U", line.strip())
        else:
            try:
                line = input("U: ")
            except EOFError:
                break
        bot = dialogue.respond(sid, _parse_line(line))
        _show("Loket", bot.spoken)
        for action in bot.actions:
            if action.handover is not None:
                data = action.handover.data  # beside the summary, as on the desk
                facts = "; ".join(f"{k}: {v}" for k, v in data.items())
                extra = f" ({facts})" if facts else ""
                _show(f"[{action.type}]", action.handover.summary + extra)
            else:
                _show(f"[{action.type}]", "")
        if bot.end:
            break


def eval_nlu(
    tsv: Annotated[Path | None, typer.Argument(
        help="TSV with 'text' and 'intent' columns (default: the own test set, the "
             "external dev set and the held-out set, reported separately)")] = None,
    content_dir: ContentOpt = None,
    json_out: JsonOpt = False,
    show_errors: Annotated[bool, typer.Option("--errors", help="list every miss")] = False,
) -> None:
    """Intent accuracy, macro-F1, confidently wrong and the worst confusions on a labelled set."""
    from dialogue import evaluate

    if tsv is not None:
        sets = {"": evaluate.read_tsv(tsv)}
    else:
        sets = {"own test set": evaluate.read_tsv(evaluate.OWN_TEST_SET),
                "external dev set": evaluate.read_tsv(evaluate.EXTERNAL_DEV_SET),
                "holdout set": evaluate.read_tsv(evaluate.HOLDOUT_SET)}
    _, nlu = _understander(content_dir)
    reports = {name: evaluate.run(items, nlu) for name, items in sets.items()}
    if json_out:
        data = ({name.replace(" ", "_"): report.to_dict() for name, report in reports.items()}
                if tsv is None else reports[""].to_dict())
        print(json.dumps(data, ensure_ascii=False))
        return
    for name, report in reports.items():
        if name:
            out.print(f"{name}:", markup=False)
        # the held-out set is judged by its figure only: its misses are never listed
        _print_nlu_report(report, show_errors and name != "holdout set")


def _print_nlu_report(report: NluReport, show_errors: bool) -> None:
    from dialogue.evaluate import CONFIDENT_WRONG

    if show_errors:
        for text, expected, got, conf in report.misses:
            typer.echo(f"{expected}\t{got}\t{conf:.2f}\t{text}")
    out.print(f"accuracy {report.accuracy:.2%}  macro-F1 {report.macro_f1:.3f}  "
              f"({report.items} utterances; wrong but safe {report.wrong_safe}, "
              f"wrong and confident {report.wrong_confident})", markup=False)
    out.print(f"confidently wrong (≥ {CONFIDENT_WRONG}, not onbekend): "
              f"{report.confident_wrong} ({report.confident_wrong_rate:.2%})", markup=False)
    if report.referrals:
        out.print(f"organisation right: {report.referrals_right}/{report.referrals}",
                  markup=False)
    kinds = {k: s for k, s in report.by_kind.items() if k}
    for kind, s in sorted(kinds.items()):
        out.print(f"  {kind}: accuracy {s.correct / s.items:.2%} of {s.items}, "
                  f"confidently wrong {s.confident_wrong}", markup=False)
    for expected, got, n in report.confusions:
        out.print(f"  {expected} → {got}: {n}", markup=False)


def eval_safety(
    tsv: Annotated[Path | None, typer.Argument(
        help="TSV with 'text', 'situation' (or none) and 'kind' columns "
             "(default: tests/data/nlu/safety.tsv)")] = None,
    content_dir: ContentOpt = None,
    json_out: JsonOpt = False,
    show_errors: Annotated[bool, typer.Option("--errors", help="list every miss")] = False,
) -> None:
    """Safety recall on sensitive phrasings and false triggers on near-misses, per kind."""
    from dialogue import safety_eval

    content, nlu = _understander(content_dir)
    path = tsv or Path(__file__).resolve().parent.parent / "tests/data/nlu/safety.tsv"
    cases = safety_eval.read_tsv(path, {s.id for s in content.conversation.safety})
    report = safety_eval.run(cases, nlu)
    if json_out:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    if show_errors:
        for text, expected, got in report.misses:
            typer.echo(f"{expected}\t{got}\t{text}")
    out.print(f"recall {report.recall:.1%} (right help line {report.right:.1%}) on "
              f"{report.positives} phrasings; false triggers {report.false_triggers:.1%} on "
              f"{report.near_misses} near-misses", markup=False)
    for kind, (n, ok) in report.by_kind.items():
        out.print(f"  {kind}: {ok}/{n}", markup=False)
