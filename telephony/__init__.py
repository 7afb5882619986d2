"""Phone gateway: Twilio webhooks and Media Streams, the call loop, transfers, the agent desk."""
