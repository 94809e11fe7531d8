"""What a Danish reader of the demo run's files meets: one language, sections that agree with
their own counts, breakdowns without empty groups, one name per source, charts that can be read."""

from __future__ import annotations

import json
import logging
import re
import time

import openpyxl
import pandas as pd
import pytest
from conftest import REPO
from docx import Document

from pipeline.report import in_report_order
from pipeline.writers.html import plotly_locale, write_html_report
from pipeline.schema import ANDET
from pipeline.weighting import theme_frequencies

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(demo_run):
    """The demo run: (analysis, result, output folder)."""
    analysis, result, folder, _ = demo_run
    return analysis, result, folder


def _andet_texts(result) -> int:
    counted = result.assignments[(result.assignments["theme"] == ANDET) & (result.assignments["weight"] > 0)]
    assert len(counted), "the demo has texts outside the themes"
    return len(counted)


def test_the_andet_section_never_says_it_has_no_texts(demo):
    """The andet paragraph counts its texts; under it stood "Ingen tekster." (andet texts are never quoted)."""
    _, result, folder = demo
    _andet_texts(result)
    label = result.taxonomy_labels[ANDET]

    markdown = (folder / "quotes.md").read_text(encoding="utf-8")
    section = markdown.split(f"## {label}\n", 1)[1].split("\n## ", 1)[0]
    assert "bygger på" in section and "Ingen tekster" not in section
    assert "citeres ikke som eksempler" in section

    html = (folder / "report.html").read_text(encoding="utf-8")
    section = html.split(f'id="tema-{ANDET}"', 1)[1].split("</section>", 1)[0]
    assert "Ingen tekster" not in section and "citeres ikke som eksempler" in section

    paragraphs = [p.text for p in Document(folder / "quotes.docx").paragraphs]
    start = next(i for i, text in enumerate(paragraphs) if text == label and i > 0)
    section = paragraphs[start + 1 : start + 3]
    assert "bygger på" in section[0] and "citeres ikke som eksempler" in section[1]


def test_no_breakdown_group_is_empty_and_every_groups_shares_sum_to_one(demo):
    _, result, folder = demo
    by_question = result.frequencies["question"]
    sums = by_question.groupby("question")["share"].sum()
    assert (sums.round(9) == 1).all(), sums[sums.round(9) != 1]
    # The note's headings over passages that are about the workshop itself (weight 0) are gone.
    weights = result.assignments.groupby("question")["weight"].sum()
    assert set(sums.index) == set(weights[weights > 0].index) and (weights == 0).any()
    sheet = pd.read_excel(folder / "theme_frequencies.xlsx", sheet_name="Pr. spørgsmål")
    assert sheet.groupby(sheet.columns[0])["Andel"].sum().round(9).eq(1).all()


def test_the_postcards_have_one_name_in_every_file(demo):
    _, result, folder = demo
    postcards = result.assignments[result.assignments["source_file"] == "postkort.csv"]
    assert set(postcards["question"]) == {"Postkort"}
    assert "Postkort" in set(result.frequencies["question"]["question"])
    assert "svar" not in set(result.frequencies["question"]["question"])
    quotes = pd.read_csv(folder / "quotes.csv", sep=";", encoding="utf-8-sig")
    from_postcards = quotes[quotes["Fil"] == "postkort.csv"]
    assert len(from_postcards) and set(from_postcards["Spørgsmål/afsnit"]) == {"Postkort"}
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "· Postkort<" in html or "Postkort</div>" in html


def test_the_xlsx_total_is_in_the_report_order(demo):
    _, result, folder = demo
    expected = in_report_order(result.frequencies["total"])["theme"].map(result.taxonomy_labels).tolist()
    sheet = pd.read_excel(folder / "theme_frequencies.xlsx", sheet_name="I alt", nrows=len(expected))  # the table, not its note
    assert sheet["Tema"].tolist() == expected
    assert expected[-1] == result.taxonomy_labels[ANDET]
    assert expected != [result.taxonomy_labels[t] for t in result.frequencies["total"]["theme"]]  # not taxonomy order


def test_every_breakdown_lists_the_themes_in_the_report_order(demo):
    """Per question, source kind and workshop, in theme_frequencies.xlsx and both CSVs, each group's themes
    come in the order of "I alt" and the reports (by the overall share, andet last), not the taxonomy's."""
    _, result, folder = demo
    order = in_report_order(result.frequencies["total"])["theme"].tolist()
    labels = [result.taxonomy_labels[theme] for theme in order]

    def in_order(themes) -> bool:
        themes = list(themes)
        return themes == [theme for theme in order if theme in themes] or themes == [t for t in labels if t in themes]

    sheets = pd.read_excel(folder / "theme_frequencies.xlsx", sheet_name=None)
    for name, group in (("Pr. spørgsmål", "Spørgsmål/afsnit"), ("Pr. kildetype", "Kildetype"), ("Pr. workshop", "Workshop")):
        blocks = sheets[name].groupby(group, sort=False)["Tema-id"]
        assert len(blocks) >= (2 if name != "Pr. workshop" else 1)
        assert all(in_order(themes) for _, themes in blocks), name
    machine = pd.read_csv(folder / "data" / "theme_frequencies.csv")
    danish = pd.read_csv(folder / "theme_frequencies.csv", sep=";", encoding="utf-8-sig")
    for table, keys, theme in ((machine, ["breakdown", "group"], "theme"), (danish, ["Opdeling", "Gruppe"], "Tema-id")):
        blocks = table.groupby(keys, sort=False)[theme]
        assert len(blocks) > 4 and all(in_order(themes) for _, themes in blocks)
    assert order != [theme for theme in result.taxonomy_labels if theme in order]  # the demo's shares reorder the taxonomy


def test_no_spreadsheet_text_is_cut_off_by_the_next_cell(demo):
    """A text longer than its column is wide wraps: unwrapped, Excel cuts it off at the next
    (filled) cell, as it did the demo's questions (79 characters in a column 45 wide)."""
    from openpyxl.utils import get_column_letter

    _, _, folder = demo
    checked = 0
    for path in sorted(folder.glob("*.xlsx")):
        for sheet in openpyxl.load_workbook(path).worksheets:
            for row in sheet.iter_rows(min_row=2):
                for cell in (cell for cell in row if isinstance(cell.value, str)):
                    width = sheet.column_dimensions[get_column_letter(cell.column)].width
                    assert len(cell.value) <= width or cell.alignment.wrap_text, (path.name, sheet.title, cell.coordinate)
                    checked += len(cell.value) > 45
    assert checked  # the demo has texts longer than a fitted column


def test_the_heat_map_never_cuts_a_word_without_a_hyphen(demo):
    from pipeline.writers.charts import workshop_chart

    _, result, _ = demo
    table = result.assignments.copy()
    table["workshop"] = ["Aalborg" if i % 2 else "Aarhus" for i in range(len(table))]
    by_workshop = theme_frequencies(table, [t for t in result.taxonomy_labels if t != ANDET], by="workshop")
    figure = workshop_chart(by_workshop, result.taxonomy_labels)
    ticks = [label.get_text() for label in figure.axes[0].get_xticklabels()]
    words = {word for label in result.taxonomy_labels.values() for word in label.split()}
    assert any("Internationalisering" in tick for tick in ticks)
    for tick in ticks:
        for line in tick.split("\n"):
            assert all(word in words or word.endswith("-") for word in line.split()), tick


def test_the_word_bars_leave_room_for_their_words(demo, tmp_path):
    """Each subplot's words stand in the gap left of its bars: the gap is as wide as the longest word."""
    _, result, folder = demo
    html = (folder / "report.html").read_text(encoding="utf-8")
    figures = [json.loads(block) for block in re.findall(r'<script type="application/json" id="figur-\d+">(.*?)</script>', html)]
    (bars,) = [f for f in figures if sum(key.startswith("xaxis") for key in f["layout"]) > 1]
    layout = bars["layout"]
    longest = max(len(str(word).strip()) for trace in bars["data"] for word in trace["y"])
    margin = {"l": 80, "r": 80, **layout.get("margin", {})}  # plotly's default margins
    plot_px = layout["width"] - margin["l"] - margin["r"]
    domains = sorted({tuple(layout[key]["domain"]) for key in layout if key.startswith("xaxis")})
    gaps = [(right[0] - left[1]) * plot_px for left, right in zip(domains, domains[1:])]
    assert min(gaps) >= longest * 6 and margin["l"] >= longest * 6, (gaps, longest)


def test_run_facts_say_in_danish_what_was_redacted(demo):
    _, _, folder = demo
    html = (folder / "report.html").read_text(encoding="utf-8")
    fact = re.search(r"<dt>Personoplysninger fjernet</dt><dd>(.*?)</dd>", html).group(1)
    assert fact == "ingen fundet"  # the demo holds no personal data
    assert not re.search(r"enabled|kinds|counts|merged_after", html.split('id="koersel"', 1)[1].split("</section>", 1)[0])


def test_every_plotly_toolbar_button_is_danish(demo, tmp_path):
    from test_html_report import open_in_chromium

    _, result, _ = demo
    write_html_report(result, tmp_path / "report.html")
    dom, _ = open_in_chromium(tmp_path / "report.html", tmp_path)
    titles = set(re.findall(r'class="modebar-btn"[^>]*data-title="([^"]*)"', dom))
    titles |= set(re.findall(r'data-title="([^"]*)"[^>]*class="modebar-btn"', dom))
    assert titles, "the charts have toolbars"
    danish = set(plotly_locale()["dictionary"].values())
    assert titles <= danish, titles - danish


def test_a_temporary_servers_run_page_link_is_not_shown(prefect_server, capsys):
    """Prefect logs "View at <run page>" on every flow run: shown in Danish for a server that stays, never
    for the temporary one (gone when the run ends)."""
    from prefect import flow
    from rich.console import Console

    from flows.progress import ProgressHandler, follow_logs

    @flow(name="tematik-link-proeve")
    def tiny() -> int:
        return 1

    for keeps_running in (False, True):
        with Console(stderr=True).status("") as status:
            handler = ProgressHandler(status, time.monotonic())
            handler.show_run_page = keeps_running
            follow_logs(handler)
            try:
                tiny()
            finally:
                for name in ("prefect.flow_runs", "prefect.task_runs", "tematik"):
                    logging.getLogger(name).removeHandler(handler)
        # The progress display's lines ("  1,2 s  <message>"), not Prefect's own console lines.
        shown = "\n".join(re.findall(r"^\s+[\d.]+,\d s  .*$", capsys.readouterr().err, flags=re.MULTILINE))
        assert "View at" not in shown
        assert ("Kørslen i Prefect-UI'et:" in shown) == keeps_running, shown


def test_the_run_pages_quotes_show_as_written(prefect_server, demo, tmp_path):
    """The Prefect run page's quote artifact is Markdown: an answer starting "1)" is no list, "<b>" no HTML."""
    import copy

    from markdown_it import MarkdownIt
    from prefect import flow
    from prefect.client.orchestration import get_client

    from flows.artifacts import publish_artifacts

    _, result, _ = demo
    marked = "1) <b>flere</b> lærepladser & *mange* flere hænder"
    changed = copy.copy(result)
    changed.quotes_by_theme = result.quotes_by_theme.copy()
    first = changed.quotes_by_theme.sort_values("rank").index[0]
    changed.quotes_by_theme.loc[first, "text"] = marked

    @flow(name="tematik-artefakt-proeve")
    def publish() -> None:
        publish_artifacts(changed, tmp_path)

    state = publish(return_state=True)
    body = {"artifacts": {"flow_run_id": {"any_": [str(state.state_details.flow_run_id)]}, "key": {"any_": ["top-quotes"]}},
            "limit": 5, "offset": 0}  # fmt: skip
    with get_client(sync_client=True) as client:
        (artifact,) = client.request("POST", "/artifacts/filter", json=body).json()
    page = MarkdownIt("commonmark").parse(artifact["data"])
    inline = [token for token in page if token.type == "inline"]
    texts = ["".join(child.content for child in token.children if child.type == "text") for token in inline]
    assert marked in texts
    assert {token.type for token in page} <= {"heading_open", "heading_close", "inline", "paragraph_open",
                                              "paragraph_close", "blockquote_open", "blockquote_close"}  # fmt: skip


def test_the_readme_documents_what_a_user_meets():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for fact in ("TEMATIK_CACHE", "PREFECT_HOME", "--models", "README", "recursive", ".markdown", ".tsv", ".xlsm",
                 "see Quick start", "Chromium"):  # fmt: skip
        assert fact in readme, fact
