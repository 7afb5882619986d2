"""Intent classifier: character and word n-grams plus fuzzy keyword evidence.

Trained from the content packs' examples and recogniser-style corruptions of them
(`augment`), so misheard, split or merged words still land on the right topic.
A logistic regression gives calibrated-enough probabilities; the caller decides
what is confident (see `Understander`).
"""

from __future__ import annotations

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
                 keywords: dict[str, list[str]], keyword_weight: float) -> None:
        self._features = features
        self._model = model
        self._keywords = keywords
        self._keyword_weight = keyword_weight
        self._kw_list = [(intent, kw) for intent, kws in keywords.items() for kw in kws]
        self.intents: list[str] = [str(c) for c in model.classes_]

    @classmethod
    def train(cls, examples: dict[str, list[str]], keywords: dict[str, list[str]] | None = None,
              copies: int = 3, seed: int = 7, c: float = 8.0,
              keyword_weight: float = 1.0, balanced: bool = False,
              chars: tuple[int, int] = (2, 5)) -> IntentClassifier:
        texts: list[str] = []
        labels: list[str] = []
        for intent, items in examples.items():
            for item in items:
                norm = normalize(item)
                if norm:
                    texts.append(norm)
                    labels.append(intent)
        texts, labels = augment(texts, labels, copies, seed)
        kws = {i: sorted({normalize(k) for k in ks if len(normalize(k)) >= 4})
               for i, ks in (keywords or {}).items()}
        features = FeatureUnion([
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=chars, sublinear_tf=True,
                                      min_df=2)),
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                      token_pattern=r"(?u)\b\w+\b")),
        ])
        x = features.fit_transform(texts)
        self = cls.__new__(cls)
        self._keywords, self._keyword_weight = kws, keyword_weight
        self._kw_list = [(intent, kw) for intent, ks in kws.items() for kw in ks]
        self._kw_intents = sorted(kws)
        x = self._with_keywords(x, texts)
        model = LogisticRegression(C=c, max_iter=3000,
                                   class_weight="balanced" if balanced else None)
        model.fit(x, labels)
        cls.__init__(self, features, model, kws, keyword_weight)
        return self

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
        """Per text, all intents ranked by probability."""
        norms = [normalize(t) for t in texts]
        x = self._with_keywords(self._features.transform(norms), norms)
        probs = self._model.predict_proba(x)
        ranked = []
        for row in probs:
            order = np.argsort(-row)
            ranked.append([(self.intents[i], float(row[i])) for i in order])
        return ranked
