"""Everything the live gateway shares between calls, loaded once at start-up.

One recogniser (its own decoding worker), one synthesiser with a disk cache, one trained
dialogue core, one thread pool for dialogue and synthesis, the call store, the Twilio
REST client (when credentials are set), metrics and the agent desk's notifier.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dialogue.content.loader import Content, load_content
from dialogue.core import Dialogue
from dialogue.state import SessionStore
from telephony.calltypes import CallConfig
from telephony.desk.hub import DeskHub
from telephony.metrics import Metrics
from telephony.settings import Settings
from telephony.store import Store
from telephony.store.db import data_dir
from telephony.twilio.rest import TwilioRest
from voice import PHONE_RATE, SAMPLE_RATE
from voice.tts import Speaker
from voice.vad.endpointer import EndpointerConfig

if TYPE_CHECKING:
    from voice.asr.whisper_asr import WhisperRecognizer

log = logging.getLogger(__name__)
LOCAL_TOKEN_FILE = "local-auth-token"

POOL_THREADS = 4  # dialogue turns and synthesis; recognition has its own worker


def local_auth_token() -> str:
    """The auth token this machine signs with when TWILIO_AUTH_TOKEN is not set: made once
    in ``$LOKET_DATA`` (mode 600). Only `loket call` on this machine knows it, so webhook
    signatures stay checked; real Twilio needs TWILIO_AUTH_TOKEN."""
    path = data_dir() / LOCAL_TOKEN_FILE
    try:
        token = path.read_text(encoding="ascii").strip()
        if token:
            return token
    except (OSError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(token + "\n")
    return token


def with_local_token(settings: Settings) -> Settings:
    """`settings`, signing with the local token when no Twilio auth token is set."""
    if settings.twilio_auth_token or not settings.validate_signature:
        return settings
    return dataclasses.replace(settings, twilio_auth_token=local_auth_token())


@dataclass
class Services:
    settings: Settings
    content: Content
    dialogue: Dialogue
    recognizer: WhisperRecognizer
    speaker: Speaker
    pool: ThreadPoolExecutor
    store: Store | None = None
    rest: TwilioRest | None = None
    metrics: Metrics | None = field(default_factory=Metrics)
    hub: DeskHub | None = field(default_factory=DeskHub)

    @classmethod
    def load(cls, settings: Settings, content_dir: Path | None = None) -> Services:
        """Load content, models and the store (raises DialogueError, VoiceError or
        TelephonyError with one line when something is missing or invalid)."""
        from dialogue.nlu.understand import Understander
        from dialogue.referral.catalogue import Catalogue, default_catalogue_path
        from voice.asr import engines

        content = load_content(content_dir)
        path = default_catalogue_path()
        nlu = Understander(content, Catalogue.load(path) if path.exists() else None)
        store = Store(settings.database_url)
        recognizer = engines.load("whisper", os.environ.get("LOKET_WHISPER_MODEL") or None)
        return cls(settings=settings, content=content,
                   dialogue=Dialogue(content, nlu, SessionStore()),
                   recognizer=recognizer,  # type: ignore[arg-type]
                   speaker=Speaker(),
                   pool=ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="loket-call"),
                   store=store, rest=TwilioRest.from_settings(settings))

    def call_config(self) -> CallConfig:
        return CallConfig(reprompt_s=self.settings.silence_reprompt_s,
                          max_call_s=float(self.settings.max_call_seconds),
                          early_end=self.settings.early_end,
                          endpointer=EndpointerConfig(
                              trailing_silence_ms=self.settings.end_silence_ms))

    def public_base(self) -> str:
        """Where Twilio reaches this server (for whisper URLs)."""
        return self.settings.public_url or f"http://{self.settings.host}:{self.settings.port}"

    def warm_up(self) -> None:
        """Synthesise every greeting into the cache and run the recogniser once, so the
        first caller hears the greeting at once."""
        for pack in self.content.municipalities.values():
            greeting = pack.prompt("greeting")
            for _ in self.speaker.sentences(greeting, PHONE_RATE):
                pass
        self.recognizer.decode(np.zeros(SAMPLE_RATE, dtype=np.int16))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.store is not None:
            self.store.close()
