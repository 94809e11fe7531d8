"""Personal data and spreadsheet formulas planted in every input kind, then looked for everywhere.

A real Prefect flow run reads a workshop folder holding a Mentimeter export, a Word note,
a Markdown note, a CSV and an Excel table, each with CPR numbers, e-mail addresses,
phone numbers, a URL with a query, person names and formula-like answers (one a real
formula cell); personal data also stands in a sheet's name, an extra column's header, the
title of a skipped multiple-choice question and a name the config adds (``extra_names``).
A second flow run fails on a weight cell holding a name and a phone number. Afterwards
every export, the saved model, the Prefect artifacts and every file Prefect keeps (its
database, its result store and its home) are scanned: no personal data, and no cell a
spreadsheet would evaluate — while the formula-like answers are still there to read.
``tematik ingest`` of the same folder writes a table under the same rules.
"""

from __future__ import annotations

import csv
import io
import json
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
from pipeline.errors import InputError

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
    "sheet name": "Damgaard",
    "cpr in a sheet name": "0707071234",
    "skipped question's e-mail": "helle.t@firma.dk",
    "skipped question's phone": "61 62 63 64",
    "column header's name": "Vinther",
    "column header's phone": "71 72 73 74",
    "config's extra name": "Zebulon",
    "bad cell's name": "Kløvedal",
    "bad cell's phone": "29384756",
}
SHEET = "Lone Damgaard 0707071234"
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
    menti = write_session_workbook(folder / "menti-ekstra.xlsx", [
        {"type": "Open Ended", "question": "Hvad mangler?", "answers": answers},
        {"type": "Multiple Choice", "question": "Stem på Helle Thorning (helle.t@firma.dk, 61 62 63 64)", "answers": ["Ja"]},
    ])  # fmt: skip
    workbook = openpyxl.load_workbook(menti)
    workbook["Session 1"].title = SHEET  # a sheet named after a participant
    workbook.save(menti)
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
    write_table_workbook(folder / "tabel.xlsx", {"Svar": [
        ["svar", "Kontakt Mette Vinther 71 72 73 74"],
        ["Ring til anne.hansen@example.dk om robotter", "ja"],
        ['=CONCATENATE("mere ";"eksport")', "nej"],
        ["Zebulon Quist vil have flere cykelstier", "ja"],
    ]})  # fmt: skip


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


def _planted_workshop(root: Path) -> Path:
    workshop = root / "Planteret workshop"
    shutil.copytree(DEMO, workshop)
    _plant(workshop)
    return workshop


@pytest.fixture(scope="module")
def failed_run(prefect_server, tmp_path_factory):
    """A flow run that stops on a weight cell quoting a name and a phone number: its error."""
    folder = tmp_path_factory.mktemp("failed")
    (folder / "vaegte.csv").write_text("svar;vægt\nMere samarbejde;2\nFlere robotter;Mette Kløvedal 29384756\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        workshop_flow(inputs=[str(folder)], out=str(folder / "out"), models=str(folder / "models"), embedder="lsa")
    return raised.value


@pytest.fixture(scope="module")
def planted_run(prefect_server, failed_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    workshop = _planted_workshop(root)
    before = {path: path.read_bytes() for path in workshop.iterdir()}
    (root / "config.yaml").write_text("redaction:\n  extra_names: [Zebulon Quist]\n", encoding="utf-8")
    outcome = workshop_flow(inputs=[str(workshop)], out=str(root / "out"), models=str(root / "models"), embedder="lsa",
                            config_file=str(root / "config.yaml"))  # fmt: skip
    assert {path: path.read_bytes() for path in workshop.iterdir()} == before  # inputs are never modified
    return outcome


def test_an_input_error_names_file_and_row_but_quotes_the_cell_redacted(failed_run):
    message = str(failed_run)
    assert "vaegte.csv" in message and "række 3" in message and "[NAVN] [TELEFON]" in message
    assert not _found(message) and failed_run.__context__ is None and failed_run.__cause__ is None


def test_no_personal_data_in_any_export_or_the_saved_model(planted_run):
    files = [p for p in [*planted_run.output_dir.rglob("*"), *planted_run.model_dir.rglob("*")] if p.is_file()]
    assert len(files) > 15
    leaks = {str(path): _found(_readable_text(path)) for path in files if path.suffix != ".png"}
    assert {path: kinds for path, kinds in leaks.items() if kinds} == {}
    manifest = (planted_run.output_dir / "manifest.json").read_text(encoding="utf-8")
    assert '"cpr": ' in manifest and '"email": ' in manifest  # counts, never values


def test_no_personal_data_in_prefect(planted_run, failed_run):
    from prefect.settings import PREFECT_HOME, PREFECT_SERVER_DATABASE_CONNECTION_URL

    from flows.server import _drain_prefect_workers

    _drain_prefect_workers(timeout=10)  # the runs' log lines and events are in the database
    body = {"artifacts": {}, "limit": 200, "offset": 0, "sort": "CREATED_DESC"}
    with get_client(sync_client=True) as client:
        artifacts = client.request("POST", "/artifacts/filter", json=body).json()
        logs = client.request("POST", "/logs/filter", json={"limit": 200}).json()
        flow_runs = client.request("POST", "/flow_runs/filter", json={"limit": 50}).json()
    assert artifacts and not _found(str(artifacts))
    assert any("spørgsmål uden fritekst sprunget over" in log["message"] for log in logs)  # the skipped question is logged ...
    assert not _found(str(logs))  # ... redacted, as is every other line
    failed = [run for run in flow_runs if run["state"]["type"] == "FAILED"]
    assert failed and "[TELEFON]" in str(failed) and not _found(str(flow_runs))
    # Every file Prefect keeps: its home (result storage) and the test server's database.
    database = Path(PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split("///", 1)[1]).parent
    stored = [p for folder in (Path(PREFECT_HOME.value()), database) for p in folder.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in stored) and any("storage" in p.parts for p in stored)
    leaks = {str(p): _found(p.read_bytes().decode("latin-1") + p.read_bytes().decode("utf-8", "replace")) for p in stored}
    assert {path: kinds for path, kinds in leaks.items() if kinds} == {}


def test_sheet_names_and_column_headers_are_redacted_where_they_surface(planted_run):
    assignments = (planted_run.output_dir / "data" / "assignments.csv").read_text(encoding="utf-8")
    assert ":ark2:r" in assignments  # the sheet named after a participant is named by position in the text ids
    assert "Kontakt [NAVN] [TELEFON]" in assignments.splitlines()[0]  # the extra column, its header redacted
    manifest = json.loads((planted_run.output_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["redaction"]["extra_names"] == [] and manifest["redaction"]["extra_names"] == 1


def test_ingest_writes_what_a_run_sees_redacted_and_without_formulas(tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    workshop = _planted_workshop(tmp_path)
    target = tmp_path / "tekster.csv"
    (tmp_path / "config.yaml").write_text("redaction:\n  extra_names: [Zebulon Quist]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(workshop), "--out", str(target), "--config", str(tmp_path / "config.yaml")])
    assert result.exit_code == 0, result.output
    written = target.read_text(encoding="utf-8-sig")
    assert _found(written + result.output) == []
    assert [cell for cell in _csv_cells(target) if _evaluated(cell)] == []
    cells = "\n".join(_csv_cells(target))
    assert 'HYPERLINK("http://x","klik")' in cells and "[TELEFON]" in cells and ":ark2:r" in cells
    kept = CliRunner().invoke(app, ["ingest", str(workshop), "--out", str(tmp_path / "alt.csv"), "--behold-persondata"])
    assert kept.exit_code == 0 and "010190-1234" in (tmp_path / "alt.csv").read_text(encoding="utf-8-sig")


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
