"""How a distribution over the themes and ``andet`` becomes one class (:class:`Decision`):
one rule for texts, topics, note sections and self-training seeds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    def from_config(cls, config) -> "Decision":
        """From a :class:`pipeline.config.ThemeConfig` (not imported: the config validates the evidence, which uses this)."""
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
