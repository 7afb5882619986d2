"""`loket call` and `loket serve` as real processes: a simulated call through the whole
gateway (started in-process by `loket call`), and one clear line on bad input."""

import json
import os
import subprocess
import sys

import pytest
from support import FIXTURES, ROOT

LOKET = [sys.executable, "-m", "loket"]


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*LOKET, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env=dict(os.environ))


def one_clear_error(p: subprocess.CompletedProcess, *needles: str) -> None:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.model
def test_simulated_call_in_process(tmp_path):
    reply = tmp_path / "reply.wav"
    p = run("call", str(FIXTURES / "grofvuil_02.wav"), "--fast", "--json", "-o", str(reply),
            "-g", "voorbeeldrijk")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["municipality"] == "voorbeeldrijk"
    assert report["greeting_s"] is not None
    assert [t["file"] for t in report["turns"]] == ["grofvuil_02.wav"]
    assert report["turns"][0]["answered"] and report["turns"][0]["latency_s"] is not None
    roles = [(t["role"], t["intent"]) for t in report["transcript"]]
    assert roles[0] == ("loket", None) and ("loket", "grofvuil") in roles
    assert "Voorbeeldrijk" in report["transcript"][0]["text"]
    assert report["outcome"]["ended"] and reply.stat().st_size > 8000 * 2 * 3


def test_call_bad_input_is_one_line(tmp_path):
    one_clear_error(run("call", str(tmp_path / "nope.wav")), "no such file")
    one_clear_error(run("call", str(FIXTURES / "ja_01.wav"), "--dtmf", "12x@3"), "--dtmf")
    one_clear_error(run("call", str(FIXTURES / "ja_01.wav"), "-g", "atlantis"), "atlantis")
    one_clear_error(run("call", str(FIXTURES / "ja_01.wav"), "--server",
                        "http://127.0.0.1:9"), "cannot reach")


def test_serve_refuses_an_invalid_setting():
    env = {**os.environ, "LOKET_PORT": "seventy"}
    p = subprocess.run([*LOKET, "serve"], capture_output=True, text=True, cwd=ROOT,
                       timeout=60, env=env)
    one_clear_error(p, "LOKET_PORT")
