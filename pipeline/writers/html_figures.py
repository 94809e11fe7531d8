"""The plotly figures report.html draws: the theme shares with their intervals, the workshop ×
theme heat map, and BERTopic's word bars given room for long Danish words.

Figures are plotly JSON text; the page embeds each in a JSON block (:mod:`pipeline.writers.html`).
Names in them are HTML-escaped: plotly renders its labels as HTML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from html import escape

import pandas as pd

from pipeline.danish import interval, number, percent
from pipeline.report import in_report_order
from pipeline.schema import ANDET

_BAR_COLOR, _ANDET_COLOR = "#2f6f9f", "#9a9a9a"


def _e(value: object) -> str:
    """A name as plotly's HTML labels need it (nothing for a missing one)."""
    return escape("" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value), quote=True)


def theme_share_figure(total: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """Horizontal bars of theme shares with their intervals, largest on top (plotly JSON)."""
    import plotly.graph_objects as go

    table = in_report_order(total)[::-1]  # plotly draws the first category at the bottom
    share = table["share"].astype(float)
    low = table["ci_low"].astype(float).fillna(share)
    high = table["ci_high"].astype(float).fillna(share)
    names = [_e(labels.get(theme, label)) for theme, label in zip(table["theme"], table.get("label", table["theme"]))]
    hover = [
        f"{name}<br>Andel: {percent(s)}<br>95 %-interval: {interval(lo, hi)}<br>Tekster: {number(n)}"
        for name, s, lo, hi, n in zip(names, share, low, high, table.get("n_texts", pd.Series([None] * len(table))))
    ]
    figure = go.Figure(
        go.Bar(
            x=(share * 100).round(2).tolist(),
            y=names,
            orientation="h",
            marker_color=[_ANDET_COLOR if theme == ANDET else _BAR_COLOR for theme in table["theme"]],
            error_x={
                "type": "data",
                "symmetric": False,
                "array": ((high - share).clip(lower=0) * 100).round(2).tolist(),
                "arrayminus": ((share - low).clip(lower=0) * 100).round(2).tolist(),
                "color": "#333333",
                "thickness": 1.2,
                "width": 4,
            },
            text=[percent(s) for s in share],
            textposition="none",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    # The share is written after each interval's upper end, where it never overlaps the whisker.
    for name, s, hi in zip(names, share, high):
        figure.add_annotation(x=float(hi) * 100, y=name, text=percent(s), showarrow=False, xanchor="left", xshift=6)
    right = float(high.max() if len(high) else 0) * 100 + 8
    figure.update_layout(
        title={"text": "Temaernes andel af input (95 %-interval)", "x": 0, "xanchor": "left"},
        xaxis={"title": "Vægtet andel af input", "ticksuffix": " %", "range": [0, min(100, right)], "gridcolor": "#e6e6e6"},
        yaxis={"automargin": True},
        height=110 + 52 * len(table),
        margin={"l": 10, "r": 20, "t": 50, "b": 50},
        plot_bgcolor="white",
        showlegend=False,
        separators=", ",
    )
    return figure.to_json()


def workshop_heatmap_figure(by_workshop: pd.DataFrame, labels: Mapping[str, str], order: Sequence[str] | None = None) -> str:
    """Workshops × themes, each cell its share (plotly JSON); the themes in ``order`` (the reports'
    :func:`~pipeline.report.theme_order`; None: the taxonomy's)."""
    import plotly.graph_objects as go

    table = by_workshop.pivot(index="workshop", columns="theme", values="share")
    order = labels if order is None else order
    order = [theme for theme in order if theme in table.columns] + [t for t in table.columns if t not in order]
    table = table[order]
    themes = [_e(labels.get(theme, theme)) for theme in table.columns]
    workshops = [_e(workshop) for workshop in table.index]
    values = table.to_numpy(dtype=float)
    figure = go.Figure(
        go.Heatmap(
            z=(values * 100).round(2).tolist(),
            x=themes,
            y=workshops,
            text=[[percent(v) for v in row] for row in values],
            texttemplate="%{text}",
            hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>",
            colorscale="Blues",
            zmin=0,
            colorbar={"ticksuffix": " %", "title": {"text": "Andel"}},
        )
    )
    figure.update_layout(
        title={"text": "Temaernes andel pr. workshop", "x": 0, "xanchor": "left"},
        xaxis={"side": "top", "automargin": True, "tickangle": -25},
        yaxis={"automargin": True, "autorange": "reversed"},
        height=160 + 46 * len(workshops),
        margin={"l": 10, "r": 10, "t": 110, "b": 20},
        separators=", ",
    )
    return figure.to_json()


# The word bars' tick labels (plotly's default 12 px font): pixels per character, wide letters included.
_TICK_CHARACTER_PX = 6.5
_WORD_BAR_MIN_PX = 80  # the narrowest a topic's bars may get


def spaced_word_bars(figure_json: str) -> str:
    """BERTopic's word bars (``visualize_barchart``) with room for their words: each subplot's words
    stand left of its bars, in a gap BERTopic fixes at 10 % of the width, so long Danish words
    ("erhvervsuddannelse") ran into the bars beside them. The gaps are made as wide as the longest
    word (the figure wider if the bars would get too narrow); the topic titles follow their bars."""
    figure = json.loads(figure_json)
    layout = figure.get("layout") or {}
    axes = [key for key in layout if re.fullmatch(r"xaxis\d*", key) and "domain" in layout[key]]
    words = [str(word).strip() for trace in figure.get("data") or [] for word in trace.get("y") or []]
    if not axes or not words:
        return figure_json
    starts = sorted({round(layout[key]["domain"][0], 6) for key in axes})
    old = {start: layout[key]["domain"] for key in axes for start in [round(layout[key]["domain"][0], 6)]}
    columns = len(starts)
    gap_px = (max(map(len, words)) + 2) * _TICK_CHARACTER_PX + 8
    right_px = 20
    width = max(float(layout.get("width") or 1040), gap_px * columns + _WORD_BAR_MIN_PX * columns + right_px)
    plot_px = width - gap_px - right_px  # the first column's words go into the left margin
    gap, column = gap_px / plot_px, (plot_px - (columns - 1) * gap_px) / columns / plot_px
    new = {start: [i * (column + gap), i * (column + gap) + column] for i, start in enumerate(starts)}
    for key in axes:
        layout[key]["domain"] = new[round(layout[key]["domain"][0], 6)]
    centres = {round(sum(old[start]) / 2, 6): sum(new[start]) / 2 for start in starts}
    for annotation in layout.get("annotations") or []:
        if annotation.get("xref") == "paper" and round(float(annotation.get("x", -1)), 6) in centres:
            annotation["x"] = centres[round(float(annotation["x"]), 6)]
    layout["width"] = width
    layout["margin"] = {**(layout.get("margin") or {}), "l": gap_px, "r": right_px}
    figure["layout"] = layout
    return json.dumps(figure)


