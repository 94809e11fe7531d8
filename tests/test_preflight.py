"""``tematik run``/``series`` find what needs no model — paths, texts, config, taxonomy, folders —
before a model loads or a flow starts (a temporary Prefect server, started meanwhile, is stopped):
one line, exit 1, nothing written, Prefect not even imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import DEMO, REPO

# The command as a terminal runs it, then whether Prefect was imported (a server needs it, and so
# does every flow): on stdout, apart from the command's own lines on stderr.
_RUN = """
import sys
from flows.cli import app
try:
    app(sys.argv[1:], prog_name="tematik")
except SystemExit as stop:
    print("exit", stop.code, "prefect" in sys.modules)
"""


def _tematik(tmp_path: Path, *arguments: str) -> tuple[int, list[str], bool]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), COLUMNS="300")
    done = subprocess.run([sys.executable, "-c", _RUN, *arguments], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    _, code, prefect = done.stdout.split()
    return int(code), [line for line in done.stderr.splitlines() if line.strip()], prefect == "True"


def _folder_without_texts(tmp_path: Path) -> Path:
    folder = tmp_path / "tom-workshop"
    folder.mkdir()
    (folder / "svar.csv").write_text("svar;kommune\n;Aalborg\n  ;Aarhus\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "case, named",
    [
        ("missing path", "findes-ikke"),
        ("empty folder", "tom-mappe"),
        ("no texts", "svar.csv"),
        ("unknown taxonomy", "no-such-taxonomy"),
        ("broken config", "indstillinger.yaml"),
        ("unwritable output folder", "optaget"),
        ("series without the workshop column", "kommunenavn"),
    ],
)
def test_a_bad_run_stops_in_one_line_before_any_model_or_flow(tmp_path, case, named):
    out, models = tmp_path / "outputs", tmp_path / "models"
    inputs, extra, command = [str(DEMO / "postkort.csv")], [], "run"
    if case == "missing path":
        inputs = [str(tmp_path / "findes-ikke")]
    elif case == "empty folder":
        (tmp_path / "tom-mappe").mkdir()
        inputs = [str(tmp_path / "tom-mappe")]
    elif case == "no texts":
        inputs = [str(_folder_without_texts(tmp_path))]
    elif case == "unknown taxonomy":
        extra = ["--taxonomy", "no-such-taxonomy"]
    elif case == "broken config":
        config = tmp_path / "indstillinger.yaml"
        config.write_text("quotes:\n  no_such_setting: 3\n", encoding="utf-8")
        extra = ["--config", str(config)]
    elif case == "unwritable output folder":
        out = tmp_path / "optaget"
        out.write_text("en fil, ikke en mappe", encoding="utf-8")
    else:
        command, extra = "series", ["--workshop-column", "kommunenavn"]
    code, lines, prefect_imported = _tematik(
        tmp_path, command, *inputs, *extra, "--out", str(out), "--models", str(models)
    )
    assert code == 1, lines
    assert len(lines) == 1 and named in lines[0], lines
    assert not prefect_imported  # no flow loaded
    assert not models.exists() and (not out.exists() or out.is_file())  # nothing written


def test_a_missing_path_is_told_before_ingestion_is_even_imported(tmp_path):
    """The path check imports nothing heavy, so it answers at once (timed in benchmarks/bad_input.py)."""
    script = """
import sys
from flows.cli import app
try:
    app(["run", sys.argv[1]], prog_name="tematik")
except SystemExit as stop:
    print(stop.code, sorted(m for m in ("pandas", "pipeline.ingest", "prefect") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "findes-ikke")], cwd=REPO,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.stdout.split(maxsplit=1) == ["1", "[]\n"], done.stdout + done.stderr


def test_the_files_the_checks_read_are_not_read_again_by_the_run(tmp_path):
    import shutil

    from pipeline import preflight
    from pipeline.config import RunOverrides

    answers = tmp_path / "postkort.csv"
    shutil.copy(DEMO / "postkort.csv", answers)
    config = preflight.check_run([answers], None, RunOverrides(workshop="Demo"), tmp_path / "out", tmp_path / "models")
    kept = preflight._read_ahead.get(preflight._key(answers, config.ingest))
    assert kept is not None
    first = preflight.read_file(answers, config.ingest)  # the checks' reading, handed over once
    again = preflight.read_file(answers, config.ingest)  # read anew
    assert first is kept and again is not kept
    pd.testing.assert_frame_equal(first, again)
    assert first.attrs == again.attrs  # with the file's ingest report

    preflight.check_run([answers], None, RunOverrides(workshop="Demo"), tmp_path / "out", tmp_path / "models")
    answers.write_text(answers.read_text(encoding="cp1252") + "P99;Aalborg;Et nyt svar\n", encoding="cp1252")
    changed = preflight.read_file(answers, config.ingest)  # changed since the check: read now
    assert len(changed) == len(first) + 1


def test_an_output_path_through_a_file_is_told_in_danish_and_leaves_no_folder(tmp_path):
    from pipeline.config import RunConfig
    from pipeline.errors import InputError
    from pipeline.preflight import check_settings

    a_file = tmp_path / "resultater.txt"
    a_file.write_text("en fil, ikke en mappe", encoding="utf-8")
    with pytest.raises(InputError) as caught:  # --out is fine, --models runs through a file
        check_settings(RunConfig(), tmp_path / "ud" / "runde1", a_file / "modeller")
    assert str(caught.value) == f"{a_file / 'modeller'}: modelmappen kan ikke oprettes: {a_file} er en fil, ikke en mappe"
    assert not (tmp_path / "ud").exists()  # the output folder made for the check is gone again
    with pytest.raises(InputError) as caught:
        check_settings(RunConfig(), a_file, tmp_path / "modeller")
    assert str(caught.value) == f"{a_file}: resultatmappen kan ikke oprettes: {a_file} er en fil, ikke en mappe"
    assert a_file.read_text(encoding="utf-8") == "en fil, ikke en mappe"


@pytest.mark.parametrize("command", [["export"], ["validate", "--labels", "kontrol.xlsx"]])
def test_export_or_validate_of_a_folder_that_is_no_saved_run_leaves_no_output_folder(tmp_path, command):
    from typer.testing import CliRunner

    from flows.cli import app

    not_a_run = tmp_path / "workshop"
    not_a_run.mkdir()
    (not_a_run / "svar.csv").write_text("svar\nEt svar\n", encoding="utf-8")
    out = tmp_path / "resultater"
    result = CliRunner().invoke(app, [command[0], str(not_a_run), *command[1:], "--out", str(out)])
    assert result.exit_code == 1
    assert "ikke en gemt tematik-kørsel" in result.output and not out.exists()
