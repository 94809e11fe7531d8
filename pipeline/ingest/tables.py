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
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import NamedTuple

from pipeline.config import IngestConfig
from pipeline.errors import InputError, short
from openpyxl.utils import get_column_letter, range_boundaries

from pipeline.danish import count, listing, number
from pipeline.ingest.files import open_workbook, read_text, reason
from pipeline.ingest.normalise import is_number_or_date
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
DELIMITERS = {";": "semikolon", ",": "komma", "\t": "tabulator", "|": "lodret streg"}  # as in "adskilt af …"
MAX_COLUMNS = 16_384  # Excel's limit; a CSV far wider is not a table of answers (and would take minutes)
# Rows and cells read from one file (all sheets): a workshop's largest table is some 100,000 answers
# in a few columns, while a small, highly compressed xlsx can unpack to millions of rows (gigabytes
# in memory). Reading stops at the first row past either bound.
MAX_ROWS = 500_000
MAX_CELLS = 2_000_000
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


def sheet_key(grids: dict[str | None, list[list[object]]], sheet: str | None) -> str | None:
    """A sheet as text ids name it: its position (``ark2``), never its name, which people type
    (a sheet named after a participant would otherwise stand in every id, out of redaction's reach)."""
    return None if sheet is None else f"ark{list(grids).index(sheet) + 1}"


def _key(name: object) -> str:
    return re.sub(r"\s+", " ", str(name or "")).strip().casefold()


def csv_rows(path: Path) -> tuple[list[list[str]], str]:
    """All records of a CSV file and a description of how it was read (delimiter, encoding).

    Line ends may be CRLF, LF, bare CR (old Mac Excel) or a mix; fields may be of any length
    (one answer can be a pasted report).
    """
    text, encoding = read_text(path)
    delimiter = sniff_delimiter(text)
    reader = _records(text, delimiter or "\x1f")
    rows, budget = [], ReadBudget(path)
    start, end = 1, 0  # the lines of the last record read (a quoted field may span several)
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            budget.count(row)
            rows.append(row)
    except csv.Error as exc:
        raise InputError(path, f"CSV-filen kan ikke læses: {exc}", where=f"række {reader.line_num}") from None
    # A quote that never closes makes the rest of the file one field, which the csv module reads
    # without a word: the last field then holds line breaks, and the file does not end with a quote.
    if rows and rows[-1] and re.search(r"[\r\n]", rows[-1][-1]) and not text.rstrip().endswith('"'):
        message = ('et anførselstegn (") åbner et felt, der aldrig lukkes: resten af filen ville blive ét svar; '
                   "slet eller luk anførselstegnet")
        raise InputError(path, message, where=f"række {start}")
    wide = next((row_number for row_number, row in enumerate(rows, start=1) if len(row) > MAX_COLUMNS), None)
    if wide is not None:
        message = f"{number(len(rows[wide - 1]))} felter (højst {number(MAX_COLUMNS)} som i Excel)"
        raise InputError(path, message, where=f"række {wide}")
    layout = f"adskilt af {DELIMITERS[delimiter]}" if delimiter else "én kolonne"
    return rows, f"CSV, {layout}, {encoding}"


class ReadBudget:
    """Counts the rows and cells read from one file; an :class:`InputError` past :data:`MAX_ROWS` or :data:`MAX_CELLS`."""

    def __init__(self, path: Path):
        self.path, self.rows, self.cells = path, 0, 0

    def count(self, row: list) -> None:
        self.rows += 1
        self.cells += len(row)
        if self.rows > MAX_ROWS or self.cells > MAX_CELLS:
            raise InputError(
                self.path, f"filen har flere end {number(MAX_ROWS)} rækker eller {number(MAX_CELLS)} celler; "
                "del den op i flere filer"
            )


def _records(text: str, delimiter: str):
    # newline="" splits lines at \r, \n and \r\n alike and leaves them in place, as the csv
    # module needs to read line breaks inside quoted fields; the field size limit (128 KiB by
    # default, a module-wide setting) is raised to the text's length, so no field can exceed it.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def sniff_delimiter(text: str) -> str | None:
    """The delimiter giving the header's field count on most of the first 50 records; None for one column.

    Counting consistent records beats ``csv.Sniffer`` on free text, where commas inside
    answers of a semicolon-separated file would otherwise look like delimiters.
    """
    best: tuple[tuple[float, int], str] | None = None
    for delimiter in DELIMITERS:
        records = itertools.islice(_records(text, delimiter), 50)
        widths = [len(r) for r in records if any(cell.strip() for cell in r)]
        if not widths or widths[0] < 2:
            continue
        score = (widths.count(widths[0]) / len(widths), widths[0])
        if score[0] >= 0.5 and (best is None or score > best[0]):
            best = (score, delimiter)
    return best[1] if best else None


def sheet_rows(sheet) -> list[list[object]]:
    """A read-only sheet's values by row, each row without its trailing empty cells."""
    sheet.reset_dimensions()  # see workbook_grids
    return [_trim(list(row)) for row in sheet.iter_rows(values_only=True)]


def _trim(values: list[object]) -> list[object]:
    while values and values[-1] is None:
        values.pop()
    return values


# What Excel shows in a cell whose formula fails, e.g. an answer typed as "- mere samarbejde" or
# "+ flere penge", which Excel turns into a formula ("=- mere samarbejde") that gives #NAME?.
EXCEL_ERRORS = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!",
    "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
})


class WorkbookGrids(NamedTuple):
    grids: dict[str | None, list[list[object]]]  # each sheet's cell values as rows
    notes: list[str]  # formula cells read as their formula text
    hidden: set[str]  # titles of the hidden sheets (Excel's "Skjul ark": a drop-down's choices, a lookup table)
    merged: dict[str, list[tuple[int, int, int, int]]]  # merged ranges per sheet: (min_col, min_row, max_col, max_row)


def workbook_grids(path: Path) -> WorkbookGrids:
    """Every worksheet's cell values as rows, notes on formula cells read as their formula text, the
    hidden sheets and the merged cells (see :class:`WorkbookGrids`).

    A formula cell holds the value Excel last computed for it (cached in the file). A file
    written by a program rather than Excel has formulas without cached values, and a failed
    formula caches an error such as ``#NAME?``: such a cell is read as its formula as written
    (``=HYPERLINK("http://...";"klik")``) and listed in the notes, never taken for empty.
    """
    grids: dict[str | None, list[list[object]]] = {}
    formulas: dict[str, dict[tuple[int, int], str]] = {}
    hidden: set[str] = set()
    merged: dict[str, list[tuple[int, int, int, int]]] = {}
    workbook = open_workbook(path, data_only=False)
    budget = ReadBudget(path)
    try:
        for sheet in workbook.worksheets:
            # openpyxl pads every row to the sheet's declared width: one formatted cell in column
            # XFD would make each row 16,384 cells (minutes and gigabytes for a few thousand rows).
            # Without the declared dimensions a row is as wide as its own last cell.
            sheet.reset_dimensions()
            rows, found = [], {}
            for r, cells in enumerate(sheet.iter_rows()):
                budget.count(cells)
                values = []
                for c, cell in enumerate(cells):
                    if cell.data_type == "f":
                        found[r, c] = str(getattr(cell.value, "text", cell.value))  # ArrayFormula has .text
                        values.append(None)
                    else:
                        values.append(cell.value)
                rows.append(values)
            grids[sheet.title] = rows
            if sheet.sheet_state != "visible":  # "hidden" or "veryHidden"
                hidden.add(sheet.title)
            merged[sheet.title] = _merged_ranges(path, getattr(sheet, "_worksheet_path", None))
            if found:
                formulas[sheet.title] = found
        if formulas:
            cached = open_workbook(path, data_only=True)
            try:
                computed = {title: sheet_rows(cached[title]) for title in formulas}
            finally:
                cached.close()
    except InputError:
        raise
    except Exception as exc:  # damaged sheet XML surfaces only while reading rows
        raise InputError(path, f"filen kan ikke læses som Excel-projektmappe (beskadiget: {reason(exc)})") from None
    finally:
        workbook.close()
    notes = []
    for title, found in formulas.items():
        uncomputed = []
        for (r, c), formula in found.items():
            row = computed[title][r] if r < len(computed[title]) else []
            value = row[c] if c < len(row) else None
            if value is None or (isinstance(value, str) and value.strip() in EXCEL_ERRORS):
                value = formula
                uncomputed.append(f"{get_column_letter(c + 1)}{r + 1}")
            grids[title][r][c] = value
        if uncomputed:
            cells = listing(uncomputed, shown=5)
            notes.append(f"ark '{title}': {count(len(uncomputed), 'formelcelle', 'formelceller')} uden beregnet "
                         f"værdi læst som formlens tekst ({cells})")
    return WorkbookGrids({title: [_trim(row) for row in rows] for title, rows in grids.items()}, notes, hidden, merged)


# A merged range in a sheet's XML, <mergeCell ref="A3:A6"/> (with or without a namespace prefix).
_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


def _merged_ranges(path: Path, part: str | None, chunk: int = 1 << 20) -> list[tuple[int, int, int, int]]:
    """The merged ranges of the sheet stored in ``part`` of the package. openpyxl's read-only sheets,
    which tematik reads for their speed and bounded memory, do not parse them; the part is read in
    ``chunk``-byte pieces, so a sheet of hundreds of MB is not held at once."""
    if part is None:
        return []
    refs: list[bytes] = []
    carry = b""
    with zipfile.ZipFile(path) as archive, archive.open(part) as stream:
        while True:
            piece = stream.read(chunk)
            block = carry + piece
            # A match that starts in the last _MERGE_OVERLAP bytes may be cut: it is found in the next block.
            cut = len(block) if not piece else max(len(block) - _MERGE_OVERLAP, 0)
            refs += [match.group(1) for match in _MERGE_CELL.finditer(block) if match.start() < cut]
            if not piece:
                break
            carry = block[cut:]
    return [range_boundaries(ref.decode("ascii")) for ref in refs]


# Longer than any <mergeCell ref="..."/> element.
_MERGE_OVERLAP = 4096


def _fill_merged(grid: list[list[object]], ranges, head: int, keep: int) -> list[list[object]]:
    """``grid`` with each merged range's value written down its first column, below the header ``head``,
    as Excel shows it (a question typed once and merged over its answers); column ``keep`` (the texts)
    is left as it is: an answer merged over two rows is one answer."""
    grid = [list(row) for row in grid]
    for min_col, min_row, _, max_row in ranges:
        column, top = min_col - 1, min_row - 1
        if column == keep or top <= head or top >= len(grid) or column >= len(grid[top]) or grid[top][column] is None:
            continue
        for row in grid[top + 1 : max_row]:
            row.extend([None] * (column + 1 - len(row)))
            if row[column] is None:
                row[column] = grid[top][column]
    return grid


def text_column_candidates(columns: list[str], config: IngestConfig, loose: bool = True) -> list[str]:
    """Columns that may hold the texts, best first: the configured one; else those named like a
    text column, in :data:`TEXT_COLUMN_NAMES` order; ``loose`` adds those whose name contains such
    a word ("Dit svar", "Kommentar (valgfri)")."""
    keys = [_key(c) for c in columns]
    if config.text_column is not None:
        wanted = _key(config.text_column)
        return [c for c, k in zip(columns, keys) if k == wanted][:1]
    exact = [columns[keys.index(name)] for name in TEXT_COLUMN_NAMES if name in keys]
    contained = [column for name in TEXT_COLUMN_NAMES if loose for column, key in zip(columns, keys)
                 if name in re.findall(r"\w+", key)]  # fmt: skip
    return list(dict.fromkeys(exact + contained))


def find_text_column(columns: list[str], config: IngestConfig, loose: bool = True) -> str | None:
    """The first of :func:`text_column_candidates`, by name alone."""
    return next(iter(text_column_candidates(columns, config, loose)), None)


def _numbers_only(grid: list[list[object]], head: int, column: int) -> bool:
    """True when the column holds values below the header, all numbers or dates: a scale, a count or a
    date (a questionnaire's "Svar" column beside its "Kommentar"), not answers."""
    values = [row[column] for row in grid[head + 1 :] if column < len(row) and cell_text(row[column])]
    return bool(values) and all(is_number_or_date(value) for value in values)


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
    taken: set[str] = set()
    repeats: dict[str, int] = {}  # the last suffix given to a name: 16,000 equal names stay linear
    for n, cell in enumerate(header, start=1):
        name = (cell_text(cell) or "").strip() or f"column_{n}"
        base, k = name, repeats.get(name, 0)
        while name in taken:
            k += 1
            name = f"{base}.{k}"
        repeats[base] = k
        names.append(name)
        taken.add(name)
    return names


def table_extract(
    path: Path, grids: dict[str | None, list[list[object]]], layout: str, config: IngestConfig,
    hidden: set[str] = frozenset(),
    merged: dict[str, list[tuple[int, int, int, int]]] | None = None,
) -> Extract:
    """Rows of every grid (CSV file or sheet) that has a text column, but the ``hidden`` sheets';
    InputError when none has one."""
    stem = path.stem
    rows: list[dict] = []
    used: list[str] = []
    notes: list[str] = []
    first_columns: tuple[str | None, list[str]] | None = None
    numbers_only: tuple[str | None, str] | None = None  # the first sheet whose text column holds no words
    hidden_with_texts: list[str] = []
    for sheet, grid in grids.items():
        head = header_index(grid, config)
        if head is None:
            continue
        columns = _column_names(grid[head])
        first_columns = first_columns or (sheet, columns)
        candidates = text_column_candidates(columns, config)
        text_column = next((c for c in candidates if not _numbers_only(grid, head, columns.index(c))), None)
        if text_column is None:
            if candidates:
                numbers_only = numbers_only or (sheet, candidates[0])
            if sheet is not None:
                why = f"tekstkolonnen '{candidates[0]}' rummer kun tal og datoer" if candidates else "ingen tekstkolonne"
                notes.append(f"ark '{sheet}' sprunget over ({why})")
            continue
        if sheet in hidden:  # what a workbook hides is not what its readers see: not the answers
            hidden_with_texts.append(sheet)
            notes.append(f"ark '{sheet}' er skjult og ikke læst")
            continue
        if merged and merged.get(sheet):
            grid = _fill_merged(grid, merged[sheet], head, columns.index(text_column))
        if config.table_sheets == "first" and used:
            notes.append(f"ark '{sheet}' ikke læst (table_sheets='first')")
            continue
        used.append(f"'{text_column}'" + (f" i ark '{sheet}'" if sheet is not None else ""))
        rows += _grid_rows(path, stem, sheet, sheet_key(grids, sheet), grid, head, columns, text_column)
    if not used and hidden_with_texts:
        raise InputError(path, "teksterne står kun i skjulte ark; vis arket i Excel, hvis det skal læses",
                         where=f"ark '{hidden_with_texts[0]}'")  # fmt: skip
    if not used and numbers_only:
        sheet, column = numbers_only
        raise InputError(path, f"tekstkolonnen '{short(column)}' rummer kun tal og datoer, ingen ord; angiv den rigtige "
                         "med --text-column", where=f"ark '{sheet}'" if sheet is not None else None)  # fmt: skip
    if not used:
        _raise_no_text_column(path, first_columns, config)
    for row in rows:  # the sheet a row came from is worth keeping only when there are several
        sheet = row.pop("_sheet")
        if len(used) > 1:
            row.setdefault("sheet", sheet)
    return Extract(rows, f"{layout}, tekstkolonne {', '.join(used)}", notes=notes)


def table_title(path: str | Path) -> str:
    """A table file's name as readers see it: ``postkort_2026.csv`` -> "Postkort 2026"."""
    return Path(path).stem.replace("_", " ").replace("-", " ").capitalize()


def _grid_rows(path, stem, sheet, key, grid, head, columns, text_column) -> list[dict]:
    keys = {_key(c): c for c in reversed(columns)}  # first column of a name wins
    id_column = next((keys[k] for k in ID_COLUMN_NAMES if k in keys), None)
    question_column = next((keys[k] for k in QUESTION_COLUMN_NAMES if k in keys), None)
    weight_column = next((keys[k] for k in WEIGHT_COLUMN_NAMES if k in keys), None)
    consumed = {text_column, id_column, question_column, weight_column}
    # Without a question column the answers' question is the text column's name, unless that name
    # ("svar", "tekst") says nothing about where they were given: then the file's ("Postkort").
    question = table_title(path) if _key(text_column) in TEXT_COLUMN_NAMES else text_column
    extras = {c: (f"{c}_input" if c in TEXT_COLUMNS else c) for c in columns if c not in consumed}
    prefix = stem if key is None else f"{stem}:{key}"
    out = []
    for row_number, values in enumerate(grid[head + 1 :], start=head + 2):
        if not any(cell_text(v) for v in values):
            continue
        cells = dict(zip(columns, list(values) + [None] * (len(columns) - len(values))))
        where = f"række {row_number}" if sheet is None else f"ark '{sheet}', række {row_number}"
        if len(values) > len(columns) and any(cell_text(v) for v in values[len(columns) :]):
            raise InputError(path, f"{len(values)} felter, men overskriftsrækken har {len(columns)}", where=where)
        row_id = cell_text(cells[id_column]) if id_column else None
        row = {
            "text_id": f"{stem}:{row_id.strip()}" if row_id and row_id.strip() else f"{prefix}:{row_number}",
            "text": cell_text(cells[text_column]) or "",
            "question": (cell_text(cells[question_column]) if question_column else None) or question,
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
        raise InputError(path, f"vægten '{short(text)}' er ikke et tal", where=where) from None
    if not math.isfinite(weight):
        raise InputError(path, f"vægten '{short(text)}' er ikke et tal", where=where)
    if weight < 0:
        raise InputError(path, f"vægten '{short(text)}' er negativ", where=where)
    return weight


def _raise_no_text_column(path: Path, first_columns, config: IngestConfig):
    if first_columns is None:
        raise InputError(path, "ingen rækker i filen")
    sheet, columns = first_columns
    where = f"ark '{sheet}'" if sheet is not None else None
    found = listing([short(c) for c in columns], shown=20)
    if config.text_column is not None:
        raise InputError(path, f"tekstkolonnen '{config.text_column}' findes ikke (kolonner: {found})", where=where)
    answer = next((c for c in columns if len(c.split()) >= _ANSWER_WORDS), None)
    if answer is not None and answer.rstrip().endswith("?"):  # a form's question names its answers' column
        raise InputError(path, f"ingen tekstkolonne: er '{answer}' spørgsmålet over svarene, så brug "
                         f"--text-column \"{answer}\"", where=where)  # fmt: skip
    if answer is not None:  # the texts start on the first line: a header row is what is missing
        line = "linje" if sheet is None else "række"
        raise InputError(path, f"ingen overskriftsrække: første {line} ('{short(answer)}') ligner et svar; "
                         f"tilføj en {line} med 'svar' over teksterne (er det kolonnens navn, så brug --text-column)",
                         where=where)  # fmt: skip
    raise InputError(path, f"ingen tekstkolonne (kolonner: {found}); brug --text-column", where=where)


# A column "name" of this many words is a sentence: an answer on the first line, not a header.
_ANSWER_WORDS = 5
