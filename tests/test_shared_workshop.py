"""Headline numbers on the real North Jutland workshop (../shared, skipped when absent).

Both files, through the one assembly, with either shipped taxonomy: the participants'
main point (collaboration across actors) must surface as the first emerging theme, no
topic whose likeliest class is ``andet`` may carry a theme, the note weighs the share
the config gives it, and its introduction and list lead-ins are neither counted nor
quoted. Measured here, never tuned on: the thresholds come from our own dev sets.
"""

from __future__ import annotations

import docx
import numpy as np
import pytest

from pipeline.config import RunConfig, RunOverrides
from pipeline.ingest.roles import CONTENT_ROLE
from pipeline.run import run_workshop

pytestmark = pytest.mark.slow

COLLABORATION = ("samarbejd", "tværs", "partnerskab", "sammen")


@pytest.fixture(scope="module", params=["nordjylland-2023", "deb-2020-2023"])
def real_run(request, shared_workshop, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    config = RunOverrides(taxonomy=request.param).apply(RunConfig())
    files = [shared_workshop / "mentimeter-export.xlsx", shared_workshop / "opsamlingsnotat.docx"]
    analysis, result, folder = run_workshop(files, config, out=out / "outputs")
    return analysis, result, folder


def test_collaboration_is_the_first_emerging_theme(real_run):
    _, result, _ = real_run
    assert len(result.emerging), "the real workshop has answers that fit no theme"
    first = result.emerging.iloc[0]
    described = f"{first['name']} {first['words']}".lower()
    assert any(word in described for word in COLLABORATION), described


def test_no_topic_whose_likeliest_class_is_andet_carries_a_theme(real_run):
    analysis, result, _ = real_run
    topics = result.topics[result.topics["topic"] >= 0]
    columns = [f"p_{cls}" for cls in analysis.classes]
    likeliest = np.array(analysis.classes)[topics[columns].to_numpy(float).argmax(axis=1)]
    assert ((likeliest != "andet") | (topics["theme"].to_numpy() == "andet")).all()


def test_the_note_weighs_the_configured_share(real_run):
    analysis, _, _ = real_run
    texts = analysis.texts
    shares = analysis.config.weights.source_shares
    expected = shares["notat"] / (shares["notat"] + shares["deltagere"])
    note = texts.loc[texts["source_kind"] == "note", "weight"].sum()
    assert note / texts["weight"].sum() == pytest.approx(expected)


def test_intro_and_list_lead_ins_are_neither_counted_nor_quoted(real_run):
    analysis, result, _ = real_run
    texts = analysis.texts
    notes = texts[texts["source_kind"] == "note"]
    # Passages that only introduce a list (one sentence ending in ':'); longer ones with a
    # closing lead-in sentence are content, counted but never quoted.
    ends_in_colon = notes["text"].str.rstrip().str.endswith(":")
    lead_ins = notes[ends_in_colon & ~notes["text"].str.contains(r"[.!?] [A-ZÆØÅ]")]
    about = notes[notes["text"].str.contains("Workshoppen er", regex=False)]
    assert len(lead_ins) and len(about)
    assert (lead_ins["role"] != CONTENT_ROLE).all() and (about["role"] != CONTENT_ROLE).all()
    assert (texts.loc[lead_ins.index.union(about.index), "weight"] == 0).all()
    quoted = set(result.quotes_by_theme["text_id"]) | set(result.quotes_by_topic["text_id"])
    never_quoted = set(notes.loc[ends_in_colon, "text_id"]) | set(about["text_id"])
    assert not quoted & never_quoted


def test_quotes_docx_shows_participants_before_note_excerpts(real_run):
    _, result, folder = real_run
    document = docx.Document(folder / "quotes.docx")
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "Fra opsamlingen" in "\n".join([p.text for p in document.paragraphs] + cells)
    note_texts = set(result.quotes_by_theme.loc[result.quotes_by_theme["source_kind"] == "note", "text"])
    answer_texts = set(result.quotes_by_theme.loc[result.quotes_by_theme["source_kind"] != "note", "text"])
    first_note = min((i for i, text in enumerate(cells) if text in note_texts), default=len(cells))
    first_answer = min((i for i, text in enumerate(cells) if text in answer_texts), default=len(cells))
    assert first_answer < first_note
