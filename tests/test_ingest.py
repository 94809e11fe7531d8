"""Ingestion from real files made in the test: Mentimeter exports, tables, notes; normalisation."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from helpers_ingest_files import (
    SHARED,
    write_docx,
    write_pdf,
    write_session_workbook,
    write_table_workbook,
    write_voters_workbook,
)

from pipeline.config import IngestConfig
from pipeline.errors import InputError
from pipeline.ingest import combine, default_workshop_name, expand_inputs, read_file, read_inputs, write_texts_csv
from pipeline.ingest.series import plan_series
from pipeline.ingest.normalise import cut_text
from pipeline.schema import TEXT_COLUMNS

OPEN_QUESTION = "Hvad skal erhvervshuset gøre mere af?"
WORDCLOUD_QUESTION = "Ét ord om fremtidens virksomhed"
QA_QUESTION = "Spørgsmål til panelet"
CHOICE_QUESTION = "Hvor enig er du i strategien?"


def _per_question(texts: pd.DataFrame) -> dict[str, list[str]]:
    return texts.groupby("question")["text"].agg(list).to_dict()


# --- Mentimeter -------------------------------------------------------------------------

def _session_blocks():
    return [
        {"type": "Open Ended", "question": OPEN_QUESTION,
         "answers": ["Mere rådgivning om eksport", "Hjælp til digitalisering", "Flere netværk for ejerledere"]},
        {"type": "Multiple Choice", "question": CHOICE_QUESTION, "answers": ["Meget enig", "Uenig"]},
        {"type": "Word Cloud", "question": WORDCLOUD_QUESTION,
         "answers": ["grøn, digital", "robust\nlokal", "innovativ"]},
        {"type": "Q&A", "question": QA_QUESTION, "upvotes_header": "Upvotes",
         "answers": [("Hvordan får små virksomheder adgang til kapital?", 4), ("Hvem betaler for kurserne?", None)]},
    ]


def test_mentimeter_session_sheets_read_free_text_only(tmp_path):
    path = write_session_workbook(tmp_path / "menti.xlsx", _session_blocks())
    ingested = read_inputs([path])
    texts = ingested.texts

    assert list(texts.columns[: len(TEXT_COLUMNS)]) == TEXT_COLUMNS
    assert set(texts["source_kind"]) == {"mentimeter"}
    assert set(texts["workshop"]) == {"menti"}
    assert set(texts["session"]) == {"Session 1"}
    by_question = _per_question(texts)
    assert CHOICE_QUESTION not in by_question  # multiple choice is not free text
    assert by_question[OPEN_QUESTION] == ["Mere rådgivning om eksport", "Hjælp til digitalisering",
                                          "Flere netværk for ejerledere"]
    assert sorted(by_question[WORDCLOUD_QUESTION]) == ["digital", "grøn", "innovativ", "lokal", "robust"]
    qa = texts[texts["question"] == QA_QUESTION].set_index("text")["weight"]
    assert qa.to_dict() == {
        "Hvordan får små virksomheder adgang til kapital?": 5.0,  # 1 + 4 upvotes
        "Hvem betaler for kurserne?": 1.0,
    }
    assert texts["text_id"].is_unique

    (report,) = ingested.report.files
    assert (report.n_read, report.n_questions, report.n_texts) == (10, 3, 10)
    assert report.skipped_questions == [f"'{CHOICE_QUESTION}' (Multiple Choice)"]
    line = ingested.report.summary_lines()[0]
    assert line.startswith("menti.xlsx: 10 svar (3 spørgsmål; Mentimeter, session-ark)")
    assert f"1 spørgsmål uden fritekst sprunget over: '{CHOICE_QUESTION}' (Multiple Choice)" in line


def test_wordcloud_split_can_be_turned_off(tmp_path):
    path = write_session_workbook(tmp_path / "menti.xlsx", _session_blocks())
    texts = read_inputs([path], IngestConfig(wordcloud_split=False)).texts
    assert sorted(_per_question(texts)[WORDCLOUD_QUESTION]) == ["grøn, digital", "innovativ", "robust lokal"]


def test_mentimeter_responses_mismatch_is_reported(tmp_path):
    blocks = [{"type": "open", "question": OPEN_QUESTION, "answers": ["Et svar", "Et andet svar"], "responses": 3}]
    ingested = read_inputs([write_session_workbook(tmp_path / "menti.xlsx", blocks)])
    assert "ark 'Session 1', Question 1: 2 svar, men eksporten angiver 3 (Responses)" in ingested.report.summary_lines()[0]


VOTERS_HEADER = ["Date (UTC)", "Session", "Voter", OPEN_QUESTION, "Giv strategien en karakter fra 1 til 5"]
VOTERS_ROWS = [
    ["2026-05-04 10:01", "Session 1", "v1", "Bedre kollektiv trafik til erhvervsområderne", 4],
    ["2026-05-04 10:02", "Session 1", "v2", None, 5],
    ["2026-05-04 10:03", "Session 2", "v3", "Mere fokus på iværksættere", 3],
]


def test_mentimeter_voters_sheet(tmp_path):
    path = write_voters_workbook(tmp_path / "voters.xlsx", VOTERS_HEADER, VOTERS_ROWS)
    ingested = read_inputs([path])
    texts = ingested.texts
    assert texts["text"].tolist() == ["Bedre kollektiv trafik til erhvervsområderne", "Mere fokus på iværksættere"]
    assert set(texts["question"]) == {OPEN_QUESTION}
    assert texts["session"].tolist() == ["Session 1", "Session 2"]
    assert ingested.report.files[0].skipped_questions == ["'Giv strategien en karakter fra 1 til 5' (kun tal)"]


def test_mentimeter_voters_type_row_enables_wordcloud_split(tmp_path):
    header = ["Date (UTC)", "Session", "Voter", WORDCLOUD_QUESTION, CHOICE_QUESTION]
    rows = [[None, None, None, "Word Cloud", "Multiple Choice"],
            ["2026-05-04", "Session 1", "v1", "grøn, robust", "Enig"],
            ["2026-05-04", "Session 1", "v2", "grøn", "Uenig"]]
    ingested = read_inputs([write_voters_workbook(tmp_path / "voters.xlsx", header, rows)])
    assert ingested.texts.set_index("text")["weight"].to_dict() == {"grøn": 2.0, "robust": 1.0}
    assert ingested.report.files[0].skipped_questions == [f"'{CHOICE_QUESTION}' (Multiple Choice)"]


def test_mentimeter_csv_export(tmp_path):
    path = tmp_path / "menti.csv"
    frame = pd.DataFrame(VOTERS_ROWS, columns=VOTERS_HEADER)
    frame.to_csv(path, index=False, sep=";", encoding="utf-8-sig")
    texts = read_inputs([path]).texts
    assert set(texts["source_kind"]) == {"mentimeter"}
    assert texts["text"].tolist() == ["Bedre kollektiv trafik til erhvervsområderne", "Mere fokus på iværksættere"]


def test_workbook_with_both_layouts_is_not_counted_twice(tmp_path):
    blocks = [{"type": "open", "question": OPEN_QUESTION, "answers": ["Svar et", "Svar to"]}]
    path = write_session_workbook(tmp_path / "menti.xlsx", blocks)
    write_voters_workbook(tmp_path / "voters.xlsx", ["Date (UTC)", "Session", "Voter", OPEN_QUESTION],
                          [["d", "Session 1", "v1", "Svar et"], ["d", "Session 1", "v2", "Svar to"]])
    import openpyxl  # copy the Voters sheet into the sessions workbook, as Mentimeter puts both in one file

    workbook = openpyxl.load_workbook(path)
    voters = workbook.create_sheet("Voters")
    for row in openpyxl.load_workbook(tmp_path / "voters.xlsx")["Voters"].iter_rows(values_only=True):
        voters.append(row)
    workbook.save(path)
    assert read_inputs([path]).texts["weight"].sum() == 2


# --- tables -----------------------------------------------------------------------------

POSTCARDS = pd.DataFrame({
    "ID": ["7", "8", "9"],
    "Kommune": ["Hjørring", "Aalborg", "Thisted"],
    "Svar": ["Vi mangler faglærte i bygge- og anlægsbranchen; især tømrere",
             "Grøn omstilling kræver rådgivning, ikke kun tilskud",
             "Bedre bredbånd i yderområderne \"nu\""],
})


@pytest.mark.parametrize(
    ("sep", "encoding"), [(";", "cp1252"), (",", "utf-8"), ("\t", "utf-8-sig"), (";", "latin-1"), (",", "utf-16")]
)
def test_csv_delimiters_and_encodings(tmp_path, sep, encoding):
    path = tmp_path / "postkort.csv"
    POSTCARDS.to_csv(path, index=False, sep=sep, encoding=encoding)
    ingested = read_inputs([path])
    texts = ingested.texts
    assert texts["text"].tolist() == POSTCARDS["Svar"].tolist()  # æ/ø/å, quotes, ; and , inside answers intact
    assert texts["text_id"].tolist() == ["postkort:7", "postkort:8", "postkort:9"]
    assert texts["Kommune"].tolist() == POSTCARDS["Kommune"].tolist()  # extra column carried through
    # A generic text column ("Svar") names no question: the answers stand under the file's name.
    assert set(texts["question"]) == {"Postkort"} and set(texts["source_kind"]) == {"table"}
    assert "ID" not in texts.columns and "Svar" not in texts.columns


def test_single_column_csv_with_commas_in_answers(tmp_path):
    path = tmp_path / "svar.csv"
    path.write_text(
        "Kommentar (valgfri)\nMere samarbejde, tak\nFlere praktikpladser\nKortere sagsbehandling, færre skemaer\n",
        encoding="utf-8",
    )
    texts = read_inputs([path]).texts
    assert set(texts["question"]) == {"Kommentar (valgfri)"}
    assert texts["text"].tolist() == ["Mere samarbejde, tak", "Flere praktikpladser",
                                      "Kortere sagsbehandling, færre skemaer"]
    assert texts["text_id"].tolist() == ["svar:2", "svar:3", "svar:4"]


def test_xlsx_table_with_title_rows_question_and_weight_columns(tmp_path):
    grid = [
        ["Svar fra borgermødet"],  # a title row, not the header
        [],
        ["Spørgsmål", "Svar", "Vægt", "Alder"],
        ["Hvad mangler byen?", "Et værksted for iværksættere", 2, 34],
        ["Hvad mangler byen?", "Billigere erhvervslokaler", None, 51],
        ["Hvad virker?", "Samarbejdet med skolerne", 1, 28],
    ]
    path = write_table_workbook(tmp_path / "postkort.xlsx", {"Ark1": grid})
    texts = read_inputs([path]).texts
    assert texts["text"].tolist() == ["Et værksted for iværksættere", "Billigere erhvervslokaler",
                                      "Samarbejdet med skolerne"]
    assert texts["question"].tolist() == ["Hvad mangler byen?", "Hvad mangler byen?", "Hvad virker?"]
    assert texts["weight"].tolist() == [2.0, 1.0, 1.0]
    assert texts["Alder"].tolist() == [34, 51, 28]
    assert texts["text_id"].tolist() == ["postkort:ark1:4", "postkort:ark1:5", "postkort:ark1:6"]


def test_xlsx_table_sheets_and_text_column_option(tmp_path):
    sheets = {
        "Info": [["Note", "Værdi"], ["Indsamlet", "maj"]],
        "Gruppe A": [["Ønske", "Navn"], ["Fælles kantine for små firmaer", "A1"]],
        "Gruppe B": [["Ønske", "Navn"], ["Mentorordning for nye ejere", "B1"]],
    }
    path = write_table_workbook(tmp_path / "ideer.xlsx", sheets)
    with pytest.raises(Exception, match="ingen tekstkolonne"):
        read_inputs([path])
    texts = read_inputs([path], IngestConfig(text_column="ØNSKE")).texts
    assert texts["text"].tolist() == ["Fælles kantine for små firmaer", "Mentorordning for nye ejere"]
    assert texts["sheet"].tolist() == ["Gruppe A", "Gruppe B"]
    first = read_inputs([path], IngestConfig(text_column="ønske", table_sheets="first")).texts
    assert first["text"].tolist() == ["Fælles kantine for små firmaer"] and "sheet" not in first.columns


# --- notes ------------------------------------------------------------------------------

NOTE_BLOCKS = [
    ("Title", "Opsamling fra testworkshop"),
    ("Normal", "Workshoppen samlede 80 deltagere."),
    ("Heading 1", "2 Temaer"),
    ("Heading 2", "2.1 Tema 1: Arbejdskraft"),
    ("Heading 3", "Potentialer"),
    ("Normal", "Deltagerne pegede på tre muligheder:"),
    ("List Bullet", "Flere lærepladser i industrien."),
    ("List Number", "Opkvalificering af ufaglærte."),
    ("Heading 2", "2.2 Tema 2: Grøn omstilling"),
    ("Normal", ""),
    ("Normal", "Virksomhederne efterspørger konkrete beregninger af gevinsten."),
    ("table", [["Forslag", "Aktør"], ["Energitjek for alle SMV'er.", "Erhvervshuset"]]),
]


def test_docx_headings_lists_and_tables(tmp_path):
    path = write_docx(tmp_path / "notat.docx", NOTE_BLOCKS)
    ingested = read_inputs([path])
    texts = ingested.texts.set_index("text")
    assert texts["question"].to_dict() == {
        "Workshoppen samlede 80 deltagere.": "Opsamling fra testworkshop",
        "Deltagerne pegede på tre muligheder:": "2.1 Tema 1: Arbejdskraft",
        "Flere lærepladser i industrien.": "2.1 Tema 1: Arbejdskraft",
        "Opkvalificering af ufaglærte.": "2.1 Tema 1: Arbejdskraft",
        "Virksomhederne efterspørger konkrete beregninger af gevinsten.": "2.2 Tema 2: Grøn omstilling",
        "Energitjek for alle SMV'er.": "2.2 Tema 2: Grøn omstilling",
        "Erhvervshuset": "2.2 Tema 2: Grøn omstilling",
    }
    assert texts.loc["Flere lærepladser i industrien.", "section_path"] == (
        "2 Temaer > 2.1 Tema 1: Arbejdskraft > Potentialer"
    )
    assert set(texts["source_kind"]) == {"note"}
    assert ingested.report.files[0].n_questions == 3


def test_note_heading_level_option(tmp_path):
    path = write_docx(tmp_path / "notat.docx", NOTE_BLOCKS)
    deep = read_inputs([path], IngestConfig(note_heading_level=3)).texts.set_index("text")["question"]
    top = read_inputs([path], IngestConfig(note_heading_level=1)).texts.set_index("text")["question"]
    assert deep["Flere lærepladser i industrien."] == "Potentialer"
    assert top["Flere lærepladser i industrien."] == "2 Temaer"


def test_markdown_note(tmp_path):
    path = tmp_path / "noter.md"
    path.write_text(
        "# Opsamling\n\nIndledende **bemærkning** om dagen.\n\n## 2.1 Tema 1: Innovation\n\n"
        "Første afsnit fortsætter\npå en ny linje.\n\n- Punkt et om [patenter](https://example.org)\n"
        "- Punkt to om `test`-faciliteter\n\n### Forslag\n\n1. Et innovationslaboratorium\n\n"
        "| Forslag | Ansvar |\n|---|---|\n| Fælles testcenter | Kommunen |\n",
        encoding="utf-8",
    )
    texts = read_inputs([path]).texts
    assert texts["text"].tolist() == [
        "Indledende bemærkning om dagen.",
        "Første afsnit fortsætter på en ny linje.",
        "Punkt et om patenter",
        "Punkt to om test-faciliteter",
        "Et innovationslaboratorium",
        "Fælles testcenter",
        "Kommunen",
    ]
    assert texts["question"].tolist() == ["Opsamling"] + ["2.1 Tema 1: Innovation"] * 6
    assert texts["section_path"].iloc[-1] == "Opsamling > 2.1 Tema 1: Innovation > Forslag"


def test_plain_text_note(tmp_path):
    path = tmp_path / "noter.txt"
    path.write_text(
        "Opsamlingsnotat\n\n"
        "2 Opsamling på temasessioner\n"
        "2.1 Tema 1: Robuste forsyningskæder\n\n"
        "Generelt\n\n"
        "Deltagerne drøftede lange forsyningskæder\nog risikoen ved én leverandør.\n\n"
        "- Hjemtagning af produktion.\n- Flere leverandører\n  i Norden.\n\n"
        "1. Et nummereret punkt, ikke en overskrift.\n\n"
        "2.2 Tema 2: Turisme\n\nKysterne trækker gæster hele året.\n",
        encoding="cp1252",
    )
    texts = read_inputs([path]).texts
    assert texts["text"].tolist() == [
        "Deltagerne drøftede lange forsyningskæder og risikoen ved én leverandør.",
        "Hjemtagning af produktion.",
        "Flere leverandører i Norden.",
        "Et nummereret punkt, ikke en overskrift.",
        "Kysterne trækker gæster hele året.",
    ]
    assert texts["question"].tolist() == ["2.1 Tema 1: Robuste forsyningskæder"] * 4 + ["2.2 Tema 2: Turisme"]
    assert texts["section_path"].iloc[0] == (
        "2 Opsamling på temasessioner > 2.1 Tema 1: Robuste forsyningskæder > Generelt"
    )


def test_pdf_hyphenation_and_paragraphs(tmp_path):
    path = write_pdf(tmp_path / "notat.pdf", [
        ["2.1 Tema 1: Digital omstilling", "",
         "Virksomhederne efterspørger hjælp til digitali-",
         "sering af produktionen og bedre it-sikkerhed i hele",
         "værdikæden, især i de mindre virksomheder i regionen.",
         "De vil vide mere.",
         "Et nyt afsnit begynder her med flere store EU-",
         "projekter og mindre CO2-udledning i den lokale pro-",
         "duktion og i transporten af varer og mennesker.",
         "", "1"],
        ["• Flere rådgivere med erfaring fra",
         "produktionsvirksomheder.", "", "2"],
    ])
    texts = read_inputs([path]).texts
    assert texts["text"].tolist() == [
        "Virksomhederne efterspørger hjælp til digitalisering af produktionen og bedre it-sikkerhed i hele "
        "værdikæden, især i de mindre virksomheder i regionen. De vil vide mere.",
        "Et nyt afsnit begynder her med flere store EU-projekter og mindre CO2-udledning i den lokale "
        "produktion og i transporten af varer og mennesker.",
        "Flere rådgivere med erfaring fra produktionsvirksomheder.",
    ]
    assert set(texts["question"]) == {"2.1 Tema 1: Digital omstilling"}


def test_pdf_running_headers_and_footers_are_dropped(tmp_path):
    footer = "Erhvervshus Vest · Notat 14.3.2025 · Side {} af 3"
    header = "Strategiworkshop i Vesthimmerland – opsamling"
    path = write_pdf(tmp_path / "notat.pdf", [
        ["Opsamling fra strategiworkshoppen", "", "1 Indledning", "",
         "Workshoppen samlede 120 deltagere fra virksomheder og kommuner.", "", footer.format(1)],
        [header, "", "2 Grøn omstilling", "", "Mange efterspurgte rådgivning om energi og affald.", "",
         header, "", "Et eksempel midt på siden bliver stående.", "", footer.format(2)],
        [header, "", "3 Digitalisering", "", "Deltagerne ønskede kurser i data og automatisering.", "", footer.format(3)],
    ])  # fmt: skip
    texts = read_inputs([path]).texts
    assert texts["text"].tolist() == [
        "Workshoppen samlede 120 deltagere fra virksomheder og kommuner.",
        "Mange efterspurgte rådgivning om energi og affald.",
        "Et eksempel midt på siden bliver stående.",
        "Deltagerne ønskede kurser i data og automatisering.",
    ]
    # The header's words inside page 2 are body text: they stay, here as the heading of the passage below.
    assert texts["question"].tolist() == ["1 Indledning", "2 Grøn omstilling", header, "3 Digitalisering"]
    assert texts["section_path"].str.contains(header).tolist() == [False, False, True, False]
    assert not texts["section_path"].str.contains("Erhvervshus").any()


def test_pdf_numbered_page_headings_stay_and_blank_pages_do_not_hide_a_footer(tmp_path):
    footer = "Erhvervshus Vest · Side {} af 5"
    path = write_pdf(tmp_path / "notat.pdf", [
        ["Gruppe 1", "", "Flere lærepladser i de små virksomheder.", "", footer.format(1)],
        [],  # an image-only page: no text, so no footer to find
        ["Gruppe 2", "", "Fælles indkøb af grøn energi i klyngen.", "", footer.format(3)],
        [],
        ["Gruppe 3", "", "Mentorer til nye iværksættere på landet.", "", footer.format(5)],
    ])  # fmt: skip
    texts = read_inputs([path]).texts
    assert texts["text"].tolist() == [
        "Flere lærepladser i de små virksomheder.",
        "Fælles indkøb af grøn energi i klyngen.",
        "Mentorer til nye iværksættere på landet.",
    ]
    # Headings that differ only by their number are headings, not a running header.
    assert texts["question"].tolist() == ["Gruppe 1", "Gruppe 2", "Gruppe 3"]
    assert not texts["section_path"].str.contains("Erhvervshus").any()


def test_pdf_page_numbers_beside_words_run_with_the_pages_and_body_lines_stay(tmp_path):
    path = write_pdf(tmp_path / "notat.pdf", [
        ["Rapport 2024", "", "1 Arbejdskraft", "", "1 af 3 grupper mente, at kurser hjælper.", "", "Erhvervshus Vest      1"],
        ["Rapport 2024", "", "2 Grøn omstilling", "", "Flere ville dele maskiner og lager.", "", "Erhvervshus Vest      2"],
        ["Rapport 2024", "", "3 Eksport", "", "Messer i Tyskland gav nye kunder.", "", "Erhvervshus Vest      3"],
    ])  # fmt: skip
    texts = read_inputs([path]).texts
    # A footer whose page number stands beside its words, and a header with a year, run;
    # a body line that begins "1 af 3" is text.
    assert texts["text"].tolist() == [
        "1 af 3 grupper mente, at kurser hjælper.",
        "Flere ville dele maskiner og lager.",
        "Messer i Tyskland gav nye kunder.",
    ]
    assert texts["question"].tolist() == ["1 Arbejdskraft", "2 Grøn omstilling", "3 Eksport"]

    one_page = write_pdf(tmp_path / "kort.pdf", [["Kort notat", "", "1 af 3 grupper mente, at kurser hjælper.", "", "Side 1"]])
    assert read_inputs([one_page]).texts["text"].tolist() == ["1 af 3 grupper mente, at kurser hjælper."]


# --- normalisation, folders, output -----------------------------------------------------

def test_normalisation_merges_duplicates_and_drops_empties(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Grøn omstilling på  værkstederne")
    frame = pd.DataFrame({
        "id": ["a", "b", "c", "d", "e", "f", "g"],
        "spørgsmål": ["Q1", "Q1", "Q1", "Q1", "Q2", "Q1", "Q1"],
        "svar": ["Grøn omstilling på værkstederne", decomposed, " GRØN OMSTILLING PÅ VÆRKSTEDERNE ",
                 "Grøn omstilling på værkstederne", "Grøn omstilling på værkstederne", "", " - "],
    })
    frame.to_csv(tmp_path / "svar.csv", index=False, encoding="utf-8")
    ingested = read_inputs([tmp_path / "svar.csv"])
    texts = ingested.texts
    assert texts[["text_id", "text", "question", "weight"]].values.tolist() == [
        ["svar:a", "Grøn omstilling på værkstederne", "Q1", 4.0],  # first id and wording kept
        ["svar:e", "Grøn omstilling på værkstederne", "Q2", 1.0],  # another question: not merged
    ]
    assert all(unicodedata.is_normalized("NFC", t) for t in texts["text"])
    report = ingested.report.files[0]
    assert (report.n_read, report.n_empty, report.n_merged, report.n_texts, report.weight) == (7, 2, 3, 2, 5.0)
    assert "2 tomme fjernet, 3 dubletter slået sammen -> 2 tekster" in ingested.report.summary_lines()[0]


def test_duplicates_are_merged_within_workshop_only(tmp_path):
    for workshop in ("aalborg", "hjoerring"):
        (tmp_path / workshop).mkdir()
        (tmp_path / workshop / "svar.csv").write_text("svar\nMere samarbejde\nmere samarbejde\n", encoding="utf-8")
    ingested = read_inputs([tmp_path / "aalborg", tmp_path / "hjoerring"])
    texts = ingested.texts
    assert texts[["workshop", "weight"]].values.tolist() == [["aalborg", 2.0], ["hjoerring", 2.0]]
    assert texts["text_id"].is_unique  # same file stem in two folders
    assert ingested.report.summary_lines()[-1] == (
        "i alt: 2 tekster fra 2 filer (4 læst, 0 tomme fjernet, 2 dubletter slået sammen, vægt 4)"
    )


def test_folder_expansion_and_workshop_names(tmp_path):
    folder = tmp_path / "Aalborg 2026"
    (folder / "noter").mkdir(parents=True)
    (folder / "b.csv").write_text("svar\nEt svar fra b\n", encoding="utf-8")
    (folder / "noter" / "a.md").write_text("Et afsnit fra a.\n", encoding="utf-8")
    (folder / "~$b.xlsx").write_bytes(b"lock")
    (folder / ".skjult.csv").write_text("svar\nskjult\n", encoding="utf-8")
    (folder / "README.md").write_text("Om mappen.\n", encoding="utf-8")
    (folder / "billede.png").write_bytes(b"\x89PNG")
    assert [p.name for p in expand_inputs([folder])] == ["b.csv", "a.md"]
    assert default_workshop_name([folder]) == "Aalborg 2026"

    ingested = read_inputs([folder])
    assert ingested.texts["text"].tolist() == ["Et svar fra b", "Et afsnit fra a."]
    assert set(ingested.texts["workshop"]) == {"Aalborg 2026"}
    assert ingested.report.skipped_files == ["README.md", "billede.png"]
    assert "ikke læst: 2 filer i mapperne: README.md, billede.png" in ingested.report.summary_lines()
    assert set(read_inputs([folder], IngestConfig(workshop="Nord")).texts["workshop"]) == {"Nord"}
    assert set(read_inputs([folder / "b.csv"]).texts["workshop"]) == {"b"}


def test_read_file_and_combine_match_read_inputs(tmp_path):
    path = write_session_workbook(tmp_path / "menti.xlsx", _session_blocks())
    frame = read_file(path, IngestConfig(workshop="W"))
    assert len(frame) == 10 and set(frame["workshop"]) == {"W"}
    combined = combine([frame])
    direct = read_inputs([path], IngestConfig(workshop="W"))
    pd.testing.assert_frame_equal(combined.texts, direct.texts)
    assert combined.report.summary_lines() == direct.report.summary_lines()


def test_write_texts_csv_is_utf8_with_bom(tmp_path):
    path = tmp_path / "svar.csv"
    path.write_text("svar;kommune\nÆrø har brug for færger;Ærø\n", encoding="cp1252")
    texts = read_inputs([path]).texts
    out = write_texts_csv(texts, tmp_path / "ud" / "tekster.csv")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(out, encoding="utf-8-sig")
    assert back["text"].tolist() == ["Ærø har brug for færger"] and back["kommune"].tolist() == ["Ærø"]
    assert list(back.columns[: len(TEXT_COLUMNS)]) == TEXT_COLUMNS
    assert [p.name for p in out.parent.iterdir()] == ["tekster.csv"]  # no temporary file left


def test_plan_series_from_folders_and_manifests(tmp_path):
    root = tmp_path / "runde"
    for workshop in ("Aarhus", "Herning"):
        (root / workshop).mkdir(parents=True)
        (root / workshop / "svar.csv").write_text("svar\nEt svar\n", encoding="utf-8")
    assert [(w, p.parent.name) for w, p in plan_series([root])] == [("Aarhus", "Aarhus"), ("Herning", "Herning")]

    manifest = tmp_path / "serie.yaml"
    manifest.write_text("workshops:\n  Nord: runde/Aarhus/svar.csv\n  Vest: [runde/Herning]\n", encoding="utf-8")
    assert [(w, p.name) for w, p in plan_series([manifest])] == [("Nord", "svar.csv"), ("Vest", "svar.csv")]

    table = tmp_path / "serie.csv"
    table.write_text("workshop;path\nSyd;runde/Herning/svar.csv\n", encoding="utf-8")
    assert [(w, p.parent.name) for w, p in plan_series([table])] == [("Syd", "Herning")]


# --- the real North Jutland workshop, when present next to the repository ---------------

shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/corpora/nordjylland-2023 is not present")


@shared
def test_shared_mentimeter_export_counts():
    frame = read_file(SHARED / "mentimeter-export.xlsx")
    assert len(frame) == 196 and frame["question"].nunique() == 2
    assert frame["text_id"].is_unique
    ingested = read_inputs([SHARED / "mentimeter-export.xlsx"])
    assert ingested.texts["weight"].sum() == 196
    report = ingested.report.files[0]
    assert (report.n_read, report.n_questions) == (196, 2) and not report.notes  # Responses rows agree


@shared
def test_shared_note_passages_sit_under_their_theme_heading():
    texts = read_inputs([SHARED / "opsamlingsnotat.docx"]).texts
    labelled = pd.read_csv(SHARED / "note-passage-themes.csv")
    question_of = dict(zip(texts["text"], texts["question"]))
    for passage in labelled["text"]:
        question = question_of[" ".join(unicodedata.normalize("NFC", passage).split())]
        assert question.startswith("2.") and "Tema" in question, (passage[:60], question)
    assert texts.loc[texts["question"].str.startswith("2."), "question"].nunique() == 6


def test_input_columns_named_like_pipeline_outputs_are_kept_under_input_prefix(tmp_path):
    path = tmp_path / "labelled.csv"
    path.write_text("text,theme,topic\nFlere robotter i produktionen,digitalisering,7\n", encoding="utf-8")
    texts = read_inputs([path]).texts
    assert "theme" not in texts.columns and "topic" not in texts.columns
    assert texts.loc[0, "input_theme"] == "digitalisering"
    assert str(texts.loc[0, "input_topic"]) == "7"


# --- awkward but readable inputs --------------------------------------------------------

@pytest.mark.parametrize("newline", [b"\r", b"\r\n", b"\n", b"mixed"])
def test_csv_line_endings_bare_cr_and_mixed(tmp_path, newline):
    # Old Mac Excel writes bare CR; files pasted together mix all three. A quoted answer
    # keeps its own line break.
    lines = [b"svar;kommune", b"Mere samarbejde;Aalborg", b"\"To linjer\r\ni et svar\";Aarhus", b"Flere netv\xc3\xa6rk;Thisted"]
    ends = [b"\r", b"\n", b"\r\n", b"\r"] if newline == b"mixed" else [newline] * 4
    path = tmp_path / "svar.csv"
    path.write_bytes(b"".join(line + end for line, end in zip(lines, ends)))
    texts = read_inputs([path]).texts
    assert texts["text"].tolist() == ["Mere samarbejde", "To linjer i et svar", "Flere netværk"]
    assert texts["kommune"].tolist() == ["Aalborg", "Aarhus", "Thisted"]


@pytest.mark.parametrize("columns", [1, 2])
def test_csv_answer_longer_than_csv_field_limit_is_read(tmp_path, columns):
    long_answer = ("Vi ønsker mere samarbejde mellem kommunerne om erhvervsservice. " * 3200)[:200_000]
    path = tmp_path / "lange-svar.csv"
    if columns == 1:
        path.write_text(f"svar\n{long_answer}\nKort svar\n", encoding="utf-8")
    else:
        path.write_text(f"svar;kommune\n\"{long_answer}\";Aalborg\nKort svar;Aarhus\n", encoding="utf-8")
    ingested = read_inputs([path])
    # Read whole past the csv module's field limit, then cut to the texts' length bound (with a warning).
    assert ingested.texts["text"].tolist() == [cut_text(long_answer.strip()), "Kort svar"]
    assert "1 tekst over 10.000 tegn afkortet (lange-svar:2)" in ingested.report.summary_lines()[0]


def test_csv_with_utf8_and_windows_1252_lines(tmp_path):
    # Answers pasted together from a UTF-8 export and a Danish Excel (Windows-1252) file.
    path = tmp_path / "blandet.csv"
    path.write_bytes("svar\nGrøn omstilling på værkstederne\n".encode() + "Flere lærlingepladser i Ærø\n".encode("cp1252"))
    ingested = read_inputs([path])
    assert ingested.texts["text"].tolist() == ["Grøn omstilling på værkstederne", "Flere lærlingepladser i Ærø"]
    assert "utf-8 + cp1252" in ingested.report.summary_lines()[0]


def test_formula_cells_are_read_as_cached_value_or_formula_text(tmp_path):
    # Excel stores a formula's last result beside it; openpyxl (and other programs) write none.
    # A result is used when there is one; otherwise, or when the result is an error (Excel
    # turns an answer typed as "- flere penge" into a failing formula), the formula text is read.
    from helpers_ingest_files import set_cached_values

    path = write_table_workbook(tmp_path / "svar.xlsx", {"Svar": [
        ["svar", "kommune"],
        ['="Mere "&"samarbejde"', "Aalborg"],
        ["=- flere penge til iværksættere", "Aarhus"],
        ['=HYPERLINK("http://eksempel.dk","Læs mere")', "Thisted"],
        ["=1+1", "=\"Skive\""],
        ["Almindeligt svar", "Hjørring"],
    ]})
    set_cached_values(path, {"A2": ("str", "Mere samarbejde"), "A3": ("e", "#NAME?"), "A5": ("n", "2")})
    ingested = read_inputs([path])
    assert ingested.texts["text"].tolist() == [
        "Mere samarbejde",
        "=- flere penge til iværksættere",
        '=HYPERLINK("http://eksempel.dk","Læs mere")',
        "Almindeligt svar",  # "=1+1" computed 2: a number, no text, dropped as empty and counted
    ]
    assert ingested.texts["kommune"].tolist() == ["Aalborg", "Aarhus", "Thisted", "Hjørring"]
    line = ingested.report.summary_lines()[0]
    assert "1 tomt fjernet" in line
    assert "ark 'Svar': 3 formelceller uden beregnet værdi læst som formlens tekst (A3, A4 og B5)" in line


def test_formula_answers_in_mentimeter_export_are_not_dropped(tmp_path):
    blocks = [{"type": "Open Ended", "question": OPEN_QUESTION,
               "answers": ["Mere rådgivning om eksport", "=+ hjælp til digitalisering", "@netværk for ejerledere"]}]
    path = write_session_workbook(tmp_path / "menti.xlsx", blocks)
    ingested = read_inputs([path])
    assert ingested.texts["text"].tolist() == ["Mere rådgivning om eksport", "=+ hjælp til digitalisering",
                                                "@netværk for ejerledere"]
    assert "1 formelcelle uden beregnet værdi" in ingested.report.summary_lines()[0]


def test_answers_without_a_word_of_two_letters_or_digits_are_empty(tmp_path):
    path = tmp_path / "svar.csv"
    path.write_text("svar\nx\n5\n?\na b\nEU\n3D\nja\n", encoding="utf-8")
    ingested = read_inputs([path])
    assert ingested.texts["text"].tolist() == ["EU", "3D", "ja"]
    assert ingested.report.files[0].n_empty == 4


def test_formatted_cell_far_right_does_not_widen_every_row(tmp_path):
    # A bold empty cell in the last column (XFD) makes Excel declare the sheet 16,384 columns
    # wide; read naively, every row became 16,384 cells and every text 16,383 empty extra columns.
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["svar", "kommune"])
    for number in range(300):
        sheet.append([f"Svar nummer {number} om samarbejde", "Aalborg"])
    sheet["XFD1"].font = Font(bold=True)
    workbook.save(tmp_path / "bred.xlsx")
    texts = read_inputs([tmp_path / "bred.xlsx"]).texts
    assert len(texts) == 300
    assert list(texts.columns) == TEXT_COLUMNS + ["kommune"]


def test_repeated_text_ids_are_numbered_without_clashing():
    from pipeline.schema import unique_text_ids

    ids = pd.Series(["svar:1", "svar:2", "svar:1", "svar:1~2", "svar:1", 7, "7"], index=range(10, 17))
    unique = unique_text_ids(ids)
    # The first keeps its id; a repeat takes the next free number ("svar:1~2" was in the input).
    assert unique.tolist() == ["svar:1", "svar:2", "svar:1~3", "svar:1~2", "svar:1~4", "7", "7~2"]
    assert unique.is_unique and unique.index.equals(ids.index)


def test_merged_cells_of_a_question_column_give_each_row_its_question(tmp_path):
    # A hand-made table: the question typed once, merged down over its answers; a title merged across.
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Borgermøde om erhverv", None, None])
    sheet.merge_cells("A1:C1")
    sheet.append(["Spørgsmål", "Svar", "Bord"])
    answers = [("Hvad mangler?", "Flere lærepladser", 1), (None, "Bedre busser til Hanstholm", 1),
               (None, "Billigere erhvervslokaler", 2), ("Hvad virker?", "Samarbejdet med skolerne", 2),
               (None, "Havnens nye kaj", 3)]
    for row in answers:
        sheet.append(list(row))
    sheet.merge_cells("A3:A5")
    sheet.merge_cells("A6:A7")
    sheet.merge_cells("C3:C4")  # the table number too
    sheet["B8"], sheet["B9"] = "Et svar over to rækker", None
    sheet.merge_cells("B8:B9")  # a merged answer stays one answer
    path = tmp_path / "borgermøde.xlsx"
    workbook.save(path)
    texts = read_inputs([path]).texts
    assert texts["text"].tolist() == [row[1] for row in answers] + ["Et svar over to rækker"]
    assert texts["question"].tolist() == ["Hvad mangler?"] * 3 + ["Hvad virker?"] * 2 + ["Borgermøde"]
    assert texts["Bord"].tolist()[:5] == [1, 1, 2, 2, 3]


def test_merged_ranges_are_found_whatever_piece_of_the_sheet_they_fall_in(tmp_path):
    # The sheet's XML is read in pieces (bounded memory): a range cut between two pieces is still found, once.
    from pipeline.ingest.tables import _merged_ranges

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in range(1, 200):
        sheet.append([f"Spørgsmål {row}", f"Svar {row}"])
    expected = set()
    for top in range(1, 190, 3):
        sheet.merge_cells(start_row=top, start_column=1, end_row=top + 2, end_column=1)
        expected.add((1, top, 1, top + 2))
    path = tmp_path / "mange.xlsx"
    workbook.save(path)
    whole = _merged_ranges(path, "xl/worksheets/sheet1.xml")
    assert set(whole) == expected and len(whole) == len(expected)
    for chunk in (7, 64, 1000):  # pieces smaller than one <mergeCell> element, and larger
        assert _merged_ranges(path, "xl/worksheets/sheet1.xml", chunk=chunk) == whole


def test_a_word_table_of_numbered_dated_answers_gives_the_answers_only(tmp_path):
    # Postcards typed into a Word table: number, answer, date. The number and date cells are no passages.
    answers = ["Flere lærepladser i de små virksomheder", "Bussen til Hanstholm kører for sjældent",
               "Havnen skal være grøn før 2030", "Billigere lokaler til iværksættere"] * 3
    rows = [["Nr", "Svar", "Dato"]] + [[str(n), f"{answer} ({n})", "14-03-2026"] for n, answer in enumerate(answers, 1)]
    path = write_docx(tmp_path / "postkort.docx", [("Heading 1", "Postkort"), ("table", rows)])
    texts = read_inputs([path]).texts["text"].tolist()
    assert texts == [row[1] for row in rows[1:]]


def test_markdown_headings_typed_without_the_space_are_headings(tmp_path):
    # "#Tema" is a paragraph to CommonMark, but a heading to whoever typed it; a #hashtag stays text.
    path = tmp_path / "noter.md"
    path.write_text("#Opsamling\nIndledning om dagen.\n\n##Tema 1: Innovation\n\nEt laboratorium for test.\n\n"
                    "#innovation er dagens hashtag\n\n#Aalborg2030 var deltagernes eget slogan for dagen.\n", encoding="utf-8")
    texts = read_inputs([path]).texts
    # A capitalised hashtag opening a sentence is no heading either: the line is a sentence.
    assert texts["text"].tolist() == ["Indledning om dagen.", "Et laboratorium for test.", "#innovation er dagens hashtag",
                                      "#Aalborg2030 var deltagernes eget slogan for dagen."]
    assert texts["question"].tolist() == ["Opsamling", "Tema 1: Innovation", "Tema 1: Innovation", "Tema 1: Innovation"]


def test_the_readme_manifest_form_with_names_and_inputs_is_read(tmp_path):
    # `workshops: [{name: Aalborg, inputs: [aalborg/menti.xlsx]}]` (a list of workshops), beside the README's mapping form.
    for workshop in ("aalborg", "aarhus"):
        (tmp_path / workshop).mkdir()
        (tmp_path / workshop / "svar.csv").write_text("svar\nEt svar om havnen\n", encoding="utf-8")
    manifest = tmp_path / "serie.yaml"
    manifest.write_text("workshops:\n  - name: Aalborg\n    inputs: [aalborg/svar.csv]\n"
                        "  - name: Aarhus\n    inputs: aarhus\n", encoding="utf-8")
    assert [(w, p.parent.name) for w, p in plan_series([manifest])] == [("Aalborg", "aalborg"), ("Aarhus", "aarhus")]
    manifest.write_text("workshops:\n  - name: Aalborg\n  - Aarhus\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        plan_series([manifest])
    assert caught.value.where == "post 1" and str(caught.value).endswith("en workshop skal have name og inputs")
    manifest.write_text("workshops:\n  - {name: Aalborg, inputs: aalborg}\n  - {name: Aalborg, inputs: aarhus}\n",
                        encoding="utf-8")
    with pytest.raises(InputError, match="workshoppen 'Aalborg' står to gange"):
        plan_series([manifest])


# --- what the system will not let tematik read: one Danish line naming it ---------------------------


def _refused_path(tmp_path):
    """A path whose stat the system refuses ("Permission denied"): another process's working folder under
    /proc for a user without access to it, or a file in a folder without access for a user other than root."""
    import os

    for path in ("/proc/1/cwd", "/proc/1/root"):
        try:
            os.stat(path)
        except PermissionError:
            return Path(path)
        except OSError:
            pass
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        locked = tmp_path / "laast"
        locked.mkdir()
        (locked / "svar.csv").write_text("svar\nEt svar\n", encoding="utf-8")
        locked.chmod(0)
        return locked / "svar.csv"
    pytest.skip("no path here refuses a stat (root outside a container)")


def _english_free(message: str) -> bool:
    return not any(word in message for word in ("Errno", "Permission", "denied", "Input/output", "error"))


def test_a_system_file_that_reads_as_an_error_is_one_danish_line_naming_it(tmp_path):
    """/proc/self/mem under a readable name opens, then fails to read ("[Errno 5] Input/output error",
    which stopped the run as an unexpected failure without naming the file)."""
    from pipeline.preflight import check_run

    if not Path("/proc/self/mem").exists():
        pytest.skip("no /proc")
    link = tmp_path / "svar.csv"
    link.symlink_to("/proc/self/mem")
    for read in (lambda: read_inputs([link]), lambda: read_inputs([tmp_path]), lambda: read_file(link)):
        with pytest.raises(InputError) as caught:
            read()
        assert str(caught.value) == f"{link}: kan ikke læses (læsefejl: en systemfil eller et drev med fejl)"
    with pytest.raises(InputError) as caught:  # the checks before a run, as `tematik run` makes them
        from pipeline.config import RunOverrides

        check_run([link], None, RunOverrides(), tmp_path / "out", tmp_path / "models")
    assert str(caught.value).startswith(f"{link}: kan ikke læses") and _english_free(str(caught.value))
    assert not (tmp_path / "out").exists()


def test_a_path_the_system_refuses_to_show_is_one_danish_line_naming_it(tmp_path):
    """A path under /proc (or a locked folder) whose stat is refused: given, inside a folder or in a
    series, it stops the run in one Danish line naming it (it was "[Errno 13] Permission denied: …")."""
    from pipeline.preflight import check_paths_exist

    refused = _refused_path(tmp_path)
    folder = tmp_path / "workshop"
    folder.mkdir()
    (folder / "svar.csv").write_text("svar\nEt svar om grøn omstilling\n", encoding="utf-8")
    (folder / "genvej.csv").symlink_to(refused)
    for read, named in ((lambda: check_paths_exist([refused]), refused), (lambda: read_inputs([refused]), refused),
                        (lambda: read_inputs([folder]), folder / "genvej.csv"), (lambda: plan_series([folder]), folder / "genvej.csv"),
                        (lambda: plan_series([refused]), refused)):  # fmt: skip
        with pytest.raises(InputError) as caught:
            read()
        assert str(caught.value) == f"{named}: kan ikke læses (ingen læseadgang)"


def test_settings_outputs_and_saved_runs_the_system_refuses_are_one_danish_line_each(tmp_path):
    """A config, taxonomy, --out, saved run or text table under a path the system will not show: each
    one Danish line naming it, before anything is written (they ended "[Errno 13] Permission denied", the
    output folders in a traceback)."""
    from pipeline.config import RunOverrides
    from pipeline.ingest import check_texts_target
    from pipeline.preflight import check_run
    from pipeline.saved_run import load_run
    from pipeline.taxonomy import load_taxonomy

    refused = _refused_path(tmp_path)
    answers = tmp_path / "svar.csv"
    answers.write_text("svar\nEt svar om grøn omstilling i industrien\n", encoding="utf-8")
    out, models = tmp_path / "outputs", tmp_path / "models"
    cases = [
        (lambda: check_run([answers], refused / "x.yaml", RunOverrides(), out, models), refused / "x.yaml", "kan ikke læses (ingen læseadgang)"),
        (lambda: check_run([answers], None, RunOverrides(taxonomy=str(refused / "t.yaml")), out, models), refused / "t.yaml",
         "kan ikke læses (ingen læseadgang)"),
        (lambda: load_taxonomy(refused / "t.yaml"), refused / "t.yaml", "kan ikke læses (ingen læseadgang)"),  # any caller
        (lambda: check_run([answers], None, RunOverrides(), refused / "ud", models), refused / "ud",
         "resultatmappen kan ikke skrives (ingen skriveadgang)"),
        (lambda: load_run(refused), refused, "kan ikke læses (ingen læseadgang)"),
        (lambda: check_texts_target(refused / "tekster.csv", [answers]), refused / "tekster.csv",
         "teksttabellen kan ikke skrives (ingen skriveadgang)"),
    ]  # fmt: skip
    for check, named, message in cases:
        with pytest.raises(InputError) as caught:
            check()
        assert str(caught.value) == f"{named}: {message}"
    assert not out.exists() and not models.exists()
