"""``loket eval spoken`` in process: real recogniser, real understanding, phone channel."""

import pytest
from support import FIXTURES

from loket import spoken

pytestmark = pytest.mark.model


def test_spoken_report_over_the_phone_line(whisper, nlu, tmp_path):
    manifest = tmp_path / "m.tsv"
    manifest.write_text(
        "file\ttranscript\ttopic\n"
        f"{FIXTURES / 'ja_01.wav'}\tJa, dat klopt.\tbevestigen\n"
        f"{FIXTURES / 'postcode_01.wav'}\tMijn postcode is 2511 AB.\tpostcode\n"
    )
    intents = {"bevestigen", "ontkennen"}
    seen = []
    report = spoken.run(spoken.recordings(manifest, intents), whisper, nlu,
                        on_item=seen.append).to_dict()
    assert [r.intent for r in seen] == ["bevestigen", None]  # postcode is no intent
    assert seen[0].top_intent == "bevestigen"
    assert report["recordings"] == 2 and report["with_intent"] == 1
    assert report["top1_accuracy"] == 1.0 and report["words"] >= 7
    assert all(r.readings >= 1 for r in seen)
