"""Barge-in: telling a caller who talks over Loket from the echo of Loket's own voice."""

from __future__ import annotations

from collections import deque

import numpy as np

from telephony.calltypes import FRAME
from voice import FRAME_MS, PHONE_RATE
from voice.audio import dbfs
from voice.vad.webrtc_vad import WebRtcVad


class BargeIn:
    """Decides when caller audio during playback is the caller talking, not echo.

    These lines have no echo cancelling, so Loket's own voice comes back in the caller
    audio. Rule: during playback a frame counts as caller speech only when webrtcvad
    calls it speech AND its level is at most ``margin_db`` below the loud level (90th
    percentile frame level) of what Loket is sending. Line echo returns at least 6 dB
    down (hybrid echo return loss, ITU-T G.168), so hardly any echo frame passes, while
    a caller talking over Loket does at a normal level. Barge-in needs ``min_ms`` of
    such frames within ``window_ms``, so a cough or a lone loud echo frame does not.
    """

    def __init__(self, min_ms: int, window_ms: int, margin_db: float) -> None:
        self._vad = WebRtcVad(PHONE_RATE)
        self._need = max(1, min_ms // FRAME_MS)
        self._recent: deque[bool] = deque(maxlen=max(1, window_ms // FRAME_MS))
        self.margin_db = margin_db
        self.reference_db = float("-inf")  # loud level of Loket's current audio

    def reset(self) -> None:
        self._recent.clear()
        self.reference_db = float("-inf")

    def passes(self, frame: np.ndarray) -> bool:
        """Voiced and loud enough not to be echo."""
        return dbfs(frame) >= self.reference_db - self.margin_db and self._vad.is_speech(frame)

    def feed(self, frame: np.ndarray) -> bool:
        """One 20 ms frame at 8 kHz; True when the caller is barging in."""
        self._recent.append(self.passes(frame))
        return sum(self._recent) >= self._need


def loud_db(pcm: np.ndarray) -> float:
    """90th-percentile level of the audible 20 ms frames (the 'speaking level')."""
    levels = [dbfs(pcm[i : i + FRAME]) for i in range(0, len(pcm) - FRAME + 1, FRAME)]
    audible = [x for x in levels if x > -60.0]
    return float(np.percentile(audible, 90)) if audible else float("-inf")
