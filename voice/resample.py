"""Sample-rate conversion with soxr (high quality, also streaming)."""

import numpy as np
import soxr


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample a whole signal; int16 stays int16, float stays float32."""
    if rate_in == rate_out:
        return samples
    if samples.dtype == np.int16:
        out = soxr.resample(samples.astype(np.float32) / 32768.0, rate_in, rate_out, quality="HQ")
        return np.round(np.clip(out, -1.0, 32767 / 32768) * 32768.0).astype(np.int16)
    return soxr.resample(samples.astype(np.float32), rate_in, rate_out, quality="HQ")


class StreamResampler:
    """Resample a stream chunk by chunk without clicks at the chunk edges."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self.rate_in = rate_in
        self.rate_out = rate_out
        self._rs = (
            soxr.ResampleStream(rate_in, rate_out, 1, dtype="int16", quality="HQ")
            if rate_in != rate_out
            else None
        )

    def process(self, pcm: np.ndarray, last: bool = False) -> np.ndarray:
        """Feed int16 samples; returns what is ready (may be empty)."""
        if self._rs is None:
            return pcm
        return self._rs.resample_chunk(np.asarray(pcm, dtype=np.int16), last=last)
