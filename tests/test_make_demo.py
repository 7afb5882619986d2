"""scripts/demo-chat.txt says which make target plays it; that target really does."""

import re
import subprocess

from support import ROOT

SCRIPT = ROOT / "scripts" / "demo-chat.txt"


def test_the_target_named_in_the_demo_script_plays_it():
    text = SCRIPT.read_text(encoding="utf-8")
    claim = re.search(r"`make (\w+)`", text)
    assert claim, "demo-chat.txt should say which make target plays it"
    target = claim.group(1)
    recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(),
                       re.M)
    assert recipe and "scripts/demo-chat.txt" in recipe.group(1), target
    # -o: use the installed virtualenv as it is, never reinstall from a test
    p = subprocess.run(["make", "-s", "-o", ".venv/.installed", target], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    said = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    shown = p.stdout.splitlines()
    for line in said:
        assert f"U: {line}" in shown, line
    answers = [ln for ln in shown if ln.startswith("Loket: ")]
    assert len(answers) == len(said) + 1  # the greeting and one answer per line
    assert "Demodam" in answers[0] and "Tot ziens" in answers[-1]
