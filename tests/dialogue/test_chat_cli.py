"""`loket chat --script`: whole dialogues printed for tests and demos."""

import subprocess
from pathlib import Path

from support import ROOT

LOKET = str(ROOT / ".venv" / "bin" / "loket")


def chat(tmp_path: Path, lines: str, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "script.txt"
    script.write_text(lines, encoding="utf-8")
    return subprocess.run([LOKET, "chat", "--script", str(script), *args],
                          capture_output=True, text=True, timeout=600)


def test_scripted_dialogue_with_transfer(tmp_path):
    out = chat(tmp_path, "# a comment\nik wil een nieuw rijbewijs\n\nmag ik een medewerker\n",
               "--municipality", "voorbeeldrijk", "--at", "2026-12-08T10:00")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("Loket: ") and "Voorbeeldrijk" in lines[0]
    assert "U: ik wil een nieuw rijbewijs" in lines
    assert any(line.startswith("[transfer]: ") and "rijbewijs" in line for line in lines)


def test_scripted_callback_out_of_hours_with_keys(tmp_path):
    out = chat(tmp_path, "[toets 0]\nja\nPetra de Boer\n[toets 0612345678#]\n"
               "het gaat over mijn aanvraag voor bijzondere bijstand\n",
               "--municipality", "demodam", "--at", "2026-12-08T23:30")
    assert out.returncode == 0, out.stderr
    callback = [line for line in out.stdout.splitlines() if line.startswith("[callback]")]
    assert callback and "Petra de Boer" in callback[0]


def test_unknown_municipality_is_one_clear_error(tmp_path):
    out = chat(tmp_path, "hallo\n", "--municipality", "atlantis")
    assert out.returncode == 2
    assert "atlantis" in out.stderr and "Traceback" not in out.stderr
