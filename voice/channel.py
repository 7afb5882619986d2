"""Telephone-channel simulation: 300–3400 Hz band, 8 kHz, G.711 μ-law.

Every ``--phone`` option runs audio through :func:`phone_channel`, so tests and
benchmarks hear what a caller's audio sounds like after the public network.
"""

from functools import cache

import numpy as np
from scipy import signal

from voice import PHONE_RATE, SAMPLE_RATE
from voice.codecs import mulaw_decode, mulaw_encode
from voice.resample import resample


@cache
def _band_filter(rate: int) -> np.ndarray:
    return signal.butter(4, [300, 3400], btype="bandpass", fs=rate, output="sos")


def band_limit(pcm: np.ndarray, rate: int) -> np.ndarray:
    """Apply the 300–3400 Hz telephone band to int16 PCM at ``rate``."""
    out = signal.sosfilt(_band_filter(rate), pcm.astype(np.float64))
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def to_phone(pcm: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """Turn PCM at ``rate`` into what a caller's line carries: 8 kHz μ-law bytes."""
    narrow = resample(np.asarray(pcm, dtype=np.int16), rate, PHONE_RATE)
    return mulaw_encode(band_limit(narrow, PHONE_RATE))


def from_phone(ulaw: bytes, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Decode 8 kHz μ-law bytes to int16 PCM at ``rate``."""
    return resample(mulaw_decode(ulaw), PHONE_RATE, rate)


def phone_channel(pcm: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Round-trip PCM through the telephone channel and back to ``rate``."""
    return from_phone(to_phone(pcm, rate), rate)
