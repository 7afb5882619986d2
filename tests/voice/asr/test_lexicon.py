import pytest

from voice.asr import lexicon

WORDS = frozenset(
    {"het", "is", "koud", "pijn", "nerveus", "zo", "niet", "en", "de", "milieu", "milieus"}
)


def test_rerank_prefers_known_words_within_margin():
    hyps = [("het is kout", -0.20), ("het is koud", -0.35), ("het is pein", -0.10 - 2.0)]
    assert lexicon.rerank(hyps, WORDS) == 1


def test_rerank_keeps_best_when_alternatives_are_far_worse():
    hyps = [("het is kout", -0.2), ("het is koud", -1.9)]
    assert lexicon.rerank(hyps, WORDS, margin=1.0) == 0


def test_rerank_hints_count_as_known():
    hyps = [("de gemeente zoetermeer", -0.2), ("de gemeente zoetemeer", -0.3)]
    assert lexicon.rerank(hyps, WORDS | {"gemeente"}) == 0
    assert lexicon.rerank(hyps, WORDS | {"gemeente"}, extra=["Zoetemeer"]) == 1


def test_no_word_list_means_no_change():
    assert lexicon.rerank([("a", -1.0), ("b", -0.5)], frozenset()) == 0
    assert lexicon.correct("nervus", frozenset()) == "nervus"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zo nervus niet", "zo nerveus niet"),  # one edit, one candidate
        ("het milieue", "het milieue"),  # two candidates: leave it
        ("Nervus", "Nervus"),  # capitalised: maybe a name
        ("het is kout", "het is koud"),
        ("het is pjn", "het is pjn"),  # under four letters: left alone
    ],
)
def test_correct(text, expected):
    assert lexicon.correct(text, WORDS) == expected


def test_installed_dutch_word_list_is_used():
    words = lexicon.load()
    if not words:
        pytest.skip("wdutch is not installed")
    assert {"paspoort", "gemeente", "verhuizen"} <= words
