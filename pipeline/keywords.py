"""Theme keywords in lemmas: :class:`KeywordMatcher` (compounds, inflections, phrases) and
the corpus idf that weights a hit (:func:`idf_weights`); :class:`pipeline.evidence.KeywordEvidence`
turns the counts into evidence."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

from pipeline.taxonomy import Taxonomy

Lemmatiser = Callable[[list[str]], list[list[str]]]

# Endings a short keyword may carry and still count ("data" -> "dataene", "job" -> "jobs").
INFLECTIONS = ("", "s", "e", "en", "er", "et", "ene", "erne", "r", "ne", "t")


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
