"""Errors of the phone gateway."""


class TelephonyError(Exception):
    """Base class: a clear, one-line problem in the phone gateway."""


class StoreError(TelephonyError):
    """The call store cannot be opened or used (bad URL, unreachable database, ...)."""


class TwilioApiError(TelephonyError):
    """A request to Twilio's REST API failed (error answer, bad credentials, unreachable)."""
