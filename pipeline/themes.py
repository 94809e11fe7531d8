"""Map texts and topics to the themes of a taxonomy, or to ``andet`` when none fits.

Neither keyword matching nor embedding similarity to theme descriptions is good enough
alone (each failing on different texts), so :class:`ThemeMapper` combines *evidence
sources*, small objects behind one interface (:class:`~pipeline.evidence.EvidenceSource`,
scikit-learn estimators): each is fitted on the corpus and the evidence of the sources
before it, then adds its own evidence to the distribution over the themes and ``andet``.
The config lists them by registered name (``themes.sources``); a new signal is a
registered class (:func:`~pipeline.evidence.register_evidence`) and one config line, or
one object passed as ``ThemeMapper(sources=[...])``.

Text evidence (:mod:`pipeline.evidence`, a distribution per text from the text alone):

1. :class:`KeywordEvidence`: theme keywords among a text's lemmas, each hit weighted by
   the lemma's idf in the corpus. Danish compounds count: ``digitaliseringsniveau`` and
   ``industrirobot`` hold ``digitalisering`` and ``robot``.
2. :class:`SimilarityEvidence`: cosine between the text and each theme (its prototype -
   label, description and keywords as one query - and its most similar keywords), as a
   *standout*: how far the theme rises above the text's mean similarity to all themes,
   **calibrated per theme** by how far it rises for answers that fit no theme (vague
   answers such as "Tålmodighed" or "Samarbejde" lean toward the people/skills theme;
   without calibration that theme becomes a sink for them).

Text sources are independent: their theme distributions multiply, and a text is
``andet`` only when no source finds that it fits a theme (noisy-or of the fits).

Context evidence (:mod:`pipeline.context`, pools each text with what surrounds it):

3. :class:`SelfTraining`: confident texts become seeds of a logistic regression on the
   corpus's own embeddings and lemma TF-IDF, which then scores every text.
4. :class:`SectionContext`: every level of a note's heading path is a group made by the
   note's author (the heading itself counting as evidence); a text is pooled with the
   distribution of each group it sits in that is not mixed (:func:`pipeline.evidence._pool`).
5. :class:`TopicContext`: the same with the topic model's topics.

**Decision** (:class:`pipeline.decision.Decision`): ``andet`` is a class like the others. A text
or topic gets a theme only when that theme is its likeliest class (it beats ``andet``)
and reaches ``config.min_theme_score``; a topic whose likeliest class is ``andet`` is
never labelled with a theme. A text is ``confident`` - may be quoted as an example of
its theme - when its theme is not ``andet`` and reaches ``config.confident_score``.

The sources' parameters are documented on their classes, the mapper's thresholds in
:class:`pipeline.config.ThemeConfig`, each with the measurements (``benchmarks/quality.py``)
that chose it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone

from pipeline.config import EmbeddingConfig, ThemeConfig
from pipeline.context import SECTION_SEPARATOR, SectionContext, SelfTraining, TopicContext
from pipeline.decision import Decision
from pipeline.embeddings import Embedder, make_embedder
from pipeline.estimators import EstimatorWithServices
from pipeline.evidence import (
    EVIDENCE,
    Corpus,
    EvidenceSource,
    KeywordEvidence,
    SimilarityEvidence,
    TextEvidence,
    evidence_settings,
    make_evidence,
    register_evidence,
)
from pipeline.keywords import KeywordMatcher, Lemmatiser, _normalised_tokens, idf_weights, normalise_lemma
from pipeline.schema import ANDET
from pipeline.taxonomy import Taxonomy, load_taxonomy, shipped_taxonomies

__all__ = [  # the theme layer's public names, wherever they are defined
    "EVIDENCE", "SECTION_SEPARATOR", "Corpus", "Decision", "EvidenceSource", "KeywordEvidence", "KeywordMatcher",
    "SectionContext", "SelfTraining", "SimilarityEvidence", "TextEvidence", "ThemeMapper", "TopicContext",
    "evidence_settings", "evidence_sources", "idf_weights", "normalise_lemma", "register_evidence", "warm_up",
]


def default_lemmatiser() -> Lemmatiser:
    """The project's lemmatiser, so keywords are compared in the form texts are."""
    from pipeline.language import TextAnalyzer

    return TextAnalyzer().lemmatise


def evidence_sources(config: ThemeConfig | None = None) -> list[EvidenceSource]:
    """The unfitted evidence sources ``config.sources`` lists, in order; an entry with weight 0
    is left out (ablations)."""
    config = config or ThemeConfig()
    return [make_evidence(entry) for entry in config.sources if entry.get("weight", 1.0) > 0]


def warm_up(config: ThemeConfig | None = None, embedder: Embedder | None = None) -> None:
    """Put the shipped taxonomies' theme and reference embeddings into the embedding cache,
    for an install step: a run then embeds only its own texts (e5: 372 strings, ~10-40 s
    on 2 cores, once per machine). ``embedder`` defaults to the default cached one."""
    embedder = embedder or make_embedder(EmbeddingConfig())
    for source in evidence_sources(config):
        if isinstance(source, SimilarityEvidence):
            for name in shipped_taxonomies():
                source.embed_taxonomy(embedder, load_taxonomy(name))


class ThemeMapper(EstimatorWithServices):
    """Theme distributions for texts and topics; see the module docstring for the method.

    ``fit(lemmas, embeddings, topics=None, weights=None, sections=None)``: ``lemmas`` are
    space-joined content lemmas (or lists), ``topics`` one topic per text (-1 = outlier),
    ``weights`` how many voices a text stands for (topic and section distributions are
    weighted means), ``sections`` a note heading or heading path per text (``None`` or
    "" where there is none; for notes pass ingestion's ``section_path``). It sets

    ``text_themes_``
        one row per input text: ``theme`` (an id or ``andet``), ``theme_score`` (the
        probability of that class), ``confident`` (the theme is not ``andet`` and its
        probability reaches ``config.confident_score``, and a note passage's own words, without
        its section, decide the same: the text may be quoted as an example of it) and
        ``p_<id>`` for every theme plus ``p_andet`` (rows sum to 1; weighted frequencies
        count every text by this distribution, confident or not).
    ``topic_themes_``
        one row per topic (not -1): ``topic``, ``theme``, ``theme_score``, ``mixed``
        (its class has less than ``config.mixed_topic_threshold``: the topic does not
        pull its members, who keep their own themes) and the topic's ``p_`` columns. A
        topic whose likeliest class is ``andet`` has theme ``andet``.

    Parameters (a scikit-learn estimator: kept as given; ``clone`` shares the embedder and
    the lemmatiser, see :mod:`pipeline.estimators`):

    * ``config`` - the mapper's thresholds (:class:`~pipeline.config.ThemeConfig`; None: defaults);
    * ``sources`` - the evidence sources, in order; None: those ``config.sources`` lists
      (:func:`evidence_sources`). Topic context is always added last (``config.topic_weight``).
      Each fit works on clones; the fitted ones are in ``sources_``. A source without
      decision rules of its own uses the mapper's (``config``'s thresholds and
      ``mixed_topic_threshold``);
    * ``lemmatiser`` - gives the keywords' lemma forms (None: the project's
      :class:`pipeline.language.TextAnalyzer`; production passes the run's analyzer's
      ``lemmatise``).

    The run's :class:`~pipeline.stages.LocalStages` builds it from the config.
    """

    services = ("embedder", "lemmatiser")

    def __init__(
        self,
        taxonomy: Taxonomy,
        embedder: Embedder,
        config: ThemeConfig | None = None,
        lemmatiser: Lemmatiser | None = None,
        sources: Sequence[EvidenceSource] | None = None,
    ):
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.config = config
        self.lemmatiser = lemmatiser
        self.sources = sources

    @property
    def classes_(self) -> list[str]:
        return self.taxonomy.ids + [ANDET]

    def fit(
        self,
        lemmas: Sequence[str | Sequence[str]],
        embeddings: np.ndarray,
        topics: Sequence[int] | np.ndarray | None = None,
        weights: Sequence[float] | np.ndarray | None = None,
        sections: Sequence[str | None] | None = None,
    ) -> "ThemeMapper":
        config = self._config()
        n = len(lemmas)
        embeddings = np.asarray(embeddings, dtype=np.float64)
        for name, values in (("embeddings", embeddings), ("topics", topics), ("weights", weights), ("sections", sections)):
            if values is not None and len(values) != n:
                raise ValueError(f"{n} lemma rows but {len(values)} {name}")
        self.topics_ = np.full(n, -1) if topics is None else np.asarray(topics, dtype=int)
        self.weights_ = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        corpus = Corpus(
            taxonomy=self.taxonomy,
            embedder=self.embedder,
            lemmatiser=self.lemmatiser or default_lemmatiser(),
            tokens=_normalised_tokens(lemmas),
            embeddings=embeddings,
            weights=self.weights_,
            topics=self.topics_,
            sections=None if sections is None else list(sections),
            decision=Decision.from_config(config),
            mixed_threshold=config.mixed_topic_threshold,
        )
        sources = evidence_sources(config) if self.sources is None else self.sources
        self.sources_ = [clone(source) for source in sources]
        distribution = own = None
        for source in self.sources_:
            if isinstance(source, SectionContext):
                own = distribution  # what a note passage's own words say, before its section
            distribution = source.fit(corpus, distribution).transform(distribution)
            if isinstance(source, TextEvidence):
                corpus.text_sources.append(source)
        if distribution is None:
            raise ValueError("no evidence source gives a distribution (all weights 0?)")
        self.text_distribution_ = distribution
        self.own_distribution_ = distribution if own is None else own
        self.topic_context_ = TopicContext(config.topic_weight).fit(corpus, distribution)
        self._assign()
        return self

    @property
    def section_themes_(self) -> dict[str, np.ndarray]:
        """Each note section's distribution (every level of every heading path)."""
        return next((s.section_themes_ for s in self.sources_ if isinstance(s, SectionContext)), {})

    def decide(self, distribution: np.ndarray) -> np.ndarray:
        """Class index per row (see :class:`Decision`)."""
        return Decision.from_config(self._config()).decide(distribution)

    def _config(self) -> ThemeConfig:
        return self.config if self.config is not None else ThemeConfig()

    def _assign(self) -> None:
        """Topic themes, the topic context, and each text's final theme."""
        context = self.topic_context_
        config = self._config()
        final = context.transform(self.text_distribution_) if config.topic_weight > 0 else self.text_distribution_.copy()
        topic_distributions = context.topic_distributions_.copy()
        mixed = context.mixed_.copy()
        columns = [f"p_{theme}" for theme in self.classes_]
        classes = np.array(self.classes_, dtype=object)

        best = self.decide(topic_distributions) if len(topic_distributions) else np.zeros(0, dtype=int)
        topic_table = pd.DataFrame(topic_distributions, columns=columns)
        topic_table.insert(0, "topic", context.topics_.astype(int))
        topic_table.insert(1, "theme", pd.Series(classes[best], dtype="object"))
        topic_table.insert(2, "theme_score", topic_distributions[np.arange(len(best)), best].astype(float))
        topic_table.insert(3, "mixed", mixed.astype(bool))
        self.topic_themes_ = topic_table

        best = self.decide(final)
        score = final[np.arange(len(final)), best]
        text_table = pd.DataFrame(final, columns=columns)
        text_table.insert(0, "theme", pd.Series(classes[best], dtype="object"))
        text_table.insert(1, "theme_score", score)
        strength = Decision.from_config(config).strength(final, best)
        # A passage whose theme its section gave, not its own words ("Deltagerne pegede på tre
        # veje:", an export point in the digitalisation session), counts for the theme but is
        # no example of it. Texts outside note sections decide the same both ways.
        own = context.transform(self.own_distribution_) if config.topic_weight > 0 else self.own_distribution_
        own_words_agree = self.decide(own) == best
        text_table.insert(2, "confident", (best != len(self.classes_) - 1) & (strength >= config.confident_score) & own_words_agree)
        self.text_themes_ = text_table
