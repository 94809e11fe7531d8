"""Generic tables (questionnaires, typed-up postcards): CSV or Excel with one text per row.

The text column is found by name (``config.text_column`` or a common Danish/English name
such as "svar" or "kommentar"); an ``id`` column becomes the text id, a question column
the question, a ``weight``/``vægt`` column the weight; every other column is carried
through unchanged. CSVs come in whatever Danish Excel writes: semicolon, comma or tab
separated, UTF-8 with or without BOM, or Windows-1252.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from datetime import date, datetime, time
from pathlib import Path

from pipeline.config import IngestConfig
from pipeline.errors import InputError
from pipeline.ingest.files import read_text
from pipeline.ingest.report import Extract
from pipeline.schema import TEXT_COLUMNS

# In priority order: the first name found wins when a table has several.
TEXT_COLUMN_NAMES = [
    "text", "tekst", "svar", "answer", "answers", "besvarelse", "besvarelser", "kommentar", "kommentarer",
    "comment", "comments", "response", "responses", "bemærkning", "bemærkninger", "udsagn", "citat",
    "input", "indhold", "content", "feedback", "forslag", "idé", "ideer", "message", "besked",
]
ID_COLUMN_NAMES = {"id", "text_id"}
QUESTION_COLUMN_NAMES = {"question", "spørgsmål", "spm", "heading", "overskrift"}
WEIGHT_COLUMN_NAMES = {"weight", "vægt"}
DELIMITERS = {";": "semicolon", ",": "comma", "\t": "tab", "|": "pipe"}
_HEADER_SEARCH_ROWS = 10  # title rows above the header are skipped, but only this many


def cell_text(value: object) -> str | None:
    """A cell as text (None when empty); whole numbers without ".0", dates as ISO."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def _key(name: object) -> str:
    return re.sub(r"\s+", " ", str(name or "")).strip().casefold()


def csv_rows(path: Path) -> tuple[list[list[str]], str]:
    """All records of a CSV file and a description of how it was read (delimiter, encoding)."""
    text, encoding = read_text(path)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter or "\x1f")
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(path, f"cannot parse CSV: {exc}", where=f"row {reader.line_num}") from None
    layout = f"{DELIMITERS[delimiter]}-separated" if delimiter else "one column"
    return rows, f"CSV, {layout}, {encoding}"


def sniff_delimiter(text: str) -> str | None:
    """The delimiter giving the header's field count on most of the first 50 records; None for one column.

    Counting consistent records beats ``csv.Sniffer`` on free text, where commas inside
    answers of a semicolon-separated file would otherwise look like delimiters.
    """
    best: tuple[tuple[float, int], str] | None = None
    for delimiter in DELIMITERS:
        records = itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), 50)
        widths = [len(r) for r in records if any(cell.strip() for cell in r)]
        if not widths or widths[0] < 2:
            continue
        score = (widths.count(widths[0]) / len(widths), widths[0])
        if score[0] >= 0.5 and (best is None or score > best[0]):
            best = (score, delimiter)
    return best[1] if best else None


def sheet_rows(sheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def find_text_column(columns: list[str], config: IngestConfig, loose: bool = True) -> str | None:
    """The configured text column, else the column named like a text column; ``loose`` also
    accepts names containing such a word ("Dit svar", "Kommentar (valgfri)")."""
    keys = [_key(c) for c in columns]
    if config.text_column is not None:
        wanted = _key(config.text_column)
        return next((c for c, k in zip(columns, keys) if k == wanted), None)
    for name in TEXT_COLUMN_NAMES:
        if name in keys:
            return columns[keys.index(name)]
    for name in TEXT_COLUMN_NAMES if loose else ():
        for column, key in zip(columns, keys):
            if name in re.findall(r"\w+", key):
                return column
    return None


def header_index(rows: list[list[object]], config: IngestConfig) -> int | None:
    """Index of the header row among the first non-empty rows: the first naming a text column exactly,
    else the first with a name containing one (not a title row like "Svar fra borgermødet" above "Svar"),
    else the first non-empty row."""
    filled = [i for i, row in enumerate(rows) if any(cell_text(c) for c in row)][:_HEADER_SEARCH_ROWS]
    for loose in (False, True):
        for i in filled:
            if find_text_column(_column_names(rows[i]), config, loose):
                return i
    return filled[0] if filled else None


def _column_names(header: list[object]) -> list[str]:
    """Header cells as unique names: blanks become ``column_<n>``, repeats get ``.1``, ``.2``."""
    names: list[str] = []
    for n, cell in enumerate(header, start=1):
        name = (cell_text(cell) or "").strip() or f"column_{n}"
        base, k = name, 0
        while name in names:
            k += 1
            name = f"{base}.{k}"
        names.append(name)
    return names


def table_extract(
    path: Path, grids: dict[str | None, list[list[object]]], layout: str, config: IngestConfig
) -> Extract:
    """Rows of every grid (CSV file or sheet) that has a text column; InputError when none has one."""
    stem = path.stem
    rows: list[dict] = []
    used: list[str] = []
    notes: list[str] = []
    first_columns: tuple[str | None, list[str]] | None = None
    for sheet, grid in grids.items():
        head = header_index(grid, config)
        if head is None:
            continue
        columns = _column_names(grid[head])
        first_columns = first_columns or (sheet, columns)
        text_column = find_text_column(columns, config)
        if text_column is None:
            if sheet is not None:
                notes.append(f"sheet '{sheet}' skipped (no text column)")
            continue
        if config.table_sheets == "first" and used:
            notes.append(f"sheet '{sheet}' not read (table_sheets='first')")
            continue
        used.append(f"'{text_column}'" + (f" in sheet '{sheet}'" if sheet is not None else ""))
        rows += _grid_rows(path, stem, sheet, grid, head, columns, text_column)
    if not used:
        _raise_no_text_column(path, first_columns, config)
    for row in rows:  # the sheet a row came from is worth keeping only when there are several
        sheet = row.pop("_sheet")
        if len(used) > 1:
            row.setdefault("sheet", sheet)
    return Extract(rows, f"{layout}, text column {', '.join(used)}", notes=notes)


def _grid_rows(path, stem, sheet, grid, head, columns, text_column) -> list[dict]:
    keys = {_key(c): c for c in reversed(columns)}  # first column of a name wins
    id_column = next((keys[k] for k in ID_COLUMN_NAMES if k in keys), None)
    question_column = next((keys[k] for k in QUESTION_COLUMN_NAMES if k in keys), None)
    weight_column = next((keys[k] for k in WEIGHT_COLUMN_NAMES if k in keys), None)
    consumed = {text_column, id_column, question_column, weight_column}
    extras = {c: (f"{c}_input" if c in TEXT_COLUMNS else c) for c in columns if c not in consumed}
    prefix = stem if sheet is None else f"{stem}:{sheet}"
    out = []
    for number, values in enumerate(grid[head + 1 :], start=head + 2):
        if not any(cell_text(v) for v in values):
            continue
        cells = dict(zip(columns, list(values) + [None] * (len(columns) - len(values))))
        where = f"row {number}" if sheet is None else f"sheet '{sheet}', row {number}"
        if len(values) > len(columns) and any(cell_text(v) for v in values[len(columns) :]):
            raise InputError(path, f"{len(values)} fields but the header has {len(columns)}", where=where)
        row_id = cell_text(cells[id_column]) if id_column else None
        row = {
            "text_id": f"{stem}:{row_id.strip()}" if row_id and row_id.strip() else f"{prefix}:{number}",
            "text": cell_text(cells[text_column]) or "",
            "question": (cell_text(cells[question_column]) if question_column else None) or text_column,
            "weight": _weight(path, cells[weight_column], where) if weight_column else 1.0,
            "_sheet": sheet,
        }
        row.update({name: cells[column] for column, name in extras.items()})
        out.append(row)
    return out


def _weight(path: Path, value: object, where: str) -> float:
    text = cell_text(value)
    if text is None:
        return 1.0
    try:
        weight = float(text.replace(",", "."))  # Danish decimal comma
    except ValueError:
        raise InputError(path, f"weight '{text}' is not a number", where=where) from None
    if not weight >= 0:
        raise InputError(path, f"weight '{text}' is negative", where=where)
    return weight


def _raise_no_text_column(path: Path, first_columns, config: IngestConfig):
    if first_columns is None:
        raise InputError(path, "no rows found")
    sheet, columns = first_columns
    where = f"sheet '{sheet}'" if sheet is not None else None
    found = ", ".join(columns)
    if config.text_column is not None:
        raise InputError(path, f"text column '{config.text_column}' not found (columns: {found})", where=where)
    raise InputError(path, f"no text column (columns: {found}); use --text-column", where=where)
