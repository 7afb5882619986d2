"""Choosing and loading a recogniser; one instance per engine and model per process."""

import threading
from pathlib import Path

from voice.asr.base import Recognizer
from voice.errors import EngineError, ModelError

ENGINES = ("auto", "vosk", "whisper")

_loaded: dict[tuple[str, str], Recognizer] = {}
_lock = threading.Lock()


def resolve(engine: str = "auto", model: str | Path | None = None) -> tuple[str, Path]:
    """Pick the engine and model directory without loading anything.

    ``auto`` takes an installed Dutch vosk model if there is one, else Whisper base.
    """
    if engine not in ENGINES:
        raise EngineError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if model is not None:
        path = Path(model).expanduser()
        if not path.is_dir():
            raise ModelError(f"{path}: model directory not found")
        if engine == "auto":
            engine = "whisper" if (path / "model.bin").is_file() else "vosk"
        return engine, path
    if engine in ("auto", "vosk"):
        from voice.vosk_models import find_dutch_vosk_model

        found = find_dutch_vosk_model()
        if found is not None:
            return "vosk", found
        if engine == "vosk":
            raise ModelError(
                "no Dutch vosk model installed; run: loket models pull vosk-model-small-nl-0.22"
            )
    from voice import models

    return "whisper", models.configured_whisper() or models.whisper_base()


def load(engine: str = "auto", model: str | Path | None = None) -> Recognizer:
    """Return the shared recogniser for ``engine`` (loading it on first use)."""
    name, path = resolve(engine, model)
    key = (name, str(path.resolve()))
    with _lock:
        if key not in _loaded:
            _loaded[key] = _create(name, path)
        return _loaded[key]


def _create(name: str, path: Path) -> Recognizer:
    if name == "vosk":
        from voice.asr.vosk_asr import VoskRecognizer

        return VoskRecognizer(path)
    from voice.asr.whisper_asr import WhisperRecognizer
    from voice.models import check_whisper_dir

    return WhisperRecognizer(check_whisper_dir(path))
