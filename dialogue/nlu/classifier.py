"""Intent classifier: character and word n-grams plus fuzzy keyword evidence.

Trained from the content packs' examples and recogniser-style corruptions of them
(`augment`), so misheard, split or merged words still land on the right topic.
A logistic regression whose softmax temperature is fitted on held-out examples
gives calibrated confidences; the caller decides what is confident (`Understander`).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
from rapidfuzz import fuzz, process
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from dialogue.nlu.augment import augment
from dialogue.nlu.text import normalize

KEYWORD_FLOOR = 80  # partial-ratio below this is no evidence


class IntentClassifier:
    """Maps an utterance to a ranked list of (intent, probability)."""

    def __init__(self, features: FeatureUnion, model: LogisticRegression,
                 keywords: dict[str, list[str]], keyword_weight: float,
                 temperature: float = 1.0) -> None:
        self._features = features
        self._model = model
        self._keywords = keywords
        self._keyword_weight = keyword_weight
        self._kw_list = [(intent, kw) for intent, kws in keywords.items() for kw in kws]
        self.intents: list[str] = [str(c) for c in getattr(model, "classes_", [])]
        self.temperature = temperature

    @classmethod
    def train(cls, examples: dict[str, list[str]], keywords: dict[str, list[str]] | None = None,
              copies: int = 3, seed: int = 7, c: float = 8.0, keyword_weight: float = 1.0,
              calibrate: bool = True,
              progress: Callable[[str], None] | None = None) -> IntentClassifier:
        """Fit on all examples; with `calibrate`, then learn a softmax temperature on a
        held-out fifth so that confidences mean what they say. `progress` hears each step."""
        say = progress or (lambda _step: None)
        steps = 2 if calibrate else 1
        kws = {i: sorted({normalize(k) for k in ks if len(normalize(k)) >= 4})
               for i, ks in (keywords or {}).items()}
        say(f"step 1/{steps}: fitting on {sum(map(len, examples.values()))} examples "
            f"and their misheard variants")
        model = cls._fit(examples, kws, copies, seed, c, keyword_weight)
        if calibrate:
            say(f"step 2/{steps}: calibrating confidences on a held-out fifth")
            rng = random.Random(seed)
            fit_part: dict[str, list[str]] = {}
            held: list[tuple[str, str]] = []
            for intent, items in examples.items():
                shuffled = list(items)
                rng.shuffle(shuffled)
                cut = max(1, len(shuffled) // 5)
                held += [(t, intent) for t in shuffled[:cut]]
                fit_part[intent] = shuffled[cut:]
            probe = cls._fit(fit_part, kws, copies, seed, c, keyword_weight)
            model.temperature = probe._best_temperature(held)
        return model

    @classmethod
    def _fit(cls, examples: dict[str, list[str]], kws: dict[str, list[str]], copies: int,
             seed: int, c: float, keyword_weight: float) -> IntentClassifier:
        texts: list[str] = []
        labels: list[str] = []
        for intent, items in examples.items():
            for item in items:
                norm = normalize(item)
                if norm:
                    texts.append(norm)
                    labels.append(intent)
        texts, labels = augment(texts, labels, copies, seed)
        features = FeatureUnion([
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                      min_df=2)),
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                      token_pattern=r"(?u)\b\w+\b")),
        ])
        x = features.fit_transform(texts)
        model = LogisticRegression(C=c, max_iter=3000)
        self = cls(features, model, kws, keyword_weight)
        model.fit(self._with_keywords(x, texts), labels)
        self.intents = [str(k) for k in model.classes_]
        return self

    def keyword_hits(self, text: str) -> list[str]:
        """Intents one of whose keywords occurs literally (as whole words) in the text."""
        padded = f" {normalize(text)} "
        return sorted({i for i, kw in self._kw_list if f" {kw} " in padded})

    def _logits(self, texts: list[str]) -> np.ndarray:
        norms = [normalize(t) for t in texts]
        x = self._with_keywords(self._features.transform(norms), norms)
        return np.asarray(self._model.decision_function(x))

    def _best_temperature(self, held: list[tuple[str, str]]) -> float:
        """The temperature with the lowest log loss on held-out examples."""
        logits = self._logits([t for t, _ in held])
        index = {intent: i for i, intent in enumerate(self.intents)}
        rows = np.arange(len(held))
        truth = np.array([index.get(label, 0) for _, label in held])
        best, best_loss = 1.0, float("inf")
        for t in np.arange(0.5, 6.01, 0.25):
            p = _softmax(logits / t)
            loss = float(-np.mean(np.log(p[rows, truth] + 1e-12)))
            if loss < best_loss:
                best, best_loss = float(t), loss
        return best

    def _keyword_matrix(self, texts: list[str]) -> sparse.csr_matrix:
        intents = sorted(self._keywords)
        if not self._kw_list or not texts:
            return sparse.csr_matrix((len(texts), len(intents)))
        scores = process.cdist(texts, [kw for _, kw in self._kw_list],
                               scorer=fuzz.partial_ratio, dtype=np.uint8)
        out = np.zeros((len(texts), len(intents)), dtype=np.float64)
        column = {intent: i for i, intent in enumerate(intents)}
        for j, (intent, _) in enumerate(self._kw_list):
            evidence = np.clip((scores[:, j].astype(np.float64) - KEYWORD_FLOOR)
                               / (100 - KEYWORD_FLOOR), 0, 1)
            col = column[intent]
            out[:, col] = np.maximum(out[:, col], evidence)
        return sparse.csr_matrix(out * self._keyword_weight)

    def _with_keywords(self, x: sparse.spmatrix, texts: list[str]) -> sparse.csr_matrix:
        return sparse.hstack([x, self._keyword_matrix(texts)], format="csr")

    def predict(self, texts: list[str]) -> list[list[tuple[str, float]]]:
        """Per text, all intents ranked by calibrated probability."""
        if not texts:
            return []
        probs = _softmax(self._logits(texts) / self.temperature)
        ranked = []
        for row in probs:
            order = np.argsort(-row)
            ranked.append([(self.intents[i], float(row[i])) for i in order])
        return ranked


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
