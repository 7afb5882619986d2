"""Dutch speech synthesis: normalise, split into sentences, synthesise, cache."""

from collections.abc import Iterator

import numpy as np

from voice import SAMPLE_RATE
from voice.codecs import mulaw_encode
from voice.resample import resample
from voice.tts.base import Synthesizer, VoiceSettings
from voice.tts.cache import AudioCache
from voice.tts.normalize import normalize, split_sentences

__all__ = ["Speaker", "VoiceSettings"]

# Silence between sentences, so the listener hears a full stop.
SENTENCE_GAP_S = 0.25


class Speaker:
    """Text to speech for callers, one sentence at a time, with a disk cache."""

    def __init__(
        self,
        synthesizer: Synthesizer | None = None,
        settings: VoiceSettings | None = None,
        cache: AudioCache | None = None,
        use_cache: bool = True,
    ) -> None:
        if synthesizer is None:
            from voice.tts.pyttsx3_tts import Pyttsx3Synthesizer

            synthesizer = Pyttsx3Synthesizer()
        self.synthesizer = synthesizer
        self.settings = settings or VoiceSettings()
        self.cache = (cache or AudioCache()) if use_cache else None

    def sentences(
        self, text: str, rate: int = SAMPLE_RATE, settings: VoiceSettings | None = None,
        cache: bool = True,
    ) -> Iterator[np.ndarray]:
        """Yield int16 PCM per sentence, so the first can play while the rest is made.
        ``cache=False`` for personal text (a caller's name or number read back): it is
        neither looked up in nor written to the disk cache."""
        s = settings or self.settings
        for sentence in split_sentences(normalize(text)):
            yield self._sentence(sentence, rate, s, cache)

    def say(
        self, text: str, rate: int = SAMPLE_RATE, settings: VoiceSettings | None = None
    ) -> np.ndarray:
        """The whole text as one int16 PCM signal at ``rate``."""
        gap = np.zeros(int(SENTENCE_GAP_S * rate), dtype=np.int16)
        parts: list[np.ndarray] = []
        for pcm in self.sentences(text, rate, settings):
            parts += [pcm, gap]
        return np.concatenate(parts[:-1]) if parts else np.zeros(0, dtype=np.int16)

    def say_ulaw(self, text: str, settings: VoiceSettings | None = None) -> bytes:
        """The whole text as 8 kHz μ-law bytes, ready for a phone line."""
        return mulaw_encode(self.say(text, 8000, settings))

    def _sentence(self, sentence: str, rate: int, s: VoiceSettings,
                  cache: bool = True) -> np.ndarray:
        key = None
        if self.cache is not None and cache:
            key = self.cache.key(self.synthesizer.name, s.key(), str(rate), sentence)
            hit = self.cache.get(key)
            if hit is not None:
                return hit
        pcm = resample(self.synthesizer.synthesize(sentence, s), self.synthesizer.native_rate, rate)
        if self.cache is not None and key is not None:
            self.cache.put(key, pcm)
        return pcm
