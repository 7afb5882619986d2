"""What a call loop exchanges with its transport and records: outputs, settings, turns."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from dialogue.expect import ALWAYS
from dialogue.turns import Handover
from voice import PHONE_RATE
from voice.codecs import frame_size
from voice.vad.endpointer import EndpointerConfig

FRAME = frame_size(PHONE_RATE)  # samples (= μ-law bytes) per 20 ms frame
ULAW_SILENCE = b"\xff"
# Whisper hotwords longer than about half its 448-token context break decoding.
HINT_CHARS = 400


class Output(Protocol):
    """What the loop sends to the far end; a transport adapter implements it."""

    async def send_audio(self, ulaw: bytes) -> None:
        """Play one 20 ms frame of 8 kHz μ-law."""

    async def send_mark(self, name: str) -> None:
        """Ask to be told (``CallLoop.mark``) when playback reaches this point."""

    async def clear(self) -> None:
        """Drop audio queued at the far end (barge-in)."""

    async def transfer(self, handover: Handover | None) -> bool:
        """Hand the call to a person; False when that is not possible now."""

    async def hangup(self) -> None:
        """End the call."""


@dataclass
class CallConfig:
    """Timings of one call; ``None`` switches a timer off (``loket replay`` does)."""

    pace: bool = True  # send audio at real-time speed
    reprompt_s: float | None = 6.0  # silence after Loket spoke → reprompt, then goodbye
    max_call_s: float | None = 600.0
    dtmf_timeout_s: float = 3.0  # pause between keys that ends a key entry
    barge_in_ms: int = 300  # speech needed (within barge_in_window_ms) to interrupt
    barge_in_window_ms: int = 1000
    echo_margin_db: float = 6.0  # see bargein.BargeIn
    echo_tail_s: float = 0.3  # the echo gate stays on this long after playback
    endpointer: EndpointerConfig | None = None
    early_end: bool = True  # answer at a pause once the transcript is complete (see Dialogue)


@dataclass
class TurnRecord:
    """One turn of the call, for ``loket replay``/``loket call`` and persistence."""

    index: int
    source: Literal["start", "speech", "dtmf", "misheard", "silence", "time_up", "error"]
    heard: str = ""  # what the recogniser heard (or the keys pressed)
    confidence: float | None = None
    dtmf: str | None = None
    intent: str | None = None
    said: str = ""  # what Loket answered
    actions: list[str] = field(default_factory=list)
    answered: bool = False  # Loket answered the caller's question (see telephony.outcome)
    barged_in_after: str | None = None  # the caller cut Loket off, having heard this
    interrupted: bool = False  # this answer was cut off by the caller
    recognition_s: float | None = None  # end of speech → final text
    dialogue_s: float | None = None
    latency_s: float | None = None  # end of speech (or last key) → first audio frame sent
    t_end: float | None = field(default=None, repr=False)  # perf_counter at end of input
    at: float = field(default_factory=time.time, repr=False)  # wall clock, for the store

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (timings rounded to milliseconds)."""
        d = asdict(self)
        d.pop("t_end")
        d.pop("at")
        for k in ("recognition_s", "dialogue_s", "latency_s", "confidence"):
            if d[k] is not None:
                d[k] = round(d[k], 3)
        return d


def hints(phrases: list[str], budget: int = HINT_CHARS) -> list[str]:
    """Expected phrases that fit Whisper's prompt, the always-valid ones first. Single
    letters are left out: as Whisper hotwords they make it hear spelled-out garbage."""
    wanted = [p for p in dict.fromkeys(phrases) if len(p.strip()) > 1]
    ordered = sorted(wanted, key=lambda p: p not in ALWAYS)  # stable
    out: list[str] = []
    for phrase in ordered:
        budget -= len(phrase) + 2
        if budget < 0:
            break
        out.append(phrase)
    return out


def ulaw_frames(ulaw: bytes) -> list[bytes]:
    """Split μ-law into 20 ms frames; the last is padded with silence."""
    out = [ulaw[i : i + FRAME] for i in range(0, len(ulaw), FRAME)]
    if out and len(out[-1]) < FRAME:
        out[-1] += ULAW_SILENCE * (FRAME - len(out[-1]))
    return out
