"""Normalisation and recogniser-style corruption of training text."""

import random

from dialogue.nlu.augment import augment, corrupt
from dialogue.nlu.text import normalize


def test_normalize_drops_case_accents_punctuation_and_hesitations():
    assert normalize("Eh, ik wil m'n PASPOORT verlengen!!") == "ik wil mn paspoort verlengen"
    assert normalize("drieënvijftig") == "drieenvijftig"
    assert normalize("uhm ... ") == ""
    assert normalize("e-mail") == "e mail"


def test_corrupt_changes_text_but_keeps_most_words():
    rng = random.Random(1)
    text = "ik wil graag mijn paspoort verlengen want het is verlopen"
    variants = {corrupt(text, rng) for _ in range(30)}
    assert len(variants) > 10
    words = set(text.split())
    kept = [len(set(v.split()) & words) / len(words) for v in variants]
    assert sum(kept) / len(kept) >= 0.7


def test_augment_is_deterministic_and_keeps_labels():
    x1, y1 = augment(["mijn container is niet geleegd"], ["afvalcontainer"], 3, seed=5)
    x2, _ = augment(["mijn container is niet geleegd"], ["afvalcontainer"], 3, seed=5)
    assert x1 == x2 and len(x1) == 4 and set(y1) == {"afvalcontainer"}
