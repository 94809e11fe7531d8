"""Emerging themes of ``andet`` texts written for these tests, with real spaCy lemmas and real e5 embeddings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.config import EmbeddingConfig, EmergingConfig, LanguageConfig
from pipeline.embeddings import make_embedder
from pipeline.emerging import emerging_themes
from pipeline.schema import EMERGING_COLUMNS
from pipeline.language import TextAnalyzer

# Answers that fit none of a taxonomy's themes, in four groups and some that belong to none.
ANDET = {
    "samarbejde": [
        "Godt samarbejde mellem kommunerne",
        "Samarbejde på tværs af brancher",
        "Vi er gode til at arbejde sammen",
        "Partnerskaber mellem virksomheder og skoler",
        "Tæt samarbejde med erhvervsskolen",
        "Samarbejde",
        "Stærke netværk på tværs af sektorer",
        "Tradition for at samarbejde",
        "Flere partnerskaber på tværs",
        "Samarbejdet mellem de lokale erhvervskontorer fungerer godt",
    ],
    "trafik": [
        "Dårlige busforbindelser i yderområderne",
        "Motorvejen mod nord mangler stadig",
        "Bedre kollektiv trafik til industriområderne",
        "Lang transporttid til de store byer",
        "Flere togafgange om morgenen",
        "Infrastruktur og trafik",
        "Vejnettet er for dårligt udbygget",
    ],
    "boliger": [
        "Mangel på lejeboliger",
        "Boliger til nye medarbejdere",
        "Billige boliger i de små byer",
        "Svært at finde en bolig tæt på arbejdet",
        "Boligmangel i hele kommunen",
    ],
    "sind": ["Vilje", "Stædighed", "Tålmodighed", "Ordentlighed"],
    "intet": ["Tak for i dag", "Kaffen var kold", "Hvad med vejret?", "Ved ikke", "God musik i pausen"],
}
# Texts with a theme: they must never enter an emerging theme.
THEMED = [
    "Vi mangler faglærte i byggeriet",
    "Grøn omstilling af transporten",
    "Flere robotter i produktionen",
    "Samarbejde om efteruddannelse af ufaglærte",
]
NOTE = [  # (text, role): note passages in andet
    ("Flere borde fremhævede det tætte samarbejde mellem kommuner, skoler og virksomheder som regionens styrke.", "indhold"),
    ("Workshoppen samlede 80 deltagere fra kommuner og virksomheder.", "om_workshoppen"),
]


@pytest.fixture(scope="module")
def components():
    return TextAnalyzer(LanguageConfig()), make_embedder(EmbeddingConfig(cache=False))


def make_run(components) -> tuple[pd.DataFrame, np.ndarray]:
    analyzer, embedder = components
    rows = [(group, text, "mentimeter", "andet", "indhold") for group, texts in ANDET.items() for text in texts]
    rows += [("tema", text, "mentimeter", "groen", "indhold") for text in THEMED]
    rows += [("note", text, "note", "andet", role) for text, role in NOTE]
    frame = pd.DataFrame(
        {
            "text_id": [f"{'notat' if kind == 'note' else 'menti'}:{i:03d}" for i, (_, _, kind, _, _) in enumerate(rows)],
            "text": [text for _, text, _, _, _ in rows],
            "source_file": ["notat.docx" if kind == "note" else "menti.xlsx" for _, _, kind, _, _ in rows],
            "source_kind": [kind for _, _, kind, _, _ in rows],
            "question": "Hvad kendetegner egnen?",
            "workshop": "Testværksted",
            "weight": 1.0,
            "group": [group for group, _, _, _, _ in rows],
            "theme": [theme for _, _, _, theme, _ in rows],
            "role": [role for _, _, _, _, role in rows],
        }
    )
    frame.loc[frame["group"] == "samarbejde", "weight"] = 1.5  # upvoted: weighted size differs from size
    frame = analyzer.annotate(frame)
    return frame, embedder.embed(frame["text"].tolist())


@pytest.fixture(scope="module")
def run(components):
    return make_run(components)


def test_andet_texts_are_grouped_into_named_themes_biggest_first(run):
    frame, embeddings = run
    emerging = emerging_themes(frame, embeddings, EmergingConfig())
    assert list(emerging.columns) == EMERGING_COLUMNS
    group_of = dict(zip(frame["text_id"], frame["group"]))
    majority = [pd.Series([group_of[t] for t in ids]).value_counts() for ids in emerging["text_ids"]]
    # The collaboration answers come first, nearly all of them together, with the note's passage on it.
    first = majority[0]
    assert first.index[0] == "samarbejde" and first["samarbejde"] >= 8 and first.sum() - first["samarbejde"] <= 2
    assert "samarbejde" in emerging["name"].iloc[0].lower()
    # Traffic and housing are themes of their own.
    leading = [counts.index[0] for counts in majority]
    assert {"trafik", "boliger"} <= set(leading[1:])
    for counts in majority:
        assert counts.iloc[0] / counts.sum() >= 0.6  # each theme is mostly one group
    assert (emerging["weighted_size"].diff().dropna() <= 0).all()
    # Only content texts in andet: no themed text, no passage about the workshop.
    clustered = {text_id for ids in emerging["text_ids"] for text_id in ids}
    not_andet = frame.loc[(frame["theme"] != "andet") | (frame["role"] != "indhold"), "text_id"]
    assert clustered.isdisjoint(not_andet)


def test_sizes_shares_and_quotes(run):
    frame, embeddings = run
    emerging = emerging_themes(frame, embeddings, EmergingConfig(n_quotes=4))
    weight_of = dict(zip(frame["text_id"], frame["weight"]))
    for theme in emerging.to_dict("records"):
        assert theme["size"] == len(theme["text_ids"]) >= EmergingConfig().min_size
        assert theme["weighted_size"] == pytest.approx(sum(weight_of[t] for t in theme["text_ids"]))
        assert theme["share"] == pytest.approx(theme["weighted_size"] / frame["weight"].sum())
        assert 1 <= len(theme["quotes"]) <= 4 and len(theme["words"].split(", ")) >= 1
        texts = frame.set_index("text")
        kinds = [texts.loc[quote, "source_kind"] for quote in theme["quotes"]]
        assert kinds == sorted(kinds, key=lambda kind: kind == "note")  # participants first
        text_of = dict(zip(frame["text_id"], frame["text"]))
        assert [text_of[text_id] for text_id in theme["quote_ids"]] == theme["quotes"]
        assert set(theme["quote_ids"]) <= set(theme["text_ids"])
    assert len(emerging["quotes"].iloc[0]) == 4


def test_exported_quotes_carry_the_provenance_of_their_own_text(run):
    from pipeline.report import emerging_quotes, quoted_rows

    frame, embeddings = run
    emerging = emerging_themes(frame, embeddings, EmergingConfig(n_quotes=4))
    theme = emerging.iloc[0].to_dict()
    quoted = frame.set_index("text_id").loc[theme["quote_ids"][0]]
    # The same words also said under another question, listed first: the quote keeps its own.
    twin = frame.iloc[[0]].assign(text_id="twin:1", text=quoted["text"], question="Et andet spørgsmål")
    everything = pd.concat([twin, frame], ignore_index=True)
    table = emerging_quotes(theme, everything)
    assert table["text"].tolist() == theme["quotes"]
    assert table["question"].iloc[0] == quoted["question"] != "Et andet spørgsmål"
    # The exports look up quotes among the rows some emerging theme quotes: the same tables.
    few = quoted_rows(emerging, everything)
    assert len(few) < len(everything)
    for record in emerging.to_dict("records"):
        pd.testing.assert_frame_equal(emerging_quotes(record, few), emerging_quotes(record, everything))


def test_deterministic_whatever_the_row_order(run):
    frame, embeddings = run
    first = emerging_themes(frame, embeddings)
    order = np.random.default_rng(3).permutation(len(frame))
    shuffled = emerging_themes(frame.iloc[order].reset_index(drop=True), embeddings[order])
    pd.testing.assert_frame_equal(first, shuffled)


def test_linear_path_for_many_texts_agrees(run):
    # Above max_clustered the heaviest texts are clustered and the rest join their nearest cluster.
    frame, embeddings = run
    capped = emerging_themes(frame, embeddings, EmergingConfig(max_clustered=25))
    assert "samarbejde" in capped["name"].iloc[0].lower()
    assert capped["size"].iloc[0] >= 8


def test_nothing_to_group(run):
    frame, embeddings = run
    themed = frame[frame["theme"] != "andet"]
    assert emerging_themes(themed, embeddings[frame["theme"].ne("andet").to_numpy()]).empty
    assert list(emerging_themes(themed, embeddings[frame["theme"].ne("andet").to_numpy()]).columns) == EMERGING_COLUMNS
    with pytest.raises(ValueError, match="embeddings"):
        emerging_themes(frame, embeddings[:-1])


# On the real North Jutland workshop the collaboration theme is asserted by tests/test_shared_workshop.py.
