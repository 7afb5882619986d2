"""Dialogue core: text in, text out. Knows nothing about audio or telephony."""
