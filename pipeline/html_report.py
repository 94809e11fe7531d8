"""``report.html``: one self-contained page per run that opens offline in any browser.

The page holds the theme shares with their 95 % intervals (an interactive bar chart and
a table), per theme its topics, words and quotes (participants' answers and note
excerpts apart), the emerging themes, the workshop × theme heat map for series runs,
BERTopic's own interactive views (made at fit time by :func:`bertopic_figures` and kept
in ``RunResult.figures``, so a saved run re-exports them without BERTopic) and the run
facts from the manifest.

Offline and safe by construction:

* Plotly's JavaScript is embedded once, inline; every chart is a JSON block drawn by one
  small script. Nothing is loaded from a CDN or anywhere else.
* A Content-Security-Policy allows only those two scripts (by their sha256) and no
  network at all (``default-src 'none'``). The answers are typed by the public: every
  text is HTML-escaped, and even a text that slipped through could not run a script or
  fetch anything. A blocked request is recorded on ``<html data-blocked-requests>``
  (the test reads it) instead of passing silently.
* When the charts have drawn, the page marks them: every chart ``data-drawn="true"``
  and ``<body data-charts-drawn="N">``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import io
import json
import logging
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path

import pandas as pd

# pipeline.export imports this module only inside write_run, so this is no import cycle.
from pipeline.danish import count, interval, number, percent
from pipeline.export import (
    RunResult, in_report_order, no_quotes_note, overview_rows, quote_parts, ranked_themes, share_basis, source,
)
from pipeline.schema import ANDET

logger = logging.getLogger(__name__)

# BERTopic's views: figure name -> (Danish heading, what the reader sees in it).
BERTOPIC_VIEWS = {
    "emnekort": (
        "Emnekort",
        "Emnerne placeret efter, hvor ens deres ord er: tætte cirkler ligner hinanden, "
        "cirklens størrelse er emnets antal tekster. Hold musen over en cirkel for dens ord.",
    ),
    "emneord": (
        "Emnernes vigtigste ord",
        "De ord, der bedst kendetegner hvert emne (c-TF-IDF-vægt), for de største emner.",
    ),
    "hierarki": (
        "Emnernes slægtskab",
        "Hvilke emner der ligner hinanden mest og kunne slås sammen (med tematik edit --merge).",
    ),
}
_FIGURE_WORDS = [(re.compile(r"\bTopic\b"), "Emne"), (re.compile(r"\bSize\b"), "Størrelse"), (re.compile(r"\bWords\b"), "Ord")]
_MONTHS = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober", "november", "december"]  # fmt: skip
_DEFAULT_TOPIC_NAME = re.compile(r"^-?\d+_")
_BAR_COLOR, _ANDET_COLOR = "#2f6f9f", "#9a9a9a"
_COUNT_LABELS = {
    "texts": "Tekster",
    "counted_texts": "Tekster, der tæller med",
    "voices": "Stemmer (tekster × antal bag hver)",
    "topics": "Emner",
    "clustered": "Emner fundet",
    "workshops": "Workshops",
}
_STAGE_LABELS = {
    "ingest": "Indlæsning",
    "redaction": "Anonymisering",
    "language": "Sprog og lemmaer",
    "embeddings": "Embeddings",
    "roles": "Passagernes roller",
    "topics": "Emner (BERTopic)",
    "themes": "Temaer",
    "assemble": "Samling",
    "report": "Tabeller og citater",
    "export": "Filer",
}
_BACKEND_LABELS = {"language": "Sprog (spaCy)", "embeddings": "Embeddings"}


# --------------------------------------------------------------------------- formatting


def _e(value: object) -> str:
    """HTML-escaped text of ``value`` (quotes too: it may land in an attribute)."""
    return html.escape("" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value), quote=True)


def danish_time(value: object) -> str:
    """'2026-12-04T05:24:43+00:00' -> '4. december 2026 kl. 05:24 (UTC)'; other text as is."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    zone = f" ({moment.tzname()})" if moment.tzinfo else ""
    return f"{moment.day}. {_MONTHS[moment.month - 1]} {moment.year} kl. {moment:%H:%M}{zone}"


def _words(value: object, limit: int = 10) -> str:
    """Topic words as 'a, b, c' from a comma string or a list, at most ``limit``."""
    if isinstance(value, str):
        words = [word.strip() for word in value.split(",")]
    elif isinstance(value, Iterable):
        words = [str(word[0] if isinstance(word, (tuple, list)) else word).strip() for word in value]
    else:
        return ""
    return ", ".join([word for word in words if word][:limit])


def _topic_title(topic: Mapping) -> str:
    """An analyst's name as is; BERTopic's default '3_robot_data_ai' becomes 'Emne 3'."""
    name = str(topic.get("label") or topic.get("name") or "")
    if not name or _DEFAULT_TOPIC_NAME.match(name):
        return f"Emne {topic.get('topic', '')}".strip()
    return name


def _json_for_script(text: str) -> str:
    """JSON text safe inside ``<script type="application/json">``: no '<' can close the element."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --------------------------------------------------------------------------- figures


def _theme_share_figure(total: pd.DataFrame, labels: Mapping[str, str]) -> str:
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


def _workshop_heatmap_figure(by_workshop: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """Workshops × themes, each cell its share (plotly JSON)."""
    import plotly.graph_objects as go

    table = by_workshop.pivot(index="workshop", columns="theme", values="share")
    order = [theme for theme in labels if theme in table.columns] + [t for t in table.columns if t not in labels]
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


def _danish_figure(value, key: str = "", in_layout: bool = False):
    """BERTopic's English words in a figure dict ('Topic 3', 'Size') in Danish.

    Only texts meant for the reader change: the whole layout (titles, sliders, subplot
    titles) and the traces' hover templates and names, never data such as topic words.
    """
    if isinstance(value, dict):
        return {k: _danish_figure(v, k, in_layout or k == "layout") for k, v in value.items()}
    if isinstance(value, list):
        return [_danish_figure(v, key, in_layout) for v in value]
    if isinstance(value, str) and (in_layout or key in ("hovertemplate", "name", "hovertext")):
        for english, danish in _FIGURE_WORDS:
            value = english.sub(danish, value)
    return value


# The word bars' tick labels (plotly's default 12 px font): pixels per character, wide letters included.
_TICK_CHARACTER_PX = 6.5
_WORD_BAR_MIN_PX = 80  # the narrowest a topic's bars may get


def _spaced_word_bars(figure_json: str) -> str:
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


def _plotly_encoder():
    from plotly.utils import PlotlyJSONEncoder

    return PlotlyJSONEncoder


def bertopic_figures(topic_model, docs: list[str] | None = None) -> dict[str, str]:
    """BERTopic's interactive views of a fitted model as plotly JSON, by name.

    ``emnekort`` (``visualize_topics``), ``emneord`` (``visualize_barchart``) and
    ``hierarki`` (``visualize_hierarchy``; with ``docs``, the documents the model was
    fitted on, its inner nodes get their merged topics' words). A view BERTopic cannot
    draw for this corpus (too few topics for its UMAP or the linkage) is left out and
    logged; this never raises for an unclustered or tiny model.
    """
    if topic_model is None or getattr(topic_model, "topic_representations_", None) is None:
        return {}
    topics = sorted(topic for topic in topic_model.get_topics() if topic != -1)
    if not topics:
        return {}
    custom = getattr(topic_model, "custom_labels_", None) is not None

    def hierarchy():
        merged = None
        if docs is not None and len(docs) == len(topic_model.topics_):
            merged = topic_model.hierarchical_topics(list(docs))
        return topic_model.visualize_hierarchy(
            custom_labels=custom, title="", hierarchical_topics=merged, width=900, height=max(300, 60 + 45 * len(topics))
        )

    views: dict[str, Callable] = {
        "emnekort": lambda: topic_model.visualize_topics(custom_labels=custom, title="", width=650, height=560),
        "emneord": lambda: topic_model.visualize_barchart(
            top_n_topics=min(len(topics), 12), n_words=8, custom_labels=custom, title="", width=260, height=300
        ),
        "hierarki": hierarchy,
    }
    figures: dict[str, str] = {}
    for name, draw in views.items():
        try:
            # UMAP's notices on tiny inputs and the hierarchy's progress bar are noise here.
            with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore")
                figure = draw()
            figure.update_layout(separators=", ")
            figures[name] = json.dumps(_danish_figure(figure.to_plotly_json()), cls=_plotly_encoder())
        except Exception as error:  # noqa: BLE001 - a view that cannot be drawn must not stop the run
            logger.info("BERTopic-visningen '%s' er udeladt: %s: %s", name, type(error).__name__, error)
    return figures


# --------------------------------------------------------------------------- page parts


class _Charts:
    """Collects the page's charts: a ``<div>`` where each goes, a JSON block with its figure."""

    def __init__(self) -> None:
        self.blocks: list[str] = []

    def add(self, figure_json: str, label: str) -> str:
        index = len(self.blocks)
        self.blocks.append(
            f'<script type="application/json" id="figur-{index}">{_json_for_script(figure_json)}</script>'
        )
        return f'<div class="chart" data-figure="figur-{index}" role="img" aria-label="{_e(label)}"></div>'


def _shares_table(result: RunResult) -> str:
    """The overview table (:func:`pipeline.export.overview_rows`), each theme linking to its section."""
    header, rows = overview_rows(result)
    numeric = ' class="num"'
    cells = "".join(f"<th{'' if position == 0 else numeric}>{_e(name)}</th>" for position, name in enumerate(header))
    body = []
    for theme, row in rows:
        label, share, *rest = row
        body.append(
            f'<tr><td><a href="#tema-{_e(theme)}">{_e(label)}</a></td><td class="num"><b>{_e(share)}</b></td>'
            + "".join(f'<td class="num">{_e(value)}</td>' for value in rest) + "</tr>"
        )
    return f'<table class="shares"><thead><tr>{cells}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _quote_list(quotes: pd.DataFrame, with_workshop: bool) -> str:
    items = []
    for quote in quotes.to_dict("records"):
        file = quote.get("source_file")
        title = f' title="{_e(file)}"' if isinstance(file, str) and file else ""
        where = _e(source(quote, with_workshop))
        items.append(f'<li><blockquote>{_e(quote["text"])}</blockquote><div class="source"{title}>{where}</div></li>')
    return f'<ul class="quotes">{"".join(items)}</ul>'


def _quotes_block(quotes: pd.DataFrame, with_workshop: bool, empty: str = "Ingen tekster.") -> str:
    """Participants' answers and note excerpts apart: a note condenses a discussion, an answer is one voice.
    ``empty``: what stands there when there are no quotes."""
    if quotes.empty:
        return f'<p class="empty">{_e(empty)}</p>'
    if "rank" in quotes.columns:
        quotes = quotes.sort_values("rank", kind="stable")
    parts = [f'<div class="quote-group"><h4>{title}</h4>{_quote_list(part, with_workshop)}</div>'
             for title, part in quote_parts(quotes)]  # fmt: skip
    return f'<div class="quote-groups">{"".join(parts)}</div>'


def _topic_list(topics: pd.DataFrame) -> str:
    if topics.empty:
        return ""
    items = []
    for topic in topics.to_dict("records"):
        size = count(int(topic["size"]), "tekst", "tekster") if pd.notna(topic.get("size")) else ""
        mixed = (
            ' <span class="badge" title="Emnets tekster fordeler sig på flere temaer; hver tekst har beholdt sit eget tema.">'
            "blandet</span>"
            if topic.get("mixed") is True
            else ""
        )
        items.append(
            f'<li><span class="topic-name">{_e(_topic_title(topic))}</span>{mixed} <span class="muted">({size})</span>'
            f'<div class="words">{_e(_words(topic.get("words")))}</div></li>'
        )
    return f'<h4>Emner</h4><ul class="topics">{"".join(items)}</ul>'


def _theme_sections(result: RunResult, shares: pd.DataFrame, with_workshop: bool) -> str:
    labels = result.taxonomy_labels
    topics = result.topics
    quotes = result.quotes_by_theme
    themes = ranked_themes(shares.reset_index(), [*labels, *quotes.get("theme", pd.Series(dtype=str))])
    sections = []
    for theme in themes:
        label = labels.get(theme, theme)
        heading = f'<h3 id="tema-{_e(theme)}">{_e(label)}'
        if theme in shares.index:
            row = shares.loc[theme]
            heading += (
                f' <span class="share">{percent(row["share"])}</span>'
                f' <span class="muted">(95 %-interval {interval(row.get("ci_low"), row.get("ci_high"))};'
                f" {number(row.get('n_texts'))} tekster)</span>"
            )
        heading += "</h3>"
        in_theme = (
            topics[(topics["theme"] == theme) & (topics["topic"] != -1)]
            if {"theme", "topic"} <= set(topics.columns)
            else topics.iloc[0:0]
        )
        if "size" in in_theme.columns:
            in_theme = in_theme.sort_values("size", ascending=False, kind="stable")
        theme_quotes = quotes[quotes["theme"] == theme] if "theme" in quotes.columns else quotes.iloc[0:0]
        sections.append(
            f'<section class="theme">{heading}{_topic_list(in_theme)}'
            f'<h4 class="sr">Citater</h4>{_quotes_block(theme_quotes, with_workshop, no_quotes_note(result, theme))}</section>'
        )
    return "".join(sections)


def _emerging_section(emerging: pd.DataFrame | None) -> str:
    intro = (
        "<p>Tekster, der ikke passer til noget tema i taksonomien, samlet i grupper efter indhold. "
        "Her står ofte workshoppens mest interessante nye pointer.</p>"
    )
    if emerging is None or emerging.empty:
        return intro + '<p class="empty">Ingen nye temaer: alle grupper af tekster passede til et tema.</p>'
    cards = []
    for index, theme in enumerate(emerging.to_dict("records"), start=1):
        name = theme.get("name")
        title = _topic_title({"name": name, "topic": theme.get("topic", index)}) if name else f"Nyt tema {index}"
        facts = []
        if pd.notna(theme.get("size")):
            facts.append(f"{number(theme['size'])} tekster")
        if "share" in theme and pd.notna(theme.get("share")):
            facts.append(f"{percent(theme['share'])} af input")
        quotes = theme.get("quotes")
        quotes = list(quotes) if isinstance(quotes, (list, tuple)) else []
        quote_items = "".join(f"<li><blockquote>{_e(text)}</blockquote></li>" for text in quotes)
        cards.append(
            f'<section class="emerging"><h3>{_e(title)} <span class="muted">({", ".join(facts)})</span></h3>'
            f'<div class="words">Ord: {_e(_words(theme.get("words")))}</div>'
            + (f'<ul class="quotes">{quote_items}</ul>' if quote_items else "")
            + "</section>"
        )
    return intro + "".join(cards)


def _definition_list(items: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{_e(term)}</dt><dd>{_e(value)}</dd>" for term, value in items if value not in (None, ""))
    return f"<dl>{rows}</dl>"


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, float):
        return number(value, 0 if value.is_integer() else 2)
    if isinstance(value, int):
        return number(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


def _redaction_fact(redaction: Mapping) -> str:
    """The manifest's redaction facts as a reader asks about them: what was replaced, how often."""
    from pipeline.redact import KIND_LABELS

    if not redaction.get("enabled", True):
        return "nej, slået fra (--behold-persondata)"
    counts = redaction.get("counts") if isinstance(redaction.get("counts"), Mapping) else {}
    found = [f"{KIND_LABELS.get(kind, kind)}: {_plain(n)}" for kind, n in counts.items() if n]
    fact = ", ".join(found) if found else "ingen fundet"
    merged = redaction.get("merged_after_redaction")
    if merged:  # "Ring til [NAVN]" twice is one answer with two voices
        fact += f" ({count(int(merged), 'tekst', 'tekster')} blev ens og er slået sammen)"
    return fact


def _run_facts(manifest: Mapping) -> str:
    """The manifest's facts a reader asks about: inputs, taxonomy, backends, counts, timings, versions."""
    parts = []
    general = [
        ("Kørsel", manifest.get("run_id")),
        ("Oprettet", danish_time(manifest["created"]) if manifest.get("created") else None),
        ("tematik-version", manifest.get("tematik_version")),
    ]
    taxonomy = manifest.get("taxonomy")
    if isinstance(taxonomy, Mapping):
        version = f" (version {taxonomy['version']})" if taxonomy.get("version") else ""
        general.append(("Taksonomi", f"{taxonomy.get('name', '')}{version}"))
    elif taxonomy:
        general.append(("Taksonomi", str(taxonomy)))
    backends = manifest.get("backends") or {}
    general += [(_BACKEND_LABELS.get(key, key), _plain(value)) for key, value in backends.items()]
    parts.append(_definition_list(general))

    counts = [(_COUNT_LABELS.get(k, k), _plain(v)) for k, v in (manifest.get("counts") or {}).items()]
    redaction = manifest.get("redaction") or {}
    if isinstance(redaction, Mapping) and redaction:
        counts.append(("Personoplysninger fjernet", _redaction_fact(redaction)))
    edits = manifest.get("edits") or {}
    if isinstance(edits, Mapping) and any(edits.values()):
        counts.append(("Analytikerens rettelser", _plain({k: v for k, v in edits.items() if v})))
    if counts:
        parts.append("<h3>Antal</h3>" + _definition_list(counts))

    inputs = manifest.get("inputs") or []
    if inputs:
        rows = []
        for item in inputs:
            item = item if isinstance(item, Mapping) else {"path": item}
            digest = str(item.get("sha256", ""))
            code = f'<code title="{_e(digest)}">{_e(digest[:12])}</code>'
            rows.append(f'<tr><td>{_e(item.get("path", ""))}</td><td>{code}</td></tr>')
        parts.append(
            '<h3>Inddata</h3><table class="facts"><thead><tr><th>Fil</th><th>sha256 (start)</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
        )

    timings = manifest.get("timings_seconds") or {}
    if timings:
        rows = "".join(
            f'<tr><td>{_e(_STAGE_LABELS.get(stage, stage))}</td><td class="num">{number(seconds, 1)} s</td></tr>'
            for stage, seconds in timings.items()
            if isinstance(seconds, (int, float))
        )
        parts.append(f'<h3>Tidsforbrug</h3><table class="facts"><tbody>{rows}</tbody></table>')

    versions = manifest.get("versions") or {}
    if versions:
        parts.append(
            "<h3>Programversioner</h3><p class=\"muted\">"
            + _e(", ".join(f"{name} {value}" for name, value in versions.items() if value))
            + "</p>"
        )
    return "".join(parts)


def _summary(result: RunResult, total: pd.DataFrame) -> str:
    counts = result.manifest.get("counts") or {}
    assignments = result.assignments
    n_texts = counts.get("texts", len(assignments))
    voices = counts.get("voices", assignments["voices"].sum() if "voices" in assignments.columns else None)
    n_topics = counts.get("topics")
    if n_topics is None and "topic" in result.topics.columns:
        n_topics = int((result.topics["topic"] >= 0).sum())
    workshops = assignments["workshop"].dropna().unique() if "workshop" in assignments.columns else []
    tiles = [(number(n_texts), "tekster"), (number(voices), "stemmer"), (number(n_topics), "emner")]
    if len(workshops) > 1:
        tiles.append((number(len(workshops)), "workshops"))
    content = total[total["theme"] != ANDET].sort_values("share", ascending=False, kind="stable")
    if len(content):
        top = content.iloc[0]
        tiles.append((percent(top["share"]), f"største tema: {result.taxonomy_labels.get(top['theme'], top['theme'])}"))
    andet = total[total["theme"] == ANDET]
    if len(andet):
        tiles.append((percent(andet.iloc[0]["share"]), "passer til intet tema (andet)"))
    return '<div class="tiles">' + "".join(
        f'<div class="tile"><div class="big">{_e(value)}</div><div>{_e(text)}</div></div>' for value, text in tiles
    ) + "</div>"


# --------------------------------------------------------------------------- the page

_CSS = """
:root{--ink:#1d2733;--muted:#5b6672;--line:#dfe3e8;--accent:#2f6f9f;--soft:#f4f7fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
header{background:var(--accent);color:#fff;padding:28px 0 22px}
header h1{margin:0 0 4px;font-size:26px}header p{margin:0;opacity:.9}
.wrap{max-width:1120px;margin:0 auto;padding:0 28px}
nav{border-bottom:1px solid var(--line);background:var(--soft);position:sticky;top:0;z-index:10}
nav a{display:inline-block;padding:9px 12px 9px 0;margin-right:10px;color:var(--accent);text-decoration:none;font-weight:600}
h2{font-size:21px;margin:38px 0 10px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:17px;margin:26px 0 6px}h4{font-size:13px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin:14px 0 6px}
.sr{position:absolute;left:-9999px}
.muted{color:var(--muted);font-weight:normal}.share{color:var(--accent)}
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:20px 0 4px}
.tile{flex:1 1 150px;background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:10px 14px}
.tile .big{font-size:24px;font-weight:700;color:var(--accent)}
table{border-collapse:collapse;width:100%;margin:8px 0 16px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:13px;color:var(--muted)}.num{text-align:right;white-space:nowrap}
table.shares a{color:var(--ink)}
.chart{width:100%;min-height:200px;overflow-x:auto}
.figure-note{color:var(--muted);margin:2px 0 6px}
section.theme,section.emerging{border-top:1px solid var(--line);padding-top:4px}
ul.topics{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:8px}
ul.topics li{background:var(--soft);border-radius:5px;padding:6px 10px}
.topic-name{font-weight:600}.words{color:var(--muted);font-size:14px}
.badge{font-size:11px;background:#e9e1c8;color:#5a4a12;border-radius:3px;padding:1px 5px;cursor:help}
.quote-groups{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:4px 28px}
ul.quotes{list-style:none;padding:0;margin:0}
ul.quotes li{margin:0 0 12px}
blockquote{margin:0;padding:2px 0 2px 12px;border-left:3px solid var(--accent);white-space:pre-line}
.source{font-size:13px;color:var(--muted);padding-left:15px}
.empty{color:var(--muted);font-style:italic}
dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:8px 0}dt{color:var(--muted)}dd{margin:0;word-break:break-word}
table.facts{width:auto;min-width:50%}code{font-size:13px}
footer{margin:40px 0 30px;color:var(--muted);font-size:13px}
@media print{nav{display:none}.chart{break-inside:avoid}}
"""

# Plotly's own texts (mode bar, number and date formats) in Danish.
_DANISH_LOCALE = {
    "moduleType": "locale",
    "name": "da",
    "dictionary": {
        "Autoscale": "Autoskalér",
        "Box Select": "Vælg rektangel",
        "Click to enter Colorscale title": "Klik for at indsætte titel til farveskala",
        "Double-click to zoom back out": "Dobbeltklik for at zoome ud igen",
        "Download plot as a PNG": "Hent figuren som PNG",
        "Download plot as a png": "Hent figuren som PNG",
        "Download plot": "Hent figuren",
        "Download plot as JSON": "Hent figuren som JSON",
        "Preparing image - this may take a few seconds": "Gør billedet klar – det kan tage et par sekunder",
        "Image download succeeded": "Billedet er hentet",
        "JSON download succeeded": "JSON-filen er hentet",
        "Sorry, there was a problem downloading your image!": "Billedet kunne ikke hentes",
        "Sorry, there was a problem downloading your JSON file!": "JSON-filen kunne ikke hentes",
        "Double-click on legend to isolate one trace": "Dobbeltklik på en forklaring for kun at vise den",
        "Lasso Select": "Vælg med lasso",
        "Pan": "Panorér",
        "Reset axes": "Nulstil akser",
        "Reset view": "Nulstil visning",
        "Show closest data on hover": "Vis nærmeste data ved hover",
        "Compare data on hover": "Sammenlign data ved hover",
        "Toggle show closest data on hover": "Vis nærmeste data ved hover til/fra",
        "Reset": "Nulstil",
        "Reset views": "Nulstil visninger",
        "Toggle Spike Lines": "Slå sigtelinjer til/fra",
        "Zoom": "Zoom",
        "Zoom in": "Zoom ind",
        "Zoom out": "Zoom ud",
        "Produced with Plotly.js": "Lavet med Plotly.js",
    },
    "format": {
        "days": ["søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"],
        "shortDays": ["søn", "man", "tir", "ons", "tor", "fre", "lør"],
        "months": [m for m in _MONTHS],
        "shortMonths": ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
        "date": "%d-%m-%Y",
        "decimal": ",",
        "thousands": ".",
    },
}

# Draws every chart from its JSON block and marks it when drawn (the test reads the marks).
# No "Share chart..." button: it would send the chart, the workshop's words included, to Plotly's cloud.
_DRAW_SCRIPT = """
(function () {
  Plotly.register(%s);
  var charts = document.querySelectorAll("[data-figure]");
  var drawing = [];
  charts.forEach(function (chart) {
    var figure = JSON.parse(document.getElementById(chart.getAttribute("data-figure")).textContent);
    var layout = figure.layout || {};
    if (!layout.separators) { layout.separators = ", "; }
    drawing.push(
      Plotly.newPlot(chart, figure.data || [], layout, {responsive: true, displaylogo: false, showSendToCloud: false, locale: "da"})
        .then(function () { chart.setAttribute("data-drawn", "true"); return 1; },
              function (error) { chart.setAttribute("data-drawn", "fejl: " + error); return 0; })
    );
  });
  Promise.all(drawing).then(function (done) {
    document.body.setAttribute("data-charts-drawn", String(done.reduce(function (a, b) { return a + b; }, 0)));
  });
})();
"""

# First script of the page: records what the Content-Security-Policy blocked.
_GUARD_SCRIPT = """
document.addEventListener("securitypolicyviolation", function (event) {
  var root = document.documentElement;
  var blocked = JSON.parse(root.getAttribute("data-blocked-requests") || "[]");
  blocked.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
  root.setAttribute("data-blocked-requests", JSON.stringify(blocked));
});
"""


def _script_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def render_html_report(result: RunResult, plotly_js: str | None = None) -> str:
    """The page as a string (see :func:`write_html_report`); ``plotly_js`` defaults to the installed plotly's."""
    if plotly_js is None:
        from plotly.offline import get_plotlyjs

        plotly_js = get_plotlyjs()
    labels = result.taxonomy_labels
    manifest = result.manifest or {}
    total = result.frequencies["total"]
    shares = total.set_index("theme")
    charts = _Charts()
    assignments = result.assignments
    workshops = list(assignments["workshop"].dropna().unique()) if "workshop" in assignments.columns else []
    title_name = ", ".join(map(str, workshops[:3])) + (" m.fl." if len(workshops) > 3 else "")

    body = [f'<section id="andele"><h2>Temaernes andel</h2>{_summary(result, total)}']
    body.append(charts.add(_theme_share_figure(total, labels), "Søjlediagram over temaernes andel med 95 %-intervaller"))
    body.append(f'<p class="figure-note">{_e(share_basis(result))}</p>')
    body.append(_shares_table(result))
    by_workshop = result.frequencies.get("workshop")
    if by_workshop is not None and "workshop" in by_workshop.columns and by_workshop["workshop"].nunique() > 1:
        body.append("<h3>Pr. workshop</h3>")
        body.append(charts.add(_workshop_heatmap_figure(by_workshop, labels), "Varmekort: temaernes andel pr. workshop"))
    body.append("</section>")

    body.append(
        '<section id="temaer"><h2>Temaerne: emner, ord og citater</h2>'
        '<p class="muted">Pr. tema de emner (BERTopic-klynger), der er placeret i det, med deres vigtigste ord, '
        "og de mest centrale og indbyrdes forskellige udsagn i deltagernes egne ord.</p>"
        f"{_theme_sections(result, shares, len(workshops) > 1)}</section>"
    )
    body.append(f'<section id="nye"><h2>Nye temaer</h2>{_emerging_section(result.emerging)}</section>')

    figures = getattr(result, "figures", None) or {}
    if figures:
        views = ['<section id="emner"><h2>Emnemodellens egne visninger</h2>'
                 '<p class="muted">BERTopics interaktive figurer: zoom, hold musen over et punkt, '
                 "dobbeltklik for at nulstille.</p>"]  # fmt: skip
        for name, figure_json in figures.items():
            heading, note = BERTOPIC_VIEWS.get(name, (name, ""))
            views.append(f"<h3>{_e(heading)}</h3>" + (f'<p class="figure-note">{_e(note)}</p>' if note else ""))
            views.append(charts.add(_spaced_word_bars(figure_json) if name == "emneord" else figure_json, heading))
        body.append("".join(views) + "</section>")
    body.append(f'<section id="koersel"><h2>Om kørslen</h2>{_run_facts(manifest)}</section>')

    nav = [("andele", "Andele"), ("temaer", "Temaer"), ("nye", "Nye temaer")]
    nav += [("emner", "Emnemodel")] if figures else []
    nav += [("koersel", "Om kørslen")]
    draw_script = _DRAW_SCRIPT % json.dumps(_DANISH_LOCALE, ensure_ascii=False)
    policy = (
        "default-src 'none'; "
        f"script-src {_script_hash(_GUARD_SCRIPT)} {_script_hash(plotly_js)} {_script_hash(draw_script)}; "
        "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
    )
    created = danish_time(manifest["created"]) if manifest.get("created") else ""
    taxonomy = manifest.get("taxonomy")
    taxonomy_name = taxonomy.get("name", "") if isinstance(taxonomy, Mapping) else ""
    subtitle = " · ".join(_e(part) for part in (title_name, taxonomy_name, created) if part)
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="da"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Temarapport – {_e(title_name or manifest.get('run_id', ''))}</title>",
            f"<script>{_GUARD_SCRIPT}</script><style>{_CSS}</style></head><body>",
            f'<header><div class="wrap"><h1>Temarapport</h1><p>{subtitle}</p></div></header>',
            '<nav><div class="wrap">' + "".join(f'<a href="#{a}">{t}</a>' for a, t in nav) + "</div></nav>",
            f'<main class="wrap">{"".join(body)}</main>',
            f'<footer class="wrap">Lavet af tematik · kørsel {_e(manifest.get("run_id", ""))}. '
            "Siden virker uden internet; alt indhold ligger i denne ene fil.</footer>",
            *charts.blocks,
            f"<script>{plotly_js}</script>",
            f"<script>{draw_script}</script>",
            "</body></html>\n",
        ]
    )


def write_html_report(result: RunResult, path: Path) -> None:
    """Write ``report.html`` for ``result`` to ``path``: one self-contained page that opens offline."""
    Path(path).write_text(render_html_report(result), encoding="utf-8")
