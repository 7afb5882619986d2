"""Logging for every `loket` command, set up in one place.

Log lines go to stderr through `RedactingFilter`: no BSN, IBAN, phone number or e-mail
address, and tracebacks without their messages. Loket's own code never logs what a caller
said or keyed, in any mode; `LOKET_DEBUG=1` adds lengths, intents, states and counts.

Libraries that log raw traffic when set to DEBUG (WebSocket frames with keyed digits,
HTTP requests with form fields) stay at WARNING, also in debug mode.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from dialogue.nlu.redact import RedactingFilter

OWN = ("loket", "dialogue", "telephony", "voice")
# uvicorn.error carries the server's start and stop lines, and at DEBUG every WebSocket frame
LIBRARY_LEVELS = {"uvicorn.error": logging.INFO, "uvicorn.access": logging.INFO}
NOTICE = "loket.notice"  # progress a person waits for (training the intent model)
FORMAT = "%(levelname)s %(name)s: %(message)s"


def debug_enabled() -> bool:
    """LOKET_DEBUG set to anything but empty, 0, false or no."""
    return os.environ.get("LOKET_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


class _Formatter(logging.Formatter):
    """Notices as plain lines, everything else with level and logger name."""

    def __init__(self) -> None:
        super().__init__(FORMAT)
        self._plain = logging.Formatter("%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if record.name == NOTICE:
            return self._plain.format(record)
        return super().format(record)


def setup(debug: bool | None = None) -> None:
    """Send log lines to stderr, redacted; DEBUG for Loket's own code when `debug`."""
    debug = debug_enabled() if debug is None else debug
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "loket", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.loket = True  # type: ignore[attr-defined]
    handler.setFormatter(_Formatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)  # libraries: warnings and errors only
    for name in OWN:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)
    for name, level in LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(level if debug else logging.WARNING)
    logging.getLogger(NOTICE).setLevel(logging.INFO)
    threading.excepthook = _thread_failed  # the default prints the message: log it instead


def _thread_failed(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("loket").error("thread %s failed", name, exc_info=(
        args.exc_type, args.exc_value, args.exc_traceback))


def verbose(*names: str) -> None:
    """Show INFO lines of these loggers (e.g. call starts and ends for `loket serve`)."""
    for name in names:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
