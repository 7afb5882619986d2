"""`loket bench calls`: simulated callers against a real gateway process.

The gateway runs as its own process (`loket serve`, with a simulated Twilio API for
transfers), so its CPU time and memory are measured apart from the callers. For each
concurrency level, N callers phone in a loop for the given time, in real time: the
greeting, then question recordings one after another, until the call ends or runs out of
questions. Per level: voice-to-voice latency (end of the caller's speech → Loket's first
audio frame, seen by the caller) p50/p95 and maximum, greeting latency, the server's
recognition time, the caller utterances the server failed to recognise (from its metrics),
the server's CPU per active call and its memory. `sequential` places that many short calls
one at a time (as fast as possible) and compares memory after the first tenth and at the end.
The gateway's log goes to a file in its data directory (a pipe nobody reads fills up and
stops the gateway); its last line is shown when the gateway does not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from telephony.caller import CallResult, SimulatedCaller
from telephony.errors import TelephonyError
from telephony.twilio.simapi import SimulatedTwilioApi

ACCOUNT = "AC" + "b" * 32
START_TIMEOUT_S = 300
TICKS = os.sysconf("SC_CLK_TCK")


def _pct(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Level:
    """What one concurrency level measured."""

    concurrency: int
    duration_s: float
    calls: int = 0
    failed: int = 0  # calls that could not be placed (e.g. the webhook timed out)
    turns: int = 0
    unanswered: int = 0
    overlapped: int = 0  # Loket answered a first part while the caller was still talking
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    latency_max_s: float | None = None
    recognition_failures: int | None = None  # utterances the server failed on (asked again)
    greeting_p50_s: float | None = None
    greeting_p95_s: float | None = None
    recognition_p50_s: float | None = None
    recognition_p95_s: float | None = None
    cpu_per_call: float | None = None  # server CPU cores used per active call
    rss_mb: float | None = None  # server memory at the end of the level
    rss_peak_mb: float | None = None


@dataclass
class Report:
    levels: list[Level] = field(default_factory=list)
    rss_idle_mb: float | None = None  # after start-up and one warm-up call
    mb_per_extra_call: float | None = None
    sequential_calls: int = 0
    rss_after_first_tenth_mb: float | None = None
    rss_after_all_mb: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ServerProcess:
    """`loket serve` in a child process, with its own data directory."""

    def __init__(self, api_url: str, token: str, data: Path,
                 command: Sequence[str] | None = None) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "LOKET_PORT": str(self.port), "LOKET_HOST": "127.0.0.1",
               "LOKET_DATA": str(data), "TWILIO_ACCOUNT_SID": ACCOUNT,
               "TWILIO_AUTH_TOKEN": token, "LOKET_TWILIO_API_URL": api_url,
               "LOKET_PUBLIC_URL": self.base}
        env.pop("LOKET_DATABASE_URL", None)
        self.log_path = data / "gateway.log"
        with self.log_path.open("wb") as log_file:  # the child keeps its own handle
            self.proc = subprocess.Popen(command or [sys.executable, "-m", "loket", "serve"],
                                         env=env, stdout=subprocess.DEVNULL, stderr=log_file)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                last = self.last_log_line() or f"exit code {self.proc.returncode}"
                raise TelephonyError(f"the gateway did not start: {last}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TelephonyError("the gateway did not start within 5 minutes")

    def last_log_line(self) -> str:
        with contextlib.suppress(OSError), self.log_path.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
            lines = f.read().decode("utf-8", "replace").strip().splitlines()
            return lines[-1] if lines else ""
        return ""

    def metric(self, name: str) -> float | None:
        """One unlabelled sample of the gateway's /metrics; None when it cannot be read."""
        from prometheus_client.parser import text_string_to_metric_families

        try:
            body = httpx.get(f"{self.base}/metrics", timeout=10).text
        except httpx.HTTPError:
            return None
        return next((s.value for family in text_string_to_metric_families(body)
                     for s in family.samples if s.name == name and not s.labels), None)

    def settled_failures(self, timeout: float = 30.0) -> float | None:
        """Recognition failures so far, once every call has ended (the gateway counts a
        call's failures when it ends)."""
        deadline = time.monotonic() + timeout
        while (self.metric("loket_active_calls") or 0) > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.metric("loket_recognition_failures_total")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def gateway() -> Iterator[tuple[ServerProcess, str]]:
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="loket-bench-") as data, \
            SimulatedTwilioApi(ACCOUNT, token, any_call=True) as api:
        server = ServerProcess(api.url, token, Path(data))
        try:
            server.wait_ready()
            yield server, token
        finally:
            server.stop()


async def _one_call(base: str, token: str, to: str, clips: Sequence[tuple[str, bytes]],
                    fast: bool, until: float | None) -> CallResult:
    sim = SimulatedCaller(base, to, auth_token=token, account_sid=ACCOUNT, fast=fast)
    await sim.dial()
    try:
        await sim.greeting()
        for label, ulaw in clips:
            if sim.ended or (until is not None and time.monotonic() > until):
                break
            await sim.turn(ulaw, label)
    finally:
        result = await sim.hangup()
    return result


async def _short_call(base: str, token: str, to: str, ulaw: bytes) -> CallResult:
    """Greeting starts, the caller asks over it, hangs up once the answer begins."""
    sim = SimulatedCaller(base, to, auth_token=token, account_sid=ACCOUNT, fast=True)
    await sim.dial()
    try:
        await sim.speaking()
        await sim.turn(ulaw, "short", wait=False)
        await sim.answer_started(20)
    finally:
        result = await sim.hangup()
    return result


async def _caller_loop(base: str, token: str, to: str, clips: Sequence[tuple[str, bytes]],
                       until: float, offset: int) -> list[CallResult | None]:
    """Calls one after another until `until`; None for a call that could not be placed."""
    results: list[CallResult | None] = []
    rotated = list(clips[offset % len(clips):]) + list(clips[: offset % len(clips)])
    while time.monotonic() < until:
        try:
            results.append(await _one_call(base, token, to, rotated, False, until))
        except TelephonyError:
            results.append(None)
    return results


async def _recognition_times(base: str, token: str, sids: list[str]) -> list[float]:
    from twilio.request_validator import RequestValidator

    from telephony.twilio.webhook import SIGNATURE_HEADER

    validator = RequestValidator(token)
    out: list[float] = []
    async with httpx.AsyncClient(timeout=30) as http:
        for sid in sids:
            url = f"{base}/api/calls/{sid}"
            try:
                response = await http.get(url, headers={
                    SIGNATURE_HEADER: validator.compute_signature(url, {})})
            except httpx.HTTPError:  # an overloaded gateway: leave this call out
                continue
            if response.status_code == 200:
                out += [t["recognition_ms"] / 1000 for t in response.json()["turns"]
                        if t["recognition_ms"] is not None]
    return out


def _level(server: ServerProcess, token: str, to: str, clips: Sequence[tuple[str, bytes]],
           n: int, duration_s: float) -> Level:
    peak = [server.rss_mb()]

    async def sample(stop: asyncio.Event) -> None:
        while not stop.is_set():
            peak.append(server.rss_mb())
            await asyncio.sleep(0.5)

    async def run() -> tuple[list[CallResult], int, list[float]]:
        until = time.monotonic() + duration_s
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample(stop))
        nested = await asyncio.gather(*(_caller_loop(server.base, token, to, clips, until, i)
                                        for i in range(n)))
        stop.set()
        await sampler
        placed = [c for group in nested for c in group]
        calls = [c for c in placed if c is not None]
        sids = [c.call_sid for c in calls]
        return calls, len(placed) - len(calls), await _recognition_times(server.base, token,
                                                                           sids)

    failures0 = server.settled_failures()
    cpu0, t0 = server.cpu_s(), time.monotonic()
    calls, failed, recognition = asyncio.run(run())
    cpu, wall = server.cpu_s() - cpu0, time.monotonic() - t0
    failures1 = server.settled_failures()
    turns = [t for c in calls for t in c.turns]
    latencies = [t.latency_s for t in turns if t.latency_s is not None]
    greetings = [c.greeting_s for c in calls if c.greeting_s is not None]
    return Level(
        concurrency=n, duration_s=round(wall, 1), calls=len(calls), failed=failed,
        turns=len(turns),
        unanswered=sum(not t.answered for t in turns),
        overlapped=sum(t.overlapped for t in turns),
        latency_p50_s=_pct(latencies, 0.5), latency_p95_s=_pct(latencies, 0.95),
        latency_max_s=round(max(latencies), 3) if latencies else None,
        recognition_failures=None if failures0 is None or failures1 is None
        else round(failures1 - failures0),
        greeting_p50_s=_pct(greetings, 0.5), greeting_p95_s=_pct(greetings, 0.95),
        recognition_p50_s=_pct(recognition, 0.5), recognition_p95_s=_pct(recognition, 0.95),
        cpu_per_call=round(cpu / wall / n, 3) if wall else None,
        rss_mb=server.rss_mb(), rss_peak_mb=max(peak))


def run(clips: Sequence[tuple[str, bytes]], to: str, levels: Sequence[int], duration_s: float,
        sequential: int = 0) -> Report:
    """Start a gateway, measure each concurrency level, then the sequential calls."""
    report = Report()
    with gateway() as (server, token):
        asyncio.run(_one_call(server.base, token, to, clips[:1], True, None))  # warm-up
        report.rss_idle_mb = server.rss_mb()
        for n in levels:
            report.levels.append(_level(server, token, to, clips, n, duration_s))
        peaks = {lv.concurrency: lv.rss_peak_mb for lv in report.levels}
        if peaks and report.rss_idle_mb is not None:
            top = max(peaks)
            report.mb_per_extra_call = round(
                (peaks[top] - report.rss_idle_mb) / top, 1) if top else None
        if sequential:
            report.sequential_calls = sequential
            first = max(1, sequential // 10)
            for i in range(sequential):
                with contextlib.suppress(TelephonyError):
                    asyncio.run(_short_call(server.base, token, to, clips[i % len(clips)][1]))
                if i + 1 == first:
                    report.rss_after_first_tenth_mb = server.rss_mb()
            report.rss_after_all_mb = server.rss_mb()
    return report
