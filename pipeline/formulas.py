"""Spreadsheet safety: texts that Excel or LibreOffice would evaluate stay text.

An answer such as ``=HYPERLINK(...)`` must never run when a report writer opens a table.
In CSV a formula-like text gets a leading apostrophe (:func:`neutralise`); in xlsx it is
kept as written and marked as text with Excel's quote prefix (:func:`keep_as_text`).
Exports (:mod:`pipeline.export`), the validation sheet and ``tematik ingest`` use these.
"""

from __future__ import annotations

import re

_FORMULA_TRIGGERS = ("=", "+", "-", "@")
# Characters XML (xlsx, docx) cannot hold; stray control characters from copied text.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# \s matches what str.isspace() calls whitespace, i.e. what spreadsheets skip before a formula.
FORMULA_START = re.compile(r"[\t\r]|\s*[" + re.escape("".join(_FORMULA_TRIGGERS)) + "]")


def is_formula_like(value: object) -> bool:
    """True for a text a spreadsheet would evaluate: it starts with = + - @, a tab or a CR
    (also after leading whitespace, which spreadsheets skip)."""
    return isinstance(value, str) and FORMULA_START.match(value) is not None


def neutralise(value):
    """A CSV cell that no spreadsheet evaluates: formula-like texts get a leading apostrophe."""
    return "'" + value if is_formula_like(value) else value


def printable(value):
    """``value`` without the control characters XML (xlsx, docx) cannot hold."""
    return _XML_ILLEGAL.sub("", value) if isinstance(value, str) else value


def keep_as_text(cell) -> None:
    """An openpyxl cell whose text a spreadsheet would evaluate stays text, shown as written (Excel's quote prefix)."""
    if cell.data_type == "f" or is_formula_like(cell.value):
        cell.data_type = "s"  # a text starting with "=" is an answer, not a formula
        cell.quotePrefix = True
