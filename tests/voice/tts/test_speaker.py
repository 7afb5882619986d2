"""Synthesis for real through pyttsx3 + espeak-ng."""

import numpy as np
import pytest
from support import heard

from voice.audio import dbfs
from voice.codecs import mulaw_decode
from voice.tts import Speaker, VoiceSettings
from voice.tts.cache import AudioCache
from voice.tts.pyttsx3_tts import Pyttsx3Synthesizer


@pytest.fixture(scope="module")
def speaker(tmp_path_factory):
    return Speaker(cache=AudioCache(tmp_path_factory.mktemp("tts")))


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100])
def test_speech_at_requested_rate(speaker, rate):
    pcm = speaker.say("Goedemiddag, u spreekt met de gemeente.", rate)
    assert pcm.dtype == np.int16
    seconds = len(pcm) / rate
    assert 1.0 < seconds < 6.0
    assert dbfs(pcm) > -35


def test_sentence_by_sentence(speaker):
    parts = list(speaker.sentences("Dit is zin een. Dit is zin twee! En zin drie?", 16000))
    assert len(parts) == 3
    assert all(len(p) > 8000 for p in parts)


def test_ulaw_for_the_phone(speaker):
    data = speaker.say_ulaw("Een moment alstublieft.")
    assert isinstance(data, bytes) and len(data) > 8000
    assert dbfs(mulaw_decode(data)) > -35


def test_every_sentence_has_audio():
    # Started too soon after the previous one, espeak-ng ended about 1 in 30 sentences
    # at once without audio; 150 sentences almost surely hit one.
    synth = Pyttsx3Synthesizer()
    lengths = [
        len(synth.synthesize(f"Welkom bij de gemeente, nummer {i}.", VoiceSettings()))
        for i in range(150)
    ]
    assert min(lengths) > 22050 // 2


def test_speed_follows_the_settings_of_each_sentence():
    # Set as an espeak parameter, a change of speed stuck for most later sentences.
    synth = Pyttsx3Synthesizer()
    plan = [150, 150, 110, 110, 150, 110, 150, 150, 110, 110, 110, 150] * 2
    lengths = [len(synth.synthesize("Welkom bij de gemeente.", VoiceSettings(wpm=w))) for w in plan]
    slow = [n for n, w in zip(lengths, plan, strict=True) if w == 110]
    fast = [n for n, w in zip(lengths, plan, strict=True) if w == 150]
    assert min(slow) > 1.2 * max(fast)


def test_control_characters_are_not_spoken_as_commands():
    synth = Pyttsx3Synthesizer()
    plain = synth.synthesize("Welkom bij de gemeente.", VoiceSettings())
    forged = synth.synthesize("\x0160S Welkom bij de gemeente.", VoiceSettings())
    assert len(forged) < 1.5 * len(plain)


def test_cache_reuses_audio(tmp_path):
    cache = AudioCache(tmp_path)
    sp = Speaker(cache=cache)
    first = sp.say("Welkom bij de gemeente.", 16000)
    assert cache.misses == 1 and cache.hits == 0
    again = sp.say("Welkom bij de gemeente.", 16000)
    assert cache.hits == 1
    assert np.array_equal(first, again)
    other = sp.say("Welkom bij de gemeente.", 16000, VoiceSettings(wpm=110))
    assert cache.misses == 2 and len(other) > len(first)


def test_empty_audio_is_not_cached(tmp_path):
    cache = AudioCache(tmp_path)
    key = cache.key("pyttsx3-espeak", "nl", "16000", "Tot ziens.")
    cache.put(key, np.zeros(0, np.int16))
    assert cache.get(key) is None
    path = cache._path(key)  # as an older version stored it
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.zeros(0, np.int16))
    assert cache.get(key) is None and cache.misses == 2


def test_damaged_cache_entry_is_resynthesised(tmp_path):
    cache = AudioCache(tmp_path)
    sp = Speaker(cache=cache)
    sp.say("Tot ziens.", 16000)
    for f in tmp_path.rglob("*.npy"):
        f.write_bytes(b"garbage")
    assert len(sp.say("Tot ziens.", 16000)) > 4000


@pytest.mark.model
def test_rerecognised_speech_contains_key_words(whisper, speaker):
    text = "Ik wil een afspraak maken voor een paspoort."
    pcm = np.concatenate(
        [np.zeros(8000, np.int16), speaker.say(text, 16000), np.zeros(16000, np.int16)]
    )
    got = whisper.transcribe(pcm).text
    assert heard("afspraak", got) or heard("paspoort", got), got


def test_personal_sentences_stay_out_of_the_cache(tmp_path):
    cache = AudioCache(tmp_path)
    speaker = Speaker(cache=cache)
    private = list(speaker.sentences("Ik heb verstaan: Jan de Vries. Klopt dat?", cache=False))
    assert len(private) == 2 and all(len(p) for p in private)
    assert not list(tmp_path.rglob("*.npy"))  # nothing written, nothing looked up
    assert cache.hits == cache.misses == 0
    list(speaker.sentences("Dank u wel."))
    assert len(list(tmp_path.rglob("*.npy"))) == 1
