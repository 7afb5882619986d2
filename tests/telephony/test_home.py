"""GET / on the gateway: a small Dutch and English page linking the desk and health,
served by a real uvicorn."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support import running

from dialogue.core import Dialogue
from dialogue.state import SessionStore
from telephony import server as srv
from telephony.services import Services
from telephony.settings import Settings
from telephony.store import Store


@pytest.fixture
def base(content, nlu, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'calls.sqlite3'}")
    with ThreadPoolExecutor(1) as pool:
        services = Services(settings=Settings(twilio_auth_token="home-test", port=0),
                            content=content,
                            dialogue=Dialogue(content, nlu, SessionStore(":memory:")),
                            recognizer=None, speaker=None, pool=pool, store=store)
        with running(srv.config(srv.build_app(services), services)) as port:
            yield f"http://127.0.0.1:{port}"
    store.close()


def test_root_is_a_page_linking_desk_and_health(base):
    page = httpx.get(f"{base}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Not Found" not in page.text
    assert 'href="/desk"' in page.text and 'href="/health"' in page.text
    assert "Medewerkersscherm" in page.text and "Agent desk" in page.text  # Dutch and English
    assert "gemeente Demodam" in page.text
    for link in ("/desk", "/health"):  # the links lead somewhere
        assert httpx.get(f"{base}{link}", follow_redirects=True).status_code == 200
