"""Personal data and spreadsheet formulas planted in every input kind, then looked for everywhere.

A real Prefect flow run reads a workshop folder holding a Mentimeter export, a Word note,
a Markdown note, a CSV and an Excel table, each with CPR numbers, e-mail addresses,
phone numbers, a URL with a query, person names and formula-like answers (one a real
formula cell). Afterwards every export, the saved model, the Prefect artifacts and every
file Prefect keeps (its database and result store) are scanned: no personal data, and no
cell a spreadsheet would evaluate — while the formula-like answers are still there to read.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from pathlib import Path

import docx
import openpyxl
import pytest
from conftest import DEMO
from helpers_ingest_files import write_docx, write_session_workbook, write_table_workbook
from prefect.client.orchestration import get_client

from flows.workshop import workshop_flow

pytestmark = pytest.mark.slow

# What must never be written anywhere; each planted below in several input kinds.
SECRETS = {
    "cpr": "010190-1234",
    "cpr without dash": "2412851234",
    "e-mail": "anne.hansen@example.dk",
    "phone": "12 34 56 78",
    "phone packed": "87654321",
    "url query": "token=hemmelig",
    "name after title": "Kastrup",
    "hyphenated name": "anne-mette",
}
FORMULAS = ['=HYPERLINK("http://x","klik")', "@SUM(A1)", "=cmd|' /C calc'!A0", "\t=2+2"]


def _plant(folder: Path) -> None:
    answers = [
        "Ring til mig på +45 12 34 56 78 om lærepladser",
        "Skriv til anne.hansen@example.dk om den grønne omstilling",
        "Mit CPR er 010190-1234, men jeg vil gerne have flere robotter",
        "Se https://example.dk/svar?id=42&token=hemmelig om eksport",
        "Direktør Jens Kastrup mener at vi mangler ingeniører",
        "anne-mette siger at iværksættere mangler kapital",
        *FORMULAS,
    ]
    write_session_workbook(folder / "menti-ekstra.xlsx", [{"type": "Open Ended", "question": "Hvad mangler?", "answers": answers}])
    write_docx(folder / "notat-ekstra.docx", [
        ("Heading 1", "Tema: Arbejdskraft"),
        ("Normal", "Borgmester Jens Kastrup (tlf. 87654321) fortalte om mangel på faglærte i industrien."),
        ("Normal", "Kontakt anne.hansen@example.dk eller CPR 2412851234 for at få et praktikforløb i en virksomhed."),
    ])  # fmt: skip
    (folder / "noter.md").write_text(
        "# Grøn omstilling\n\nanne-mette Kastrup fra kommunen (+45 12 34 56 78) vil have flere solceller på tagene.\n",
        encoding="utf-8",
    )
    with open(folder / "spoergeskema.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["svar"])
        writer.writerows([[FORMULAS[0]], ["@SUM(A1) er vores budget til digitalisering"], ["Ring på 87654321 om eksport"]])
    write_table_workbook(folder / "tabel.xlsx", {"Svar": [["svar"], ["Ring til anne.hansen@example.dk om robotter"], ['=CONCATENATE("mere ";"eksport")']]})


def _csv_cells(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig")
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,")
    return [cell for row in csv.reader(io.StringIO(text), dialect) for cell in row]


_NUMBER = re.compile(r"^-?\d+([.,]\d+)?(e-?\d+)?$")


def _evaluated(cell: str) -> bool:
    """Would a spreadsheet evaluate this cell? (OWASP's trigger characters; plain numbers are numbers.)"""
    return bool(cell) and cell[0] in "=+-@\t\r" and not _NUMBER.match(cell.strip())


def _readable_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        workbook = openpyxl.load_workbook(path)
        return "\n".join(str(cell.value) for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value is not None)
    if path.suffix == ".docx":
        document = docx.Document(path)
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    return path.read_bytes().decode("utf-8", errors="replace")


def _found(text: str) -> list[str]:
    lowered = text.lower()
    return [kind for kind, secret in SECRETS.items() if secret.lower() in lowered]


@pytest.fixture(scope="module")
def planted_run(prefect_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    workshop = root / "Planteret workshop"
    shutil.copytree(DEMO, workshop)
    _plant(workshop)
    before = {path: path.read_bytes() for path in workshop.iterdir()}
    outcome = workshop_flow(inputs=[str(workshop)], out=str(root / "out"), models=str(root / "models"), embedder="lsa")
    assert {path: path.read_bytes() for path in workshop.iterdir()} == before  # inputs are never modified
    return outcome


def test_no_personal_data_in_any_export_or_the_saved_model(planted_run):
    files = [p for p in [*planted_run.output_dir.rglob("*"), *planted_run.model_dir.rglob("*")] if p.is_file()]
    assert len(files) > 15
    leaks = {str(path): _found(_readable_text(path)) for path in files if path.suffix != ".png"}
    assert {path: kinds for path, kinds in leaks.items() if kinds} == {}
    manifest = (planted_run.output_dir / "manifest.json").read_text(encoding="utf-8")
    assert '"cpr": ' in manifest and '"email": ' in manifest  # counts, never values


def test_no_personal_data_in_prefect(planted_run):
    from prefect.settings import PREFECT_HOME

    body = {"artifacts": {}, "limit": 200, "offset": 0, "sort": "CREATED_DESC"}
    with get_client(sync_client=True) as client:
        artifacts = client.request("POST", "/artifacts/filter", json=body).json()
    assert artifacts and not _found(str(artifacts))
    home = Path(PREFECT_HOME.value())
    stored = [p for p in home.rglob("*") if p.is_file()]
    assert stored
    leaks = {str(p): _found(p.read_bytes().decode("latin-1")) for p in stored}
    assert {path: kinds for path, kinds in leaks.items() if kinds} == {}


def test_exports_hold_no_cell_a_spreadsheet_would_evaluate_yet_keep_the_answers(planted_run):
    output = planted_run.output_dir
    csvs = sorted(output.rglob("*.csv"))
    assert len(csvs) >= 6
    for path in csvs:
        assert [cell for cell in _csv_cells(path) if _evaluated(cell)] == [], path.name
    for path in sorted(output.rglob("*.xlsx")):
        workbook = openpyxl.load_workbook(path)
        formulas = [cell.coordinate for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
        assert formulas == [], path.name
    readable = "\n".join(_csv_cells(output / "assignments.csv"))
    assert 'HYPERLINK("http://x","klik")' in readable and "SUM(A1)" in readable
    assert "CONCATENATE(" in readable  # a formula cell of an input table is read as its text, not dropped
    assert os.path.getsize(output / "quotes.docx") > 0
