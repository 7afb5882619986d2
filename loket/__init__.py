"""The ``loket`` command line, fronting the voice, dialogue and telephony packages."""
