"""Write one run's results to a folder of files that report writers open directly.

``write_run`` writes everything into a hidden staging folder next to ``out_dir`` and
renames it to ``out_dir`` at the end, so a failure leaves no half-written run, and it
refuses an ``out_dir`` that already holds anything: a run is never overwritten.

Files for people (Danish headers and values; shares in the spreadsheets are numbers
formatted as percentages, in the CSV files percentage points, header "… (%)"):

=========================  ===============================================================
assignments.csv            one row per text: provenance, topic, theme, score, weight,
                           membership of every theme, then any other columns
theme_frequencies.csv      all frequency tables, long: Opdeling (I alt, Workshop, …), Gruppe,
                           Tema, Tekster, Vægtet hyppighed, Andel, 95 %-interval nedre/øvre
theme_frequencies.xlsx     the same, one sheet per breakdown
workshop_themes.xlsx       series runs (several workshops): workshops × themes, sheets with
(+ .png)                   shares, text counts, intervals and all figures; a heat map
topics.csv                 topics with words, size and mapped theme
quotes.csv / quotes.xlsx   representative quotes per theme and per topic with provenance,
                           and the emerging themes (xlsx sheet "Nye temaer")
quotes.md / quotes.docx    per theme: heading, one paragraph with share and interval, the
                           participants' answers and, apart, excerpts "Fra opsamlingen";
                           then the emerging themes. Word: A4, Danish proofing language,
                           full-width two-column tables (quote, source) ready to paste
emerging_topics.md         the emerging themes ("Nye temaer") with words and quotes
theme_shares.png           bar chart of theme shares with 95 % intervals
manifest.json              the run manifest plus every file's size and sha256
data/*.csv                 the four CSV tables for programs (see below)
=========================  ===============================================================

CSV dialects. The CSV files above open in a Danish Excel as they are: ``;`` separator,
decimal comma, numbers rounded, UTF-8 with BOM. For programs (pandas, R) the same tables
are written to ``data/`` in the machine-readable form: ``,`` separator, decimal point,
full precision, shares as fractions, UTF-8 without BOM and the column ids of
``pipeline/schema.py`` (``text_id``, ``n_texts``, ``ci_low``, …); turn it off with
``export: {machine_readable: false}`` in the config (:class:`~pipeline.config.ExportConfig`).

Formula injection (OWASP "CSV injection"). A text a spreadsheet would evaluate — one
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, also after
leading whitespace — is neutralised in every CSV and XLSX cell: in CSV files it gets a
leading apostrophe (``'=HYPERLINK(…)``, ``'- et punkt``: still readable); in XLSX files
it is kept verbatim as a text cell with Excel's quote prefix, so it shows as written and
stays text even when edited. Word and Markdown files hold no formulas and keep the text.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import processes
from pipeline.atomic import write_atomically
from pipeline.config import ExportConfig
from pipeline.danish import MISSING, count, interval, number, percent
from pipeline.formulas import FORMULA_START, is_formula_like, keep_as_text, neutralise, printable
from pipeline.schema import ANDET, ANDET_LABEL, EMERGING_COLUMNS, NOTE_KIND

# docx, openpyxl and matplotlib are imported inside the functions that use them: they are
# slow to import, and `tematik --help` must not pay for them.

# The emerging themes' columns people read (the ids stay in the data).
EMERGING_SHEET_COLUMNS = ["name", "size", "weighted_size", "share", "words", "quotes"]
MACHINE_READABLE_FOLDER = "data"
# From this many texts the people's assignments.csv is written by a child process
# (pipeline.processes) beside the other files: at 100,000 it takes ~1.8 s, a child's start
# ~0.5 s on the other core.
CHILD_WRITES_FROM_ROWS = 20_000
EMERGING_INTRO = "Grupper af tekster uden for taksonomiens temaer (i 'andet'), største først."

# --- Danish names of columns and values ------------------------------------------------

DANISH_HEADERS = {
    "text_id": "Tekst-id", "text": "Tekst", "source_file": "Fil", "source_kind": "Kildetype",
    "question": "Spørgsmål/afsnit", "section_path": "Afsnit (sti)", "workshop": "Workshop",
    "topic": "Emne-nr.", "topic_label": "Emne", "theme": "Tema-id", "theme_label": "Tema", "label": "Tema",
    "theme_score": "Temascore", "weight": "Vægt", "voices": "Stemmer", "language": "Sprog", "is_danish": "Dansk",
    "language_backend": "Sprogmodel", "lemmas": "Lemmaer", "role": "Rolle", "confident": "Sikker",
    "n_texts": "Tekster", "weighted_frequency": "Vægtet hyppighed", "share": "Andel",
    "ci_low": "95 %-interval nedre", "ci_high": "95 %-interval øvre", "breakdown": "Opdeling", "group": "Gruppe",
    "grouping": "Gruppering", "rank": "Nr.", "centrality": "Centralitet", "source": "Kilde",
    "name": "Navn", "size": "Tekster", "weighted_size": "Vægtet størrelse", "words": "Ord", "mixed": "Blandet",
    "quotes": "Citater", "session": "Session",
}  # fmt: skip
SOURCE_KIND_NAMES = {"mentimeter": "Mentimeter", "note": "Opsamling", "table": "Tabel"}
BREAKDOWN_NAMES = {"total": "I alt", "workshop": "Workshop", "question": "Spørgsmål/afsnit", "source_kind": "Kildetype"}
SHEET_NAMES = {"total": "I alt", "workshop": "Pr. workshop", "question": "Pr. spørgsmål", "source_kind": "Pr. kildetype"}
GROUPING_NAMES = {"theme": "Tema", "topic": "Emne"}
_VALUE_NAMES = {"source_kind": SOURCE_KIND_NAMES, "breakdown": BREAKDOWN_NAMES, "grouping": GROUPING_NAMES}

# Excel number formats by column id (Excel stores "." and shows the reader's locale: 13,8%).
_PERCENT = "0.0%"
NUMBER_FORMATS = {
    "share": _PERCENT, "ci_low": _PERCENT, "ci_high": _PERCENT, "weighted_frequency": "0.0", "weighted_size": "0.0",
    "weight": "0.00", "voices": "0", "n_texts": "0", "size": "0", "rank": "0", "topic": "0", "theme_score": "0.00",
    "centrality": "0.000",
}  # fmt: skip
_MEMBERSHIP_FORMAT = "0.000"  # p_<theme>
# The overall table's share of each source group on its own (pipeline.weighting.source_group_shares).
VOICE_PREFIX = "share_"
# Wrapped text columns and their widths (characters); other columns are fitted to their contents.
_WRAPPED_COLUMNS = {"text": 70, "words": 70, "quotes": 70, "lemmas": 70, "source": 40}

# --- formula injection: pipeline/formulas.py (also used by `tematik ingest`) ---------------


# --- the run --------------------------------------------------------------------------------


@dataclass
class RunResult:
    """Everything one run produced (see the stage contracts in README / pipeline/run.py).

    ``emerging``: emerging themes, biggest first (name, size, weighted_size, share, words,
    quotes = list of texts); empty when not given. ``figures``: plotly figure JSON by name
    (BERTopic's views for report.html); may be empty.
    """

    assignments: pd.DataFrame
    topics: pd.DataFrame
    frequencies: dict[str, pd.DataFrame]
    quotes_by_theme: pd.DataFrame
    quotes_by_topic: pd.DataFrame
    taxonomy_labels: dict[str, str]
    manifest: dict = field(default_factory=dict)
    emerging: pd.DataFrame | None = None
    figures: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.taxonomy_labels = {**self.taxonomy_labels}
        self.taxonomy_labels.setdefault(ANDET, ANDET_LABEL)
        if self.emerging is None:
            self.emerging = pd.DataFrame(columns=EMERGING_COLUMNS)


def topic_names(topics: pd.DataFrame) -> dict:
    """{topic: readable name}: the ``label`` (analyst's) or ``name`` column, else the id."""
    if "topic" not in topics.columns:
        return {}
    column = next((c for c in ("label", "name") if c in topics.columns), None)
    names = topics[column] if column else topics["topic"].astype(str)
    return dict(zip(topics["topic"], names.astype(str)))


# --- Danish wording -------------------------------------------------------------------------


_HEADING_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s+(?=\D)")  # "1 ", "2.1 ", "3. " before a heading


def readable_heading(text: str, numbered: bool = True) -> str:
    """A heading as a reader wants it in a source line: without its number ("2.1 "; only when
    ``numbered``, as a Mentimeter question may start with a number of its own) and in sentence
    case when written in capitals ("HOVEDBUDSKABER FRA WORKSHOPPEN" -> "Hovedbudskaber fra workshoppen")."""
    text = str(text).strip()
    if numbered:
        text = _HEADING_NUMBER.sub("", text)
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        text = text.lower()
        first = next((i for i, c in enumerate(text) if c.isalpha()), 0)
        text = text[:first] + text[first].upper() + text[first + 1 :]
    return text


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and str(value).strip() != ""


def source(quote: Mapping, with_workshop: bool = True) -> str:
    """Where a quote comes from, for readers: "workshop · question/section" (no file names;
    without the workshop when ``with_workshop`` is false, e.g. in a one-workshop report)."""
    kind = quote.get("source_kind")
    question = quote.get("question")
    if _present(question):
        question = readable_heading(question, numbered=kind == NOTE_KIND)
        if kind == "table" and _generic_text_column(question) and _present(quote.get("source_file")):
            from pipeline.ingest.tables import table_title  # runs saved before ingestion named the question so

            question = table_title(str(quote["source_file"]))
    workshop = quote.get("workshop") if with_workshop else None
    parts = [str(workshop).strip() if _present(workshop) else "", question if _present(question) else ""]
    return " · ".join(part for part in parts if part)


def _generic_text_column(name: str) -> bool:
    """A table's text column named "svar", "tekst", …: says nothing about where the answer was given."""
    from pipeline.ingest.tables import TEXT_COLUMN_NAMES

    return name.casefold() in TEXT_COLUMN_NAMES


def _words(value) -> str:
    """Topic or theme words as "a, b, c", from a string, a list of words or of (word, score) pairs."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(str(word[0] if isinstance(word, (list, tuple)) else word) for word in value)
    return "" if not _present(value) else str(value)


def _quotes_list(value) -> list[str]:
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(text) for text in value]
    return [] if not _present(value) else [str(value)]


# --- tables for people and for programs -------------------------------------------------------


@dataclass
class _Table:
    """A table ready for people: Danish headers and values, an Excel number format per column."""

    frame: pd.DataFrame
    formats: dict[str, str]


def _number_format(column: str, values: pd.Series) -> str | None:
    if column in NUMBER_FORMATS and pd.api.types.is_numeric_dtype(values):  # an input column may share the name
        return NUMBER_FORMATS[column]
    if column.startswith("p_"):
        return _MEMBERSHIP_FORMAT
    if column.startswith(VOICE_PREFIX) and pd.api.types.is_numeric_dtype(values):
        return _PERCENT
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    return "0" if pd.api.types.is_integer_dtype(values) else "0.000"


def danish_table(
    frame: pd.DataFrame, labels: Mapping[str, str] | None = None, rename: Mapping[str, str] | None = None
) -> _Table:
    """``frame`` with Danish headers (``rename`` first, then :data:`DANISH_HEADERS`; ``p_<theme>``
    becomes "Medlemskab: <label>") and Danish values (source kinds, breakdowns, ja/nej)."""
    labels = labels or {}
    table, formats, headers = frame.copy(), {}, {}
    for column in table.columns:
        values = table[column]
        number_format = _number_format(str(column), values)
        if str(column) in _VALUE_NAMES:
            names = _VALUE_NAMES[str(column)]
            table[column] = values.map(lambda value: names.get(value, value))
        elif pd.api.types.is_bool_dtype(values):
            table[column] = values.map({True: "ja", False: "nej"})
        header = (rename or {}).get(column) or DANISH_HEADERS.get(str(column))
        if header is None and str(column).startswith("p_"):
            header = f"Medlemskab: {labels.get(str(column)[2:], str(column)[2:])}"
        if header is None and str(column).startswith(VOICE_PREFIX):
            header = f"Andel: {str(column).removeprefix(VOICE_PREFIX)}"
        headers[column] = header or str(column)
        if number_format:
            formats[headers[column]] = number_format
    return _Table(table.rename(columns=headers), formats)


def _neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and header that a spreadsheet would evaluate, with a leading apostrophe.

    Columns are taken by position: two columns may share a header (an input table's own
    "Tema" beside ours)."""
    safe = frame.copy()
    safe.columns = [neutralise(str(column)) for column in frame.columns]
    starts_formula = FORMULA_START.match  # inlined neutralise(): two calls per cell cost a second here
    for position in range(safe.shape[1]):
        values = safe.iloc[:, position]
        if pd.api.types.is_numeric_dtype(values):
            continue
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            # Over a NumPy object array, not the Series: 100,000-row tables have millions of cells,
            # and indexing pandas' string arrays one cell at a time costs ~10x more. Most columns
            # (workshop, theme, language …) hold few distinct values: check those only.
            cells = values.to_numpy(dtype=object)
            try:
                distinct = pd.unique(cells)
            except TypeError:  # unhashable cells (lists): look at each
                distinct = cells
            if not any(isinstance(cell, str) and starts_formula(cell) for cell in distinct):
                continue
            neutral = ["'" + cell if isinstance(cell, str) and starts_formula(cell) else cell for cell in cells]
            safe.isetitem(position, pd.Series(neutral, index=safe.index, dtype=object))
        else:  # categories, dates …: as they are written, through their own map
            safe.isetitem(position, values.map(neutralise))
    return safe


def _danish_numbers(values: pd.Series, number_format: str) -> pd.Series:
    """``values`` as Danish number texts in ``number_format`` ("0.000", "0.0%" …); blank where missing."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float) * (100 if number_format.endswith("%") else 1)
    decimals = len(number_format.rstrip("%").partition(".")[2])
    pattern = f"%.{decimals}f"
    # danish.decimal, inlined: a 100,000-row table has a million cells (~2x faster than np.char).
    texts = ["" if x != x else (pattern % (round(x, decimals) + 0.0)).replace(".", ",") for x in numbers.tolist()]
    return pd.Series(texts, index=values.index, dtype=object)


def write_danish_csv(table: _Table, path: Path) -> None:
    """A CSV that a Danish Excel opens into columns: ``;``, decimal comma, rounded, UTF-8 with BOM."""
    frame = _neutralised(table.frame)  # texts first: the numbers written below are not texts
    headers = list(frame.columns)
    for position, column in enumerate(table.frame.columns):
        number_format = table.formats.get(column)
        if number_format:
            frame.isetitem(position, _danish_numbers(table.frame.iloc[:, position], number_format))
            if number_format.endswith("%"):
                headers[position] = f"{headers[position]} (%)"
    frame.columns = headers
    frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")


def write_machine_csv(frame: pd.DataFrame, path: Path) -> None:
    """The machine-readable form: ``,``, decimal point, full precision, UTF-8, the schema's column ids."""
    _neutralised(frame).to_csv(path, index=False, encoding="utf-8")


def write_xlsx(sheets: Mapping[str, _Table], path: Path) -> None:
    """Sheets with a bold, wrapped, frozen header with filters, fitted column widths, number
    formats, wrapped long texts; formula-like texts stay text (see the module docstring)."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in sheets.items():
            frame = table.frame.map(printable).rename(columns=printable)
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for row in sheet.iter_rows():
                for cell in row:
                    keep_as_text(cell)
            sheet.freeze_panes = "A2"
            if len(frame.columns):
                sheet.auto_filter.ref = sheet.dimensions
            for index, column in enumerate(table.frame.columns, start=1):
                letter = get_column_letter(index)
                values = frame.iloc[:, index - 1]
                number_format = table.formats.get(column)
                lengths = values.astype(str).str.len().head(500)
                longest = 8 if number_format or lengths.empty else int(lengths.max())
                wrapped = next((w for c, w in _WRAPPED_COLUMNS.items() if column in (c, DANISH_HEADERS.get(c))), None)
                # Headers wrap, so a long header needs only half its length; numbers need little.
                fitted = max(longest, len(str(column)) // 2 + 1) + 2
                sheet.column_dimensions[letter].width = wrapped or max(10, min(fitted, 45))
                for cell in sheet[letter][1:]:
                    if number_format:
                        cell.number_format = number_format
                    if wrapped:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
                header = sheet[f"{letter}1"]
                header.font = Font(bold=True)
                header.alignment = Alignment(wrap_text=True, vertical="top")


# --- charts ---------------------------------------------------------------------------------


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


def workshop_theme_table(by_workshop: pd.DataFrame, labels: Mapping[str, str], values: str = "share") -> pd.DataFrame:
    """Workshops as rows, themes (labels) as columns, ``values`` (share, n_texts, ci_low, …) as cells."""
    table = by_workshop.pivot(index="workshop", columns="theme", values=values)
    order = [theme for theme in labels if theme in table.columns]
    return table[order].rename(columns=lambda theme: labels.get(theme, theme))


def workshop_theme_sheets(by_workshop: pd.DataFrame, labels: Mapping[str, str]) -> dict[str, _Table]:
    """The series overview: shares (with each workshop's texts), text counts, intervals, all figures."""
    workshop = DANISH_HEADERS["workshop"]
    shares = workshop_theme_table(by_workshop, labels)
    counts = workshop_theme_table(by_workshop, labels, "n_texts")
    low, high = (workshop_theme_table(by_workshop, labels, bound) for bound in ("ci_low", "ci_high"))
    bounds = pd.concat([low.add_suffix(" nedre"), high.add_suffix(" øvre")], axis=1)
    bounds = bounds[[f"{name} {end}" for name in shares.columns for end in ("nedre", "øvre")]]

    def sheet(table: pd.DataFrame, number_format: str, texts: bool = False) -> _Table:
        frame = table.rename_axis(workshop).reset_index()
        if texts:
            frame.insert(1, "Tekster i alt", counts.sum(axis=1).to_numpy())
        formats = {column: number_format for column in table.columns} | ({"Tekster i alt": "0"} if texts else {})
        return _Table(frame, formats)

    long = by_workshop.drop(columns=["label"], errors="ignore").assign(
        label=by_workshop["theme"].map(lambda theme: labels.get(theme, theme)))  # fmt: skip
    order = ["workshop", "label", "n_texts", "weighted_frequency", "share", "ci_low", "ci_high", "theme"]
    return {
        "Andele": sheet(shares, _PERCENT, texts=True),
        "Tekster": sheet(counts, "0"),
        "95 %-intervaller": sheet(bounds, _PERCENT),
        "Alle tal": danish_table(long[[c for c in order if c in long.columns]], labels),
    }


def write_workshop_chart(by_workshop: pd.DataFrame, labels: Mapping[str, str], path: Path) -> None:
    """Heat map of theme shares per workshop, each cell labelled with its share."""
    workshop_chart(by_workshop, labels).savefig(path)


def wrap_label(label: str, width: int) -> str:
    """A label on lines of about ``width`` characters, split between words or after a hyphen, never
    inside a word ("Internationalisering" stays whole: a word cut without a hyphen reads as two)."""
    return "\n".join(textwrap.wrap(label, width, break_long_words=False)) or label


def workshop_chart(by_workshop: pd.DataFrame, labels: Mapping[str, str]):
    """The heat map of :func:`write_workshop_chart` as a matplotlib figure."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    table = workshop_theme_table(by_workshop, labels)
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


# --- the tables of a run ----------------------------------------------------------------------


def _assignments_table(result: RunResult) -> pd.DataFrame:
    table = result.assignments.copy()
    table["theme_label"] = table["theme"].map(lambda theme: result.taxonomy_labels.get(theme, theme))
    lead = ["text_id", "text", "source_file", "source_kind", "question", "workshop", "topic", "topic_label", "theme",
            "theme_label", "theme_score", "weight", "voices", "language", "is_danish"]  # fmt: skip
    lead = [c for c in lead if c in table.columns]
    memberships = [c for c in table.columns if c.startswith("p_")]
    rest = [c for c in table.columns if c not in lead and c not in memberships]
    return table[lead + memberships + rest]


def _readable_assignments(table: pd.DataFrame) -> pd.DataFrame:
    """For people, the theme label comes right after the text; ids and file names after."""
    first = [c for c in ("text", "theme_label", "theme_score", "workshop", "question", "source_kind", "weight") if c in table]
    return table[first + [c for c in table.columns if c not in first]]


def _long_frequencies(frequencies: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    blocks = []
    for breakdown, table in frequencies.items():
        group = table[breakdown].astype(str) if breakdown in table.columns else ""
        blocks.append(table.drop(columns=[breakdown], errors="ignore").assign(breakdown=breakdown, group=group))
    long = pd.concat(blocks, ignore_index=True)
    return long[["breakdown", "group", *[c for c in long.columns if c not in ("breakdown", "group")]]]


def _readable_frequencies(table: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """Label first, the theme id last; the group (workshop, question, …) before the label."""
    table = table.copy()
    if "label" not in table.columns:
        table["label"] = table["theme"].map(lambda theme: labels.get(theme, theme))
    if "breakdown" in table.columns:  # the long table: source kinds among the groups
        kinds = table["breakdown"] == "source_kind"
        table.loc[kinds, "group"] = table.loc[kinds, "group"].map(lambda kind: SOURCE_KIND_NAMES.get(kind, kind))
    groups = [c for c in ("breakdown", "group", "workshop", "question", "source_kind") if c in table.columns]
    first = [*groups, "label", "n_texts", "weighted_frequency", "share", "ci_low", "ci_high"]
    first = [c for c in first if c in table.columns]
    return table[first + [c for c in table.columns if c not in first]]


def _labelled_quotes(quotes: pd.DataFrame, grouping: str, names: Mapping) -> pd.DataFrame:
    labelled = quotes.rename(columns={grouping: "group"})
    labelled.insert(0, "grouping", grouping)
    labelled.insert(2, "label", labelled["group"].map(lambda value: names.get(value, str(value))))
    first = ["grouping", "group", "label", "rank", "text"]  # the quote next to its heading, provenance after
    return labelled[first + [c for c in labelled.columns if c not in first]]


def _readable_quotes(quotes: pd.DataFrame, grouping: str, names: Mapping) -> _Table:
    """One quote sheet: label, rank, quote, readable source, then provenance."""
    table = _labelled_quotes(quotes, grouping, names).drop(columns=["grouping"])
    table = table[["label", "group", *[c for c in table.columns if c not in ("label", "group")]]]
    table.insert(table.columns.get_loc("text") + 1, "source", [source(quote) for quote in table.to_dict("records")])
    header = GROUPING_NAMES[grouping]
    return danish_table(table, rename={"label": header, "group": f"{header}-id" if grouping == "theme" else "Emne-nr."})


def _emerging_table(emerging: pd.DataFrame) -> pd.DataFrame:
    table = emerging.reindex(columns=[c for c in EMERGING_SHEET_COLUMNS if c in emerging.columns]).copy()
    if "words" in table:
        table["words"] = table["words"].map(_words)
    if "quotes" in table:
        table["quotes"] = table["quotes"].map(lambda quotes: "\n".join(_quotes_list(quotes)))
    return table


def quoted_rows(emerging: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``assignments`` that an emerging theme quotes (by id or by text), in their order.

    :func:`emerging_quotes` runs per theme and file; a run may hold 100,000 texts.
    """
    quoted = pd.Series(False, index=assignments.index)
    for key, column in (("text_id", "quote_ids"), ("text", "quotes")):
        if key in assignments.columns and column in emerging.columns:
            keys = {value for values in emerging[column] for value in _quotes_list(values)}
            quoted |= assignments[key].astype(str).isin(keys)
    return assignments[quoted]


def emerging_quotes(theme: Mapping, assignments: pd.DataFrame) -> pd.DataFrame:
    """An emerging theme's quotes with their provenance, found by ``quote_ids`` (by text for a
    table without them: the first text that reads so)."""
    columns = ["text", "workshop", "question", "source_file", "source_kind"]
    texts, ids = _quotes_list(theme.get("quotes")), _quotes_list(theme.get("quote_ids"))
    key, keys = ("text_id", ids) if len(ids) == len(texts) and "text_id" in assignments.columns else ("text", texts)
    rows = assignments.loc[assignments[key].astype(str).isin(keys), [c for c in {key, *columns} if c in assignments.columns]]
    known = rows.drop_duplicates(key).set_index(rows.drop_duplicates(key)[key].astype(str))
    known = known[[c for c in columns if c in known.columns]]
    rows = [{**(known.loc[k].to_dict() if k in known.index else {}), "text": text} for k, text in zip(keys, texts)]
    return pd.DataFrame(rows, columns=columns)


# --- quotes as Markdown -----------------------------------------------------------------------


def ranked_themes(total: pd.DataFrame, themes: Sequence[str] = ()) -> list[str]:
    """The order every report shows themes in: by share in ``total`` (a frequency table), largest
    first, ``andet`` last; ``themes`` not in ``total`` or without a share follow in their order."""
    share = total.set_index("theme")["share"]
    themes = list(dict.fromkeys([*total["theme"], *themes]))
    ranked = sorted((t for t in themes if t != ANDET), key=lambda t: -share.get(t, -1.0) if pd.notna(share.get(t)) else 1.0)
    return ranked + ([ANDET] if ANDET in themes else [])


def in_report_order(total: pd.DataFrame) -> pd.DataFrame:
    """The rows of a frequency table (one per theme) in report order (:func:`ranked_themes`)."""
    return total.set_index("theme").loc[ranked_themes(total)].reset_index()


def _theme_order(result: RunResult) -> list[str]:
    """The taxonomy's themes and any theme with quotes, in report order (:func:`ranked_themes`)."""
    total = result.frequencies["total"]
    themes = set(result.taxonomy_labels) | set(result.quotes_by_theme["theme"])
    return [theme for theme in ranked_themes(total, [*result.taxonomy_labels, *result.quotes_by_theme["theme"]]) if theme in themes]


def _kind_counts(result: RunResult, theme: str) -> tuple[int, int]:
    """(participants' texts, note passages) whose theme is ``theme``."""
    texts = result.assignments
    if "theme" not in texts or "source_kind" not in texts:
        return 0, 0
    counted = texts["weight"] > 0 if "weight" in texts else True  # as the frequency table: passages weighing 0 do not count
    mine = texts["source_kind"][(texts["theme"] == theme) & counted]
    return int((mine != NOTE_KIND).sum()), int((mine == NOTE_KIND).sum())


def voice_name(column: str) -> str:
    """``share_deltagere`` -> ``Deltagere``: a source group's name as a column heading."""
    name = column.removeprefix(VOICE_PREFIX)
    return name[:1].upper() + name[1:]


def voice_columns(total: pd.DataFrame) -> list[str]:
    """The overall table's per-source-group share columns (answers, note), in their order."""
    return [column for column in total.columns if str(column).startswith(VOICE_PREFIX)]


# How each share estimator (WeightConfig.estimator) counts a text, for a reader.
_COUNTING = {
    "classify_and_count": "hver tekst tæller med sit tema",
    "probabilistic": "hver tekst tæller med sin sandsynlighed for hvert tema",
    "em": "hver tekst tæller med sin sandsynlighed for hvert tema, tilpasset kørslens egen fordeling",
}


def check_summary(check: Mapping) -> str:
    """``'Kontrolleret på 50 tilfældige tekster: 88 % enige med analytikeren.'`` from a validation's facts."""
    checked, rows = int(check["checked"]), int(check["rows"])
    sample = (f"{number(checked)} tilfældige tekster" if checked == rows
              else f"{number(checked)} af {number(rows)} udtrukne tekster (resten ikke udfyldt)")  # fmt: skip
    return f"Kontrolleret på {sample}: {number(100 * check['agreement'])} % enige med analytikeren."


def share_basis(result: RunResult) -> str:
    """What the published shares and their intervals rest on: said wherever the shares are shown."""
    check = result.manifest.get("validation")
    if check:
        return (f"{check_summary(check)} Andelene er rettet efter kontrollen, og 95 %-intervallet dækker både, hvilke "
                "tekster der blev skrevet, og usikkerheden i tildelingen af temaer.")  # fmt: skip
    estimator = ((result.manifest.get("config") or {}).get("weights") or {}).get("estimator", "classify_and_count")
    return (f"Andelen er temaets vægtede andel af alle input; {_COUNTING.get(estimator, _COUNTING['classify_and_count'])}. "
            "95 %-intervallet viser, hvor meget andelen afhænger af, hvilke tekster der blev skrevet, ikke "
            "usikkerheden i tildelingen af temaer (den måles med tematik validate).")  # fmt: skip


def theme_check(result: RunResult, theme: str) -> tuple[int, int] | None:
    """``(kept, checked)``: of the checked texts tematik gave ``theme``, how many the analyst kept there
    (None: no validation, or no text of the theme was checked)."""
    mine = (result.manifest.get("validation") or {}).get("by_theme", {}).get(theme)
    return (int(mine["kept"]), int(mine["checked"])) if mine else None


def theme_summary(result: RunResult, theme: str) -> str:
    """One short Danish paragraph: the theme's share with its interval, and what it rests on."""
    total = result.frequencies["total"].set_index("theme")
    answers, notes = _kind_counts(result, theme)
    basis = f"Temaet bygger på {number(answers)} svar fra deltagerne og {number(notes)} afsnit fra opsamlingen."  # same in plural
    if theme not in total.index or pd.isna(total.loc[theme, "share"]):
        return "Ingen tekster blev knyttet til temaet."
    row = total.loc[theme]
    share = f"{percent(row['share'])} af de vægtede input (95 %-interval {interval(row['ci_low'], row['ci_high'])})"
    voices = [f"{voice_name(column).lower()} {percent(row[column])}" for column in voice_columns(total.reset_index())]
    if voices:
        share += f"; {' og '.join(voices)}"
    check = theme_check(result, theme)
    if check:
        basis += (f" Kontrol: {number(check[0])} af de {number(check[1])} kontrollerede tekster, som tematik gav "
                  f"{'andet' if theme == ANDET else 'temaet'}, lå rigtigt.")  # fmt: skip
    if theme == ANDET:
        return f"Tekster, der ikke passer i nogen af temaerne, udgør {share}. {basis.replace('Temaet', 'Det')}"
    return f"{result.taxonomy_labels.get(theme, theme)} udgør {share}. {basis}"


def no_quotes_note(result: RunResult, theme: str) -> str:
    """What a theme's section says instead of quotes: why there are none ("Ingen tekster." only
    when the theme has no texts, never under a paragraph that counts them)."""
    if not sum(_kind_counts(result, theme)):
        return "Ingen tekster."
    if theme == ANDET:  # never examples of a theme: their groups are the emerging themes
        return "Tekster uden for temaerne citeres ikke som eksempler; de nye temaer samler dem i grupper."
    return "Ingen af temaets tekster kan citeres som eksempel: de er usikre på temaet eller ikke hele udsagn."


def emerging_summary(theme: Mapping) -> str:
    size = int(theme["size"]) if _present(theme.get("size")) else None
    parts = [f"{count(size, 'tekst', 'tekster')}" if size is not None else ""]
    if _present(theme.get("share")):
        parts.append(f"{percent(theme['share'])} af de vægtede input")
    sentence = ", ".join(part for part in parts if part)
    words = _words(theme.get("words"))
    return (f"{sentence[:1].upper()}{sentence[1:]}. " if sentence else "") + (f"Nøgleord: {words}." if words else "")


def quote_parts(quotes: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Participants' answers, then apart the note's excerpts ("Fra opsamlingen"): the parts
    that hold quotes, with their titles. A note condenses a discussion, an answer is one voice."""
    from_note = quotes["source_kind"].eq(NOTE_KIND) if "source_kind" in quotes.columns else pd.Series(False, index=quotes.index)
    parts = (("Deltagernes svar", quotes[~from_note]), ("Fra opsamlingen", quotes[from_note]))
    return [(title, part) for title, part in parts if not part.empty]


def _markdown_quotes(quotes: pd.DataFrame) -> list[str]:
    lines = []
    for title, part in quote_parts(quotes):
        lines += [f"**{title}**", ""]
        for quote in part.to_dict("records"):
            where = source(quote)
            lines += [f"> {quote['text']}", ">", f"> — {where}", ""] if where else [f"> {quote['text']}", ""]
    return lines or ["_Ingen tekster._", ""]


def _emerging_markdown(result: RunResult, level: int) -> list[str]:
    """The emerging themes under a heading of ``level`` (each theme one level below)."""
    lines = ["#" * level + " Nye temaer", "", EMERGING_INTRO, ""]
    if result.emerging.empty:
        return lines + ["_Ingen nye temaer: ingen gruppe af tekster uden for temaerne._", ""]
    quoted = quoted_rows(result.emerging, result.assignments)
    for theme in result.emerging.to_dict("records"):
        lines += ["#" * (level + 1) + f" {theme['name']}", "", emerging_summary(theme), ""]
        lines += _markdown_quotes(emerging_quotes(theme, quoted))
    return lines


def quotes_markdown(result: RunResult) -> str:
    lines = ["# Repræsentative citater", "", share_basis(result), ""]
    for theme in _theme_order(result):
        lines += [f"## {result.taxonomy_labels.get(theme, theme)}", "", theme_summary(result, theme), ""]
        theme_quotes = result.quotes_by_theme[result.quotes_by_theme["theme"] == theme]
        lines += _markdown_quotes(theme_quotes) if len(theme_quotes) else [f"_{no_quotes_note(result, theme)}_", ""]
    return "\n".join(lines + _emerging_markdown(result, level=2))


# --- quotes as Word -----------------------------------------------------------------------------

DOCX_LANGUAGE = "da-DK"
DOCX_TABLE_STYLE = "Light Grid Accent 1"
_PAGE_MM = (210, 297)  # A4
_MARGIN_MM = 25
_QUOTE_COLUMN_SHARE = 0.68  # of the text width; the source column gets the rest


def _docx_text(value) -> str:
    """Text for Word: XML-safe, and "23,5 %" kept on one line (a no-break space before %)."""
    return printable(str(value)).replace(" %", "\u00a0%")


def _set_language(rPr, language: str = DOCX_LANGUAGE) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    lang = rPr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rPr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    lang.set(qn("w:val"), language)


def set_document_language(document, language: str = DOCX_LANGUAGE) -> None:
    """Danish proofing everywhere Word looks: defaults, every style, every run, theme fonts."""
    from docx.oxml.ns import qn

    styles = document.styles.element
    for style in document.styles:
        style.element.get_or_add_rPr()
    for rPr in styles.iter(qn("w:rPr")):  # doc defaults, styles, table-style conditions
        _set_language(rPr, language)
    for run in document.element.body.iter(qn("w:r")):
        _set_language(run.get_or_add_rPr(), language)
    theme_lang = document.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:val"), language)
    document.core_properties.language = language


def _quote_table(document, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int], muted: bool = True):
    """A table over the full text width in normal weight: the style's bold first column off,
    the header row repeated on every page, rows not split across pages; ``muted``: the columns
    after the first (the source) in small grey type."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    table = document.add_table(rows=1, cols=len(header))
    table.style = document.styles[DOCX_TABLE_STYLE]
    table.autofit = False
    properties = table._tbl.tblPr
    look = properties.find(qn("w:tblLook"))
    if look is None:
        look = OxmlElement("w:tblLook")
        properties.append(look)
    for attribute, value in {"val": "0420", "firstRow": "1", "lastRow": "0", "firstColumn": "0", "lastColumn": "0",
                             "noHBand": "0", "noVBand": "1"}.items():  # fmt: skip
        look.set(qn(f"w:{attribute}"), value)
    table_width = properties.find(qn("w:tblW"))
    if table_width is not None:
        table_width.set(qn("w:type"), "dxa")
        table_width.set(qn("w:w"), str(int(sum(widths) / 635)))  # EMU -> twentieths of a point
    for cell, title in zip(table.rows[0].cells, header):
        cell.text = _docx_text(title)
    header_row = table.rows[0]._tr.get_or_add_trPr()
    header_row.append(OxmlElement("w:tblHeader"))
    for values in rows:
        row = table.add_row()
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for column, (cell, value) in enumerate(zip(row.cells, values)):
            run = cell.paragraphs[0].add_run(_docx_text(value))
            run.bold = False  # the table style makes the first column bold; quotes are not headings
            if muted and column > 0:
                run.font.size = Pt(9)
                run.font.color.rgb = RGBColor(0x40, 0x40, 0x40)
    for column, width in zip(table.columns, widths):
        column.width = width
    for row in table.rows:  # Word honours cell widths, LibreOffice the grid: set both
        for cell, width in zip(row.cells, widths):
            cell.width = width
    return table


def _quote_tables(document, quotes: pd.DataFrame, widths: Sequence[int]) -> None:
    """One table per part (:func:`quote_parts`)."""
    for title, part in quote_parts(quotes):
        rows = [(quote["text"], source(quote)) for quote in part.to_dict("records")]
        _quote_table(document, (title, "Kilde"), rows, widths)
        document.add_paragraph()


def _kept_of_checked(check: tuple[int, int] | None) -> str:
    return f"{number(check[0])} af {number(check[1])}" if check else MISSING


def overview_rows(result: RunResult) -> tuple[tuple[str, ...], list[tuple[str, tuple[str, ...]]]]:
    """The overview table of every report (Word, HTML): header and ``(theme id, cells)`` per theme in report order.

    Tema, Andel, 95 %-interval, each source group's own share (when there are several:
    the participants' and the note's), Tekster, and with a validation the check per theme.
    """
    total = result.frequencies["total"]
    voices = voice_columns(total)
    checked = bool(result.manifest.get("validation"))
    header = ("Tema", "Andel", "95 %-interval", *[voice_name(column) for column in voices], "Tekster",
              *(("Kontrol",) if checked else ()))  # fmt: skip
    indexed = total.set_index("theme")
    rows = []
    for theme in _theme_order(result):
        row = indexed.loc[theme] if theme in indexed.index else None
        rows.append((theme, (
            result.taxonomy_labels.get(theme, theme),
            percent(row["share"]) if row is not None else "–",
            interval(row["ci_low"], row["ci_high"]) if row is not None else "–",
            *[percent(row[column]) if row is not None else "–" for column in voices],
            number(row["n_texts"]) if row is not None and _present(row.get("n_texts")) else "–",
            *((_kept_of_checked(theme_check(result, theme)),) if checked else ()),
        )))  # fmt: skip
    return header, rows


def write_quotes_docx(result: RunResult, path: Path) -> None:
    """The Word file report writers paste from: A4, Danish, per theme a heading, a paragraph
    with the share and its interval, and quote tables; then the emerging themes."""
    import docx
    from docx.shared import Mm

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(_PAGE_MM[0]), Mm(_PAGE_MM[1])
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Mm(_MARGIN_MM)
    text_width = section.page_width - section.left_margin - section.right_margin
    quote_width = int(text_width * _QUOTE_COLUMN_SHARE)
    widths = (quote_width, text_width - quote_width)
    document.core_properties.title = "Repræsentative citater"

    document.add_heading("Repræsentative citater", level=0)
    document.add_paragraph(_docx_text(
        "Udsagnene er valgt som de mest centrale og indbyrdes forskellige pr. tema, i deltagernes egne ord. "
        "Deltagernes svar og uddrag fra opsamlingen står hver for sig. " + share_basis(result)
    ))
    header, overview = overview_rows(result)
    narrow, interval_width = int(text_width * 0.11), int(text_width * 0.2)
    first = text_width - interval_width - (len(header) - 2) * narrow
    _quote_table(document, header, [tuple(_docx_text(cell) for cell in cells) for _, cells in overview],
                 (first, narrow, interval_width, *[narrow] * (len(header) - 3)), muted=False)  # fmt: skip

    for theme, _ in overview:
        document.add_heading(_docx_text(result.taxonomy_labels.get(theme, theme)), level=1)
        document.add_paragraph(_docx_text(theme_summary(result, theme)))
        theme_quotes = result.quotes_by_theme[result.quotes_by_theme["theme"] == theme]
        if theme_quotes.empty:
            document.add_paragraph(_docx_text(no_quotes_note(result, theme)))
        _quote_tables(document, theme_quotes, widths)

    document.add_heading("Nye temaer", level=1)
    document.add_paragraph(EMERGING_INTRO)
    if result.emerging.empty:
        document.add_paragraph("Ingen nye temaer: ingen gruppe af tekster uden for temaerne.")
    quoted = quoted_rows(result.emerging, result.assignments)
    for theme in result.emerging.to_dict("records"):
        document.add_heading(_docx_text(theme["name"]), level=2)
        document.add_paragraph(_docx_text(emerging_summary(theme)))
        _quote_tables(document, emerging_quotes(theme, quoted), widths)
    set_document_language(document)
    document.save(path)


# --- the run folder -----------------------------------------------------------------------------


def _write_files(result: RunResult, folder: Path, config: ExportConfig) -> None:
    labels = result.taxonomy_labels
    names = topic_names(result.topics)
    assignments = _assignments_table(result)
    frequencies = _long_frequencies(result.frequencies)
    topics = result.topics.copy()
    if "theme" in topics.columns and "theme_label" not in topics.columns:
        topics.insert(topics.columns.get_loc("theme") + 1, "theme_label", topics["theme"].map(lambda t: labels.get(t, t)))
    if "words" in topics.columns:
        topics["words"] = topics["words"].map(_words)
    quotes = pd.concat([_labelled_quotes(result.quotes_by_theme, "theme", labels),
                        _labelled_quotes(result.quotes_by_topic, "topic", names)], ignore_index=True)  # fmt: skip

    # The largest file: on large runs a child process writes it while this one writes the rest.
    people_assignments = danish_table(_readable_assignments(assignments), labels)
    writing = processes.start(write_danish_csv, people_assignments, folder / "assignments.csv",
                              in_child=len(assignments) >= CHILD_WRITES_FROM_ROWS)  # fmt: skip
    try:
        write_danish_csv(danish_table(_readable_frequencies(frequencies, labels), labels), folder / "theme_frequencies.csv")
        write_danish_csv(danish_table(topics, labels), folder / "topics.csv")
        readable_quotes = quotes.copy()
        readable_quotes.insert(readable_quotes.columns.get_loc("text") + 1, "source",
                               [source(quote) for quote in readable_quotes.to_dict("records")])  # fmt: skip
        write_danish_csv(danish_table(readable_quotes, labels), folder / "quotes.csv")
        if config.machine_readable:
            data = folder / MACHINE_READABLE_FOLDER
            data.mkdir()
            write_machine_csv(assignments, data / "assignments.csv")
            write_machine_csv(frequencies, data / "theme_frequencies.csv")
            write_machine_csv(topics, data / "topics.csv")
            write_machine_csv(quotes, data / "quotes.csv")

        # "I alt" in report order (by share, andet last), as Word, HTML and the console show it.
        frequency_sheets = {SHEET_NAMES.get(name, name): danish_table(_readable_frequencies(
                                in_report_order(table) if name == "total" else table, labels), labels)
                            for name, table in result.frequencies.items()}  # fmt: skip
        write_xlsx(frequency_sheets, folder / "theme_frequencies.xlsx")
        quote_sheets = {"Temaer": _readable_quotes(result.quotes_by_theme, "theme", labels),
                        "Emner": _readable_quotes(result.quotes_by_topic, "topic", names),
                        "Nye temaer": danish_table(_emerging_table(result.emerging))}  # fmt: skip
        write_xlsx(quote_sheets, folder / "quotes.xlsx")

        (folder / "quotes.md").write_text(quotes_markdown(result), encoding="utf-8")
        (folder / "emerging_topics.md").write_text("\n".join(_emerging_markdown(result, level=1)), encoding="utf-8")
        write_quotes_docx(result, folder / "quotes.docx")
        write_theme_chart(result.frequencies["total"], labels, folder / "theme_shares.png")
        by_workshop = result.frequencies.get("workshop")
        if by_workshop is not None and by_workshop["workshop"].nunique() > 1:
            write_xlsx(workshop_theme_sheets(by_workshop, labels), folder / "workshop_themes.xlsx")
            write_workshop_chart(by_workshop, labels, folder / "workshop_themes.png")
        from pipeline.html_report import write_html_report

        write_html_report(result, folder / "report.html")
    finally:
        futures.wait([writing])  # never leave the child writing into a folder that may be removed
    writing.result()

    files = [
        {"name": path.relative_to(folder).as_posix(), "bytes": path.stat().st_size,
         "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        for path in sorted(folder.rglob("*")) if path.is_file()
    ]  # fmt: skip
    manifest = {**result.manifest, "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def write_run(result: RunResult, out_dir: str | Path, config: ExportConfig | None = None) -> Path:
    """Write ``result`` into the new folder ``out_dir`` (all files or none, via a staging folder;
    :mod:`pipeline.atomic`) and return it.

    Raises ``FileExistsError`` when ``out_dir`` exists and is not an empty folder; it is
    left untouched.
    """
    if "total" not in result.frequencies:
        raise ValueError("result.frequencies lacks the 'total' table")
    config = config or ExportConfig()
    return write_atomically(Path(out_dir), lambda staging: _write_files(result, staging, config))
