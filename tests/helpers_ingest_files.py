"""Builders of real input files for the ingestion tests (xlsx, docx, pdf), with texts written by us."""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "nordjylland-2023"


def write_session_workbook(path: Path, blocks: list[dict], sessions: int = 1) -> Path:
    """A Mentimeter export with a Presentation sheet and per-session sheets of question blocks.

    Each block: {"type", "question", "answers": [text or (text, upvotes)], "upvotes_header": str|None}.
    """
    workbook = openpyxl.Workbook()
    presentation = workbook.active
    presentation.title = "Presentation"
    presentation.append(["Presentation", "Testworkshop om erhvervsfremme"])
    presentation.append(["Date", "2026-05-04"])
    for session in range(1, sessions + 1):
        sheet = workbook.create_sheet(f"Session {session}")
        sheet.append([f"Session {session}", "2026-05-04 10:00"])
        for number, block in enumerate(blocks, start=1):
            sheet.append([])
            sheet.append([f"Question {number}"])
            sheet.append(["Type", block["type"]])
            sheet.append(["Question", block["question"]])
            sheet.append(["Responses", block.get("responses", len(block["answers"]))])
            sheet.append([])
            sheet.append(["Answer"] + ([block["upvotes_header"]] if block.get("upvotes_header") else []))
            for answer in block["answers"]:
                sheet.append(list(answer) if isinstance(answer, tuple) else [answer])
    workbook.save(path)
    return path


def write_voters_workbook(path: Path, header: list[str], rows: list[list], extra_sheets: dict | None = None) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Voters"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for title, grid in (extra_sheets or {}).items():
        other = workbook.create_sheet(title)
        for row in grid:
            other.append(row)
    workbook.save(path)
    return path


def write_table_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, grid in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in grid:
            sheet.append(row)
    workbook.save(path)
    return path


def write_docx(path: Path, blocks: list[tuple[str, object]]) -> Path:
    """blocks: (style, text) for paragraphs, ("table", [[cell, ...], ...]) for tables."""
    document = docx.Document()
    for style, content in blocks:
        if style == "table":
            table = document.add_table(rows=len(content), cols=len(content[0]))
            for r, row in enumerate(content):
                for c, text in enumerate(row):
                    table.cell(r, c).text = text
        else:
            document.add_paragraph(content, style=style)
    document.save(path)
    return path


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A text PDF (matplotlib, embedded TrueType text that pypdf can extract), one list of lines per page."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        for lines in pages:
            figure = plt.figure(figsize=(8.27, 11.69))
            y = 0.95
            for line in lines:
                if line:
                    figure.text(0.08, y, line, fontsize=10)
                y -= 0.018
            pdf.savefig(figure)
            plt.close(figure)
    return path


def set_cached_values(path: Path, values: dict[str, tuple[str, str]], sheet: str = "xl/worksheets/sheet1.xml") -> Path:
    """Give formula cells of an openpyxl-written workbook the cached result Excel would store.

    openpyxl writes formulas without results; Excel files carry them in ``<v>``. ``values``
    maps a cell ("A2") to (type, value): type "str" for a text result, "e" for an error
    such as "#NAME?", "n" for a number.
    """
    import zipfile

    from lxml import etree

    namespace = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    with zipfile.ZipFile(path) as archive:
        members = {info: archive.read(info.filename) for info in archive.infolist()}
    for info in members:
        if info.filename == sheet:
            root = etree.fromstring(members[info])
            for ref, (kind, value) in values.items():
                cell = root.find(f".//{{{namespace}}}c[@r='{ref}']")
                assert cell is not None and cell.find(f"{{{namespace}}}f") is not None, f"no formula in {ref}"
                cell.set("t", kind)
                cached = cell.find(f"{{{namespace}}}v")  # openpyxl writes an empty <v/>
                (cached if cached is not None else etree.SubElement(cell, f"{{{namespace}}}v")).text = value
            members[info] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members.items():
            archive.writestr(info, data)
    return path


def rewrite_member(path: Path, member: str, change, target: Path | None = None) -> Path:
    """A copy of the zip package ``path`` (xlsx/docx) with ``member``'s bytes replaced by ``change(bytes)``."""
    import zipfile

    target = target or path
    with zipfile.ZipFile(path) as archive:
        members = {info: archive.read(info.filename) for info in archive.infolist()}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members.items():
            archive.writestr(info, change(data) if info.filename == member else data)
    return target
