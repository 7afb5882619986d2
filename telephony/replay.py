"""Run a call in-process from recorded caller turns, without sockets or pacing.

Each recording is one caller turn: it goes through the telephone channel (8 kHz μ-law),
is streamed to a :class:`CallLoop` in 20 ms frames, followed by a second of silence so
the endpointer closes the turn, and Loket's answer is awaited before the next file.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dialogue.core import Dialogue
from dialogue.turns import Handover
from telephony.call import FRAME, ULAW_SILENCE, CallConfig, CallLoop, TurnRecord
from voice import PHONE_RATE, SAMPLE_RATE, audio
from voice.channel import to_phone
from voice.codecs import mulaw_decode
from voice.tts import Speaker

if TYPE_CHECKING:
    from voice.asr.whisper_asr import WhisperRecognizer

TRAILING_SILENCE_S = 1.0
ANSWER_TIMEOUT_S = 60.0


class RecordingOutput:
    """An :class:`~telephony.call.Output` that keeps everything sent to it.

    With ``auto_mark`` every mark is confirmed at once, as if the far end played audio
    instantly; without it, ``pending_marks`` wait for :meth:`release`.
    """

    def __init__(self, auto_mark: bool = True) -> None:
        self.loop: CallLoop | None = None
        self.auto_mark = auto_mark
        self.frames: list[bytes] = []
        self.marks: list[str] = []
        self.pending_marks: list[str] = []
        self.clears = 0
        self.transfers: list[Handover | None] = []
        self.hangups = 0

    async def send_audio(self, ulaw: bytes) -> None:
        self.frames.append(ulaw)

    async def send_mark(self, name: str) -> None:
        self.marks.append(name)
        self.pending_marks.append(name)
        if self.auto_mark:
            await self.release()

    async def clear(self) -> None:
        self.clears += 1
        self.pending_marks.clear()

    async def transfer(self, handover: Handover | None) -> bool:
        self.transfers.append(handover)
        return True

    async def hangup(self) -> None:
        self.hangups += 1

    async def release(self, count: int | None = None) -> None:
        """Confirm the oldest ``count`` pending marks (all by default)."""
        n = len(self.pending_marks) if count is None else count
        names, self.pending_marks = self.pending_marks[:n], self.pending_marks[n:]
        for name in names:
            if self.loop is not None:
                await self.loop.mark(name)

    def pcm(self) -> np.ndarray:
        """Everything Loket said, as 8 kHz int16 PCM."""
        return mulaw_decode(b"".join(self.frames))


@dataclass
class ReplayResult:
    """The turns of a replayed call and the handovers it produced."""

    turns: list[TurnRecord]
    handovers: list[dict[str, Any]] = field(default_factory=list)
    audio: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    files: dict[int, str] = field(default_factory=dict)  # turn index → file it came from
    unheard: list[Path] = field(default_factory=list)  # files that gave no caller turn
    skipped: list[Path] = field(default_factory=list)  # files after the call ended
    end_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"turns": [...], "handovers": [...]}`` for ``--json``."""
        turns = [{"file": self.files.get(t.index), **t.to_dict()} for t in self.turns]
        return {"turns": turns, "handovers": self.handovers}


def phone_ulaw(path: Path) -> bytes:
    """A recording as a caller's line carries it (raises AudioError for bad files)."""
    return to_phone(audio.load(path, SAMPLE_RATE), SAMPLE_RATE)


async def replay(
    clips: Sequence[tuple[Path, bytes]],
    dialogue: Dialogue,
    recognizer: WhisperRecognizer,
    speaker: Speaker,
    pool: Executor | None = None,
    municipality: str | None = None,
) -> ReplayResult:
    """Play each clip (8 kHz μ-law) as one caller turn; collect what Loket did."""
    out = RecordingOutput()
    config = CallConfig(pace=False, reprompt_s=None, max_call_s=None)
    loop = CallLoop(dialogue, recognizer, speaker, out, pool, session_id=uuid.uuid4().hex[:12],
                    municipality=municipality, config=config)
    out.loop = loop
    skipped: list[Path] = []
    unheard: list[Path] = []
    files: dict[int, str] = {}
    await loop.start()
    await loop.wait_idle(ANSWER_TIMEOUT_S)
    silence = ULAW_SILENCE * int(TRAILING_SILENCE_S * PHONE_RATE)
    for path, ulaw in clips:
        if loop.ended:
            skipped.append(path)
            continue
        before = len(loop.turns)
        data = ulaw + silence
        for i in range(0, len(data) - FRAME + 1, FRAME):
            await loop.audio(data[i : i + FRAME])
            await asyncio.sleep(0)  # let the call's tasks run between frames
        await loop.wait_idle(ANSWER_TIMEOUT_S)
        for turn in loop.turns[before:]:
            files[turn.index] = path.name
        if len(loop.turns) == before:
            unheard.append(path)
    end_reason = loop.end_reason
    await loop.stop()
    handovers = [{"action": a, **h.to_dict()} for a, h in (
        [(_kind(h), h) for h in loop.handovers]
        + [("transfer", h) for h in out.transfers if h is not None])]
    return ReplayResult(loop.turns, handovers, out.pcm(), files, unheard, skipped, end_reason)


def _kind(handover: Handover) -> str:
    return "callback" if handover.callback else "record"
