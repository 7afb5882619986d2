from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from desk_helpers import PASSWORD
from fastapi import FastAPI
from fastapi.testclient import TestClient
from support import running

from telephony.app import create_app
from telephony.desk import DeskHub, install_desk
from telephony.desk import routes as desk_routes
from telephony.settings import Settings
from telephony.store import Store


@pytest.fixture(autouse=True)
def _no_login_delay(monkeypatch):
    monkeypatch.setattr(desk_routes, "FAIL_DELAY_S", 0)


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'desk.sqlite3'}") as s:
        s.add_agent("anna", PASSWORD, ["demodam"])
        yield s


@pytest.fixture
def hub() -> DeskHub:
    return DeskHub()


@pytest.fixture
def app(content, store, hub) -> FastAPI:
    app = create_app(Settings(validate_signature=False), content)
    install_desk(app, store, hub)
    return app


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c


@dataclass
class LiveServer:
    url: str
    store: Store
    hub: DeskHub


@pytest.fixture
def live(app, store, hub) -> Iterator[LiveServer]:
    """The app on a real uvicorn server on 127.0.0.1, in a background thread."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                            timeout_graceful_shutdown=2, lifespan="off")
    with running(config) as port:
        try:
            yield LiveServer(f"http://127.0.0.1:{port}", store, hub)
        finally:
            hub.close()
