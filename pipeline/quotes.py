"""Representative quotes: central, readable, diverse texts of a theme or topic, in their original wording.

For each group (a theme, ``andet`` included, or a topic) the quotes are chosen among the
texts assigned to it, in two separate blocks: first up to ``k`` of the participants' own
answers (``source_kind`` mentimeter or table), then up to ``note_k`` excerpts of the note
(``source_kind`` note; the exports label them "Fra opsamlingen"). ``rank`` counts 1, 2, …
within each block. Only *quotable* texts are candidates (:func:`quotable`):

- content: a row whose ``role`` (:mod:`pipeline.ingest.roles`) is not ``indhold`` — about
  the workshop itself, a list lead-in, a restating summary — is never quoted;
- a complete thought: no lead-in ending in ``:``, nothing ending in ``,``/``;``/a dash/an
  ellipsis, and no note passage cut mid-sentence (one that starts in lower case, or that
  lacks a full stop while the next passage of its note starts in lower case — a page or
  paragraph break inside a sentence);
- for themes, a text whose ``confident`` column is False (its theme is a guess) is not
  quoted as an example of the theme; a missing column means all are confident.

Within a block:

1. centroid = Σ w_i × m_i × e_i over the block's candidates (``w`` text weight, ``m`` the
   text's membership of the theme ``p_<theme>``, 1 for topics; ``e`` the embedding),
   centrality_i = cosine(e_i, centroid): the texts nearest what the group says most;
2. texts of readable length (``min_words``..``max_words``) are preferred; only when
   fewer than ``k`` qualify are the others used;
3. maximal marginal relevance picks the next quote by
   ``(1 - diversity) × centrality - diversity × max cosine to the quotes picked``,
   skipping texts closer than ``near_duplicate_similarity`` to a picked quote.

Pure numpy and deterministic: candidates are ordered by ``text_id`` so ties go to the
smallest id, whatever the row order.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipeline.config import QuoteConfig
from pipeline.schema import NOTE_KIND
from pipeline.weighting import is_content, theme_order

PROVENANCE_COLUMNS: list[str] = ["text_id", "text", "workshop", "question", "source_file", "source_kind", "weight"]
# Endings that leave a thought open: a lead-in, a list or clause going on, a cut.
_OPEN_ENDINGS = (":", ",", ";", "(", "-", "–", "—", "...", "…")
_FULL_STOPS = (".", "!", "?", ")", '"', "»", "”", "'", "’")
_LOWER_START = re.compile(r"[a-zæøå]")


def complete_thought(frame: pd.DataFrame) -> pd.Series:
    """True for texts that read as a complete thought (see the module docstring), aligned with ``frame``.

    Note passages are judged with their neighbours: ``frame``'s rows of one
    ``source_file`` must be in document order (as ingestion gives them).
    """
    # Plain str methods over a list: pandas' string accessors cost ~4x more on 100,000 rows.
    # The texts are stripped, so an ending is the last characters (the patterns allow spaces).
    # A missing text (None/NaN) is empty, not the word "nan".
    texts = [str(text).strip() if not pd.isna(text) else "" for text in frame["text"].tolist()]
    complete = pd.Series([bool(text) and not text.endswith(_OPEN_ENDINGS) for text in texts], index=frame.index)
    full_stop = pd.Series([text.endswith(_FULL_STOPS) for text in texts], index=frame.index)
    starts_lower = pd.Series([bool(_LOWER_START.match(text)) for text in texts], index=frame.index)
    note = frame["source_kind"].astype(str).eq(NOTE_KIND)
    # Neighbours within one note: one file of one workshop (a series may repeat a file name).
    note_of = [frame[column].astype(str) for column in ("workshop", "source_file") if column in frame.columns]
    next_starts_lower = starts_lower.groupby(note_of, sort=False).shift(-1, fill_value=False).astype(bool)
    cut = note & (starts_lower | (~full_stop & next_starts_lower))
    return (complete & ~cut).rename("complete")


def quotable(frame: pd.DataFrame, group: str = "theme") -> pd.Series:
    """True for rows that may be quoted: content, a complete thought and, for themes, confident."""
    return _quotable(frame, complete_thought(frame).to_numpy(), group)


def _quotable(frame: pd.DataFrame, complete: np.ndarray, group: str) -> pd.Series:
    eligible = is_content(frame) & complete
    if group == "theme" and "confident" in frame.columns:
        eligible &= frame["confident"].fillna(True).astype(bool)
    return eligible.rename("quotable")


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, in their own dtype; zero rows stay zero."""
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _mmr(vectors: np.ndarray, centrality: np.ndarray, pools: list[np.ndarray], k: int, config: QuoteConfig) -> list[int]:
    """Pick up to ``k`` row positions by maximal marginal relevance, pool after pool.

    Similarities to picked quotes are updated one pick at a time (never an n × n matrix:
    a theme may hold thousands of texts).
    """
    picked: list[int] = []
    for pool in pools:
        candidates = np.asarray(pool, dtype=int)
        nearest = np.full(len(candidates), -np.inf)
        for quote in picked:
            nearest = np.maximum(nearest, vectors[candidates] @ vectors[quote])
        while len(candidates) and len(picked) < k:
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


def _block_quotes(members: pd.DataFrame, facts: np.ndarray, vectors: np.ndarray, membership: np.ndarray, k: int,
                  config: QuoteConfig) -> pd.DataFrame:  # fmt: skip
    """``facts``: each member's rank by text id and its number of words (see :func:`representative_quotes`)."""
    order = np.argsort(facts[:, 0], kind="stable")
    members, facts, vectors, membership = members.iloc[order], facts[order], vectors[order], membership[order]
    weights = members["weight"].to_numpy(dtype=float) * membership
    if weights.sum() <= 0:  # e.g. weights all zero after normalisation: fall back to a plain mean
        weights = np.ones(len(members))
    centroid = unit_rows(weights @ vectors)
    centrality = vectors @ centroid
    n_words = facts[:, 1]
    readable = (n_words >= config.min_words) & (n_words <= config.max_words)
    picked = _mmr(vectors, centrality, [np.flatnonzero(readable), np.flatnonzero(~readable)], k, config)
    quotes = members.iloc[picked][PROVENANCE_COLUMNS].reset_index(drop=True)
    quotes.insert(0, "rank", np.arange(1, len(picked) + 1))
    quotes["centrality"] = centrality[picked]
    return quotes


def _group_quotes(members: pd.DataFrame, facts: np.ndarray, vectors: np.ndarray, membership: np.ndarray,
                  config: QuoteConfig) -> pd.DataFrame:  # fmt: skip
    """Participants' answers first, then note excerpts: two blocks, each ranked on its own."""
    from_note = members["source_kind"].astype(str).eq(NOTE_KIND).to_numpy()
    note_k = config.k if config.note_k is None else config.note_k
    blocks = [
        _block_quotes(members[rows], facts[rows], vectors[rows], membership[rows], k, config)
        for rows, k in ((~from_note, config.k), (from_note, note_k))
        if rows.any() and k > 0
    ]
    return pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=["rank", *PROVENANCE_COLUMNS, "centrality"])


class QuoteRows:
    """What every group's quotes need per row, computed once per table of texts: unit-length
    vectors, the complete-thought flag (:func:`complete_thought`), each row's rank by text id
    (ties go to the smallest id) and its number of words.

    A run picks quotes three times over the same rows (themes, topics, emerging themes); on
    100,000 texts each of these facts costs a tenth of a second or more.
    """

    def __init__(self, assignments: pd.DataFrame, embeddings: np.ndarray):
        embeddings = np.asarray(embeddings, dtype=float)
        if len(embeddings) != len(assignments):
            raise ValueError(f"{len(embeddings)} embeddings for {len(assignments)} texts")
        self.index = assignments.index
        self.vectors = unit_rows(embeddings)
        self.complete = complete_thought(assignments).to_numpy()
        self.facts = np.zeros((len(assignments), 2), dtype=np.int64)
        self.facts[np.argsort(assignments["text_id"].astype(str).to_numpy(), kind="stable"), 0] = np.arange(len(assignments))
        self.facts[:, 1] = [len(str(text).split()) for text in assignments["text"].tolist()]

    def check(self, assignments: pd.DataFrame) -> None:
        if not self.index.equals(assignments.index):
            raise ValueError("the quote rows were computed for another table of texts")


def representative_quotes(
    assignments: pd.DataFrame,
    embeddings: np.ndarray,
    group: str = "theme",
    config: QuoteConfig = QuoteConfig(),
    rows: QuoteRows | None = None,
) -> pd.DataFrame:
    """Quotes per value of ``group`` ("theme" or "topic"), see the module docstring.

    ``embeddings`` are row-aligned with ``assignments`` (whose rows of one note are in
    document order); ``rows`` may carry their :class:`QuoteRows` from an earlier call on
    the same rows. Columns: ``group``, rank (1..k within the participants' block, then
    1..note_k within the note's), text_id, text (original wording), workshop, question,
    source_file, source_kind, weight, centrality. Themes come in taxonomy order (from the
    ``p_`` columns) then ``andet``; topics ascending. A group without quotable texts has
    no rows.
    """
    if rows is None:
        rows = QuoteRows(assignments, embeddings)
    rows.check(assignments)
    eligible = _quotable(assignments, rows.complete, group).to_numpy()
    vectors, facts = rows.vectors, rows.facts
    candidates = np.flatnonzero(eligible)
    candidate_values = pd.Series(assignments[group].to_numpy()[candidates])
    # Each group's candidates as ascending row positions (a missing value is no group).
    rows_of = {value: candidates[positions] for value, positions in candidate_values.groupby(candidate_values).indices.items()}
    present = set(rows_of)
    if group == "theme":
        taxonomy = [column[2:] for column in assignments.columns if column.startswith("p_")]
        groups = [theme for theme in theme_order(taxonomy) if theme in present]
        groups += sorted(present - set(groups), key=str)
    else:
        groups = sorted(present)
    provenance = assignments[PROVENANCE_COLUMNS]  # the columns a quote needs: fewer to take per group
    blocks = []
    for value in groups:
        members = rows_of[value]
        column = f"p_{value}"
        membership = (
            assignments[column].to_numpy(dtype=float)[members]
            if group == "theme" and column in assignments.columns
            else np.ones(len(members))
        )
        quotes = _group_quotes(provenance.iloc[members], facts[members], vectors[members], membership, config)
        quotes.insert(0, group, value)
        blocks.append(quotes)
    columns = [group, "rank", *PROVENANCE_COLUMNS, "centrality"]
    return pd.concat(blocks, ignore_index=True)[columns] if blocks else pd.DataFrame(columns=columns)
