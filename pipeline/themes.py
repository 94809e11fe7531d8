"""Map texts and topics to the themes of a taxonomy, or to ``andet`` when none fits.

Neither keyword matching nor embedding similarity to theme descriptions is good enough
alone (each failing on different texts), so :class:`ThemeMapper` combines evidence:

1. **Keywords** (:class:`KeywordMatcher`): theme keywords among a text's lemmas, each
   hit weighted by the lemma's idf in the corpus. Danish compounds count:
   ``digitaliseringsniveau`` and ``industrirobot`` hold ``digitalisering`` and ``robot``.
2. **Embedding similarity**: cosine between the text and each theme (its prototype -
   label, description and keywords as one query - and its most similar keywords), as
   a *standout*: how far the theme rises above the text's mean similarity to all themes.
   Keywords and similarity give a distribution over the themes (a product of the two),
   and the evidence that the text fits *any* theme decides ``p_andet``.
3. **Self-training**: confident texts become seeds of a logistic regression on the
   corpus's own embeddings and lemma TF-IDF, which then scores every text - it adapts
   to the workshop's wording without labels.
4. **Context**: note sections (every level of a heading path, the heading itself
   counting as evidence) and topics are groups made by the note's author and by the
   topic model. A text is pooled with the distribution of every group it sits in that
   is not mixed, log-linearly (:func:`_pool`), so a text with weak evidence follows its
   group while a text with strong evidence of another theme keeps it.
5. **Decision**: ``andet`` when ``p_andet`` reaches ``config.andet_threshold``, else the
   likeliest theme. A topic's theme is decided the same way on its pooled distribution.

Weights and thresholds live in :class:`pipeline.config.ThemeConfig`, with the
measurements (``benchmarks/quality.py``) that chose them.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from pipeline.config import ThemeConfig
from pipeline.embeddings import Embedder
from pipeline.schema import ANDET
from pipeline.taxonomy import Taxonomy

Lemmatiser = Callable[[list[str]], list[list[str]]]

# Separates the levels of a heading path in ``sections`` (as ingestion writes ``section_path``).
SECTION_SEPARATOR = " > "

# Endings a short keyword may carry and still count ("data" -> "dataene", "job" -> "jobs").
INFLECTIONS = ("", "s", "e", "en", "er", "et", "ene", "erne", "r", "ne", "t")


def default_lemmatiser() -> Lemmatiser:
    """The project's lemmatiser, so keywords are compared in the form texts are."""
    from pipeline.language import TextAnalyzer

    return TextAnalyzer().lemmatise


def _tokens(lemmas: str | Sequence[str]) -> list[str]:
    return lemmas.split() if isinstance(lemmas, str) else [str(lemma) for lemma in lemmas]


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
        counts = np.zeros((len(lemmas), len(self.taxonomy.themes)))
        for row, text_lemmas in enumerate(lemmas):
            tokens = [normalise_lemma(token) for token in _tokens(text_lemmas)]
            for position, token in enumerate(tokens):
                matched = set(self.themes_of(token))
                matched.update(
                    index
                    for index, phrases in enumerate(self.phrases_)
                    if any(self._phrase_at(tokens, position, phrase) for phrase in phrases)
                )
                weight = 1.0 if lemma_weights is None else lemma_weights.get(token, 1.0)
                for index in matched:
                    counts[row, index] += weight / len(matched)
        return counts


def normalise_lemma(lemma: str) -> str:
    """Lowercase, compatibility-normalised ("CO₂" -> "co2")."""
    return unicodedata.normalize("NFKC", lemma).lower()


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


_EPSILON = 1e-6


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


def _weighted_mean(rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    weights = weights if weights.sum() > 0 else np.ones(len(rows))
    return (rows * weights[:, None]).sum(axis=0) / weights.sum()


class ThemeMapper:
    """Theme distributions for texts and topics; see the module docstring for the method.

    ``fit(lemmas, embeddings, topics=None, weights=None, sections=None)``: ``lemmas`` are
    space-joined content lemmas (or lists), ``topics`` one topic per text (-1 = outlier),
    ``weights`` how many voices a text stands for (topic and section distributions are
    weighted means), ``sections`` a note heading or heading path per text (``None`` or
    "" where there is none; for notes pass ingestion's ``section_path``). It sets

    ``text_themes_``
        one row per input text: ``theme`` (an id or ``andet``), ``theme_score`` (the
        probability of that theme) and ``p_<id>`` for every theme plus ``p_andet``
        (rows sum to 1).
    ``topic_themes_``
        one row per topic (not -1): ``topic``, ``theme``, ``theme_score``, ``mixed``
        (no class reaches ``config.mixed_topic_threshold``: the topic does not pull its
        members, who keep their own themes) and the topic's ``p_`` columns.

    The keyword lemma forms come from ``lemmatiser`` (default: the project's
    :class:`pipeline.language.TextAnalyzer`), so they match the texts' lemmas.
    """

    def __init__(
        self,
        taxonomy: Taxonomy,
        embedder: Embedder,
        config: ThemeConfig | None = None,
        lemmatiser: Lemmatiser | None = None,
    ):
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.config = config or ThemeConfig()
        self.lemmatiser = lemmatiser

    # ------------------------------------------------------------------ public API

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
        lemmatiser = self.lemmatiser or default_lemmatiser()
        self.matcher_ = KeywordMatcher(self.taxonomy, lemmatiser, config.min_compound_length)
        self.prototypes_ = self.embedder.embed_queries([theme.prototype_text for theme in self.taxonomy.themes])
        self.keyword_vectors_ = [self.embedder.embed_queries(theme.keywords) for theme in self.taxonomy.themes]

        token_lists = [_tokens(text_lemmas) for text_lemmas in lemmas]
        self.keyword_hits_ = self.matcher_.count(token_lists)
        self.keyword_counts_ = self.matcher_.count(token_lists, idf_weights(token_lists) if config.keyword_idf else None)
        self.similarities_ = self.similarity(embeddings)
        spread = self.similarities_ - self.similarities_.mean(axis=1, keepdims=True)
        self.similarity_scale_ = float(np.std(spread)) if spread.size and np.std(spread) > 0 else 1.0
        self.prior_ = self._evidence(self.keyword_counts_, self.keyword_hits_, self._standout(self.similarities_))
        distribution = self.prior_
        if config.self_training_weight > 0:
            self.self_trained_ = self._self_train(self.prior_, token_lists, embeddings)
            themes = (1 - config.self_training_weight) * distribution[:, :-1] + config.self_training_weight * self.self_trained_ * (
                1 - distribution[:, -1:]
            )
            distribution = np.column_stack([themes, distribution[:, -1]])
        if sections is not None and config.section_weight > 0:
            distribution = self._smooth_by_sections(distribution, sections, lemmatiser)
        self.text_distribution_ = distribution
        self.topic_overrides_: dict[int, str] = {}
        self._assign()
        return self

    def set_topic_theme(self, topic: int, theme_id: str) -> "ThemeMapper":
        """An analyst's correction: every text of ``topic`` gets ``theme_id`` (score 1)."""
        if theme_id not in self.classes_:
            raise ValueError(f"unknown theme {theme_id!r}; known: {', '.join(self.classes_)}")
        if topic not in set(self.topics_.tolist()) or topic < 0:
            raise ValueError(f"no topic {topic}")
        self.topic_overrides_[int(topic)] = theme_id
        self._assign()
        return self

    # ------------------------------------------------------------------ evidence

    def similarity(self, embeddings: np.ndarray) -> np.ndarray:
        """``(n, n themes)`` cosine to each theme: mean of the prototype's and the best keywords'.

        The prototype (label, description, keywords as one query) captures the theme as
        a whole; the mean of the ``config.keyword_top_k`` most similar single keywords
        catches short answers that name one facet ("Cybersikkerhed").
        """
        embeddings = np.asarray(embeddings, dtype=np.float64)
        to_prototypes = embeddings @ self.prototypes_.T.astype(np.float64)
        k = self.config.keyword_top_k
        to_keywords = np.column_stack(
            [np.sort(embeddings @ vectors.T.astype(np.float64), axis=1)[:, -k:].mean(axis=1) for vectors in self.keyword_vectors_]
        )
        return (to_prototypes + to_keywords) / 2

    def _standout(self, similarities: np.ndarray) -> np.ndarray:
        """How far each theme's similarity stands above the text's mean similarity to all themes.

        Per text, not per theme over the corpus: a corpus where one theme dominates
        must not make that theme look average. The unit is the corpus's spread, so
        the scores mean the same for any embedder.
        """
        return (similarities - similarities.mean(axis=1, keepdims=True)) / self.similarity_scale_

    def _evidence(self, keyword_counts: np.ndarray, keyword_hits: np.ndarray, standout: np.ndarray) -> np.ndarray:
        """Keyword and similarity evidence -> distribution over themes + andet (last column)."""
        config = self.config
        keyword_logits = np.log(keyword_counts + config.keyword_smoothing)
        logits = config.keyword_weight * keyword_logits + config.embedding_weight * standout / config.temperature
        themes = _softmax(logits)
        # How well the text fits *any* theme: keyword hits, or a similarity well above
        # the theme's corpus average. A text with neither is andet.
        keyword_fit = 1 - np.exp(-keyword_hits.sum(axis=1) / config.keyword_fit_scale)
        similarity_fit = 1 / (1 + np.exp(-(standout.max(axis=1) - config.similarity_fit_z) / config.similarity_fit_scale))
        # A signal switched off (weight 0, for ablations) gives no evidence of fit either.
        keyword_fit *= config.keyword_weight > 0
        similarity_fit *= config.embedding_weight > 0
        fit = 1 - (1 - keyword_fit) * (1 - similarity_fit)
        return np.column_stack([themes * fit[:, None], 1 - fit])

    def _self_train(self, prior: np.ndarray, token_lists: list[list[str]], embeddings: np.ndarray) -> np.ndarray:
        """Logistic regression on confident texts (seeds) -> a theme distribution for every text.

        Seeds are texts that fit a theme (``p_andet`` below ``config.andet_threshold``)
        and whose likeliest theme has at least ``config.seed_threshold`` of the theme
        probability. Returns ``(n, n themes)`` rows summing to 1 (given a theme); the
        prior's own conditional distribution where there are too few seeds.
        """
        config = self.config
        n = prior.shape[0]
        conditional = _normalise(prior[:, :-1] + 1e-12)
        labels = conditional.argmax(axis=1)
        seeds = (prior[:, -1] < config.andet_threshold) & (conditional.max(axis=1) >= config.seed_threshold)
        present = [c for c in range(conditional.shape[1]) if (seeds & (labels == c)).sum() >= config.min_seeds_per_class]
        seeds &= np.isin(labels, present)
        if len(present) < 2:
            return conditional
        documents = [" ".join(tokens) for tokens in token_lists]
        tfidf = TfidfVectorizer(analyzer=str.split, min_df=2 if n >= 20 else 1, sublinear_tf=True)
        try:
            words = tfidf.fit_transform(documents)
        except ValueError:  # no term in two texts: embeddings only
            words = sparse.csr_matrix((n, 0))
        features = sparse.hstack([sparse.csr_matrix(embeddings), words * config.tfidf_scale]).tocsr()
        model = LogisticRegression(C=config.self_training_c, class_weight="balanced", max_iter=2000)
        model.fit(features[seeds], labels[seeds])
        predicted = conditional.copy()  # themes without seeds keep their prior share
        predicted[:, model.classes_] = model.predict_proba(features) * conditional[:, model.classes_].sum(axis=1, keepdims=True)
        return predicted

    def _group_distribution(self, members: np.ndarray, distribution: np.ndarray) -> np.ndarray:
        return _weighted_mean(distribution[members], self.weights_[members])

    def _smooth_by_sections(self, distribution: np.ndarray, sections: Sequence[str | None], lemmatiser: Lemmatiser) -> np.ndarray:
        """Pull each text toward the distributions of the note sections it sits in.

        A section is a heading, or a heading path ("2 Temaer > 2.1 Tema 1: Grøn omstilling >
        Udfordringer"); every level of a path is a section of its own, like a topic made
        by the note's author. A section's distribution pools its passages and its heading
        (the heading counts as ``config.heading_weight`` passages, and only as evidence
        *for* themes: "Potentialer og udfordringer" names no theme, which says nothing
        about whether the passages do). Mixed sections (no class reaching
        ``config.mixed_topic_threshold``) are ignored; a text is pulled toward the mean of
        the others with weight ``config.section_weight``.
        """
        config = self.config
        paths = [[part.strip() for part in str(section or "").split(SECTION_SEPARATOR) if part.strip()] for section in sections]
        members: dict[tuple[str, ...], list[int]] = {}
        for row, path in enumerate(paths):
            for depth in range(1, len(path) + 1):
                members.setdefault(tuple(path[:depth]), []).append(row)
        if not members:
            return distribution
        keys = sorted(members)
        headings = [key[-1] for key in keys]
        heading_hits = self.matcher_.count(lemmatiser(headings))
        heading_prior = self._evidence(heading_hits, heading_hits, self._standout(self.similarity(self.embedder.embed(headings))))
        pooled = distribution.copy()
        self.section_themes_ = {}
        for key, prior in zip(keys, heading_prior):
            rows = np.asarray(members[key])
            passages = self._group_distribution(rows, distribution)
            theme_mass = config.heading_weight * np.append(prior[:-1], 0.0)
            group = (theme_mass + passages) / (theme_mass.sum() + 1)
            self.section_themes_[SECTION_SEPARATOR.join(key)] = group
            if not self._is_mixed(group):
                pooled[rows] = _pool(pooled[rows], np.tile(group, (len(rows), 1)), config.section_weight)
        return pooled

    # ------------------------------------------------------------------ assignment

    def _is_mixed(self, group_distribution: np.ndarray) -> bool:
        """A group (topic, section) is mixed when its own class has less than ``config.mixed_topic_threshold``."""
        return bool(group_distribution[self._decide(group_distribution[None, :])[0]] < self.config.mixed_topic_threshold)

    def _decide(self, distribution: np.ndarray) -> np.ndarray:
        """Class index per row: andet when the evidence of fitting any theme is too weak, else the likeliest theme."""
        andet = len(self.classes_) - 1
        return np.where(distribution[:, andet] >= self.config.andet_threshold, andet, distribution[:, :andet].argmax(axis=1))

    def _assign(self) -> None:
        """Topic distributions, topic themes, and each text's final theme."""
        config = self.config
        distribution = self.text_distribution_
        columns = [f"p_{theme}" for theme in self.classes_]
        final = distribution.copy()
        rows = []
        for topic in sorted(set(self.topics_.tolist()) - {-1}):
            members = np.flatnonzero(self.topics_ == topic)
            topic_distribution = self._group_distribution(members, distribution)
            if topic in self.topic_overrides_:
                topic_distribution = np.eye(len(self.classes_))[self.classes_.index(self.topic_overrides_[topic])]
                final[members] = topic_distribution
                mixed = False
            else:
                mixed = self._is_mixed(topic_distribution)
                if not mixed:
                    final[members] = _pool(distribution[members], np.tile(topic_distribution, (len(members), 1)), config.topic_weight)
            best = int(self._decide(topic_distribution[None, :])[0])
            rows.append([topic, self.classes_[best], float(topic_distribution[best]), mixed, *topic_distribution])
        self.topic_themes_ = pd.DataFrame(rows, columns=["topic", "theme", "theme_score", "mixed", *columns])
        self.topic_themes_ = self.topic_themes_.astype({"topic": int, "theme_score": float, "mixed": bool})

        best = self._decide(final)
        themes = np.array(self.classes_, dtype=object)[best]
        self.text_themes_ = pd.DataFrame(final, columns=columns)
        self.text_themes_.insert(0, "theme", pd.Series(themes, dtype="object"))
        self.text_themes_.insert(1, "theme_score", final[np.arange(len(final)), best])
