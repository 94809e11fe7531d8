"""The XLSX files: theme_frequencies.xlsx (one sheet per breakdown), quotes.xlsx and, for a
series of workshops, workshop_themes.xlsx.

Sheets with a bold, wrapped, frozen header with filters, fitted column widths, Excel
number formats (shares as percentages) and wrapped long texts (cut, marked "…", only beyond
the 32,767 characters an Excel cell holds). A formula-like text stays
text: verbatim, with Excel's quote prefix (:func:`pipeline.formulas.keep_as_text`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from pipeline.formulas import keep_as_text, printable
from pipeline.report import (
    CHECK_HEADER, DANISH_HEADERS, SHEET_NAMES, RunResult, check_cells, in_report_order, share_basis, theme_order,
    topic_names,
)
from pipeline.writers.tables import (
    PERCENT, Table, danish_table, emerging_table, readable_frequencies, readable_quotes, workshop_theme_table,
)

# openpyxl is imported inside the functions that use it: it is slow to import, and
# `tematik --help` must not pay for it.

# Wrapped text columns and their widths (characters); other columns are fitted to their contents,
# up to FITTED_WIDTH_MAX, and wrap when a text is longer (a question, a name): the next cell would
# cut it off.
WRAPPED_COLUMNS = {"text": 70, "words": 70, "quotes": 70, "lemmas": 70, "source": 40}
FITTED_WIDTH_MAX = 45
# The most characters an Excel cell holds; pandas and openpyxl cut a longer text there, mid-word and
# unmarked. A text is at most 10,000 characters (pipeline.ingest) and every sheet holds one per cell,
# so this is a guard: a longer cell would still end at a word, marked.
EXCEL_CELL_CHARS = 32_767
# A table's note (Table.note) stands one empty row below it, over the table's width; Excel sizes no
# merged cell's row to its text, so the row gets the height of its wrapped lines (Calibri 11: 15 pt).
NOTE_LINE_POINTS = 15


def cell_value(value):
    """``value`` as an xlsx cell can hold it: XML-safe, a text longer than a cell cut at a space and marked "…"."""
    from pipeline.ingest.normalise import cut_text  # pipeline.ingest imports the readers (docx, openpyxl)

    value = printable(value)
    return cut_text(value, EXCEL_CELL_CHARS) if isinstance(value, str) else value


def write_xlsx(sheets: Mapping[str, Table], path: Path) -> None:
    """Sheets with a bold, wrapped, frozen header with filters, fitted column widths, number
    formats, wrapped long texts; formula-like texts stay text (see the module docstring)."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in sheets.items():
            frame = table.frame.map(cell_value).rename(columns=printable)
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for row in sheet.iter_rows():
                for cell in row:
                    keep_as_text(cell)
            sheet.freeze_panes = "A2"
            if len(frame.columns):
                sheet.auto_filter.ref = sheet.dimensions
            for index, column in enumerate(table.frame.columns, start=1):
                letter = get_column_letter(index)
                values = frame.iloc[:, index - 1]
                number_format = table.formats.get(column)
                lengths = values.astype(str).str.len().head(500)
                longest = 8 if number_format or lengths.empty else int(lengths.max())
                wrapped = next((w for c, w in WRAPPED_COLUMNS.items() if column in (c, DANISH_HEADERS.get(c))), None)
                # Headers wrap, so a long header needs only half its length; numbers need little.
                fitted = max(longest, len(str(column)) // 2 + 1) + 2
                width = wrapped or max(10, min(fitted, FITTED_WIDTH_MAX))
                sheet.column_dimensions[letter].width = width
                wraps = wrapped is not None or (not number_format and longest > width)
                for cell in sheet[letter][1:]:
                    if number_format:
                        cell.number_format = number_format
                    if wraps:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
                header = sheet[f"{letter}1"]
                header.font = Font(bold=True)
                header.alignment = Alignment(wrap_text=True, vertical="top")
            if table.note:
                write_note(sheet, table.note, row=len(frame) + 3, columns=max(len(frame.columns), 1))


def write_note(sheet, note: str, row: int, columns: int) -> None:
    """``note`` in ``row``, over the first ``columns`` columns (set after their widths), wrapped; below
    the table and outside its filter, so sorting and filtering the table leave it in place."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    cell = sheet.cell(row=row, column=1, value=cell_value(note))
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    cell.font = Font(italic=True)
    if columns > 1:
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
    width = sum(sheet.column_dimensions[get_column_letter(column)].width or 10 for column in range(1, columns + 1))
    sheet.row_dimensions[row].height = NOTE_LINE_POINTS * max(1, math.ceil(len(note) / width))


def workshop_theme_sheets(
    by_workshop: pd.DataFrame, labels: Mapping[str, str], order: Sequence[str] | None = None
) -> dict[str, Table]:
    """The series overview: shares (with each workshop's texts), text counts, intervals, all figures;
    the themes in ``order`` (the reports'; None: the taxonomy's)."""
    workshop = DANISH_HEADERS["workshop"]
    shares = workshop_theme_table(by_workshop, labels, order=order)
    counts = workshop_theme_table(by_workshop, labels, "n_texts", order)
    low, high = (workshop_theme_table(by_workshop, labels, bound, order) for bound in ("ci_low", "ci_high"))
    bounds = pd.concat([low.add_suffix(" nedre"), high.add_suffix(" øvre")], axis=1)
    bounds = bounds[[f"{name} {end}" for name in shares.columns for end in ("nedre", "øvre")]]

    def sheet(table: pd.DataFrame, number_format: str, texts: bool = False) -> Table:
        frame = table.rename_axis(workshop).reset_index()
        if texts:
            frame.insert(1, "Tekster i alt", counts.sum(axis=1).to_numpy())
        formats = {column: number_format for column in table.columns} | ({"Tekster i alt": "0"} if texts else {})
        return Table(frame, formats)

    long = by_workshop.drop(columns=["label"], errors="ignore").assign(
        label=by_workshop["theme"].map(lambda theme: labels.get(theme, theme)))  # fmt: skip
    order = ["workshop", "label", "n_texts", "weighted_frequency", "share", "ci_low", "ci_high", "theme"]
    return {
        "Andele": sheet(shares, PERCENT, texts=True),
        "Tekster": sheet(counts, "0"),
        "95 %-intervaller": sheet(bounds, PERCENT),
        "Alle tal": danish_table(long[[c for c in order if c in long.columns]], labels),
    }



def frequency_sheets(result: RunResult) -> dict[str, Table]:
    """One sheet per breakdown, each in report order (by the overall share, andet last), as Word, HTML and
    the console show it. "I alt" with each theme's check after a validation, and under it what the shares
    rest on (the validation, or what the interval leaves out), as the other reports say it."""
    labels = result.taxonomy_labels
    sheets = {}
    for name, table in result.frequencies.items():
        table = in_report_order(table, result.frequencies["total"])
        sheet = danish_table(readable_frequencies(table, labels), labels)
        if name == "total":
            checks = check_cells(result, table["theme"].tolist())
            if checks is not None:
                sheet.frame[CHECK_HEADER] = checks
            sheet.note = share_basis(result)
        sheets[SHEET_NAMES.get(name, name)] = sheet
    return sheets


def write_xlsx_files(result: RunResult, folder: Path) -> None:
    """theme_frequencies.xlsx, quotes.xlsx and, with several workshops, workshop_themes.xlsx."""
    labels = result.taxonomy_labels
    names = topic_names(result.topics)
    write_xlsx(frequency_sheets(result), folder / "theme_frequencies.xlsx")
    quote_sheets = {"Temaer": readable_quotes(result.quotes_by_theme, "theme", labels),
                    "Emner": readable_quotes(result.quotes_by_topic, "topic", names),
                    "Nye temaer": danish_table(emerging_table(result.emerging, result.assignments))}  # fmt: skip
    write_xlsx(quote_sheets, folder / "quotes.xlsx")
    by_workshop = result.frequencies.get("workshop")
    if by_workshop is not None and by_workshop["workshop"].nunique() > 1:
        write_xlsx(workshop_theme_sheets(by_workshop, labels, theme_order(result)), folder / "workshop_themes.xlsx")
