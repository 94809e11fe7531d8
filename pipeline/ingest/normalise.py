"""Text normalisation and duplicate merging: the step between reading and analysis.

Every reader hands over the texts as found; here they become comparable: Unicode NFC
(a Danish "å" typed on a Mac is two code points, on Windows one), invisible characters
removed, whitespace collapsed. Answers without a word of two or more letters or digits
("", "-", "...", "x", "5") are dropped as empty: there is nothing in them to analyse, and a
workshop of nothing else would leave the topic model without a vocabulary. Answers that
differ only in case are merged into one row whose weight is the sum, so "Samarbejde" given by twelve people is one text standing for twelve voices.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

# Soft hyphen, zero-width space/joiners and BOM: invisible, but they make equal words unequal.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_WHITESPACE = re.compile(r"\s+")
# Two letters or digits in a row ([^\W_] is \w without the underscore): "EU", "3D", "ja".
_WORD = re.compile(r"[^\W_]{2}")
DUPLICATE_SCOPE = ["workshop", "source_kind", "question"]
# Longer texts are cut (at a word boundary) and the cut is reported: an answer or a note passage
# is a few hundred characters, three pages at most, while the language and embedding stages
# take time in proportion to a text's length (e5 needs seconds per 10,000 characters on 2 cores;
# one pasted 10 MB answer kept a run embedding for a quarter of an hour).
MAX_TEXT_CHARS = 10_000
# A number, a score, an amount or a date as typed: "4", "4,5", "1.000", "-2", "2026-03-04", "4/3", "12:30".
_NUMBER_OR_DATE = re.compile(r"[-+]?\d[\d\s.,:/-]*")


def is_number_or_date(value: object) -> bool:
    """True for a number or a date, as a cell value (int, float, datetime) or typed as text: no answer
    but a scale, a count, a row number or a day (bools and empty values are not)."""
    if isinstance(value, str):
        return _NUMBER_OR_DATE.fullmatch(value.strip()) is not None
    return value is not None and not isinstance(value, bool)


def normalise_text(text: object) -> str:
    """NFC, invisible characters removed, runs of whitespace (incl. no-break space) as one space."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    text = unicodedata.normalize("NFC", str(text))
    return _WHITESPACE.sub(" ", _INVISIBLE.sub("", text)).strip()


_SENTENCE_END = re.compile(r"[.!?…:;]\s|\n")


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, each ending at a sentence end (else a
    space) in its last quarter when there is one: a note passage too long to be one text."""
    parts, start = [], 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        ends = [m.end() for m in _SENTENCE_END.finditer(window, int(limit * 0.75))]
        end = ends[-1] if ends else window.rfind(" ", int(limit * 0.75)) + 1 or limit
        parts.append(window[:end].strip())
        start += end
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def cut_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, at the last space when one is near the end, marked with "…"."""
    if len(text) <= limit:
        return text
    head = text[: limit - 2]
    space = head.rfind(" ", max(0, limit - 200))
    return (head[:space] if space > 0 else head) + " …"


def is_empty_text(text: str) -> bool:
    """True when the text has no word of two or more letters or digits: nothing to analyse."""
    return _WORD.search(text) is None


@dataclass
class NormaliseStats:
    """Rows dropped as empty, merged into an earlier duplicate and cut, per value of ``count_by``."""

    empty: dict
    merged: dict
    cut: dict  # the ids of the texts cut to MAX_TEXT_CHARS


def normalise_texts(frame: pd.DataFrame, count_by: str = "source_file") -> tuple[pd.DataFrame, NormaliseStats]:
    """Normalise ``text`` and ``question``, cut texts over :data:`MAX_TEXT_CHARS`, drop empty texts,
    merge exact and case-only duplicates.

    Duplicates are merged within the same workshop, source kind and question; the merged
    row keeps the first row's id, wording and extra columns, and its weight is the sum.
    """
    frame = frame.copy()
    frame["text"] = frame["text"].map(normalise_text)
    frame["question"] = frame["question"].map(normalise_text)
    long = frame["text"].str.len() > MAX_TEXT_CHARS
    cut = {key: list(ids) for key, ids in frame.loc[long].groupby(count_by)["text_id"]}
    frame.loc[long, "text"] = frame.loc[long, "text"].map(cut_text)
    empty = frame["text"].map(is_empty_text).astype(bool)
    empty_counts = frame.loc[empty, count_by].value_counts().to_dict()
    frame = frame.loc[~empty]

    frame, merged_rows = merge_duplicates(frame)
    merged_counts = merged_rows[count_by].value_counts().to_dict()
    return frame, NormaliseStats(
        empty={k: int(v) for k, v in empty_counts.items()},
        merged={k: int(v) for k, v in merged_counts.items()},
        cut=cut,
    )


def merge_duplicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge rows whose text is equal up to case within :data:`DUPLICATE_SCOPE`.

    Returns the merged table (the first row of each set, weight = the set's sum, new index)
    and the rows that were merged into an earlier one (for counting).
    """
    keys = [frame[column] for column in DUPLICATE_SCOPE] + [frame["text"].str.casefold()]
    duplicate = pd.MultiIndex.from_arrays(keys).duplicated(keep="first")
    total_weight = frame.groupby(keys, sort=False, dropna=False)["weight"].transform("sum")
    merged = frame.assign(weight=total_weight.astype(float)).loc[~duplicate].reset_index(drop=True)
    return merged, frame.loc[duplicate]
