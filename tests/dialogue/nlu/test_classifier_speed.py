"""The n-gram part's shortcuts give what the straightforward computation gives."""

import numpy as np
from rapidfuzz import fuzz
from scipy import sparse

from dialogue.nlu import memory
from dialogue.nlu.classifier import KEYWORD_FLOOR, IntentClassifier, _sparse_dot
from dialogue.nlu.text import normalize

EXAMPLES = {
    "paspoort": ["ik wil een nieuw paspoort", "mijn paspoort is verlopen",
                 "paspoort aanvragen graag"],
    "grofvuil": ["het grofvuil laten ophalen", "een bank bij het grofvuil zetten",
                 "wanneer komt de grofvuil wagen"],
    "afval": ["mijn container is niet geleegd", "de afvalbak is vergeten",
              "wanneer wordt het afval opgehaald"],
}
KEYWORDS = {"paspoort": ["paspoort", "reisdocument"], "grofvuil": ["grofvuil", "matras"],
            "afval": []}


def test_sparse_dot_equals_the_matrix_product():
    rng = np.random.default_rng(3)
    dense = sparse.random(7, 50, density=0.1, random_state=4).toarray()
    dense[3] = 0  # an empty row
    x = sparse.csr_matrix(dense)
    coef = rng.normal(size=(5, 50)).astype(np.float32)
    assert np.allclose(_sparse_dot(x, coef), x.toarray() @ coef.T.astype(np.float64))


def test_keyword_matrix_is_the_best_keyword_per_intent():
    model = IntentClassifier.train(EXAMPLES, KEYWORDS, copies=1, calibrate=False)
    texts = [normalize(t) for t in ["ik wil een reisdokument", "mijn matras moet weg",
                                    "niets van dit alles", "paspoort en grofvuil"]]
    got = model._keyword_matrix(texts).toarray()
    intents = sorted(model._keywords)
    expected = np.zeros_like(got)
    for r, text in enumerate(texts):
        for intent, kw in model._kw_list:
            score = fuzz.partial_ratio(text, kw)
            evidence = min(max((round(score) - KEYWORD_FLOOR) / (100 - KEYWORD_FLOOR), 0), 1)
            c = intents.index(intent)
            expected[r, c] = max(expected[r, c], evidence)
    assert np.allclose(got, expected)
    assert got[:, intents.index("afval")].max() == 0  # an intent without keywords
    assert got[3, intents.index("paspoort")] == 1 and got[3, intents.index("grofvuil")] == 1


def test_coefficients_are_float32_and_predictions_ranked():
    model = IntentClassifier.train(EXAMPLES, KEYWORDS, copies=1, calibrate=False)
    assert model._model.coef_.dtype == np.float32
    ranked = model.predict(["mijn paspoort is kwijt"])[0]
    assert ranked[0][0] == "paspoort"
    assert abs(sum(p for _, p in ranked) - 1) < 1e-9


def test_release_collects_and_trims():
    assert isinstance(memory.release(), bool)
