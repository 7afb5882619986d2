"""Reading and writing audio files as mono PCM16 at the rate the caller asks for."""

from pathlib import Path

import numpy as np
import soundfile as sf

from voice import SAMPLE_RATE
from voice.codecs import float_to_pcm16
from voice.errors import AudioError
from voice.resample import resample

# Below this RMS (dBFS) a recording counts as silent.
SILENCE_DBFS = -55.0


def load(path: str | Path, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Read WAV/FLAC/OGG (any rate, any channel count) as mono int16 at ``rate``.

    Raises:
        AudioError: the file is missing, unreadable as audio, or empty.
    """
    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: no such file")
    if p.is_dir():
        raise AudioError(f"{p}: is a directory, not an audio file")
    try:
        data, file_rate = sf.read(str(p), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AudioError(f"{p}: not a readable audio file ({_short(exc)})") from None
    if data.shape[0] == 0:
        raise AudioError(f"{p}: the audio file is empty")
    mono = data.mean(axis=1)
    return float_to_pcm16(resample(mono, file_rate, rate))


def save(path: str | Path, pcm: np.ndarray, rate: int) -> Path:
    """Write int16 PCM as a 16-bit WAV file, creating parent folders."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(p), np.asarray(pcm, dtype=np.int16), rate, subtype="PCM_16")
    return p


def dbfs(pcm: np.ndarray) -> float:
    """RMS level in dB relative to full scale (−inf for digital silence)."""
    if len(pcm) == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(pcm.astype(np.float64)))))
    return 20 * np.log10(rms / 32768.0) if rms > 0 else float("-inf")


def is_silent(pcm: np.ndarray, threshold_dbfs: float = SILENCE_DBFS) -> bool:
    """True when the signal never rises above ``threshold_dbfs`` in any 100 ms window."""
    if len(pcm) == 0:
        return True
    win = max(1, len(pcm) // max(1, len(pcm) // 1600))
    loudest = max(dbfs(pcm[i : i + win]) for i in range(0, len(pcm), win))
    return loudest < threshold_dbfs


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
