"""Twilio's HTTP side: webhook signatures and the TwiML answers. No web framework here.

Twilio signs each webhook (`X-Twilio-Signature`) over the URL *it* requested plus the POST
fields. Behind a proxy that URL is the public one, not what the server sees, so the URLs
to check are built by `signed_urls` from the configured public base URL and the request URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.twiml.voice_response import VoiceResponse

SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"

# What a caller hears on a number no municipality claims (Dutch: the caller hears it).
UNKNOWN_NUMBER_NL = (
    "Excuses, dit nummer is niet bij ons bekend. "
    "Bel het algemene nummer van uw gemeente, of kijk op de website van uw gemeente. "
    "Tot ziens."
)
LANGUAGE = "nl-NL"


def public_url(base: str, path: str, query: str = "") -> str:
    """`path` (and `query`) of this app under the public base URL."""
    url = base.rstrip("/") + "/" + path.lstrip("/")
    return f"{url}?{query}" if query else url


def signed_urls(request_url: str, public_base: str | None) -> list[str]:
    """The URLs Twilio may have signed: the public one first (when configured), then ours."""
    urls: list[str] = []
    if public_base:
        parts = urlsplit(request_url)
        urls.append(public_url(public_base, parts.path, parts.query))
    if request_url not in urls:
        urls.append(request_url)
    return urls


def signature_ok(auth_token: str, urls: Iterable[str], params: Mapping[str, Any],
                 signature: str | None, settings_header: str | None = None) -> bool:
    """Whether `signature` signs `params` for one of `urls` (the SDK checks with and without
    the default port). `params` may be a multi-dict; a missing signature never passes."""
    if not signature or not auth_token:
        return False
    validator = RequestValidator(auth_token)
    algorithm = get_signature_algorithm(settings_header)
    return any(validator.validate(url, params, signature, algorithm) for url in urls)


def websocket_url(http_url: str) -> str:
    """The ws(s):// form of an http(s):// URL (https -> wss, http -> ws)."""
    parts = urlsplit(http_url)
    scheme = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}.get(parts.scheme)
    if scheme is None:
        raise ValueError(f"not an http(s) URL: {http_url!r}")
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))


def voice_twiml(stream_url: str, parameters: Mapping[str, str]) -> str:
    """`<Connect><Stream>`: a bidirectional media stream, `parameters` as `<Parameter>`s
    (they come back in the stream's `start.customParameters`)."""
    response = VoiceResponse()
    stream = response.connect().stream(url=stream_url)
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    return str(response)


def say_and_hang_up(text: str, language: str = LANGUAGE) -> str:
    """Say one Dutch text, then hang up."""
    response = VoiceResponse()
    response.say(text, language=language)
    response.hangup()
    return str(response)


def unknown_number_twiml() -> str:
    """The answer for a called number that belongs to no municipality."""
    return say_and_hang_up(UNKNOWN_NUMBER_NL)


# Warm transfer (Dutch: the caller and the agent hear these).
TRANSFER_ANNOUNCEMENT_NL = "Ik verbind u nu door met een medewerker. Een moment alstublieft."
TRANSFER_FALLBACK_NL = (
    "Het spijt me, er is op dit moment geen medewerker beschikbaar. "
    "Belt u alstublieft terug tijdens kantoortijden. Tot ziens."
)
WHISPER_PREFIX_NL = "Doorverbonden beller van Loket. "
_E164 = re.compile(r"\+[1-9]\d{6,14}")
# sip:[user@]host[:port][;params]
_SIP = re.compile(r"sips?:(?:[^\s@<>\"']+@)?[a-z0-9.-]+(?::\d{1,5})?(?:;[^\s<>\"']*)?", re.I)
DIAL_CONNECTED = frozenset({"completed", "answered"})  # DialCallStatus after a real conversation


def transfer_target_kind(target: str) -> str:
    """The kind of transfer target: 'number' (E.164) or 'sip' (sip:/sips:); else ValueError."""
    if _E164.fullmatch(target):
        return "number"
    if _SIP.fullmatch(target):
        return "sip"
    raise ValueError("transfer target must be an E.164 number (+31...) or a sip:/sips: address")


def transfer_twiml(target: str, whisper_url: str | None, *, caller_id: str | None = None,
                   announcement: str = TRANSFER_ANNOUNCEMENT_NL, timeout_s: int = 30,
                   fallback: str = TRANSFER_FALLBACK_NL, action: str | None = None) -> str:
    """Announce, then `<Dial>` the contact centre; `whisper_url`'s TwiML plays to the agent
    after they pick up and before the parties are connected. Without `action`, Twilio goes on
    to the fallback `<Say>` + `<Hangup/>` whenever the dial ends with the caller still on the
    line (no answer, busy, failed, but also after the agent hangs up); with `action`, Twilio
    asks that URL instead (answer it with `after_dial_twiml`)."""
    kind = transfer_target_kind(target)
    if timeout_s <= 0:
        raise ValueError("timeout_s must be positive")
    response = VoiceResponse()
    response.say(announcement, language=LANGUAGE)
    dial = response.dial(caller_id=caller_id, timeout=timeout_s, action=action)
    if kind == "number":
        dial.number(target, url=whisper_url)
    else:
        dial.sip(target, url=whisper_url)
    response.say(fallback, language=LANGUAGE)
    response.hangup()
    return str(response)


def whisper_twiml(summary: str) -> str:
    """What the agent hears on picking up, before the caller is connected."""
    response = VoiceResponse()
    response.say(WHISPER_PREFIX_NL + summary.strip(), language=LANGUAGE)
    return str(response)


def after_dial_twiml(dial_call_status: str, fallback: str = TRANSFER_FALLBACK_NL) -> str:
    """Answer to the `<Dial action>` request: hang up after a real conversation, otherwise
    the fallback message and hang up."""
    if dial_call_status.strip().lower() in DIAL_CONNECTED:
        response = VoiceResponse()
        response.hangup()
        return str(response)
    return say_and_hang_up(fallback)
