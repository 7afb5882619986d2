"""Pure sample-format conversions: PCM16 <-> float, G.711 μ-law, 20 ms framing.

The μ-law codec follows ITU-T G.711 (bias 0x84, clip 32635) in numpy, so it
does not depend on the audioop module removed in Python 3.13.
"""

from collections.abc import Iterator

import numpy as np

from voice import FRAME_MS

_BIAS = 0x84
_CLIP = 32635


def float_to_pcm16(samples: np.ndarray) -> np.ndarray:
    """Convert float samples in [-1, 1] to int16, clipping what lies outside."""
    scaled = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767.0
    return np.round(scaled).astype(np.int16)


def pcm16_to_float(samples: np.ndarray) -> np.ndarray:
    """Convert int16 samples to float32 in [-1, 1)."""
    return np.asarray(samples, dtype=np.int16).astype(np.float32) / 32768.0


def mulaw_encode(pcm: np.ndarray) -> bytes:
    """Encode int16 PCM samples as G.711 μ-law bytes."""
    x = np.asarray(pcm, dtype=np.int16).astype(np.int32)
    sign = np.where(x < 0, 0x80, 0x00)
    mag = np.minimum(np.abs(x), _CLIP) + _BIAS
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    code = ~(sign | (exponent << 4) | mantissa) & 0xFF
    return code.astype(np.uint8).tobytes()


def _mulaw_table() -> np.ndarray:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = code & 0x80
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    mag = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -mag, mag).astype(np.int16)


_DECODE = _mulaw_table()


def mulaw_decode(data: bytes) -> np.ndarray:
    """Decode G.711 μ-law bytes to int16 PCM samples."""
    return _DECODE[np.frombuffer(data, dtype=np.uint8)]


def frame_size(rate: int, frame_ms: int = FRAME_MS) -> int:
    """Number of samples in one frame of ``frame_ms`` at ``rate``."""
    return rate * frame_ms // 1000


def frames(pcm: np.ndarray, rate: int, frame_ms: int = FRAME_MS) -> Iterator[np.ndarray]:
    """Split PCM into whole frames; the last partial frame is zero-padded."""
    size = frame_size(rate, frame_ms)
    for start in range(0, len(pcm), size):
        chunk = pcm[start : start + size]
        if len(chunk) < size:
            chunk = np.concatenate([chunk, np.zeros(size - len(chunk), dtype=chunk.dtype)])
        yield chunk
