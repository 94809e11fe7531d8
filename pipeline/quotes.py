"""Representative quotes: central, readable, diverse texts of a theme or topic, in their original wording.

For each group (a theme, ``andet`` included, or a topic) the quotes are chosen among the
texts assigned to it:

1. centroid = Σ w_i × m_i × e_i over the group's texts (``w`` text weight, ``m`` the
   text's membership of the theme ``p_<theme>``, 1 for topics; ``e`` the embedding),
   centrality_i = cosine(e_i, centroid): the texts nearest what the group says most;
2. texts of readable length (``min_words``..``max_words``) are preferred; only when
   fewer than ``k`` qualify are the others used, so a group never comes back empty;
3. maximal marginal relevance picks the next quote by
   ``(1 - diversity) × centrality - diversity × max cosine to the quotes picked``,
   skipping texts closer than ``near_duplicate_similarity`` to a picked quote.

Pure numpy and deterministic: candidates are ordered by ``text_id`` so ties go to the
smallest id, whatever the row order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import QuoteConfig
from pipeline.weighting import theme_order

PROVENANCE_COLUMNS: list[str] = ["text_id", "text", "workshop", "question", "source_file", "source_kind", "weight"]


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _mmr(vectors: np.ndarray, centrality: np.ndarray, pools: list[np.ndarray], config: QuoteConfig) -> list[int]:
    """Pick up to ``config.k`` row positions by maximal marginal relevance, pool after pool.

    Similarities to picked quotes are updated one pick at a time (never an n × n matrix:
    a theme may hold thousands of texts).
    """
    picked: list[int] = []
    for pool in pools:
        candidates = np.asarray(pool, dtype=int)
        nearest = np.full(len(candidates), -np.inf)
        for quote in picked:
            nearest = np.maximum(nearest, vectors[candidates] @ vectors[quote])
        while len(candidates) and len(picked) < config.k:
            keep = nearest < config.near_duplicate_similarity
            candidates, nearest = candidates[keep], nearest[keep]
            if not len(candidates):
                break
            redundancy = np.where(np.isfinite(nearest), nearest, 0.0)
            score = (1 - config.diversity) * centrality[candidates] - config.diversity * redundancy
            best = int(np.argmax(score))  # first maximum = smallest text_id (candidates are id-sorted)
            picked.append(int(candidates[best]))
            candidates, nearest = np.delete(candidates, best), np.delete(nearest, best)
            nearest = np.maximum(nearest, vectors[candidates] @ vectors[picked[-1]])
    return picked


def _group_quotes(members: pd.DataFrame, vectors: np.ndarray, membership: np.ndarray, config: QuoteConfig) -> pd.DataFrame:
    order = np.argsort(members["text_id"].astype(str).to_numpy(), kind="stable")
    members, vectors, membership = members.iloc[order], vectors[order], membership[order]
    weights = members["weight"].to_numpy(dtype=float) * membership
    if weights.sum() <= 0:  # e.g. weights all zero after normalisation: fall back to a plain mean
        weights = np.ones(len(members))
    centroid = _unit_rows(weights @ vectors)
    centrality = vectors @ centroid
    n_words = members["text"].astype(str).str.split().str.len().to_numpy()
    readable = (n_words >= config.min_words) & (n_words <= config.max_words)
    picked = _mmr(vectors, centrality, [np.flatnonzero(readable), np.flatnonzero(~readable)], config)
    quotes = members.iloc[picked][PROVENANCE_COLUMNS].reset_index(drop=True)
    quotes.insert(0, "rank", np.arange(1, len(picked) + 1))
    quotes["centrality"] = centrality[picked]
    return quotes


def representative_quotes(
    assignments: pd.DataFrame,
    embeddings: np.ndarray,
    group: str = "theme",
    config: QuoteConfig = QuoteConfig(),
) -> pd.DataFrame:
    """Up to ``config.k`` quotes per value of ``group`` ("theme" or "topic"), see the module docstring.

    ``embeddings`` are row-aligned with ``assignments``. Columns: ``group``, rank (1..k),
    text_id, text (original wording), workshop, question, source_file, source_kind,
    weight, centrality. Themes come in taxonomy order (from the ``p_`` columns) then
    ``andet``; topics ascending.
    """
    embeddings = np.asarray(embeddings, dtype=float)
    if len(embeddings) != len(assignments):
        raise ValueError(f"{len(embeddings)} embeddings for {len(assignments)} texts")
    vectors = _unit_rows(embeddings)
    values = assignments[group]
    present = set(values.dropna().tolist())
    if group == "theme":
        taxonomy = [column[2:] for column in assignments.columns if column.startswith("p_")]
        groups = [theme for theme in theme_order(taxonomy) if theme in present]
        groups += sorted(present - set(groups), key=str)
    else:
        groups = sorted(present)
    blocks = []
    for value in groups:
        rows = np.flatnonzero((values == value).to_numpy())
        column = f"p_{value}"
        membership = (
            assignments[column].to_numpy(dtype=float)[rows]
            if group == "theme" and column in assignments.columns
            else np.ones(len(rows))
        )
        quotes = _group_quotes(assignments.iloc[rows], vectors[rows], membership, config)
        quotes.insert(0, group, value)
        blocks.append(quotes)
    columns = [group, "rank", *PROVENANCE_COLUMNS, "centrality"]
    return pd.concat(blocks, ignore_index=True)[columns] if blocks else pd.DataFrame(columns=columns)
