"""report.html: one self-contained page that draws its charts offline.

One real run of the demo workshop (real spaCy, e5, BERTopic via ``run_workshop``) is
written as report.html and opened in headless Chromium (Debian's ``chromium``): the
test reads the marks the page sets when its charts have drawn and Chromium's own
network log, so a request to a CDN or anywhere else fails it. Without Chromium the
browser tests skip, except in CI (``CI`` set), where they must run.
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from pipeline.danish import percent
from pipeline.topic_figures import bertopic_figures
from pipeline.writers.html import render_html_report, write_html_report
from pipeline.stages import LocalStages

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


def _require_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and CI must open the report in a browser (.ci/run installs it)")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); CI installs and runs it")
    return CHROMIUM


def open_in_chromium(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """(DOM after the page's scripts ran, URLs the page itself asked the network for).

    Chromium's network log holds every request; the browser's own background requests
    (update checks, accounts) have no page as initiator and are left out.
    """
    net_log = tmp_path / f"{page.stem}-net.json"
    done = subprocess.run(
        [
            _require_chromium(),
            *_CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / f'{page.stem}-profile'}",
            f"--log-net-log={net_log}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, page_requests(net_log)


def page_requests(net_log: Path) -> list[str]:
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job
        and "url" in event.get("params", {})
        and event["params"].get("initiator") != "not an origin"  # Chromium's own traffic, not the page's
    ]


@pytest.fixture(scope="module")
def demo(demo_run, tmp_path_factory):
    """A real run of the demo workshop: (analysis, result, folder with report.html)."""
    analysis, result, _, _ = demo_run
    folder = tmp_path_factory.mktemp("report")
    write_html_report(result, folder / "report.html")
    return analysis, result, folder


def _chart_count(page: str) -> int:
    return len(re.findall(r'<div class="chart" data-figure=', page))


def test_report_draws_every_chart_offline_in_chromium(demo, tmp_path):
    _, result, folder = demo
    page = (folder / "report.html").read_text(encoding="utf-8")
    expected = _chart_count(page)
    assert expected == 1 + len(result.figures)  # theme shares + BERTopic's views (one workshop: no heat map)
    assert result.figures, "run_workshop should keep BERTopic's views of the demo's topics"

    dom, requests = open_in_chromium(folder / "report.html", tmp_path)

    assert requests == []
    assert "data-blocked-requests" not in _html_tag(dom)  # the page's Content-Security-Policy blocked nothing
    assert re.search(r'<body[^>]*data-charts-drawn="(\d+)"', dom).group(1) == str(expected)
    assert len(re.findall(r'data-drawn="true"', dom)) == expected
    assert len(re.findall(r'class="main-svg"', dom)) >= expected  # plotly's SVG layers exist for every chart
    for theme in result.frequencies["total"]["theme"]:
        assert f'id="tema-{theme}"' in dom


def _html_tag(dom: str) -> str:
    return re.search(r"<html[^>]*>", dom).group(0)


def test_the_network_checks_catch_a_page_that_loads_from_outside(demo, tmp_path):
    """Both checks above can fail: Chromium's log shows a page's request to a CDN, and the
    report's policy blocks (and records) a chart that asks for an image from the web."""
    page = tmp_path / "cdn.html"
    page.write_text('<!DOCTYPE html><script src="https://cdn.plot.ly/plotly-2.35.2.min.js"></script>', encoding="utf-8")
    _, requests = open_in_chromium(page, tmp_path)
    assert requests == ["https://cdn.plot.ly/plotly-2.35.2.min.js"]

    _, result, _ = demo
    logo = {"data": [], "layout": {"images": [{"source": "https://example.org/logo.png", "xref": "paper", "yref": "paper",
                                               "x": 0, "y": 1, "sizex": 0.2, "sizey": 0.2}]}}  # fmt: skip
    changed = copy.copy(result)
    changed.figures = {"logo": json.dumps(logo)}
    write_html_report(changed, tmp_path / "logo.html")
    dom, requests = open_in_chromium(tmp_path / "logo.html", tmp_path)
    assert requests == []
    blocked = json.loads(html.unescape(re.search(r'data-blocked-requests="([^"]*)"', _html_tag(dom)).group(1)))
    assert blocked == ["img-src https://example.org/logo.png"]


def test_report_holds_plotly_once_no_external_resource_and_danish_figures(demo):
    _, result, folder = demo
    page = (folder / "report.html").read_text(encoding="utf-8")
    plotly_js = get_plotlyjs()
    assert page.count(plotly_js) == 1 and page.count("plotly.js v") == 1
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", page)
    assert "default-src 'none'" in page
    total = result.frequencies["total"]
    for label, share in zip(total["label"], total["share"]):
        assert f"{label}" in page and percent(share) in page  # e.g. "13,8 %"
    assert re.fullmatch(r"\d+,\d %", percent(total["share"].iloc[0]))
    assert "Deltagernes svar" in page and "Fra opsamlingen" in page  # the demo has answers and a note
    for quote in result.quotes_by_theme["text"]:
        assert _escaped(quote) in page
    assert result.manifest["run_id"] in page
    assert "Emne " in page and not re.search(r"\bTopic \d", page)


def test_themes_come_in_the_word_reports_order_andet_last(demo):
    from pipeline.report import ranked_themes, theme_order

    _, result, folder = demo
    page = (folder / "report.html").read_text(encoding="utf-8")
    total = result.frequencies["total"]
    share = total.set_index("theme")["share"]
    assert share["andet"] > share.min()  # else "andet last" and "by share" could not disagree
    sections = re.findall(r'<h3 id="tema-([^"]+)"', page)
    assert sections == theme_order(result)  # the order of quotes.docx and quotes.md
    assert sections[-1] == "andet" and share[sections[:-1]].is_monotonic_decreasing
    table = re.findall(r'<tr><td><a href="#tema-([^"]+)"', page)
    assert table == ranked_themes(total) and table[-1] == "andet"


def _escaped(text: str) -> str:
    return html.escape(str(text), quote=True)


def test_text_typed_by_the_public_is_escaped(demo):
    _, result, _ = demo
    hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    changed = copy.copy(result)
    changed.quotes_by_theme = result.quotes_by_theme.copy()
    changed.quotes_by_theme.loc[changed.quotes_by_theme.index[0], "text"] = hostile
    changed.quotes_by_theme.loc[changed.quotes_by_theme.index[0], "question"] = "</blockquote><b>spørgsmål</b>"
    page = render_html_report(changed, plotly_js="/* plotly */")
    assert hostile not in page and "<b>spørgsmål</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in page


def test_series_run_gets_the_workshop_heat_map(demo):
    _, result, _ = demo
    by_workshop = result.frequencies["workshop"]
    other = by_workshop.assign(workshop="Aalborg <marts>", share=by_workshop["share"][::-1].to_numpy())
    changed = copy.copy(result)
    changed.frequencies = {**result.frequencies, "workshop": pd.concat([by_workshop, other], ignore_index=True)}
    single = render_html_report(result, plotly_js="")
    series = render_html_report(changed, plotly_js="")
    assert _chart_count(series) == _chart_count(single) + 1
    assert "Temaernes andel pr. workshop" in series and "Temaernes andel pr. workshop" not in single
    # Escaped for plotly (which shows entities as characters), and no '<' left to close the JSON's script element.
    assert "Aalborg <marts>" not in series and "Aalborg \\u0026lt;marts\\u0026gt;" in series


def test_bertopic_figures_are_plotly_json_in_danish_and_skip_what_cannot_be_drawn(demo, caplog):
    analysis, _, _ = demo
    config = analysis.config
    modeler = LocalStages(config).fit_topics(analysis.texts, analysis.embeddings)
    figures = bertopic_figures(modeler.model_)
    assert set(figures) == {"emnekort", "emneord", "hierarki"}  # nine topics: every view draws
    for figure in map(json.loads, figures.values()):
        assert figure["data"] and "Topic " not in json.dumps(figure["layout"])

    modeler.model_.merge_topics(modeler.documents_, [[t for t in modeler.topic_info_["topic"] if t >= 1]])  # two left
    with caplog.at_level("INFO", logger="pipeline.topic_figures"):
        small = bertopic_figures(modeler.model_)
    assert "emneord" in small
    assert set(small) < set(figures) and "udeladt" in caplog.text  # what BERTopic cannot draw is logged, not raised
    assert bertopic_figures(None) == {}


def test_the_page_templates_are_package_data():
    """A non-editable install has the page's templates, style sheet and scripts: every file beside
    the code in pipeline/ is listed by pyproject's package-data."""
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["pipeline"]
    package = root / "pipeline"
    data = [path.relative_to(package).as_posix() for path in package.rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc")]  # fmt: skip
    assert {"writers/templates/report.html", "writers/templates/report.css", "writers/templates/draw.js"} <= set(data)
    assert [name for name in data if not any(fnmatch.fnmatch(name, pattern) for pattern in patterns)] == []


def test_emerging_themes_keep_the_two_voices_apart_with_their_sources(demo):
    """As in the themes' sections and in Word: an emerging theme's quotes under "Deltagernes svar"
    and "Fra opsamlingen", each with its source (they were one list without sources)."""
    from lxml import html as lxml_html

    _, result, folder = demo
    page = lxml_html.fromstring((folder / "report.html").read_bytes())
    note_texts = set(result.assignments.loc[result.assignments["source_kind"] == "note", "text"])
    cards = page.xpath('//section[@id="nye"]/section[@class="emerging"]')
    assert len(cards) == len(result.emerging)
    quoted = []
    for card in cards:
        for group in card.xpath('.//div[@class="quote-group"]'):
            title = group.findtext("h4")
            for item in group.xpath(".//li"):
                text, where = item.findtext("blockquote"), item.findtext('div[@class="source"]')
                assert (text in note_texts) == (title == "Fra opsamlingen") and where
                quoted.append(text)
    assert sorted(quoted) == sorted(text for quotes in result.emerging["quotes"] for text in quotes)
    assert note_texts & set(quoted)  # the demo's emerging themes quote the note too
