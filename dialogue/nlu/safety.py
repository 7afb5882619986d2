"""Safety first: suicidal thoughts, domestic violence and acute danger, on every turn.

Two signals, either one is enough:
- keywords: the content's phrases as plain substrings, and fuzzily for long ones;
- meaning: a small classifier with a "none" class over the e5 vector of the utterance
  plus character n-grams (for spelling slips and split words). It learns from the
  content's prototype phrasings per situation (`examples`) against every topic and
  conversation example and the `safety_near_misses` as "none".
A keyword hit the classifier finds very unlikely ("een cursus reanimeren") is dropped.
A hit by meaning alone must also be nearer the situation's prototypes than the ordinary
examples (mean cosine of the nearest few on each side), by more when the text holds an
idiom ("ik lach me dood"), and is dropped when the caller says there is no danger or
speaks of the past ("ik ben niet in gevaar", "vroeger", "na een beroerte").
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from dialogue.content.schema import Safety
from dialogue.nlu import modelcache
from dialogue.nlu.encoder import Encoder
from dialogue.nlu.text import normalize

log = logging.getLogger(__name__)

FUZZY = 93  # rapidfuzz partial ratio for a long keyword phrase
FUZZY_MIN = 12  # characters a phrase needs before it is matched fuzzily
TYPO_MIN = 8  # a one-word phrase this long also matches a word one typo away ("zelmoord")
GAP_MIN = 3  # a phrase of this many words also matches with one word put in ("er is hier brand")
NEGATIONS = frozenset({"niet", "geen", "nooit", "niks", "niets", "nergens"})
# Chosen by 5-fold cross-validation on the content (prototypes against topic examples and
# near-misses), for recall first: a situation this likely is answered as one.
THRESHOLD = 0.15
VETO = 0.02  # a keyword hit this unlikely by meaning is a word used otherwise
WEIGHT = 8.0  # a prototype counts this many times a "none" example
MIN_WORDS = 1  # by meaning alone only with a real word: a postcode or a number is no crisis
SEMANTIC_SCALE = 3.0  # weight of the e5 vector beside the n-grams
# Nearest-neighbour margin: the mean cosine of the NEIGHBOURS nearest prototypes of the
# situation minus that of the NEIGHBOURS nearest "none" examples must reach MARGIN.
# Both chosen by 5-fold cross-validation on the content (prototypes against topic examples
# and near-misses): against a margin of -0.02 it has 41 % fewer false triggers on the
# near-misses (12 % against 21 %) for 2 points of recall; a higher one costs much more.
NEIGHBOURS = 5
MARGIN = -0.01
# Said in so many words: no danger now, or long ago. Only overrides a hit by meaning alone.
CALM = re.compile(
    r"\b(?:(?:ben|is|zijn|zit|zitten) (?:niet|nooit) in (?:gevaar|nood)|geen (?:gevaar|spoed|"
    r"noodgeval|nood)|niks ernstigs|niets ernstigs|niemand (?:is )?gewond|vroeger|"
    r"jaren geleden|cursus|oefening|training)\b")
# A medical event told as history ("na een beroerte", "overleden aan een hartaanval"):
# overrides a keyword hit too, unless the classifier is SURE.
HISTORY = re.compile(
    r"\b(?:(?:na|sinds|aan|door) (?:een|zijn|haar|zn|mijn|de)|(?:had|hadden|heeft gehad) "
    r"(?:een|zijn|haar)) (?:\w+ )?(?:beroerte|hartaanval|hartstilstand|herseninfarct|"
    r"ongeluk|ongeval|operatie|val)\b|\boverleden aan\b|\b(?:bewusteloos|flauwgevallen|"
    r"onwel) (?:geweest|was|waren)\b")
SURE = 0.5
# Dutch intensifiers built on death, murder, fire or madness ("ik lach me dood",
# "doodmoe", "een moordklus", "een brandende vraag", "ik word er gek van"). With one,
# a hit by meaning alone needs the margin of a typical prototype instead.
IDIOM = re.compile(
    r"\b(?:me|mij|je|zich|ons|zich) (?:\w+ )?dood\b(?! (?:te )?(?:wil|willen|gaan|maken))|"
    r"\bdood(?:moe|op|ziek|stil|normaal|gewoon|eenvoudig|saai|leuk|sbang|bang|eng|jammer|"
    r"zonde|ongelukkig|nerveus|vervelen|vervelend|lachen|schrikken|ergeren|schamen|gewerkt)\b|"
    r"\bmoord(?:klus|end|ende|honger|werk|wijf|weer|herrie|lawaai|kabaal|tempo)\b|"
    r"\bbrandende? (?:vraag|vragen|kwestie|probleem|onderwerp|zaak|punt)\b|"
    r"\b(?:gek|gestoord|knettergek|horendol|niet goed|tureluurs) (?:van|worden|word)\b|"
    r"\bword (?:er )?(?:gek|gestoord|knettergek|horendol|niet goed)\b")
IDIOM_MARGIN = 0.01  # about the lower quartile of the prototypes' own margins
MODEL_VERSION = "2"


@dataclass
class Finding:
    situation: Safety
    score: float  # the classifier's probability of the situation
    by: str  # "keyword", "meaning" or "both"


class SafetyModel:
    """The trained part: n-gram vocabulary and classifier, picklable."""

    def __init__(self, ids: list[str], vectorizer: TfidfVectorizer,
                 classifier: LogisticRegression, vectors: np.ndarray,
                 labels: np.ndarray) -> None:
        self.ids = ids  # class 0 is "none", then the situations in content order
        self.vectorizer = vectorizer
        self.classifier = classifier
        # Unit vectors of the training texts, per class, for the neighbour margin.
        self.neighbours = [_unit(vectors[labels == k]) for k in range(len(ids))]

    @classmethod
    def train(cls, ids: list[str], positives: list[tuple[str, int]], negatives: list[str],
              vectors: np.ndarray) -> SafetyModel:
        texts = [normalize(t) for t in negatives] + [normalize(t) for t, _ in positives]
        labels = np.array([0] * len(negatives) + [k for _, k in positives])
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        grams = vectorizer.fit_transform(texts)
        weights = {k: (1.0 if k == 0 else WEIGHT) for k in range(len(ids))}
        classifier = LogisticRegression(C=4.0, class_weight=weights, max_iter=3000)
        # One BLAS thread: L-BFGS on this small problem is several times slower with more
        # (14 s against 2 s on two busy cores). threadpoolctl comes with scikit-learn.
        with threadpool_limits(1):
            classifier.fit(_features(vectors, grams), labels)
        return cls(ids, vectorizer, classifier, vectors, labels)

    def probabilities(self, text: str, vector: np.ndarray) -> np.ndarray:
        grams = self.vectorizer.transform([normalize(text)])
        return self.classifier.predict_proba(_features(vector.reshape(1, -1), grams))[0]

    def margin(self, k: int, vector: np.ndarray) -> float:
        """How much nearer situation ``k``'s prototypes are than the "none" examples."""
        query = _unit(vector.reshape(1, -1))[0]
        return _nearest(self.neighbours[k], query) - _nearest(self.neighbours[0], query)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-9)).astype(np.float32)


def _nearest(matrix: np.ndarray, query: np.ndarray) -> float:
    """Mean cosine of the NEIGHBOURS rows nearest ``query``."""
    sims = matrix @ query
    n = min(NEIGHBOURS, len(sims))
    return float(np.partition(sims, len(sims) - n)[-n:].mean()) if n else -1.0


def _words(text: str) -> list[str]:
    """The words of a text, without numbers, codes (a postcode) and single letters."""
    return [w for w in normalize(text).split()
            if len(w) >= 3 and w.isalpha()]


def _loose(phrase: list[str], words: list[str]) -> bool:
    """A long one-word phrase one typo away, or a long phrase with one word put in that
    is no negation ("er is hier brand", not "er is geen brand")."""
    if len(phrase) == 1 and len(phrase[0]) >= TYPO_MIN:
        return any(abs(len(w) - len(phrase[0])) <= 1
                   and Levenshtein.distance(w, phrase[0], score_cutoff=1) <= 1 for w in words)
    if len(phrase) < GAP_MIN:
        return False
    n = len(phrase)
    for start in range(len(words) - n):
        window = words[start:start + n + 1]
        if window[0] != phrase[0] or window[-1] != phrase[-1]:
            continue
        for gap in range(1, n):
            if window[:gap] + window[gap + 1:] == phrase and window[gap] not in NEGATIONS:
                return True
    return False


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
        norm = normalize(text)
        if hit is not None:
            k = self.model.ids.index(hit.id)
            if probs[k] >= VETO or probs[best] >= THRESHOLD:
                # meaning picks the situation when it is surer of another one
                chosen = best if probs[best] >= THRESHOLD and probs[best] > probs[k] else k
                if probs[chosen] < SURE and HISTORY.search(norm):
                    return None
                by = "both" if probs[chosen] >= THRESHOLD else "keyword"
                return Finding(self.situations[chosen - 1], float(probs[chosen]), by)
            return None
        if probs[best] < THRESHOLD or len(_words(text)) < MIN_WORDS:
            return None
        if CALM.search(norm) or HISTORY.search(norm):
            return None
        margin = IDIOM_MARGIN if IDIOM.search(norm) else MARGIN
        if self.model.margin(best, vector) < margin:
            return None
        return Finding(self.situations[best - 1], float(probs[best]), "meaning")

    def keyword(self, text: str) -> Safety | None:
        """The first situation with a keyword phrase in the text."""
        norm = normalize(text)
        if not norm:
            return None
        words = norm.split()
        for item, phrases in self._phrases:
            for phrase in phrases:
                if f" {phrase} " in f" {norm} " or _loose(phrase.split(), words):
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
