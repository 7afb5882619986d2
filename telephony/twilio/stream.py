"""The seam between the media WebSocket and the call logic.

A `CallHandler` gets the stream as an async iterator of typed messages plus a `send`
function for outbound frames (built with `protocol.media`, `mark`, `clear`). It never sees
the WebSocket: `MediaSocket` moves the bytes and parses them with `protocol.parse`.

The iterator ends after `stop`, when Twilio disconnects, or at the first frame that breaks
the protocol: one `parse` refuses, a binary frame (Twilio sends JSON as text), a second
`start`, a sequence number that does not go up, or a `start` that `admit` refuses (see
`tickets`: the stream must bring its call's one-time token) or none within
START_TIMEOUT_S of the handshake. Then `MediaSocket.error` holds
the `ProtocolError` and the gateway closes the socket with a policy-violation code. The
handler gets the `start` as `admit` returns it. `send` raises `StreamClosed` once the
socket is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from fastapi import WebSocket
from fastapi.websockets import WebSocketDisconnect, WebSocketState

from telephony.errors import TelephonyError
from telephony.twilio.protocol import InboundMessage, ProtocolError, Start, Stop, parse

Send = Callable[[str], Awaitable[None]]
Admit = Callable[[Start], Start]  # the start to pass on, or ProtocolError

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008  # a frame that breaks the protocol
CLOSE_INTERNAL = 1011  # the call handler failed
START_TIMEOUT_S = 10.0  # Twilio sends start right after connecting


class CallHandler(Protocol):
    """Runs one call over one media stream; returns when the call is over."""

    async def run(self, messages: AsyncIterator[InboundMessage], send: Send, /) -> None: ...


class StreamClosed(TelephonyError):
    """Sending on a media stream that is already closed (the caller hung up)."""


class MediaSocket:
    """A FastAPI WebSocket as an async iterator of inbound messages and a `send` function.

    Iterate from one task at a time; `send` may be called from any task (it is serialised).
    """

    def __init__(self, ws: WebSocket, admit: Admit) -> None:
        self._ws = ws
        self._admit = admit
        self._done = False
        self._send_lock = asyncio.Lock()
        self.error: ProtocolError | None = None
        self.start: Start | None = None
        self.received = 0  # valid messages so far
        self._sequence = 0  # the last sequence number seen
        self._start_by = asyncio.get_running_loop().time() + START_TIMEOUT_S

    @property
    def label(self) -> str:
        """Which stream this is, for logs (SIDs only, never the caller's number)."""
        if self.start is None:
            return "(before start)"
        return f"{self.start.stream_sid} (call {self.start.call_sid})"

    def __aiter__(self) -> MediaSocket:
        return self

    async def __anext__(self) -> InboundMessage:
        if self._done:
            raise StopAsyncIteration
        try:
            async with asyncio.timeout_at(None if self.start else self._start_by):
                frame = await self._ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            frame = {"type": "websocket.disconnect"}
        except TimeoutError:
            self.error = ProtocolError(f"no start within {START_TIMEOUT_S:g} s")
            self._done = True
            raise StopAsyncIteration from None
        if frame["type"] == "websocket.disconnect":
            self._done = True
            raise StopAsyncIteration
        try:
            message = self._check(frame.get("text"))
        except ProtocolError as exc:
            self.error = exc
            self._done = True
            raise StopAsyncIteration from None
        self.received += 1
        if isinstance(message, Start):
            self.start = message
        elif isinstance(message, Stop):
            self._done = True  # stop is the last message of a stream
        return message

    def _check(self, text: str | None) -> InboundMessage:
        """The frame as a message, if it fits the protocol and this stream so far."""
        if text is None:
            raise ProtocolError("binary frame (Twilio sends text)")
        try:
            message = parse(text)
        except ProtocolError:
            raise
        except Exception as exc:  # parse should raise nothing else; never let it through
            raise ProtocolError(f"unreadable frame ({type(exc).__name__})") from None
        if isinstance(message, Start) and self.start is not None:
            raise ProtocolError("a second start on one stream")
        number = message.sequence_number
        if number is not None:
            if number <= self._sequence:
                raise ProtocolError(f"sequence number {number} after {self._sequence}")
            self._sequence = number
        if isinstance(message, Start):
            return self._admit(message)
        return message

    @property
    def open(self) -> bool:
        return (self._ws.application_state == WebSocketState.CONNECTED
                and self._ws.client_state == WebSocketState.CONNECTED)

    async def send(self, text: str) -> None:
        """Send one outbound frame; `StreamClosed` when the socket is gone."""
        async with self._send_lock:
            if not self.open:
                raise StreamClosed("the media stream is closed")
            try:
                await self._ws.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError) as exc:
                raise StreamClosed("the media stream is closed") from exc

    async def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Close the socket if it is still open; never raises for an already-gone peer."""
        self._done = True
        async with self._send_lock:
            if self._ws.application_state != WebSocketState.CONNECTED:
                return
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self._ws.close(code=code, reason=reason[:120])


class DrainHandler:
    """The default handler: says nothing, consumes the stream until `stop`."""

    async def run(self, messages: AsyncIterator[InboundMessage], send: Send, /) -> None:
        async for message in messages:
            if isinstance(message, Stop):
                break
