from pathlib import Path

import pytest
from support import NL_DEV, ROOT, fixture_rows


@pytest.fixture(scope="session")
def fixtures() -> list[dict]:
    return fixture_rows()


@pytest.fixture(scope="session")
def nl_dev() -> Path:
    if not (NL_DEV / "manifest.tsv").is_file():
        pytest.skip(f"real Dutch recordings not available at {NL_DEV} (../shared is absent)")
    return NL_DEV


@pytest.fixture(scope="session")
def whisper():
    from voice.asr import engines

    return engines.load("whisper")


@pytest.fixture(scope="session", autouse=True)
def _isolated_caches(tmp_path_factory):
    # Tests never read or pollute the user's synthesis cache, trained-intent-model cache
    # or data directory. Session scope: set before any other fixture loads a model.
    base = tmp_path_factory.getbasetemp()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOKET_TTS_CACHE", str(base / "tts-cache"))
        mp.setenv("LOKET_CACHE", str(base / "nlu-cache"))
        mp.setenv("LOKET_DATA", str(base / "data"))
        yield


@pytest.fixture(scope="session")
def content():
    """The shipped content packs."""
    from dialogue.content.loader import load_content

    return load_content(ROOT / "content")


@pytest.fixture(scope="session")
def nlu(content):
    """The real understander, trained once per test session."""
    from dialogue.nlu.understand import Understander

    return Understander(content)
