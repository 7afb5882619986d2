"""Request bodies over a real uvicorn server: an unsigned upload of any size, with or without
Content-Length, is refused after little more than the form limit has been read."""

import select
import socket
from collections.abc import Iterator

import pytest
import uvicorn
from support import running

from telephony.app import MAX_FORM_BYTES, create_app
from telephony.desk import DeskHub, install_desk
from telephony.settings import Settings
from telephony.store import Store

TOKEN = "12345678901234567890123456789012"
TOTAL = 8 << 20  # what the client is ready to send; the limit is a few dozen KB
# Form fields just under Starlette's 1 MB part limit, so only a byte cap stops the parser.
FIELD = b"a=" + b"x" * ((1 << 20) - 64) + b"&"
PIECE = 16 * 1024


class BodyMeter:
    """ASGI wrapper: how many body bytes the app pulled from the server per request."""

    def __init__(self, app) -> None:
        self.app = app
        self.read: dict[str, int] = {}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        self.read[path] = 0

        async def counted():
            message = await receive()
            if message["type"] == "http.request":
                self.read[path] += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@pytest.fixture(scope="module")
def server(content, tmp_path_factory) -> Iterator[tuple[int, BodyMeter]]:
    app = create_app(Settings(twilio_auth_token=TOKEN), content)
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('body') / 'calls.sqlite3'}")
    install_desk(app, store, DeskHub())
    meter = BodyMeter(app)
    config = uvicorn.Config(meter, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    with running(config) as port:
        yield port, meter
    store.close()


def upload(port: int, path: str, extra_headers: str = "") -> tuple[int | None, int]:
    """POST a chunked form of up to TOTAL bytes, watching for an early answer after each
    piece. Returns the HTTP status (None: no answer) and the body bytes sent by then."""
    stream = FIELD * (TOTAL // len(FIELD) + 1)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Transfer-Encoding: chunked\r\n{extra_headers}\r\n")
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        try:
            while sent < TOTAL and not select.select([sock], [], [], 0)[0]:
                piece = stream[sent:sent + PIECE]
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                sent += len(piece)
            if sent >= TOTAL:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and hung up while we were still sending
        try:
            answer = sock.recv(64)
        except ConnectionResetError:
            return None, sent
    status = answer.split(b" ")[1] if answer.startswith(b"HTTP/1.1 ") else b""
    return (int(status) if status.isdigit() else None), sent


@pytest.mark.parametrize(("path", "lie"), [
    ("/twilio/voice", ""), ("/twilio/status", ""), ("/twilio/whisper/abc", ""),
    ("/twilio/after-dial", ""),
    ("/twilio/voice", "Content-Length: 100\r\n"),  # a small Content-Length is not trusted
])
def test_chunked_upload_to_a_webhook_stops_at_the_limit(server, path, lie):
    port, meter = server
    status, sent = upload(port, path, lie)
    assert status == 413, (status, sent, meter.read.get(path))
    # read: the limit plus at most what uvicorn had buffered when it was reached (its 64 KB
    # high-water mark plus one 256 KB socket read); the whole upload was read before the fix
    assert meter.read[path] <= MAX_FORM_BYTES + 320 * 1024, meter.read[path]
    assert sent < TOTAL // 2  # the answer came while the client was still sending


@pytest.mark.parametrize("path", ["/desk/login", "/desk/logout", "/desk/handovers/1/handled"])
def test_chunked_upload_to_the_desk_is_not_read(server, path):
    """The desk's forms need a Content-Length within their limit: a chunked body is answered
    (an error, or the login page when not logged in) without reading it."""
    port, meter = server
    status, sent = upload(port, path)
    assert status in (303, 400, 401, 403), status
    assert meter.read[path] == 0
    assert sent < TOTAL // 2
