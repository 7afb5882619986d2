"""Twilio edge of the gateway: the Media Streams wire protocol, webhooks and TwiML."""
