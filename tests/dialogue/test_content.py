"""Content packs: the shipped ones are valid; broken ones give file:line problems."""

import shutil
import subprocess
from pathlib import Path

import pytest
from support import ROOT

from dialogue.content.loader import ContentInvalid, check_content, load_content
from dialogue.intents import TOPICS

CONTENT = ROOT / "content"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


def test_shipped_content_is_valid(content):
    assert set(content.topics) == set(TOPICS)
    assert len(content.municipalities) >= 2
    assert all(p.municipality.demo for p in content.municipalities.values())
    assert len(content.organisations) >= 10


def test_demo_municipalities_differ(content):
    a, b = (content.municipalities[s] for s in sorted(content.municipalities)[:2])
    differing = [t for t in TOPICS if a.topics[t] != b.topics[t]]
    assert len(differing) >= 3
    assert a.municipality.office_hours != b.municipality.office_hours


def test_called_number_routes_to_municipality(content):
    for pack in content.municipalities.values():
        assert content.for_number(pack.municipality.phone_numbers[0]) is pack
    assert content.for_number("+31000000000") is None


def _break(path: Path, old: str, new: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def test_wrong_field_reported_with_file_and_line(copy: Path):
    pack = sorted((copy / "municipalities").glob("*.yaml"))[0]
    line = _break(pack, "phone_numbers:", "telefoonnummers:")
    _, problems = check_content(copy)
    shown = [str(p) for p in problems]
    assert any(s.startswith(f"{pack}:{line}:") and "telefoonnummers" in s for s in shown), shown


def test_url_in_spoken_answer_is_refused(copy: Path):
    topic = copy / "national" / "topics" / "paspoort_id.yaml"
    text = topic.read_text(encoding="utf-8")
    text = text.replace("answer:\n  spoken: ", "answer:\n  spoken: Kijk op www.example.nl. ", 1)
    topic.write_text(text, encoding="utf-8")
    _, problems = check_content(copy)
    assert any("URL" in p.message and p.file == topic for p in problems), problems


def test_invalid_yaml_and_missing_topic(copy: Path):
    (copy / "national" / "topics" / "rijbewijs.yaml").unlink()
    bad = copy / "national" / "topics" / "grofvuil.yaml"
    bad.write_text("id: grofvuil\ntitle: [unclosed\n", encoding="utf-8")
    _, problems = check_content(copy)
    messages = [str(p) for p in problems]
    assert any("rijbewijs" in m and "missing" in m for m in messages)
    assert any(m.startswith(f"{bad}:") and "invalid YAML" in m for m in messages)
    with pytest.raises(ContentInvalid):
        load_content(copy)


def test_unknown_placeholder_and_unknown_topic(copy: Path):
    pack = sorted((copy / "municipalities").glob("*.yaml"))[0]
    text = pack.read_text(encoding="utf-8")
    pack.write_text(text.replace("\ntopics:\n", "\ntopics:\n  vissen:\n    enabled: false\n", 1),
                    encoding="utf-8")
    _, problems = check_content(copy)
    assert any("vissen" in p.message for p in problems)


def test_validate_command(copy: Path, tmp_path: Path):
    loket = str(ROOT / ".venv" / "bin" / "loket")
    ok = subprocess.run([loket, "content", "validate", str(CONTENT)], capture_output=True,
                        text=True)
    assert ok.returncode == 0, ok.stderr
    assert "municipalities" in ok.stdout
    pack = sorted((copy / "municipalities").glob("*.yaml"))[0]
    _break(pack, "slug:", "slog:")
    bad = subprocess.run([loket, "content", "validate", str(copy)], capture_output=True,
                         text=True)
    assert bad.returncode == 2
    assert f"{pack}:" in bad.stderr and "Traceback" not in bad.stderr
    missing = subprocess.run([loket, "content", "validate", str(tmp_path / "none")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_validate_lists_every_problem_in_one_run(copy: Path):
    """Schema errors in a file do not hide its other problems, nor those of other files."""
    demodam = copy / "municipalities" / "demodam.yaml"
    short = _break(demodam, '"+31205550100"', '"+3120555010"')  # a digit short
    wrong = _break(demodam, 'transfer_number: "+31205550199"', 'transfer_number: "+3120"')
    own = _break(demodam, "kost in Demodam € 52,90.", "kost in {stad} € 52,90.")
    topic = copy / "national" / "topics" / "afvalcontainer.yaml"
    title = _break(topic, "title:", "titel:")
    holder = _break(topic, "via {telefoon}.", "via {telefon}.")
    other = copy / "municipalities" / "voorbeeldrijk.yaml"
    slug = _break(other, "slug: voorbeeldrijk", "slug: voorbeeld-rijk")
    loket = str(ROOT / ".venv" / "bin" / "loket")
    run = subprocess.run([loket, "content", "validate", str(copy)], capture_output=True,
                         text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    shown = run.stderr.splitlines()
    expected = [(demodam, short, "+3120555010"), (demodam, wrong, "+3120"),
                (demodam, own, "{stad}"), (topic, title, "titel"),
                (topic, holder, "{telefon}"), (other, slug, "voorbeeld-rijk")]
    for path, line, needle in expected:
        assert any(s.startswith(f"{path}:{line}:") and needle in s for s in shown), (
            needle, shown)
    assert not any("is missing" in s for s in shown), shown  # the topic file is there
    assert f"{len(shown) - 1} problem(s)" in shown[-1]


@pytest.mark.parametrize("number", ["+3120555010", "+312055501000", "+31000000000",
                                    "0205550100", "+31 20 555 0100"])
def test_municipal_numbers_must_be_real_e164(copy: Path, number: str):
    pack = copy / "municipalities" / "demodam.yaml"
    line = _break(pack, '"+31205550100"', f'"{number}"')
    _, problems = check_content(copy)
    assert [(p.file, p.line) for p in problems] == [(pack, line)], problems
    assert number in problems[0].message and "E.164" in problems[0].message
