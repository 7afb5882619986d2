"""A disk cache of synthesised sentences (greetings and menus repeat all day)."""

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    """``$LOKET_TTS_CACHE`` or ``~/.cache/loket/tts``."""
    env = os.environ.get("LOKET_TTS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "loket" / "tts"


class AudioCache:
    """Stores int16 PCM under a hash of everything that shaped it."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir()
        self.hits = 0
        self.misses = 0

    def key(self, *parts: str) -> str:
        """Hash the parts into a file-name-safe key."""
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The cached audio, or None (a damaged or empty entry counts as missing)."""
        try:
            data = np.load(self._path(key), allow_pickle=False)
        except (OSError, ValueError):
            data = None
        if data is None or data.size == 0:  # empty: silence cached by an older version
            self.misses += 1
            return None
        self.hits += 1
        return data.astype(np.int16, copy=False)

    def put(self, key: str, pcm: np.ndarray) -> None:
        """Store atomically; a full or read-only disk only costs the cache."""
        if not len(pcm):
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.save(f, np.asarray(pcm, dtype=np.int16), allow_pickle=False)
            os.replace(tmp, path)
        except OSError:
            pass
