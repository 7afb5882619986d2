"""Persistence of the phone gateway: calls, turns, handovers and desk agents (SQLAlchemy)."""

from telephony.store.db import Store, default_url
from telephony.store.models import Agent, Call, CallEvent, Handover, Turn

__all__ = ["Agent", "Call", "CallEvent", "Handover", "Store", "Turn", "default_url"]
