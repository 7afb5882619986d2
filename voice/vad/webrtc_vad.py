"""Frame classifier on webrtcvad, gated by a minimum energy level."""

import numpy as np
import webrtcvad

from voice.audio import dbfs

RATES = (8000, 16000, 32000, 48000)


class WebRtcVad:
    """Says whether one 10/20/30 ms int16 frame holds speech."""

    def __init__(self, rate: int, aggressiveness: int = 2, min_dbfs: float = -50.0) -> None:
        if rate not in RATES:
            raise ValueError(f"webrtcvad supports {RATES} Hz, not {rate}")
        if not 0 <= aggressiveness <= 3:
            raise ValueError("aggressiveness must be 0..3")
        self.rate = rate
        self.min_dbfs = min_dbfs
        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: np.ndarray) -> bool:
        """Classify one frame; quiet frames never count as speech."""
        if dbfs(frame) < self.min_dbfs:
            return False
        return self._vad.is_speech(np.asarray(frame, dtype=np.int16).tobytes(), self.rate)
