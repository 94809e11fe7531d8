"""Write one run's results to a folder of files that report writers open directly.

``write_run`` writes everything into a hidden staging folder next to ``out_dir`` and
renames it to ``out_dir`` at the end, so a failure leaves no half-written run, and it
refuses an ``out_dir`` that already holds anything: a run is never overwritten.

Files (CSV files are UTF-8 with BOM so Excel shows æ, ø, å right; shares are fractions):

=========================  ===============================================================
assignments.csv            one row per text: provenance, topic, theme, label, score, weight,
                           memberships ``p_<theme>``, then any other columns
theme_frequencies.csv      all frequency tables, long: ``breakdown`` (total, workshop, ...),
                           ``group`` (empty for total), theme, label, n_texts, ..., ci_high
theme_frequencies.xlsx     one formatted sheet per breakdown (shares as percentages)
topics.csv                 topics with words, size and mapped theme
quotes.csv / quotes.xlsx   representative quotes per theme and per topic with provenance
quotes.md / quotes.docx    per theme: heading with label and share, quotes with their source
                           (Word: a two-column table "Citat" / "Kilde"), then emerging topics
emerging_topics.md         topics mapped to ``andet`` with their words and quotes
theme_shares.png           bar chart of theme shares with 95 % intervals
manifest.json              the run manifest plus every file's size and sha256
=========================  ===============================================================
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import textwrap
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import docx
import numpy as np
import pandas as pd
from docx.shared import Cm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from pipeline.schema import ANDET

ANDET_LABEL = "Andet / nye temaer"
_PERCENT_COLUMNS = {"share", "ci_low", "ci_high"}
_DECIMAL_FORMATS = {"weighted_frequency": "0.0", "weighted_size": "0.0", "weight": "0.0", "centrality": "0.000", "theme_score": "0.00"}
_WIDE_TEXT_COLUMNS = {"text", "words", "quotes"}
# Characters XML (xlsx, docx) cannot hold; stray control characters from copied text.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass
class RunResult:
    """Everything one run produced; ``emerging`` is derived from ``topics`` when not given."""

    assignments: pd.DataFrame
    topics: pd.DataFrame
    frequencies: dict[str, pd.DataFrame]
    quotes_by_theme: pd.DataFrame
    quotes_by_topic: pd.DataFrame
    taxonomy_labels: dict[str, str]
    manifest: dict = field(default_factory=dict)
    emerging: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        self.taxonomy_labels = {**self.taxonomy_labels}
        self.taxonomy_labels.setdefault(ANDET, ANDET_LABEL)
        if self.emerging is None:
            self.emerging = emerging_topics(self.topics, self.quotes_by_topic)


def topic_names(topics: pd.DataFrame) -> dict:
    """{topic: readable name}: the ``label`` (analyst's) or ``name`` column, else the id."""
    if "topic" not in topics.columns:
        return {}
    column = next((c for c in ("label", "name") if c in topics.columns), None)
    names = topics[column] if column else topics["topic"].astype(str)
    return dict(zip(topics["topic"], names.astype(str)))


def emerging_topics(topics: pd.DataFrame, quotes_by_topic: pd.DataFrame) -> pd.DataFrame:
    """Topics mapped to ``andet`` (outliers, topic -1, excluded) with their words and quote texts."""
    columns = ["topic", "name", "size", "weighted_size", "words", "quotes"]
    if not {"topic", "theme"} <= set(topics.columns):  # no clustering in this run
        return pd.DataFrame(columns=columns)
    emerging = topics[(topics["theme"] == ANDET) & (topics["topic"] != -1)].copy()
    quotes = quotes_by_topic.sort_values(["topic", "rank"]).groupby("topic")["text"].agg(list)
    emerging["name"] = emerging["topic"].map(topic_names(topics))
    emerging["quotes"] = [quotes.get(topic, []) for topic in emerging["topic"]]
    by_size = [c for c in ("weighted_size", "size") if c in emerging.columns][:1]
    emerging = emerging.sort_values(by_size, ascending=False, kind="stable") if by_size else emerging
    return emerging[[c for c in columns if c in emerging.columns]].reset_index(drop=True)


def percent(value: float) -> str:
    """Danish percentage: 0.234 -> '23,4 %'."""
    return "–" if pd.isna(value) else f"{value * 100:.1f} %".replace(".", ",")


def _source(quote: Mapping) -> str:
    return " · ".join(str(quote[c]) for c in ("workshop", "question", "source_file") if pd.notna(quote[c]) and str(quote[c]))


def _printable(value):
    return _XML_ILLEGAL.sub("", value) if isinstance(value, str) else value


def _assignments_table(result: RunResult) -> pd.DataFrame:
    table = result.assignments.copy()
    table["theme_label"] = table["theme"].map(lambda theme: result.taxonomy_labels.get(theme, theme))
    lead = ["text_id", "text", "source_file", "source_kind", "question", "workshop", "topic", "theme", "theme_label",
            "theme_score", "weight", "voices", "language", "is_danish"]  # fmt: skip
    lead = [c for c in lead if c in table.columns]
    memberships = [c for c in table.columns if c.startswith("p_")]
    rest = [c for c in table.columns if c not in lead and c not in memberships]
    return table[lead + memberships + rest]


def _long_frequencies(frequencies: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    blocks = []
    for breakdown, table in frequencies.items():
        group = table[breakdown].astype(str) if breakdown in table.columns else ""
        blocks.append(table.drop(columns=[breakdown], errors="ignore").assign(breakdown=breakdown, group=group))
    long = pd.concat(blocks, ignore_index=True)
    return long[["breakdown", "group", *[c for c in long.columns if c not in ("breakdown", "group")]]]


def _labelled_quotes(quotes: pd.DataFrame, grouping: str, names: Mapping) -> pd.DataFrame:
    labelled = quotes.rename(columns={grouping: "group"})
    labelled.insert(0, "grouping", grouping)
    labelled.insert(2, "label", labelled["group"].map(lambda value: names.get(value, str(value))))
    first = ["grouping", "group", "label", "rank", "text"]  # the quote next to its heading, provenance after
    return labelled[first + [c for c in labelled.columns if c not in first]]


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: Path) -> None:
    """Sheets with a bold frozen header, fitted column widths, percentages and wrapped long texts."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.map(_printable).to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            sheet.freeze_panes = "A2"
            for index, column in enumerate(frame.columns, start=1):
                letter = get_column_letter(index)
                longest = max([len(str(column)), *frame[column].astype(str).str.len().head(500).tolist()])
                wide = column in _WIDE_TEXT_COLUMNS
                sheet.column_dimensions[letter].width = 70 if wide else min(longest + 2, 40)
                number_format = "0.0%" if column in _PERCENT_COLUMNS else _DECIMAL_FORMATS.get(column)
                for cell in sheet[letter][1:]:
                    if cell.data_type == "f":  # a text starting with "=" is an answer, not a formula
                        cell.data_type = "s"
                    if number_format:
                        cell.number_format = number_format
                    if wide:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
                sheet[f"{letter}1"].font = Font(bold=True)


def write_theme_chart(total: pd.DataFrame, labels: Mapping[str, str], path: Path) -> None:
    """Horizontal bars of theme shares, largest on top, with their bootstrap intervals."""
    table = total.sort_values("share", kind="stable")
    names = ["\n".join(textwrap.wrap(labels.get(theme, theme), 34)) for theme in table["theme"]]
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


def workshop_theme_table(by_workshop: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """Workshops as rows, themes (labels) as columns, shares as values: the series overview."""
    table = by_workshop.pivot(index="workshop", columns="theme", values="share")
    order = [theme for theme in labels if theme in table.columns]
    return table[order].rename(columns=lambda theme: labels.get(theme, theme))


def write_workshop_chart(by_workshop: pd.DataFrame, labels: Mapping[str, str], path: Path) -> None:
    """Heat map of theme shares per workshop, each cell labelled with its share."""
    table = workshop_theme_table(by_workshop, labels)
    figure = Figure(figsize=(1.2 * table.shape[1] + 3, 0.55 * table.shape[0] + 2.4), dpi=200, layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(table.to_numpy(dtype=float), cmap="Blues", vmin=0, aspect="auto")
    axes.set_xticks(range(table.shape[1]), ["\n".join(textwrap.wrap(name, 16)) for name in table.columns], fontsize=8)
    axes.set_yticks(range(table.shape[0]), table.index, fontsize=9)
    high = float(np.nanmax(table.to_numpy(dtype=float), initial=0))
    for (row, column), value in np.ndenumerate(table.to_numpy(dtype=float)):
        axes.text(column, row, percent(value), ha="center", va="center", fontsize=8,
                  color="white" if value > 0.6 * high else "black")  # fmt: skip
    axes.set_title("Temaernes andel pr. workshop", fontsize=11)
    figure.colorbar(image, ax=axes, format=FuncFormatter(lambda x, _: f"{x * 100:.0f} %"), shrink=0.8)
    figure.savefig(path)


def _markdown_quotes(quotes: pd.DataFrame) -> list[str]:
    lines = []
    for quote in quotes.to_dict("records"):
        lines += [f"> {quote['text']}", ">", f"> — {_source(quote)}", ""]
    return lines or ["_Ingen tekster._", ""]


def _emerging_markdown(emerging: pd.DataFrame, quotes_by_topic: pd.DataFrame, level: int) -> list[str]:
    """Topics mapped to andet, under a heading of ``level`` (topics one level below)."""
    lines = ["#" * level + " Nye temaer (emner uden for taksonomien)", ""]
    if emerging.empty:
        return lines + ["_Ingen emner blev placeret i andet._", ""]
    for topic in emerging.to_dict("records"):
        size = f" ({topic['size']} tekster)" if "size" in topic else ""
        lines += ["#" * (level + 1) + f" {topic['name']}", "", f"Ord: {topic.get('words', '')}{size}", ""]
        lines += _markdown_quotes(quotes_by_topic[quotes_by_topic["topic"] == topic["topic"]])
    return lines


def _theme_heading(theme: str, result: RunResult, shares: pd.DataFrame) -> str:
    label = result.taxonomy_labels.get(theme, theme)
    if theme not in shares.index:
        return label
    row = shares.loc[theme]
    return f"{label} — {percent(row['share'])} (95 %-interval {percent(row['ci_low'])}–{percent(row['ci_high'])})"


def _quote_table(document, quotes: pd.DataFrame) -> None:
    table = document.add_table(rows=1, cols=2)
    table.style = "Light Grid Accent 1"
    for cell, title in zip(table.rows[0].cells, ("Citat", "Kilde")):
        cell.text = title
    for quote in quotes.to_dict("records"):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = _printable(str(quote["text"])), _printable(_source(quote))
    for row in table.rows:  # Word honours cell widths, not column widths
        row.cells[0].width, row.cells[1].width = Cm(11.5), Cm(5)


def write_quotes_docx(result: RunResult, themes: list[str], shares: pd.DataFrame, path: Path) -> None:
    document = docx.Document()
    document.add_heading("Repræsentative citater", level=0)
    document.add_paragraph(
        "Udsagnene er valgt som de mest centrale og indbyrdes forskellige pr. tema, i deltagernes egne ord. "
        "Andelen er temaets vægtede andel af alle input med 95 %-interval."
    )
    for theme in themes:
        document.add_heading(_printable(_theme_heading(theme, result, shares)), level=1)
        quotes = result.quotes_by_theme[result.quotes_by_theme["theme"] == theme]
        if quotes.empty:
            document.add_paragraph("Ingen tekster.")
        else:
            _quote_table(document, quotes)
    document.add_heading("Nye temaer (emner uden for taksonomien)", level=1)
    if result.emerging.empty:
        document.add_paragraph("Ingen emner blev placeret i andet.")
    for topic in result.emerging.to_dict("records"):
        document.add_heading(_printable(str(topic["name"])), level=2)
        document.add_paragraph(_printable(f"Ord: {topic.get('words', '')}"))
        quotes = result.quotes_by_topic[result.quotes_by_topic["topic"] == topic["topic"]]
        if not quotes.empty:
            _quote_table(document, quotes)
    document.save(path)


def _write_files(result: RunResult, folder: Path) -> None:
    labels = result.taxonomy_labels
    total = result.frequencies["total"]
    shares = total.set_index("theme")
    themes = list(dict.fromkeys([*labels, *result.quotes_by_theme["theme"]]))
    names = topic_names(result.topics)

    def csv(frame: pd.DataFrame, name: str) -> None:
        frame.to_csv(folder / name, index=False, encoding="utf-8-sig")

    csv(_assignments_table(result), "assignments.csv")
    csv(_long_frequencies(result.frequencies), "theme_frequencies.csv")
    write_xlsx(result.frequencies, folder / "theme_frequencies.xlsx")
    topics = result.topics.copy()
    if "theme" in topics.columns and "theme_label" not in topics.columns:
        topics.insert(topics.columns.get_loc("theme") + 1, "theme_label", topics["theme"].map(lambda t: labels.get(t, t)))
    csv(topics, "topics.csv")

    quote_sheets = {"themes": _labelled_quotes(result.quotes_by_theme, "theme", labels),
                    "topics": _labelled_quotes(result.quotes_by_topic, "topic", names)}  # fmt: skip
    csv(pd.concat(quote_sheets.values(), ignore_index=True), "quotes.csv")
    write_xlsx(quote_sheets, folder / "quotes.xlsx")

    markdown = ["# Repræsentative citater", ""]
    for theme in themes:
        markdown += [f"## {_theme_heading(theme, result, shares)}", ""]
        markdown += _markdown_quotes(result.quotes_by_theme[result.quotes_by_theme["theme"] == theme])
    markdown += _emerging_markdown(result.emerging, result.quotes_by_topic, level=2)
    (folder / "quotes.md").write_text("\n".join(markdown), encoding="utf-8")
    emerging = _emerging_markdown(result.emerging, result.quotes_by_topic, level=1)
    (folder / "emerging_topics.md").write_text("\n".join(emerging), encoding="utf-8")
    write_quotes_docx(result, themes, shares, folder / "quotes.docx")
    write_theme_chart(total, labels, folder / "theme_shares.png")
    by_workshop = result.frequencies.get("workshop")
    if by_workshop is not None and by_workshop["workshop"].nunique() > 1:
        write_xlsx({"andele": workshop_theme_table(by_workshop, labels).reset_index()}, folder / "workshop_themes.xlsx")
        write_workshop_chart(by_workshop, labels, folder / "workshop_themes.png")

    files = [
        {"name": path.name, "bytes": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        for path in sorted(folder.iterdir())
    ]
    manifest = {**result.manifest, "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def write_run(result: RunResult, out_dir: str | Path) -> Path:
    """Write ``result`` into the new folder ``out_dir`` (all files or none) and return it.

    Raises ``FileExistsError`` when ``out_dir`` exists and is not an empty folder; it is
    left untouched.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"{out_dir}: already exists and is not empty; runs are never overwritten, choose a new output folder")
    if "total" not in result.frequencies:
        raise ValueError("result.frequencies lacks the 'total' table")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.{uuid.uuid4().hex[:8]}.partial"
    staging.mkdir()
    try:
        _write_files(result, staging)
        if out_dir.exists():
            out_dir.rmdir()  # empty, checked above; fails rather than overwrite if it has filled since
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
