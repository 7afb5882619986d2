"""Trained models kept on disk (pickle) under LOKET_CACHE, keyed by what they learnt from."""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
from pathlib import Path
from typing import Any, TypeVar

from dialogue.nlu.encoder import cache_dir

log = logging.getLogger(__name__)
T = TypeVar("T")


def model_path(prefix: str, *inputs: Any) -> Path:
    """The file for a model trained on exactly these (JSON-able) inputs."""
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"{prefix}-{key}.pkl"


def load(path: Path, kind: type[T]) -> T | None:
    """The cached model, or None when there is none (a stale or broken one is ignored)."""
    if not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            model = pickle.load(fh)
    except Exception as exc:  # a stale or broken cache is rebuilt, never fatal
        log.warning("ignoring model cache %s: %s", path.name, exc)
        return None
    return model if isinstance(model, kind) else None


def save(path: Path, model: object) -> None:
    """Write atomically; a cache that cannot be written only costs time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(model, fh)
        tmp.replace(path)
    except OSError as exc:
        log.warning("cannot cache the model at %s: %s", path.name, exc)
