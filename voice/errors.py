"""Errors the voice layer raises for bad input; each carries one clear line."""


class VoiceError(Exception):
    """Bad input or missing resource; the message is shown to the user as is."""


class AudioError(VoiceError):
    """A file is missing, is not audio, or holds no usable sound."""


class ModelError(VoiceError):
    """A recognition model is missing, corrupt or cannot be downloaded."""


class EngineError(VoiceError):
    """An unknown or unusable recognition engine was asked for."""


class RecognitionError(VoiceError):
    """The recogniser failed on one utterance; other utterances are not affected."""
