"""Gateway settings, read once from environment variables.

=========================  ===========  ==================================================
variable                   default      meaning
=========================  ===========  ==================================================
LOKET_PUBLIC_URL           (none)       public base URL, e.g. https://loket.example.nl;
                                        without it the request's own URL is used
TWILIO_ACCOUNT_SID         (none)       the Twilio account
TWILIO_AUTH_TOKEN          (none)       secret that signs Twilio's webhooks
LOKET_VALIDATE_SIGNATURE   true         only "0" or "false" turns checking off (development)
LOKET_HOST                 127.0.0.1    address to listen on
LOKET_PORT                 8080         port to listen on
LOKET_DATABASE_URL         (none)       call store (SQLAlchemy URL)
LOKET_RETENTION_DAYS       30           days before callers' personal data is blanked
                                        (telephony.retention; `loket purge`)
LOKET_MAX_CALL_SECONDS     600          longest call
LOKET_SILENCE_REPROMPT_S   6            seconds of silence before Loket asks again
LOKET_END_SILENCE_MS       600          silence that ends a caller's turn (less: faster
                                        answers, but slow speakers get cut off)
LOKET_EARLY_END            true         answer at a shorter pause when what the caller said
                                        is already a whole, understood question; "0" or
                                        "false" always waits for LOKET_END_SILENCE_MS
LOKET_TWILIO_API_URL       (none)       base URL for Twilio's REST API instead of
                                        https://api.twilio.com (tests, proxies)
LOKET_TRUSTED_PROXIES      127.0.0.1,   addresses or networks (comma-separated) of reverse
                           ::1          proxies whose X-Forwarded-For/-Proto headers are
                                        believed; "none" believes no proxy
=========================  ===========  ==================================================
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from telephony.errors import TelephonyError


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _number(env: Mapping[str, str], name: str, default: float, *, integer: bool) -> float:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise TelephonyError(f"{name} must be {kind}, got {raw!r}") from None
    if value <= 0:
        raise TelephonyError(f"{name} must be positive, got {raw!r}")
    return value


def _switch(env: Mapping[str, str], name: str) -> bool:
    """On unless set to "0" or "false"."""
    return (_text(env, name) or "true").lower() not in {"0", "false"}


def _public_url(env: Mapping[str, str]) -> str | None:
    raw = _text(env, "LOKET_PUBLIC_URL")
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise TelephonyError(f"LOKET_PUBLIC_URL must be an http(s) base URL, got {raw!r}")
    return raw.rstrip("/")


def _api_url(env: Mapping[str, str]) -> str | None:
    raw = _text(env, "LOKET_TWILIO_API_URL")
    if raw is None:
        return None
    parts = urlsplit(raw)
    bad = parts.query or parts.fragment or parts.path.strip("/")
    if parts.scheme not in {"http", "https"} or not parts.netloc or bad:
        raise TelephonyError(
            f"LOKET_TWILIO_API_URL must be an http(s) URL without a path, got {raw!r}")
    return raw.rstrip("/")


def _end_silence(env: Mapping[str, str]) -> int:
    value = int(_number(env, "LOKET_END_SILENCE_MS", 600, integer=True))
    if not 200 <= value <= 3000:
        raise TelephonyError(f"LOKET_END_SILENCE_MS must be 200-3000, got {value}")
    return value


DEFAULT_PROXIES = ("127.0.0.1", "::1")


def _proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = _text(env, "LOKET_TRUSTED_PROXIES")
    if raw is None:
        return DEFAULT_PROXIES
    if raw.lower() == "none":
        return ()
    proxies = []
    for item in (part.strip() for part in raw.split(",")):
        try:
            proxies.append(str(ipaddress.ip_network(item, strict=False)) if "/" in item
                           else str(ipaddress.ip_address(item)))
        except ValueError:
            raise TelephonyError(
                "LOKET_TRUSTED_PROXIES must be IP addresses or networks separated by commas, "
                f"or 'none'; got {item!r}") from None
    return tuple(proxies)


@dataclass(frozen=True)
class Settings:
    public_url: str | None = None  # no trailing slash
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    validate_signature: bool = True
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    retention_days: int = 30
    max_call_seconds: int = 600
    silence_reprompt_s: float = 6.0
    end_silence_ms: int = 600
    early_end: bool = True
    twilio_api_url: str | None = None  # scheme://host[:port], no trailing slash
    trusted_proxies: tuple[str, ...] = DEFAULT_PROXIES  # () trusts no proxy

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from `env` (default: the process environment); bad values raise."""
        env = os.environ if env is None else env
        port = int(_number(env, "LOKET_PORT", 8080, integer=True))
        if port > 65535:
            raise TelephonyError(f"LOKET_PORT must be at most 65535, got {port}")
        return cls(
            public_url=_public_url(env),
            twilio_account_sid=_text(env, "TWILIO_ACCOUNT_SID"),
            twilio_auth_token=_text(env, "TWILIO_AUTH_TOKEN"),
            validate_signature=_switch(env, "LOKET_VALIDATE_SIGNATURE"),
            host=_text(env, "LOKET_HOST") or "127.0.0.1",
            port=port,
            database_url=_text(env, "LOKET_DATABASE_URL"),
            retention_days=int(_number(env, "LOKET_RETENTION_DAYS", 30, integer=True)),
            max_call_seconds=int(_number(env, "LOKET_MAX_CALL_SECONDS", 600, integer=True)),
            silence_reprompt_s=_number(env, "LOKET_SILENCE_REPROMPT_S", 6.0, integer=False),
            end_silence_ms=_end_silence(env),
            early_end=_switch(env, "LOKET_EARLY_END"),
            twilio_api_url=_api_url(env),
            trusted_proxies=_proxies(env),
        )
