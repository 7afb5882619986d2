import pytest

from voice.asr import lexicon
from voice.wer import Score, normalize

needs_words = pytest.mark.skipif(not lexicon.load(), reason="wdutch is not installed")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dit mag u niet missen!", "dit mag u niet missen"),
        ("Om 3 uur", "om drie uur"),
        ("21% van 1.250", "eenentwintig procent van duizendtweehonderdvijftig"),
        ("tot 's morgens vroeg", "tot smorgens vroeg"),
        ("auto's en e-mail", "autos en email"),
        ("Één keer, dóén", "een keer doen"),
        ("ruïne", "ruïne"),
        ("2,5 kilo", "twee komma vijf kilo"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_score_counts_edits():
    s = Score()
    one = s.add("dit mag u niet missen", "dit mag je niet messen")
    assert (one.words, one.substitutions, one.deletions, one.insertions) == (5, 2, 0, 0)
    s.add("ja", "")
    s.add("", "uh")
    assert s.words == 6 and s.errors == 4
    assert s.wer == pytest.approx(4 / 6)


def test_numbers_match_words():
    assert Score().add("Mijn huisnummer is 42", "mijn huisnummer is tweeënveertig").errors == 0


@needs_words
def test_compounds_split_or_joined_count_as_one_word():
    # "loopafstand" written as two words, "al gauw" as one: spelling, not recognition.
    assert Score().add("Dit is op loopafstand.", "dit is op loop afstand").errors == 0
    assert Score().add("Al gauw ontmoet ze hem.", "algauw ontmoet ze hem").errors == 0
    strict = Score(compounds=False).add("Dit is op loopafstand.", "dit is op loop afstand")
    assert strict.errors == 2


@needs_words
def test_compound_rule_needs_a_dutch_word():
    # Joining two reference words into a non-word is still wrong, and so is a wrong part.
    assert Score().add("de republiek neutraal", "de republiekneutraal").errors == 2
    assert Score().add("op loopafstand", "op loop afslag").errors == 2
