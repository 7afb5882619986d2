"""Referral by meaning: the caller's words against what each organisation does.

Every organisation is embedded (cached on disk) from its description and from its name
with its keywords; an utterance vector is compared with both and an organisation scores
its better one. The municipality's own topics (``dialogue.intents.TOPICS``) are embedded
the same way, so a question closer to a municipal topic than to any organisation is not
referred away.

Fixed texts are embedded on the query side, like the utterance: with e5-small that
symmetric match was clearly better on short descriptions than query against passage.
Each text's similarity is corrected by its mean similarity to all the other fixed texts
("hubness"): otherwise broad texts (legal advice, a website that fails) attract every
vague question.

With a UPL catalogue, the products for residents are embedded too, in the background
(about a thousand names; the first start does not wait for them): the nearest product
says which level of government provides it. A product the municipality provides vetoes
a referral; a Rijk, Provincie or Waterschap product points to that kind of
organisation.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dialogue.intents import TOPICS
from dialogue.nlu import memory
from dialogue.nlu.encoder import CachedEncoder, Encoder, cache_dir
from dialogue.referral.catalogue import Catalogue, Product
from dialogue.referral.directory import Organisation

log = logging.getLogger(__name__)

PRODUCT_BATCH = 8  # products embedded per call, so utterances wait at most ~0.3 s


def passages(org: Organisation) -> list[str]:
    """The texts an organisation is found by: its description, its name with keywords."""
    return [f"{org.name}: {org.description}",
            f"{org.name} ({org.spoken_name}): {', '.join(org.keywords)}"]


def municipal_passages() -> list[str]:
    """What the municipality itself handles, one text per topic."""
    return [f"Gemeente: {description}" for description in TOPICS.values()]


def hub_bias(rows: np.ndarray) -> np.ndarray:
    """Each row's mean similarity to the other rows."""
    gram = rows @ rows.T
    return (gram.sum(1) - np.diag(gram)) / max(len(rows) - 1, 1)


@dataclass(frozen=True)
class Scored:
    organisation: Organisation
    score: float  # similarity of the better text, less that text's mean similarity


class MeaningIndex:
    """Vectors of organisations, municipal topics and (optionally) UPL products."""

    def __init__(self, directory: Sequence[Organisation], encoder: Encoder,
                 catalogue: Catalogue | None = None) -> None:
        self.directory = list(directory)
        texts: list[str] = []
        self._owner: list[int] = []
        for i, org in enumerate(self.directory):
            own = passages(org)
            texts += own
            self._owner += [i] * len(own)
        mine = municipal_passages()
        rows = encoder.queries(texts + mine)
        bias = hub_bias(rows)
        self._orgs, self._org_bias = rows[:len(texts)], bias[:len(texts)]
        self._municipal, self._mun_bias = rows[len(texts):], bias[len(texts):]
        self._owner_arr = np.array(self._owner, dtype=np.int32)
        self._fixed = rows
        self._products: list[Product] = []
        self._product_rows: np.ndarray | None = None
        self._product_bias = np.zeros(0, dtype=np.float32)
        self._ready = threading.Event()
        if catalogue is None:
            self._ready.set()
        else:
            self._products = [p for p in catalogue.products if p.burger and p.levels]
            threading.Thread(target=self._embed_products, args=(encoder,),
                             name="upl-embeddings", daemon=True).start()

    def _embed_products(self, encoder: Encoder) -> None:
        try:
            found = _product_vectors(encoder, [p.name for p in self._products])
            self._product_bias = (found @ self._fixed.T).mean(1) if len(found) else found[:, 0]
            self._product_rows = found
            memory.release()  # the engine's work buffers of this thread
        except Exception as exc:  # referral by product meaning is a bonus, never fatal
            log.warning("UPL products not embedded, referral by their meaning is off: %s", exc)
        finally:
            self._ready.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the UPL products are embedded (tests, benchmarks)."""
        return self._ready.wait(timeout)

    def organisations(self, vector: np.ndarray) -> list[Scored]:
        """Every organisation with its best passage's similarity, best first."""
        sims = self._orgs @ vector - self._org_bias
        best = np.full(len(self.directory), -np.inf, dtype=np.float32)
        np.maximum.at(best, self._owner_arr, sims)
        order = np.argsort(-best)
        return [Scored(self.directory[i], float(best[i])) for i in order]

    def municipal(self, vector: np.ndarray) -> float:
        """Similarity to the closest municipal topic."""
        return float((self._municipal @ vector - self._mun_bias).max())

    def product(self, vector: np.ndarray) -> tuple[Product, float] | None:
        """The closest UPL product for residents, once the products are embedded."""
        rows = self._product_rows
        if rows is None or not len(rows):
            return None
        sims = rows @ vector - self._product_bias
        i = int(sims.argmax())
        return self._products[i], float(sims[i])


def _product_vectors(encoder: Encoder, names: list[str]) -> np.ndarray:
    """Vectors of product names: from one cache file, else embedded in small batches."""
    key = hashlib.sha256("\n".join([encoder.name, *names]).encode()).hexdigest()[:16]
    path = cache_dir() / f"upl-products-{key}.npy"
    try:
        rows = np.load(path)
        if rows.shape == (len(names), encoder.dim):
            return rows.astype(np.float32)
    except (OSError, ValueError):
        pass  # not cached yet, or broken: embed again
    inner = encoder.inner if isinstance(encoder, CachedEncoder) else encoder
    parts = [inner.queries(names[i:i + PRODUCT_BATCH])
             for i in range(0, len(names), PRODUCT_BATCH)]
    rows = np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npy")
        np.save(tmp, rows)
        tmp.replace(path)
    except OSError as exc:
        log.warning("cannot cache UPL product vectors at %s: %s", path.name, exc)
    return rows
