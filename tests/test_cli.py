"""The ``tematik`` command: exit codes, one-line errors, nothing written on bad input."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import DEMO
from typer.testing import CliRunner

from flows import server
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


def test_a_system_file_given_as_input_is_one_danish_line_with_exit_code_1(tmp_path):
    """/proc/self/mem under a readable name: `tematik ingest` ended "fejlede: [Errno 5] Input/output error"
    (exit code 2, no file named); now the input error's one Danish line naming it, exit code 1."""
    if not Path("/proc/self/mem").exists():
        pytest.skip("no /proc")
    link = tmp_path / "svar.csv"
    link.symlink_to("/proc/self/mem")
    out = tmp_path / "outputs"
    result = runner.invoke(app, ["ingest", str(link), "--out", str(out / "texts.csv")])
    assert result.exit_code == 1, result.output
    message = [line for line in result.output.splitlines() if line.strip()]
    assert len(message) == 1 and f"{link}: kan ikke læses (læsefejl" in " ".join(message[0].split()), message
    assert "Errno" not in result.output and not out.exists()


def test_unknown_taxonomy_stops_the_run_before_any_work(tmp_path, prefect_server):
    out = tmp_path / "outputs"
    result = runner.invoke(
        app, ["run", str(DEMO / "postkort.csv"), "--taxonomy", "no-such-taxonomy", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "no-such-taxonomy" in result.output
    assert not out.exists()


def test_help_is_danish():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Brug:" in result.stdout and "Kommandoer" in result.stdout and "Vis denne hjælp" in result.stdout
    assert "Show this message" not in result.stdout and "Usage:" not in result.stdout


@pytest.mark.parametrize(
    "arguments, danish",
    [
        (["ingest", "svar.csv"], "Mangler indstillingen '--out' / '-o'."),
        (["edit"], "Mangler argumentet 'model'."),
        (["run", "--workshp", "x", "svar.csv"], "Indstillingen --workshp findes ikke (mulige: --workshop)."),
        (["run", "svar.csv", "--out"], "Indstillingen '--out' skal have en værdi."),
        (["run", "--debug=ja", "svar.csv"], "Indstillingen '--debug' tager ingen værdi."),
        (["taxonomies", "ekstra"], "Uventet ekstra argument: ekstra"),
        (["frobnicate"], "Kommandoen 'frobnicate' findes ikke."),
        (["validate", "model", "--sample", "0", "-o", "k.xlsx"], "Ugyldig værdi for '--sample': skal være mindst 1"),
        (["validate", "model", "--sample", "halvtreds", "-o", "k.xlsx"], "Ugyldig værdi for '--sample': skal være et heltal"),
    ],
)
def test_usage_errors_are_danish(arguments, danish):
    result = CliRunner(env={"COLUMNS": "120"}).invoke(app, arguments)
    assert result.exit_code == 2
    assert danish in result.output
    assert not any(word in result.output for word in ("Missing", "No such", "requires", "Usage", "OPTIONS", "unexpected", "Input should"))


def test_help_types_are_danish_and_flags_have_none():
    result = CliRunner(env={"COLUMNS": "120"}).invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    assert "<stier>" in result.output and "<sti>" in result.output and "<tekst>" in result.output
    assert not any(english in result.output for english in ("<str>", "<path>", "<bool>", "<list[Path]>", "[OPTIONS]"))
    top = CliRunner(env={"COLUMNS": "120"}).invoke(app, ["--help"])
    assert "KOMMANDO [ARGUMENTER]..." in top.output and "COMMAND" not in top.output
    # A range keeps its bounds: validate's --sample is "<heltal> [x>=1]", not "<int range> [x>=1]".
    validate = CliRunner(env={"COLUMNS": "120"}).invoke(app, ["validate", "--help"])
    assert "<heltal> [x>=1]" in validate.output and "range" not in validate.output


@pytest.mark.slow
def test_topics_fits_80_columns_and_shows_theme_ids(saved_model):
    narrow = CliRunner(env={"COLUMNS": "80"})
    result = narrow.invoke(app, ["topics", str(saved_model)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "kvalificeret_arbejdskraft" in result.stdout and "andet" in result.stdout
    assert re.search(r" 0,\d\d\s*$", result.stdout, flags=re.MULTILINE)  # scores with a Danish decimal comma
    assert not re.search(r" 0\.\d\d\s*$", result.stdout, flags=re.MULTILINE)


@pytest.mark.slow
def test_the_readme_edit_example_hits_the_merged_topic_and_reexports(saved_model, tmp_path):
    from pipeline.saved_run import load_run
    from pipeline.views import topic_table

    topics = topic_table(load_run(saved_model))
    first, second = topics.loc[topics["topic"] >= 0, "topic"].astype(int).tolist()[:2]
    result = runner.invoke(app, [
        "edit", str(saved_model), "--merge", f"{first},{second}", "--rename", f"{first}=Robotter",
        "--theme", f"{first}=digitalisering",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    edited = topic_table(load_run(saved_model)).set_index("topic")
    assert edited.loc[first, "name"] == "Robotter" and edited.loc[first, "theme"] == "digitalisering"
    assert second not in edited.index

    out = tmp_path / "eksport"
    result = runner.invoke(app, ["export", str(saved_model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (folder,) = out.iterdir()
    exported = pd.read_csv(folder / "data" / "topics.csv")
    assert "Robotter" in set(exported["name"])

    bad = runner.invoke(app, ["edit", str(saved_model), "--theme", f"{first}=robotter"])
    assert bad.exit_code == 1 and "robotter" in bad.output


def test_a_config_value_out_of_range_stops_the_run_before_any_work(tmp_path, prefect_server):
    config = tmp_path / "settings.yaml"
    config.write_text("quotes:\n  k: -3\n", encoding="utf-8")
    out = tmp_path / "outputs"
    result = runner.invoke(app, ["run", str(DEMO / "postkort.csv"), "--config", str(config), "--out", str(out),
                                 "--models", str(tmp_path / "models")])  # fmt: skip
    assert result.exit_code == 1, result.output
    message = [line for line in result.output.splitlines() if line.startswith("fejl:")]
    assert message == [f"fejl: {config}: ugyldig konfiguration: quotes.k: skal være mindst 1 (fik -3)"]
    assert not out.exists() and "Emner" not in result.output  # no fit ran


# The console command as installed (``tematik = flows.cli:main``), in a fresh process.
TEMATIK = Path(sys.executable).with_name("tematik")


def _command(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), TMPDIR=str(tmp_path / "tmp"), COLUMNS="300")
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.run([str(TEMATIK), *arguments], check=False, env=env, capture_output=True, text=True, timeout=300)


def test_the_console_command_ends_with_its_exit_code_and_all_its_output(tmp_path):
    """``main`` leaves out the interpreter's teardown: the code and every line still come out."""
    listed = _command(tmp_path, "taxonomies")
    assert listed.returncode == 0, listed.stderr
    assert "deb-2020-2023" in listed.stdout and "nordjylland-2023" in listed.stdout
    usage = _command(tmp_path, "run")  # a usage error: click's code 2
    assert usage.returncode == 2 and usage.stderr.strip()


def test_a_bad_input_stops_the_temporary_server_it_started_and_leaves_nothing(tmp_path):
    """The temporary Prefect server starts once the inputs are found and boots while they are
    checked; a bad input ends the command in one line, server stopped, its folder removed."""
    empty = tmp_path / "svar.csv"
    empty.write_text("svar;kommune\n;Aalborg\n", encoding="utf-8")
    out, models = tmp_path / "outputs", tmp_path / "models"
    done = _command(tmp_path, "run", str(empty), "--out", str(out), "--models", str(models))
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "svar.csv" in lines[0], lines
    assert not list((tmp_path / "tmp").glob(f"{server.SERVER_FOLDER_PREFIX}*"))
    assert not out.exists() and not models.exists()


def test_a_run_ends_with_the_check_its_taxonomy_needs_as_a_command_that_works(tmp_path, prefect_server):
    """The summary's last lines: the check's size for the run's taxonomy, and the command that
    writes the sheet, whole on one line (a path long enough to wrap stays copyable)."""
    out, models = tmp_path / "outputs", tmp_path / ("modeller-" + "x" * 90)
    ran = runner.invoke(app, ["run", str(DEMO / "postkort.csv"), "--taxonomy", "nordjylland-2023",
                              "--out", str(out), "--models", str(models)])  # fmt: skip
    assert ran.exit_code == 0, ran.output
    (model,) = models.iterdir()
    lines = ran.output.splitlines()
    assert lines[-2] == "Kontrollér temaerne på en stikprøve (60 tekster anbefales ved 6 temaer):"
    command = shlex.split(lines[-1])
    assert Path(command[0]).name == "tematik" and command[1:3] == ["validate", str(model)] and "--sample" in command

    sheet = tmp_path / "kontrol.xlsx"
    command[command.index("-o") + 1] = str(sheet)
    checked = runner.invoke(app, command[1:])
    assert checked.exit_code == 0, checked.output
    from openpyxl import load_workbook

    from pipeline.validation import CORRECT_HEADER, DECIDED_HEADER, ID_HEADER, SHEET

    drawn = pd.read_excel(sheet, sheet_name=SHEET)
    (run,) = out.iterdir()
    texts = pd.read_csv(run / "data" / "assignments.csv")
    assert sorted(drawn[ID_HEADER]) == sorted(texts["text_id"])  # all 26: fewer than the 60 recommended

    # The analyst agrees with every theme, then runs the command the sheet's writing printed.
    workbook = load_workbook(sheet)
    rows = list(workbook[SHEET].iter_rows())
    header = [cell.value for cell in rows[0]]
    for row in rows[1:]:
        row[header.index(CORRECT_HEADER)].value = row[header.index(DECIDED_HEADER)].value
    workbook.save(sheet)
    read_back = shlex.split(checked.output.splitlines()[-1])
    assert read_back[1:5] == ["validate", str(model), "--labels", str(sheet)]
    read_back[read_back.index("-o") + 1] = str(tmp_path / "kontrolleret")
    corrected = runner.invoke(app, read_back[1:])
    assert corrected.exit_code == 0, corrected.output
    assert "26 tilfældige tekster: 100 % enige" in corrected.output


# --- tematik series: what a manifest or a workshop column says is what runs ------------------------


def _series_folders(root: Path, *workshops: str) -> None:
    for workshop in workshops:
        (root / workshop).mkdir(parents=True)
        (root / workshop / "svar.csv").write_text("svar\nFlere cykelstier til skolen\nBedre busser om aftenen\n",
                                                  encoding="utf-8")  # fmt: skip


@pytest.mark.parametrize("manifest, content, where, message", [
    # PyYAML keeps the last of two equal keys: Aalborg's own files were silently left out.
    ("serie.yaml", "workshops:\n  Aalborg: aalborg\n  Aalborg: aarhus\n", "linje 3", "workshoppen 'Aalborg' står to gange"),
    ("serie.yaml", "Aalborg: aalborg\nAarhus: []\n", "post 2", "workshoppen 'Aarhus' har ingen fil eller mappe"),
    ("serie.csv", "workshop,path\nAalborg,aalborg\nAarhus\n", "post 2", "workshoppen 'Aarhus' har ingen fil eller mappe"),
    ("serie.csv", "workshop,path\n,aalborg\n", "post 1", "posten mangler en workshop"),
])  # fmt: skip
def test_a_manifest_that_names_a_workshop_twice_or_without_files_is_refused(tmp_path, manifest, content, where, message):
    from pipeline.errors import InputError
    from pipeline.ingest.series import plan_series

    _series_folders(tmp_path, "aalborg", "aarhus")
    (tmp_path / manifest).write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        plan_series([tmp_path / manifest])
    assert caught.value.path == tmp_path / manifest and caught.value.where == where
    assert str(caught.value).endswith(message)


def test_a_blank_cell_of_the_workshop_column_keeps_the_files_workshop(tmp_path):
    from pipeline.ingest import read_inputs
    from pipeline.ingest.series import workshops_from_column

    table = tmp_path / "samlet.csv"
    table.write_text("kommune;svar\nViborg;Flere cykelstier\n;Bedre busser om aftenen\n  ;Billigere boliger\n"
                     " Skive ;Et nyt svømmebad\n", encoding="utf-8")  # fmt: skip
    texts = workshops_from_column(read_inputs([table]).texts, "kommune")
    assert dict(zip(texts["text"], texts["workshop"])) == {
        "Flere cykelstier": "Viborg", "Bedre busser om aftenen": "samlet", "Billigere boliger": "samlet",
        "Et nyt svømmebad": "Skive",
    }  # fmt: skip


# --- tematik topics / edit on a saved run: the analyst's words as typed, one line for a slip ---------

wide = CliRunner(env={"COLUMNS": "200"})


def test_a_topic_name_with_square_brackets_is_shown_as_typed(saved_model):
    # rich read "[/]" as markup: the edit was saved, then printing it (and every later `topics`) crashed.
    name = "Plan [b] for havnen [/] og resten"
    result = wide.invoke(app, ["edit", str(saved_model), "--rename", f"0={name}"])
    assert result.exit_code == 0, result.output
    assert f"Emne 0 hedder nu »{name}«" in result.output
    listed = wide.invoke(app, ["topics", str(saved_model)])
    assert listed.exit_code == 0, listed.output
    assert f"{name}: " in listed.output


def test_an_edit_without_a_correction_or_with_a_misspelt_one_says_what_it_takes(saved_model):
    edits = (saved_model / "edits.yaml").read_bytes()
    nothing = wide.invoke(app, ["edit", str(saved_model)])
    assert nothing.exit_code == 1
    assert nothing.output.strip() == "fejl: angiv en rettelse: --merge, --rename, --theme eller --text (se tematik edit --help)"
    misspelt = wide.invoke(app, ["edit", str(saved_model), "--text", "postkort:P09"])
    assert misspelt.exit_code == 1 and "fx --text postkort:P09=andet" in misspelt.output
    assert (saved_model / "edits.yaml").read_bytes() == edits


def test_a_rename_to_another_topics_name_is_kept_and_points_to_a_merge(saved_model):
    from pipeline.saved_run import load_run

    topics = load_run(saved_model).topics.query("topic >= 0")
    (first, first_name), (second, _) = topics[["topic", "name"]].head(2).itertuples(index=False)
    result = wide.invoke(app, ["edit", str(saved_model), "--rename", f"{second}={str(first_name).upper()}"])
    assert result.exit_code == 0, result.output
    assert f"Bemærk: emne {first} hedder det samme; er de ét emne, så læg dem sammen: --merge {second},{first}" in result.output
    assert load_run(saved_model).edits.rename == {second: str(first_name).upper()}


def test_a_saved_run_without_its_taxonomy_or_the_models_folder_itself_is_named_for_what_it_is(saved_model):
    (saved_model / "taxonomy.yaml").unlink()
    missing = wide.invoke(app, ["topics", str(saved_model)])
    assert missing.exit_code == 1
    assert missing.output.strip() == f"fejl: {saved_model / 'taxonomy.yaml'}: mangler i den gemte kørsel"
    parent = wide.invoke(app, ["topics", str(saved_model.parent)])
    assert parent.exit_code == 1
    assert f"{saved_model.parent}: er mappen med gemte kørsler; angiv én af dem, fx {saved_model}" in parent.output


def test_a_negative_seed_is_a_danish_usage_error_and_writes_no_sheet(saved_model, tmp_path):
    sheet = tmp_path / "kontrol.xlsx"
    result = wide.invoke(app, ["validate", str(saved_model), "--sample", "10", "--seed=-1", "-o", str(sheet)])
    assert result.exit_code == 2  # as any bad option value (--sample 0)
    assert "Ugyldig værdi for '--seed'" in result.output and "non-negative" not in result.output
    assert not sheet.exists()


def test_a_sample_larger_than_the_run_draws_every_counted_text_and_says_so(saved_model, tmp_path):
    from pipeline.saved_run import load_run
    from pipeline.validation import ID_HEADER, SHEET
    from pipeline.views import assignments

    table = assignments(load_run(saved_model))
    counted = table[table["weight"] > 0]
    sheet = tmp_path / "kontrol.xlsx"
    result = wide.invoke(app, ["validate", str(saved_model), "--sample", "5000", "-o", str(sheet)])
    assert result.exit_code == 0, result.output
    assert f"Kørslen har {len(counted)} optalte tekster: alle er med i arket." in result.output
    assert sorted(pd.read_excel(sheet, sheet_name=SHEET)[ID_HEADER]) == sorted(counted["text_id"])


def test_two_files_of_the_same_name_are_not_silently_one_workshop(tmp_path):
    from pipeline.errors import InputError
    from pipeline.ingest.series import plan_series

    _series_folders(tmp_path, "aalborg", "aarhus")
    files = [tmp_path / "aalborg" / "svar.csv", tmp_path / "aarhus" / "svar.csv"]
    with pytest.raises(InputError) as caught:
        plan_series(files)
    assert caught.value.path == files[1] and f"hedder det samme som {files[0]}" in str(caught.value)
    (tmp_path / "aarhus" / "svar.csv").rename(tmp_path / "aarhus" / "aarhus.csv")
    assert [workshop for workshop, _ in plan_series([files[0], tmp_path / "aarhus" / "aarhus.csv"])] == ["svar", "aarhus"]


def test_the_workshop_column_is_found_in_any_case_and_a_missing_one_lists_the_tables_columns(tmp_path):
    from pipeline.errors import InputError
    from pipeline.ingest import read_inputs
    from pipeline.ingest.series import workshops_from_column

    table = tmp_path / "samlet.csv"
    table.write_text("Kommune;svar\nViborg;Flere cykelstier\n", encoding="utf-8")
    assert workshops_from_column(read_inputs([table]).texts, "kommune")["workshop"].tolist() == ["Viborg"]
    with pytest.raises(InputError, match=r"^ingen kolonne 'region' i inputtenes tabeller \(tabellernes øvrige kolonner: Kommune\)$"):
        workshops_from_column(read_inputs([table]).texts, "region")


def test_a_configured_prefect_server_that_does_not_answer_leaves_no_empty_folders(tmp_path):
    """The input checks create --out and --models; a configured server that is down fails the run
    after them, in one line, and the folders the command created go again (the parent too)."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_API_URL=f"http://127.0.0.1:{port}/api", COLUMNS="300")
    root = tmp_path / "nyt"
    done = subprocess.run([str(TEMATIK), "run", str(DEMO / "postkort.csv"), "--out", str(root / "outputs"),
                           "--models", str(root / "models")], env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "svarer ikke" in done.stderr and "Traceback" not in done.stderr
    assert not root.exists()
