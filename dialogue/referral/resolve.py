"""Decide whether a question belongs to another organisation, and to which one.

1. Keyword evidence: the directory's keywords, matched fuzzily in the recognised text
   (split or merged words and small recogniser errors are tolerated; short words such
   as "aow" must match exactly).
2. Otherwise, with a UPL catalogue: a confident match to a product for residents that
   the municipality does not provide. Rijk products go to the directory organisation
   whose keyword occurs in the product name, else to Rijksoverheid (1400); Waterschap
   and Provincie products go to the generic waterschap or provincie entry.
3. Otherwise, given the utterance's sentence vector and an encoder: by meaning
   (``meaning.MeaningIndex``), so words nobody listed still reach the right door. The
   closest organisation must be similar enough (`STRICT`) and closer than any municipal
   topic (`MARGIN`); when the intent classifier already heard "another organisation"
   (``elsewhere``), the closest one above `LOOSE` is enough. With a catalogue, the
   closest UPL product counts too: a product the municipality provides, closer than
   any organisation and any municipal topic, means no referral; with ``elsewhere``, a
   Rijk, Provincie or Waterschap product closer than any organisation points to that
   kind of organisation. Fewer than `MIN_WORDS` words are never referred by meaning.

``named`` is stricter: an organisation named outright (an exact keyword such as "IND" or
"Kinderombudsman"), not as the one a document is for ("een uittreksel voor de
ambassade"). The understander lets such a name outweigh a topic that only matches the
kind of request ("een klacht over de IND", "een afspraak voor een vaccinatie").

A false referral is worse than none. There is no referral when the municipality
provides the matched product (Gemeente in its levels), nor when, with a catalogue, a
specific product the municipality provides is named beside a keyword ("mijn ww stopt,
kan ik bijstand krijgen"); products every level provides ("bezwaar") do not count there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dialogue.referral.catalogue import LEVELS, Catalogue, Hit, PhraseMatcher, Product, words
from dialogue.referral.directory import Organisation
from dialogue.referral.meaning import MeaningIndex

if TYPE_CHECKING:
    import numpy as np

    from dialogue.nlu.encoder import Encoder

CATALOGUE_MIN = 0.9  # share of a product name that must be heard
TIE = 0.02  # products scoring this close to the best count as equally good
MIN_PRODUCT_CHARS = 7  # shorter product names ("boete", "keur") are too generic to act on
# The directory entries that stand for a whole level of government.
FALLBACK = {"Rijk": "rijksoverheid", "Waterschap": "waterschap", "Provincie": "provincie"}
# Referral by meaning: cosine of e5 vectors less each text's mean similarity to the other
# fixed texts (see meaning.py). Calibrated on the content's own examples: the
# buiten_gemeente ones (labelled by keyword) against every municipal topic example.
STRICT = 0.03  # an organisation this close is meant, if no municipal topic is as close
MARGIN = 0.02  # ... and it beats the closest municipal topic by this much
LOOSE = -0.03  # enough when the classifier already heard "another organisation"
MIN_WORDS = 3  # "help" or "ja hoor" carry too little meaning to refer on
# Words before an organisation's name that make it the recipient, not the one who handles
# the question ("een uittreksel voor de ambassade").
RECIPIENT = {("voor", "de"), ("voor", "het"), ("voor", "mijn"), ("aan", "de"), ("aan", "het")}
# A UPL product this close (and closer than any organisation) decides, once the classifier
# heard "another organisation"; on its own it referred too many municipal questions.
PRODUCT_MIN = 0.08


@dataclass(frozen=True)
class Referral:
    """Where to send the caller, and why."""

    organisation: Organisation
    reason: str  # the keyword or UPL product that was heard
    score: float  # 0..1
    product: str | None = None  # the UPL product name, when the catalogue decided
    how: str = "keyword"  # keyword, catalogue or meaning


@dataclass(frozen=True)
class _KeywordHit:
    organisation: Organisation
    keyword: str
    hit: Hit
    length: int  # letters in the keyword: the longer, the more specific


class Referrer:
    """Refers utterances to organisations; load once, use for every call."""

    def __init__(self, directory: Sequence[Organisation],
                 catalogue: Catalogue | None = None, encoder: Encoder | None = None) -> None:
        """`encoder` (a cached one: descriptions are fixed) enables referral by meaning."""
        self.directory = list(directory)
        self.catalogue = catalogue
        self.meaning = MeaningIndex(self.directory, encoder, catalogue) if encoder else None
        self._by_id = {org.id: org for org in self.directory}
        self._owners: list[tuple[Organisation, str]] = []
        seen: set[str] = set()
        for org in self.directory:
            for keyword in org.keywords:
                pattern = "".join(words(keyword))
                if pattern and pattern not in seen:  # the first owner wins
                    seen.add(pattern)
                    self._owners.append((org, keyword))
        self._matcher = PhraseMatcher([k for _, k in self._owners])

    def refer(self, text: str, vector: np.ndarray | None = None,
              elsewhere: bool = False) -> Referral | None:
        """The organisation that handles `text`, or None when it is not clear.

        `vector` is the utterance's sentence vector (``encoder.queries``), embedded once
        by the caller; without it (or without an encoder) only words are matched.
        `elsewhere`: the caller already knows it is not the municipality's business.
        """
        tokens = words(text)
        if not tokens:
            return None
        found = self._keyword(tokens)
        if found is not None:
            if self._municipal_beside(text, found.hit):
                return None
            return Referral(found.organisation, found.keyword, round(found.hit.score, 4))
        if self.catalogue is not None:
            referral, municipal = self._from_catalogue(text)
            if referral is not None or municipal:
                return referral
        if vector is not None and self.meaning is not None and len(tokens) >= MIN_WORDS:
            return self._by_meaning(vector, elsewhere)
        return None

    def named(self, text: str) -> Referral | None:
        """An organisation named outright in ``text`` (exact keyword, not as a recipient)."""
        tokens = words(text)
        found = self._keyword(tokens) if tokens else None
        if found is None or found.hit.score < 1.0:
            return None
        if tuple(tokens[max(0, found.hit.start - 2):found.hit.start]) in RECIPIENT:
            return None
        if self._municipal_beside(text, found.hit):
            return None
        return Referral(found.organisation, found.keyword, 1.0)

    def _by_meaning(self, vector: np.ndarray, elsewhere: bool) -> Referral | None:
        assert self.meaning is not None
        best = self.meaning.organisations(vector)[0]
        municipal = self.meaning.municipal(vector)
        found = self.meaning.product(vector)  # None without a catalogue (or not yet)
        if (found is not None and "Gemeente" in found[0].levels
                and found[1] >= max(best.score, municipal)):
            return None  # closest to a product the municipality provides
        sure = best.score >= STRICT and best.score - municipal >= MARGIN
        if found is not None and elsewhere:
            # A product (not the municipality's) clearly closer than any organisation.
            product, score = found
            if (score >= PRODUCT_MIN and score > best.score
                    and "Gemeente" not in product.levels):
                org = self._owner(product)
                if org is not None:
                    return Referral(org, product.name, round(score, 4), product.name,
                                    how="meaning")
        if sure or (elsewhere and best.score >= LOOSE):
            return Referral(best.organisation, best.organisation.description,
                            round(best.score, 4), how="meaning")
        return None

    def _keyword(self, tokens: list[str]) -> _KeywordHit | None:
        """The strongest keyword in the words; on a tie the longest keyword wins."""
        best: _KeywordHit | None = None
        for (org, keyword), pattern, hit in zip(self._owners, self._matcher.joined,
                                                 self._matcher.find(tokens), strict=True):
            if hit is None:
                continue
            if best is None or (hit.score, len(pattern)) > (best.hit.score, best.length):
                best = _KeywordHit(org, keyword, hit, len(pattern))
        return best

    def _municipal_beside(self, text: str, hit: Hit) -> bool:
        """A product the municipality provides is named elsewhere in the text.

        Generic products that every level provides ("bezwaar", "klacht") do not count.
        """
        if self.catalogue is None:
            return False
        return any(
            m.score >= CATALOGUE_MIN and "Gemeente" in m.product.levels
            and len(m.product.levels) < len(LEVELS) and _specific(m.product)
            and m.used.isdisjoint(hit.span)
            for m in self.catalogue.matches(text)
        )

    def _from_catalogue(self, text: str) -> tuple[Referral | None, bool]:
        """A referral by a product name heard, and whether a municipal product was heard."""
        assert self.catalogue is not None
        confident = [m for m in self.catalogue.matches(text)
                     if m.score >= CATALOGUE_MIN and m.product.levels]
        if not confident:
            return None, False
        top = [m for m in confident if m.score >= confident[0].score - TIE]
        if any("Gemeente" in m.product.levels and _specific(m.product) for m in top):
            return None, True  # the municipality provides it (too)
        if any("Gemeente" in m.product.levels for m in top):
            return None, False  # generic ("bezwaar"): let the meaning decide
        for m in top:
            if not m.product.burger or not _specific(m.product):
                continue
            org = self._owner(m.product)
            if org is not None:
                return Referral(org, m.product.name, round(m.score, 4), m.product.name,
                                how="catalogue"), False
        return None, False

    def _owner(self, product: Product) -> Organisation | None:
        """The directory organisation for a product the municipality does not provide."""
        if "Rijk" in product.levels:
            found = self._keyword(words(product.name))
            if found is not None:
                return found.organisation
        for level in ("Rijk", "Waterschap", "Provincie"):
            if level in product.levels and FALLBACK[level] in self._by_id:
                return self._by_id[FALLBACK[level]]
        return None


def _specific(product: Product) -> bool:
    return len("".join(words(product.name))) >= MIN_PRODUCT_CHARS
