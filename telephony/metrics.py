"""Prometheus metrics of the gateway, served at `GET /metrics`.

    loket_active_calls                  calls in progress now
    loket_calls_total{outcome}          ended calls by outcome: contained, transferred,
                                        callback, lost, abandoned, error (defined in
                                        telephony.outcome)
    loket_transfers_total{reason}       transfers to a person, by escalation reason
                                        (dialogue.escalation.REASONS, else "other")
    loket_greeting_seconds              call start -> greeting starts playing
    loket_turn_latency_seconds          caller stops speaking -> answer starts playing
    loket_recognition_seconds           speech recognition time per turn
    loket_recognition_failures_total    caller utterances the recogniser failed on (the
                                        caller was asked to say it again)

Containment (share of calls handled without a person) over the last day, in PromQL:

    sum(increase(loket_calls_total{outcome="contained"}[1d]))
      / sum(increase(loket_calls_total[1d]))

Every outcome and reason starts at 0, so the ratio exists from the first call. Labels are
fixed words, never caller data: the metrics hold no personal data. Each `Metrics` has its
own registry, so several apps in one process do not clash.
"""

from __future__ import annotations

import math
import threading

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from dialogue.escalation import REASONS
from telephony.outcome import OUTCOMES

# Seconds, for what a caller waits on: fast turns are < 1 s, over 3 s feels broken.
LATENCY_BUCKETS = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)
METRICS_PATH = "/metrics"
OTHER_REASON = "other"  # label for a reason dialogue.escalation does not know


def _seconds(name: str, value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite, non-negative number of seconds, got {value}")
    return value


class Metrics:
    """The gateway's counters; the call code reports, `render()` exposes them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._active = Gauge("loket_active_calls", "Calls in progress", registry=r)
        self._calls = Counter("loket_calls", "Ended calls by outcome", ["outcome"], registry=r)
        self._transfers = Counter("loket_transfers", "Transfers to a person by reason",
                                  ["reason"], registry=r)
        self._greeting = Histogram("loket_greeting_seconds", "Call start to greeting playing",
                                   buckets=LATENCY_BUCKETS, registry=r)
        self._turn = Histogram("loket_turn_latency_seconds",
                               "End of caller speech to answer playing",
                               buckets=LATENCY_BUCKETS, registry=r)
        self._recognition = Histogram("loket_recognition_seconds",
                                      "Speech recognition time per turn",
                                      buckets=LATENCY_BUCKETS, registry=r)
        self._recognition_failures = Counter(
            "loket_recognition_failures", "Caller utterances the recogniser failed on",
            registry=r)
        for outcome in OUTCOMES:
            self._calls.labels(outcome=outcome)
        for reason in (*REASONS, OTHER_REASON):
            self._transfers.labels(reason=reason)
        self._lock = threading.Lock()
        self._in_progress = 0

    def call_started(self) -> None:
        with self._lock:
            self._in_progress += 1
            self._active.set(self._in_progress)

    def call_ended(self, outcome: str) -> None:
        """A call ended with `outcome` (one of OUTCOMES)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown call outcome {outcome!r}, expected one of {OUTCOMES}")
        with self._lock:
            self._in_progress = max(0, self._in_progress - 1)  # never below 0 on a stray end
            self._active.set(self._in_progress)
        self._calls.labels(outcome=outcome).inc()

    def greeting(self, seconds: float) -> None:
        self._greeting.observe(_seconds("greeting", seconds))

    def turn(self, latency_s: float | None, recognition_s: float | None) -> None:
        """One caller turn; a part that was not measured is None."""
        if latency_s is not None:
            self._turn.observe(_seconds("latency_s", latency_s))
        if recognition_s is not None:
            self._recognition.observe(_seconds("recognition_s", recognition_s))

    def recognition_failed(self, count: int = 1) -> None:
        """The recogniser failed on `count` caller utterances."""
        if count < 0:
            raise ValueError(f"count must not be negative, got {count}")
        self._recognition_failures.inc(count)

    def transfer(self, reason: str) -> None:
        """A transfer to a person; `reason` is a `dialogue.escalation.REASONS` code ("asked",
        "not_understood", ...); anything else counts as "other"."""
        label = reason if reason in REASONS else OTHER_REASON
        self._transfers.labels(reason=label).inc()

    def render(self) -> tuple[bytes, str]:
        """The text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def install_metrics(app: FastAPI, metrics: Metrics) -> None:
    """Serve `metrics` at GET /metrics on `app`."""

    async def metrics_route() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    app.state.metrics = metrics
    app.add_api_route(METRICS_PATH, metrics_route, methods=["GET"], include_in_schema=False)
