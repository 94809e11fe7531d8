"""The one error type users see: bad input, named by file and place."""

from __future__ import annotations

import re
from pathlib import Path

_LINE_BREAKS = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")


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
        # One line whatever the input held: messages quote cells, column names and file names.
        super().__init__(_LINE_BREAKS.sub(" ", f"{location}: {message}" if location else message))
