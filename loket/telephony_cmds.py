"""Phone-gateway commands: replay recorded caller turns through the call loop."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dialogue.errors import DialogueError
from loket.console import fail
from voice.errors import VoiceError

if TYPE_CHECKING:
    from telephony.replay import ReplayResult

JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
MunicipalityOpt = Annotated[
    str | None, typer.Option("--municipality", "-g", help="municipality slug (default: first)")
]


def save_reply(path: Path, pcm: Any) -> None:
    """Write what Loket said (8 kHz PCM) to a WAV; one clear error when that fails."""
    from voice import audio

    try:
        audio.save(path, pcm, 8000)
    except OSError as exc:
        raise fail(f"{path}: cannot write ({exc.strerror})") from None


def replay(
    files: Annotated[list[Path], typer.Argument(help="WAV, FLAC or OGG files, one caller turn "
                                                "each")],
    municipality: MunicipalityOpt = None,
    json_out: JsonOpt = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write what Loket said to "
                                             "this WAV (8 kHz)")] = None,
) -> None:
    """Replay recordings as one phone call, in-process (no telephone, no pacing)."""
    from dialogue.content.loader import load_content
    from dialogue.core import Dialogue
    from dialogue.nlu.understand import Understander
    from dialogue.referral.catalogue import Catalogue, default_catalogue_path
    from telephony import replay as rp
    from voice.asr import engines
    from voice.tts import Speaker

    try:
        clips = [(f, rp.phone_ulaw(f)) for f in files]  # bad files fail before models load
        content = load_content()
        if municipality:
            content.get(municipality)
        path = default_catalogue_path()
        nlu = Understander(content, Catalogue.load(path) if path.exists() else None)
        recognizer = engines.load("whisper")
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="replay") as pool:
            result = asyncio.run(rp.replay(clips, Dialogue(content, nlu), recognizer,
                                           Speaker(), pool, municipality))
    except (VoiceError, DialogueError) as exc:
        raise fail(str(exc)) from None
    if out is not None:
        save_reply(out, result.audio)
    if json_out:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    _print(result)


def _print(result: ReplayResult) -> None:
    """Per turn: the file, what was heard, the intent, Loket's answer and the latency."""
    for turn in result.turns:
        if turn.source == "start":
            typer.echo(f"Loket: {turn.said}")
            continue
        label = result.files.get(turn.index) or turn.source
        heard = turn.heard or "(silence)"
        conf = f" ({turn.confidence:.2f})" if turn.confidence is not None else ""
        typer.echo(f"\n[{turn.index}] {label}")
        typer.echo(f"  heard:   {heard}{conf}")
        typer.echo(f"  intent:  {turn.intent or '-'}")
        typer.echo(f"  Loket:   {turn.said}")
        if turn.latency_s is not None:
            rec = (f" (recognition {turn.recognition_s:.2f} s)"
                   if turn.recognition_s is not None else "")
            typer.echo(f"  latency: {turn.latency_s:.2f} s{rec}")
        for action in turn.actions:
            typer.echo(f"  [{action}]")
    for path in result.unheard:
        typer.echo(f"\n{path.name}: nothing recognised")
    if result.skipped:
        names = ", ".join(p.name for p in result.skipped)
        typer.echo(f"\ncall ended ({result.end_reason}); not played: {names}")
    for h in result.handovers:
        typer.echo(f"\nhandover ({h['action']}): {h['summary']}")
