"""Pick one transcript from hypotheses pooled over several front-ends.

Each front-end (the utterance as is, or after a short lead-in of silence)
gives its own beam; every pooled hypothesis is scored under every encoding
and the one with the least expected word error against the others wins
(minimum Bayes risk). Unknown words (not in the Dutch word list) count
against a hypothesis as in :mod:`voice.asr.lexicon`.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from voice.asr import lexicon
from voice.wer import edits, normalize


@dataclass(slots=True)
class Candidate:
    """A hypothesis with its summed log-probability under each encoding."""

    text: str
    tokens: list[int]
    logprobs: list[float]

    @property
    def logprob(self) -> float:
        """Mean over encodings of the summed token log-probability."""
        return sum(self.logprobs) / len(self.logprobs)


def choose(
    candidates: Sequence[Candidate],
    words: frozenset[str] = frozenset(),
    extra: Iterable[str] = (),
) -> int:
    """Index of the minimum-Bayes-risk candidate."""
    if len(candidates) < 2:
        return 0
    extra = list(extra)
    logits = [
        c.logprob - lexicon.unknown_rate(c.text, words, extra) * (len(c.tokens) + 1)
        if words
        else c.logprob
        for c in candidates
    ]
    top = max(logits)
    weights = [math.exp(x - top) for x in logits]
    total = sum(weights)
    texts = [normalize(c.text) for c in candidates]
    risk = [
        sum(w * sum(edits(t, u)) for w, u in zip(weights, texts, strict=True)) / total
        for t in texts
    ]
    return min(range(len(candidates)), key=lambda i: (risk[i], -weights[i]))
