"""The synthesiser interface: text in, mono int16 PCM out."""

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass(slots=True, frozen=True)
class VoiceSettings:
    """How the voice sounds: espeak voice/variant, speed (words per minute), pitch (0–99)."""

    voice: str = "nl"
    variant: str = ""
    wpm: int = 150
    pitch: int = 50
    volume: float = 1.0

    def key(self) -> str:
        """Stable text form used in cache keys."""
        return f"{self.voice}+{self.variant}:{self.wpm}:{self.pitch}:{self.volume:.2f}"


class Synthesizer(ABC):
    """Turns one sentence of already-normalised text into speech."""

    name: str
    native_rate: int

    @abstractmethod
    def synthesize(self, text: str, settings: VoiceSettings) -> np.ndarray:
        """Speak ``text``; returns int16 PCM at :attr:`native_rate`."""
