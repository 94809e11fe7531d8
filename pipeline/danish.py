"""Numbers as Danish readers write them, for every text tematik shows: one place.

A point between thousands and a decimal comma (``1.234,5``), percentages with a space
(``23,4 %``), an en dash for a missing value, and counts with the right noun. Tables
for spreadsheets use :func:`decimal` (no thousands points: Excel reads those cells as numbers).
"""

from __future__ import annotations

from collections.abc import Sequence

MISSING = "–"


def _missing(value: object) -> bool:
    """None, NaN, ``pd.NA`` or ``NaT`` (anything else must be a number: a mistake shows).

    Without pandas: the command line's help and listings import this module."""
    if value is None:
        return True
    try:
        return bool(value != value)  # only NaN and NaT differ from themselves
    except TypeError:  # pd.NA: its comparisons are NA
        return True


def _rounded(value: float, decimals: int) -> float:
    """``value`` rounded, without a negative zero (a rounded -0.0004 is 0, not -0)."""
    return round(float(value), decimals) + 0.0


def number(value: float | None, decimals: int = 0) -> str:
    """``1234.6`` -> ``'1.235'``; with ``decimals=1`` -> ``'1.234,6'``; missing -> ``'–'``."""
    if _missing(value):
        return MISSING
    text = f"{_rounded(value, decimals):,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def decimal(value: float | None, decimals: int) -> str:
    """A decimal comma and no thousands points, for a table cell: ``0.8712`` -> ``'0,87'``; missing -> ``''``."""
    return "" if _missing(value) else f"{_rounded(value, decimals):.{decimals}f}".replace(".", ",")


def percent(value: float | None) -> str:
    """A share as a percentage: ``0.234`` -> ``'23,4 %'``; missing -> ``'–'``."""
    return MISSING if _missing(value) else f"{decimal(float(value) * 100, 1)} %"


def interval(low: float | None, high: float | None) -> str:
    """A percentage interval: ``(0.184, 0.287)`` -> ``'18,4–28,7 %'``; missing -> ``'–'``."""
    if _missing(low) or _missing(high):
        return MISSING
    return f"{decimal(float(low) * 100, 1)}–{decimal(float(high) * 100, 1)} %"


def listing(items: Sequence[str], shown: int | None = None) -> str:
    """Items as a Dane lists them: "a, b og c"; past ``shown`` items, "a, b, c, d, e og 3 flere"."""
    items = [str(item) for item in items]
    if shown is not None and len(items) > shown:
        return ", ".join(items[:shown]) + f" og {len(items) - shown} flere"
    return " og ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)


def count(n: int, one: str, many: str) -> str:
    """``1 fil``, ``2 filer``, ``20.001 tekster``: a count with the singular or plural noun."""
    return f"{number(n)} {one if n == 1 else many}"
