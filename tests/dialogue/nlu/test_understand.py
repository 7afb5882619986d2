"""Understanding through the real classifier and content; the CLI's JSON contract."""

import csv
import json
import re
import subprocess

import pytest
from support import ROOT

from dialogue.intents import INTENTS
from dialogue.nlu.understand import training_data

TESTSET = ROOT / "tests" / "data" / "nlu" / "testset.tsv"
LOKET = str(ROOT / ".venv" / "bin" / "loket")


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


def test_testset_is_apart_from_training_and_large_enough(content):
    with TESTSET.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) >= 600
    counts = {i: sum(r["intent"] == i for r in rows) for i in INTENTS}
    assert min(counts.values()) >= 15, counts
    examples, _ = training_data(content)
    trained = {_key(e) for items in examples.values() for e in items}
    overlap = [r["text"] for r in rows if _key(r["text"]) in trained]
    assert not overlap, overlap[:5]


@pytest.mark.parametrize(("text", "intent"), [
    ("eh ja goedemorgen ik moet een nieuw paspoort hebben want die van mij is verlopen",
     "paspoort_id"),
    ("mijn kliko is vandaag weer niet geleegd", "afvalcontainer"),
    ("ik wil graag iemand spreken", "medewerker"),
    ("wat kost een bezoekersvergunning voor parkeren", "parkeren"),
    ("ja", "bevestigen"),
    ("nee hoor", "ontkennen"),
])
def test_clear_utterances(nlu, text, intent):
    assert nlu.understand(text).intent == intent


def test_out_of_scope_is_not_forced_onto_a_topic(nlu):
    u = nlu.understand("hoe laat speelt ajax zondag tegen feyenoord")
    assert u.intent == "onbekend"


def test_recogniser_alternatives_are_used(nlu):
    u = nlu.understand("ik wil mijn rijbewust verlengen",
                       alternatives=["ik wil mijn rijbewijs verlengen"])
    assert u.intent == "rijbewijs"


def test_a_lower_ranked_reading_understood_clearly_better_is_chosen(nlu):
    # What Whisper heard over the phone for "Ik wil een afspraak maken op het gemeentehuis".
    top, other = ("ik wil een op strak maken op de gemeente thuis",
                  "ik wil een afspraak maken op het gemeentehuis")
    assert nlu.understand(top).intent != "afspraak"
    u = nlu.understand(top, alternatives=[(top, 0.6), (other, 0.4)])
    assert (u.intent, u.text, u.reading) == ("afspraak", other, 1)
    assert u.entities == nlu.understand(other).entities


def test_a_likely_reading_is_kept_over_an_unlikely_clear_one(nlu):
    top, other = ("ik wil een op strak maken op de gemeente thuis",
                  "ik wil een afspraak maken op het gemeentehuis")
    u = nlu.understand(top, alternatives=[(top, 0.95), (other, 0.05)])
    assert (u.text, u.reading) == (top, 0)
    assert u.intent == nlu.understand(top).intent


def test_among_readings_not_understood_the_top_hypothesis_stands(nlu):
    top, other = "blub blub blub", "hoe laat speelt ajax zondag tegen feyenoord"
    assert nlu.understand(top).intent == nlu.understand(other).intent == "onbekend"
    u = nlu.understand(top, alternatives=[(top, 0.3), (other, 0.7)])
    assert (u.text, u.reading, u.intent) == (top, 0, "onbekend")


def test_readings_merge_duplicates_and_normalise():
    from dialogue.nlu.understand import readings

    got = readings("Ja, graag.", [("Ja, graag.", 0.5), ("ja graag", 0.2), ("nee graag", 0.3)])
    assert [t for t, _ in got] == ["Ja, graag.", "nee graag"]
    assert sum(p for _, p in got) == pytest.approx(1.0)
    assert got[0][1] == pytest.approx(0.5 / 0.8)


def test_entities_and_referral_in_json(nlu):
    u = nlu.understand("mijn postcode is 1234 AB nummer twaalf").to_json()
    assert ("postcode", "1234AB") in [(e["type"], e["value"]) for e in u["entities"]]
    assert set(u) == {"text", "intent", "confidence", "alternatives", "entities", "organisation",
                      "safety"}  # the first six are the contract; more may follow
    assert u["safety"] is None
    ref = nlu.understand("ik wil weten hoe het zit met mijn zorgtoeslag").to_json()
    assert ref["intent"] == "buiten_gemeente" and ref["organisation"] == "Belastingdienst"
    # A sensitive situation shows in the JSON too, whatever intent the words resemble.
    assert nlu.understand("ik zie het echt niet meer zitten").to_json()["safety"] == "suicide"


def test_cli_understand_json_and_stdin():
    one = subprocess.run([LOKET, "understand", "mijn container is kapot", "--json"],
                         capture_output=True, text=True)
    assert one.returncode == 0, one.stderr
    data = json.loads(one.stdout)
    assert data["intent"] == "afvalcontainer" and 0 < data["confidence"] <= 1
    many = subprocess.run([LOKET, "understand", "-"], input="paspoort\n\nhallo\ntot ziens\n",
                          capture_output=True, text=True)
    lines = [json.loads(x) for x in many.stdout.splitlines()]
    assert [x["intent"] for x in lines] == ["paspoort_id", "groet", "afscheid"]


def test_cli_eval_nlu_reports_accuracy(tmp_path):
    tsv = tmp_path / "mini.tsv"
    tsv.write_text("text\tintent\npaspoort verlengen\tpaspoort_id\nhallo\tgroet\n",
                   encoding="utf-8")
    out = subprocess.run([LOKET, "eval", "nlu", str(tsv), "--json"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["accuracy"] == 1.0
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tintent\nhallo\tvissen\n", encoding="utf-8")
    err = subprocess.run([LOKET, "eval", "nlu", str(bad)], capture_output=True, text=True)
    assert err.returncode == 2 and "vissen" in err.stderr and "Traceback" not in err.stderr
