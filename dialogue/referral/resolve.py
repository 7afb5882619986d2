"""Decide whether a question belongs to another organisation, and to which one.

1. Keyword evidence: the directory's keywords, matched fuzzily in the recognised text
   (split or merged words and small recogniser errors are tolerated; short words such
   as "aow" must match exactly).
2. Otherwise, with a UPL catalogue: a confident match to a product for residents that
   the municipality does not provide. Rijk products go to the directory organisation
   whose keyword occurs in the product name, else to Rijksoverheid (1400); Waterschap
   and Provincie products go to the generic waterschap or provincie entry.

A false referral is worse than none. There is no referral when the municipality
provides the matched product (Gemeente in its levels), nor when, with a catalogue, a
specific product the municipality provides is named beside a keyword ("mijn ww stopt,
kan ik bijstand krijgen"); products every level provides ("bezwaar") do not count there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dialogue.referral.catalogue import LEVELS, Catalogue, Hit, PhraseMatcher, Product, words
from dialogue.referral.directory import Organisation

CATALOGUE_MIN = 0.9  # share of a product name that must be heard
TIE = 0.02  # products scoring this close to the best count as equally good
MIN_PRODUCT_CHARS = 7  # shorter product names ("boete", "keur") are too generic to act on
# The directory entries that stand for a whole level of government.
FALLBACK = {"Rijk": "rijksoverheid", "Waterschap": "waterschap", "Provincie": "provincie"}


@dataclass(frozen=True)
class Referral:
    """Where to send the caller, and why."""

    organisation: Organisation
    reason: str  # the keyword or UPL product that was heard
    score: float  # 0..1
    product: str | None = None  # the UPL product name, when the catalogue decided


@dataclass(frozen=True)
class _KeywordHit:
    organisation: Organisation
    keyword: str
    hit: Hit
    length: int  # letters in the keyword: the longer, the more specific


class Referrer:
    """Refers utterances to organisations; load once, use for every call."""

    def __init__(self, directory: Sequence[Organisation],
                 catalogue: Catalogue | None = None) -> None:
        self.directory = list(directory)
        self.catalogue = catalogue
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

    def refer(self, text: str) -> Referral | None:
        """The organisation that handles `text`, or None when it is not clear."""
        tokens = words(text)
        if not tokens:
            return None
        found = self._keyword(tokens)
        if found is not None:
            if self._municipal_beside(text, found.hit):
                return None
            return Referral(found.organisation, found.keyword, round(found.hit.score, 4))
        if self.catalogue is not None:
            return self._from_catalogue(text)
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

    def _from_catalogue(self, text: str) -> Referral | None:
        assert self.catalogue is not None
        confident = [m for m in self.catalogue.matches(text)
                     if m.score >= CATALOGUE_MIN and m.product.levels]
        if not confident:
            return None
        top = [m for m in confident if m.score >= confident[0].score - TIE]
        if any("Gemeente" in m.product.levels for m in top):
            return None  # the municipality provides it (too)
        for m in top:
            if not m.product.burger or not _specific(m.product):
                continue
            org = self._owner(m.product)
            if org is not None:
                return Referral(org, m.product.name, round(m.score, 4), m.product.name)
        return None

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
