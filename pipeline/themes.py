"""Map texts and topics to the themes of a taxonomy, or to ``andet`` when none fits.

Neither keyword matching nor embedding similarity to theme descriptions is good enough
alone (each failing on different texts), so :class:`ThemeMapper` combines *evidence
sources*, small objects behind one interface (:class:`EvidenceSource`): each is fitted
on the corpus and the evidence of the sources before it, then adds its own evidence to
the distribution over the themes and ``andet``. A new signal is a new class.

Text evidence (:class:`TextEvidence`: a distribution per text from the text alone):

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

Context evidence (pools each text with what surrounds it):

3. :class:`SelfTraining`: confident texts become seeds of a logistic regression on the
   corpus's own embeddings and lemma TF-IDF, which then scores every text.
4. :class:`SectionContext`: every level of a note's heading path is a group made by the
   note's author (the heading itself counting as evidence); a text is pooled with the
   distribution of each group it sits in that is not mixed (:func:`_pool`).
5. :class:`TopicContext`: the same with the topic model's topics.

**Decision** (:meth:`ThemeMapper.decide`): ``andet`` is a class like the others. A text
or topic gets a theme only when that theme is its likeliest class (it beats ``andet``)
and reaches ``config.min_theme_score``; a topic whose likeliest class is ``andet`` is
never labelled with a theme. A text is ``confident`` - may be quoted as an example of
its theme - when its theme is not ``andet`` and reaches ``config.confident_score``.

Weights and thresholds live in :class:`pipeline.config.ThemeConfig`, with the
measurements (``benchmarks/quality.py``) that chose them.
"""

from __future__ import annotations

import copy
import unicodedata
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from pipeline.config import EmbeddingConfig, ThemeConfig
from pipeline.embeddings import Embedder, make_embedder
from pipeline.schema import ANDET
from pipeline.taxonomy import Taxonomy, load_taxonomy, shipped_taxonomies

Lemmatiser = Callable[[list[str]], list[list[str]]]

# Separates the levels of a heading path in ``sections`` (as ingestion writes ``section_path``).
SECTION_SEPARATOR = " > "

# Endings a short keyword may carry and still count ("data" -> "dataene", "job" -> "jobs").
INFLECTIONS = ("", "s", "e", "en", "er", "et", "ene", "erne", "r", "ne", "t")

_EPSILON = 1e-6


def default_lemmatiser() -> Lemmatiser:
    """The project's lemmatiser, so keywords are compared in the form texts are."""
    from pipeline.language import TextAnalyzer

    return TextAnalyzer().lemmatise


def _tokens(lemmas: str | Sequence[str]) -> list[str]:
    if isinstance(lemmas, str):
        return lemmas.split()
    return lemmas if isinstance(lemmas, list) and all(type(lemma) is str for lemma in lemmas) else [str(l) for l in lemmas]


def normalise_lemma(lemma: str) -> str:
    """Lowercase, compatibility-normalised ("CO₂" -> "co2")."""
    return unicodedata.normalize("NFKC", lemma).lower()


def _normalised_tokens(lemmas: Sequence[str | Sequence[str]]) -> list[list[str]]:
    token_lists = [_tokens(text_lemmas) for text_lemmas in lemmas]
    forms = {token: normalise_lemma(token) for token in {t for tokens in token_lists for t in tokens}}
    return [[forms[token] for token in tokens] for tokens in token_lists]


class KeywordMatcher:
    """Counts, per text and theme, the lemmas that are (or contain) one of the theme's keywords.

    A lemma matches a keyword when it equals it, when it is a short keyword plus an
    inflection ending, or, for keywords of at least ``min_compound_length`` letters,
    when it contains the keyword as a compound part: at the start (``robotteknologi``)
    or after a first part of at least three letters (``industrirobot``,
    ``digitaliseringsniveau``). Short keywords never match inside words, so ``data``
    does not hit ``kandidatuddannelse``. Hyphenated lemmas also match by their parts
    (``co2-udledning``). A keyword of several words matches those lemmas in sequence.
    Each keyword is used as written and, when a lemmatiser is given, in lemma form.

    A lemma that matches several themes is split evenly among them, so shared words
    (``digital``) add to each theme's count less than specific ones.
    """

    def __init__(self, taxonomy: Taxonomy, lemmatiser: Lemmatiser | None = None, min_compound_length: int = 5):
        self.taxonomy = taxonomy
        self.min_compound_length = min_compound_length
        forms: list[set[tuple[str, ...]]] = []
        for theme in taxonomy.themes:
            written = [tuple(keyword.split()) for keyword in theme.keywords]
            lemmatised = [tuple(tokens) for tokens in lemmatiser(list(theme.keywords))] if lemmatiser else []
            # A lemma form that lost a word (a stop word or number: "nyt produkt", "industri 4.0")
            # would be broader than the keyword, so only same-length forms are kept.
            lemmatised = [form for form, original in zip(lemmatised, written) if len(form) == len(original)]
            forms.append({form for form in written + lemmatised if form})
        self.single_ = [sorted(form[0] for form in theme_forms if len(form) == 1) for theme_forms in forms]
        self.phrases_ = [sorted(form for form in theme_forms if len(form) > 1) for theme_forms in forms]
        # Phrases by their first word: a phrase can only start where its first word stands.
        self._phrases_by_first: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        for index, phrases in enumerate(self.phrases_):
            for phrase in phrases:
                self._phrases_by_first.setdefault(phrase[0], []).append((index, phrase))
        self._cache: dict[str, frozenset[int]] = {}

    def _word_matches(self, word: str, keyword: str) -> bool:
        if word == keyword:
            return True
        if len(keyword) < self.min_compound_length:
            return word.startswith(keyword) and word[len(keyword) :] in INFLECTIONS
        start = word.find(keyword)
        while start != -1:
            if start == 0 or start >= 3:
                return True
            start = word.find(keyword, start + 1)
        return False

    def themes_of(self, lemma: str) -> frozenset[int]:
        """Indices of the themes whose single-word keywords ``lemma`` matches."""
        lemma = normalise_lemma(lemma)
        if lemma not in self._cache:
            parts = [lemma] + ([part for part in lemma.split("-") if part] if "-" in lemma else [])
            self._cache[lemma] = frozenset(
                index
                for index, keywords in enumerate(self.single_)
                if any(self._word_matches(part, keyword) for part in parts for keyword in keywords)
            )
        return self._cache[lemma]

    def _phrase_at(self, tokens: list[str], start: int, phrase: tuple[str, ...]) -> bool:
        end = start + len(phrase)
        if end > len(tokens) or tokens[start : end - 1] != list(phrase[:-1]):
            return False
        return self._word_matches(tokens[end - 1], phrase[-1])

    def count(self, lemmas: Sequence[str | Sequence[str]], lemma_weights: dict[str, float] | None = None) -> np.ndarray:
        """``(n texts, n themes)`` keyword hits, shared lemmas split among their themes.

        With ``lemma_weights`` a hit counts its lemma's weight instead of 1.
        """
        return self.counts(lemmas, [lemma_weights])[0]

    def counts(self, lemmas: Sequence[str | Sequence[str]], weightings: Sequence[dict[str, float] | None]) -> list[np.ndarray]:
        """:meth:`count` once per weighting (``None`` = every hit 1), matching the lemmas only once.

        Vectorised: each distinct lemma is matched once (a texts x lemmas count matrix
        times a lemmas x themes match matrix); only positions where a keyword phrase
        could start are looked at one by one (100,000 answers: ~1 s instead of ~25 s).
        """
        n_themes = len(self.taxonomy.themes)
        token_lists = [_tokens(text_lemmas) for text_lemmas in lemmas]
        normalised = {token: normalise_lemma(token) for token in {t for tokens in token_lists for t in tokens}}
        index: dict[str, int] = {}
        columns = np.fromiter(
            (index.setdefault(normalised[token], len(index)) for tokens in token_lists for token in tokens), dtype=np.int64
        )
        if not len(columns):
            return [np.zeros((len(token_lists), n_themes)) for _ in weightings]
        vocabulary = list(index)
        rows = np.repeat(np.arange(len(token_lists)), [len(tokens) for tokens in token_lists])
        matches = np.zeros((len(vocabulary), n_themes))
        for column, word in enumerate(vocabulary):
            themes = self.themes_of(word)
            if themes:
                matches[column, list(themes)] = 1.0 / len(themes)
        matched = matches.any(axis=1)[columns]  # only lemmas that hit a theme need to be in the product
        rows, columns = rows[matched], columns[matched]
        results = []
        for lemma_weights in weightings:
            weights = np.ones(len(vocabulary)) if lemma_weights is None else np.array(
                [lemma_weights.get(word, 1.0) for word in vocabulary]
            )
            occurrences = sparse.csr_matrix((weights[columns], (rows, columns)), shape=(len(token_lists), len(vocabulary)))
            counts = np.asarray(occurrences @ matches)
            if self._phrases_by_first:
                self._add_phrases(counts, token_lists, normalised, dict(zip(vocabulary, weights)))
            results.append(counts)
        return results

    def _add_phrases(self, counts, token_lists, normalised, weight_of) -> None:
        """Positions that start a keyword phrase: that lemma's hit goes to the union of its themes."""
        starts = set(self._phrases_by_first)
        for row, raw in enumerate(token_lists):
            tokens = [normalised[token] for token in raw]
            if starts.isdisjoint(tokens):
                continue
            for position, token in enumerate(tokens):
                candidates = self._phrases_by_first.get(token)
                if not candidates:
                    continue
                phrase_themes = {index for index, phrase in candidates if self._phrase_at(tokens, position, phrase)}
                single = self.themes_of(token)
                if not phrase_themes - single:
                    continue
                weight = weight_of[token]
                for index in single:  # undo the single-word split, redo it over the union
                    counts[row, index] -= weight / len(single)
                matched = single | phrase_themes
                for index in matched:
                    counts[row, index] += weight / len(matched)


def idf_weights(token_lists: list[list[str]]) -> dict[str, float]:
    """Per lemma ``idf / max idf`` over the corpus (smooth idf): 1 for a lemma in one text, less for common ones.

    A keyword every passage uses ("kompetence" in a note where each theme session ends
    with skills needs) says little about which theme a passage is about.
    """
    n = len(token_lists)
    frequency = Counter(token for tokens in token_lists for token in {normalise_lemma(t) for t in tokens})
    top = np.log((1 + n) / 2) + 1
    return {token: (np.log((1 + n) / (1 + df)) + 1) / top for token, df in frequency.items()}


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


@dataclass(frozen=True)
class Decision:
    """How a distribution over the themes and ``andet`` (last column) becomes one class.

    ``andet`` is a class like the others: a theme must beat it. Thresholds and the
    comparison with ``andet`` are stated for a taxonomy of ``reference_themes`` themes
    and read the themes' probabilities as their *lift* over a uniform guess: with ``K``
    themes a theme's probability counts ``K / reference_themes`` times. So eleven themes,
    which share a text's theme probability more thinly than six, do not push texts into
    ``andet`` by their number alone (a six-theme taxonomy decides as before). ``None``:
    probabilities as they are. With more themes than ``reference_themes``, a text is
    also ``andet`` only when that is at least ``min_andet_score`` likely: the lift
    corrects the split of the theme probability only in part, and a text likely to fit
    some theme should not count as fitting none because that probability is split
    eleven ways (kommune-11 dev set: README, Measured).
    """

    min_theme_score: float = 0.0
    min_andet_score: float = 0.0
    reference_themes: int | None = None

    @classmethod
    def from_config(cls, config: ThemeConfig) -> "Decision":
        return cls(config.min_theme_score, config.min_andet_score, config.reference_themes)

    def lift(self, n_themes: int) -> float:
        """What a theme's probability counts for in a taxonomy of ``n_themes``: ``K / reference_themes`` (or 1)."""
        return n_themes / self.reference_themes if self.reference_themes else 1.0

    def lifted(self, distribution: np.ndarray) -> np.ndarray:
        """The distribution with every theme's probability times :meth:`lift` (``andet`` as it is)."""
        if not self.reference_themes:
            return distribution
        lifted = np.array(distribution, dtype=float, copy=True)
        lifted[:, :-1] *= self.lift(distribution.shape[1] - 1)
        return lifted

    def decide(self, distribution: np.ndarray) -> np.ndarray:
        """Class index per row: the likeliest class (lifted) when it is andet or a theme reaching
        ``min_theme_score``, else andet; andet below ``min_andet_score`` gives the likeliest theme."""
        andet = distribution.shape[1] - 1
        lifted = self.lifted(distribution)
        best = lifted.argmax(axis=1)
        weak = lifted[np.arange(len(lifted)), best] < self.min_theme_score
        decided = np.where(weak, andet, best)
        if not self.reference_themes or andet <= self.reference_themes:
            return decided
        unlikely = (decided == andet) & (distribution[:, -1] < self.min_andet_score)
        return np.where(unlikely, distribution[:, :-1].argmax(axis=1), decided)

    def strength(self, distribution: np.ndarray, decided: np.ndarray) -> np.ndarray:
        """The lifted probability of each row's ``decided`` class (compared with the mixed and confident thresholds)."""
        return self.lifted(distribution)[np.arange(len(distribution)), decided]


# ---------------------------------------------------------------------- evidence sources


@dataclass
class Corpus:
    """What evidence sources see when fitted: one fit's texts and the means to read the taxonomy.

    ``score_texts(texts)`` gives the text evidence (all :class:`TextEvidence` sources
    fitted so far, combined) for texts outside the corpus, e.g. section headings.
    """

    taxonomy: Taxonomy
    embedder: Embedder
    lemmatiser: Lemmatiser
    tokens: list[list[str]]
    embeddings: np.ndarray
    weights: np.ndarray
    topics: np.ndarray | None = None
    sections: list[str | None] | None = None
    text_sources: list["TextEvidence"] = field(default_factory=list)


    def score_texts(self, texts: list[str]) -> np.ndarray:
        tokens = self.lemmatiser(list(texts))
        embeddings = np.asarray(self.embedder.embed(list(texts)), dtype=np.float64)
        distribution = None
        for source in self.text_sources:
            distribution = source.combine(distribution, source.score(tokens, embeddings))
        return distribution


class EvidenceSource(ABC):
    """One source of evidence about each text's theme.

    ``fit(corpus, distribution)`` learns what the source needs from the corpus and the
    evidence of the sources before it (``distribution``: ``(n texts, n themes + 1)``
    rows over the themes and ``andet`` (last), summing to 1; ``None`` for the first
    source). ``transform(distribution)`` returns the corpus's distribution with this
    source's evidence added. Parameters go in ``__init__``, fitted state in ``fit``
    with a trailing underscore, as in scikit-learn.
    """

    def fit(self, corpus: Corpus, distribution: np.ndarray | None = None) -> "EvidenceSource":
        return self

    @abstractmethod
    def transform(self, distribution: np.ndarray | None) -> np.ndarray: ...

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_"))
        return f"{type(self).__name__}({params})"


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


class KeywordEvidence(TextEvidence):
    """Theme keywords among the lemmas (:class:`KeywordMatcher`), hits weighted by idf.

    Theme distribution ``∝ (counts + smoothing) ** weight``; fit ``1 - exp(-hits / fit_scale)``
    (one hit: 0.63).
    """

    def __init__(self, weight: float = 1.0, smoothing: float = 0.5, fit_scale: float = 1.0, idf: bool = True,
                 min_compound_length: int = 5):
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
    """

    def __init__(self, weight: float = 1.0, top_k: int = 3, temperature: float = 1.0, fit_z: float = 1.0,
                 fit_scale: float = 0.5, andet_references: Sequence[str] = ()):
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
        k = self.top_k
        best = np.column_stack([
            self._top_mean(to_keywords[:, self.keyword_theme_ == theme], k) for theme in range(len(self.prototypes_))
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


class SelfTraining(EvidenceSource):
    """Logistic regression on the corpus's confident texts (seeds) -> theme given a theme, for every text.

    Seeds: ``p_andet`` below ``andet_threshold`` and the likeliest theme with at least
    ``seed_threshold`` of the theme probability (as a lift, see :class:`Decision`); themes with fewer than
    ``min_seeds_per_class`` seeds are not learnt; at most ``max_seeds`` (a fixed random
    sample) are used. Features: the embeddings and lemma
    TF-IDF (times ``tfidf_scale``). The theme part of the distribution becomes
    ``(1 - weight) * before + weight * classifier * (1 - p_andet)``; ``p_andet`` is kept.
    """

    def __init__(self, weight: float = 0.5, seed_threshold: float = 0.5, min_seeds_per_class: int = 10, c: float = 1.0,
                 tfidf_scale: float = 1.0, andet_threshold: float = 0.5, max_seeds: int = 3000,
                 decision: Decision = Decision()):
        self.weight = weight
        self.decision = decision
        self.max_seeds = max_seeds
        self.seed_threshold = seed_threshold
        self.min_seeds_per_class = min_seeds_per_class
        self.c = c
        self.tfidf_scale = tfidf_scale
        self.andet_threshold = andet_threshold

    def fit(self, corpus: Corpus, distribution: np.ndarray | None = None) -> "SelfTraining":
        n = len(corpus.tokens)
        conditional = _normalise(distribution[:, :-1] + 1e-12)
        labels = conditional.argmax(axis=1)
        # The theme's probability as its lift over a uniform guess: eleven themes share it more thinly than six.
        lift = self.decision.lift(conditional.shape[1])
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
    """

    def __init__(self, weight: float = 1.0, mixed_threshold: float = 0.5, decision: Decision = Decision()):
        self.weight = weight
        self.mixed_threshold = mixed_threshold
        self.decision = decision

    def is_mixed(self, group_distributions: np.ndarray) -> np.ndarray:
        best = self.decision.decide(group_distributions)
        return self.decision.strength(group_distributions, best) < self.mixed_threshold


class SectionContext(GroupContext):
    """Pull each note passage toward the distributions of the note sections it sits in.

    A section is a heading, or a heading path ("2 Temaer > 2.1 Tema 1: Grøn omstilling >
    Udfordringer"); every level of a path is a section of its own, like a topic made
    by the note's author. A section's distribution pools its passages and its heading
    (the heading weighs ``heading_weight`` against the passages' mean — at 1 as much as
    all its passages together — and only as evidence *for*
    themes: "Potentialer og udfordringer" names no theme, which says nothing about
    whether the passages do). Mixed sections are ignored. ``section_themes_`` maps each
    section path to its distribution.
    """

    def __init__(self, weight: float = 1.0, heading_weight: float = 1.0, mixed_threshold: float = 0.5,
                 decision: Decision = Decision()):
        super().__init__(weight, mixed_threshold, decision)
        self.heading_weight = heading_weight

    def fit(self, corpus: Corpus, distribution: np.ndarray | None = None) -> "SectionContext":
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


def default_sources(config: ThemeConfig) -> list[EvidenceSource]:
    """The evidence sources ``config`` describes, in order; a source with weight 0 is left out (ablations)."""
    sources: list[EvidenceSource] = []
    if config.keyword_weight > 0:
        sources.append(KeywordEvidence(config.keyword_weight, config.keyword_smoothing, config.keyword_fit_scale,
                                       config.keyword_idf, config.min_compound_length))
    if config.embedding_weight > 0:
        sources.append(SimilarityEvidence(config.embedding_weight, config.keyword_top_k, config.temperature,
                                          config.similarity_fit_z, config.similarity_fit_scale,
                                          config.andet_references if config.calibrate_themes else ()))
    if config.self_training_weight > 0:
        sources.append(SelfTraining(config.self_training_weight, config.seed_threshold, config.min_seeds_per_class,
                                    config.self_training_c, config.tfidf_scale, config.andet_threshold,
                                    decision=Decision.from_config(config)))
    if config.section_weight > 0:
        sources.append(SectionContext(config.section_weight, config.heading_weight, config.mixed_topic_threshold,
                                      Decision.from_config(config)))
    return sources


def warm_up(config: ThemeConfig | None = None, embedder: Embedder | None = None) -> None:
    """Put the shipped taxonomies' theme and reference embeddings into the embedding cache,
    for an install step: a run then embeds only its own texts (e5: 372 strings, ~10-40 s
    on 2 cores, once per machine). ``embedder`` defaults to the default cached one."""
    embedder = embedder or make_embedder(EmbeddingConfig())
    for source in default_sources(config or ThemeConfig()):
        if isinstance(source, SimilarityEvidence):
            for name in shipped_taxonomies():
                source.embed_taxonomy(embedder, load_taxonomy(name))


class ThemeMapper:
    """Theme distributions for texts and topics; see the module docstring for the method.

    ``fit(lemmas, embeddings, topics=None, weights=None, sections=None)``: ``lemmas`` are
    space-joined content lemmas (or lists), ``topics`` one topic per text (-1 = outlier),
    ``weights`` how many voices a text stands for (topic and section distributions are
    weighted means), ``sections`` a note heading or heading path per text (``None`` or
    "" where there is none; for notes pass ingestion's ``section_path``). It sets

    ``text_themes_``
        one row per input text: ``theme`` (an id or ``andet``), ``theme_score`` (the
        probability of that class), ``confident`` (the theme is not ``andet`` and its
        probability reaches ``config.confident_score``: the text may be quoted as an
        example of it) and ``p_<id>`` for every theme plus ``p_andet`` (rows sum to 1;
        weighted frequencies count every text by this distribution, confident or not).
    ``topic_themes_``
        one row per topic (not -1): ``topic``, ``theme``, ``theme_score``, ``mixed``
        (its class has less than ``config.mixed_topic_threshold``: the topic does not
        pull its members, who keep their own themes) and the topic's ``p_`` columns. A
        topic whose likeliest class is ``andet`` has theme ``andet``.

    ``sources``: the evidence sources, in order (default :func:`default_sources` of
    ``config``; topic context is always added last when topics are given). They are
    copied at fit; the fitted ones are in ``sources_``. The keyword lemma forms come
    from ``lemmatiser`` (default: the project's :class:`pipeline.language.TextAnalyzer`;
    production passes ``TextAnalyzer(config.language).lemmatise``).
    """

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
        self.config = config or ThemeConfig()
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
        config = self.config
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
        )
        sources = default_sources(config) if self.sources is None else list(self.sources)
        self.sources_ = [copy.deepcopy(source) for source in sources]
        distribution = None
        for source in self.sources_:
            distribution = source.fit(corpus, distribution).transform(distribution)
            if isinstance(source, TextEvidence):
                corpus.text_sources.append(source)
        if distribution is None:
            raise ValueError("no evidence source gives a distribution (all weights 0?)")
        self.text_distribution_ = distribution
        self.topic_context_ = TopicContext(config.topic_weight, config.mixed_topic_threshold, Decision.from_config(config))
        self.topic_context_.fit(corpus, distribution)
        self._assign()
        return self

    @property
    def section_themes_(self) -> dict[str, np.ndarray]:
        """Each note section's distribution (every level of every heading path)."""
        return next((s.section_themes_ for s in self.sources_ if isinstance(s, SectionContext)), {})

    def decide(self, distribution: np.ndarray) -> np.ndarray:
        """Class index per row (see :class:`Decision`)."""
        return Decision.from_config(self.config).decide(distribution)

    def _assign(self) -> None:
        """Topic themes, the topic context, and each text's final theme."""
        context = self.topic_context_
        final = context.transform(self.text_distribution_) if self.config.topic_weight > 0 else self.text_distribution_.copy()
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
        strength = Decision.from_config(self.config).strength(final, best)
        text_table.insert(2, "confident", (best != len(self.classes_) - 1) & (strength >= self.config.confident_score))
        self.text_themes_ = text_table
