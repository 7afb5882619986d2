import numpy as np
import pytest
from support import FIXTURES

from voice import audio
from voice.vad.endpointer import (
    Endpointer,
    EndpointerConfig,
    PauseStarted,
    SpeechEnded,
    SpeechResumed,
    SpeechStarted,
)


def _run(pcm: np.ndarray, rate: int, config: EndpointerConfig | None = None, chunk: int = 160):
    ep = Endpointer(rate, config)
    events = []
    for i in range(0, len(pcm), chunk):
        events += ep.feed(pcm[i : i + chunk])
    return events + ep.flush()


@pytest.mark.parametrize("rate", [8000, 16000])
def test_speech_found_in_every_spoken_fixture(fixtures, rate):
    for row in fixtures:
        if row["topic"] == "stilte":
            continue
        pcm = audio.load(FIXTURES / row["file"], rate)
        events = _run(pcm, rate)
        starts = [e for e in events if isinstance(e, SpeechStarted)]
        ends = [e for e in events if isinstance(e, SpeechEnded)]
        assert starts and ends, row["file"]
        # The fixtures have 0.6 s lead-in and 1.0 s tail: onset near 0.6 s, ended by silence.
        assert 0.3 <= starts[0].time <= 1.0, (row["file"], starts[0].time)
        assert ends[-1].reason == "silence", row["file"]
        speech = sum(len(e.audio) for e in ends) / rate
        assert speech > 0.5


def test_silence_and_hum_not_found(fixtures):
    for row in fixtures:
        if row["topic"] == "stilte":
            pcm = audio.load(FIXTURES / row["file"], 16000)
            assert _run(pcm, 16000) == []
    assert _run(np.zeros(16000 * 2, dtype=np.int16), 16000) == []


def test_pre_roll_keeps_audio_before_onset(fixtures):
    pcm = audio.load(FIXTURES / "paspoort_01.wav", 16000)
    cfg = EndpointerConfig(pre_roll_ms=300)
    events = _run(pcm, 16000, cfg)
    start = next(e for e in events if isinstance(e, SpeechStarted))
    end = next(e for e in events if isinstance(e, SpeechEnded))
    assert end.start == pytest.approx(start.time - 0.3, abs=0.021)


def test_short_click_is_not_speech():
    rate = 16000
    rng = np.random.default_rng(0)
    pcm = np.zeros(rate * 2, dtype=np.int16)
    pcm[rate : rate + 960] = (rng.standard_normal(960) * 8000).astype(np.int16)  # 60 ms burst
    assert _run(pcm, rate, EndpointerConfig(min_speech_ms=160)) == []


def test_max_utterance_length_splits(fixtures):
    pcm = audio.load(FIXTURES / "paspoort_02.wav", 16000)
    events = _run(pcm, 16000, EndpointerConfig(max_utterance_ms=1000))
    ends = [e for e in events if isinstance(e, SpeechEnded)]
    assert len(ends) >= 2
    assert ends[0].reason == "max_length"
    assert len(ends[0].audio) / 16000 == pytest.approx(1.0, abs=0.05)


def test_pause_then_resume_then_end(fixtures):
    one = audio.load(FIXTURES / "ja_02.wav", 16000)
    # The utterance as the endpointer cut it: 0.5 s pre-roll, speech, 0.2 s of its tail.
    segment = next(e for e in _run(one, 16000) if isinstance(e, SpeechEnded)).audio
    cfg = EndpointerConfig(pause_ms=200, trailing_silence_ms=900)
    # Twice in a row: a 0.7 s pause between, shorter than the 0.9 s that ends a turn.
    events = _run(np.concatenate([segment, segment, np.zeros(16000, dtype=np.int16)]), 16000, cfg)
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("SpeechEnded") == 1
    assert "PauseStarted" in kinds and "SpeechResumed" in kinds
    assert kinds.index("PauseStarted") < kinds.index("SpeechResumed") < kinds.index("SpeechEnded")
    last_pause = [e for e in events if isinstance(e, PauseStarted)][-1]
    end = next(e for e in events if isinstance(e, SpeechEnded))
    # The final pause's audio is the whole utterance: speculative decoding can be reused.
    assert len(last_pause.audio) == len(end.audio)
    assert not isinstance(events[-1], SpeechResumed)


def test_trailing_silence_is_configurable(fixtures):
    pcm = audio.load(FIXTURES / "ja_01.wav", 16000)
    short = [
        e
        for e in _run(pcm, 16000, EndpointerConfig(trailing_silence_ms=300))
        if isinstance(e, SpeechEnded)
    ]
    long = [
        e
        for e in _run(pcm, 16000, EndpointerConfig(trailing_silence_ms=900))
        if isinstance(e, SpeechEnded)
    ]
    assert short and long
    assert short[-1].reason == "silence" and long[-1].reason == "silence"


def test_end_now_only_during_a_pause_and_with_the_pause_audio():
    one = audio.load(FIXTURES / "ja_02.wav", 16000)
    ep = Endpointer(16000)
    assert ep.end_now() is None  # nothing said yet
    pause, talked = None, False
    for i in range(0, len(one), 320):
        events = ep.feed(one[i : i + 320])
        pause = next((e for e in events if isinstance(e, PauseStarted)), None)
        if pause is not None:
            break
        if ep.in_speech:
            talked = True
            assert ep.end_now() is None  # talking, not pausing
    assert talked and pause is not None
    ended = ep.end_now()
    assert ended is not None and ended.reason == "early"
    assert len(ended.audio) == len(pause.audio)  # the pause's decode stays valid
    assert not ep.in_speech and ep.end_now() is None
