"""Voice activity detection and endpointing."""

from voice.vad.endpointer import (
    Endpointer,
    EndpointerConfig,
    PauseStarted,
    SpeechEnded,
    SpeechResumed,
    SpeechStarted,
)

__all__ = [
    "Endpointer",
    "EndpointerConfig",
    "PauseStarted",
    "SpeechEnded",
    "SpeechResumed",
    "SpeechStarted",
]
