"""One-time tokens that bind a media stream to the voice webhook that asked for it.

Twilio signs the media WebSocket's handshake over the stream URL only, which is the same for
every call: a captured handshake signature would open any number of streams, for any call.
The voice webhook is signed over the call's own fields, so the gateway keeps what it said
(call SID, municipality, caller, called) under a fresh, unguessable token and puts only that
token in the TwiML, as a `<Parameter>` (Twilio drops query strings from stream URLs). The
stream's `start` brings it back in `customParameters`; `admit` then

  - uses the token up, whatever happens next (one attempt per token),
  - refuses it when missing, unknown, used or older than TICKET_TTL_S,
  - refuses it when the start names another call SID than the webhook did,
  - refuses a second stream for a call SID that already had one, and
  - gives the start the webhook's record as its parameters, never what the stream sent.

Bounded: a repeated webhook for a call that has a pending token gets the same token, expired
tokens are dropped, past `max_pending` the oldest goes, and only the last `max_calls` call
SIDs with a stream are remembered. Everything lives in this process's memory, which is
right for one gateway process; with several, this record belongs in the shared store.
Use from the event loop only (no locking).
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from telephony.twilio.protocol import ProtocolError, Start

log = logging.getLogger(__name__)

# Twilio opens the stream right after it reads the TwiML, within a second or two; a minute
# leaves room for a slow network without leaving a token lying around for long.
TICKET_TTL_S = 60.0
MAX_PENDING = 1000  # tokens waiting for their stream: far more calls than a gateway takes
MAX_CALLS = 10_000  # call SIDs with a stream, remembered to refuse a second one
TOKEN_PARAMETER = "token"


class StreamRefused(ProtocolError):
    """A stream whose start does not bring a valid token for its call."""


@dataclass(frozen=True, slots=True)
class CallTicket:
    """What the signed voice webhook said about a call."""

    call_sid: str
    municipality: str
    caller: str | None
    called: str | None

    def parameters(self) -> dict[str, str]:
        """The call as stream parameters (the names the call handler reads)."""
        return {"call_id": self.call_sid, "municipality": self.municipality,
                "caller": self.caller or "", "called": self.called or ""}


class StreamTickets:
    def __init__(self, ttl_s: float = TICKET_TTL_S, max_pending: int = MAX_PENDING,
                 max_calls: int = MAX_CALLS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._max_pending, self._max_calls = ttl_s, max_pending, max_calls
        self._clock = clock
        self._pending: dict[str, tuple[float, CallTicket]] = {}  # oldest first
        self._token_of: dict[str, str] = {}  # call SID -> its pending token
        self._streamed: dict[str, None] = {}  # call SIDs that had a stream, oldest first

    def __len__(self) -> int:
        """Tokens waiting for their stream."""
        return len(self._pending)

    @property
    def streamed(self) -> int:
        """Call SIDs remembered as having had a stream."""
        return len(self._streamed)

    def issue(self, ticket: CallTicket) -> str:
        """The token for the stream of this (signed) webhook's call."""
        self._expire()
        token = self._token_of.get(ticket.call_sid)
        if token is not None:  # Twilio asked again before the stream opened
            return token
        if len(self._pending) >= self._max_pending:
            log.warning("%d media stream tokens pending: dropping the oldest", len(self._pending))
            self._drop(next(iter(self._pending)))
        token = secrets.token_urlsafe(32)
        self._pending[token] = (self._clock() + self._ttl, ticket)
        self._token_of[ticket.call_sid] = token
        return token

    def redeem(self, token: str, call_sid: str) -> CallTicket:
        """The webhook's record for `token`, used up; `StreamRefused` when it may not stream."""
        self._expire()
        where = f"stream for call {call_sid} refused"
        if not token:
            raise StreamRefused(f"{where}: no token")
        entry = self._pending.get(token)
        if entry is None:
            raise StreamRefused(f"{where}: unknown, used or expired token")
        self._drop(token)
        ticket = entry[1]
        if ticket.call_sid != call_sid:
            raise StreamRefused(f"{where}: the token is for another call")
        if call_sid in self._streamed:
            raise StreamRefused(f"{where}: the call already has a stream")
        self._streamed[call_sid] = None
        if len(self._streamed) > self._max_calls:
            del self._streamed[next(iter(self._streamed))]
        return ticket

    def admit(self, start: Start) -> Start:
        """`start` with the webhook's record as its parameters, or `StreamRefused`."""
        token = start.custom_parameters.get(TOKEN_PARAMETER, "")
        ticket = self.redeem(token, start.call_sid)
        return dataclasses.replace(start, custom_parameters=ticket.parameters())

    def _expire(self) -> None:
        now = self._clock()
        while self._pending:
            token, (expires, _) = next(iter(self._pending.items()))
            if expires > now:
                break
            self._drop(token)

    def _drop(self, token: str) -> None:
        _, ticket = self._pending.pop(token)
        if self._token_of.get(ticket.call_sid) == token:
            del self._token_of[ticket.call_sid]
