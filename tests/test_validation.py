"""The analyst's check: `tematik validate` writes a stratified sample sheet and reads it back into corrected shares."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from flows.cli import app
from pipeline.saved_run import load_run
from pipeline.schema import ANDET
from pipeline.validation import CORRECT_HEADER, DECIDED_HEADER, ID_HEADER, MIN_PER_THEME, SHEET, allocation
from pipeline.views import assignments

runner = CliRunner()


def test_allocation_gives_every_theme_its_minimum_and_the_rest_by_weight():
    counts = {"a": 100, "b": 40, "c": 2, "d": 0}
    sizes = {"a": 100.0, "b": 40.0, "c": 2.0}
    take = allocation(sizes, counts, 30)
    assert sum(take.values()) == 30 and "d" not in take
    assert take["c"] == 2  # all it has, under the minimum
    assert take["b"] >= MIN_PER_THEME and take["a"] > take["b"]
    assert allocation(sizes, counts, 500) == {"a": 100, "b": 40, "c": 2}  # never more than there are
    small = allocation(sizes, counts, 4)
    assert sum(small.values()) == 4 and small["a"] == 3  # too few for every minimum: the largest first


def sheet_rows(path):
    sheet = load_workbook(path)[SHEET]
    header = [cell.value for cell in sheet[1]]
    return sheet, header, [dict(zip(header, (cell.value for cell in row))) for row in sheet.iter_rows(min_row=2)]


def fill(path, answers: dict[int, str]):
    """Write the analyst's answers (sheet row number -> theme id or label) into the sheet."""
    workbook = load_workbook(path)
    sheet = workbook[SHEET]
    column = [cell.value for cell in sheet[1]].index(CORRECT_HEADER) + 1
    for row, answer in answers.items():
        sheet.cell(row=row, column=column, value=answer)
    workbook.save(path)


@pytest.mark.slow
def test_the_validation_round_trip_corrects_the_shares_and_says_so(saved_model, tmp_path):
    sheet_path = tmp_path / "kontrol.xlsx"
    result = runner.invoke(app, ["validate", str(saved_model), "--sample", "30", "-o", str(sheet_path)])
    assert result.exit_code == 0, result.output
    sheet, header, rows = sheet_rows(sheet_path)
    assert header == [ID_HEADER, "Tekst", "Kilde", DECIDED_HEADER, CORRECT_HEADER]
    assert len(rows) == 30 and all(row[CORRECT_HEADER] is None for row in rows)
    # A drop-down of the taxonomy's labels and andet on the answer column.
    (choice,) = sheet.data_validations.dataValidation
    assert choice.type == "list" and "E2:E31" in str(choice.sqref)
    analysis = load_run(saved_model)
    table = assignments(analysis)
    # Stratified by decided theme: every decided theme with texts is in the sample.
    counted = table[table["weight"] > 0]
    decided = dict(zip(table["text_id"], table["theme"]))
    for theme, n in counted["theme"].value_counts().items():
        assert sum(decided[row[ID_HEADER]] == theme for row in rows) >= min(n, MIN_PER_THEME)
        assert all(row[DECIDED_HEADER] == analysis.labels[decided[row[ID_HEADER]]] for row in rows)
    # Seeded: the same command draws the same texts.
    again = tmp_path / "igen.xlsx"
    assert runner.invoke(app, ["validate", str(saved_model), "--sample", "30", "-o", str(again)]).exit_code == 0
    assert [row[ID_HEADER] for row in sheet_rows(again)[2]] == [row[ID_HEADER] for row in rows]
    # Never overwrites a sheet (it may be filled in).
    assert runner.invoke(app, ["validate", str(saved_model), "--sample", "30", "-o", str(sheet_path)]).exit_code == 1

    # The analyst agrees except on the first three texts of the largest theme, which are andet;
    # one answer by label, in another case, the others by id.
    largest = counted["theme"].value_counts().index[0]
    moved = [number for number, row in enumerate(rows, start=2) if decided[row[ID_HEADER]] == largest][:3]
    answers = {number: (ANDET if number in moved else decided[row[ID_HEADER]]) for number, row in enumerate(rows, start=2)}
    label_row = next(number for number in answers if number not in moved)
    answers[label_row] = analysis.labels[answers[label_row]].upper()
    fill(sheet_path, answers)
    out = tmp_path / "kontrolleret"
    result = runner.invoke(app, ["validate", str(saved_model), "--labels", str(sheet_path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Kontrolleret på 30 tilfældige tekster: 90 % enige med analytikeren." in " ".join(result.output.split())
    (folder,) = out.iterdir()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["validation"]["checked"] == 30 and manifest["validation"]["agreement"] == pytest.approx(0.9)
    assert manifest["validation"]["by_theme"][largest]["kept"] == manifest["validation"]["by_theme"][largest]["checked"] - 3
    before = analysis_shares(saved_model)
    after = pd.read_csv(folder / "data" / "theme_frequencies.csv")
    for _, block in after.groupby(["breakdown", "group"]):
        if block["weighted_frequency"].sum() > 0:  # a group of texts that all weigh 0 has no shares
            assert block["share"].sum() == pytest.approx(1.0)
    total = after[after["breakdown"] == "total"].set_index("theme")
    assert total.loc[largest, "share"] < before[largest]
    assert total.loc[ANDET, "share"] > before[ANDET]
    for name in ("quotes.md", "report.html"):
        assert "Kontrolleret på 30 tilfældige tekster: 90 % enige med analytikeren" in (folder / name).read_text(encoding="utf-8")
    import docx

    words = " ".join(p.text for p in docx.Document(folder / "quotes.docx").paragraphs)
    assert "Kontrolleret på 30 tilfældige tekster" in words.replace("\u00a0", " ")
    overview = docx.Document(folder / "quotes.docx").tables[0]
    assert overview.rows[0].cells[-1].text == "Kontrol"

    # A partly filled sheet: the filled rows are used and the export says how many.
    partly = tmp_path / "delvis.xlsx"
    assert runner.invoke(app, ["validate", str(saved_model), "--sample", "30", "-o", str(partly)]).exit_code == 0
    fill(partly, {number: answers[number] for number in list(answers)[:12]})
    out = tmp_path / "delvis"
    result = runner.invoke(app, ["validate", str(saved_model), "--labels", str(partly), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "af 30 udtrukne" in result.output
    (folder,) = out.iterdir()
    assert "Kontrolleret på 12 af 30 udtrukne tekster" in (folder / "quotes.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_frequency_workbook_states_the_check_as_the_other_reports_do(saved_model, tmp_path):
    """theme_frequencies.xlsx, which writers paste from, states the check like report.html, quotes.docx,
    quotes.md and the manifest: the sentence under the "I alt" table, and per theme "kept af checked"
    in a column "Kontrol", as the Word overview's column."""
    import docx

    sheet_path = tmp_path / "kontrol.xlsx"
    assert runner.invoke(app, ["validate", str(saved_model), "--sample", "30", "-o", str(sheet_path)]).exit_code == 0
    table = assignments(load_run(saved_model))
    decided = dict(zip(table["text_id"], table["theme"]))
    rows = sheet_rows(sheet_path)[2]
    # The analyst agrees except on the first two texts, which are andet.
    fill(sheet_path, {number: ANDET if number < 4 else decided[row[ID_HEADER]] for number, row in enumerate(rows, start=2)})
    out = tmp_path / "kontrolleret"
    result = runner.invoke(app, ["validate", str(saved_model), "--labels", str(sheet_path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    (folder,) = out.iterdir()
    facts = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["validation"]

    sheet = load_workbook(folder / "theme_frequencies.xlsx")["I alt"]
    header = [cell.value for cell in sheet[1]]
    cells = list(sheet.iter_rows(min_row=2, values_only=True))
    table = cells[: cells.index((None,) * len(header))]  # the table, then an empty row and the note
    themes = [row[header.index("Tema-id")] for row in table]
    note = sheet.cell(row=len(table) + 3, column=1).value
    assert note.startswith("Kontrolleret på 30 tilfældige tekster: ") and "rettet efter kontrollen" in note
    assert note in (folder / "quotes.md").read_text(encoding="utf-8")
    assert note.split(".")[0] in (folder / "report.html").read_text(encoding="utf-8")
    checks = dict(zip(themes, (row[header.index("Kontrol")] for row in table)))
    for theme, check in facts["by_theme"].items():
        assert checks[theme] == f"{check['kept']} af {check['checked']}"
    overview = docx.Document(folder / "quotes.docx").tables[0]
    words = {row.cells[0].text: row.cells[-1].text for row in overview.rows[1:]}
    labels = load_run(saved_model).labels
    assert {labels[theme]: check for theme, check in checks.items()} == words  # the Word overview's column


@pytest.mark.slow
def test_a_sheet_path_the_system_refuses_is_one_danish_line(saved_model, tmp_path):
    """A sheet to write or read under a path the system will not show (under /proc): one Danish line naming
    it, exit code 1, nothing written (it ended "fejlede: [Errno 13] Permission denied: …", exit code 2)."""
    from test_ingest import _refused_path

    refused = _refused_path(tmp_path)
    out = tmp_path / "kontrolleret"
    for arguments, message in (
        (["--sample", "5", "-o", str(refused / "kontrol.xlsx")], f"{refused / 'kontrol.xlsx'}: kontrolarket kan ikke skrives (ingen skriveadgang)"),
        (["--labels", str(refused / "kontrol.xlsx"), "-o", str(out)], f"{refused / 'kontrol.xlsx'}: kan ikke læses (ingen læseadgang)"),
    ):  # fmt: skip
        result = runner.invoke(app, ["validate", str(saved_model), *arguments])
        assert result.exit_code == 1, result.output
        assert "".join(result.output.split()) == "".join(f"fejl: {message}".split())  # however the console wrapped it
    assert not out.exists()


def analysis_shares(saved_model) -> pd.Series:
    from pipeline.views import frequencies

    return frequencies(load_run(saved_model))["total"].set_index("theme")["share"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "break_sheet, message",
    [
        (lambda sheet: sheet.cell(row=3, column=5, value="Sundhed og omsorg"), "række 3): ukendt tema 'Sundhed og omsorg'"),
        (lambda sheet: sheet.cell(row=4, column=1, value="postkort:r9999"), "række 4): ukendt Tekst-id 'postkort:r9999'"),
        (lambda sheet: sheet.cell(row=5, column=1, value=sheet.cell(row=4, column=1).value), "række 5): Tekst-id"),
        (lambda sheet: None, "ingen rækker har et 'Korrekt tema' udfyldt"),
        # Only the column that is gone is named.
        (lambda sheet: sheet.cell(row=1, column=5, value="Tema (rettet)"), "(ark 'Kontrol'): kolonnen Korrekt tema mangler"),
    ],
)
def test_a_broken_sheet_is_one_line_naming_sheet_and_row_and_writes_nothing(saved_model, tmp_path, break_sheet, message):
    sheet_path = tmp_path / "kontrol.xlsx"
    assert runner.invoke(app, ["validate", str(saved_model), "--sample", "10", "-o", str(sheet_path)]).exit_code == 0
    workbook = load_workbook(sheet_path)
    sheet = workbook[SHEET]
    if "ingen rækker" not in message:
        for row in range(2, 12):
            sheet.cell(row=row, column=5, value=sheet.cell(row=row, column=4).value)  # agree, by label
    break_sheet(sheet)
    workbook.save(sheet_path)
    content = sheet_path.read_bytes()
    out = tmp_path / "ud"
    result = runner.invoke(app, ["validate", str(saved_model), "--labels", str(sheet_path), "-o", str(out)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "kontrol.xlsx" in lines[0] and f"ark '{SHEET}'" in lines[0]
    assert message in lines[0]
    assert not out.exists()  # the sheet is read before --out is made
    assert sheet_path.read_bytes() == content  # the analyst's sheet is never modified


@pytest.mark.slow
def test_a_sheet_drawn_before_an_edit_is_refused(saved_model, tmp_path):
    sheet_path = tmp_path / "kontrol.xlsx"
    assert runner.invoke(app, ["validate", str(saved_model), "--sample", "10", "-o", str(sheet_path)]).exit_code == 0
    fill(sheet_path, {row: "andet" for row in range(2, 12)})
    # A text that is not in the sample moves: the confusion measured belongs to the old mapping.
    sampled = {row[ID_HEADER] for row in sheet_rows(sheet_path)[2]}
    table = assignments(load_run(saved_model))
    other = table.loc[~table["text_id"].isin(sampled) & (table["theme"] != ANDET), "text_id"].iloc[0]
    assert runner.invoke(app, ["edit", str(saved_model), "--text", f"{other}=andet"]).exit_code == 0
    result = runner.invoke(app, ["validate", str(saved_model), "--labels", str(sheet_path), "-o", str(tmp_path / "ud")])
    assert result.exit_code == 1 and "træk et nyt kontrolark" in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1


def test_usage_errors_of_validate_are_one_line(tmp_path):
    for arguments in ([], ["--sample", "5", "-o", str(tmp_path / "k.csv")]):
        result = runner.invoke(app, ["validate", str(tmp_path), *arguments, *([] if arguments else ["-o", "x.xlsx"])])
        assert result.exit_code == 1
        assert len([line for line in result.output.splitlines() if line.strip()]) == 1, result.output


def _three_text_sheet(path, text_ids: list[str], texts: list[str], labels: dict[str, str]) -> pd.DataFrame:
    """A check sheet drawn from three texts decided a, b and andet; returns their table."""
    from pipeline.validation import fingerprint, write_sheet

    table = pd.DataFrame({"text_id": text_ids, "text": texts, "theme": ["a", "b", ANDET], "weight": 1.0, "source_kind": "table",
                          "source_file": "f.csv", "question": "Q", "workshop": "W"})  # fmt: skip
    write_sheet(table, labels, path, "run", fingerprint(table))
    return table


def test_a_sheet_keeps_formula_like_texts_as_text_and_reads_odd_ids_back(tmp_path):
    from pipeline.validation import read_sheet

    labels = {"a": "Tema A", "b": "Tema B", ANDET: "Andet"}
    path = tmp_path / "k.xlsx"
    table = _three_text_sheet(path, ["'quoted:1", "=evil:2", "svar:3"], ["=HYPERLINK(\"x\")", "ok\x01 svar", "tredje"], labels)
    sheet = load_workbook(path)[SHEET]
    assert sheet["B2"].value == "=HYPERLINK(\"x\")" and sheet["B2"].data_type == "s" and sheet["B2"].quotePrefix
    fill(path, {2: "Tema A", 3: "a", 4: "andet"})
    validation = read_sheet(path, table, labels)
    assert validation.correction.text_ids == ("'quoted:1", "=evil:2", "svar:3")
    assert validation.correction.correct == ("a", "a", ANDET)


def test_a_check_shorter_than_recommended_for_the_taxonomy_says_so(saved_model, tmp_path):
    from pipeline.saved_run import load_run
    from pipeline.validation import recommended_sample_size

    n_themes = len(load_run(saved_model).labels) - 1
    assert recommended_sample_size(6) == 60 and recommended_sample_size(11) == 100  # grows with the taxonomy
    short_sheet, long_sheet = tmp_path / "kort.xlsx", tmp_path / "lang.xlsx"
    result = runner.invoke(app, ["validate", str(saved_model), "--sample", "10", "-o", str(short_sheet)])
    assert result.exit_code == 0 and short_sheet.exists()
    assert f"mindst {recommended_sample_size(n_themes)} tekster" in " ".join(result.output.split())
    enough = str(recommended_sample_size(n_themes))
    result = runner.invoke(app, ["validate", str(saved_model), "--sample", enough, "-o", str(long_sheet)])
    assert result.exit_code == 0 and "Bemærk" not in result.output


def test_a_sheet_edited_the_way_analysts_do_is_read_as_meant(tmp_path):
    # Headers retyped in another case with stray spaces, a title row above them, the sheet renamed, the
    # columns reordered, labels in capitals with doubled spaces: each still reads the analyst's answers.
    from pipeline.errors import InputError
    from pipeline.validation import read_sheet

    labels = {"a": "Grøn omstilling", "b": "Tema B", ANDET: "Andet"}
    path = tmp_path / "kontrol.xlsx"
    table = _three_text_sheet(path, ["svar:1", "svar:2", "svar:3"], ["første", "anden", "tredje"], labels)
    fill(path, {2: "GRØN  OMSTILLING", 3: " tema b\u00a0", 4: "ANDET"})
    workbook = load_workbook(path)
    sheet = workbook[SHEET]
    sheet.title = "Ark1"
    sheet.move_range("A1:A4", cols=5)  # Tekst-id moved to the far right
    sheet.delete_cols(1)
    sheet["E1"].value, sheet["D1"].value = " tekst-ID ", "korrekt  tema"
    sheet.insert_rows(1)
    sheet["A1"].value = "Kontrol udført af analytikeren"
    workbook.save(path)
    validation = read_sheet(path, table, labels)
    assert validation.correction.text_ids == ("svar:1", "svar:2", "svar:3")
    assert validation.correction.correct == ("a", "b", ANDET)
    # Row numbers in messages are the sheet's own, below the title row.
    sheet = load_workbook(path)["Ark1"]
    sheet["D4"].value = "Sundhed"
    sheet.parent.save(path)
    with pytest.raises(InputError) as caught:
        read_sheet(path, table, labels)
    assert caught.value.where == "ark 'Ark1', række 4"
    # Saved as CSV: a Danish line saying what to do, not the reader's exception name.
    csv_path = tmp_path / "kontrol.csv"
    csv_path.write_text("Tekst-id;Korrekt tema\nsvar:1;a\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_sheet(csv_path, table, labels)
    assert str(caught.value) == (f"{csv_path}: kontrolarket skal være den Excel-fil (.xlsx), tematik validate --sample "
                                 "skrev; en kopi gemt som CSV har mistet kørslens fingeraftryk")


def test_a_sheet_path_through_a_file_or_a_folder_given_as_the_sheet_is_one_line(saved_model, tmp_path):
    from pipeline.errors import InputError
    from pipeline.validation import read_sheet

    a_file = tmp_path / "noter.txt"
    a_file.write_text("ikke en mappe", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(saved_model), "--sample", "5", "-o", str(a_file / "kontrol.xlsx")])
    assert result.exit_code == 1
    assert result.output.strip() == f"fejl: {a_file}: mappen til kontrolarket kan ikke oprettes: {a_file} er en fil, ikke en mappe"
    with pytest.raises(InputError) as caught:
        read_sheet(tmp_path, pd.DataFrame(), {})
    assert str(caught.value) == f"{tmp_path}: er en mappe; angiv det udfyldte kontrolark (.xlsx)"
