"""Weighted theme frequencies with bootstrap intervals.

Weight of a text
----------------
::

    w_i = v_i × k(source_kind_i)                       (voices × source-kind weight)
    w_i ← w_i × mean_g(W_g) / W_{workshop_i}           (only with normalise_workshops)

``v_i`` is the schema's ``weight`` column: how many voices the row stands for
(identical answers merged, upvotes). ``k`` is ``WeightConfig.source_kind_weights``
(default: a Mentimeter or questionnaire answer is one voice, ``1``; a passage of a
summary note condenses a table discussion, ``3``; kinds not listed weigh ``1``).
``W_g`` is workshop ``g``'s total of ``v × k``; normalising gives every workshop the
same total, the mean of the totals, so the grand total and the scale are kept.

Theme frequency and share
-------------------------
::

    F_t     = Σ_i w_i × p_it                (weighted_frequency)
    share_t = F_t / Σ_s F_s                 (sums to 1 within the table or group)

``p_it`` is text ``i``'s membership of theme ``t`` (the ``p_<theme>`` columns, a soft
distribution over the taxonomy themes and ``andet`` summing to 1), so a text torn
between two themes counts half to each. ``n_texts`` counts the texts whose assigned
(most likely) theme is ``t``, unweighted.

Interval: 95 % (``confidence``) bootstrap percentile interval of ``share_t``: the texts
of the table or group are resampled with replacement ``n_bootstrap`` times (seeded by
``random_state``, so reruns give the same numbers) and ``share_t`` is recomputed on each
resample. It reflects how much the shares depend on which texts happened to be written,
not uncertainty in the theme mapping itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.config import WeightConfig
from pipeline.schema import ANDET

BREAKDOWNS: tuple[str, ...] = ("workshop", "question", "source_kind")
FREQUENCY_COLUMNS: list[str] = ["theme", "n_texts", "weighted_frequency", "share", "ci_low", "ci_high"]
# Resamples drawn at once: bounds memory to chunk × n_texts integers (30k texts -> ~25 MB).
_BOOTSTRAP_CHUNK = 100


def text_weights(frame: pd.DataFrame, config: WeightConfig = WeightConfig()) -> pd.Series:
    """Final weight of each text (see the module docstring), aligned with ``frame``'s index."""
    kind_weight = frame["source_kind"].map(lambda kind: config.source_kind_weights.get(kind, 1.0)).astype(float)
    weights = frame["weight"].astype(float) * kind_weight
    if config.normalise_workshops and len(frame):
        totals = weights.groupby(frame["workshop"]).transform("sum")
        target = weights.groupby(frame["workshop"]).sum().mean()
        weights = weights * (target / totals.where(totals > 0)).fillna(0.0)
    return weights.rename("weight")


def with_text_weights(frame: pd.DataFrame, config: WeightConfig = WeightConfig()) -> pd.DataFrame:
    """Copy of ``frame`` whose ``weight`` is the final text weight; the input weight is kept as ``voices``."""
    weighted = frame.copy()
    weighted["voices"] = frame["weight"].astype(float)
    weighted["weight"] = text_weights(frame, config)
    return weighted


def theme_order(theme_ids: Sequence[str]) -> list[str]:
    """Taxonomy themes in their order, then ``andet``."""
    return [theme for theme in theme_ids if theme != ANDET] + [ANDET]


def membership_matrix(assignments: pd.DataFrame, themes: Sequence[str]) -> np.ndarray:
    """(n_texts, n_themes) soft membership from ``p_<theme>`` columns.

    Without any ``p_`` column (e.g. a hand-labelled table) the assigned theme counts fully.
    """
    columns = [f"p_{theme}" for theme in themes]
    present = [column in assignments.columns for column in columns]
    if not any(present):
        labels = assignments["theme"].astype(str).to_numpy()
        return (labels[:, None] == np.asarray(themes, dtype=object)[None, :]).astype(float)
    if not all(present):
        missing = [column for column, there in zip(columns, present) if not there]
        raise ValueError(f"assignments lack membership columns: {', '.join(missing)}")
    return assignments[columns].to_numpy(dtype=float, na_value=0.0)


def _shares(totals: np.ndarray) -> np.ndarray:
    """Row-normalise theme totals; a row with no weight gets zero shares."""
    grand = totals.sum(axis=-1, keepdims=True)
    return np.divide(totals, grand, out=np.zeros_like(totals), where=grand > 0)


def _bootstrap_interval(weighted: np.ndarray, config: WeightConfig) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the shares over ``config.n_bootstrap`` resamples of the rows of ``weighted``."""
    n_texts, n_themes = weighted.shape
    if n_texts == 0 or config.n_bootstrap <= 0:
        nan = np.full(n_themes, np.nan)
        return nan, nan.copy()
    rng = np.random.default_rng(config.random_state)
    resampled = []
    for start in range(0, config.n_bootstrap, _BOOTSTRAP_CHUNK):
        size = min(_BOOTSTRAP_CHUNK, config.n_bootstrap - start)
        # Each resample draws n_texts row indices; bincount turns them into counts per text
        # so the resampled totals are one matrix product instead of a Python loop.
        picks = rng.integers(0, n_texts, size=(size, n_texts)) + (np.arange(size) * n_texts)[:, None]
        counts = np.bincount(picks.ravel(), minlength=size * n_texts).reshape(size, n_texts)
        resampled.append(_shares(counts @ weighted))
    shares = np.vstack(resampled)
    tail = (1.0 - config.confidence) / 2.0
    low, high = np.quantile(shares, [tail, 1.0 - tail], axis=0)
    return low, high


def _frequency_table(assignments: pd.DataFrame, themes: list[str], config: WeightConfig) -> pd.DataFrame:
    weights = assignments["weight"].to_numpy(dtype=float)
    weighted = weights[:, None] * membership_matrix(assignments, themes)
    frequency = weighted.sum(axis=0)
    share = _shares(frequency)
    low, high = _bootstrap_interval(weighted, config)
    assigned = assignments["theme"].astype(str).value_counts()
    return pd.DataFrame(
        {
            "theme": themes,
            "n_texts": [int(assigned.get(theme, 0)) for theme in themes],
            "weighted_frequency": frequency,
            "share": share,
            # A percentile interval can miss its estimate by rounding when a group has one
            # or two texts (all resamples alike); widen to include it so tables never show
            # an estimate outside its own interval.
            "ci_low": np.fmin(low, share),
            "ci_high": np.fmax(high, share),
        }
    )


def theme_frequencies(
    assignments: pd.DataFrame,
    theme_ids: Sequence[str],
    config: WeightConfig = WeightConfig(),
    by: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Weighted frequency, share and bootstrap interval of every theme, overall or per ``by`` group.

    ``assignments`` needs ``weight`` (the final text weight, see :func:`text_weights`),
    ``theme`` and ``p_<theme>`` for every theme in ``theme_ids`` and ``andet``. Every
    theme appears, also with no texts, in taxonomy order followed by ``andet``. With
    ``by`` ("workshop", "question", "source_kind" or any column) the table has one block
    per group (groups sorted), each computed and resampled on its own texts only.
    ``labels`` ({theme id: label}) adds a ``label`` column after ``theme``.
    """
    themes = theme_order(theme_ids)
    if by is None:
        table = _frequency_table(assignments, themes, config)
    else:
        blocks = [
            _frequency_table(group, themes, config).assign(**{by: value})
            for value, group in assignments.groupby(by, sort=True, dropna=False)
        ]
        columns = [by, *FREQUENCY_COLUMNS]
        table = pd.concat(blocks, ignore_index=True)[columns] if blocks else pd.DataFrame(columns=columns)
    if labels is not None:
        table.insert(table.columns.get_loc("theme") + 1, "label", table["theme"].map(lambda theme: labels.get(theme, theme)))
    return table


def frequency_tables(
    assignments: pd.DataFrame,
    theme_ids: Sequence[str],
    config: WeightConfig = WeightConfig(),
    labels: Mapping[str, str] | None = None,
) -> dict[str, pd.DataFrame]:
    """The overall table (key ``"total"``) and one per breakdown in :data:`BREAKDOWNS`."""
    tables = {"total": theme_frequencies(assignments, theme_ids, config, labels=labels)}
    for by in BREAKDOWNS:
        tables[by] = theme_frequencies(assignments, theme_ids, config, by=by, labels=labels)
    return tables
