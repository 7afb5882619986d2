"""Live-call control through Twilio's REST API (the twilio SDK): redirect and hang up.

`TwilioRest(sid, token, api_url=...)` sends every request to `api_url` instead of
https://api.twilio.com: only scheme and host change, the path, auth and form body stay what
the SDK sends. Every failure becomes one redacted `TwilioApiError` line; the async methods
run the blocking SDK call in a worker thread so the gateway's event loop never waits.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from dialogue.nlu.redact import redact
from telephony.errors import TwilioApiError
from telephony.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.twilio.com"
CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
MAX_TWIML_CHARS = 4000  # Twilio's limit for the Twiml parameter


class _BaseUrlHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, with scheme and host of every URL replaced by `base`."""

    def __init__(self, base: str, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        parts = urlsplit(base)
        self._scheme, self._netloc = parts.scheme, parts.netloc

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        url = urlunsplit((self._scheme, self._netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


def _one_line(text: str) -> str:
    return redact(" ".join(str(text).split()))


class TwilioRest:
    """Redirect or end a live call. Blocking methods for threads, `a...` ones for asyncio."""

    def __init__(self, account_sid: str, auth_token: str, *, api_url: str | None = None,
                 timeout_s: float = 10) -> None:
        if not account_sid or not auth_token:
            raise TwilioApiError("Twilio API: account SID and auth token are needed")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        base = (api_url or DEFAULT_API_URL).rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise TwilioApiError(f"Twilio API: not an http(s) base URL: {base!r}")
        self.api_url = base
        self.timeout_s = timeout_s
        # the plain client keeps the SDK's edge/region handling (TWILIO_EDGE, TWILIO_REGION)
        http = (_BaseUrlHttpClient(base, timeout=timeout_s) if api_url
                else TwilioHttpClient(timeout=timeout_s))
        self._client = Client(account_sid, auth_token, http_client=http)

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioRest | None:
        """A client for the configured account, or None without SID or auth token."""
        if not settings.twilio_account_sid or not settings.twilio_auth_token:
            return None
        return cls(settings.twilio_account_sid, settings.twilio_auth_token,
                   api_url=settings.twilio_api_url)

    def redirect(self, call_sid: str, twiml: str) -> None:
        """Replace what the live call is doing with `twiml` (e.g. a transfer)."""
        if not twiml.strip():
            raise ValueError("twiml is empty")
        if len(twiml) > MAX_TWIML_CHARS:
            raise ValueError(f"twiml is {len(twiml)} characters, Twilio takes {MAX_TWIML_CHARS}")
        self._update(call_sid, "redirect", twiml=twiml)
        log.info("Twilio API: call %s redirected", call_sid)

    def hangup(self, call_sid: str) -> None:
        """End the live call."""
        self._update(call_sid, "hang up", status="completed")
        log.info("Twilio API: call %s hung up", call_sid)

    async def aredirect(self, call_sid: str, twiml: str) -> None:
        await asyncio.to_thread(self.redirect, call_sid, twiml)

    async def ahangup(self, call_sid: str) -> None:
        await asyncio.to_thread(self.hangup, call_sid)

    def _update(self, call_sid: str, action: str, **fields: str) -> None:
        if not CALL_SID.fullmatch(call_sid):
            raise ValueError(f"not a Twilio call SID: {_one_line(call_sid)[:40]!r}")
        try:
            self._client.calls(call_sid).update(**fields)
        except TwilioRestException as exc:
            raise TwilioApiError(self._rest_problem(exc, call_sid, action)) from None
        except TwilioException as exc:  # e.g. an RFC 9457 problem answer
            status = getattr(exc, "status", "?")
            code = getattr(exc, "code", "?")
            detail = getattr(exc, "detail", None) or getattr(exc, "title", "") or "error"
            raise TwilioApiError(_one_line(
                f"Twilio API: {action} call {call_sid} failed: {detail} "
                f"({status}, code {code})")) from None
        except requests.Timeout:
            raise TwilioApiError(
                f"Twilio API: no answer from {self.api_url} within {self.timeout_s:g} s "
                f"({action} call {call_sid})") from None
        except requests.RequestException as exc:
            kind = type(exc).__name__
            raise TwilioApiError(
                f"Twilio API: cannot reach {self.api_url} ({kind}; {action} call {call_sid})",
            ) from None
        except ValueError:  # a 2xx answer that is not JSON
            raise TwilioApiError(
                f"Twilio API: unreadable answer from {self.api_url} "
                f"({action} call {call_sid})") from None

    @staticmethod
    def _rest_problem(exc: TwilioRestException, call_sid: str, action: str) -> str:
        where = f"({exc.status}, code {exc.code})"
        if exc.status == 404:
            return f"Twilio API: call {call_sid} not found {where}"
        if exc.status == 401:
            return ("Twilio API: authentication failed, check TWILIO_ACCOUNT_SID and "
                    f"TWILIO_AUTH_TOKEN {where}")
        message = str(exc.msg).split(": ", 1)[-1] or "error"  # drop "Unable to update record"
        return _one_line(f"Twilio API: {action} call {call_sid} failed: {message} {where}")
