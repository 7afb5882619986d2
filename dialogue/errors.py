"""Errors of the dialogue core."""


class DialogueError(Exception):
    """Base class: a clear, one-line problem with dialogue input or content."""


class ContentError(DialogueError):
    """A content pack (YAML) is missing or invalid."""
