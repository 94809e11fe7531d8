"""Weighted theme frequencies with bootstrap intervals.

Weight of a text
----------------
::

    u_i = v_i × k(kind_i) × c_i                                  (voices × kind weight × content)
    w_i = T_U × s_g / Σ_{h ∈ G_U} s_h × u_i / U_{U,g}              (source balance, g = group of i)

``v_i`` is the schema's ``weight`` column: how many voices the row stands for (identical
answers merged, upvotes). ``k`` is ``WeightConfig.source_kind_weights`` (default: every
kind 1), the relative weight of a kind *within* its source group. ``c_i`` is 1 for
content and 0 for a note passage whose ``role`` (:mod:`pipeline.ingest.roles`) is not
content — about the workshop itself, a list lead-in, a summary that restates later
sections: such rows keep their place in the assignments with weight 0, so they are
neither counted nor quoted (no ``role`` column: everything is content).

Source balance: every source kind belongs to a source group
(``WeightConfig.source_groups``; default ``deltagere`` = Mentimeter and table answers,
``notat`` = the note) and every group has a relative share ``s_g``
(``WeightConfig.source_shares``; default 1 : 1). Within a *unit* ``U`` — the whole run,
or each workshop with ``normalise_workshops`` — ``G_U`` are the groups with weight in
``U``, ``U_{U,g} = Σ_{i ∈ U, g} u_i`` a group's total and ``T_U`` the unit's target
total: ``Σ_{i ∈ U} u_i`` (the run's voices, so the scale stays "voices"), or with
``normalise_workshops`` the mean of the workshops' totals, so every workshop weighs the
same. So group ``g`` carries exactly ``s_g / Σ_{h ∈ G_U} s_h`` of the unit's weight,
whatever its number of texts: 154 Mentimeter answers and 100 note passages count half
each; a run with no note gives the answers 100 %. Within a group, texts weigh by their
voices (× kind weight). With ``source_shares: null`` there is no balancing:
``w_i = u_i`` (then, with ``normalise_workshops``, ``w_i ← w_i × mean_W(T_W) / T_{W(i)}``).

Theme frequency and share
-------------------------
::

    m_it    = the row of text i counted by the share estimator (WeightConfig.estimator)
    F_t     = Σ_i w_i × m_it                (weighted_frequency)
    share_t = F_t / Σ_s F_s                 (sums to 1 within the table or group)

A share estimates the weighted fraction of the inputs whose main point is theme ``t``
(a prevalence, :mod:`pipeline.prevalence`). With the default estimator,
``classify_and_count``, ``m_it`` is 1 for the theme (or ``andet``) the text was decided
to have and 0 elsewhere: the mean of the soft memberships ``p_it`` (``probabilistic``,
tematik's first formula) inflates every theme, because a text that fits no theme still
gives part of its weight to themes (measured: ``benchmarks/quality.py``). The soft
memberships stay in the assignments for mixed texts. ``n_texts`` counts the content
texts whose decided theme is ``t``, unweighted. The tables by source kind show each kind
alone (shares within its own texts); the overall table also gives each source group's
own shares (``share_<group>``: the participants' and the note's), so a reader sees where
the consultants' summary and the answers differ.

With a validation sample (:class:`pipeline.prevalence.MappingCorrection`) the shares
are corrected by the measured confusion: the checked texts count to the analyst's
theme, and each unchecked text decided ``i`` counts ``P[i, j]`` to ``j``, with ``P[i, j]``
the (smoothed) fraction of the checked texts decided ``i`` that the analyst put in ``j``.
The correction applies to the decided themes, whatever ``estimator`` is set.

Interval: 95 % (``confidence``) bootstrap percentile interval of ``share_t``. The
texts of the table or group are resampled with replacement ``n_bootstrap`` times
(seeded by ``random_state``, so reruns give the same numbers), *within each stratum*
(source group × workshop unit, the cells whose total weight the formula fixes); each
resampled stratum is rescaled to its fixed total, as the formula would do on the
resample, and ``share_t`` is recomputed. Cost is linear in the number of texts. Without
a validation sample it reflects how much the shares depend on which texts happened to
be written, not how well the texts were mapped to themes; with one, each resample also
draws a plausible confusion matrix (:meth:`~pipeline.prevalence.MappingCorrection.draws`),
so the interval covers the mapping's uncertainty too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.config import WeightConfig
from pipeline.ingest.roles import CONTENT_ROLE
from pipeline.prevalence import MappingCorrection, membership
from pipeline.schema import ANDET

BREAKDOWNS: tuple[str, ...] = ("workshop", "question", "source_kind")
FREQUENCY_COLUMNS: list[str] = ["theme", "n_texts", "weighted_frequency", "share", "ci_low", "ci_high"]
# Integers drawn at once per resampling step: bounds memory (~16 MB) whatever the corpus size.
_BOOTSTRAP_CELLS = 2_000_000


def is_content(frame: pd.DataFrame) -> pd.Series:
    """True for rows whose ``role`` is content (all rows when there is no ``role`` column)."""
    if "role" not in frame.columns:
        return pd.Series(True, index=frame.index)
    return frame["role"].fillna(CONTENT_ROLE).astype(str).eq(CONTENT_ROLE)


def source_groups(frame: pd.DataFrame, config: WeightConfig = WeightConfig()) -> pd.Series:
    """Source group of each row (``WeightConfig.source_groups``); an unmapped kind is an error."""
    groups = frame["source_kind"].map(config.source_groups)
    if groups.isna().any():
        kinds = sorted(frame.loc[groups.isna(), "source_kind"].astype(str).unique())
        raise ValueError(f"source kind(s) without a source group in WeightConfig.source_groups: {', '.join(kinds)}")
    return groups.astype(str)


def _units(frame: pd.DataFrame, config: WeightConfig) -> pd.Series:
    """The unit each row is balanced within: its workshop when normalising, else one unit."""
    if config.normalise_workshops:
        return frame["workshop"].astype(str)
    return pd.Series("", index=frame.index)


def text_weights(frame: pd.DataFrame, config: WeightConfig = WeightConfig()) -> pd.Series:
    """Final weight of each text (see the module docstring), aligned with ``frame``'s index."""
    kind_weight = frame["source_kind"].map(lambda kind: config.source_kind_weights.get(kind, 1.0)).astype(float)
    raw = frame["weight"].astype(float) * kind_weight * is_content(frame).astype(float)
    if not len(frame):
        return raw.rename("weight")
    units = _units(frame, config)
    unit_totals = raw.groupby(units).transform("sum")
    target = raw.groupby(units).sum().mean() if config.normalise_workshops else unit_totals
    if config.source_shares is None:
        weights = raw * (target / unit_totals.where(unit_totals > 0)).fillna(0.0)
        return weights.rename("weight")
    groups = source_groups(frame, config)
    group_totals = raw.groupby([units, groups]).transform("sum")
    share = groups.map(config.source_shares).astype(float)
    # Σ s_h over the groups that have weight in the unit: an absent group leaves the others 100 %.
    cells = pd.DataFrame({"unit": units, "group": groups, "share": share * (group_totals > 0)})
    present_share = units.map(cells.drop_duplicates(["unit", "group"]).groupby("unit")["share"].sum())
    fraction = (share / present_share.where(present_share > 0)).fillna(0.0)
    weights = target * fraction * (raw / group_totals.where(group_totals > 0)).fillna(0.0)
    return weights.rename("weight")


def weight_strata(frame: pd.DataFrame, config: WeightConfig = WeightConfig()) -> np.ndarray:
    """Integer code of each row's bootstrap stratum: the (unit, source group) cells whose totals the weights fix."""
    parts = [_units(frame, config)]
    if config.source_shares is not None:
        parts.append(source_groups(frame, config))
    keys = pd.MultiIndex.from_arrays([part.to_numpy() for part in parts])
    return pd.factorize(keys, sort=True)[0].astype(int)


def with_text_weights(frame: pd.DataFrame, config: WeightConfig = WeightConfig()) -> pd.DataFrame:
    """Copy of ``frame`` whose ``weight`` is the final text weight; the input weight is kept as ``voices``."""
    weighted = frame.copy()
    weighted["voices"] = frame["weight"].astype(float)
    weighted["weight"] = text_weights(frame, config)
    return weighted


def theme_order(theme_ids: Sequence[str]) -> list[str]:
    """Taxonomy themes in their order, then ``andet``."""
    return [theme for theme in theme_ids if theme != ANDET] + [ANDET]


def _shares(totals: np.ndarray) -> np.ndarray:
    """Row-normalise theme totals; a row with no weight gets zero shares."""
    grand = totals.sum(axis=-1, keepdims=True)
    return np.divide(totals, grand, out=np.zeros_like(totals), where=grand > 0)


def _bootstrap_totals(weighted: np.ndarray, strata: np.ndarray, config: WeightConfig) -> np.ndarray:
    """``(n_bootstrap, n columns)`` column totals over stratified resamples of the rows of ``weighted``."""
    n_texts, n_columns = weighted.shape
    rng = np.random.default_rng(config.random_state)
    totals = np.zeros((config.n_bootstrap, n_columns))
    for stratum in np.unique(strata):
        rows = weighted[strata == stratum]
        n_rows, mass = len(rows), rows.sum()
        step = max(1, min(config.n_bootstrap, _BOOTSTRAP_CELLS // n_rows))
        counts = np.empty((step, n_rows), dtype=np.intp)
        for start in range(0, config.n_bootstrap, step):
            size = min(step, config.n_bootstrap - start)
            # Each resample draws n_rows row indices; bincount turns them into counts per row
            # so the resampled totals are one matrix product instead of a Python loop. One
            # bincount per resample into a reused block: a block-wide bincount allocated (and
            # page-faulted) a fresh 16 MB each time, 1.5x slower at 100,000 texts.
            picks = rng.integers(0, n_rows, size=(size, n_rows), dtype=np.int32)
            for resample in range(size):
                counts[resample] = np.bincount(picks[resample], minlength=n_rows)
            resampled = (rows.T @ counts[:size].T).T  # this orientation is ~3x faster than counts @ rows
            # The formula fixes each stratum's total: rescale the resample to it.
            drawn = resampled.sum(axis=1, keepdims=True)
            totals[start : start + size] += np.divide(resampled * mass, drawn, out=np.zeros_like(resampled), where=drawn > 0)
    return totals


def _counted(
    assignments: pd.DataFrame, themes: list[str], config: WeightConfig, correction: MappingCorrection | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Weighted rows the estimate sums: ``(unchecked, checked)``.

    Without a correction every row is in the first part and the second is ``None``. With
    one, the checked texts' rows move to the second part as their correct class, and
    the estimate is ``unchecked totals @ P + checked totals`` (:func:`_corrected`).
    """
    weights = assignments["weight"].to_numpy(dtype=float)
    if correction is None:
        return weights[:, None] * membership(assignments, themes, config.estimator), None
    if tuple(correction.classes) != tuple(themes):
        raise ValueError(f"the correction's classes {correction.classes} are not the table's {tuple(themes)}")
    # The stratified estimator corrects the decided themes (P is measured per decided theme).
    rows = weights[:, None] * membership(assignments, themes, "classify_and_count")
    checked, correct = correction.checked_rows(assignments["text_id"].astype(str).tolist())
    return rows * ~checked[:, None], weights[:, None] * correct


def _corrected(unchecked: np.ndarray, checked: np.ndarray | None, matrix: np.ndarray | None) -> np.ndarray:
    """Estimated totals from the two parts' totals (last axis: classes; ``matrix`` may be one per row)."""
    if checked is None:
        return unchecked
    if matrix.ndim == 3:
        return np.einsum("bi,bij->bj", unchecked, matrix) + checked
    return unchecked @ matrix + checked


def _interval(
    unchecked: np.ndarray, checked: np.ndarray | None, strata: np.ndarray, config: WeightConfig,
    correction: MappingCorrection | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the (corrected) shares: texts resampled, and with a correction its matrix drawn too."""
    n_texts, n_themes = unchecked.shape
    if n_texts == 0 or config.n_bootstrap <= 0:
        nan = np.full(n_themes, np.nan)
        return nan, nan.copy()
    both = unchecked if checked is None else np.hstack([unchecked, checked])
    totals = _bootstrap_totals(both, strata, config)
    if correction is not None:
        draws = correction.draws(config.n_bootstrap, config.random_state)
        totals = _corrected(totals[:, :n_themes], totals[:, n_themes:], draws)
    tail = (1.0 - config.confidence) / 2.0
    low, high = np.quantile(_shares(totals), [tail, 1.0 - tail], axis=0)
    return low, high


def _frequency_table(
    assignments: pd.DataFrame, strata: np.ndarray, themes: list[str], config: WeightConfig,
    correction: MappingCorrection | None = None,
) -> pd.DataFrame:
    unchecked, checked = _counted(assignments, themes, config, correction)
    matrix = correction.matrix() if correction is not None else None
    frequency = _corrected(unchecked.sum(axis=0), None if checked is None else checked.sum(axis=0), matrix)
    share = _shares(frequency)
    counted = assignments["weight"].to_numpy(dtype=float) > 0  # rows of weight 0 (not content, or a group with share 0) are not texts of the estimate
    low, high = _interval(unchecked[counted], None if checked is None else checked[counted], strata[counted], config,
                          correction)  # fmt: skip
    assigned = assignments.loc[is_content(assignments), "theme"].astype(str).value_counts()
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
    correction: MappingCorrection | None = None,
) -> pd.DataFrame:
    """Weighted frequency, share and bootstrap interval of every theme, overall or per ``by`` group.

    ``assignments`` needs ``weight`` (the final text weight, see :func:`text_weights`),
    ``theme``, ``source_kind``, ``workshop`` and, for the soft estimators, ``p_<theme>``
    for every theme in ``theme_ids`` and ``andet`` (``role`` optional). Every theme
    appears, also with no texts, in taxonomy order followed by ``andet``. With ``by``
    ("workshop", "question", "source_kind" or any column) the table has one block per
    group with weight (groups sorted), each computed and resampled on its own texts
    only; a group whose texts all weigh 0 is left out. ``labels`` ({theme id: label})
    adds a ``label`` column after ``theme``. ``correction``: a validation sample's
    measured confusion, applied to every table.
    """
    themes = theme_order(theme_ids)
    strata = weight_strata(assignments, config) if len(assignments) else np.zeros(0, dtype=int)
    if by is None:
        table = _frequency_table(assignments, strata, themes, config, correction)
    else:
        grouped = assignments.groupby(by, sort=True, dropna=False)
        codes = grouped.ngroup().to_numpy()  # numbered in the order the groups are iterated
        # A group with no weight (a note heading over passages that are not content) has nothing to share out.
        blocks = [
            _frequency_table(group, strata[codes == code], themes, config, correction).assign(**{by: value})
            for code, (value, group) in enumerate(grouped)
            if (group["weight"] > 0).any()
        ]
        columns = [by, *FREQUENCY_COLUMNS]
        table = pd.concat(blocks, ignore_index=True)[columns] if blocks else pd.DataFrame(columns=columns)
    return _labelled(table, labels)


def source_group_shares(
    assignments: pd.DataFrame,
    theme_ids: Sequence[str],
    config: WeightConfig = WeightConfig(),
    correction: MappingCorrection | None = None,
) -> pd.DataFrame:
    """Each source group's own shares (``share_<group>`` columns, one row per theme), for groups with weight.

    The participants' answers and the note side by side: where the consultants' summary
    and the answers differ. Estimated as the headline is (same estimator and correction).
    """
    themes = theme_order(theme_ids)
    columns: dict[str, np.ndarray] = {}
    if len(assignments):
        groups = source_groups(assignments, config)
        with_weight = set(groups[assignments["weight"] > 0])
        point = config.model_copy(update={"n_bootstrap": 0})  # the shares only: no interval is shown for them
        for group, rows in assignments.groupby(groups, sort=True):
            if group in with_weight:
                table = _frequency_table(rows, np.zeros(len(rows), dtype=int), themes, point, correction)
                columns[f"share_{group}"] = table["share"].to_numpy()
    return pd.DataFrame({"theme": themes, **columns})


def _labelled(table: pd.DataFrame, labels: Mapping[str, str] | None) -> pd.DataFrame:
    if labels is not None:
        table = table.copy()
        table.insert(table.columns.get_loc("theme") + 1, "label", table["theme"].map(lambda theme: labels.get(theme, theme)))
    return table


def frequency_tables(
    assignments: pd.DataFrame,
    theme_ids: Sequence[str],
    config: WeightConfig = WeightConfig(),
    labels: Mapping[str, str] | None = None,
    correction: MappingCorrection | None = None,
) -> dict[str, pd.DataFrame]:
    """The overall table (key ``"total"``) and one per breakdown in :data:`BREAKDOWNS`.

    With two source groups or more (answers and a note), the overall table also has each
    group's own shares (:func:`source_group_shares`) after the interval.
    """
    total = theme_frequencies(assignments, theme_ids, config, correction=correction)
    tables = {"total": _labelled(total, labels)}
    voices = source_group_shares(assignments, theme_ids, config, correction)
    if voices.shape[1] > 2:  # "theme" and two groups or more
        tables["total"] = tables["total"].merge(voices, on="theme", how="left")
    for by in BREAKDOWNS:
        values = assignments[by].unique()
        if len(values) == 1:  # one group is the whole table: same rows, same seed, same numbers
            tables[by] = _labelled(total.assign(**{by: values[0]})[[by, *FREQUENCY_COLUMNS]], labels)
        else:
            tables[by] = theme_frequencies(assignments, theme_ids, config, by=by, labels=labels, correction=correction)
    return tables
