"""The one error type users see: bad input, named by file and place."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: a one-line message naming the file and, where known, the sheet or row.

    The command line prints ``str(error)`` and exits non-zero; nothing is written.
    """

    def __init__(self, path: str | Path | None, message: str, *, where: str | None = None):
        self.path = None if path is None else Path(path)
        self.where = where
        self.message = message
        location = "" if self.path is None else str(self.path)
        if where:
            location = f"{location} ({where})" if location else where
        super().__init__(f"{location}: {message}" if location else message)
