"""Meaning over wording: the semantic part of intent understanding (real e5 encoder)."""

import numpy as np
import pytest

# A resident's own words for a topic, sharing (almost) no telling word with the examples.
# The n-gram model alone sends these elsewhere or gives up.
UNSEEN = [
    ("Ik kom niet rond van mijn loon", "werk_inkomen"),
    ("Ik ben mijn baan verloren en de rekeningen stapelen zich op", "werk_inkomen"),
    ("Waar mag mijn visite de auto neerzetten in onze straat", "parkeren"),
    ("Ik wil naar Turkije op vakantie maar mijn pas is verlopen", "paspoort_id"),
]


@pytest.mark.parametrize(("text", "intent"), UNSEEN)
def test_unseen_wording_is_understood_by_meaning(nlu, text, intent):
    assert nlu.understand(text).intent == intent


def test_n_grams_alone_miss_the_unseen_wording(nlu):
    """The semantic part is what gets these right (guards the ablation)."""
    texts = [t for t, _ in UNSEEN]
    ngrams = nlu.classifier.predict(texts, parts=("ngram",))
    right = [r[0][0] == i and r[0][1] >= nlu.threshold
             for r, (_, i) in zip(ngrams, UNSEEN, strict=True)]
    assert sum(right) <= 1, right


def test_given_vectors_give_the_same_answer_as_none(nlu):
    texts = ["mijn kliko is kapot", "ik wil trouwen"]
    vectors = nlu.encoder.queries(texts)
    with_vectors = nlu.classifier.predict(texts, vectors)
    without = nlu.classifier.predict(texts)
    for a, b in zip(with_vectors, without, strict=True):
        assert a[0][0] == b[0][0]
        assert a[0][1] == pytest.approx(b[0][1], abs=1e-4)
    with pytest.raises(ValueError):
        nlu.classifier.predict(texts, vectors[:1])


def test_parts_are_weighed_and_calibrated(nlu):
    clf = nlu.classifier
    assert clf.encoder_name == nlu.encoder.name
    assert 0 < clf.share["ngram"] < 1 and clf.share["semantic"] == pytest.approx(
        1 - clf.share["ngram"])
    ranked = clf.predict(["ik wil mijn rijbewijs verlengen"])[0]
    assert ranked[0][0] == "rijbewijs"
    assert np.isclose(sum(p for _, p in ranked), 1.0)
