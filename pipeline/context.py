"""Context evidence: each text pooled with what surrounds it (the corpus's own wording, the
note's sections, the topic model's topics). See :mod:`pipeline.evidence` for the interface."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field
from scipy import sparse

from pipeline.decision import Decision
from pipeline.evidence import (
    Corpus,
    EvidenceSource,
    Share,
    Weight,
    _group_means,
    _normalise,
    _pool,
    _softmax,
    register_evidence,
)

# Separates the levels of a heading path in ``sections`` (as ingestion writes ``section_path``).
SECTION_SEPARATOR = " > "


@register_evidence("self_training")
class SelfTraining(EvidenceSource):
    """Logistic regression on the corpus's confident texts (seeds) -> theme given a theme, for every text.

    Seeds: ``p_andet`` below ``andet_threshold`` and the likeliest theme with at least
    ``seed_threshold`` of the theme probability (as a lift, see :class:`Decision`); themes with fewer than
    ``min_seeds_per_class`` seeds are not learnt; at most ``max_seeds`` (a fixed random
    sample) are used. Features: the embeddings and lemma
    TF-IDF (times ``tfidf_scale``). The theme part of the distribution becomes
    ``(1 - weight) * before + weight * classifier * (1 - p_andet)``; ``p_andet`` is kept.
    ``c`` is the logistic regression's inverse regularisation (10 was worse); ``decision``
    (None: the mapper's) reads a theme's probability as its lift. On the dev sets the
    source is neutral (+-0.01 per set); kept for its adaptation to a corpus's own words.
    """

    def __init__(self, weight: Share = 0.5, seed_threshold: Share = 0.5,
                 min_seeds_per_class: Annotated[int, Field(ge=1, le=1_000_000)] = 10,
                 c: Annotated[float, Field(gt=0, le=1e6)] = 1.0, tfidf_scale: Annotated[float, Field(ge=0, le=100)] = 1.0,
                 andet_threshold: Share = 0.5, max_seeds: Annotated[int, Field(ge=2, le=10_000_000)] = 3000,
                 decision: Decision | None = None):
        self.weight = weight
        self.decision = decision
        self.max_seeds = max_seeds
        self.seed_threshold = seed_threshold
        self.min_seeds_per_class = min_seeds_per_class
        self.c = c
        self.tfidf_scale = tfidf_scale
        self.andet_threshold = andet_threshold

    def fit(self, corpus: Corpus, distribution: np.ndarray | None = None) -> "SelfTraining":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        n = len(corpus.tokens)
        decision = self.decision if self.decision is not None else corpus.decision
        conditional = _normalise(distribution[:, :-1] + 1e-12)
        labels = conditional.argmax(axis=1)
        # The theme's probability as its lift over a uniform guess: eleven themes share it more thinly than six.
        lift = decision.lift(conditional.shape[1])
        seeds = (distribution[:, -1] < self.andet_threshold) & (conditional.max(axis=1) * lift >= self.seed_threshold)
        present = [c for c in range(conditional.shape[1]) if (seeds & (labels == c)).sum() >= self.min_seeds_per_class]
        seeds &= np.isin(labels, present)
        self.n_seeds_ = int(seeds.sum())
        self.predicted_ = conditional  # the evidence so far where there are too few seeds
        self.model_ = None
        if len(present) < 2:
            return self
        documents = [" ".join(tokens) for tokens in corpus.tokens]
        tfidf = TfidfVectorizer(analyzer=str.split, min_df=2 if n >= 20 else 1, sublinear_tf=True)
        try:
            words = tfidf.fit_transform(documents)
        except ValueError:  # no term in two texts: embeddings only
            words = sparse.csr_matrix((n, 0))
        words = words.tocsr() * self.tfidf_scale
        train = np.flatnonzero(seeds)
        if len(train) > self.max_seeds:
            # A sample of the seeds learns the corpus's wording as well; all 100,000 took ~30 s.
            train = np.sort(np.random.default_rng(0).choice(train, self.max_seeds, replace=False))
        self.model_ = LogisticRegression(C=self.c, class_weight="balanced", max_iter=2000)
        self.model_.fit(sparse.hstack([sparse.csr_matrix(corpus.embeddings[train]), words[train]]).tocsr(), labels[train])
        predicted = conditional.copy()  # themes without seeds keep their share
        classes = self.model_.classes_
        probabilities = self._predict_proba(corpus.embeddings, words)
        predicted[:, classes] = probabilities * conditional[:, classes].sum(axis=1, keepdims=True)
        self.predicted_ = predicted
        return self

    def _predict_proba(self, embeddings: np.ndarray, words: sparse.csr_matrix) -> np.ndarray:
        """``model_.predict_proba`` of [embeddings | words], with the dense part kept dense (100,000 texts: ~10x faster)."""
        coef, dimensions = self.model_.coef_, embeddings.shape[1]
        decision = embeddings @ coef[:, :dimensions].T + np.asarray(words @ coef[:, dimensions:].T) + self.model_.intercept_
        if len(self.model_.classes_) == 2:
            positive = 1 / (1 + np.exp(-decision[:, 0]))
            return np.column_stack([1 - positive, positive])
        return _softmax(decision)

    def transform(self, distribution: np.ndarray) -> np.ndarray:
        themes = (1 - self.weight) * distribution[:, :-1] + self.weight * self.predicted_ * (1 - distribution[:, -1:])
        return np.column_stack([themes, distribution[:, -1]])


class GroupContext(EvidenceSource):
    """Base of the context sources: texts pooled (:func:`_pool`) with the groups they sit in, unless mixed.

    A group is *mixed* when its own class (:class:`Decision`) has less than
    ``mixed_threshold`` (a theme's as its lift): it does not pull its members.
    ``mixed_threshold`` and ``decision`` None: the mapper's (``themes.mixed_topic_threshold``
    and its decision thresholds), taken at fit.
    """

    def __init__(self, weight: Weight = 1.0, mixed_threshold: Share | None = None, decision: Decision | None = None):
        self.weight = weight
        self.mixed_threshold = mixed_threshold
        self.decision = decision

    def _fit_rules(self, corpus: Corpus) -> None:
        self.decision_ = self.decision if self.decision is not None else corpus.decision
        self.mixed_threshold_ = self.mixed_threshold if self.mixed_threshold is not None else corpus.mixed_threshold

    def is_mixed(self, group_distributions: np.ndarray) -> np.ndarray:
        """Which groups are mixed, by the given rules or (when None) the ones taken at fit."""
        decision = self.decision if self.decision is not None else self.decision_
        threshold = self.mixed_threshold if self.mixed_threshold is not None else self.mixed_threshold_
        best = decision.decide(group_distributions)
        return decision.strength(group_distributions, best) < threshold


@register_evidence("sections")
class SectionContext(GroupContext):
    """Pull each note passage toward the distributions of the note sections it sits in.

    A section is a heading, or a heading path ("2 Temaer > 2.1 Tema 1: Grøn omstilling >
    Udfordringer"); every level of a path is a section of its own, like a topic made
    by the note's author. A section's distribution pools its passages and its heading
    (the heading weighs ``heading_weight`` against the passages' mean — at 1 as much as
    all its passages together — and only as evidence *for*
    themes: "Potentialer og udfordringer" names no theme, which says nothing about
    whether the passages do). Mixed sections are ignored. ``section_themes_`` maps each
    section path to its distribution. ``weight`` is the exponent of a section's distribution
    in the pooling: at 3 a passage in a section of one theme counts for that theme even
    when its own words lean elsewhere, as the workshops' own coders count a note organised
    by theme sessions (the real North Jutland note's 104 labelled passages: every one has
    its session's theme; weight 1 left 7 of them to their own words, 26 passages for
    kompetenceforsyning against 19). Demo note, labelled that way: share error 0.082 at
    weight 1, 0.061 at 2, 0.041 at 3 and 5; the Funen note 0.019 at all (heading 0.5-3: 1 best).
    """

    def __init__(self, weight: Weight = 3.0, heading_weight: Annotated[float, Field(ge=0, le=100)] = 1.0,
                 mixed_threshold: Share | None = None, decision: Decision | None = None):
        super().__init__(weight, mixed_threshold, decision)
        self.heading_weight = heading_weight

    def fit(self, corpus: Corpus, distribution: np.ndarray | None = None) -> "SectionContext":
        self._fit_rules(corpus)
        self.section_themes_: dict[str, np.ndarray] = {}
        self.members_: dict[str, np.ndarray] = {}
        if corpus.sections is None:
            return self
        paths = [[part.strip() for part in str(s or "").split(SECTION_SEPARATOR) if part.strip()] for s in corpus.sections]
        members: dict[tuple[str, ...], list[int]] = {}
        for row, path in enumerate(paths):
            for depth in range(1, len(path) + 1):
                members.setdefault(tuple(path[:depth]), []).append(row)
        if not members:
            return self
        keys = sorted(members)
        heading_prior = corpus.score_texts([key[-1] for key in keys])
        weights = corpus.weights
        for key, prior in zip(keys, heading_prior):
            rows = np.asarray(members[key])
            passages = _group_means(np.zeros(len(rows), dtype=int), 1, distribution[rows], weights[rows])[0]
            theme_mass = self.heading_weight * np.append(prior[:-1], 0.0)
            name = SECTION_SEPARATOR.join(key)
            self.section_themes_[name] = (theme_mass + passages) / (theme_mass.sum() + 1)
            self.members_[name] = rows
        return self

    def transform(self, distribution: np.ndarray) -> np.ndarray:
        pooled = distribution.copy()
        names = list(self.section_themes_)
        if not names:
            return pooled
        groups = np.vstack([self.section_themes_[name] for name in names])
        for name, group, mixed in zip(names, groups, self.is_mixed(groups)):
            if not mixed:
                rows = self.members_[name]
                pooled[rows] = _pool(pooled[rows], np.tile(group, (len(rows), 1)), self.weight)
        return pooled


class TopicContext(GroupContext):
    """Pull each text toward its topic's distribution (the topic model's groups), unless the topic is mixed.

    ``topics_`` are the topic ids (not -1), ``topic_distributions_`` their weighted mean
    distributions, ``mixed_`` which of them are mixed.
    """

    def fit(self, corpus: Corpus, distribution: np.ndarray | None = None) -> "TopicContext":
        self._fit_rules(corpus)
        topics = np.full(len(corpus.tokens), -1) if corpus.topics is None else np.asarray(corpus.topics, dtype=int)
        self.text_topics_ = topics
        inside = topics >= 0
        self.topics_, codes = np.unique(topics[inside], return_inverse=True)
        self.topic_distributions_ = (
            _group_means(codes, len(self.topics_), distribution[inside], corpus.weights[inside])
            if len(self.topics_) else np.zeros((0, distribution.shape[1]))
        )
        self.mixed_ = self.is_mixed(self.topic_distributions_) if len(self.topics_) else np.zeros(0, dtype=bool)
        return self

    def transform(self, distribution: np.ndarray) -> np.ndarray:
        pooled = distribution.copy()
        inside = np.flatnonzero(self.text_topics_ >= 0)
        if not len(inside):
            return pooled
        position = np.searchsorted(self.topics_, self.text_topics_[inside])
        pulled = inside[~self.mixed_[position]]
        groups = self.topic_distributions_[np.searchsorted(self.topics_, self.text_topics_[pulled])]
        pooled[pulled] = _pool(distribution[pulled], groups, self.weight)
        return pooled

