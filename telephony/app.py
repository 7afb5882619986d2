"""The gateway's web app: Twilio webhooks, the media WebSocket and a health check.

    POST /twilio/voice   incoming call -> TwiML <Connect><Stream> to /twilio/media, with a
                         one-time token for the call as its only <Parameter>
    POST /twilio/status  call status callbacks -> `status_sink` (or a redacted log line)
    POST /twilio/whisper/{token}  what the agent hears on pick-up during a transfer
    POST /twilio/after-dial       a transfer's <Dial> ended: hang up, or say sorry first
    GET  /health         {"status": "ok"}
    WS   /twilio/media   Media Streams -> `CallHandler.run(messages, send)`, once the
                         stream's start has brought back its call's token (`tickets`)

Webhooks and the media WebSocket handshake must carry a valid `X-Twilio-Signature` (403
otherwise) unless the settings turn checking off. A webhook body is counted while it
streams in and refused (413) once over 64 KB, before anything is parsed or checked. Each
media socket runs on its own: a malformed frame or a failing handler closes that socket
with one redacted log line and touches no other call. The handshake signature covers only
the stream URL, the same for every call; the token binds a stream to the signed webhook
of its call, and the handler gets that webhook's municipality and caller, not the
stream's.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, HTTPException, Request, Response, WebSocket
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect
from starlette.types import Message

from dialogue.content.loader import Content
from dialogue.nlu.redact import failure, redact
from telephony.errors import TelephonyError
from telephony.settings import Settings
from telephony.twilio.stream import (
    CLOSE_INTERNAL,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CallHandler,
    DrainHandler,
    MediaSocket,
    StreamClosed,
)
from telephony.twilio.tickets import TOKEN_PARAMETER, CallTicket, StreamTickets
from telephony.twilio.webhook import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    after_dial_twiml,
    public_url,
    signature_ok,
    signed_urls,
    unknown_number_twiml,
    voice_twiml,
    websocket_url,
    whisper_twiml,
)

log = logging.getLogger(__name__)

Lifespan = Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]
StatusSink = Callable[[dict[str, str]], Awaitable[None] | None]
WhisperText = Callable[[str], str | None]  # token -> summary, None when unknown

VOICE_PATH = "/twilio/voice"
STATUS_PATH = "/twilio/status"
MEDIA_PATH = "/twilio/media"
WHISPER_PATH = "/twilio/whisper"
AFTER_DIAL_PATH = "/twilio/after-dial"
HARD_STOP_GRACE_S = 30  # the call loop ends calls politely; this is only the backstop
MAX_FORM_FIELDS = 200  # Twilio sends a few dozen
MAX_FORM_BYTES = 64 * 1024
XML = "application/xml"
CLOSE = {"Connection": "close"}  # stop reading the rest of a refused upload


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def capped_body(request: Request, limit: int) -> bytes:
    """The request body, counted as it streams in: 413 as soon as it is over `limit` bytes,
    whatever Content-Length says (or when it is missing, as with chunked uploads), so a
    large upload is never held in memory. The 413 closes the connection."""
    declared = request.headers.get("content-length")
    too_large = declared is not None and (not declared.isdigit() or int(declared) > limit)
    body = bytearray()
    if not too_large:
        try:
            async with contextlib.aclosing(request.stream()) as stream:
                async for chunk in stream:
                    body += chunk
                    if len(body) > limit:
                        too_large = True
                        break
        except ClientDisconnect:
            raise HTTPException(400, "request body cut off", headers=CLOSE) from None
    if too_large:
        log.warning("refused %s: body over %d bytes", request.url.path, limit)
        raise HTTPException(413, "request too large", headers=CLOSE)
    return bytes(body)


def create_app(settings: Settings, content: Content, on_call: CallHandler | None = None, *,
               status_sink: StatusSink | None = None, whisper: WhisperText | None = None,
               lifespan: Lifespan | None = None,
               tickets: StreamTickets | None = None) -> FastAPI:
    """The gateway app. `on_call` runs each media stream (default: consume until stop)."""
    if settings.validate_signature and not settings.twilio_auth_token:
        raise TelephonyError(
            "TWILIO_AUTH_TOKEN is needed to check webhook signatures "
            "(LOKET_VALIDATE_SIGNATURE=false turns checking off, for development only)")
    handler: CallHandler = on_call if on_call is not None else DrainHandler()
    app = FastAPI(title="Loket gateway", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.content = content
    streams = tickets if tickets is not None else StreamTickets()
    app.state.tickets = streams

    async def verified_form(request: Request) -> FormData:
        """The POST fields, after checking Twilio's signature over them."""
        body = await capped_body(request, MAX_FORM_BYTES)

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            form = await Request(request.scope, replay).form(max_files=0,
                                                             max_fields=MAX_FORM_FIELDS)
        except HTTPException:
            raise
        except Exception:  # multipart or encoding trouble: not a Twilio request
            raise HTTPException(400, "unreadable form") from None
        if settings.validate_signature:
            urls = signed_urls(str(request.url), settings.public_url)
            ok = signature_ok(settings.twilio_auth_token or "", urls, form,
                              request.headers.get(SIGNATURE_HEADER),
                              request.headers.get(SIGNATURE_SETTINGS_HEADER))
            if not ok:
                log.warning("rejected %s: missing or bad Twilio signature", request.url.path)
                raise HTTPException(403, "invalid signature")
        return form

    def stream_url(request: Request) -> str:
        if settings.public_url:
            return websocket_url(public_url(settings.public_url, MEDIA_PATH))
        return websocket_url(str(request.url_for("twilio_media")))

    @app.post(VOICE_PATH)
    async def twilio_voice(request: Request) -> Response:
        form = await verified_form(request)
        call_sid = _field(form, "CallSid")
        if not call_sid:
            raise HTTPException(400, "CallSid is missing")
        called = _field(form, "To")
        pack = content.for_number(called) if called else None
        if pack is None:
            log.warning("call %s to unknown number %s", redact(call_sid), redact(called))
            return Response(unknown_number_twiml(), media_type=XML)
        log.info("call %s for %s: connecting the media stream", redact(call_sid), pack.slug)
        token = streams.issue(CallTicket(call_sid, pack.slug, _field(form, "From") or None,
                                         called))
        return Response(voice_twiml(stream_url(request), {TOKEN_PARAMETER: token}),
                        media_type=XML)

    @app.post(STATUS_PATH)
    async def twilio_status(request: Request) -> Response:
        form = await verified_form(request)
        fields = {name: value for name, value in form.multi_items() if isinstance(value, str)}
        if status_sink is None:
            log.info("call %s status %s, %s s", redact(fields.get("CallSid", "?")),
                     redact(fields.get("CallStatus", "?")),
                     redact(fields.get("CallDuration", "-")))
            return Response(status_code=204)
        try:
            result = status_sink(fields)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            log.error("status sink failed for call %s: %s", redact(fields.get("CallSid", "?")),
                      failure(exc))
            return Response(status_code=500)
        return Response(status_code=204)

    @app.post(WHISPER_PATH + "/{token}")
    async def twilio_whisper(token: str, request: Request) -> Response:
        await verified_form(request)
        summary = whisper(token) if whisper is not None else None
        if summary is None:
            log.warning("whisper for an unknown or expired transfer")
        return Response(whisper_twiml(summary or ""), media_type=XML)

    @app.post(AFTER_DIAL_PATH)
    async def twilio_after_dial(request: Request) -> Response:
        form = await verified_form(request)
        return Response(after_dial_twiml(_field(form, "DialCallStatus")), media_type=XML)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    def stream_signed(ws: WebSocket) -> bool:
        """Twilio signs the WebSocket handshake too: the stream URL, no parameters."""
        urls = [str(ws.url)]
        if settings.public_url:
            urls.insert(0, websocket_url(public_url(settings.public_url, MEDIA_PATH)))
        return signature_ok(settings.twilio_auth_token or "", urls, {},
                            ws.headers.get(SIGNATURE_HEADER),
                            ws.headers.get(SIGNATURE_SETTINGS_HEADER))

    @app.websocket(MEDIA_PATH, name="twilio_media")
    async def twilio_media(ws: WebSocket) -> None:
        if settings.validate_signature and not stream_signed(ws):
            log.warning("rejected media stream: missing or bad Twilio signature")
            await ws.close(code=CLOSE_POLICY)  # before accept: the handshake gets a 403
            return
        await ws.accept()
        socket = MediaSocket(ws, streams.admit)
        code = CLOSE_NORMAL
        deadline = asyncio.timeout(settings.max_call_seconds + HARD_STOP_GRACE_S)
        try:
            async with deadline:
                await handler.run(socket, socket.send)
        except StreamClosed:
            pass  # the caller hung up while we were talking
        except Exception as exc:  # one call's failure must not reach the server
            if isinstance(exc, TimeoutError) and deadline.expired():
                log.warning("media stream %s: over the call time limit, closing", socket.label)
            else:
                code = CLOSE_INTERNAL
                log.error("call handler failed on %s: %s", socket.label, failure(exc))
        if socket.error is not None:
            code = CLOSE_POLICY
            log.warning("media stream %s closed: %s", socket.label, redact(str(socket.error)))
        await socket.close(code, "protocol error" if code == CLOSE_POLICY else "")

    return app
