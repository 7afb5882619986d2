"""``loket replay``: recordings through the real call loop, in-process."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
import soundfile as sf
import typer
from support import FIXTURES, ROOT

from dialogue.content.loader import load_content
from dialogue.core import Dialogue
from dialogue.nlu.understand import Understander
from loket.telephony_cmds import replay as replay_cmd
from telephony.replay import phone_ulaw, replay
from voice.tts import Speaker

pytestmark = pytest.mark.model
OPEN = dt.datetime(2026, 12, 8, 10, 0)


def test_replay_prints_turns_and_writes_reply(whisper, tmp_path, capsys):
    reply = tmp_path / "reply.wav"
    replay_cmd([FIXTURES / "grofvuil_02.wav", FIXTURES / "stilte_01.wav"], None, False, reply)
    text = capsys.readouterr().out
    assert text.startswith("Loket: Goedendag")
    assert "grofvuil_02.wav" in text and "intent:  grofvuil" in text
    assert "latency:" in text
    assert "stilte_01.wav: nothing recognised" in text
    info = sf.info(str(reply))
    assert info.samplerate == 8000 and info.duration > 5


def test_replay_json_and_transfer_handover(whisper):
    content = load_content(ROOT / "content")
    dialogue = Dialogue(content, Understander(content), clock=lambda: OPEN)
    clips = [(FIXTURES / "medewerker_02.wav", phone_ulaw(FIXTURES / "medewerker_02.wav")),
             (FIXTURES / "ja_01.wav", phone_ulaw(FIXTURES / "ja_01.wav"))]
    result = asyncio.run(replay(clips, dialogue, whisper, Speaker(), municipality="demodam"))
    data = json.loads(json.dumps(result.to_dict()))
    assert [t["source"] for t in data["turns"]] == ["start", "speech"]
    turn = data["turns"][1]
    assert turn["file"] == "medewerker_02.wav" and turn["intent"] == "medewerker"
    assert turn["actions"] == ["transfer"] and turn["latency_s"] is not None
    assert data["handovers"][0]["action"] == "transfer"
    assert data["handovers"][0]["reason"] == "asked"
    assert [p.name for p in result.skipped] == ["ja_01.wav"]  # the call was handed over


def test_replay_json_output(whisper, capsys):
    replay_cmd([FIXTURES / "stilte_01.wav"], "voorbeeldrijk", True, None)
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 1, (captured.out, captured.err)
    data = json.loads(lines[0])
    assert set(data) == {"turns", "handovers"}
    assert data["turns"][0]["source"] == "start" and data["handovers"] == []


@pytest.mark.parametrize(("name", "needle"), [("missing.wav", "no such file"),
                                              ("notes.wav", "not a readable audio file")])
def test_replay_bad_file_is_one_clear_line(tmp_path, capsys, name, needle):
    (tmp_path / "notes.wav").write_text("not audio", encoding="utf-8")
    with pytest.raises(typer.Exit) as exc:
        replay_cmd([FIXTURES / "ja_01.wav", tmp_path / name], None, False, None)
    assert exc.value.exit_code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and name in err[0]


def test_replay_unknown_municipality(capsys):
    with pytest.raises(typer.Exit) as exc:
        replay_cmd([FIXTURES / "ja_01.wav"], "atlantis", False, None)
    assert exc.value.exit_code == 2
    assert "unknown municipality" in capsys.readouterr().err
