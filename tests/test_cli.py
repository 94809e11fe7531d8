"""The ``tematik`` command: exit codes, one-line errors, nothing written on bad input."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import DEMO
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


def test_taxonomies_lists_the_shipped_ones():
    result = runner.invoke(app, ["taxonomies"])
    assert result.exit_code == 0
    assert "deb-2020-2023" in result.stdout and "nordjylland-2023" in result.stdout


def test_ingest_writes_the_table_of_texts(tmp_path):
    target = tmp_path / "texts.csv"
    result = runner.invoke(app, ["ingest", str(DEMO / "postkort.csv"), "--out", str(target), "--workshop", "Demo"])
    assert result.exit_code == 0, result.output
    texts = pd.read_csv(target, encoding="utf-8-sig")
    assert len(texts) > 20 and set(texts["workshop"]) == {"Demo"}
    assert "kommune" in texts.columns  # an extra column of the table is carried through


@pytest.mark.parametrize(
    "name, content",
    [
        ("empty.csv", b""),
        ("broken.xlsx", b"PK\x03\x04 this is not a workbook"),
        ("notes.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512),
    ],
)
def test_bad_input_is_one_line_naming_the_file_and_writes_nothing(tmp_path, name, content):
    bad = tmp_path / name
    bad.write_bytes(content)
    out = tmp_path / "outputs"
    result = runner.invoke(app, ["ingest", str(bad), "--out", str(out / "texts.csv")])
    assert result.exit_code == 1
    message = [line for line in result.output.splitlines() if line.strip()]
    assert len(message) == 1 and name in message[0]
    assert not out.exists()
    assert bad.read_bytes() == content  # inputs are never modified


def test_unknown_taxonomy_stops_the_run_before_any_work(tmp_path, prefect_server):
    out = tmp_path / "outputs"
    result = runner.invoke(
        app, ["run", str(DEMO / "postkort.csv"), "--taxonomy", "no-such-taxonomy", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "no-such-taxonomy" in result.output
    assert not out.exists()
