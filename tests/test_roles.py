"""Passage roles on notes written for these tests, read by the real note reader, with real e5 embeddings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.config import EmbeddingConfig, IngestConfig
from pipeline.embeddings import make_embedder
from pipeline.ingest import read_inputs
from pipeline.ingest.roles import (
    ABOUT_WORKSHOP_ROLE,
    CONTENT_ROLE,
    LIST_LEAD_IN_ROLE,
    ROLES,
    SUMMARY_ROLE,
    passage_roles,
)

NOTE = """# Opsamling på strategiworkshop i Vestegnen, 4. maj 2026

Erhvervshus Vest inviterede til en strategiworkshop på rådhuset i Glostrup.

Workshoppen er én af fire lokale workshops, som erhvervshuset holder i løbet af foråret.

## 1 Hovedbudskaber

Drøftelserne tog udgangspunkt i følgende spørgsmål:

- Virksomhederne mangler faglærte, og flere lærepladser er den vigtigste løsning.
- Små virksomheder har brug for hjælp til at komme i gang med et CO2-regnskab.
- Cybersikkerhed er den største digitale bekymring hos de mindre virksomheder.

## 2 Temasessioner

### 2.1 Tema 1: Arbejdskraft

Mangel på faglærte inden for byggeri og metal bremser væksten hos mange virksomheder.

Deltagerne pegede på følgende elementer:

- Flere lærepladser gennem delte lærlingeforløb mellem små virksomheder.
- Hurtigere sagsbehandling, når virksomhederne rekrutterer fra udlandet.

Workshoppen viste, at manglen på arbejdskraft er den største barriere for vækst i området.

### 2.2 Tema 2: Grøn omstilling

Mange små virksomheder ved ikke, hvordan de laver et CO2-regnskab, og efterspørger enkel rådgivning.

Kunderne stiller stigende krav om dokumentation af klimaaftrykket i hele leverandørkæden.

### 2.3 Tema 3: Digitalisering

Cybersikkerhed fylder meget, fordi flere mindre virksomheder har været udsat for hackerangreb.

Kunstig intelligens kan frigøre tid i administrationen, men virksomhederne mangler overblik over værktøjerne.

## 3 Næste skridt

Sekretariatet sender et udkast til handlingsplan i høring hos deltagerne efter sommerferien.
"""


@pytest.fixture(scope="module")
def note(tmp_path_factory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("note") / "opsamling.md"
    path.write_text(NOTE, encoding="utf-8")
    return read_inputs([path], IngestConfig()).texts


@pytest.fixture(scope="module")
def embedder():
    return make_embedder(EmbeddingConfig(cache=False))


def role_of(texts: pd.DataFrame, roles: pd.Series, start: str) -> str:
    matches = texts.index[texts["text"].str.startswith(start)]
    assert len(matches) == 1, start
    return roles[matches[0]]


def test_note_roles(note, embedder):
    roles = passage_roles(note, embedder.embed(note["text"].tolist()))
    assert roles.index.equals(note.index) and set(roles) <= set(ROLES)
    expected = {
        "Erhvervshus Vest inviterede": ABOUT_WORKSHOP_ROLE,  # before the first section heading
        "Workshoppen er én af fire": ABOUT_WORKSHOP_ROLE,
        "Drøftelserne tog udgangspunkt": LIST_LEAD_IN_ROLE,
        "Virksomhederne mangler faglærte, og flere": SUMMARY_ROLE,
        "Små virksomheder har brug for hjælp": SUMMARY_ROLE,
        "Mangel på faglærte inden for": CONTENT_ROLE,
        "Deltagerne pegede på følgende elementer:": LIST_LEAD_IN_ROLE,
        "Flere lærepladser gennem": CONTENT_ROLE,
        # About the workshop's *finding*, not the workshop itself: content.
        "Workshoppen viste, at manglen": CONTENT_ROLE,
        "Kunderne stiller stigende krav": CONTENT_ROLE,
        "Sekretariatet sender et udkast": ABOUT_WORKSHOP_ROLE,  # "Næste skridt"
    }
    assert {start: role_of(note, roles, start) for start in expected} == expected
    assert (roles == CONTENT_ROLE).sum() == 8


def test_without_embeddings_the_summary_heading_decides(note):
    roles = passage_roles(note)
    assert role_of(note, roles, "Cybersikkerhed er den største digitale") == SUMMARY_ROLE
    assert role_of(note, roles, "Cybersikkerhed fylder meget") == CONTENT_ROLE


def test_a_summary_heading_over_unrelated_passages_is_not_a_restatement(note, embedder):
    # The "summary" speaks of things no other section mentions: with embeddings it stays content.
    unrelated = note.copy()
    summary = unrelated["section_path"].str.contains("Hovedbudskaber") & ~unrelated["text"].str.endswith(":")
    unrelated.loc[summary, "text"] = [
        "Frokosten bestod af smørrebrød, og kaffen blev serveret i kantinen på første sal.",
        "Parkeringspladsen foran rådhuset var fyldt allerede klokken otte om morgenen.",
        "Vejret var koldt og regnfuldt, så mange kom cyklende i regntøj.",
    ]
    roles = passage_roles(unrelated, embedder.embed(unrelated["text"].tolist()))
    assert (roles[summary] == CONTENT_ROLE).all()
    assert (passage_roles(unrelated)[summary] == SUMMARY_ROLE).all()  # the heading alone would have said summary


def test_answers_are_always_content_and_a_note_that_is_all_summary_is_content(tmp_path):
    answers = pd.DataFrame(
        {
            "text_id": ["m:1", "m:2"],
            "text": ["Workshoppen er én af de bedste:", "Følgende elementer:"],
            "source_file": "menti.xlsx",
            "source_kind": ["mentimeter", "table"],
            "question": "Hvad fylder mest?",
            "workshop": "Vest",
            "weight": 1.0,
        }
    )
    assert (passage_roles(answers) == CONTENT_ROLE).all()
    path = tmp_path / "kort.md"
    path.write_text("## Sammenfatning\n\nMangel på faglærte bremser væksten.\n\nGrøn omstilling kræver rådgivning.\n", encoding="utf-8")
    only_summary = read_inputs([path], IngestConfig()).texts
    assert (passage_roles(only_summary) == CONTENT_ROLE).all()
    # A note without headings: nothing is taken for an introduction because it comes first.
    plain = tmp_path / "noter.txt"
    plain.write_text("Mangel på faglærte bremser væksten.\n\nGrøn omstilling kræver rådgivning.\n", encoding="utf-8")
    assert (passage_roles(read_inputs([plain], IngestConfig()).texts) == CONTENT_ROLE).all()
    with pytest.raises(ValueError, match="embeddings"):
        passage_roles(answers, np.zeros((3, 4)))


def test_the_real_notes_introduction_lead_ins_and_summary(shared_workshop):
    texts = read_inputs([shared_workshop / "opsamlingsnotat.docx", shared_workshop / "mentimeter-export.xlsx"], IngestConfig()).texts
    roles = passage_roles(texts)
    note = texts["source_kind"] == "note"
    assert (roles[~note] == CONTENT_ROLE).all()
    framing = texts.loc[note & (roles != CONTENT_ROLE), "text"]
    assert framing.str.startswith("Workshoppen er én af").any()
    # Every one-sentence lead-in is taken out; longer passages that end in one keep their content
    # (the quotes skip them, tests/test_quotes.py).
    lead_ins = note & texts["text"].str.rstrip().str.endswith(":") & ~texts["text"].str.contains(r"[.!?] [A-ZÆØÅ]")
    assert lead_ins.sum() >= 6 and texts.loc[lead_ins, "text"].isin(framing).all()
    summary = note & texts["section_path"].fillna("").str.contains("HOVEDBUDSKABER", case=False)
    assert summary.sum() > 10 and (roles[summary] != CONTENT_ROLE).all()
    # The theme sessions, which the summary restates, stay content.
    sessions = note & texts["section_path"].fillna("").str.contains("TEMASESSIONER", case=False)
    assert (roles[sessions] == CONTENT_ROLE).mean() > 0.9
