"""Emerging themes: what the texts that fit no theme (``andet``) talk about, grouped and named.

A workshop's most interesting finding is often what the taxonomy did not foresee, and it
rarely forms a BERTopic topic of its own: ``andet`` texts are scattered over topics that
are mostly about something else. So the content texts in ``andet`` are clustered on
their own:

1. **Texts**: rows with ``theme == "andet"`` whose ``role`` is content (no ``role`` column:
   all), ordered by ``text_id`` so the result does not depend on the row order.
2. **Similarity**: ``(s_e5 + λ × cos_lemmas) / (1 + λ)``. ``s_e5 = (cos − μ) / (1 − μ)``
   is the e5 cosine rescaled by ``μ``, the mean cosine between the andet texts: e5 rates
   most short Danish answers alike (cosines 0.8–0.95), so only how far a pair stands out
   above the mean says something. ``cos_lemmas`` is the cosine of their content lemmas
   (``lemmas`` column, space-joined; sublinear tf, no idf), ``λ =
   EmergingConfig.lexical_weight``: shared lemmas ("samarbejde") tie short answers that
   e5 alone keeps apart.
3. **Clusters**: agglomerative clustering, average linkage, cut at
   ``distance_threshold`` (1 − similarity) — deterministic, no cluster count to choose,
   and single-word answers join the cluster they share a word with. Above
   ``max_clustered`` texts the heaviest ones are clustered and the rest join their
   nearest cluster when within the threshold (linear in the remaining texts).
4. **Themes**: clusters of at least ``min_size`` texts, biggest ``weighted_size`` first
   (then size, then name), at most ``max_themes``.

Each emerging theme has:

- ``name``: a phrase its texts share, "Samarbejde på tværs" (:mod:`pipeline.naming`); ``words`` its top
  ``n_words`` lemmas by class-based TF-IDF (BERTopic's ``ClassTfidfTransformer``, the
  clusters as classes), among lemmas used by at least two of its texts (when none is, its
  three best lemmas: "Vilje, stædighed og tålmodighed");
- ``size`` (texts), ``weighted_size`` (Σ final weight ``w_i``) and ``share`` =
  ``weighted_size`` / Σ of every text's weight in the run (so shares compare with the
  headline table's);
- ``quotes``: up to ``n_quotes`` texts chosen by :mod:`pipeline.quotes` (participants'
  answers first, then note excerpts; only complete thoughts), ``quote_ids`` their
  ``text_id``s (for their provenance), and ``text_ids``: all its texts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from pipeline.config import EmergingConfig, QuoteConfig
from pipeline.quotes import QuoteRows, representative_quotes, unit_rows
from pipeline.schema import ANDET, EMERGING_COLUMNS
from pipeline.weighting import is_content

_GROUP = "_emerging"


def _lemma_vectors(lemmas: list[str]):
    """Row-normalised lemma vectors (sparse, sublinear tf, no idf); None when no text has any lemma.

    No idf: the word a big emerging theme shares ("samarbejde" in a third of the texts)
    is exactly the one idf would silence.
    """
    if not any(text.strip() for text in lemmas):
        return None
    vectorizer = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, use_idf=False, sublinear_tf=True, norm="l2")
    return vectorizer.fit_transform(lemmas)


def _similarity(
    e5: np.ndarray, lexical, rows: np.ndarray, columns: np.ndarray, baseline: float, config: EmergingConfig
) -> np.ndarray:
    # e5 cosines of short Danish texts are compressed (0.8-0.95): rescale to how far a pair
    # stands out above the mean pair of these texts, so 0 = unrelated and 1 = identical,
    # comparable with the lemma cosine and the threshold stable across corpora.
    similarity = (e5[rows] @ e5[columns].T - baseline) / (1.0 - baseline)
    if lexical is not None and config.lexical_weight > 0:
        similarity = similarity + config.lexical_weight * (lexical[rows] @ lexical[columns].T).toarray()
        similarity /= 1.0 + config.lexical_weight
    return similarity


def cluster_texts(embeddings: np.ndarray, lemmas: list[str], weights: np.ndarray, config: EmergingConfig) -> np.ndarray:
    """Cluster label of each text (0, 1, …; -1 for a text that joined no cluster), see the module docstring."""
    n_texts = len(embeddings)
    labels = np.full(n_texts, -1, dtype=int)
    if n_texts < 2:
        return labels if n_texts == 0 else np.zeros(1, dtype=int)
    e5 = unit_rows(np.asarray(embeddings, dtype=float))
    lexical = _lemma_vectors(lemmas)
    # The heaviest texts are clustered pairwise (stable order: ties keep the text_id order).
    order = np.argsort(-np.asarray(weights, dtype=float), kind="stable")
    core, rest = np.sort(order[: config.max_clustered]), np.sort(order[config.max_clustered :])
    pairs = e5[core] @ e5[core].T
    baseline = float((pairs.sum() - np.trace(pairs)) / max(len(core) * (len(core) - 1), 1))
    baseline = min(baseline, 0.99)
    distance = 1.0 - _similarity(e5, lexical, core, core, baseline, config)
    np.fill_diagonal(distance, 0.0)
    clustering = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=config.distance_threshold
    )
    labels[core] = clustering.fit_predict(np.clip(distance, 0.0, None)) if len(core) > 1 else 0
    if len(rest):
        # The rest join the cluster whose members are on average nearest, within the threshold.
        for start in range(0, len(rest), 1000):
            chunk = rest[start : start + 1000]
            similarity = _similarity(e5, lexical, chunk, core, baseline, config)
            members = np.eye(labels[core].max() + 1)[labels[core]]  # (core, clusters) one-hot
            mean = (similarity @ members) / members.sum(axis=0)
            best = mean.argmax(axis=1)
            labels[chunk] = np.where(1.0 - mean[np.arange(len(chunk)), best] <= config.distance_threshold, best, -1)
    return labels


def _top_words(lemmas: list[str], labels: np.ndarray, themes: list[int], n_words: int) -> dict[int, list[str]]:
    """Top lemmas per cluster by class-based TF-IDF, among lemmas at least two of its texts use."""
    from pipeline.numba_cache import import_bertopic

    import_bertopic()  # bertopic without torch: a re-export of a saved run needs no deep-learning stack
    from bertopic.vectorizers import ClassTfidfTransformer

    if not any(text.strip() for text in lemmas):
        return {theme: [] for theme in themes}
    vectorizer = CountVectorizer(token_pattern=r"\S+", lowercase=False, binary=True)
    counts = vectorizer.fit_transform(lemmas)  # binary: a text counts a lemma once
    vocabulary = np.asarray(vectorizer.get_feature_names_out())
    classes = sorted(set(labels.tolist()))
    per_class = np.vstack([np.asarray(counts[labels == label].sum(axis=0)).ravel() for label in classes])
    scores = ClassTfidfTransformer().fit_transform(csr_matrix(per_class)).toarray()
    words = {}
    for theme in themes:
        row = classes.index(theme)
        # Ties broken by the lemma itself, so the names never depend on the vocabulary order.
        ranked = sorted(np.flatnonzero(per_class[row] > 0), key=lambda j: (-scores[row, j], vocabulary[j]))
        shared = [j for j in ranked if per_class[row, j] >= 2]
        # A theme of one-word answers ("Vilje", "Stædighed", "Tålmodighed") shares no lemma:
        # its best single lemmas name it.
        padding = [] if shared else ranked[:3]
        words[theme] = [str(vocabulary[j]) for j in (shared + padding)[:n_words]]
    return words


def theme_names(texts: list[str], labels: np.ndarray, embeddings: np.ndarray, themes: list[int]) -> dict[int, str]:
    """Each theme's name: a phrase its texts share, as topics are named (:mod:`pipeline.naming`;
    the other clusters and the unclustered texts are the contrast for c-TF-IDF)."""
    from pipeline.naming import NO_NAME, PhraseNamer

    named = PhraseNamer().name_groups(texts, labels.tolist(), embeddings, order=themes)
    return {theme: (named.get(theme) or [(NO_NAME, 0.0)])[0][0] for theme in themes}


def emerging_themes(
    assignments: pd.DataFrame,
    embeddings: np.ndarray,
    config: EmergingConfig = EmergingConfig(),
    quote_rows: QuoteRows | None = None,
) -> pd.DataFrame:
    """Emerging themes of the run's ``andet`` texts, biggest first (columns :data:`EMERGING_COLUMNS`).

    ``assignments``: one row per text with ``text_id``, ``text``, ``source_kind``,
    ``source_file``, ``weight`` (final), ``theme``, ``lemmas`` and optionally ``role``,
    in ingestion order; ``embeddings`` row-aligned with it; ``quote_rows`` its
    :class:`~pipeline.quotes.QuoteRows` when the caller has them.
    """
    embeddings = np.asarray(embeddings, dtype=float)
    if len(embeddings) != len(assignments):
        raise ValueError(f"{len(embeddings)} embeddings for {len(assignments)} texts")
    empty = pd.DataFrame({column: pd.Series(dtype=object) for column in EMERGING_COLUMNS})
    has_text = assignments["text"].astype(str).str.strip().ne("")
    andet = (assignments["theme"].astype(str).eq(ANDET) & is_content(assignments) & has_text).to_numpy()
    rows = np.flatnonzero(andet)
    if len(rows) < config.min_size:
        return empty
    rows = rows[np.argsort(assignments["text_id"].astype(str).to_numpy()[rows], kind="stable")]
    members = assignments.iloc[rows]
    lemmas = members["lemmas"].fillna("").astype(str).tolist() if "lemmas" in members.columns else [""] * len(rows)
    weights = members["weight"].to_numpy(dtype=float)
    labels = cluster_texts(embeddings[rows], lemmas, weights, config)

    sizes = pd.Series(labels[labels >= 0]).value_counts()
    themes = [int(label) for label in sizes.index if sizes[label] >= config.min_size]
    if not themes:
        return empty
    words = _top_words(lemmas, labels, themes, config.n_words)
    names = theme_names(members["text"].astype(str).tolist(), labels, embeddings[rows], themes)
    total_weight = float(assignments["weight"].astype(float).sum())

    # Quotes through the quote machinery, on the full table (it judges note passages by their neighbours).
    group = pd.Series(np.nan, index=assignments.index, dtype=float)
    group.iloc[rows] = np.where(np.isin(labels, themes), labels, np.nan)
    quote_config = QuoteConfig(k=config.n_quotes, note_k=config.n_quotes)
    picked = representative_quotes(
        assignments.assign(**{_GROUP: group}), embeddings, group=_GROUP, config=quote_config, rows=quote_rows
    )

    records = []
    for theme in themes:
        inside = labels == theme
        theme_quotes = picked.loc[picked[_GROUP] == theme].head(config.n_quotes)
        weighted_size = float(weights[inside].sum())
        records.append(
            {
                "name": names[theme],
                "size": int(inside.sum()),
                "weighted_size": weighted_size,
                "share": weighted_size / total_weight if total_weight > 0 else 0.0,
                "words": ", ".join(words[theme]),
                "quotes": theme_quotes["text"].tolist(),
                "quote_ids": theme_quotes["text_id"].astype(str).tolist(),
                "text_ids": members.loc[inside, "text_id"].astype(str).tolist(),
            }
        )
    table = pd.DataFrame.from_records(records, columns=EMERGING_COLUMNS)
    table = table.sort_values(["weighted_size", "size", "name"], ascending=[False, False, True], kind="stable")
    return table.head(config.max_themes).reset_index(drop=True)
