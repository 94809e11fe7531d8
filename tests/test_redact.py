"""Redaction of personal data (pipeline/redact.py).

Every text here was written for these tests: Mentimeter-like answers and note passages
with personal data planted in them, and answers whose names-that-are-words, numbers and
places must come through untouched.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
import spacy

from pipeline.config import RedactionConfig, RunConfig
from pipeline.redact import KINDS, PLACEHOLDER_PATTERN, PLACEHOLDERS, Redactor


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    # No NER here: the rules are tested on their own; NER has its own test below.
    return Redactor(RedactionConfig(ner_pipeline=None))


# (text, the personal data that must be gone, placeholder that must appear)
PLANTED = [
    ("Mit cpr-nummer er 010190-1234, skriv det ikke", ["010190-1234"], "[CPR]"),
    ("cpr 0101901234 står på sedlen", ["0101901234"], "[CPR]"),
    ("CPR: 311299 4321", ["311299 4321"], "[CPR]"),
    ("Skriv til anne-mette.holm@example.dk for at deltage", ["anne-mette.holm@example.dk"], "[E-MAIL]"),
    ("Mere info: Kontakt@Erhvervshus-Test.dk.", ["Kontakt@Erhvervshus-Test.dk"], "[E-MAIL]"),
    ("Ring til mig på 12 34 56 78 hvis I vil høre mere", ["12 34 56 78"], "[TELEFON]"),
    ("tlf 23456789 (efter kl. 16)", ["23456789"], "[TELEFON]"),
    ("Kontakt +45 23 45 67 89 om robotter", ["+45 23 45 67 89", "23 45 67 89"], "[TELEFON]"),
    ("0045 87654321 er sekretariatet", ["87654321"], "[TELEFON]"),
    ("(+45) 2345 6789 hele dagen", ["2345 6789"], "[TELEFON]"),
    ("Vores svenske partner: +46 8 123 456 78", ["123 456 78"], "[TELEFON]"),
    ("UK office 0044 20 7946 0958 is open", ["7946 0958"], "[TELEFON]"),
    ("Svar her: https://survey.example.dk/svar?id=42&token=abc123", ["token=abc123"], "[URL]"),
    ("Login http://bruger:hemmelig@intra.example.dk/side", ["hemmelig"], "[URL]"),
    ("Svar uden https: example.dk/svar?navn=jens", ["navn=jens"], "[URL]"),
    ("skriv til mette[at]example.dk eller mette (at) example.dk", ["mette", "example.dk"], "[E-MAIL]"),
    ("tlf. 98.12.34.56 i dagtimerne", ["98.12.34.56"], "[TELEFON]"),
    ("cpr 010190–1234 med tankestreg", ["1234"], "[CPR]"),
    ("Mette Frederiksen har ret i at vi mangler hænder", ["Mette", "Frederiksen"], "[NAVN]"),
    ("borgmester Kjærsgaard åbnede mødet", ["Kjærsgaard"], "[NAVN]"),
    ("Direktør Zebulon Quist fortalte om eksport", ["Zebulon", "Quist"], "[NAVN]"),
    ("anne-mette sagde det bedst: flere lærlinge", ["anne-mette"], "[NAVN]"),
    ("Tak til Anne-Mette Kastrup-Larsen for oplægget", ["Anne-Mette", "Kastrup-Larsen"], "[NAVN]"),
    ("Per Jensen fra udvalget vil have flere praktikpladser", ["Per", "Jensen"], "[NAVN]"),
    ("Som hr. Hansen sagde: uddannelse først", ["Hansen"], "[NAVN]"),
    ("Søren og Lise-Lotte vil have mere grøn energi", ["Søren", "Lise-Lotte"], "[NAVN]"),
    ("Jeg er enig med Mettes forslag om robotter", ["Mettes"], "[NAVN]"),
    ("spørg mette frederiksen, hun ved det", ["mette", "frederiksen"], "[NAVN]"),
    ("Kommunaldirektør Birthe Sørensen lovede en handleplan", ["Birthe", "Sørensen"], "[NAVN]"),
    ("TAK TIL METTE HANSEN FOR KAFFEN", ["METTE", "HANSEN"], "[NAVN]"),
    ("Jensen foreslog et fælles sekretariat", ["Jensen"], "[NAVN]"),
    ("Jeg støtter Mortensens idé om robotter", ["Mortensen"], "[NAVN]"),
]


@pytest.mark.parametrize("text, planted, placeholder", PLANTED)
def test_planted_personal_data_is_replaced(redactor, text, planted, placeholder):
    redacted = redactor.redact(text)
    assert placeholder in redacted, redacted
    for value in planted:
        assert value not in redacted, redacted


def test_placeholder_pattern_finds_every_placeholder(redactor):
    redacted = redactor.redact("Mette Hansen, 12 34 56 78, m@example.dk, 010190-1234, https://x.dk/?a=1; et godt navn")
    assert PLACEHOLDER_PATTERN.sub("", redacted) == ", , , , ; et godt navn"


def test_redacting_twice_changes_nothing(redactor):
    once = [redactor.redact(text) for text, _, _ in PLANTED]
    assert [redactor.redact(text) for text in once] == once


def test_note_passage_with_every_kind(redactor):
    passage = (
        "Facilitator Lars Holm-Pedersen indledte sessionen om kompetencer. Deltagerne kan kontakte "
        "ham på lars.hp@example.dk eller 40 50 60 70, og svarene ligger på "
        "https://example.dk/workshop?deltager=17. En deltager skrev sit CPR-nummer 020202-2222 på et postkort."
    )
    redacted = redactor.redact(passage)
    for placeholder in PLACEHOLDERS.values():
        assert placeholder in redacted, redacted
    assert not re.search(r"Lars|Holm|Pedersen|lars\.hp|40 50 60 70|deltager=17|020202", redacted)
    # The rest of the passage is kept word for word.
    assert redacted.startswith("Facilitator [NAVN] indledte sessionen om kompetencer.")
    assert "En deltager skrev sit CPR-nummer [CPR] på et postkort." in redacted


KEPT = [
    "Per år skal vi uddanne 150 flere faglærte",
    "Bo i Hjørring og arbejd i Aalborg",
    "Mark og skov skal bevares i Nordjylland",
    "Have fokus på de små virksomheder",
    "Sol og vind fra Vest- og Nordjylland",
    "Storm og oversvømmelse truer havnene",
    "Hans idé om et fælles sekretariat var god",
    "Line op med en fælles plan for 2025-2030",
    "Held og lykke med den grønne omstilling",
    "Krisen og Energikrisen rammer; Prisen stiger",
    "Lund og Holm er bynavne, Skov og Strand er natur",
    "Max 5 minutter per oplæg",
    "Vi var 150 deltagere i 2023",
    "Budget på 25000000 kr. over tre år",
    "Postnummer 9000 Aalborg og 9800 Hjørring",
    "CVR 12345678 hører til foreningen",
    "Perioden 2020 2023 var svær",
    "Fristen er 20230322 i systemet",
    "Prisen var 1.500.000 kr og 10 000 000 kr i alt",
    "Dato 320190-1234 er ikke en dag",
    "Region Nordjylland og Aalborg Kommune samarbejder med Aalborg Universitet",
    "Aalborg Portland, Vestas og Arla er store udledere",
    "Læs strategien på https://www.example.dk/strategi.",
    "Se example.dk/strategi, 1/2 og 50/50 og/eller a/s, kl. 12.30",
    "SMV'er i Vendsyssel og Thy mangler IT-kompetencer",
    "Digitalisering, automatisering og robotter i produktionen",
]


@pytest.mark.parametrize("text", KEPT)
def test_words_numbers_and_places_are_kept(redactor, text):
    assert redactor.redact(text) == text


def test_counts_per_kind_in_a_texts_table(redactor):
    frame = pd.DataFrame(
        {
            "text_id": ["a:1", "a:2", "a:3", "n:1"],
            "text": [
                "Ring 12 34 56 78 eller 87654321",
                "Mette Hansen: mette@example.dk",
                "Mere samarbejde om kompetencer",
                "Se https://example.dk/x?id=1 og cpr 010190-1234",
            ],
            "question": ["Spørgsmål fra Anne-Mette", "Spørgsmål fra Anne-Mette", "Hvad mangler?", None],
            "section_path": [None, None, None, "2. Temadrøftelser > 2.1 Kompetencer (Kim Madsen)"],
            "workshop": ["Mette Hansen-workshoppen"] * 4,  # not a redacted column
            "weight": [1.0, 2.0, 1.0, 3.0],
        }
    )
    redacted, counts = redactor.redact_texts(frame)
    # The question shared by two answers is one name; the heading another; "Mette Hansen" a third.
    assert counts == {"cpr": 1, "email": 1, "phone": 2, "url": 1, "name": 3}
    assert list(counts) == list(KINDS)
    assert redacted["text"].tolist() == [
        "Ring [TELEFON] eller [TELEFON]",
        "[NAVN]: [E-MAIL]",
        "Mere samarbejde om kompetencer",
        "Se [URL] og cpr [CPR]",
    ]
    assert redacted["question"].tolist()[:3] == ["Spørgsmål fra [NAVN]", "Spørgsmål fra [NAVN]", "Hvad mangler?"]
    assert pd.isna(redacted["question"].iloc[3])
    assert redacted["section_path"].iloc[3] == "2. Temadrøftelser > 2.1 Kompetencer ([NAVN])"
    # Other columns and the input table are untouched.
    pd.testing.assert_frame_equal(redacted[["text_id", "workshop", "weight"]], frame[["text_id", "workshop", "weight"]])
    assert frame["text"].iloc[1] == "Mette Hansen: mette@example.dk"


def test_disabled_keeps_everything(redactor):
    frame = pd.DataFrame({"text": ["Mette Hansen, 12 34 56 78"], "question": ["Q"]})
    redacted, counts = Redactor(RedactionConfig(enabled=False)).redact_texts(frame)
    pd.testing.assert_frame_equal(redacted, frame)
    assert counts == dict.fromkeys(KINDS, 0)
    assert Redactor(RedactionConfig(enabled=False)).info() == {"enabled": False}


def test_knobs_allow_words_extra_names_all_urls_names_off():
    text = "Niels Brock og Zebulon underviser; se https://www.example.dk/kurser"
    default = Redactor(RedactionConfig(ner_pipeline=None)).redact(text)
    assert default == "[NAVN] og Zebulon underviser; se https://www.example.dk/kurser"
    tuned = Redactor(
        RedactionConfig(ner_pipeline=None, allow_words=["Niels Brock"], extra_names=["Zebulon", "Firma Quist"], all_urls=True)
    )
    assert tuned.redact(text) == "Niels Brock og [NAVN] underviser; se [URL]"
    assert tuned.redact("Spørg firma quist om det") == "Spørg [NAVN] om det"
    names_off = Redactor(RedactionConfig(ner_pipeline=None, names=False))
    assert names_off.redact("Mette Hansen, 12 34 56 78") == "Mette Hansen, [TELEFON]"
    assert names_off.info()["names"] is None


def test_ner_pipeline_entities_are_redacted(tmp_path):
    """A saved spaCy pipeline whose entity ruler stands in for da_core_news_sm's NER."""
    nlp = spacy.blank("da")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "PER", "pattern": "Ximena"},  # in no name list: only NER finds her
            {"label": "PER", "pattern": "Aalborg"},  # NER mistakes: a place and a word-like name stay
            {"label": "PER", "pattern": "Per"},
            {"label": "LOC", "pattern": "Hjørring"},
        ]
    )
    nlp.to_disk(tmp_path / "ner-pipeline")
    redactor = Redactor(RedactionConfig(ner_pipeline=str(tmp_path / "ner-pipeline")))
    texts = ["Ximena foreslog et fælles sekretariat", "Per år i Aalborg og Hjørring", "Mette Hansen og Ximena"]
    redacted, counts = redactor.redact_many(texts)
    assert redacted == ["[NAVN] foreslog et fælles sekretariat", "Per år i Aalborg og Hjørring", "[NAVN] og [NAVN]"]
    assert counts["name"] == 3
    assert redactor.info()["ner"] is not None
    assert Redactor(RedactionConfig(ner_pipeline="no_such_pipeline_xx")).info()["ner"] is None
    # Loaded once per process: the next run's Redactor (or one built by warm_up) reuses it.
    again = Redactor(RedactionConfig(ner_pipeline=str(tmp_path / "ner-pipeline"))).load()
    assert again.ner_ is redactor.ner_ and again.redact_many(texts) == (redacted, counts)


def test_config_section_is_part_of_the_run_config():
    config = RunConfig.model_validate({"redaction": {"allow_words": ["Niels Brock"], "all_urls": True}})
    assert config.redaction.enabled is True
    assert config.redaction.allow_words == ["Niels Brock"]
    with pytest.raises(ValueError):
        RunConfig.model_validate({"redaction": {"no_such_knob": 1}})


def test_real_workshop_loses_nothing(shared_workshop):
    """The real North Jutland workshop holds no personal data (checked by hand): nothing may change."""
    from pipeline.ingest import read_inputs

    texts = read_inputs(shared_workshop).texts
    redacted, counts = Redactor(RedactionConfig(ner_pipeline=None)).redact_texts(texts)
    assert counts == dict.fromkeys(KINDS, 0)
    assert redacted["text"].tolist() == texts["text"].tolist()


def test_a_tables_extra_columns_and_ids_are_redacted_and_ids_stay_unique():
    frame = pd.DataFrame({
        "text_id": ["mette.frederiksen@kk.dk", "mf@kk.dk", "svar-3"],
        "text": ["Flere robotter", "Mere eksport", "Bedre bredbånd"],
        "navn": ["Mette Frederiksen", "Anne Hansen", None],
        "kommune": ["Aalborg", "Hjørring", "Thisted"],
        "source_file": ["svar.csv"] * 3,
        "weight": [1.0, 2.0, 1.0],
    })  # fmt: skip
    redacted, counts = Redactor().redact_texts(frame)
    assert redacted["text_id"].is_unique and "@" not in "".join(redacted["text_id"])
    assert redacted["navn"].tolist()[:2] == ["[NAVN]", "[NAVN]"] and pd.isna(redacted["navn"].iloc[2])
    assert redacted["kommune"].tolist() == ["Aalborg", "Hjørring", "Thisted"]  # places are not names
    assert redacted["weight"].tolist() == [1.0, 2.0, 1.0] and counts["email"] == 2 and counts["name"] == 2


def test_answers_equal_after_redaction_become_one_answer_with_their_voices():
    from pipeline.stages import LocalStages

    frame = pd.DataFrame(
        {
            "text_id": ["m:1", "m:2", "m:3", "m:4"],
            "text": ["Ring til Jens Kastrup om lærepladser", "Ring til Mette Hansen om lærepladser",
                     "Ring til Mette Hansen om lærepladser", "Flere lærepladser"],  # fmt: skip
            "source_file": "menti.xlsx",
            "source_kind": "mentimeter",
            "question": ["Hvad mangler?", "Hvad mangler?", "Et andet spørgsmål", "Hvad mangler?"],
            "workshop": "demo",
            "weight": [1.0, 2.0, 1.0, 1.0],
        }
    )
    protected, report = LocalStages(RunConfig.model_validate({"redaction": {"ner_pipeline": None}})).protect(frame)
    # Merged within one question (as ingestion merges), never across questions.
    assert protected["text"].tolist() == ["Ring til [NAVN] om lærepladser", "Ring til [NAVN] om lærepladser", "Flere lærepladser"]
    assert protected["text_id"].tolist() == ["m:1", "m:3", "m:4"]
    assert protected["weight"].tolist() == [3.0, 1.0, 1.0]
    assert report["merged_after_redaction"] == 1
    assert report["counts"]["name"] == 2
    assert len(frame) == 4  # the input table is not changed


# --- what surfaces besides the texts: errors, reports, headers, sheet names, the config -----


def test_an_input_errors_quoted_cell_and_sheet_are_redacted_the_file_name_kept(tmp_path):
    from helpers_ingest_files import write_table_workbook

    from pipeline.errors import InputError
    from pipeline.stages import LocalStages

    path = write_table_workbook(tmp_path / "vaegte.xlsx", {"Anne Hansen 12345678": [
        ["svar", "vægt"], ["Mere samarbejde", 1], ["Flere robotter", "Mette Kløvedal 29384756"]]})  # fmt: skip
    with pytest.raises(InputError) as raised:
        LocalStages(RunConfig()).read([path])
    message = str(raised.value)
    assert message == f"{path} (ark '[NAVN] [TELEFON]', række 3): vægten '[NAVN] [TELEFON]' er ikke et tal"
    assert raised.value.__context__ is None  # the original, unredacted error is not chained
    with pytest.raises(InputError, match="Kløvedal 29384756"):  # kept when redaction is off
        LocalStages(RunConfig.model_validate({"redaction": {"enabled": False}})).read([path])


def test_the_ingest_report_quotes_skipped_questions_sheets_and_columns_redacted(tmp_path):
    from helpers_ingest_files import write_session_workbook, write_table_workbook

    from pipeline.stages import LocalStages

    write_session_workbook(tmp_path / "menti.xlsx", [
        {"type": "Open Ended", "question": "Hvad mangler?", "answers": ["Flere robotter", "Mere eksport"]},
        {"type": "Multiple Choice", "question": "Stem på Helle Thorning (helle.t@firma.dk, 61 62 63 64)", "answers": ["Ja"]},
    ])  # fmt: skip
    write_table_workbook(tmp_path / "tabel.xlsx", {"Mette Vinther 71727374": [["Kontakt", "noter"], ["x", "y"]],
                                                   "Svar": [["svar"], ["Bedre bredbånd"]]})  # fmt: skip
    lines = "\n".join(LocalStages(RunConfig()).read([tmp_path]).report.summary_lines())
    assert "'Stem på [NAVN] ([E-MAIL], [TELEFON])' (Multiple Choice)" in lines
    assert "ark '[NAVN] [TELEFON]' sprunget over" in lines
    assert not re.search(r"Thorning|helle\.t|61 62|Vinther|71727374", lines)


def test_extra_column_headers_are_redacted_and_stay_distinct(redactor):
    frame = pd.DataFrame({"text_id": ["t:1"], "text": ["Flere robotter"], "source_file": ["t.csv"],
                          "Kontakt Mette Vinther 71 72 73 74": ["ja"], "Kontakt Anne Hansen 12 34 56 78": ["nej"],
                          "kommune": ["Aalborg"]})  # fmt: skip
    redacted, counts = redactor.redact_texts(frame)
    assert list(redacted.columns) == ["text_id", "text", "source_file", "Kontakt [NAVN] [TELEFON]",
                                      "Kontakt [NAVN] [TELEFON].2", "kommune"]  # fmt: skip
    assert redacted["Kontakt [NAVN] [TELEFON].2"].tolist() == ["nej"] and counts["phone"] == 2


def test_sheet_names_never_reach_text_ids(tmp_path):
    from helpers_ingest_files import write_session_workbook
    import openpyxl

    from pipeline.ingest import read_inputs

    path = write_session_workbook(tmp_path / "menti.xlsx", [{"type": "Open Ended", "question": "Hvad mangler?",
                                                             "answers": ["Flere robotter", "Mere eksport"]}])  # fmt: skip
    workbook = openpyxl.load_workbook(path)
    workbook["Session 1"].title = "Lone Damgaard 0707071234"
    workbook.save(path)
    texts = read_inputs([path]).texts
    assert texts["text_id"].tolist() == ["menti:ark2:r9", "menti:ark2:r10"]  # by position: Presentation is ark1
    assert set(texts["session"]) == {"Lone Damgaard 0707071234"}  # a text column, which redaction reaches


def test_extra_names_are_used_but_never_written():
    config = RunConfig.model_validate({"redaction": {"extra_names": ["Zebulon Quist", "Xerxes"]}})
    redactor = Redactor(config.redaction.model_copy(update={"ner_pipeline": None}))
    assert redactor.redact("Ring til Zebulon Quist eller Xerxes") == "Ring til [NAVN] eller [NAVN]"
    assert "Zebulon" not in config.model_dump_json() and "Xerxes" not in config.model_dump_json()
    assert redactor.info()["extra_names"] == 2  # the manifest counts them
    assert config.model_dump()["redaction"]["extra_names"] == ["Zebulon Quist", "Xerxes"]  # a run's overrides keep them
