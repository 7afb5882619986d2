"""Sample-rate conversion with soxr (high quality, also streaming)."""

import numpy as np
import soxr


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample a whole signal; int16 stays int16, float stays float32."""
    if rate_in == rate_out:
        return samples
    if samples.dtype == np.int16:
        out = soxr.resample(samples.astype(np.float32) / 32768.0, rate_in, rate_out, quality="HQ")
        return _to_int16(out)
    return soxr.resample(samples.astype(np.float32), rate_in, rate_out, quality="HQ")


def _to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1) to int16, rounded (no dither: the same input gives the
    same output)."""
    return np.round(np.clip(samples, -1.0, 32767 / 32768) * 32768.0).astype(np.int16)


class StreamResampler:
    """Resample a stream chunk by chunk without clicks at the chunk edges.

    soxr works in float here: its int16 output is dithered with random noise, so the same
    call audio reached the recogniser a little different each time (and was sometimes
    heard differently)."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self.rate_in = rate_in
        self.rate_out = rate_out
        self._rs = (
            soxr.ResampleStream(rate_in, rate_out, 1, dtype="float32", quality="HQ")
            if rate_in != rate_out
            else None
        )

    def process(self, pcm: np.ndarray, last: bool = False) -> np.ndarray:
        """Feed int16 samples; returns what is ready (may be empty)."""
        if self._rs is None:
            return pcm
        chunk = np.asarray(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        return _to_int16(self._rs.resample_chunk(chunk, last=last))
