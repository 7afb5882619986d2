import pytest

from voice.wer import Score, normalize


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
