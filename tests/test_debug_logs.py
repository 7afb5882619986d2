"""`LOKET_DEBUG=1` logs no personal data: no transcript, no name, no number and no keyed
digit, not even one by one, in a real chat and a real phone call."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

from dialogue.intents import INTENTS

LOKET = [sys.executable, "-m", "loket"]
NAME = "Vries"
PHONE = "0612345678"
BSN = "111222333"  # passes the 11-proof
SID = re.compile(r"\b(?:CA|MZ|AC|RE)[0-9a-f]{32}\b|\bsession [0-9a-f]{6,}\b")
KEY_LINE = re.compile(r"key|toets|dtmf|digit", re.I)


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*LOKET, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env={**os.environ, "LOKET_DEBUG": "1"})


def digits(text: str) -> str:
    return re.sub(r"\D", "", SID.sub("", text))


def assert_nothing_personal(log: str, said: list[str], keyed: list[str]) -> None:
    lines = log.splitlines()
    assert NAME.lower() not in log.lower()
    for text in said:
        assert text not in log, text
    for keys in keyed:
        for line in lines:
            assert keys not in digits(line), line
        # keys logged one per line would come back when the lines are joined
        joined = "".join(digits(line) for line in lines if KEY_LINE.search(line))
        assert keys not in joined
    assert '"digit"' not in log  # no raw DTMF frame of the media stream


def test_debug_chat_logs_structure_only(tmp_path: Path):
    said = ["ik wil een medewerker spreken", "ja graag", "mijn naam is Jan de Vries",
            f"mijn bsn is {BSN} en het gaat over mijn aanslag voor de belastingen"]
    script = tmp_path / "script.txt"
    script.write_text("\n".join([*said[:3], f"[toets {PHONE}#]", said[3],
                                 f"[toets {BSN}#]"]) + "\n", encoding="utf-8")
    p = run("chat", "--script", str(script), "-g", "demodam", "--at", "2026-12-08T22:00")
    assert p.returncode == 0, p.stderr
    callback = [ln for ln in p.stdout.splitlines() if ln.startswith("[callback]")]
    assert callback and NAME in callback[0] and PHONE in callback[0]  # it was all heard
    assert "dialogue.core" in p.stderr  # debug logging is on
    assert_nothing_personal(p.stderr, said, [PHONE, BSN])


@pytest.mark.model
def test_debug_phone_call_logs_structure_only(tmp_path: Path):
    lines = ["mijn naam is Jan de Vries",
             "mijn telefoonnummer is nul zes een twee drie vier vijf zes zeven acht",
             "ik wil een medewerker spreken"]
    files = []
    for i, text in enumerate(lines):
        wav = tmp_path / f"turn{i}.wav"
        made = subprocess.run([*LOKET, "say", text, "-o", str(wav)], capture_output=True,
                              text=True, cwd=ROOT, timeout=120)
        assert made.returncode == 0, made.stderr
        files.append(str(wav))
    p = run("call", *files, "--fast", "--json", "--dtmf", f"{BSN}#@1")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    # what the recogniser heard is what a debug line would have shown
    heard = [t["text"] for t in report["transcript"]
             if t["role"] == "caller" and t["text"] and len(t["text"]) >= 8]
    assert heard, report["transcript"]  # whatever it was, something was heard
    assert "telephony.call" in p.stderr  # debug logging is on
    assert_nothing_personal(p.stderr, heard, [BSN])
    words = {w for text in heard for w in re.findall(r"[^\W\d_]{6,}", text.lower())}
    words -= set(INTENTS)  # intent ids such as 'belastingen' are logged on purpose
    assert words and not {w for w in words if w in p.stderr.lower()}


def test_a_failing_thread_is_logged_without_its_message():
    code = ("import threading\nfrom loket import logs\nlogs.setup()\n"
            "def work():\n    raise ValueError('geen terugbelnummer voor Jan de Vries')\n"
            "t = threading.Thread(target=work, name='werk')\nt.start()\nt.join()\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=ROOT, timeout=60, env={**os.environ, "LOKET_DEBUG": "1"})
    assert p.returncode == 0, p.stderr
    assert "thread werk failed" in p.stderr and "ValueError" in p.stderr
    assert NAME not in p.stderr and "terugbelnummer" not in p.stderr
