"""The live server: the gateway app with calls, store, metrics, agent desk, a home page (GET /)
and retention.

`build_app(services)` gives the ASGI app; `serve(services)` runs it on uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Request

from dialogue.content.loader import Content
from dialogue.nlu.redact import failure
from telephony import retention
from telephony.app import create_app
from telephony.desk import install_desk
from telephony.gateway import Gateway
from telephony.home import install_home
from telephony.metrics import install_metrics
from telephony.services import Services
from telephony.twilio.protocol import MAX_MESSAGE_BYTES
from telephony.twilio.webhook import SIGNATURE_HEADER, signature_ok, signed_urls

log = logging.getLogger(__name__)

PURGE_EVERY_S = 6 * 3600


def _content_of(services: Services) -> Callable[[], Content]:
    return lambda: services.content


async def _close_left_sessions(services: Services) -> None:
    """Before the first call: close the dialogue sessions a stopped process left (all of
    them, as no call runs yet); half-given callback requests go to the desk."""
    try:
        await asyncio.to_thread(retention.close_sessions, services.dialogue.store,
                                _content_of(services), services.store, 0)
    except Exception as exc:
        log.error("closing left-over sessions failed: %s", failure(exc))


async def _purge_forever(services: Services) -> None:
    """Purge every store now and every few hours (`telephony.retention`)."""
    days = services.settings.retention_days
    while True:
        try:
            report = await asyncio.to_thread(retention.purge, services.store,
                                             services.dialogue.store, _content_of(services),
                                             days)
            log.info("retention: %s", report.line(days))
        except Exception as exc:
            log.error("retention purge failed: %s", failure(exc))
        await asyncio.sleep(PURGE_EVERY_S)


def build_app(services: Services, *, close_left_sessions: bool = True) -> FastAPI:
    """The live app. `close_left_sessions=False` for a second gateway on the same data
    (`loket call` in-process): the sessions there may belong to live calls."""
    gateway = Gateway(services)
    store = services.store

    def status(fields: dict[str, str]) -> Any:
        if store is None:
            return None
        call_sid, status = fields.get("CallSid", ""), fields.get("CallStatus", "")
        if not call_sid or not status:
            return None
        return asyncio.to_thread(store.add_event, call_sid, status, fields)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if close_left_sessions:
            await _close_left_sessions(services)
        purge = asyncio.create_task(_purge_forever(services))
        try:
            yield
        finally:
            purge.cancel()
            if services.hub is not None:
                services.hub.close()  # ends the desk's live streams so shutdown is quick
            with contextlib.suppress(asyncio.CancelledError):
                await purge

    app = create_app(services.settings, services.content, gateway, status_sink=status,
                     whisper=gateway.whispers.get, lifespan=lifespan)
    app.state.gateway = gateway
    install_calls_api(app, services)
    if services.metrics is not None:
        install_metrics(app, services.metrics)
    desk = store is not None and services.hub is not None
    if desk:
        secure = (services.settings.public_url or "").startswith("https://")
        install_desk(app, store, services.hub, secure_cookies=secure)
    names = [p.municipality.name for p in services.content.municipalities.values()]
    install_home(app, names, desk)
    return app


def install_calls_api(app: FastAPI, services: Services) -> None:
    """GET /api/calls/{call_sid}: one call's outcome and turns, for `loket call` and testers.

    Transcripts are personal data: the request must be signed like a Twilio webhook
    (`X-Twilio-Signature` over the URL, with the account's auth token).
    """
    settings, store = services.settings, services.store

    @app.get("/api/calls/{call_sid}")
    async def call_record(call_sid: str, request: Request) -> dict[str, Any]:
        if settings.validate_signature:
            urls = signed_urls(str(request.url), settings.public_url)
            if not signature_ok(settings.twilio_auth_token or "", urls, {},
                                request.headers.get(SIGNATURE_HEADER)):
                raise HTTPException(403, "invalid signature")
        if store is None:
            raise HTTPException(404, "no call store")
        call = await asyncio.to_thread(store.call, call_sid)
        if call is None:
            raise HTTPException(404, "no such call")
        turns = await asyncio.to_thread(store.turns, call_sid)
        return {
            "call": {"id": call.id, "municipality": call.municipality,
                     "status": call.status, "end_reason": call.end_reason,
                     "contained": call.contained, "outcome": call.outcome,
                     "ended": call.ended_at is not None},
            "turns": [{"role": t.role, "text": t.text, "intent": t.intent,
                       "confidence": t.confidence, "recognition_ms": t.recognition_ms,
                       "latency_ms": t.latency_ms, "cut_off": t.cut_off} for t in turns],
        }


def config(app: FastAPI, services: Services) -> uvicorn.Config:
    """uvicorn's settings; X-Forwarded-For/-Proto count only from `trusted_proxies`."""
    settings = services.settings
    proxies = list(settings.trusted_proxies)
    return uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None,
                          ws_max_size=MAX_MESSAGE_BYTES, proxy_headers=bool(proxies),
                          forwarded_allow_ips=proxies, timeout_graceful_shutdown=5)
