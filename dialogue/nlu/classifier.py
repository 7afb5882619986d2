"""Intent classifier: sentence meaning plus character/word n-grams and keywords.

Two logistic regressions read each utterance. The n-gram one sees character and
word n-grams and fuzzy keyword evidence; it is trained on the content packs'
examples and recogniser-style corruptions of them (`augment`), so misheard, split
or merged words still land on the right topic. The semantic one sees a sentence
embedding (e5), so wording that shares no word with any example still lands by
meaning. Each part's confidences are calibrated on held-out examples (a softmax
temperature), then their probabilities are averaged with a share fitted on the
same examples. Averaging, not multiplying: when the parts disagree, neither
answer is confident, and the dialogue asks instead of guessing. The caller
decides what is confident (`Understander`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from rapidfuzz import fuzz, process
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from threadpoolctl import threadpool_limits

from dialogue.nlu.augment import augment
from dialogue.nlu.encoder import Encoder, default_encoder
from dialogue.nlu.text import normalize

KEYWORD_FLOOR = 80  # partial-ratio below this is no evidence
PARTS = ("ngram", "semantic")
SEMANTIC_C = (4.0, 16.0, 64.0)  # regularisation tried for the embedding model
SCALES = np.round(np.arange(0.1, 3.01, 0.1), 2)  # inverse temperatures tried per part
SHARES = np.round(np.arange(0.0, 1.001, 0.05), 2)  # n-gram shares of the average tried


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
        # The semantic part (None: n-grams only) and the encoder it was trained with.
        self.semantic: LogisticRegression | None = None
        self.encoder_name: str | None = None
        self.encoder: Encoder | None = None  # for callers that pass no vectors; not pickled
        # Per part: inverse temperature of its log-probabilities, and share of the average.
        self.scale: dict[str, float] = {"ngram": 1.0 / temperature, "semantic": 1.0}
        self.share: dict[str, float] = {"ngram": 1.0, "semantic": 0.0}

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["encoder"] = None
        return state

    @classmethod
    def train(cls, examples: dict[str, list[str]], keywords: dict[str, list[str]] | None = None,
              copies: int = 3, seed: int = 7, c: float = 8.0, keyword_weight: float = 1.0,
              calibrate: bool = True, encoder: Encoder | None = None,
              progress: Callable[[str], None] | None = None) -> IntentClassifier:
        """Fit on all examples; with `calibrate`, then learn how to weigh the parts on a
        held-out fifth so that confidences mean what they say. With an `encoder`, the
        semantic part is trained on the examples' embeddings (embedded while the n-gram
        part fits). `progress` hears each step."""
        # One BLAS thread: on shared cores, more make the small fits tens of times slower.
        with threadpool_limits(1, user_api="blas"):
            return cls._train(examples, keywords, copies, seed, c, keyword_weight, calibrate,
                              encoder, progress)

    @classmethod
    def _train(cls, examples: dict[str, list[str]], keywords: dict[str, list[str]] | None,
               copies: int, seed: int, c: float, keyword_weight: float, calibrate: bool,
               encoder: Encoder | None, progress: Callable[[str], None] | None
               ) -> IntentClassifier:
        say = progress or (lambda _step: None)
        steps = 2 if calibrate else 1
        kws = {i: sorted({normalize(k) for k in ks if len(normalize(k)) >= 4})
               for i, ks in (keywords or {}).items()}
        pairs = [(t, i) for i, items in examples.items() for t in items if normalize(t)]
        say(f"step 1/{steps}: fitting on {len(pairs)} examples and their misheard variants"
            + (", embedding them meanwhile" if encoder is not None else ""))
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = (pool.submit(encoder.queries, [t for t, _ in pairs])
                       if encoder is not None else None)
            model = cls._fit(examples, kws, copies, seed, c, keyword_weight)
            vectors = pending.result() if pending is not None else None
        labels = np.array([i for _, i in pairs])
        if vectors is not None and encoder is not None:
            model.encoder_name, model.encoder = encoder.name, encoder
        if not calibrate:
            if vectors is not None:
                model.semantic = _fit_semantic(vectors, labels, SEMANTIC_C[1])
                model.share = {"ngram": 0.5, "semantic": 0.5}
            return model
        say(f"step 2/{steps}: weighing the parts and calibrating on a held-out fifth")
        rng = random.Random(seed)
        fit_part: dict[str, list[str]] = {}
        held: list[tuple[str, str]] = []
        for intent, items in examples.items():
            shuffled = list(items)
            rng.shuffle(shuffled)
            cut = max(1, len(shuffled) // 5)
            held += [(t, intent) for t in shuffled[:cut] if normalize(t)]
            fit_part[intent] = shuffled[cut:]
        probe = cls._fit(fit_part, kws, copies, seed, c, keyword_weight)
        held_logp = {"ngram": _log_softmax(probe._logits([t for t, _ in held]))}
        truth = np.array([probe.intents.index(i) for _, i in held])
        if vectors is not None:
            row = {t: n for n, (t, _) in enumerate(pairs)}
            held_set = {t for t, _ in held}
            train_rows = [n for n, (t, _) in enumerate(pairs) if t not in held_set]
            held_vec = vectors[[row[t] for t, _ in held]]
            best_c, best_loss = SEMANTIC_C[0], float("inf")
            for sc in SEMANTIC_C:
                sem = _fit_semantic(vectors[train_rows], labels[train_rows], sc)
                logp = _log_softmax(_aligned(sem, held_vec, probe.intents))
                loss = _loss(logp, truth)
                if loss < best_loss:
                    best_c, best_loss, held_logp["semantic"] = sc, loss, logp
            model.semantic = _fit_semantic(vectors, labels, best_c)
        for part, logp in held_logp.items():
            model.scale[part] = _best_scale(logp, truth)
        if "semantic" in held_logp:
            probs = {part: _softmax(model.scale[part] * logp) for part, logp in held_logp.items()}
            model.share = _best_share(probs["ngram"], probs["semantic"], truth)
        model.temperature = 1.0 / model.scale["ngram"]
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
        _compact(model)
        return self

    def keyword_hits(self, text: str) -> list[str]:
        """Intents one of whose keywords occurs literally (as whole words) in the text."""
        padded = f" {normalize(text)} "
        return sorted({i for i, kw in self._kw_list if f" {kw} " in padded})

    def _logits(self, texts: list[str]) -> np.ndarray:
        # The FeatureUnion's and the model's own transform and decision_function, without
        # their input checks (a third of the n-gram time for one utterance).
        norms = [normalize(t) for t in texts]
        parts = [vectorizer.transform(norms) for _, vectorizer in self._features.transformer_list]
        x = sparse.hstack([*parts, self._keyword_matrix(norms)], format="csr")
        return _sparse_dot(x, self._model.coef_) + self._model.intercept_

    def _keyword_matrix(self, texts: list[str]) -> sparse.csr_matrix:
        intents = sorted(self._keywords)
        if not self._kw_list or not texts:
            return sparse.csr_matrix((len(texts), len(intents)))
        scores = process.cdist(texts, [kw for _, kw in self._kw_list],
                               scorer=fuzz.partial_ratio, dtype=np.uint8)
        evidence = np.clip((scores.astype(np.float64) - KEYWORD_FLOOR)
                           / (100 - KEYWORD_FLOOR), 0, 1)
        # Per intent its best keyword: columns grouped by intent, then a max per group.
        column = {intent: i for i, intent in enumerate(intents)}
        owner = np.array([column[intent] for intent, _ in self._kw_list])
        order = np.argsort(owner, kind="stable")
        present = np.unique(owner)  # intents with keywords, ascending
        starts = np.searchsorted(owner[order], present)
        out = np.zeros((len(texts), len(intents)), dtype=np.float64)
        out[:, present] = np.maximum.reduceat(evidence[:, order], starts, axis=1)
        return sparse.csr_matrix(out * self._keyword_weight)

    def _with_keywords(self, x: sparse.spmatrix, texts: list[str]) -> sparse.csr_matrix:
        return sparse.hstack([x, self._keyword_matrix(texts)], format="csr")

    def embed(self, texts: list[str]) -> np.ndarray:
        """Utterance vectors from the encoder the semantic part was trained with."""
        encoder = self.encoder or default_encoder()
        if encoder.name != self.encoder_name:
            raise ValueError(f"classifier trained with encoder {self.encoder_name!r}, "
                             f"given {encoder.name!r}")
        return encoder.queries(texts)

    def predict(self, texts: list[str], vectors: np.ndarray | None = None,
                parts: Sequence[str] = PARTS) -> list[list[tuple[str, float]]]:
        """Per text, all intents ranked by calibrated probability.

        `vectors` are the texts' utterance embeddings (``encoder.queries``), computed
        here when not given. `parts` limits which evidence is used (for ablation).
        """
        if not texts:
            return []
        use = [p for p in PARTS if p in parts and (p == "ngram" or self.semantic is not None)]
        if len(use) == 2 and not self.share["semantic"]:
            use = ["ngram"]
        use = use or ["ngram"]
        probs = np.zeros((len(texts), len(self.intents)))
        for part in use:
            if part == "ngram":
                logits = self._logits(texts)
            else:
                if vectors is None:
                    vectors = self.embed(texts)
                if len(vectors) != len(texts):
                    raise ValueError(f"{len(vectors)} vectors for {len(texts)} texts")
                assert self.semantic is not None
                logits = _aligned(self.semantic, vectors, self.intents)
            share = self.share[part] if len(use) == 2 else 1.0
            probs += share * _softmax(self.scale[part] * _log_softmax(logits))
        ranked = []
        for row in probs:
            order = np.argsort(-row)
            ranked.append([(self.intents[i], float(row[i])) for i in order])
        return ranked


def _fit_semantic(vectors: np.ndarray, labels: np.ndarray, c: float) -> LogisticRegression:
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(vectors, labels)
    return _compact(model)


def _compact(model: LogisticRegression) -> LogisticRegression:
    """Coefficients as float32: half the memory (the n-gram model's is 31 x ~60k)."""
    model.coef_ = np.ascontiguousarray(model.coef_, dtype=np.float32)
    return model


def _sparse_dot(x: sparse.csr_matrix, coef: np.ndarray) -> np.ndarray:
    """``x @ coef.T`` row by row over x's few nonzeros.

    scipy would first copy ``coef.T`` to a contiguous float64 array: 15 MB and ~5 ms
    for every utterance with the n-gram model's 31 x ~60k coefficients.
    """
    out = np.empty((x.shape[0], coef.shape[0]))
    for row in range(x.shape[0]):
        start, end = x.indptr[row], x.indptr[row + 1]
        out[row] = coef[:, x.indices[start:end]] @ x.data[start:end]
    return out


def _aligned(model: LogisticRegression, vectors: np.ndarray, intents: list[str]) -> np.ndarray:
    """The model's logits with columns in the order of `intents` (absent ones very low)."""
    logits = np.asarray(model.decision_function(np.asarray(vectors, dtype=np.float64)))
    out = np.full((len(vectors), len(intents)), -30.0)
    column = {str(k): n for n, k in enumerate(model.classes_)}
    for n, intent in enumerate(intents):
        if intent in column:
            out[:, n] = logits[:, column[intent]]
    return out


def _loss(logp: np.ndarray, truth: np.ndarray) -> float:
    return float(-np.mean(_log_softmax(logp)[np.arange(len(truth)), truth]))


def _best_scale(logp: np.ndarray, truth: np.ndarray) -> float:
    """The inverse temperature with the lowest held-out log loss."""
    return float(min(SCALES, key=lambda k: _loss(k * logp, truth)))


def _best_share(p_ngram: np.ndarray, p_semantic: np.ndarray, truth: np.ndarray
                ) -> dict[str, float]:
    """The n-gram share of the averaged probabilities with the lowest held-out log loss."""
    rows = np.arange(len(truth))

    def loss(w: float) -> float:
        p = w * p_ngram[rows, truth] + (1 - w) * p_semantic[rows, truth]
        return float(-np.mean(np.log(p + 1e-12)))

    w = float(min(SHARES, key=loss))
    return {"ngram": w, "semantic": round(1.0 - w, 2)}


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
