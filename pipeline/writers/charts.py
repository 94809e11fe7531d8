"""The PNG charts (matplotlib): theme_shares.png, the theme shares with their 95 % intervals,
and for a series of workshops workshop_themes.png, the workshop × theme heat map.

The page's interactive charts are plotly figures drawn by the HTML writer
(:mod:`pipeline.writers.html`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.danish import percent
from pipeline.report import RunResult, in_report_order, theme_order
from pipeline.schema import ANDET
from pipeline.writers.tables import workshop_theme_table

# matplotlib is imported inside the functions that use it: it is slow to import, and
# `tematik --help` must not pay for it.


def write_theme_chart(total: pd.DataFrame, labels: Mapping[str, str], path: Path) -> None:
    """Horizontal bars of theme shares, largest on top, with their bootstrap intervals."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    table = in_report_order(total)[::-1]  # the first bar is drawn at the bottom
    names = [wrap_label(labels.get(theme, theme), 34) for theme in table["theme"]]
    share = table["share"].to_numpy(dtype=float)
    errors = np.nan_to_num(np.clip([share - table["ci_low"], table["ci_high"] - share], 0, None))
    figure = Figure(figsize=(7.5, 0.6 * len(table) + 1.4), dpi=200, layout="constrained")
    axes = figure.add_subplot()
    colors = ["#9a9a9a" if theme == ANDET else "#2f6f9f" for theme in table["theme"]]
    axes.barh(names, share, xerr=errors, color=colors, error_kw={"ecolor": "#333333", "capsize": 3, "linewidth": 1})
    for y, (value, high) in enumerate(zip(share, share + errors[1])):
        axes.text(high + 0.01, y, percent(value), va="center", fontsize=9)
    axes.set_xlim(0, min(1.0, float((share + errors[1]).max(initial=0)) + 0.12))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x * 100:.0f} %"))
    axes.set_xlabel("Vægtet andel af input")
    axes.set_title("Temaernes andel af input (95 %-interval)", fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(axis="y", labelsize=9)
    figure.savefig(path)


def write_workshop_chart(
    by_workshop: pd.DataFrame, labels: Mapping[str, str], path: Path, order: Sequence[str] | None = None
) -> None:
    """Heat map of theme shares per workshop, each cell labelled with its share; themes in ``order``."""
    workshop_chart(by_workshop, labels, order).savefig(path)


def wrap_label(label: str, width: int) -> str:
    """A label on lines of about ``width`` characters, split between words or after a hyphen, never
    inside a word ("Internationalisering" stays whole: a word cut without a hyphen reads as two)."""
    return "\n".join(textwrap.wrap(label, width, break_long_words=False)) or label


def workshop_chart(by_workshop: pd.DataFrame, labels: Mapping[str, str], order: Sequence[str] | None = None):
    """The heat map of :func:`write_workshop_chart` as a matplotlib figure (themes in ``order``, the reports'
    :func:`~pipeline.report.theme_order`; None: the taxonomy's)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    table = workshop_theme_table(by_workshop, labels, order=order)
    figure = Figure(figsize=(1.2 * table.shape[1] + 3, 0.55 * table.shape[0] + 2.4), dpi=200, layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(table.to_numpy(dtype=float), cmap="Blues", vmin=0, aspect="auto")
    axes.set_xticks(range(table.shape[1]), [wrap_label(name, 16) for name in table.columns], fontsize=8)
    axes.set_yticks(range(table.shape[0]), table.index, fontsize=9)
    high = float(np.nanmax(table.to_numpy(dtype=float), initial=0))
    for (row, column), value in np.ndenumerate(table.to_numpy(dtype=float)):
        axes.text(column, row, percent(value), ha="center", va="center", fontsize=8,
                  color="white" if value > 0.6 * high else "black")  # fmt: skip
    axes.set_title("Temaernes andel pr. workshop", fontsize=11)
    figure.colorbar(image, ax=axes, format=FuncFormatter(lambda x, _: f"{x * 100:.0f} %"), shrink=0.8)
    return figure




def write_charts(result: RunResult, folder: Path) -> None:
    """theme_shares.png and, with several workshops, workshop_themes.png."""
    write_theme_chart(result.frequencies["total"], result.taxonomy_labels, folder / "theme_shares.png")
    by_workshop = result.frequencies.get("workshop")
    if by_workshop is not None and by_workshop["workshop"].nunique() > 1:
        write_workshop_chart(by_workshop, result.taxonomy_labels, folder / "workshop_themes.png", theme_order(result))
