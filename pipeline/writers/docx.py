"""quotes.docx, the Word file report writers paste from: A4, Danish proofing language, per
theme a heading, a paragraph with the share and its interval, and full-width two-column
quote tables (quote, source); then the emerging themes.

python-docx writes the document; the few settings it has no API for (the table look, the
repeated header row, the proofing language) are set on its OXML elements.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pipeline.formulas import printable
from pipeline.report import (
    EMERGING_INTRO, RunResult, emerging_quotes, emerging_summary, no_quotes_note, overview_rows, quote_parts,
    quoted_rows, share_basis, source, theme_summary,
)

# python-docx is imported inside the functions that use it: it is slow to import, and
# `tematik --help` must not pay for it.

DOCX_LANGUAGE = "da-DK"
DOCX_TABLE_STYLE = "Light Grid Accent 1"
_PAGE_MM = (210, 297)  # A4
_MARGIN_MM = 25
_QUOTE_COLUMN_SHARE = 0.68  # of the text width; the source column gets the rest
# A row is kept on one page up to this many characters (about 25 lines of the quote column, half a
# page). A longer quote's row may break across pages: Word cuts off the bottom of a row that is
# taller than a page and may not break, and a note passage can be 10,000 characters.
_ROW_KEPT_WHOLE_CHARS = 1500


def _docx_text(value) -> str:
    """Text for Word: XML-safe, and "23,5 %" kept on one line (a no-break space before %)."""
    return printable(str(value)).replace(" %", "\u00a0%")


def _set_language(rPr, language: str = DOCX_LANGUAGE) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    lang = rPr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rPr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    lang.set(qn("w:val"), language)


def set_document_language(document, language: str = DOCX_LANGUAGE) -> None:
    """Danish proofing everywhere Word looks: defaults, every style, every run, theme fonts."""
    from docx.oxml.ns import qn

    styles = document.styles.element
    for style in document.styles:
        style.element.get_or_add_rPr()
    for rPr in styles.iter(qn("w:rPr")):  # doc defaults, styles, table-style conditions
        _set_language(rPr, language)
    for run in document.element.body.iter(qn("w:r")):
        _set_language(run.get_or_add_rPr(), language)
    theme_lang = document.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:val"), language)
    document.core_properties.language = language


def _quote_table(document, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int], muted: bool = True):
    """A table over the full text width in normal weight: the style's bold first column off,
    the header row repeated on every page, rows not split across pages unless a page is too short for them; ``muted``: the columns
    after the first (the source) in small grey type."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    table = document.add_table(rows=1, cols=len(header))
    table.style = document.styles[DOCX_TABLE_STYLE]
    table.autofit = False
    properties = table._tbl.tblPr
    look = properties.find(qn("w:tblLook"))
    if look is None:
        look = OxmlElement("w:tblLook")
        properties.append(look)
    for attribute, value in {"val": "0420", "firstRow": "1", "lastRow": "0", "firstColumn": "0", "lastColumn": "0",
                             "noHBand": "0", "noVBand": "1"}.items():  # fmt: skip
        look.set(qn(f"w:{attribute}"), value)
    table_width = properties.find(qn("w:tblW"))
    if table_width is not None:
        table_width.set(qn("w:type"), "dxa")
        table_width.set(qn("w:w"), str(int(sum(widths) / 635)))  # EMU -> twentieths of a point
    for cell, title in zip(table.rows[0].cells, header):
        cell.text = _docx_text(title)
    header_row = table.rows[0]._tr.get_or_add_trPr()
    header_row.append(OxmlElement("w:tblHeader"))
    for values in rows:
        row = table.add_row()
        if sum(len(str(value)) for value in values) <= _ROW_KEPT_WHOLE_CHARS:
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for column, (cell, value) in enumerate(zip(row.cells, values)):
            run = cell.paragraphs[0].add_run(_docx_text(value))
            run.bold = False  # the table style makes the first column bold; quotes are not headings
            if muted and column > 0:
                run.font.size = Pt(9)
                run.font.color.rgb = RGBColor(0x40, 0x40, 0x40)
    for column, width in zip(table.columns, widths):
        column.width = width
    for row in table.rows:  # Word honours cell widths, LibreOffice the grid: set both
        for cell, width in zip(row.cells, widths):
            cell.width = width
    return table


def _quote_tables(document, quotes: pd.DataFrame, widths: Sequence[int]) -> None:
    """One table per part (:func:`quote_parts`)."""
    for title, part in quote_parts(quotes):
        rows = [(quote["text"], source(quote)) for quote in part.to_dict("records")]
        _quote_table(document, (title, "Kilde"), rows, widths)
        document.add_paragraph()


def write_quotes_docx(result: RunResult, path: Path) -> None:
    """The Word file report writers paste from: A4, Danish, per theme a heading, a paragraph
    with the share and its interval, and quote tables; then the emerging themes."""
    import docx
    from docx.shared import Mm

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(_PAGE_MM[0]), Mm(_PAGE_MM[1])
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Mm(_MARGIN_MM)
    text_width = section.page_width - section.left_margin - section.right_margin
    quote_width = int(text_width * _QUOTE_COLUMN_SHARE)
    widths = (quote_width, text_width - quote_width)
    document.core_properties.title = "Repræsentative citater"

    document.add_heading("Repræsentative citater", level=0)
    document.add_paragraph(_docx_text(
        "Udsagnene er valgt som de mest centrale og indbyrdes forskellige pr. tema, i deltagernes egne ord. "
        "Deltagernes svar og uddrag fra opsamlingen står hver for sig. " + share_basis(result)
    ))
    header, overview = overview_rows(result)
    narrow, interval_width = int(text_width * 0.11), int(text_width * 0.2)
    first = text_width - interval_width - (len(header) - 2) * narrow
    _quote_table(document, header, [tuple(_docx_text(cell) for cell in cells) for _, cells in overview],
                 (first, narrow, interval_width, *[narrow] * (len(header) - 3)), muted=False)  # fmt: skip

    for theme, _ in overview:
        document.add_heading(_docx_text(result.taxonomy_labels.get(theme, theme)), level=1)
        document.add_paragraph(_docx_text(theme_summary(result, theme)))
        theme_quotes = result.quotes_by_theme[result.quotes_by_theme["theme"] == theme]
        if theme_quotes.empty:
            document.add_paragraph(_docx_text(no_quotes_note(result, theme)))
        _quote_tables(document, theme_quotes, widths)

    document.add_heading("Nye temaer", level=1)
    document.add_paragraph(EMERGING_INTRO)
    if result.emerging.empty:
        document.add_paragraph("Ingen nye temaer: ingen gruppe af tekster uden for temaerne.")
    quoted = quoted_rows(result.emerging, result.assignments)
    for theme in result.emerging.to_dict("records"):
        document.add_heading(_docx_text(theme["name"]), level=2)
        document.add_paragraph(_docx_text(emerging_summary(theme)))
        _quote_tables(document, emerging_quotes(theme, quoted), widths)
    set_document_language(document)
    document.save(path)


