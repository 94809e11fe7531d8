"""``report.html``: one self-contained page per run that opens offline in any browser.

The page holds the theme shares with their 95 % intervals (an interactive bar chart and
a table), per theme its topics, words and quotes (participants' answers and note
excerpts apart), the emerging themes, the workshop × theme heat map for series runs,
BERTopic's own interactive views (made at fit time by
:func:`pipeline.topic_figures.bertopic_figures` and kept in ``RunResult.figures``, so a
saved run re-exports them without BERTopic) and the run facts from the manifest.

This module turns a :class:`~pipeline.report.RunResult` into the page's plain values;
the markup is the jinja2 template ``templates/report.html`` (autoescape on: every text is
escaped where it lands, ``tojson`` for the data given to JavaScript), the style sheet and
the scripts are the package files ``templates/report.css``, ``guard.js`` and ``draw.js``.

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
import hashlib
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from pipeline.danish import count, interval, number, percent
from pipeline.report import (
    RunResult, emerging_quotes, joined_words, no_quotes_note, overview_rows, quote_parts, quoted_rows, ranked_themes,
    share_basis, source, theme_order,
)
from pipeline.schema import ANDET
from pipeline.writers.html_figures import spaced_word_bars, theme_share_figure, workshop_heatmap_figure

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
# A topic's or theme's words shown on its card (the tables have them all).
_SHOWN_WORDS = 10
_MONTHS = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober", "november", "december"]  # fmt: skip
_DEFAULT_TOPIC_NAME = re.compile(r"^-?\d+_")
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


# --------------------------------------------------------------------------- the templates


def _escaped(value: object) -> object:
    """What ``{{ value }}`` shows: nothing for None or NaN; text escaped by :func:`html.escape`
    (``&quot;``, ``&#x27;``: the entities the page has always had, where markupsafe would write
    ``&#34;``, ``&#39;``); markup (a rendered macro, ``tojson``) as it is."""
    if hasattr(value, "__html__"):
        return value
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return Markup(html.escape(str(value), quote=True))


def _json_block(text: str) -> Markup:
    """JSON text (a plotly figure as plotly wrote it) safe inside ``<script type="application/json">``:
    no '<' can close the element. For Python data the template uses ``tojson``."""
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@cache
def _templates() -> jinja2.Environment:
    """The package's templates; the page is one line of HTML, so blocks leave no line breaks (trim/lstrip)."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.writers", "templates"),
        autoescape=True,
        finalize=_escaped,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["json_block"] = _json_block
    environment.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    return environment


def _package_file(name: str) -> str:
    return _templates().loader.get_source(_templates(), name)[0]


def plotly_locale() -> dict:
    """Plotly's own texts (mode bar, number and date formats) in Danish: ``templates/plotly-locale-da.json``."""
    return json.loads(_package_file("plotly-locale-da.json"))


# --------------------------------------------------------------------------- the page's values


def danish_time(value: object) -> str:
    """'2026-12-04T05:24:43+00:00' -> '4. december 2026 kl. 05:24 (UTC)'; other text as is."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    zone = f" ({moment.tzname()})" if moment.tzinfo else ""
    return f"{moment.day}. {_MONTHS[moment.month - 1]} {moment.year} kl. {moment:%H:%M}{zone}"


def _topic_title(topic: Mapping) -> str:
    """An analyst's name as is; BERTopic's default '3_robot_data_ai' becomes 'Emne 3'."""
    name = str(topic.get("label") or topic.get("name") or "")
    if not name or _DEFAULT_TOPIC_NAME.match(name):
        return f"Emne {topic.get('topic', '')}".strip()
    return name


@dataclass
class Chart:
    """One chart of the page: its ``<div>`` (``label`` for screen readers) and its figure's JSON block."""

    id: str
    label: str
    figure_json: str


class _Charts(list):
    """The page's charts in order; each JSON block follows the page's content."""

    def add(self, figure_json: str, label: str) -> Chart:
        self.append(Chart(f"figur-{len(self)}", label, figure_json))
        return self[-1]


def _tiles(result: RunResult, total: pd.DataFrame) -> list[tuple[str, str]]:
    """The summary above the chart: (big value, what it is)."""
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
    return tiles


def _quote_parts(quotes: pd.DataFrame, with_workshop: bool) -> list[tuple[str, list[dict]]]:
    """Participants' answers and note excerpts apart (:func:`~pipeline.report.quote_parts`), by rank;
    per quote its text, its source and the file it came from (shown on hover)."""
    if "rank" in quotes.columns:
        quotes = quotes.sort_values("rank", kind="stable")
    return [
        (title, [{"text": quote["text"], "source": source(quote, with_workshop),
                  "file": quote.get("source_file") if isinstance(quote.get("source_file"), str) else None}
                 for quote in part.to_dict("records")])
        for title, part in quote_parts(quotes)
    ]  # fmt: skip


def _topics(topics: pd.DataFrame) -> list[dict]:
    return [
        {"title": _topic_title(topic), "mixed": topic.get("mixed") is True, "words": joined_words(topic.get("words"), _SHOWN_WORDS),
         "size": count(int(topic["size"]), "tekst", "tekster") if pd.notna(topic.get("size")) else ""}
        for topic in topics.to_dict("records")
    ]  # fmt: skip


def _themes(result: RunResult, shares: pd.DataFrame, with_workshop: bool) -> list[dict]:
    """Per theme in report order: its heading figures, its topics (largest first) and its quotes."""
    topics, quotes = result.topics, result.quotes_by_theme
    sections = []
    for theme in ranked_themes(shares.reset_index(), [*result.taxonomy_labels, *quotes.get("theme", pd.Series(dtype=str))]):
        row = shares.loc[theme] if theme in shares.index else None
        in_theme = (topics[(topics["theme"] == theme) & (topics["topic"] != -1)]
                    if {"theme", "topic"} <= set(topics.columns) else topics.iloc[0:0])  # fmt: skip
        if "size" in in_theme.columns:
            in_theme = in_theme.sort_values("size", ascending=False, kind="stable")
        theme_quotes = quotes[quotes["theme"] == theme] if "theme" in quotes.columns else quotes.iloc[0:0]
        sections.append({
            "id": theme,
            "label": result.taxonomy_labels.get(theme, theme),
            "share": None if row is None else {"share": percent(row["share"]), "n_texts": number(row.get("n_texts")),
                                               "interval": interval(row.get("ci_low"), row.get("ci_high"))},
            "topics": _topics(in_theme),
            "quote_parts": _quote_parts(theme_quotes, with_workshop),
            "no_quotes": no_quotes_note(result, theme),
        })  # fmt: skip
    return sections


def _emerging(result: RunResult, with_workshop: bool) -> list[dict]:
    """Per emerging theme its facts, words and quotes: participants' answers and note excerpts
    apart, each with its source, as in the themes' sections (and in Word)."""
    emerging, cards = result.emerging, []
    quoted = quoted_rows(emerging, result.assignments) if emerging is not None and len(emerging) else None
    for index, theme in enumerate([] if emerging is None else emerging.to_dict("records"), start=1):
        name = theme.get("name")
        facts = []
        if pd.notna(theme.get("size")):
            facts.append(f"{number(theme['size'])} tekster")
        if "share" in theme and pd.notna(theme.get("share")):
            facts.append(f"{percent(theme['share'])} af input")
        cards.append({
            "title": _topic_title({"name": name, "topic": theme.get("topic", index)}) if name else f"Nyt tema {index}",
            "facts": ", ".join(facts),
            "words": joined_words(theme.get("words"), _SHOWN_WORDS),
            "quote_parts": _quote_parts(emerging_quotes(theme, quoted), with_workshop),
        })  # fmt: skip
    return cards


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


def _run_facts(manifest: Mapping) -> dict:
    """The manifest's facts a reader asks about: inputs, taxonomy, backends, counts, timings, versions."""
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
    general += [(_BACKEND_LABELS.get(key, key), _plain(value)) for key, value in (manifest.get("backends") or {}).items()]

    counts = [(_COUNT_LABELS.get(k, k), _plain(v)) for k, v in (manifest.get("counts") or {}).items()]
    redaction = manifest.get("redaction") or {}
    if isinstance(redaction, Mapping) and redaction:
        counts.append(("Personoplysninger fjernet", _redaction_fact(redaction)))
    edits = manifest.get("edits") or {}
    if isinstance(edits, Mapping) and any(edits.values()):
        counts.append(("Analytikerens rettelser", _plain({k: v for k, v in edits.items() if v})))

    inputs = [item if isinstance(item, Mapping) else {"path": item} for item in manifest.get("inputs") or []]
    timings = manifest.get("timings_seconds") or {}
    versions = manifest.get("versions") or {}
    return {
        "general": general,
        "counts": counts,
        "inputs": [(item.get("path", ""), str(item.get("sha256", ""))) for item in inputs],
        "timings": None if not timings else [(_STAGE_LABELS.get(stage, stage), f"{number(seconds, 1)} s")
                                             for stage, seconds in timings.items() if isinstance(seconds, (int, float))],
        "versions": ", ".join(f"{name} {value}" for name, value in versions.items() if value),
    }  # fmt: skip


def _script_hash(script: str) -> Markup:
    """The script's Content-Security-Policy source (base64 between quotes: nothing to escape)."""
    return Markup("'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'")


# --------------------------------------------------------------------------- the page


def render_html_report(result: RunResult, plotly_js: str | None = None) -> str:
    """The page as a string (see :func:`write_html_report`); ``plotly_js`` defaults to the installed plotly's."""
    if plotly_js is None:
        from plotly.offline import get_plotlyjs

        plotly_js = get_plotlyjs()
    labels = result.taxonomy_labels
    manifest = result.manifest or {}
    total = result.frequencies["total"]
    assignments = result.assignments
    workshops = list(assignments["workshop"].dropna().unique()) if "workshop" in assignments.columns else []
    title_name = ", ".join(map(str, workshops[:3])) + (" m.fl." if len(workshops) > 3 else "")

    charts = _Charts()
    share_chart = charts.add(theme_share_figure(total, labels), "Søjlediagram over temaernes andel med 95 %-intervaller")
    by_workshop = result.frequencies.get("workshop")
    heatmap = None
    if by_workshop is not None and "workshop" in by_workshop.columns and by_workshop["workshop"].nunique() > 1:
        heatmap = charts.add(workshop_heatmap_figure(by_workshop, labels, theme_order(result)),
                             "Varmekort: temaernes andel pr. workshop")  # fmt: skip
    views = []
    for name, figure_json in (getattr(result, "figures", None) or {}).items():
        heading, note = BERTOPIC_VIEWS.get(name, (name, ""))
        views.append((heading, note, charts.add(spaced_word_bars(figure_json) if name == "emneord" else figure_json, heading)))

    guard_script = _templates().get_template("guard.js").render()
    draw_script = _templates().get_template("draw.js").render(locale=plotly_locale())
    taxonomy = manifest.get("taxonomy")
    created = danish_time(manifest["created"]) if manifest.get("created") else ""
    header, overview = overview_rows(result)
    return _templates().get_template("report.html").render(
        title=title_name or manifest.get("run_id", ""),
        subtitle=[part for part in (title_name, taxonomy.get("name", "") if isinstance(taxonomy, Mapping) else "", created) if part],
        script_hashes=[_script_hash(script) for script in (guard_script, plotly_js, draw_script)],
        guard_script=Markup(guard_script),
        css=Markup(_templates().get_template("report.css").render()),
        tiles=_tiles(result, total),
        share_chart=share_chart,
        share_basis=share_basis(result),
        overview_header=header,
        overview=overview,
        heatmap=heatmap,
        themes=_themes(result, total.set_index("theme"), len(workshops) > 1),
        emerging=_emerging(result, len(workshops) > 1),
        views=views,
        facts=_run_facts(manifest),
        run_id=manifest.get("run_id", ""),
        charts=charts,
        plotly_js=Markup(plotly_js),
        draw_script=Markup(draw_script),
    )  # fmt: skip


def write_html_report(result: RunResult, path: Path) -> None:
    """Write ``report.html`` for ``result`` to ``path``: one self-contained page that opens offline."""
    Path(path).write_text(render_html_report(result), encoding="utf-8")
