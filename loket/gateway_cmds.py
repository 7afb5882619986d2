"""Phone-gateway commands: `loket serve` and the simulated caller `loket call`."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer

from dialogue.errors import DialogueError
from loket import logs
from loket.console import err, fail
from telephony.errors import TelephonyError
from voice.errors import VoiceError

if TYPE_CHECKING:
    from telephony.caller import CallResult
    from telephony.services import Services
    from telephony.twilio.simapi import SimulatedTwilioApi

FETCH_TIMEOUT_S = 15.0


def serve(
    host: Annotated[str | None, typer.Option(help="address (default LOKET_HOST or "
                                             "127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default LOKET_PORT or 8080)")] = None,
    content: Annotated[Path | None, typer.Option(help="content packs directory")] = None,
) -> None:
    """Run the phone gateway: Twilio webhooks, media streams, /desk and /metrics."""
    from telephony import server as srv
    from telephony.services import Services, with_local_token
    from telephony.settings import Settings

    logs.verbose("telephony")  # one line as each call starts and ends
    try:
        settings = with_local_token(Settings.from_env())
        settings = dataclasses.replace(settings, host=host or settings.host,
                                       port=port if port is not None else settings.port)
        err.print("Loading content, the intent model and the recogniser…")
        services = Services.load(settings, content)
        services.warm_up()
        app = srv.build_app(services)
    except (DialogueError, VoiceError, TelephonyError) as exc:
        raise fail(str(exc)) from None
    _banner(services)
    try:
        import uvicorn

        uvicorn.Server(srv.config(app, services)).run()
    finally:
        services.close()


def _banner(services: Services) -> None:
    s = services.settings
    base = f"http://{s.host}:{s.port}"
    public = s.public_url or base
    print(f"Loket gateway on {base}")
    for pack in services.content.municipalities.values():
        m = pack.municipality
        print(f"  {m.name} ({pack.slug}): {', '.join(m.phone_numbers)}")
    print(f"Twilio voice webhook:  POST {public}/twilio/voice")
    print(f"Twilio status webhook: POST {public}/twilio/status")
    print(f"Start page:            {base}/")
    print(f"Agent desk:            {base}/desk   (accounts: loket agents add)")
    print(f"Metrics:               {base}/metrics")
    if not s.twilio_account_sid:
        print("No TWILIO_ACCOUNT_SID: transfers become callback requests.")
    print("Place a simulated call from another terminal:")
    print(f"  .venv/bin/loket call audio_fixtures/grofvuil_02.wav --server {base}")
    sys.stdout.flush()


def _number_to_call(municipality: str | None) -> str:
    """The first phone number of that municipality (default: the first pack)."""
    from dialogue.content.loader import load_content

    content = load_content()
    pack = content.get(municipality) if municipality else content.default
    return pack.municipality.phone_numbers[0]


def _dtmf(values: list[str]) -> list[tuple[str, float]]:
    out = []
    for value in values:
        digits, _, at = value.partition("@")
        try:
            seconds = float(at)
        except ValueError:
            seconds = -1.0
        if not digits or any(d not in "0123456789*#" for d in digits) or seconds < 0:
            raise fail(f"--dtmf {value!r}: expected DIGITS@SECONDS, e.g. 1234#@5")
        out.append((digits, seconds))
    return out


@contextlib.asynccontextmanager
async def _local_server(settings: Any) -> AsyncIterator[tuple[str, SimulatedTwilioApi]]:
    """The whole gateway in this process on a free port of 127.0.0.1, with a simulated
    Twilio REST API so transfers behave as on a real line."""
    import uvicorn

    from telephony import server as srv
    from telephony.services import Services
    from telephony.twilio.simapi import SimulatedTwilioApi

    with SimulatedTwilioApi(settings.twilio_account_sid, settings.twilio_auth_token,
                            any_call=True) as api:
        settings = dataclasses.replace(settings, twilio_api_url=api.url)
        services = await asyncio.to_thread(Services.load, settings)
        await asyncio.to_thread(services.warm_up)
        app = srv.build_app(services, close_left_sessions=False)  # a real one may run
        config = srv.config(app, services)
        config.port = 0
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                raise TelephonyError("the in-process server did not start")
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        services.settings = dataclasses.replace(services.settings, port=port)
        try:
            yield base, api
        finally:
            server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
            services.close()


async def _fetch(server: str, call_sid: str, token: str) -> dict[str, Any] | None:
    """The server's record of the call, once it has stored the end of the call."""
    from twilio.request_validator import RequestValidator

    from telephony.twilio.webhook import SIGNATURE_HEADER

    url = f"{server}/api/calls/{call_sid}"
    headers = {SIGNATURE_HEADER: RequestValidator(token).compute_signature(url, {})}
    deadline = time.monotonic() + FETCH_TIMEOUT_S
    async with httpx.AsyncClient(timeout=5) as http:
        while time.monotonic() < deadline:
            try:
                response = await http.get(url, headers=headers)
            except httpx.HTTPError:
                return None
            if response.status_code == 200:
                record = response.json()
                if record["call"]["ended"]:
                    return record
            elif response.status_code != 404:
                return None
            await asyncio.sleep(0.2)
    return None


def call(
    files: Annotated[list[Path], typer.Argument(help="WAV, FLAC or OGG files: the caller's "
                                                "turns, in order")],
    server: Annotated[str | None, typer.Option(help="gateway base URL, e.g. "
                                               "http://127.0.0.1:8080 (default: start one "
                                               "in this process)")] = None,
    municipality: Annotated[str | None, typer.Option("--municipality", "-g",
                                                     help="municipality slug to call")] = None,
    dtmf: Annotated[list[str] | None, typer.Option(help="keys at a time: DIGITS@SECONDS "
                                                   "since the call began (repeatable)")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="record what Loket said "
                                             "to this WAV (8 kHz)")] = None,
    fast: Annotated[bool, typer.Option(help="send the caller's audio as fast as possible")] = (
        False),
    json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Place a simulated phone call, exactly as Twilio would, and print the conversation."""
    from loket.telephony_cmds import save_reply
    from telephony import caller as sim
    from telephony.replay import phone_ulaw
    from telephony.services import with_local_token
    from telephony.settings import Settings

    keys = _dtmf(dtmf or [])
    try:
        clips = [(f.name, phone_ulaw(f)) for f in files]
        to = _number_to_call(municipality)
        settings = with_local_token(Settings.from_env())
        if server is None:  # a fresh token: only this process can sign for its server
            settings = dataclasses.replace(
                settings, host="127.0.0.1", validate_signature=True, public_url=None,
                twilio_auth_token=secrets.token_hex(16),
                twilio_account_sid=settings.twilio_account_sid or "AC" + secrets.token_hex(16))
        token = settings.twilio_auth_token or ""

        whispers: list[dict[str, Any]] = []

        async def run() -> tuple[CallResult, dict[str, Any] | None]:
            async def place(base: str) -> tuple[CallResult, dict[str, Any] | None]:
                result = await sim.call(base, to, clips,
                                        auth_token=token, dtmf=keys, fast=fast,
                                        account_sid=settings.twilio_account_sid
                                        or sim.ACCOUNT_SID)
                return result, await _fetch(base, result.call_sid, token)

            if server is not None:
                return await place(server.rstrip("/"))
            async with _local_server(settings) as (base, api):
                placed = await place(base)
                if api.calls.get(placed[0].call_sid) is not None:
                    await asyncio.to_thread(api.dialled.wait, 5)
                whispers.extend({"to": w.target, "agent_heard": w.heard}
                                for w in api.whispers)
                return placed

        result, record = asyncio.run(run())
    except (VoiceError, DialogueError, TelephonyError) as exc:
        raise fail(str(exc)) from None
    if out is not None:
        save_reply(out, result.reply)
    report = _report(result, record)
    report["transfers"] = whispers
    if json_out:
        print(json.dumps(report, ensure_ascii=False))
    else:
        _print(report)


def _report(result: CallResult, record: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "call_sid": result.call_sid,
        "municipality": record["call"]["municipality"] if record else None,
        "greeting_s": _round(result.greeting_s),
        "turns": [{"file": t.label, "latency_s": _round(t.latency_s), "answered": t.answered}
                  for t in result.turns],
        "transcript": record["turns"] if record else [],
        "outcome": record["call"] if record else None,
        "ended_by": result.ended_by,
        "refused": result.say,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _print(report: dict[str, Any]) -> None:
    if report["refused"]:
        print(f"Twilio says: {report['refused']}")
        return
    turns = iter(report["turns"])
    for row in report["transcript"]:
        if row["role"] == "caller":
            turn = next(turns, None)
            label = f" [{turn['file']}]" if turn else ""
            conf = f" ({row['confidence']:.2f})" if row["confidence"] is not None else ""
            print(f"\nCaller{label}: {row['text'] or '(nothing heard)'}{conf}")
            if turn and turn["latency_s"] is not None:
                print(f"  latency: {turn['latency_s']:.2f} s (end of speech → first audio)")
        else:
            intent = f" [{row['intent']}]" if row["intent"] else ""
            print(f"Loket{intent}: {row['text']}")
    if not report["transcript"]:
        print("(the server's record of this call could not be read)")
    if report["greeting_s"] is not None:
        print(f"\ngreeting after {report['greeting_s']:.2f} s")
    for transfer in report.get("transfers", []):
        print(f"transferred to {transfer['to']}; the agent heard: {transfer['agent_heard']}")
    outcome = report["outcome"]
    if outcome:
        print(f"call ended: {outcome['end_reason']} (outcome: "
              f"{outcome.get('outcome') or 'unknown'})")


BENCH_SKIP_TOPICS = {"medewerker", "bevestigen", "ontkennen", "stilte", "postcode", "klacht"}


def bench_calls(
    concurrency: Annotated[list[int] | None, typer.Option(
        "--concurrency", "-n", help="simultaneous callers; repeat for several levels")] = None,
    duration: Annotated[float, typer.Option(help="seconds of calling per level")] = 120.0,
    sequential: Annotated[int, typer.Option(help="then this many short calls one after "
                                            "another, to check memory does not grow")] = 0,
    municipality: Annotated[str | None, typer.Option("--municipality", "-g")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Voice-to-voice latency, CPU and memory of the gateway under simulated callers."""
    import csv

    from telephony import bench
    from telephony.replay import phone_ulaw

    levels = concurrency or [1]
    if any(not 1 <= n <= 64 for n in levels) or duration <= 0 or sequential < 0:
        raise fail("--concurrency must be 1-64, --duration positive, --sequential >= 0")
    root = Path(__file__).resolve().parent.parent / "audio_fixtures"
    try:
        with (root / "manifest.tsv").open(encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f, delimiter="\t")
                    if r["topic"] not in BENCH_SKIP_TOPICS]
        clips = [(r["file"], phone_ulaw(root / r["file"])) for r in rows]
        to = _number_to_call(municipality)
        if not json_out:
            err.print(f"Starting a gateway; {len(levels)} level(s) of {duration:g} s…")
        report = bench.run(clips, to, levels, duration, sequential)
    except OSError as exc:
        raise fail(f"cannot read the caller fixtures ({exc.strerror})") from None
    except (VoiceError, DialogueError, TelephonyError) as exc:
        raise fail(str(exc)) from None
    data = report.to_dict()
    if json_out:
        print(json.dumps(data))
        return
    print("callers  calls turns  latency p50/p95/max  greeting p50/p95  recognition p50/p95"
          "  not recognised  CPU/call  RSS peak")
    for lv in data["levels"]:
        failures = lv["recognition_failures"]
        print(f"{lv['concurrency']:>7}  {lv['calls']:>5} {lv['turns']:>5}  "
              f"{lv['latency_p50_s']} / {lv['latency_p95_s']} / {lv['latency_max_s']} s  "
              f"{lv['greeting_p50_s']} / {lv['greeting_p95_s']} s  "
              f"{lv['recognition_p50_s']} / {lv['recognition_p95_s']} s  "
              f"{'?' if failures is None else failures:>14}  "
              f"{lv['cpu_per_call']}  {lv['rss_peak_mb']} MB")
    for lv in data["levels"]:
        if lv["overlapped"] or lv["unanswered"] or lv["failed"]:
            print(f"{lv['concurrency']} caller(s): {lv['overlapped']} turns answered while the "
                  f"caller was still talking (no latency), {lv['unanswered']} unanswered, "
                  f"{lv['failed']} calls not placed")
    print(f"idle memory {data['rss_idle_mb']} MB; per extra call {data['mb_per_extra_call']} MB")
    if data["sequential_calls"]:
        print(f"{data['sequential_calls']} sequential calls: "
              f"{data['rss_after_first_tenth_mb']} MB after the first tenth, "
              f"{data['rss_after_all_mb']} MB at the end")
