"""The agent desk: a live web page of transfers and callback requests for agents."""

from telephony.desk.hub import DeskHub
from telephony.desk.routes import install_desk

__all__ = ["DeskHub", "install_desk"]
