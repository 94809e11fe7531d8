"""Theme prevalence: what share of the inputs is about each theme (quantification).

A report's headline is a *prevalence estimate* - the weighted fraction of the inputs whose
main point is a theme - not a classification of single texts. Estimating class
prevalence is its own problem (Forman 2008; González, Castaño, Chawla & del Coz 2017),
and the obvious estimator, the mean of the soft memberships, is biased when the
memberships are not calibrated: an answer that fits no theme still gives about half its
weight to themes, so every theme is inflated. The estimators here, each a function of
the per-text evidence that returns one membership row per text (rows sum to 1), whose
weighted column sums are the estimated frequencies (:mod:`pipeline.weighting`):

``classify_and_count`` (default)
    each text counts fully to its decided theme (``theme`` column; ``andet`` included).
    Measured against hand-coded shares on every labelled set of ``benchmarks/data`` it has
    the smallest share error (``benchmarks/quality.py`` prints all three per set).
``probabilistic``
    the soft memberships ``p_<theme>`` as they are (what tematik published before).
``em``
    the memberships re-weighted to the corpus's own class priors by expectation
    maximisation (Saerens, Latinne & Decaestecker 2002), then counted.

A validation sample (:mod:`pipeline.validation`: texts drawn per decided theme, the
correct theme set by an analyst) turns the count into the stratified estimator of
Olofsson et al. (2014): ``share_j = Σ_i W_i × P(true j | decided i)``, where ``W_i`` is
the weighted share of texts decided ``i`` and ``P(j | i)`` the (weighted) fraction of the
checked texts decided ``i`` that the analyst put in ``j`` (:class:`MappingCorrection`).
The checked texts themselves count to the analyst's theme (their class is known, not
estimated), so in a workshop of 200 answers a 50-text check fixes a quarter of the
estimate outright. Its uncertainty comes from the few checked texts per theme;
:meth:`MappingCorrection.draws` samples it for the bootstrap interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

ESTIMATORS: tuple[str, ...] = ("classify_and_count", "probabilistic", "em")


def decided_membership(decided: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """``(n, n classes)`` one-hot rows of each text's decided class (a class not in ``classes`` gives a zero row)."""
    labels = np.asarray(decided, dtype=object)
    return (labels[:, None] == np.asarray(classes, dtype=object)[None, :]).astype(float)


def em_adjusted(posteriors: np.ndarray, weights: np.ndarray | None = None, training_priors: np.ndarray | None = None,
                max_iter: int = 100, tolerance: float = 1e-6) -> np.ndarray:
    """Posteriors re-weighted to the priors of this corpus (Saerens et al. 2002, the SLD/EM method).

    ``training_priors``: the class priors the posteriors are calibrated for; tematik's
    mapper has no training set, and its evidence treats the classes alike, so the default
    is uniform. Starting from the posteriors' weighted mean, each step multiplies every
    row by ``prior / training prior``, renormalises, and takes the new rows' weighted mean
    as the prior, until the priors move less than ``tolerance``.
    """
    posteriors = np.asarray(posteriors, dtype=float)
    if not len(posteriors):
        return posteriors.copy()
    weights = np.ones(len(posteriors)) if weights is None else np.asarray(weights, dtype=float)
    total = weights.sum()
    if total <= 0:
        return posteriors.copy()
    k = posteriors.shape[1]
    start = np.full(k, 1.0 / k) if training_priors is None else np.clip(np.asarray(training_priors, dtype=float), 1e-12, None)
    priors, adjusted = np.clip(weights @ posteriors / total, 1e-12, None), posteriors
    for _ in range(max_iter):
        adjusted = posteriors * (priors / start)
        adjusted /= np.clip(adjusted.sum(axis=1, keepdims=True), 1e-300, None)
        updated = weights @ adjusted / total
        moved = np.abs(updated - priors).max()
        priors = np.clip(updated, 1e-12, None)
        if moved < tolerance:
            break
    return adjusted


def membership(assignments: pd.DataFrame, classes: Sequence[str], estimator: str = "classify_and_count") -> np.ndarray:
    """``(n texts, n classes)`` rows counted by ``estimator`` (see the module docstring).

    ``classes``: the taxonomy's themes and ``andet``. ``probabilistic`` and ``em`` need
    the ``p_<class>`` columns; a table without them (hand-labelled) counts its ``theme``.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown share estimator {estimator!r}: use one of {', '.join(ESTIMATORS)}")
    columns = [f"p_{theme}" for theme in classes]
    present = [column in assignments.columns for column in columns]
    if estimator == "classify_and_count" or not any(present):
        return decided_membership(assignments["theme"].astype(str).to_numpy(), classes)
    if not all(present):
        missing = [column for column, there in zip(columns, present) if not there]
        raise ValueError(f"assignments lack membership columns: {', '.join(missing)}")
    soft = assignments[columns].to_numpy(dtype=float, na_value=0.0)
    if estimator == "em":
        weights = assignments["weight"].to_numpy(dtype=float) if "weight" in assignments.columns else None
        return em_adjusted(soft, weights)
    return soft


@dataclass(frozen=True)
class MappingCorrection:
    """What a validation sample says of the mapping: per decided class, where its texts truly belong.

    ``classes``: the themes and ``andet``. ``decided`` and ``correct``: the class tematik
    decided and the analyst's class of each checked text; ``weights`` their text weights
    (the weighted fraction estimates the weighted share; default 1 each); ``text_ids``
    their ids, so the checked texts count to the analyst's class (:meth:`checked_rows`).
    ``agreement_prior``: pseudo-texts per decided class that the analyst kept, added to
    its checked texts. Three or four checked texts per theme are few; without it one
    disagreement moves a quarter of the theme. Measured with 50-text samples answered
    with the gold labels (``benchmarks/quality.py``, median over 20 samples): 0, 1, 2, 4
    pseudo-texts gave share errors 0.043/0.038/0.034/0.030 on deb-dev and
    0.125/0.104/0.093/0.082 on kommune-11, ~0.002 apart on the others; 2 keeps the
    estimate led by the checked texts when a theme is often wrong. ``prior``:
    pseudo-texts spread evenly over the classes: a theme checked on two texts that were
    both right is not certain to be always right. The point estimate (:meth:`matrix`)
    is the mean of the distribution the interval's draws come from (:meth:`draws`), so a
    published share sits inside its interval.
    """

    classes: tuple[str, ...]
    decided: tuple[str, ...]
    correct: tuple[str, ...]
    weights: tuple[float, ...] | None = None
    text_ids: tuple[str, ...] | None = None
    agreement_prior: float = 2.0
    prior: float = 1.0

    def __post_init__(self) -> None:
        lengths = {len(self.correct), *(len(v) for v in (self.weights, self.text_ids) if v is not None)}
        if lengths != {len(self.decided)}:
            raise ValueError("decided, correct, weights and text_ids must have one entry per checked text")
        unknown = sorted((set(self.decided) | set(self.correct)) - set(self.classes))
        if unknown:
            raise ValueError(f"checked texts use classes outside the taxonomy: {', '.join(unknown)}")

    @property
    def n_checked(self) -> int:
        return len(self.decided)

    def _counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(weighted counts, plain counts), decided × correct."""
        index = {name: position for position, name in enumerate(self.classes)}
        k = len(self.classes)
        rows = np.array([index[name] for name in self.decided], dtype=int)
        columns = np.array([index[name] for name in self.correct], dtype=int)
        weights = np.ones(len(rows)) if self.weights is None else np.asarray(self.weights, dtype=float)
        weighted, plain = np.zeros((k, k)), np.zeros((k, k))
        np.add.at(weighted, (rows, columns), weights)
        np.add.at(plain, (rows, columns), 1.0)
        return weighted, plain

    def _evidence(self) -> tuple[np.ndarray, np.ndarray]:
        """Per decided class: its checked texts as counts spread by their weighted fractions, plus the agreement prior;
        and how many texts were checked."""
        weighted, plain = self._counts()
        checked = plain.sum(axis=1)
        totals = weighted.sum(axis=1, keepdims=True)
        fractions = np.divide(weighted, totals, out=np.zeros_like(weighted), where=totals > 0)
        k = len(self.classes)
        evidence = checked[:, None] * fractions + (self.agreement_prior * np.eye(k) + self.prior / k) * (checked > 0)[:, None]
        return evidence, checked

    def matrix(self) -> np.ndarray:
        """``P[i, j]``: the estimated fraction of the texts decided ``i`` that truly are ``j`` (rows sum to 1).

        A decided class without checked texts keeps its texts (identity row): nothing was
        measured about it.
        """
        evidence, checked = self._evidence()
        identity = np.eye(len(self.classes))
        return np.where((checked > 0)[:, None], evidence / np.maximum(evidence.sum(axis=1, keepdims=True), 1e-300), identity)

    def draws(self, n: int, random_state: int = 42) -> np.ndarray:
        """``(n, k, k)`` plausible matrices: per decided class a Dirichlet draw whose mean is :meth:`matrix`'s row.

        The Dirichlet's mass is the class's number of checked texts (spread as their
        weighted fractions: unequal text weights shift the mean, not the evidence), its
        agreement prior and ``prior``; an unchecked class stays an identity row.
        """
        k = len(self.classes)
        evidence, checked = self._evidence()
        rng = np.random.default_rng(random_state)
        draws = np.broadcast_to(np.eye(k), (n, k, k)).copy()
        for row in np.flatnonzero(checked > 0):
            draws[:, row, :] = rng.dirichlet(np.maximum(evidence[row], 1e-3), size=n)  # 0 only with prior 0
        return draws

    def checked_rows(self, text_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """For a table's ``text_ids``: which rows were checked, and their one-hot correct class (zero rows elsewhere)."""
        correct = dict(zip(self.text_ids or (), self.correct))
        answers = [correct.get(str(text_id)) for text_id in text_ids]
        checked = np.array([answer is not None for answer in answers], dtype=bool)
        return checked, decided_membership([answer or "" for answer in answers], self.classes)

    def agreement(self) -> float:
        """Fraction of the checked texts whose decided class the analyst kept."""
        if not self.n_checked:
            return float("nan")
        return float(np.mean([d == c for d, c in zip(self.decided, self.correct)]))

    def agreement_by_class(self) -> pd.DataFrame:
        """Per decided class: checked texts, how many the analyst kept, and that fraction."""
        frame = pd.DataFrame({"theme": self.decided, "kept": [d == c for d, c in zip(self.decided, self.correct)]})
        table = frame.groupby("theme", sort=False)["kept"].agg(checked="size", kept="sum").reindex(list(self.classes))
        table = table.dropna().astype(int).reset_index()
        table["agreement"] = table["kept"] / table["checked"]
        return table
