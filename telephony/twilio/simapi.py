"""A local stand-in for Twilio's REST API (the Calls resource), on 127.0.0.1.

Used by the tests and by `loket call`, whose in-process gateway has no real Twilio behind it.
A real HTTP server in a daemon thread. Like Twilio it checks HTTP Basic auth (401, code 20003),
answers `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` with the call resource
for calls it knows (`add_call`, or any call with `any_call=True`) and 404 (code 20404)
otherwise, refuses to redirect a call that has ended (400, code 21220), and records every
request. When a call is redirected to TwiML that dials an agent with a whisper URL, it fetches
that URL the way Twilio does (a signed POST) and keeps what the agent would hear.

    with SimulatedTwilioApi(ACCOUNT_SID, AUTH_TOKEN) as api:
        api.add_call(CALL_SID)
        TwilioRest(ACCOUNT_SID, AUTH_TOKEN, api_url=api.url).hangup(CALL_SID)
        assert api.requests[0].form == {"Status": ["completed"]}
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import sys
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

from twilio.request_validator import RequestValidator

from telephony.twilio.webhook import SIGNATURE_HEADER

API_VERSION = "2010-04-01"
_CALL_PATH = re.compile(
    rf"/{API_VERSION}/Accounts/(AC[0-9a-f]{{32}})/Calls/(CA[0-9a-f]{{32}})\.json")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that gave up (timeout) before the answer is not an error of the server
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]


@dataclass(frozen=True)
class Whisper:
    call_sid: str
    target: str  # the number or SIP address dialled
    heard: str | None  # what the agent heard before being connected (None: no whisper)


@dataclass
class FakeCall:
    sid: str
    to: str
    from_: str
    status: str = "in-progress"
    twiml: list[str] = field(default_factory=list)  # every TwiML the call was redirected to


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


class SimulatedTwilioApi:
    """Twilio's Calls API for one account; `url` is the base to give the client."""

    def __init__(self, account_sid: str, auth_token: str, *, any_call: bool = False) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.any_call = any_call
        self.whispers: list[Whisper] = []  # what agents heard on transfers, in order
        self.calls: dict[str, FakeCall] = {}
        self.requests: list[Recorded] = []
        self.delay_s = 0.0  # answer this much later (timeouts, a slow API)
        self.hold = threading.Event()  # cleared: requests wait until it is set again
        self.hold.set()
        self.dialled = threading.Event()  # set after each simulated dial
        self._failures: list[tuple[int, dict[str, Any]]] = []
        self.in_flight = self.max_in_flight = 0  # requests being answered at the same time
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_call(self, sid: str, *, to: str = "+31851234567", from_: str = "+31612345678",
                 status: str = "in-progress") -> FakeCall:
        call = FakeCall(sid, to, from_, status)
        with self._lock:
            self.calls[sid] = call
        return call

    def fail_next(self, status: int, code: int, message: str) -> None:
        """Answer the next authorised request with this Twilio error."""
        with self._lock:
            self._failures.append((status, _error(status, code, message)))

    def __enter__(self) -> SimulatedTwilioApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- the API -----------------------------------------------------------------------------

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == (self.account_sid, self.auth_token)

    def handle(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, Any]]:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        with self._lock:
            self.requests.append(Recorded(method, path, headers, form))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                time.sleep(self.delay_s)
            self.hold.wait(30)
            return self._answer(method, path, headers, form)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, method: str, path: str, headers: dict[str, str],
                form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        if not self._authorized(headers.get("Authorization")):
            return 401, {**_error(401, 20003, "Authenticate"),
                         "detail": "Your AccountSid or AuthToken was incorrect."}
        match = _CALL_PATH.fullmatch(path)
        with self._lock:
            if self._failures:
                return self._failures.pop(0)
            call = self.calls.get(match.group(2)) if match else None
            if call is None and match is not None and self.any_call:
                call = self.calls[match.group(2)] = FakeCall(match.group(2), "", "")
        if method != "POST" or match is None or match.group(1) != self.account_sid or call is None:
            return 404, _error(404, 20404, f"The requested resource {path} was not found")
        with self._lock:
            if ("Twiml" in form or "Url" in form) and call.status == "completed":
                return 400, _error(400, 21220, "Call is not in-progress. Cannot redirect.")
            if "Twiml" in form:
                call.twiml.append(form["Twiml"][0])
                threading.Thread(target=self._dial, args=(call.sid, form["Twiml"][0]),
                                 daemon=True).start()
            if form.get("Status", [""])[0] in {"completed", "canceled"}:
                call.status = "completed"
            return 200, self._resource(call, path)

    def _dial(self, call_sid: str, twiml: str) -> None:
        """Like Twilio after a redirect: dial the agent, fetch the whisper for them."""
        try:
            dial = ET.fromstring(twiml).find("Dial")
        except ET.ParseError:
            return
        target = dial.find("*") if dial is not None else None
        if target is None:
            return
        url = target.get("url")
        heard = None
        if url:
            form = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": self.account_sid,
                    "ParentCallSid": call_sid, "CallStatus": "in-progress",
                    "Direction": "outbound-dial"}
            signature = RequestValidator(self.auth_token).compute_signature(url, form)
            request = urllib.request.Request(url, data=urlencode(form).encode(),
                                             headers={SIGNATURE_HEADER: signature})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    says = ET.fromstring(response.read()).iter("Say")
                    heard = " ".join((el.text or "").strip() for el in says)
            except (OSError, ET.ParseError):
                heard = None
        with self._lock:
            self.whispers.append(Whisper(call_sid, (target.text or "").strip(), heard))
        self.dialled.set()

    def _resource(self, call: FakeCall, path: str) -> dict[str, Any]:
        now = formatdate(usegmt=True)
        base = path.removesuffix(".json")
        return {
            "account_sid": self.account_sid, "annotation": None, "answered_by": None,
            "api_version": API_VERSION, "caller_name": None, "date_created": now,
            "date_updated": now, "direction": "inbound", "duration": None, "end_time": None,
            "forwarded_from": None, "from": call.from_, "from_formatted": call.from_,
            "group_sid": None, "parent_call_sid": None, "phone_number_sid": None,
            "price": None, "price_unit": "USD", "queue_time": "0", "sid": call.sid,
            "start_time": now, "status": call.status, "to": call.to,
            "to_formatted": call.to, "trunk_sid": None, "uri": path,
            "subresource_uris": {
                "notifications": f"{base}/Notifications.json",
                "recordings": f"{base}/Recordings.json",
                "payments": f"{base}/Payments.json",
                "events": f"{base}/Events.json",
                "siprec": f"{base}/Siprec.json",
                "streams": f"{base}/Streams.json",
                "user_defined_message_subscriptions":
                    f"{base}/UserDefinedMessageSubscriptions.json",
                "user_defined_messages": f"{base}/UserDefinedMessages.json",
            },
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = api.handle(self.command, self.path, dict(self.headers), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="Twilio API"')
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        return Handler
