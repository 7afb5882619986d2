import numpy as np
import pytest

from voice.codecs import frame_size, frames, mulaw_decode, mulaw_encode, pcm16_to_float


def test_mulaw_round_trip_error_is_small_relative_to_level():
    rng = np.random.default_rng(1)
    pcm = (rng.standard_normal(8000) * 6000).clip(-32768, 32767).astype(np.int16)
    back = mulaw_decode(mulaw_encode(pcm))
    err = np.abs(back.astype(int) - pcm.astype(int))
    # G.711 quantisation step grows with level: error stays within ~1/16 of the magnitude.
    assert np.all(err <= np.maximum(8, np.abs(pcm.astype(int)) // 16 + 8))
    snr = 10 * np.log10(np.sum(pcm.astype(float) ** 2) / np.sum(err.astype(float) ** 2))
    assert snr > 30


def test_mulaw_known_codes():
    # ITU-T G.711: 0 encodes as 0xFF, full negative scale as 0x00-ish, full positive as 0x80.
    assert mulaw_encode(np.array([0], dtype=np.int16)) == b"\xff"
    assert mulaw_encode(np.array([32767], dtype=np.int16)) == b"\x80"
    assert mulaw_encode(np.array([-32768], dtype=np.int16)) == b"\x00"
    assert mulaw_decode(b"\xff")[0] == 0
    assert mulaw_decode(b"\x80")[0] == 32124


def test_every_code_decodes_and_reencodes_to_itself():
    codes = bytes(range(256))
    again = mulaw_encode(mulaw_decode(codes))
    # 0x7F and 0xFF both mean zero; everything else is its own fixed point.
    diff = [c for c, d in zip(codes, again, strict=True) if c != d]
    assert diff == [0x7F]


def test_frames_are_20ms_and_padded():
    pcm = np.arange(330, dtype=np.int16)
    out = list(frames(pcm, 8000))
    assert frame_size(8000) == 160 and frame_size(16000) == 320
    assert [len(f) for f in out] == [160, 160, 160]
    assert out[-1][10:].tolist() == [0] * 150


@pytest.mark.parametrize("value", [-32768, 0, 16384])
def test_pcm16_to_float_range(value):
    f = pcm16_to_float(np.array([value], dtype=np.int16))[0]
    assert -1.0 <= f < 1.0
