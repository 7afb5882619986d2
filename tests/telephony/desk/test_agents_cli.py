import pytest
from typer.testing import CliRunner

from loket import agents_cmd
from loket.cli import app
from telephony.store import Store

runner = CliRunner()
PASSWORD = "een-goed-wachtwoord"


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'agents.sqlite3'}"
    monkeypatch.setenv("LOKET_DATABASE_URL", url)
    return url


def _run(*args: str, stdin: str | None = None):
    return runner.invoke(app, ["agents", *args], input=stdin)


def test_add_list_passwd_remove(db):
    result = _run("add", "anna", "-g", "demodam", "-g", "voorbeeldrijk", "--password-stdin",
                  stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with Store(db) as store:
        assert store.verify_agent("anna", PASSWORD).municipalities == ["demodam",
                                                                       "voorbeeldrijk"]
    listed = _run("list")
    assert listed.exit_code == 0 and "anna\tdemodam,voorbeeldrijk" in listed.output
    changed = _run("passwd", "anna", "--password-stdin", stdin="nog-een-wachtwoord\n")
    assert changed.exit_code == 0, changed.output
    with Store(db) as store:
        assert store.verify_agent("anna", PASSWORD) is None
        assert store.verify_agent("anna", "nog-een-wachtwoord") is not None
    assert _run("remove", "anna").exit_code == 0
    assert "no agents yet" in _run("list").output


def test_database_option_wins(tmp_path, db):
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    result = _run("add", "bert", "-g", "demodam", "--password-stdin", "--database", other,
                  stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with Store(other) as store:
        assert store.agent("bert") is not None
    with Store(db) as store:
        assert store.agent("bert") is None


def test_interactive_prompt_asks_twice(db, monkeypatch):
    monkeypatch.setattr(agents_cmd, "_interactive", lambda: True)
    result = _run("add", "anna", "-g", "demodam", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    with Store(db) as store:
        assert store.verify_agent("anna", PASSWORD) is not None


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["add", "anna", "-g", "nergensdorp", "--password-stdin"], PASSWORD,
     "unknown municipality"),
    (["add", "anna", "--password-stdin"], PASSWORD, "at least one municipality"),
    (["add", "anna", "-g", "demodam", "--password-stdin"], "kort", "at least 8"),
    (["add", "anna", "-g", "demodam", "--password-stdin"], "", "no password"),
    (["add", "anna", "-g", "demodam"], None, "use --password-stdin"),
    (["remove", "niemand"], None, "no agent 'niemand'"),
    (["passwd", "niemand", "--password-stdin"], PASSWORD, "no agent 'niemand'"),
    (["list", "--database", "geen-url"], None, "not a database URL"),
])
def test_bad_input_is_one_error_line(db, args, stdin, message):
    result = _run(*args, stdin=None if stdin is None else stdin + "\n")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.output


def test_duplicate_agent(db):
    assert _run("add", "anna", "-g", "demodam", "--password-stdin",
                stdin=PASSWORD + "\n").exit_code == 0
    again = _run("add", "anna", "-g", "demodam", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.exit_code == 2 and "already exists" in again.stderr
