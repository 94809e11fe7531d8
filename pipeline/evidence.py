"""Evidence sources: small objects behind one interface, each adding its evidence about
every text's theme to a distribution over the themes and ``andet`` (last column).

Sources follow scikit-learn's estimator convention (:class:`EvidenceSource`): parameters
in ``__init__`` kept as given (``get_params``, ``set_params``, ``sklearn.base.clone``),
fitted state with a trailing underscore set in ``fit``. They are registered by name, like
the embedders (:func:`register_evidence`), so the config lists them
(``themes.sources: [{evidence: keywords, weight: 1.0}, ...]``) and a new signal is a
registered class plus one config line. The built-in ones:

``keywords`` (:class:`KeywordEvidence`), ``similarity`` (:class:`SimilarityEvidence`)
    text evidence: a distribution per text from the text alone (:class:`TextEvidence`).
``self_training``, ``sections`` (:mod:`pipeline.context`)
    context evidence: texts pooled with what surrounds them.

A parameter's range is stated in its annotation (``Annotated[float, Field(ge=0)]``): the
config is checked against the signatures when it is read (:func:`evidence_settings`).
"""

from __future__ import annotations

import inspect
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, Protocol

import numpy as np
from pydantic import ConfigDict, Field, ValidationError, create_model
from pydantic_core import InitErrorDetails, PydanticCustomError
from scipy import sparse
from sklearn.base import BaseEstimator

from pipeline.decision import Decision
from pipeline.keywords import KeywordMatcher, Lemmatiser, idf_weights
from pipeline.taxonomy import Taxonomy


class Embedder(Protocol):
    """What the evidence needs of an embedder (:class:`pipeline.embeddings.Embedder` is one). A
    protocol, not that class: pipeline.config reads this module's registry, and the embedders
    are built from the config."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


_EPSILON = 1e-6

# Parameter ranges, as the config states them.
Weight = Annotated[float, Field(ge=0, le=100)]
Share = Annotated[float, Field(ge=0, le=1)]
Scale = Annotated[float, Field(gt=0, le=100)]

# Answers that fit no theme of any taxonomy (written for tematik, none from a labelled set):
# SimilarityEvidence measures how far each theme stands out for them, its per-theme baseline.
# Only virtues, attitudes, process and meta comments - no subject that a taxonomy might have
# as a theme (infrastructure, health, tourism ...).
ANDET_REFERENCES = (
    "Respekt for hinanden", "Ordentlighed", "Rummelighed", "Entusiasme", "Positiv indstilling",
    "Hårdt arbejde", "Vi holder fast", "Godt humør", "Tak for en god dag", "Jeg er ikke sikker",
    "Mange forskellige ting", "Det er svært at sige", "Bedre koordinering", "Fælles mål",
    "At vi lytter til hinanden", "Opbakning", "Udholdenhed", "Nærvær", "Godt samspil", "Involvering",
    "Modige beslutninger", "Loyalitet", "Vedvarende indsats", "Motivation", "Mere af det gode",
    "Glæde", "Realisme", "Pragmatisme", "Vi skal lykkes sammen", "Et stærkt fællesskab",
)


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _normalise(distribution: np.ndarray) -> np.ndarray:
    return distribution / distribution.sum(axis=1, keepdims=True)


def _pool(distribution: np.ndarray, groups: np.ndarray, weight: float) -> np.ndarray:
    """Pool texts with their groups' distributions, log-linearly and in two factors.

    ``distribution`` rows are texts, ``groups`` rows the distribution of a group each text
    sits in (same shape; several groups: call repeatedly). Whether a text is ``andet``
    and which theme it has, given that it has one, are pooled separately: the andet
    odds multiply (``odds_text * odds_group ** weight``), and so do the conditional theme
    distributions. So a passage without evidence of its own ("Deltagerne pegede på tre
    veje frem:") takes its section's theme, a passage with strong evidence of another
    theme keeps it (export inside an innovation session stays export), and a passage
    that fits no theme stays andet unless its group is sure.
    """
    andet = np.clip(distribution[:, -1], _EPSILON, 1 - _EPSILON)
    group_andet = np.clip(groups[:, -1], _EPSILON, 1 - _EPSILON)
    odds = andet / (1 - andet) * (group_andet / (1 - group_andet)) ** weight
    conditional = _normalise(distribution[:, :-1] + _EPSILON) * _normalise(groups[:, :-1] + _EPSILON) ** weight
    return np.column_stack([_normalise(conditional) / (1 + odds)[:, None], odds / (1 + odds)])


def _group_means(codes: np.ndarray, n_groups: int, distribution: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean distribution of each group (``codes`` in 0..n_groups-1), in one sparse product."""
    indicator = sparse.csr_matrix((weights, (codes, np.arange(len(codes)))), shape=(n_groups, len(codes)))
    sums = np.asarray(indicator @ distribution)
    totals = np.asarray(indicator.sum(axis=1)).ravel()
    # Groups whose voices sum to 0 count their texts equally.
    unweighted = sparse.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(n_groups, len(codes)))
    zero = totals <= 0
    if zero.any():
        sums[zero] = np.asarray(unweighted @ distribution)[zero]
        totals[zero] = np.asarray(unweighted.sum(axis=1)).ravel()[zero]
    return sums / totals[:, None]



@dataclass
class Corpus:
    """What evidence sources see when fitted: one fit's texts and the means to read the taxonomy.

    ``decision`` and ``mixed_threshold`` are the mapper's: a source given none of its own
    decides and judges its groups by them. ``score_texts(texts)`` gives the text evidence
    (all :class:`TextEvidence` sources fitted so far, combined) for texts outside the
    corpus, e.g. section headings.
    """

    taxonomy: Taxonomy
    embedder: Embedder
    lemmatiser: Lemmatiser
    tokens: list[list[str]]
    embeddings: np.ndarray
    weights: np.ndarray
    topics: np.ndarray | None = None
    sections: list[str | None] | None = None
    decision: Decision = Decision()
    mixed_threshold: float = 0.5
    text_sources: list["TextEvidence"] = field(default_factory=list)

    def score_texts(self, texts: list[str]) -> np.ndarray:
        tokens = self.lemmatiser(list(texts))
        embeddings = np.asarray(self.embedder.embed(list(texts)), dtype=np.float64)
        distribution = None
        for source in self.text_sources:
            distribution = source.combine(distribution, source.score(tokens, embeddings))
        return distribution


class EvidenceSource(ABC, BaseEstimator):
    """One source of evidence about each text's theme.

    ``fit(corpus, distribution)`` learns what the source needs from the corpus and the
    evidence of the sources before it (``distribution``: ``(n texts, n themes + 1)``
    rows over the themes and ``andet`` (last), summing to 1; ``None`` for the first
    source). ``transform(distribution)`` returns the corpus's distribution with this
    source's evidence added. A scikit-learn estimator: parameters in ``__init__`` stored
    as given, fitted state with a trailing underscore set in ``fit``.
    """

    def fit(self, corpus: Corpus, distribution: np.ndarray | None = None) -> "EvidenceSource":
        return self

    @abstractmethod
    def transform(self, distribution: np.ndarray | None) -> np.ndarray: ...


class TextEvidence(EvidenceSource):
    """Evidence from each text alone: ``score(tokens, embeddings)`` works on any texts once fitted.

    Text sources are independent observations of the same text: given that a text has a
    theme, their theme distributions multiply; the text fits *some* theme when any
    source says so (noisy-or), so ``p_andet`` is the product of their ``p_andet``.
    """

    def fit(self, corpus: Corpus, distribution: np.ndarray | None = None) -> "TextEvidence":
        self._fit(corpus)
        self.distribution_ = self.score(corpus.tokens, corpus.embeddings)
        return self

    def _fit(self, corpus: Corpus) -> None:
        """Learn corpus statistics (idf, similarity scale, ...); nothing by default."""

    @abstractmethod
    def score(self, tokens: list[list[str]], embeddings: np.ndarray) -> np.ndarray:
        """``(n, n themes + 1)`` distribution from this source alone."""

    @staticmethod
    def combine(distribution: np.ndarray | None, evidence: np.ndarray) -> np.ndarray:
        if distribution is None:
            return evidence
        andet = distribution[:, -1] * evidence[:, -1]
        themes = _normalise(_normalise(distribution[:, :-1] + 1e-12) * _normalise(evidence[:, :-1] + 1e-12))
        return np.column_stack([themes * (1 - andet)[:, None], andet])

    def transform(self, distribution: np.ndarray | None) -> np.ndarray:
        return self.combine(distribution, self.distribution_)


# --------------------------------------------------------------------------- registry

EVIDENCE: dict[str, type[EvidenceSource]] = {}

# Parameters the mapper hands over (its decision rule), not settings of a config file.
_FROM_MAPPER = {"decision"}


def register_evidence(name: str) -> Callable[[type[EvidenceSource]], type[EvidenceSource]]:
    """Class decorator adding an :class:`EvidenceSource` under ``name``: the ``evidence`` of a
    ``themes.sources`` entry, whose other keys are the class's ``__init__`` parameters."""

    def add(cls: type[EvidenceSource]) -> type[EvidenceSource]:
        EVIDENCE[name] = cls
        return cls

    return add


@lru_cache(maxsize=None)
def _settings_model(cls: type[EvidenceSource]):
    """A pydantic model of ``cls.__init__``'s parameters; their annotations carry the ranges."""
    hints = typing.get_type_hints(cls.__init__, include_extras=True)
    fields = {
        name: (hints.get(name, Any), parameter.default)
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if name != "self" and name not in _FROM_MAPPER and parameter.kind is parameter.POSITIONAL_OR_KEYWORD
    }
    return create_model(f"{cls.__name__}Settings", __config__=ConfigDict(extra="forbid", allow_inf_nan=False), **fields)


def evidence_settings(entry: dict[str, Any]) -> dict[str, Any]:
    """A ``themes.sources`` entry checked and completed: ``{"evidence": name, <every parameter>}``.

    Raises pydantic's ``ValidationError`` located inside the entry (``evidence``, ``weight``),
    so a config file's error names the key."""
    name = entry.get("evidence")
    if name not in EVIDENCE:
        problem = PydanticCustomError("unknown_evidence", "ukendt evidens; mulige: {names}", {"names": ", ".join(sorted(EVIDENCE))})
        detail = InitErrorDetails(type=problem, loc=("evidence",), input=name) if "evidence" in entry else (
            InitErrorDetails(type="missing", loc=("evidence",), input=entry))
        raise ValidationError.from_exception_data("evidence", [detail])
    settings = _settings_model(EVIDENCE[name]).model_validate({key: value for key, value in entry.items() if key != "evidence"})
    return {"evidence": name, **settings.model_dump(mode="json")}  # as a config file writes it


def make_evidence(entry: dict[str, Any]) -> EvidenceSource:
    """The unfitted source a ``themes.sources`` entry describes."""
    settings = evidence_settings(entry)
    return EVIDENCE[settings.pop("evidence")](**settings)


@register_evidence("keywords")
class KeywordEvidence(TextEvidence):
    """Theme keywords among the lemmas (:class:`~pipeline.keywords.KeywordMatcher`), hits weighted by idf.

    Theme distribution ``∝ (counts + smoothing) ** weight``; fit ``1 - exp(-hits / fit_scale)``.

    * ``weight`` - exponent of the smoothed counts (0: the source is left out);
    * ``smoothing`` - added to the counts (grid 0.1-1: flat, 0.5 best);
    * ``fit_scale`` - hits for fit ``1 - exp(-hits / scale)``: one hit = 0.86 at 0.5 (with
      ``andet`` as a class, 1 gave too many false ``andet``);
    * ``idf`` - weight hits by the lemma's idf in the corpus (deb-dev +0.006, other dev sets equal);
    * ``min_compound_length`` - keywords this long also match inside compounds ("robot" in
      "industrirobot"); shorter ones only as words.
    """

    def __init__(self, weight: Weight = 1.0, smoothing: Scale = 0.5, fit_scale: Scale = 0.5, idf: bool = True,
                 min_compound_length: Annotated[int, Field(ge=1, le=50)] = 5):
        self.weight = weight
        self.smoothing = smoothing
        self.fit_scale = fit_scale
        self.idf = idf
        self.min_compound_length = min_compound_length

    def _fit(self, corpus: Corpus) -> None:
        self.matcher_ = KeywordMatcher(corpus.taxonomy, corpus.lemmatiser, self.min_compound_length)
        self.idf_ = idf_weights(corpus.tokens) if self.idf else None

    def score(self, tokens: list[list[str]], embeddings: np.ndarray) -> np.ndarray:
        hits, counts = self.matcher_.counts(tokens, [None, self.idf_])
        themes = _normalise((counts + self.smoothing) ** self.weight)
        fit = 1 - np.exp(-hits.sum(axis=1) / self.fit_scale)
        return np.column_stack([themes * fit[:, None], 1 - fit])


@register_evidence("similarity")
class SimilarityEvidence(TextEvidence):
    """Embedding similarity to each theme, as a standout calibrated per theme.

    Similarity to a theme is the mean of the cosine to its prototype (label,
    description, keywords as one query) and of the ``top_k`` most similar single
    keywords (short answers name one facet: "Cybersikkerhed"). The *standout* is how far
    a theme's similarity rises above the text's mean similarity to all themes, in units
    of the corpus's spread (so the scores mean the same for any embedder), minus the
    theme's *baseline*: its mean standout over ``andet_references``, answers that fit no
    theme. A theme that stands out for vague answers (people/skills for "Tålmodighed")
    has to stand out more before it counts - calibration per theme, not one global
    threshold. Theme distribution ``softmax(weight * standout / temperature)``; fit
    ``sigmoid((max standout - fit_z) / fit_scale)``.

    * ``weight`` - factor of the standouts in the theme logits (0: the source is left out);
    * ``top_k`` - similarity is the mean of the prototype's and the ``top_k`` most similar
      keywords' (best dev mean of the variants tried);
    * ``temperature`` - divides the standouts (grid 0.5-2: 1 best);
    * ``fit_z``, ``fit_scale`` - the best standout at which the fit is 0.5, and the
      sigmoid's width (grids flat: z 1-2.5, scale 0.25-1);
    * ``andet_references`` - answers that fit no theme in any taxonomy: virtues, attitudes,
      process and meta comments (default :data:`ANDET_REFERENCES`); empty: no per-theme
      calibration (dev mean macro-F1 0.953 instead of 0.954, but vague answers then sink
      into the people/skills theme: tests/test_themes.py).
    """

    def __init__(self, weight: Weight = 1.0, top_k: Annotated[int, Field(ge=1, le=1000)] = 3, temperature: Scale = 1.0,
                 fit_z: Annotated[float, Field(ge=-100, le=100)] = 1.0, fit_scale: Scale = 0.5,
                 andet_references: Sequence[str] = ANDET_REFERENCES):
        self.weight = weight
        self.top_k = top_k
        self.temperature = temperature
        self.fit_z = fit_z
        self.fit_scale = fit_scale
        self.andet_references = andet_references

    def embed_taxonomy(self, embedder: Embedder, taxonomy: Taxonomy) -> np.ndarray | None:
        """Embed what a fit embeds besides the corpus: the themes' prototypes and keywords
        (set as ``prototypes_``, ``keyword_vectors_``, ``keyword_theme_``); returns the
        ``andet_references``' vectors (``None`` without references). :func:`warm_up` calls it
        for the shipped taxonomies at install, so a cached embedder finds them all."""
        themes = taxonomy.themes
        self.prototypes_ = np.asarray(embedder.embed_queries([t.prototype_text for t in themes]), dtype=np.float64)
        vectors = [np.asarray(embedder.embed_queries(t.keywords), dtype=np.float64) for t in themes]
        self.keyword_vectors_ = np.vstack(vectors)
        self.keyword_theme_ = np.repeat(np.arange(len(themes)), [len(v) for v in vectors])
        if not len(self.andet_references):
            return None
        return np.asarray(embedder.embed(list(self.andet_references)), dtype=np.float64)

    def _fit(self, corpus: Corpus) -> None:
        references = self.embed_taxonomy(corpus.embedder, corpus.taxonomy)
        spread = self._spread(corpus.embeddings)
        self.scale_ = float(np.std(spread)) if spread.size and np.std(spread) > 0 else 1.0
        self.baseline_ = np.zeros(len(corpus.taxonomy.themes))
        if references is not None:
            self.baseline_ = (self._spread(references) / self.scale_).mean(axis=0)
        self._corpus_standout = spread / self.scale_ - self.baseline_  # score() of the corpus reuses it

    def fit(self, corpus: Corpus, distribution: np.ndarray | None = None) -> "SimilarityEvidence":
        self._fit(corpus)
        self.distribution_ = self._distribution(self._corpus_standout)
        del self._corpus_standout
        return self

    def similarity(self, embeddings: np.ndarray) -> np.ndarray:
        """``(n, n themes)`` cosine to each theme: mean of the prototype's and the best keywords'."""
        embeddings = np.asarray(embeddings, dtype=np.float64)
        to_prototypes = embeddings @ self.prototypes_.T
        to_keywords = embeddings @ self.keyword_vectors_.T
        # Each theme's keywords are adjacent columns (embed_taxonomy stacks them theme by theme):
        # slices are views, where a boolean mask per theme copied 100,000-row blocks.
        counts = np.bincount(self.keyword_theme_, minlength=len(self.prototypes_))
        best = np.column_stack([
            self._top_mean(to_keywords[:, end - count : end], self.top_k) for end, count in zip(np.cumsum(counts), counts)
        ])
        return (to_prototypes + best) / 2

    @staticmethod
    def _top_mean(similarities: np.ndarray, k: int) -> np.ndarray:
        """Mean of each row's ``k`` largest values (a partition, not a sort: 100,000 rows)."""
        if similarities.shape[1] <= k:
            return similarities.mean(axis=1)
        return np.partition(similarities, -k, axis=1)[:, -k:].mean(axis=1)

    def _spread(self, embeddings: np.ndarray) -> np.ndarray:
        similarities = self.similarity(embeddings)
        return similarities - similarities.mean(axis=1, keepdims=True)

    def standout(self, embeddings: np.ndarray) -> np.ndarray:
        return self._spread(embeddings) / self.scale_ - self.baseline_

    def score(self, tokens: list[list[str]], embeddings: np.ndarray) -> np.ndarray:
        return self._distribution(self.standout(embeddings))

    def _distribution(self, standout: np.ndarray) -> np.ndarray:
        themes = _softmax(self.weight * standout / self.temperature)
        fit = 1 / (1 + np.exp(-(standout.max(axis=1) - self.fit_z) / self.fit_scale))
        return np.column_stack([themes * fit[:, None], 1 - fit])
