"""Vosk (Kaldi) streaming recognition: partials while the caller speaks, runtime grammars.

One ``vosk.Model`` is loaded per model path and process and shared by every
stream; each :class:`VoskStream` owns one ``KaldiRecognizer``. Phrase hints
become a vosk grammar when the model has a runtime graph (HCLr.fst + Gr.fst).

Two vosk quirks shape this module:

* ``SetGrammar`` on a recogniser that is in the middle of an utterance aborts the
  whole process (an uncaught Kaldi error), and ``Reset`` keeps already buffered
  audio, which then leaks into the next utterance. So :meth:`VoskStream.set_hints`
  and :meth:`VoskStream.reset` build a fresh ``KaldiRecognizer`` (well under a
  millisecond) and keep a sample offset so times still count from stream start.
* ``json.dumps`` escapes non-ASCII words, which vosk's JSON reader does not undo,
  so grammars are written with ``ensure_ascii=False``.
* Kaldi dithers the audio (adds faint noise) with a generator seeded from libc
  ``rand()`` when a recogniser is made, so the same audio could give a different
  word depending on what used ``rand()`` before in the process. :func:`_pin_rand`
  seeds libc's ``rand()`` just before each ``KaldiRecognizer`` is made: the same
  audio then gives the same words. (Turning dither off would need a changed model
  configuration, and dither keeps digital silence, common on phone lines, sane.)
"""

import ctypes
import functools
import json
import logging
import string
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voice.asr.base import Capabilities, RecognitionResult, Recognizer, Stream, Word
from voice.errors import ModelError
from voice.vosk_models import check_vosk_dir, supports_grammar

log = logging.getLogger(__name__)

UNK = "[unk]"
_PUNCT = string.punctuation + "¡¿…“”‘’«»"

_models: dict[Path, Any] = {}
_models_lock = threading.Lock()
_DITHER_SEED = 1  # libc's own default seed
_kaldi_lock = threading.Lock()  # seeding and making a recogniser happen together


@functools.cache
def _vosk() -> Any:
    """Import vosk once, with its logging turned down."""
    import vosk

    vosk.SetLogLevel(-1)
    return vosk


@functools.cache
def _srand() -> Any:
    """libc's ``srand``, or ``None`` where it cannot be found."""
    try:
        return ctypes.CDLL(None).srand
    except (OSError, AttributeError, TypeError):
        log.debug("libc srand not found; vosk results may vary with the dither")
        return None


def _pin_rand() -> None:
    """Seed libc ``rand()``, which Kaldi uses to seed a new recogniser's dither."""
    srand = _srand()
    if srand is not None:
        srand(_DITHER_SEED)


def _load_model(path: Path) -> Any:
    """The shared ``vosk.Model`` for ``path``, loading it on first use."""
    key = path.resolve()
    with _models_lock:
        model = _models.get(key)
        if model is None:
            check_vosk_dir(path)  # vosk itself must never see a bad path
            vosk = _vosk()
            try:
                model = vosk.Model(str(key))
            except Exception as exc:
                raise ModelError(f"{path}: vosk could not load the model ({exc})") from None
            _models[key] = model
        return model


class VoskRecognizer(Recognizer):
    """Streaming recogniser on a vosk model directory.

    Args:
        model_path: The model folder (holding ``am/``, ``conf/`` and ``graph/``).
        name_for_model: Name to report as :attr:`model`; defaults to the folder name.

    Raises:
        ModelError: the folder is not a vosk model or vosk cannot load it.
    """

    name = "vosk"

    def __init__(self, model_path: Path, name_for_model: str | None = None) -> None:
        model_path = Path(model_path)
        self.path = model_path
        self.model = name_for_model or model_path.name
        self._model = _load_model(model_path)
        self.capabilities = Capabilities(
            streaming=True,
            partials=True,
            word_timings=True,
            grammar=supports_grammar(model_path.resolve()),
            native_rates=(8000, 16000),
        )

    def stream(self, rate: int = 16000, hints: Sequence[str] | None = None) -> "VoskStream":
        """Open a stream for one call at ``rate`` Hz, optionally restricted to ``hints``."""
        return VoskStream(self, rate, hints)

    def knows(self, word: str) -> bool:
        """True when ``word`` is in the model's vocabulary."""
        find = getattr(self._model, "find_word", None) or self._model.vosk_model_find_word
        return find(word) != -1

    def grammar(self, phrases: Sequence[str] | None) -> list[str] | None:
        """The vosk grammar for these hints, or ``None`` for free speech.

        Phrases are lower-cased, words outside the vocabulary are dropped (vosk would
        drop them anyway, with a warning), and ``[unk]`` is added when the model has
        it so speech outside the grammar is not forced onto a phrase. ``None`` is
        also returned when the model has no runtime graph or no phrase survives.
        """
        if not phrases:
            return None
        if not self.capabilities.grammar:
            log.debug("%s has a static graph; ignoring %d phrase hints", self.model, len(phrases))
            return None
        grammar: list[str] = []
        for phrase in phrases:
            words = [w for w in (self._vocab_form(t) for t in phrase.lower().split()) if w]
            text = " ".join(words)
            if text and text not in grammar:
                grammar.append(text)
        if not grammar:
            log.debug("no hint phrase has words known to %s; using free speech", self.model)
            return None
        if self.knows(UNK):
            grammar.append(UNK)
        return grammar

    def _vocab_form(self, token: str) -> str | None:
        # Try the token as is (e.g. "zo'n"), then without surrounding punctuation ("ja,").
        for cand in (token, token.strip(_PUNCT)):
            if cand and self.knows(cand):
                return cand
        return None

    def _kaldi(self, rate: int, grammar: list[str] | None) -> Any:
        """A new ``KaldiRecognizer`` on the shared model."""
        vosk = _vosk()
        args = (json.dumps(grammar, ensure_ascii=False),) if grammar else ()
        with _kaldi_lock:
            _pin_rand()  # the same audio gives the same words (see the module notes)
            rec = vosk.KaldiRecognizer(self._model, rate, *args)
        for option in ("SetWords", "SetPartialWords"):
            if hasattr(rec, option):
                getattr(rec, option)(True)
        return rec


class VoskStream(Stream):
    """One call's recognition stream; not thread-safe (one call, one thread)."""

    def __init__(
        self, owner: VoskRecognizer, rate: int, hints: Sequence[str] | None = None
    ) -> None:
        if int(rate) != rate or rate <= 0:
            raise ValueError(f"sample rate must be a positive whole number, got {rate}")
        self.rate = int(rate)
        self._owner = owner
        self._grammar = owner.grammar(hints)
        self._rec = owner._kaldi(self.rate, self._grammar)
        self._fed = 0  # samples fed since stream start
        self._base = 0  # samples fed before the current KaldiRecognizer was made
        self._utt_start = 0  # sample where the current utterance began
        self._in_utt = False  # audio fed since the last final result
        self._last_partial = ""
        self._pending: list[RecognitionResult] = []

    @property
    def grammar(self) -> list[str] | None:
        """The phrases the stream is restricted to (``None`` = free speech)."""
        return None if self._grammar is None else list(self._grammar)

    def feed(self, pcm: np.ndarray) -> list[RecognitionResult]:
        """Feed int16 mono PCM at :attr:`rate`; returns new partial/final results."""
        pcm = np.asarray(pcm)
        if pcm.dtype != np.int16:
            raise ValueError(f"expected int16 PCM, got {pcm.dtype}")
        if pcm.ndim != 1:
            raise ValueError(f"expected mono PCM (1-D), got shape {pcm.shape}")
        out, self._pending = self._pending, []
        if len(pcm) == 0:
            return out
        data = pcm.astype("<i2", copy=False)
        # Small pieces so an endpoint inside a long buffer ends its utterance there.
        step = max(1, self.rate // 5)
        ended = False
        for i in range(0, len(data), step):
            chunk = data[i : i + step]
            if not self._in_utt:
                self._utt_start = self._fed
                self._in_utt = True
            self._fed += len(chunk)
            ended = bool(self._rec.AcceptWaveform(chunk.tobytes()))
            if ended:
                self._end_utterance(out, self._rec.Result())
        if not ended:
            partial = self._partial()
            if partial is not None:
                out.append(partial)
        return out

    def finish(self) -> list[RecognitionResult]:
        """End of input: returns the last final result, if anything was said."""
        out, self._pending = self._pending, []
        self._end_utterance(out, self._rec.FinalResult())
        return out

    def reset(self) -> None:
        """Forget the current utterance, including audio vosk has buffered."""
        self._restart(self._grammar)

    def set_hints(self, phrases: Sequence[str] | None) -> None:
        """Restrict recognition to ``phrases`` (``None``/empty = free speech).

        An utterance in progress is closed first; its final result comes with the
        next :meth:`feed` or :meth:`finish`. Ignored when the model has no runtime graph.
        """
        grammar = self._owner.grammar(phrases)
        if grammar == self._grammar:
            return
        if self._in_utt:
            self._end_utterance(self._pending, self._rec.FinalResult())
        self._restart(grammar)

    def _restart(self, grammar: list[str] | None) -> None:
        self._rec = self._owner._kaldi(self.rate, grammar)
        self._grammar = grammar
        self._base = self._fed
        self._in_utt = False
        self._last_partial = ""

    def _end_utterance(self, out: list[RecognitionResult], raw: str) -> None:
        self._in_utt = False
        self._last_partial = ""
        result = self._result(json.loads(raw), final=True)
        if result is not None:
            out.append(result)

    def _partial(self) -> RecognitionResult | None:
        """A partial result when the partial text changed since the last one."""
        raw = json.loads(self._rec.PartialResult())
        text = " ".join(str(raw.get("partial", "")).split())
        if text == self._last_partial:
            return None
        self._last_partial = text
        return self._result(raw, final=False) if text else None

    def _result(self, raw: dict, final: bool) -> RecognitionResult | None:
        """Build a result from vosk's JSON; ``None`` when there is no text."""
        text = " ".join(str(raw.get("text" if final else "partial", "")).split())
        if not text:
            return None
        # vosk times count from the creation of its recogniser; ours from stream start.
        offset = self._base / self.rate
        words = [
            Word(
                text=str(w["word"]),
                start=offset + float(w["start"]),
                end=offset + float(w["end"]),
                confidence=_unit(w.get("conf")),
            )
            for w in raw.get("result" if final else "partial_result", [])
        ]
        confs = [w.confidence for w in words if w.confidence is not None]
        return RecognitionResult(
            text=text,
            is_final=final,
            confidence=sum(confs) / len(confs) if confs else None,
            words=words,
            start=words[0].start if words else self._utt_start / self.rate,
            end=words[-1].end if words else self._fed / self.rate,
        )


def _unit(value: Any) -> float | None:
    """A confidence clipped to [0, 1] (``None`` when vosk gave none)."""
    if value is None:
        return None
    return min(1.0, max(0.0, float(value)))
