"""The UPL importer (file, URL, bad input), the catalogue file and fuzzy product matching."""

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dialogue.referral.catalogue import (
    PLACEHOLDER,
    Catalogue,
    CatalogueError,
    PhraseMatcher,
    default_catalogue_path,
    import_upl,
)
from loket.upl_cmd import import_upl as import_upl_cmd

SHARED_CSV = Path(__file__).parents[3].parent / "shared/data/upl/UPL-actueel.csv"
HEADER = (
    "UniformeProductnaam,URI,Rijk,Provincie,Waterschap,Gemeente,Burger,Bedrijf,Dienstenwet,"
    "SDG,Autonomie,Medebewind,Aanvraag,Subsidie,Melding,Verplichting,Grondslag,"
    "Grondslaglabel,Grondslaglink"
)
TERMS = "http://standaarden.overheid.nl/owms/terms/"
SMALL_CSV = "\n".join([
    HEADER,
    f"{PLACEHOLDER},{TERMS}UPL-naam_nog_niet_beschikbaar,X,X,X,X,,,,,,,,,,,,,",
    f"huurtoeslag,{TERMS}huurtoeslag,X,,,,X,,,,,,X,,,,,,",
    f"paspoort,{TERMS}paspoort,X,,,X,X,,,,,X,X,,,,,,",
    f"bijstand,{TERMS}bijstand,,,,X,X,,,,,X,X,,,,,,",
    f"waterschapsbelasting,{TERMS}waterschapsbelasting,,,X,,X,X,,,,,,,,,,,",
    # A second row for the same product (another legal basis) adds a level.
    f"waterschapsbelasting,{TERMS}waterschapsbelasting,,X,,,X,,,,,,,,,,,,",
    f'"grondwater, onttrekking vergunning",{TERMS}gwo,,X,,,,X,,,,,,,,,,,',
]) + "\n"


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "UPL-actueel.csv"
    path.write_text(SMALL_CSV, encoding="utf-8")
    return path


@pytest.fixture
def server(small_csv: Path) -> Iterator[str]:
    """A local web server on 127.0.0.1 serving the directory of the small CSV."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(small_csv.parent))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_import_small_csv(small_csv: Path, tmp_path: Path):
    dest = tmp_path / "data" / "upl.json"
    stats = import_upl(small_csv, dest)
    assert stats.products == 5 and stats.skipped == 1
    assert stats.levels == {"Rijk": 2, "Provincie": 2, "Waterschap": 1, "Gemeente": 2}
    data = json.loads(dest.read_text(encoding="utf-8"))
    by_name = {p["name"]: p for p in data["products"]}
    assert PLACEHOLDER not in by_name
    assert by_name["waterschapsbelasting"]["levels"] == ["Provincie", "Waterschap"]
    assert by_name["paspoort"] == {"name": "paspoort", "uri": f"{TERMS}paspoort",
                                   "levels": ["Rijk", "Gemeente"], "burger": True,
                                   "bedrijf": False}
    assert by_name["grondwater, onttrekking vergunning"]["bedrijf"] is True
    assert [p.name for p in dest.parent.iterdir()] == ["upl.json"]  # no temporary left
    assert "5 UPL products" in stats.summary() and str(dest) in stats.summary()
    assert len(Catalogue.load(dest)) == 5


def test_import_replaces_an_existing_catalogue(small_csv: Path, tmp_path: Path):
    dest = tmp_path / "upl.json"
    dest.write_text("old", encoding="utf-8")
    import_upl(small_csv, dest)
    assert Catalogue.load(dest).products[0].name == "huurtoeslag"


def test_import_shared_upl(tmp_path: Path):
    if not SHARED_CSV.is_file():
        pytest.skip(f"the official UPL sample is not available at {SHARED_CSV}")
    stats = import_upl(SHARED_CSV, tmp_path / "upl.json")
    assert stats.products > 1000 and stats.skipped >= 1
    assert all(stats.levels[level] > 50 for level in ("Rijk", "Provincie", "Waterschap"))
    catalogue = Catalogue.load(tmp_path / "upl.json")
    assert not [p for p in catalogue.products if p.name == PLACEHOLDER]
    (best, score), *_ = catalogue.match("ik wil mijn huur toeslag aanvragen")
    assert best.name == "huurtoeslag" and best.levels == ("Rijk",) and score == 1.0
    (best, _), *_ = catalogue.match("kinderbijslach")
    assert best.name == "kinderbijslag"
    (best, _), *_ = catalogue.match("aangifte doen van vertrek naar het buitenland")
    assert best.name == "aangifte vertrek buitenland" and "Gemeente" in best.levels
    assert catalogue.match("ik wil mijn huur opzeggen") == []


def test_import_from_url(server: str, tmp_path: Path):
    stats = import_upl(f"{server}/UPL-actueel.csv", tmp_path / "upl.json", timeout=10)
    assert stats.products == 5 and stats.source.startswith("http://127.0.0.1:")
    with pytest.raises(CatalogueError, match=r"cannot download .*HTTP 404"):
        import_upl(f"{server}/missing.csv", tmp_path / "other.json", timeout=10)
    assert not (tmp_path / "other.json").exists()


def test_unreachable_url_and_other_schemes(tmp_path: Path):
    with pytest.raises(CatalogueError, match=r"cannot download http://127\.0\.0\.1:9/"):
        import_upl("http://127.0.0.1:9/UPL-actueel.csv", tmp_path / "upl.json", timeout=5)
    with pytest.raises(CatalogueError, match="only http"):
        import_upl("ftp://example.org/UPL-actueel.csv", tmp_path / "upl.json")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (SMALL_CSV.replace(",Gemeente,", ",Gemeentes,"), r"missing column\(s\) Gemeente\b"),
        (SMALL_CSV.replace("UniformeProductnaam,URI,", "Naam,Link,"),
         r"missing column\(s\) UniformeProductnaam, URI"),
        ("<!DOCTYPE html><html><body>Not found</body></html>\n", "not the UPL CSV"),
        ("", "empty file"),
        (HEADER + "\n", "no products"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_csv_is_refused(tmp_path: Path, content: str | bytes, expected: str):
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    dest = tmp_path / "upl.json"
    with pytest.raises(CatalogueError, match=expected):
        import_upl(path, dest)
    assert not dest.exists()
    with pytest.raises(CatalogueError, match="file not found"):
        import_upl(tmp_path / "absent.csv", dest)


def test_catalogue_file_errors(tmp_path: Path):
    path = tmp_path / "upl.json"
    with pytest.raises(CatalogueError, match="no UPL catalogue; import it"):
        Catalogue.load(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogueError, match="unreadable"):
        Catalogue.load(path)
    path.write_text('{"version": 1, "source": "x", "imported": "x", "products": [{}]}',
                    encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"products\.0\.name"):
        Catalogue.load(path)


def test_default_catalogue_path(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("LOKET_DATA", str(tmp_path))
    assert default_catalogue_path() == tmp_path / "upl.json"
    monkeypatch.delenv("LOKET_DATA")
    assert default_catalogue_path() == Path.home() / ".local/share/loket/upl.json"


def test_phrase_matcher_tolerates_recogniser_errors():
    matcher = PhraseMatcher(["huurtoeslag", "aow", "fiets gestolen", "dijken", "ingebroken"])

    def heard(text: str) -> list[str]:
        hits = matcher.find(text.split())
        return [p for p, h in zip(["huurtoeslag", "aow", "fiets gestolen", "dijken",
                                   "ingebroken"], hits, strict=True) if h]

    assert heard("mijn huur toeslag") == ["huurtoeslag"]  # split
    assert heard("mijn huurtoeslach") == ["huurtoeslag"]  # misspelt
    assert heard("het huurtoeslagnummer") == ["huurtoeslag"]  # compound
    assert heard("de a o w") == ["aow"]
    assert heard("mijn fiets is gestolen") == ["fiets gestolen"]
    assert heard("de huur") == []
    assert heard("de aowleeftijd") == []  # short words must match exactly
    assert heard("ik woon bij de dijk en") == []  # not a split word
    assert heard("het deksel is afgebroken") == []  # the first letter must be right


def test_import_command(small_csv: Path, tmp_path: Path):
    app = typer.Typer()
    app.command()(import_upl_cmd)
    runner = CliRunner()
    dest = tmp_path / "out" / "upl.json"
    result = runner.invoke(app, [str(small_csv), "--out", str(dest)])
    assert result.exit_code == 0, result.output
    assert "imported 5 UPL products" in result.output and "Gemeente 2" in result.output
    assert dest.is_file()
    result = runner.invoke(app, [str(tmp_path / "absent.csv"), "--out", str(dest)])
    assert result.exit_code == 2 and "no such file" in result.output
