"""The table of texts that every stage reads and extends.

Ingestion returns a pandas DataFrame with at least these columns (in this order),
followed by any extra columns of table inputs, carried through unchanged:

===============  ========  ==============================================================
column           dtype     meaning
===============  ========  ==============================================================
text_id          str       stable id: ``<file stem>:<place>`` or a table's ``id`` column
text             str       the answer or passage, NFC-normalised, whitespace collapsed
source_file      str       the input file's name (as given, not resolved)
source_kind      str       ``mentimeter`` | ``note`` | ``table``
question         str       Mentimeter question, note section heading, or table column
workshop         str       workshop name
weight           float     how many voices the row stands for (merged duplicates, upvotes)
===============  ========  ==============================================================

Later stages add columns: ``lemmas`` and ``language``/``is_danish`` (language),
``topic`` (topics), ``theme``, ``theme_score`` and ``p_<theme id>`` (themes).
"""

from __future__ import annotations

import pandas as pd

TEXT_COLUMNS: list[str] = ["text_id", "text", "source_file", "source_kind", "question", "workshop", "weight"]
# An emerging theme (pipeline.emerging): its name, size, share, words, quotes (texts and ids) and all its text ids.
EMERGING_COLUMNS: list[str] = ["name", "size", "weighted_size", "share", "words", "quotes", "quote_ids", "text_ids"]
# Columns later stages add; an input table's own column of that name is kept as ``input_<name>``.
ADDED_COLUMNS: frozenset[str] = frozenset(
    {"lemmas", "language", "is_danish", "language_backend", "voices", "topic", "topic_label", "theme", "theme_label",
     "theme_score", "role", "confident"}  # fmt: skip
)
SOURCE_KINDS: tuple[str, ...] = ("mentimeter", "note", "table")
ANDET = "andet"
ANDET_LABEL = "Andet / nye temaer"  # how andet is shown to people
NOTE_KIND = "note"  # the source kind of a summary note's passages (the others are participants' answers)


def empty_texts() -> pd.DataFrame:
    """An empty table of texts with the schema's columns and dtypes."""
    frame = pd.DataFrame({column: pd.Series(dtype="object") for column in TEXT_COLUMNS})
    frame["weight"] = frame["weight"].astype(float)
    return frame


def protect_added_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename extra input columns that a later stage would overwrite (a gold ``theme`` column, say)."""
    clashes = {c: f"input_{c}" for c in frame.columns if c in ADDED_COLUMNS or str(c).startswith("p_")}
    return frame.rename(columns=clashes) if clashes else frame


def unique_text_ids(ids: pd.Series) -> pd.Series:
    """``ids`` as texts with each repeat numbered: ``svar:7``, ``svar:7~2``, ``svar:7~3``.

    The first keeps its id; a number already taken ("svar:7~2" given in the input) is skipped.
    """
    texts = ids.astype(str)
    if not texts.duplicated().any():
        return texts
    taken, repeats, unique = set(texts), {}, []
    for text in texts:
        if text not in repeats:
            repeats[text] = 1
            unique.append(text)
            continue
        repeats[text] += 1
        while f"{text}~{repeats[text]}" in taken:
            repeats[text] += 1
        unique.append(f"{text}~{repeats[text]}")
        taken.add(unique[-1])
    return pd.Series(unique, index=ids.index, dtype=texts.dtype)


def check_texts(frame: pd.DataFrame) -> pd.DataFrame:
    """Raise ``ValueError`` when ``frame`` lacks a schema column; return it unchanged otherwise."""
    missing = [column for column in TEXT_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"table of texts lacks columns: {', '.join(missing)}")
    return frame
