"""The CSV files: for a Danish Excel (``;``, decimal comma, rounded, UTF-8 with BOM, Danish
headers) and for programs in ``data/`` (``,``, decimal point, full precision, the schema's ids).

Formula-like texts get a leading apostrophe (:mod:`pipeline.formulas`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.formulas import FORMULA_START, neutralise
from pipeline.report import RunResult, source
from pipeline.writers.tables import (
    Table, danish_table, long_frequencies, quotes_table, readable_assignments, readable_frequencies, topics_table,
)

MACHINE_READABLE_FOLDER = "data"


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and header that a spreadsheet would evaluate, with a leading apostrophe.

    Columns are taken by position: two columns may share a header (an input table's own
    "Tema" beside ours)."""
    safe = frame.copy()
    safe.columns = [neutralise(str(column)) for column in frame.columns]
    starts_formula = FORMULA_START.match  # inlined neutralise(): two calls per cell cost a second here
    for position in range(safe.shape[1]):
        values = safe.iloc[:, position]
        if pd.api.types.is_numeric_dtype(values):
            continue
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            # Over a NumPy object array, not the Series: 100,000-row tables have millions of cells,
            # and indexing pandas' string arrays one cell at a time costs ~10x more. Most columns
            # (workshop, theme, language …) hold few distinct values: check those only.
            cells = values.to_numpy(dtype=object)
            try:
                distinct = pd.unique(cells)
            except TypeError:  # unhashable cells (lists): look at each
                distinct = cells
            if not any(isinstance(cell, str) and starts_formula(cell) for cell in distinct):
                continue
            neutral = ["'" + cell if isinstance(cell, str) and starts_formula(cell) else cell for cell in cells]
            safe.isetitem(position, pd.Series(neutral, index=safe.index, dtype=object))
        else:  # categories, dates …: as they are written, through their own map
            safe.isetitem(position, values.map(neutralise))
    return safe


def danish_numbers(values: pd.Series, number_format: str) -> pd.Series:
    """``values`` as Danish number texts in ``number_format`` ("0.000", "0.0%" …); blank where missing."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float) * (100 if number_format.endswith("%") else 1)
    decimals = len(number_format.rstrip("%").partition(".")[2])
    pattern = f"%.{decimals}f"
    # danish.decimal, inlined: a 100,000-row table has a million cells (~2x faster than np.char).
    texts = ["" if x != x else (pattern % (round(x, decimals) + 0.0)).replace(".", ",") for x in numbers.tolist()]
    return pd.Series(texts, index=values.index, dtype=object)


def write_danish_csv(table: Table, path: Path) -> None:
    """A CSV that a Danish Excel opens into columns: ``;``, decimal comma, rounded, UTF-8 with BOM."""
    frame = neutralised(table.frame)  # texts first: the numbers written below are not texts
    headers = list(frame.columns)
    for position, column in enumerate(table.frame.columns):
        number_format = table.formats.get(column)
        if number_format:
            frame.isetitem(position, danish_numbers(table.frame.iloc[:, position], number_format))
            if number_format.endswith("%"):
                headers[position] = f"{headers[position]} (%)"
    frame.columns = headers
    frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")


def write_machine_csv(frame: pd.DataFrame, path: Path) -> None:
    """The machine-readable form: ``,``, decimal point, full precision, UTF-8, the schema's column ids."""
    neutralised(frame).to_csv(path, index=False, encoding="utf-8")


def write_csv_files(result: RunResult, folder: Path) -> None:
    """theme_frequencies.csv, topics.csv and quotes.csv for people (their assignments.csv, the
    largest, is written beside the other files: :func:`write_assignments_csv_files`)."""
    labels = result.taxonomy_labels
    frequencies, topics, quotes = long_frequencies(result.frequencies), topics_table(result), quotes_table(result)
    write_danish_csv(danish_table(readable_frequencies(frequencies, labels), labels), folder / "theme_frequencies.csv")
    write_danish_csv(danish_table(topics, labels), folder / "topics.csv")
    readable_quotes = quotes.copy()
    readable_quotes.insert(readable_quotes.columns.get_loc("text") + 1, "source",
                           [source(quote) for quote in readable_quotes.to_dict("records")])  # fmt: skip
    write_danish_csv(danish_table(readable_quotes, labels), folder / "quotes.csv")


def write_assignments_csv_files(assignments: pd.DataFrame, labels: dict[str, str], folder: Path, machine_readable: bool) -> None:
    """assignments.csv for people and, with ``machine_readable``, ``data/assignments.csv`` (the folder
    exists): the two largest files, which a child process may write while the parent writes the rest.
    ``assignments``: :func:`~pipeline.writers.tables.assignments_table`; ``labels``: the taxonomy's."""
    write_danish_csv(danish_table(readable_assignments(assignments), labels), folder / "assignments.csv")
    if machine_readable:
        write_machine_csv(assignments, folder / MACHINE_READABLE_FOLDER / "assignments.csv")


def write_machine_csv_files(result: RunResult, data: Path) -> None:
    """The tables for programs into the folder ``data``, but for its assignments.csv (:func:`write_assignments_csv_files`)."""
    write_machine_csv(long_frequencies(result.frequencies), data / "theme_frequencies.csv")
    write_machine_csv(topics_table(result), data / "topics.csv")
    write_machine_csv(quotes_table(result), data / "quotes.csv")
