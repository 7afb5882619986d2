"""The agent desk's routes under /desk: login, the live list and 'afgehandeld'.

    GET  /desk/login                 login form (sets a one-use CSRF cookie)
    POST /desk/login                 username + password -> session cookie
    POST /desk/logout                end the session
    GET  /desk                       the page with the open handovers
    GET  /desk/events                server-sent events: the list again when it changes
    GET  /desk/handovers             the same list as JSON
    POST /desk/handovers/{id}/handled  mark a handover handled
    GET  /desk/static/desk.{js,css}  the page's script and stylesheet

Agents see only their municipalities' handovers; another municipality's handover answers
404 like an unknown one. Every POST needs the session's CSRF token (form field ``csrf`` or
header ``X-CSRF-Token``). Logs name agents, handover ids and municipality slugs only.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import asdict

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from dialogue import escalation
from dialogue.content.texts import MunicipalContent
from telephony.desk import assets, views
from telephony.desk.auth import MAX_S, Session, Sessions, fingerprint, tokens_match
from telephony.desk.hub import DeskHub
from telephony.desk.throttle import LoginThrottle
from telephony.errors import StoreError
from telephony.store.db import Store
from telephony.store.models import Agent

log = logging.getLogger(__name__)

COOKIE = "loket_desk"
LOGIN_COOKIE = "loket_desk_login"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_BYTES = 16 * 1024
FAIL_DELAY_S = 0.5  # extra wait after a wrong password
KEEPALIVE_S = 15.0  # the stream re-checks (and pings) at least this often
STREAM_S = 10 * 60  # then the browser reconnects (and the session is checked afresh)
RETRY_MS = 3000
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

MSG_FORM = "Het formulier is niet goed verstuurd. Laad de pagina opnieuw."
MSG_CSRF = "De pagina is verlopen. Laad de pagina opnieuw en probeer het nog eens."
MSG_LOGIN = "Uw gebruikersnaam of wachtwoord klopt niet."
MSG_EMPTY = "Vul uw gebruikersnaam en wachtwoord in."
MSG_NOT_IN = "U bent niet ingelogd. Log eerst in."
MSG_UNKNOWN = "Deze overdracht bestaat niet, of is niet voor uw gemeente."
MSG_DB = "De gegevens zijn nu niet bereikbaar. Probeer het over een paar minuten opnieuw."
LOGIN_NOTES = {"uit": "U bent uitgelogd.", "verlopen": "Uw sessie is verlopen. Log opnieuw in."}


def _secure(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _client(request: Request) -> str:
    """The client's address: the peer's, or X-Forwarded-For's when the server trusts the
    peer as a proxy (uvicorn does that, see `LOKET_TRUSTED_PROXIES`)."""
    return request.client.host if request.client else "?"


def _wait_message(seconds: int) -> str:
    if seconds < 60:
        when = f"{seconds} seconden"
    else:
        minutes = round(seconds / 60)
        when = "1 minuut" if minutes == 1 else f"{minutes} minuten"
    return f"U heeft te vaak een verkeerd wachtwoord gebruikt. Probeer het over {when} opnieuw."


class Desk:
    """State of the desk: store, hub, sessions and login throttling."""

    def __init__(self, app: FastAPI, store: Store, hub: DeskHub, secure: bool) -> None:
        self.app = app
        self.store = store
        self.hub = hub
        self.secure = secure
        self.sessions = Sessions()
        self.throttle = LoginThrottle()

    # -- responses -----------------------------------------------------------------------

    def html(self, text: str, status: int = 200) -> Response:
        return _secure(HTMLResponse(text, status))

    def error(self, request: Request, status: int, message: str,
              headers: dict[str, str] | None = None) -> Response:
        """One clear error, in Dutch; JSON for script requests."""
        if _wants_json(request):
            response: Response = JSONResponse({"error": message}, status, headers=headers)
        else:
            response = HTMLResponse(views.render_error(status, message), status, headers=headers)
        return _secure(response)

    def redirect(self, url: str) -> Response:
        return _secure(RedirectResponse(url, 303))

    def set_cookie(self, response: Response, name: str, value: str, path: str,
                   max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path=path, secure=self.secure,
                            httponly=True, samesite="strict")

    def drop_cookie(self, response: Response, name: str, path: str) -> None:
        response.delete_cookie(name, path=path, secure=self.secure, httponly=True,
                               samesite="strict")

    # -- requests ------------------------------------------------------------------------

    async def form(self, request: Request) -> dict[str, str] | None:
        """The POSTed text fields, or None when the form is missing, too big or unreadable."""
        length = request.headers.get("content-length", "")
        if not length.isdigit() or int(length) > MAX_FORM_BYTES:
            return None
        try:
            form = await request.form(max_files=0, max_fields=20)
        except Exception:  # bad encoding, a file part, a broken multipart body
            return None
        return {k: v for k, v in form.items() if isinstance(v, str)}

    async def current(self, request: Request) -> tuple[Session, Agent] | None:
        """The logged-in agent, or None; ends sessions of removed agents or old passwords."""
        token = request.cookies.get(COOKIE)
        session = self.sessions.get(token)
        if session is None:
            return None
        agent = await run_in_threadpool(self.store.agent, session.username)
        if agent is None or not tokens_match(fingerprint(agent.password_hash),
                                             session.fingerprint):
            self.sessions.end(token)
            return None
        return session, agent

    async def logged_in(self, request: Request, what: str) -> tuple[Session, Agent] | Response:
        """The logged-in agent, or the error answer (401 not logged in, 503 no database)."""
        try:
            state = await self.current(request)
        except StoreError as exc:
            log.warning("desk %s: %s", what, exc)
            return self.error(request, 503, MSG_DB)
        if state is None:
            return self.error(request, 401, MSG_NOT_IN)
        return state

    # -- data ----------------------------------------------------------------------------

    def _pack(self, slug: str) -> MunicipalContent | None:
        content = getattr(self.app.state, "content", None)
        return getattr(content, "municipalities", {}).get(slug) if content else None

    def _place(self, slug: str) -> tuple[str, str]:
        """A municipality's name and time zone, from the content packs when known."""
        pack = self._pack(slug)
        if pack is None:
            return slug, "Europe/Amsterdam"
        return pack.municipality.name, pack.municipality.timezone

    def _topic_title(self, slug: str, topic: str | None) -> str | None:
        """The topic's Dutch title from the municipality's content pack, when known."""
        pack = self._pack(slug)
        if pack is None or topic not in pack.topics:
            return None
        return escalation.topic_label(pack.topics[topic].title)

    def names(self, municipalities: list[str]) -> list[str]:
        return [self._place(slug)[0] for slug in municipalities]

    def items(self, municipalities: list[str]) -> list[views.Item]:
        """Open handovers with the caller's number and transcript (runs in a thread)."""
        callers: dict[str, str | None] = {}
        items = []
        for row in self.store.open_handovers(list(municipalities)):
            caller = None
            transcript = list(row.transcript or [])
            if row.call_id:
                if row.call_id not in callers:
                    call = self.store.call(row.call_id)
                    callers[row.call_id] = call.caller if call else None
                caller = callers[row.call_id]
                if not transcript and row.purged_at is None:
                    transcript = [asdict(t.line()) for t in self.store.turns(row.call_id)]
            name, zone = self._place(row.municipality)
            items.append(views.Item(
                id=row.id, kind=row.kind, reason=row.reason, municipality=row.municipality,
                municipality_name=name, caller=caller, summary=row.summary or "",
                topic=row.topic, data=dict(row.data or {}), transcript=transcript,
                created_at=row.created_at, timezone=zone,
                topic_title=self._topic_title(row.municipality, row.topic)))
        return items

    async def load(self, municipalities: list[str]) -> list[views.Item]:
        return await run_in_threadpool(self.items, municipalities)

    async def stream(self, request: Request, agent: Agent) -> AsyncIterator[str]:
        """Server-sent events: the list at once, then whenever it changes."""
        started = time.monotonic()
        yield f"retry: {RETRY_MS}\n\n"
        last = None
        with self.hub.subscribe(agent.municipalities) as sub:
            while not self.hub.closed:
                state = await self.current(request)
                if state is None:
                    yield "event: logout\ndata: \n\n"
                    return
                session, agent = state
                self.hub.retarget(sub, agent.municipalities)
                try:
                    fragment = views.render_list(await self.load(agent.municipalities),
                                                 session.csrf)
                except StoreError as exc:
                    log.warning("desk stream for agent %s: %s", agent.username, exc)
                    fragment = None
                if fragment is not None and fragment != last:
                    last = fragment
                    yield "event: handovers\n" + "".join(
                        f"data: {line}\n" for line in fragment.splitlines()) + "\n"
                else:
                    yield ": ping\n\n"
                if time.monotonic() - started > STREAM_S:
                    return
                await sub.wait(KEEPALIVE_S)


def install_desk(app: FastAPI, store: Store, hub: DeskHub, *,
                 secure_cookies: bool = False) -> None:
    """Add the agent desk's routes (/desk...) to `app`.

    Cookies get the Secure flag when `secure_cookies` is set or the app's settings have an
    https public URL. Call `hub.close()` on shutdown so live streams end at once.
    """
    settings = getattr(app.state, "settings", None)
    public = getattr(settings, "public_url", None) or ""
    desk = Desk(app, store, hub, secure_cookies or public.startswith("https://"))
    app.state.desk = desk
    router = APIRouter(prefix=views.PREFIX)

    @router.get("/static/desk.js", include_in_schema=False)
    async def script() -> Response:
        response = Response(assets.JS, media_type="text/javascript; charset=utf-8")
        response.headers["Cache-Control"] = "no-cache"
        return _secure(response)

    @router.get("/static/desk.css", include_in_schema=False)
    async def stylesheet() -> Response:
        response = Response(assets.CSS, media_type="text/css; charset=utf-8")
        response.headers["Cache-Control"] = "no-cache"
        return _secure(response)

    @router.get("/login", include_in_schema=False)
    async def login_page(request: Request) -> Response:
        try:
            if await desk.current(request) is not None:
                return desk.redirect(views.PREFIX)
        except StoreError:
            pass  # show the form; logging in will report the problem
        note = next((text for key, text in LOGIN_NOTES.items() if key in request.query_params),
                    None)
        return login_form(note)

    def login_form(message: str | None, status: int = 200, username: str = "",
                   token: str | None = None, headers: dict[str, str] | None = None) -> Response:
        token = token or secrets.token_urlsafe(32)
        response = desk.html(views.render_login(token, message=message, username=username),
                             status)
        response.headers.update(headers or {})
        desk.set_cookie(response, LOGIN_COOKIE, token, views.LOGIN, 3600)
        return response

    @router.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await desk.form(request)
        if form is None:
            return desk.error(request, 400, MSG_FORM)
        cookie = request.cookies.get(LOGIN_COOKIE) or ""
        if not cookie or not tokens_match(form.get("csrf"), cookie):
            log.warning("desk login refused: missing or wrong CSRF token")
            return desk.error(request, 403, MSG_CSRF)
        username = form.get("username", "").strip()
        password = form.get("password", "")
        if not username or not password or len(username) > 64 or len(password) > 1024:
            return login_form(MSG_EMPTY, 400, username[:64], cookie)
        client = _client(request)
        wait = desk.throttle.retry_after(username, client)
        if wait:
            log.warning("desk login throttled after repeated failures")
            return login_form(_wait_message(wait), 429, username, cookie,
                              {"Retry-After": str(wait)})
        try:
            agent = await run_in_threadpool(store.verify_agent, username, password)
        except StoreError as exc:
            log.warning("desk login: %s", exc)
            return desk.error(request, 503, MSG_DB)
        if agent is None:
            desk.throttle.failed(username, client)
            log.info("desk login failed")  # the name may be a mistyped password: not logged
            await asyncio.sleep(FAIL_DELAY_S)
            return login_form(MSG_LOGIN, 401, username, cookie)
        desk.throttle.succeeded(username, client)
        desk.sessions.end(request.cookies.get(COOKIE))  # no session fixation
        token, _session = desk.sessions.create(agent.username, agent.password_hash)
        log.info("desk login: agent %s", agent.username)
        response = desk.redirect(views.PREFIX)
        desk.set_cookie(response, COOKIE, token, views.PREFIX, MAX_S)
        desk.drop_cookie(response, LOGIN_COOKIE, views.LOGIN)
        return response

    @router.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        token = request.cookies.get(COOKIE)
        session = desk.sessions.get(token, touch=False)
        if session is not None:
            form = await desk.form(request)
            given = (form or {}).get("csrf") or request.headers.get(CSRF_HEADER)
            if not tokens_match(given, session.csrf):
                return desk.error(request, 403, MSG_CSRF)
            desk.sessions.end(token)
            log.info("desk logout: agent %s", session.username)
        response = desk.redirect(f"{views.LOGIN}?uit")
        desk.drop_cookie(response, COOKIE, views.PREFIX)
        return response

    @router.get("", include_in_schema=False)
    async def page(request: Request) -> Response:
        try:
            state = await desk.current(request)
            if state is None:
                return desk.redirect(views.LOGIN)
            session, agent = state
            items = await desk.load(agent.municipalities)
        except StoreError as exc:
            log.warning("desk page: %s", exc)
            return desk.error(request, 503, MSG_DB)
        return desk.html(views.render_desk(agent.username, desk.names(agent.municipalities),
                                           session.csrf, items))

    @router.get("/handovers", include_in_schema=False)
    async def handovers(request: Request) -> Response:
        try:
            state = await desk.current(request)
            if state is None:
                return desk.error(request, 401, MSG_NOT_IN)
            items = await desk.load(state[1].municipalities)
        except StoreError as exc:
            log.warning("desk list: %s", exc)
            return desk.error(request, 503, MSG_DB)
        return _secure(JSONResponse({"handovers": [item.to_json() for item in items]}))

    @router.post("/handovers/{handover_id}/handled", include_in_schema=False)
    async def handled(request: Request, handover_id: str) -> Response:
        state = await desk.logged_in(request, "handled")
        if isinstance(state, Response):
            return state
        session, agent = state
        form = await desk.form(request)
        if form is None:
            return desk.error(request, 400, MSG_FORM)
        given = form.get("csrf") or request.headers.get(CSRF_HEADER)
        if not tokens_match(given, session.csrf):
            log.warning("desk handled refused for agent %s: missing or wrong CSRF token",
                        agent.username)
            return desk.error(request, 403, MSG_CSRF)
        if not handover_id.isdigit() or len(handover_id) > 12:
            return desk.error(request, 404, MSG_UNKNOWN)
        number = int(handover_id)
        try:
            row = await run_in_threadpool(store.handover, number)
            if row is None or row.municipality not in agent.municipalities:
                log.warning("desk handled refused: handover %d is not for agent %s",
                            number, agent.username)
                return desk.error(request, 404, MSG_UNKNOWN)
            row = await run_in_threadpool(store.mark_handled, number, agent.username)
        except StoreError as exc:
            log.warning("desk handled %d: %s", number, exc)
            return desk.error(request, 503, MSG_DB)
        log.info("handover %d (%s) handled by agent %s", number, row.municipality,
                 agent.username)
        hub.notify(row.municipality)
        if _wants_json(request):
            return _secure(JSONResponse({"id": number, "status": row.status,
                                         "handled_by": row.handled_by}))
        return desk.redirect(views.PREFIX)

    @router.api_route("/events", methods=["GET", "HEAD"], include_in_schema=False)
    async def events(request: Request) -> Response:
        state = await desk.logged_in(request, "events")
        if isinstance(state, Response):
            return state
        if request.method == "HEAD":
            return _secure(Response(status_code=204))
        headers = {"X-Accel-Buffering": "no"}
        return _secure(StreamingResponse(desk.stream(request, state[1]),
                                         media_type="text/event-stream", headers=headers))

    app.include_router(router)

