"""Giving memory that start-up used only briefly back to the system."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)
_libc: ctypes.CDLL | None = None


def release() -> bool:
    """Collect garbage, then let glibc return its free heap pages (``malloc_trim``).

    Training and embedding at start-up (n-gram matrices, example vectors, the engine's
    work buffers in other threads) leave freed memory in the C heaps; without this it
    stays resident (about 80 MB after a retraining). Returns whether it could trim:
    not on a C library without ``malloc_trim`` (musl, macOS), where it only collects.
    """
    global _libc
    gc.collect()
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _libc.malloc_trim(0)
    except (OSError, AttributeError) as exc:
        log.debug("malloc_trim unavailable: %s", exc)
        return False
    return True
