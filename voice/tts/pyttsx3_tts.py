"""pyttsx3 on the espeak-ng driver with a Dutch voice."""

import atexit
import contextlib
import io
import itertools
import logging
import re
import shutil
import tempfile
import threading
import weakref
from pathlib import Path

import numpy as np
import soundfile as sf

from voice.errors import VoiceError
from voice.tts.base import Synthesizer, VoiceSettings

log = logging.getLogger(__name__)

# pyttsx3's espeak driver is not thread-safe: one synthesis at a time per process.
_LOCK = threading.Lock()
_COUNTER = itertools.count()
# A sentence started before the driver had finished the previous one was now and then
# ended by espeak-ng at once, without audio (about 1 in 30). Waiting for the driver
# (_FINISHED) stopped that (0 in 1,000); a sentence with letters or digits that still
# comes back empty is synthesised again.
_ATTEMPTS = 4
_SPEAKABLE = re.compile(r"[^\W_]")
# Control characters: \x01 starts an espeak-ng embedded command, which text must not do.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Set by the driver once a sentence's file is written and closed. runAndWait() returns
# as soon as espeak has started; polling for the file could read it half written.
_FINISHED = threading.Event()
_HOOKED: "weakref.WeakSet[object]" = weakref.WeakSet()  # pyttsx3 shares one engine


def _on_finished(**_kwargs: object) -> None:
    _FINISHED.set()


def _quiet(*_args: object, **_kwargs: object) -> None:
    """Replaces print() inside the espeak driver, which announces every saved file."""


@contextlib.contextmanager
def _work_dir():
    # One directory for the process, removed at exit: espeak writes the WAV from its own
    # callback, which may come late; a directory removed after each sentence made that
    # late write fail in espeak's thread.
    global _DIR
    if _DIR is None:
        _DIR = Path(tempfile.mkdtemp(prefix="loket-tts-"))
        atexit.register(shutil.rmtree, _DIR, True)
    yield _DIR


_DIR: Path | None = None


class Pyttsx3Synthesizer(Synthesizer):
    """Dutch speech through pyttsx3 + espeak-ng (22.05 kHz native)."""

    name = "pyttsx3-espeak"
    native_rate = 22050

    def __init__(self) -> None:
        try:
            import pyttsx3

            with contextlib.redirect_stdout(io.StringIO()):
                self._engine = pyttsx3.init("espeak")
            import pyttsx3.drivers.espeak as driver

            # The driver prints "Audio saved to ..." from espeak's thread; silence it there
            # instead of swapping sys.stdout for the whole process.
            driver.print = _quiet  # type: ignore[attr-defined]
            if self._engine not in _HOOKED:
                self._engine.connect("finished-utterance", _on_finished)
                _HOOKED.add(self._engine)
        except (ImportError, RuntimeError, OSError) as exc:
            raise VoiceError(
                f"cannot start espeak-ng through pyttsx3 ({exc}); "
                "install it with: apt-get install espeak-ng libespeak-ng1"
            ) from None
        self._voices = {v.id.split("/")[-1]: v.id for v in self._engine.getProperty("voices")}

    def voice_id(self, settings: VoiceSettings) -> str:
        """The espeak voice id for ``settings`` (language voice plus optional variant)."""
        base = self._voices.get(settings.voice)
        if base is None:
            raise VoiceError(f"espeak-ng has no voice {settings.voice!r}")
        return f"{base}+{settings.variant}" if settings.variant else base

    def synthesize(self, text: str, settings: VoiceSettings) -> np.ndarray:
        """Speak one sentence; returns int16 PCM at 22.05 kHz."""
        if not text.strip():
            return np.zeros(0, dtype=np.int16)
        for attempt in range(1, _ATTEMPTS + 1):
            pcm = self._synthesize_once(text, settings)
            if len(pcm) or not _SPEAKABLE.search(text):
                return pcm
            log.debug("espeak-ng returned no audio (attempt %d of %d)", attempt, _ATTEMPTS)
        raise VoiceError(f"espeak-ng produced no audio {_ATTEMPTS} times for one sentence")

    def _synthesize_once(self, text: str, settings: VoiceSettings) -> np.ndarray:
        with _LOCK, _work_dir() as tmp:
            out = tmp / f"say-{next(_COUNTER)}.wav"
            e = self._engine
            e.setProperty("voice", self.voice_id(settings))
            _FINISHED.clear()
            e.save_to_file(_embedded(settings) + _CONTROL.sub(" ", text), str(out))
            e.runAndWait()
            if not _FINISHED.wait(5.0) or not out.exists():
                raise VoiceError("espeak-ng produced no audio")
            try:
                data, rate = sf.read(str(out), dtype="int16", always_2d=True)
            finally:
                out.unlink(missing_ok=True)
        if rate != self.native_rate:
            self.native_rate = rate
        return data[:, 0].copy()


def _embedded(settings: VoiceSettings) -> str:
    """Speed, pitch and volume as espeak-ng embedded commands at the start of the text.

    pyttsx3 sets them as espeak parameters, which espeak-ng's asynchronous mode applies
    unreliably: after a change of speed, most sentences kept the earlier speed. The
    voice itself is set synchronously and is reliable.
    """
    volume = round(min(max(settings.volume, 0.0), 2.0) * 100)
    return f"\x01{settings.wpm}S\x01{settings.pitch}P\x01{volume}A "
