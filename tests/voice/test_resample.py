import numpy as np

from voice.resample import StreamResampler, resample


def _tone(rate: int, freq: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freq * t) * 10000).astype(np.int16)


def _peak_freq(pcm: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(pcm.astype(float)))
    return float(np.fft.rfftfreq(len(pcm), 1 / rate)[np.argmax(spec)])


def test_resample_keeps_length_and_pitch():
    tone = _tone(8000, 440)
    up = resample(tone, 8000, 16000)
    assert up.dtype == np.int16
    assert abs(len(up) - 16000) <= 2
    assert abs(_peak_freq(up, 16000) - 440) < 2


def test_downsampling_removes_content_above_nyquist():
    tone = _tone(16000, 6000)
    down = resample(tone, 16000, 8000)
    assert np.sqrt(np.mean(down.astype(float) ** 2)) < 200  # 6 kHz cannot exist at 8 kHz


def test_stream_resampler_matches_whole_signal():
    tone = _tone(8000, 300)
    rs = StreamResampler(8000, 16000)
    parts = [rs.process(tone[i : i + 160]) for i in range(0, len(tone), 160)]
    parts.append(rs.process(np.zeros(0, dtype=np.int16), last=True))
    streamed = np.concatenate(parts)
    assert abs(len(streamed) - 16000) <= 2
    whole = resample(tone, 8000, 16000)
    n = min(len(whole), len(streamed)) - 200
    assert np.max(np.abs(whole[200:n].astype(int) - streamed[200:n].astype(int))) < 300


def test_stream_resampler_gives_the_same_samples_every_time():
    # The same call audio must reach the recogniser bit for bit the same: soxr's int16
    # output was dithered with random noise, and Whisper sometimes heard the difference.
    rng = np.random.default_rng(7)
    speechlike = (rng.normal(0, 3000, 8000 * 3)).astype(np.int16)
    runs = set()
    for _ in range(12):
        rs = StreamResampler(8000, 16000)
        parts = [rs.process(speechlike[i : i + 160]) for i in range(0, len(speechlike), 160)]
        parts.append(rs.process(np.zeros(0, dtype=np.int16), last=True))
        streamed = np.concatenate(parts)
        assert streamed.dtype == np.int16
        runs.add(streamed.tobytes())
    assert len(runs) == 1
