"""Recogniser-style corruptions of training examples.

A phone recogniser gets about one word in five wrong: similar-sounding letters,
words split or merged, short words dropped, hesitations added. Training on such
variants makes the classifier robust to them. Deterministic for a given seed.
"""

from __future__ import annotations

import random

# Dutch spellings that sound (nearly) the same.
_SOUNDS = (
    ("ij", "ei"), ("ei", "ij"), ("au", "ou"), ("ou", "au"), ("dt", "t"), ("d", "t"),
    ("t", "d"), ("v", "f"), ("f", "v"), ("z", "s"), ("s", "z"), ("g", "ch"), ("ch", "g"),
    ("aa", "a"), ("ee", "e"), ("oo", "o"), ("uu", "u"), ("ie", "i"), ("c", "k"),
    ("k", "c"), ("b", "p"), ("y", "ij"), ("ui", "uu"), ("w", "v"),
)
_FILLERS = ("eh", "ja", "nou", "uhm", "ja eh", "goedemorgen", "hallo", "ik bel omdat")


def _respell(word: str, rng: random.Random) -> str:
    options = [(a, b) for a, b in _SOUNDS if a in word]
    if not options:
        return word
    a, b = rng.choice(options)
    return word.replace(a, b, 1)


def corrupt(text: str, rng: random.Random) -> str:
    """One corrupted variant of a (normalised) utterance."""
    words = text.split()
    if not words:
        return text
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        roll = rng.random()
        if roll < 0.12 and len(word) >= 4:
            out.append(_respell(word, rng))
        elif roll < 0.17 and len(word) >= 8:
            cut = rng.randint(3, len(word) - 3)
            out.extend((word[:cut], word[cut:]))
        elif roll < 0.21 and i + 1 < len(words):
            out.append(word + words[i + 1])
            i += 1
        elif roll < 0.26 and len(words) > 3 and len(word) <= 3:
            pass  # a short word the recogniser missed
        else:
            out.append(word)
        i += 1
    if rng.random() < 0.2:
        out.insert(0, rng.choice(_FILLERS))
    return " ".join(out) if out else text


def augment(texts: list[str], labels: list[str], copies: int, seed: int = 7
            ) -> tuple[list[str], list[str]]:
    """The originals plus `copies` corrupted variants of each."""
    rng = random.Random(seed)
    x, y = list(texts), list(labels)
    for text, label in zip(texts, labels, strict=True):
        for _ in range(copies):
            x.append(corrupt(text, rng))
            y.append(label)
    return x, y
