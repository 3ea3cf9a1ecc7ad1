"""Errors the CLI turns into one-line messages and exit codes; the library raises only these for user errors."""

from __future__ import annotations


class SyncfpError(Exception):
    """Base class: a user-facing problem with a one-line message."""

    exit_code = 1


class MediaError(SyncfpError):
    """A media file cannot be used: unreadable, no audio, truncated, too short, silent."""

    exit_code = 3

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class UsageError(SyncfpError):
    """Bad arguments or options (unknown format, no inputs, ...)."""

    exit_code = 2


class OutputError(SyncfpError):
    """An output file could not be written."""

    exit_code = 4


class CacheWarning(UserWarning):
    """The fingerprint cache could not be used (read-only, full); the run went on without it."""
