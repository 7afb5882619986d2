"""The first start says that the intent model is being trained, with its progress; a start
that finds the trained model in the cache says nothing."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from support import ROOT

KEEP = 8  # examples per intent: a real training run on little data, so the test is quick


def _small_content(target: Path) -> Path:
    shutil.copytree(ROOT / "content", target)
    for path in (target / "national" / "topics").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["examples"] = data["examples"][:KEEP]
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    conv = target / "national" / "conversation.yaml"
    data = yaml.safe_load(conv.read_text(encoding="utf-8"))
    data["examples"] = {k: v[:KEEP] for k, v in data["examples"].items()}
    conv.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def _understand(content: Path, cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loket", "understand", "paspoort kwijt",
                           "--content", str(content)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600, env={**os.environ, "LOKET_CACHE": str(cache)})


def test_first_start_announces_training_with_progress(tmp_path: Path):
    content = _small_content(tmp_path / "content")
    first = _understand(content, tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    lines = first.stderr.splitlines()
    wanted = ["Training the intent model for gemeente Demodam, gemeente Voorbeeldrijk "
              "(first start", "  national library: ", "  gemeente Demodam: ",
              "  gemeente Voorbeeldrijk: ", "  step 1/2: ", "  step 2/2: ",
              "Intent model ready after "]
    at = [next((i for i, ln in enumerate(lines) if ln.startswith(w)), -1) for w in wanted]
    assert -1 not in at and at == sorted(at), first.stderr  # each step, in order
    assert first.stdout.strip()  # and then the answer
    again = _understand(content, tmp_path / "cache")
    assert again.returncode == 0 and "Training" not in again.stderr, again.stderr
