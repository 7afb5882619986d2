"""Speech recognition: one streaming interface for every engine."""

from voice.asr.base import Capabilities, RecognitionResult, Recognizer, Stream, Word

__all__ = ["Capabilities", "RecognitionResult", "Recognizer", "Stream", "Word"]
