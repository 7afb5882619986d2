"""Understanding one utterance: intent with confidence, entities, referral, safety."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dialogue.content.loader import Content
from dialogue.content.schema import Safety
from dialogue.intents import TOPICS
from dialogue.nlu import entities as entity_mod
from dialogue.nlu import memory, modelcache
from dialogue.nlu.classifier import IntentClassifier
from dialogue.nlu.encoder import CachedEncoder, Encoder, default_encoder
from dialogue.nlu.safety import SafetyDetector
from dialogue.nlu.text import normalize
from dialogue.referral.catalogue import Catalogue
from dialogue.referral.directory import Organisation
from dialogue.referral.resolve import Referral, Referrer

log = logging.getLogger(__name__)
# Progress a person waits for; `loket` shows this logger's INFO lines as plain text.
notice = logging.getLogger("loket.notice")

CONFIDENT = 0.30  # below this the top intent is not trusted: onbekend (chosen by 4-fold CV)
MODEL_VERSION = "4"  # 3: n-grams plus a semantic part on sentence embeddings; 4: float32
# Topics that name a kind of request, not a product: "een klacht over de IND" or "een
# afspraak bij het CAK" belongs to the organisation named, not to the municipality.
REQUESTS = {"klacht", "afspraak", "status_aanvraag", "contact_openingstijden"}
MAX_READINGS = 4  # of a recogniser's n-best, the most probable understood at most


@dataclass
class Understanding:
    text: str
    intent: str
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    entities: list[entity_mod.Entity] = field(default_factory=list)
    organisation: Organisation | None = None
    referral_reason: str | None = None
    safety: Safety | None = None
    reading: int = 0  # which of the recogniser's readings this is (0: its top hypothesis)

    def top(self, n: int = 3) -> list[tuple[str, float]]:
        return self.alternatives[:n]

    def entity(self, kind: str) -> entity_mod.Entity | None:
        return next((e for e in self.entities if e.type == kind), None)

    def to_json(self) -> dict[str, Any]:
        """The `loket understand --json` contract."""
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "alternatives": [
                {"intent": i, "confidence": round(c, 4)} for i, c in self.alternatives[1:4]
            ],
            "entities": [{"type": e.type, "value": e.value, "text": e.text}
                         for e in self.entities],
            "organisation": self.organisation.name if self.organisation else None,
            "safety": self.safety.id if self.safety else None,
        }


def training_data(content: Content) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Examples and keywords per intent: national plus every municipality's additions."""
    examples: dict[str, list[str]] = {}
    keywords: dict[str, list[str]] = {}
    packs = list(content.municipalities.values())
    for topic_id in TOPICS:
        ex, kw = list(content.topics[topic_id].examples), list(content.topics[topic_id].keywords)
        for pack in packs:
            ex += [e for e in pack.topics[topic_id].examples if e not in ex]
            kw += [k for k in pack.topics[topic_id].keywords if k not in kw]
        examples[topic_id], keywords[topic_id] = ex, kw
    for intent, items in content.conversation.examples.items():
        examples[intent] = list(items)
    keywords["buiten_gemeente"] = sorted({k for o in content.organisations for k in o.keywords})
    return examples, keywords


def _announce(content: Content, examples: dict[str, list[str]]) -> None:
    """Say that training starts (it takes about a minute) and what it learns from."""
    packs = list(content.municipalities.values())
    names = ", ".join(p.municipality.name for p in packs) or "no municipality"
    notice.info("Training the intent model for %s (first start, about a minute)…", names)
    national = sum(len(content.topics[t].examples) for t in TOPICS)
    notice.info("  national library: %d examples", national)
    for pack in packs:
        own = sum(len(set(pack.topics[t].examples) - set(content.topics[t].examples))
                  for t in TOPICS)
        notice.info("  %s: %d examples of its own", pack.municipality.name, own)
    notice.info("  conversation: %d examples; %d in all",
                sum(len(v) for v in content.conversation.examples.values()),
                sum(len(v) for v in examples.values()))


def train_classifier(content: Content, use_cache: bool = True,
                     encoder: Encoder | None = None) -> IntentClassifier:
    """Train from the content, reusing a cached model trained on the same data and encoder.

    `encoder` embeds the training examples (give a `CachedEncoder`, so they are embedded
    once per content version); without one the model has n-grams only.
    """
    examples, keywords = training_data(content)
    encoder_name = encoder.name if encoder is not None else None
    path = modelcache.model_path("intents", MODEL_VERSION, encoder_name, examples, keywords)
    model = modelcache.load(path, IntentClassifier) if use_cache else None
    if model is not None and model.encoder_name == encoder_name:
        model.encoder = encoder
        return model
    _announce(content, examples)
    started = time.monotonic()
    model = IntentClassifier.train(examples, keywords, encoder=encoder,
                                   progress=lambda step: notice.info("  %s", step))
    notice.info("Intent model ready after %.0f s%s.", time.monotonic() - started,
                "; the next start reuses it" if use_cache else "")
    if use_cache:
        modelcache.save(path, model)
    return model


class Understander:
    """Loads once, then understands utterances for every session and channel."""

    def __init__(self, content: Content, catalogue: Catalogue | None = None,
                 classifier: IntentClassifier | None = None,
                 threshold: float = CONFIDENT, encoder: Encoder | None = None) -> None:
        self.content = content
        # Utterances go to `encoder`; fixed texts (examples, descriptions) to `fixed`,
        # whose vectors are cached on disk.
        self.encoder = encoder or default_encoder()
        self.fixed = CachedEncoder(self.encoder)
        self.classifier = classifier or train_classifier(content, encoder=self.fixed)
        if self.classifier.encoder_name not in (None, self.encoder.name):
            raise ValueError(f"intent model trained with encoder {self.classifier.encoder_name!r}, "
                             f"not {self.encoder.name!r}")
        if self.classifier.encoder_name is not None:
            self.classifier.encoder = self.encoder  # utterances: never cached on disk
        # Organisations by keyword, UPL product and meaning (descriptions embedded once).
        self.referrer = Referrer(content.organisations, catalogue, encoder=self.fixed)
        self.threshold = threshold
        examples, _ = training_data(content)
        ordinary = [e for items in examples.values() for e in items]
        self.safety_detector = SafetyDetector(
            content.conversation.safety, ordinary + content.conversation.safety_near_misses,
            self.encoder, self.fixed)
        memory.release()  # what training and embedding used in passing

    def safety(self, text: str, vector: np.ndarray | None = None,
               alternatives: list[str] | None = None) -> Safety | None:
        """A sensitive situation (emergency, suicide, domestic violence) in the text.

        ``vector`` is the utterance's e5 query vector when the caller already has it.
        """
        found = self.safety_detector.detect(text, vector, alternatives)
        return found.situation if found else None

    def understand(self, text: str,
                   alternatives: Sequence[str | tuple[str, float]] | None = None
                   ) -> Understanding:
        """Understand ``text``; with a recogniser's n-best, the reading understood best."""
        if alternatives:
            heard = [t for t, _ in readings(text, alternatives)]
            return choose_reading(lambda reading: self._understand_one(reading, heard),
                                  text, alternatives, self.threshold)
        return self._understand_one(text)

    def _understand_one(self, text: str, heard: Sequence[str] = ()) -> Understanding:
        """One reading; ``heard`` are all the recogniser's readings (safety phrases count
        in any of them)."""
        if not normalize(text):
            return Understanding(text, "onbekend", 1.0, [("onbekend", 1.0)])
        # Embedded once, here; the vector serves intent, safety and referral.
        vector = self.encoder.queries([text])[0]
        ranked = self.classifier.predict([text], vector[None, :])[0]
        intent, conf = ranked[0]
        others = [h for h in heard if normalize(h) != normalize(text)]
        result = Understanding(text, intent, conf, ranked, entity_mod.extract(text),
                               safety=self.safety(text, vector, others))
        if conf < self.threshold:
            result.intent = "onbekend"
        referral = None
        if result.intent not in {"buiten_gemeente", "onbekend"}:
            referral = self._named_door(text, result.intent)
        else:
            referral = self.referrer.refer(text, vector,
                                           elsewhere=result.intent == "buiten_gemeente")
        if referral is not None:
            result.intent = "buiten_gemeente"
            result.organisation = referral.organisation
            result.referral_reason = referral.reason
        return result

    def _named_door(self, text: str, intent: str) -> Referral | None:
        """Another organisation named outright, unless the topic's own words are heard
        too ("mijn rijbewijs aanvragen na het CBR-examen"); a kind of request
        (`REQUESTS`) then belongs to the organisation named."""
        named = self.referrer.named(text)
        if named is None:
            return None
        if intent not in REQUESTS and intent in self.classifier.keyword_hits(text):
            return None
        return named


def readings(text: str, alternatives: Sequence[str | tuple[str, float]]
             ) -> list[tuple[str, float]]:
    """The distinct readings with recognition probabilities, ``text`` first.

    Scored alternatives (text, posterior) come from the recogniser and may include
    ``text``; bare strings get the old fixed weights (1 for ``text``, 0.5 each).
    """
    weights: dict[str, tuple[str, float]] = {}
    scored = [a for a in alternatives if not isinstance(a, str)]
    top = next((p for t, p in scored if normalize(t) == normalize(text)), None)
    for t, p in [(text, 1.0 if top is None else top),
                 *((a, 0.5) if isinstance(a, str) else a for a in alternatives)]:
        key = normalize(t)
        if key and key not in weights:
            weights[key] = (t, float(p))
    total = sum(p for _, p in weights.values()) or 1.0
    return [(t, p / total) for t, p in weights.values()][:MAX_READINGS] or [(text, 1.0)]


def choose_reading(understand: Callable[[str], Understanding], text: str,
                   alternatives: Sequence[str | tuple[str, float]],
                   floor: float = CONFIDENT) -> Understanding:
    """The reading with the highest recognition probability x understanding confidence.

    A reading that is not understood (onbekend) counts with ``floor``, the confidence
    below which nothing is trusted: the dialogue cannot tell such readings apart, so
    among them the recogniser's choice stands, and when the best reading is one of
    them the top hypothesis is kept. A reading whose recognition probability is below
    the best score so far cannot win (confidence is at most 1) and is not understood
    at all: a sure top hypothesis costs one understanding. Ties keep the recogniser's
    order.
    """
    best: Understanding | None = None
    first: Understanding | None = None
    best_score = -1.0
    for rank, (reading, p) in enumerate(readings(text, alternatives)):
        if p <= best_score:
            continue
        u = understand(reading)
        first = first or u
        score = p * (floor if u.intent == "onbekend" else u.confidence)
        if score > best_score:
            best, best_score = u, score
            best.reading = rank
    assert best is not None and first is not None
    return first if best.intent == "onbekend" else best
