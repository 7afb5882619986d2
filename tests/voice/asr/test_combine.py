from voice.asr.combine import Candidate, choose

WORDS = frozenset(["dit", "is", "een", "pijn", "in", "mijn", "rug"])


def test_consensus_beats_a_slightly_more_likely_outlier():
    cands = [
        Candidate("Dit is een pijn.", [1], [-1.0, -1.0]),
        Candidate("Dit is mijn rug.", [2], [-1.2, -1.2]),
        Candidate("dit is mijn rug!", [3], [-1.3, -1.3]),
    ]
    assert choose(cands) == 1


def test_a_clear_winner_stays():
    cands = [
        Candidate("Dit is een pijn.", [1], [-1.0, -1.0]),
        Candidate("Dit is mijn rug.", [2], [-6.0, -6.0]),
        Candidate("dit is mijn rug!", [3], [-6.5, -6.5]),
    ]
    assert choose(cands) == 0


def test_unknown_words_count_against_a_hypothesis():
    cands = [
        Candidate("Dit is een pein.", [1, 2], [-1.0]),
        Candidate("Dit is een pijn.", [3], [-1.5]),
    ]
    assert choose(cands) == 0
    assert choose(cands, WORDS) == 1
    assert choose(cands, WORDS - {"pijn"}, extra=["pijn"]) == 1


def test_scores_are_averaged_over_encodings():
    a = Candidate("een", [1], [-1.0, -5.0])
    b = Candidate("pijn", [2], [-2.0, -2.0])
    assert a.logprob == -3.0
    assert choose([a, b]) == 1


def test_one_candidate():
    assert choose([Candidate("ja", [1], [-0.1])]) == 0
