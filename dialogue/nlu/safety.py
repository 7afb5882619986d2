"""Safety first: suicidal thoughts, domestic violence and acute danger, on every turn.

Two signals, either one is enough:
- keywords: the content's phrases as plain substrings, and fuzzily for long ones;
- meaning: a small classifier with a "none" class over the e5 vector of the utterance
  plus character n-grams (for spelling slips and split words). It learns from the
  content's prototype phrasings per situation (`examples`) against every topic and
  conversation example and the `safety_near_misses` as "none".
A keyword hit the classifier finds very unlikely ("een cursus reanimeren") is dropped.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from dialogue.content.schema import Safety
from dialogue.nlu import modelcache
from dialogue.nlu.encoder import Encoder
from dialogue.nlu.text import normalize

log = logging.getLogger(__name__)

FUZZY = 93  # rapidfuzz partial ratio for a long keyword phrase
FUZZY_MIN = 12  # characters a phrase needs before it is matched fuzzily
# Chosen by 5-fold cross-validation on the content (prototypes against topic examples and
# near-misses), for recall first: a situation this likely is answered as one.
THRESHOLD = 0.15
VETO = 0.02  # a keyword hit this unlikely by meaning is a word used otherwise
WEIGHT = 8.0  # a prototype counts this many times a "none" example
MIN_WORDS = 1  # by meaning alone only with a real word: a postcode or a number is no crisis
SEMANTIC_SCALE = 3.0  # weight of the e5 vector beside the n-grams
MODEL_VERSION = "1"


@dataclass
class Finding:
    situation: Safety
    score: float  # the classifier's probability of the situation
    by: str  # "keyword", "meaning" or "both"


class SafetyModel:
    """The trained part: n-gram vocabulary and classifier, picklable."""

    def __init__(self, ids: list[str], vectorizer: TfidfVectorizer,
                 classifier: LogisticRegression) -> None:
        self.ids = ids  # class 0 is "none", then the situations in content order
        self.vectorizer = vectorizer
        self.classifier = classifier

    @classmethod
    def train(cls, ids: list[str], positives: list[tuple[str, int]], negatives: list[str],
              vectors: np.ndarray) -> SafetyModel:
        texts = [normalize(t) for t in negatives] + [normalize(t) for t, _ in positives]
        labels = np.array([0] * len(negatives) + [k for _, k in positives])
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        grams = vectorizer.fit_transform(texts)
        weights = {k: (1.0 if k == 0 else WEIGHT) for k in range(len(ids))}
        classifier = LogisticRegression(C=4.0, class_weight=weights, max_iter=3000)
        classifier.fit(_features(vectors, grams), labels)
        return cls(ids, vectorizer, classifier)

    def probabilities(self, text: str, vector: np.ndarray) -> np.ndarray:
        grams = self.vectorizer.transform([normalize(text)])
        return self.classifier.predict_proba(_features(vector.reshape(1, -1), grams))[0]


def _words(text: str) -> list[str]:
    """The words of a text, without numbers, codes (a postcode) and single letters."""
    return [w for w in normalize(text).split()
            if len(w) >= 3 and w.isalpha()]


def _features(vectors: np.ndarray, grams: sp.spmatrix) -> sp.csr_matrix:
    return sp.hstack([sp.csr_matrix(vectors * SEMANTIC_SCALE), grams]).tocsr()


class SafetyDetector:
    """Finds a sensitive situation in an utterance; built once per Understander."""

    def __init__(self, situations: list[Safety], negatives: list[str], utterances: Encoder,
                 fixed: Encoder, use_cache: bool = True) -> None:
        self.situations = situations
        self.encoder = utterances
        self._phrases = [(s, [normalize(k) for k in s.keywords]) for s in situations]
        self.model = self._model(negatives, fixed, use_cache) if situations else None

    # -- detection ----------------------------------------------------------------

    def detect(self, text: str, vector: np.ndarray | None = None,
               alternatives: list[str] | None = None) -> Finding | None:
        """The situation in ``text`` (recogniser ``alternatives`` by keyword only)."""
        if not normalize(text) or self.model is None:
            return None
        if vector is None:
            vector = self.encoder.queries([text])[0]
        probs = self.model.probabilities(text, vector)
        hit = self.keyword(text)
        if hit is None:
            hit = next((h for h in map(self.keyword, alternatives or []) if h), None)
        best = int(np.argmax(probs[1:])) + 1
        if hit is not None:
            k = self.model.ids.index(hit.id)
            if probs[k] >= VETO or probs[best] >= THRESHOLD:
                # meaning picks the situation when it is surer of another one
                chosen = best if probs[best] >= THRESHOLD and probs[best] > probs[k] else k
                by = "both" if probs[chosen] >= THRESHOLD else "keyword"
                return Finding(self.situations[chosen - 1], float(probs[chosen]), by)
            return None
        if probs[best] >= THRESHOLD and len(_words(text)) >= MIN_WORDS:
            return Finding(self.situations[best - 1], float(probs[best]), "meaning")
        return None

    def keyword(self, text: str) -> Safety | None:
        """The first situation with a keyword phrase in the text."""
        norm = normalize(text)
        if not norm:
            return None
        for item, phrases in self._phrases:
            for phrase in phrases:
                if f" {phrase} " in f" {norm} ":
                    return item
                # Fuzzy only for long phrases inside longer utterances: never the other way
                # round, so "wat" or "oke" cannot match inside a phrase.
                if len(phrase) >= FUZZY_MIN and len(norm) >= len(phrase) and (
                        fuzz.partial_ratio(phrase, norm) >= FUZZY):
                    return item
        return None

    # -- training -----------------------------------------------------------------

    def _model(self, negatives: list[str], fixed: Encoder, use_cache: bool) -> SafetyModel:
        ids = ["none"] + [s.id for s in self.situations]
        positives = [(t, k) for k, s in enumerate(self.situations, start=1)
                     for t in [*s.examples, *s.keywords]]
        own = {normalize(t) for t, _ in positives}
        # A "none" example that names a situation by keyword would teach the opposite.
        negatives = sorted({n for n in negatives
                            if normalize(n) and normalize(n) not in own and not self.keyword(n)})
        path = modelcache.model_path("safety", MODEL_VERSION, fixed.name, ids, positives,
                                     negatives)
        model = modelcache.load(path, SafetyModel) if use_cache else None
        if model is not None:
            return model
        started = time.monotonic()
        vectors = fixed.queries(negatives + [t for t, _ in positives])
        model = SafetyModel.train(ids, positives, negatives, vectors)
        log.info("safety model trained on %d prototypes and %d others in %.1f s",
                 len(positives), len(negatives), time.monotonic() - started)
        if use_cache:
            modelcache.save(path, model)
        return model
