"""The external dev set: real citizen questions from public sources, apart from training.

It is judged, never trained or tuned on (see tests/data/nlu/external/README.md).
"""

import csv
import json
import re

import pytest
from typer.testing import CliRunner

from dialogue import evaluate
from dialogue.intents import INTENTS
from dialogue.nlu.text import normalize
from dialogue.nlu.understand import training_data

EXTERNAL = evaluate.EXTERNAL_DEV_SET.parent
COLUMNS = ["id", "text", "intent", "organisation", "source_id", "kind"]
KINDS = {"citizen_question", "resident_report"}
MIN_ITEMS = 496  # issue 14 asks for at least 400; the set grows as licensed sources are found
# Measured on 2026-12-02 with the n-gram classifier: accuracy 73.6 %, confidently
# wrong 8.9 % (496 items). The floors sit a little below, to catch a regression.
ACCURACY_FLOOR = 0.70
CONFIDENT_WRONG_CEILING = 0.12
# The held-out set (holdout.tsv) is read for its figure only; issue 14 asks for 150 items,
# 152 were found on 86 pages the dev set does not use (see the README there).
HOLDOUT_MIN_ITEMS = 152
# Measured once on 2026-12-02 (n-gram classifier): accuracy 73.0 %, confidently wrong
# 5.9 % (9 of 152 items). Floors about 5 points away; never tune against this set's misses.
HOLDOUT_ACCURACY_FLOOR = 0.68
HOLDOUT_CONFIDENT_WRONG_CEILING = 0.11


def _rows(path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = list(reader)
        return [{"__columns__": reader.fieldnames}, *rows]


@pytest.fixture(scope="module")
def devset() -> list[dict]:
    return _set_rows(evaluate.EXTERNAL_DEV_SET)


@pytest.fixture(scope="module")
def holdout() -> list[dict]:
    return _set_rows(evaluate.HOLDOUT_SET)


def _set_rows(path) -> list[dict]:
    rows = _rows(path)
    assert rows[0]["__columns__"] == COLUMNS
    return rows[1:]


def _sources() -> dict[str, dict]:
    sources = _rows(EXTERNAL / "sources.tsv")
    assert sources[0]["__columns__"] == ["source_id", "url", "licence", "retrieved", "notes"]
    by_id = {s["source_id"]: s for s in sources[1:]}
    assert len(by_id) == len(sources) - 1, "duplicate source_id in sources.tsv"
    for s in by_id.values():
        assert s["url"].startswith("http") and s["licence"].strip(), s
    return by_id


def _check_format_and_sources(rows: list[dict], id_pattern: str) -> None:
    by_id = _sources()
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(id_pattern, i) for i in ids)
    for r in rows:
        assert r["text"].strip() == r["text"] and r["text"], r
        assert r["intent"] in INTENTS, r
        assert r["kind"] in KINDS, r
        assert r["source_id"] in by_id, r
        # a referral names the organisation (an id from organisations.yaml or a plain id)
        assert bool(r["organisation"]) == (r["intent"] == "buiten_gemeente"), r
        assert not r["organisation"] or re.fullmatch(r"[a-z][a-z0-9_]*", r["organisation"])
    texts = [normalize(r["text"]) for r in rows]
    assert len(set(texts)) == len(texts), "the same text twice"


def _seen_texts(content) -> set[str]:
    """Normalised training examples and own test-set texts."""
    examples, _ = training_data(content)
    seen = {normalize(t) for items in examples.values() for t in items}
    return seen | {normalize(i.text) for i in evaluate.read_tsv(evaluate.OWN_TEST_SET)}


def test_devset_is_well_formed_and_every_item_has_a_licensed_source(devset):
    assert len(devset) >= MIN_ITEMS
    _check_format_and_sources(devset, r"[a-gi-z]\d{4}")


def test_every_source_has_items_in_the_devset_or_the_holdout_set(devset, holdout):
    used = {r["source_id"] for r in devset} | {r["source_id"] for r in holdout}
    assert used == set(_sources()), "a source without items"


def test_devset_is_apart_from_training_examples_and_the_own_test_set(content, devset):
    seen = _seen_texts(content)
    overlap = [r["text"] for r in devset if normalize(r["text"]) in seen]
    assert not overlap, overlap
    texts = [normalize(r["text"]) for r in devset]
    assert len(set(texts)) == len(texts), "the same text twice in the dev set"


def test_holdout_is_well_formed_and_every_item_has_a_licensed_source(holdout):
    assert len(holdout) >= HOLDOUT_MIN_ITEMS
    _check_format_and_sources(holdout, r"h\d{4}")


def test_holdout_comes_from_pages_the_devset_does_not_use(devset, holdout):
    sources = _sources()
    dev_ids = {r["source_id"] for r in devset}
    hold_ids = {r["source_id"] for r in holdout}
    assert not dev_ids & hold_ids, dev_ids & hold_ids
    dev_urls = {_page(sources[i]["url"]) for i in dev_ids}
    shared = [i for i in hold_ids if _page(sources[i]["url"]) in dev_urls]
    assert not shared, shared


def _page(url: str) -> str:
    """The page an address names, without scheme, 'www.' and a closing slash."""
    return re.sub(r"^https?://(www\.)?", "", url.strip().lower()).rstrip("/")


def test_holdout_is_apart_from_training_examples_own_test_set_and_devset(content, devset,
                                                                         holdout):
    seen = _seen_texts(content) | {normalize(r["text"]) for r in devset}
    overlap = [r["text"] for r in holdout if normalize(r["text"]) in seen]
    assert not overlap, overlap


def test_current_understander_on_the_devset_stays_above_its_floor(nlu):
    report = evaluate.run(evaluate.read_tsv(evaluate.EXTERNAL_DEV_SET), nlu)
    assert report.accuracy >= ACCURACY_FLOOR, report.to_dict()
    assert report.confident_wrong_rate <= CONFIDENT_WRONG_CEILING, report.to_dict()
    assert set(report.by_kind) <= KINDS
    assert report.referrals > 0 and "organisation_right" in report.to_dict()


def test_current_understander_on_the_holdout_set_stays_above_its_floor(nlu):
    report = evaluate.run(evaluate.read_tsv(evaluate.HOLDOUT_SET), nlu)
    assert report.accuracy >= HOLDOUT_ACCURACY_FLOOR, (report.accuracy, report.items)
    assert report.confident_wrong_rate <= HOLDOUT_CONFIDENT_WRONG_CEILING, (
        report.confident_wrong_rate, report.items)


def test_eval_reads_extra_columns_and_reports_kind_and_confidently_wrong(nlu, tmp_path):
    tsv = tmp_path / "set.tsv"
    tsv.write_text("id\ttext\tintent\tkind\tsource_id\torganisation\textra\n"
                   "a\tpaspoort verlengen\tpaspoort_id\tcitizen_question\ts1\t\tx\n"
                   "b\tmijn container is kapot\tparkeren\tresident_report\ts2\t\ty\n",
                   encoding="utf-8")
    items = evaluate.read_tsv(tsv)
    assert [(i.kind, i.source) for i in items] == [("citizen_question", "s1"),
                                                   ("resident_report", "s2")]
    report = evaluate.run(items, nlu)
    data = report.to_dict()
    assert data["by_kind"]["citizen_question"]["accuracy"] == 1.0
    assert data["by_kind"]["resident_report"]["accuracy"] == 0.0
    # "container kapot" is clearly afvalcontainer: confidently wrong against the label
    assert data["confident_wrong"] == 1 == data["by_kind"]["resident_report"]["confident_wrong"]


def test_cli_without_a_path_reports_own_test_set_external_dev_set_and_holdout(monkeypatch,
                                                                             tmp_path):
    from loket.cli import app

    own, ext, hold = tmp_path / "own.tsv", tmp_path / "ext.tsv", tmp_path / "hold.tsv"
    own.write_text("text\tintent\nhallo\tgroet\n", encoding="utf-8")
    header = "id\ttext\tintent\torganisation\tsource_id\tkind\n"
    ext.write_text(header + "x0001\tpaspoort verlengen\tpaspoort_id\t\ts\tcitizen_question\n",
                   encoding="utf-8")
    # wrong on purpose: the held-out miss must never be listed, not even with --errors
    hold.write_text(header + "h0001\tmijn container is kapot\tparkeren\t\ts\tcitizen_question\n",
                    encoding="utf-8")
    monkeypatch.setattr(evaluate, "OWN_TEST_SET", own)
    monkeypatch.setattr(evaluate, "EXTERNAL_DEV_SET", ext)
    monkeypatch.setattr(evaluate, "HOLDOUT_SET", hold)
    result = CliRunner().invoke(app, ["eval", "nlu", "--errors"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("own test set:") < out.index("external dev set:") < out.index("holdout set:")
    assert "confidently wrong" in out and "citizen_question: accuracy 100.00% of 1" in out
    assert "citizen_question: accuracy 0.00% of 1" in out
    assert "mijn container is kapot" not in out
    as_json = CliRunner().invoke(app, ["eval", "nlu", "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert set(data) == {"own_test_set", "external_dev_set", "holdout_set"}
    assert data["holdout_set"]["items"] == 1 and data["holdout_set"]["accuracy"] == 0.0
