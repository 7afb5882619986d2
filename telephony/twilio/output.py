"""The call loop's `Output` over a Twilio media stream.

Audio, marks and clears become Media Streams frames. A hang-up needs no API call: the
gateway closes the stream, Twilio moves past `<Connect>` and, with nothing left in the
TwiML, ends the call. A transfer is delegated to the gateway (it needs Twilio's REST API).
Once the caller has hung up, frames are dropped quietly instead of failing the turn.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from dialogue.turns import Handover
from telephony.twilio import protocol
from telephony.twilio.stream import Send, StreamClosed

log = logging.getLogger(__name__)

Transfer = Callable[[Handover | None], Awaitable[bool]]


class TwilioOutput:
    def __init__(self, send: Send, stream_sid: str, transfer: Transfer) -> None:
        self._send, self._sid, self._transfer = send, stream_sid, transfer
        self.closed = False  # the far end has gone
        self.hung_up = False  # Loket ended the call
        self.transferred = False
        self.frames = 0

    async def _put(self, text: str) -> None:
        if self.closed:
            return
        try:
            await self._send(text)
        except StreamClosed:
            self.closed = True
            log.debug("stream %s: closed by the far end, dropping output", self._sid)

    async def send_audio(self, ulaw: bytes) -> None:
        self.frames += 1
        await self._put(protocol.media(self._sid, ulaw))

    async def send_mark(self, name: str) -> None:
        await self._put(protocol.mark(self._sid, name))

    async def clear(self) -> None:
        await self._put(protocol.clear(self._sid))

    async def transfer(self, handover: Handover | None) -> bool:
        if self.closed:
            return False
        self.transferred = await self._transfer(handover)
        return self.transferred

    async def hangup(self) -> None:
        self.hung_up = True
