"""How a call ended, in one word: the only place call outcomes are decided.

    contained    the caller got an answer (Loket answered at least one question) and no
                 person was needed
    transferred  the call was put through to the contact centre
    callback     a callback request reached the agent desk, also an incomplete one (the
                 caller hung up, or Loket stopped, while giving the details)
    lost         a person was needed but not reached: the caller hung up while Loket was
                 offering a person or a callback, or a transfer failed and no callback
                 request could be taken
    abandoned    the caller got no answer and no person was involved: nothing they said
                 was understood and answered (silence, noise, hung up during the greeting,
                 a stream that carried no call)
    error        Loket itself failed and ended the call

The first that applies wins, in the order transferred, callback, error, lost, contained,
abandoned. The store keeps the word per call (`calls.outcome`); the metrics count it
(`loket_calls_total{outcome}`).
"""

from __future__ import annotations

from dataclasses import dataclass

OUTCOMES = ("contained", "transferred", "callback", "lost", "abandoned", "error")
# Dialogue questions that mean a person is needed: open when the call ends → lost.
PERSON_PENDING = frozenset({"offer_callback", "offer_person", "callback"})


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What is known about a call when it ends."""

    transferred: bool = False  # the live call was redirected to the contact centre
    callback: bool = False  # a callback request (complete or not) reached the desk
    error: bool = False  # Loket failed (end reason "error")
    answered: bool = False  # Loket answered at least one of the caller's questions
    person_needed: bool = False  # the call ended while a person was needed


def outcome(facts: CallFacts) -> str:
    """The outcome of a call (one of OUTCOMES); see the module docstring."""
    if facts.transferred:
        return "transferred"
    if facts.callback:
        return "callback"
    if facts.error:
        return "error"
    if facts.person_needed:
        return "lost"
    return "contained" if facts.answered else "abandoned"
