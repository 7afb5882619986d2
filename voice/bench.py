"""Streaming latency benchmark (``loket bench asr``).

N callers stream recordings at real-time pace, 20 ms at a time, into their own
streams on one shared recogniser. For every utterance we time the moment the
endpointer declares the turn over (after the trailing silence) to the moment
the final result is available: the delay the recogniser adds to a reply.
"""

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voice import FRAME_MS, audio
from voice.asr.segmenting import SegmentingStream
from voice.asr.whisper_asr import WhisperRecognizer


@dataclass(slots=True)
class BenchReport:
    """Per-utterance delays, in seconds."""

    concurrency: int
    speculative: bool
    delays: list[float] = field(default_factory=list)
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0

    def to_dict(self) -> dict:
        """Summary with median and 95th percentile."""
        d = sorted(self.delays)
        p95 = d[min(len(d) - 1, round(0.95 * (len(d) - 1)))] if d else None
        return {
            "concurrency": self.concurrency,
            "speculative": self.speculative,
            "utterances": len(d),
            "delay_p50_s": round(statistics.median(d), 3) if d else None,
            "delay_p95_s": round(p95, 3) if p95 is not None else None,
            "audio_seconds": round(self.audio_seconds, 1),
            "wall_seconds": round(self.wall_seconds, 1),
        }


def _caller(
    rec: WhisperRecognizer,
    clips: list[np.ndarray],
    speculative: bool,
    out: list[float],
    lock: threading.Lock,
) -> None:
    stream = SegmentingStream(rec, 8000, speculative=speculative, live=True)
    stream.timings = []
    step = 8000 * FRAME_MS // 1000
    t0 = time.perf_counter()
    sent = 0
    for pcm in clips:
        for i in range(0, len(pcm), step):
            stream.feed(pcm[i : i + step])
            sent += step
            pause = t0 + sent / 8000 - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
    stream.finish()
    with lock:
        out += [max(0.0, job.done_at - ended) for ended, job in stream.timings]


def run(
    rec: WhisperRecognizer, files: list[Path], concurrency: int, speculative: bool = True
) -> BenchReport:
    """Stream ``files`` (8 kHz, as from a phone) from ``concurrency`` callers at once."""
    clips = [audio.load(f, 8000) for f in files]
    report = BenchReport(concurrency, speculative)
    report.audio_seconds = sum(len(c) for c in clips) / 8000 * concurrency
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=_caller,
            args=(
                rec,
                clips[k % len(clips) :] + clips[: k % len(clips)],
                speculative,
                report.delays,
                lock,
            ),
        )
        for k in range(concurrency)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report.wall_seconds = time.perf_counter() - t0
    return report
