"""A run's tables for people and for programs, shared by the CSV and XLSX writers.

For programs: the schema's column ids, full precision (:func:`assignments_table`,
:func:`long_frequencies`, :func:`topics_table`, :func:`quotes_table`). For people:
:func:`danish_table` gives Danish headers and values (the report model's
:data:`~pipeline.report.DANISH_HEADERS`) and an Excel number format per column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from pipeline.report import (
    DANISH_HEADERS, GROUPING_NAMES, SOURCE_KIND_NAMES, VALUE_NAMES, VOICE_PREFIX, RunResult, emerging_quotes,
    in_report_order, joined_words, quoted_rows, source, topic_names,
)

# The emerging themes' sheet: per quote its theme's columns people read (the ids stay in the data), then the
# quote with its source and provenance, as in the quote sheets.
EMERGING_SHEET_COLUMNS = ["name", "size", "weighted_size", "share", "words"]
EMERGING_QUOTE_COLUMNS = ["rank", "text", "source", "workshop", "question", "source_file", "source_kind"]

# Excel number formats by column id (Excel stores "." and shows the reader's locale: 13,8%).
PERCENT = "0.0%"
NUMBER_FORMATS = {
    "share": PERCENT, "ci_low": PERCENT, "ci_high": PERCENT, "weighted_frequency": "0.0", "weighted_size": "0.0",
    "weight": "0.00", "voices": "0", "n_texts": "0", "size": "0", "rank": "0", "topic": "0", "theme_score": "0.00",
    "centrality": "0.000",
}  # fmt: skip
MEMBERSHIP_FORMAT = "0.000"  # p_<theme>
# The overall table's share of each source group on its own (pipeline.weighting.source_group_shares).


@dataclass
class Table:
    """A table ready for people: Danish headers and values, an Excel number format per column, and
    ``note``: what its figures rest on, said under it (:func:`~pipeline.report.share_basis`)."""

    frame: pd.DataFrame
    formats: dict[str, str]
    note: str = ""


def number_format_of(column: str, values: pd.Series) -> str | None:
    if column in NUMBER_FORMATS and pd.api.types.is_numeric_dtype(values):  # an input column may share the name
        return NUMBER_FORMATS[column]
    if column.startswith("p_"):
        return MEMBERSHIP_FORMAT
    if column.startswith(VOICE_PREFIX) and pd.api.types.is_numeric_dtype(values):
        return PERCENT
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    return "0" if pd.api.types.is_integer_dtype(values) else "0.000"


def danish_table(
    frame: pd.DataFrame, labels: Mapping[str, str] | None = None, rename: Mapping[str, str] | None = None
) -> Table:
    """``frame`` with Danish headers (``rename`` first, then :data:`DANISH_HEADERS`; ``p_<theme>``
    becomes "Medlemskab: <label>") and Danish values (source kinds, breakdowns, ja/nej)."""
    labels = labels or {}
    table, formats, headers = frame.copy(), {}, {}
    for column in table.columns:
        values = table[column]
        number_format = number_format_of(str(column), values)
        if str(column) in VALUE_NAMES:
            names = VALUE_NAMES[str(column)]
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
    return Table(table.rename(columns=headers), formats)


# --- the tables of a run ----------------------------------------------------------------------


def assignments_table(result: RunResult) -> pd.DataFrame:
    table = result.assignments.copy()
    table["theme_label"] = table["theme"].map(lambda theme: result.taxonomy_labels.get(theme, theme))
    lead = ["text_id", "text", "source_file", "source_kind", "question", "workshop", "topic", "topic_label", "theme",
            "theme_label", "theme_score", "weight", "voices", "language", "is_danish"]  # fmt: skip
    lead = [c for c in lead if c in table.columns]
    memberships = [c for c in table.columns if c.startswith("p_")]
    rest = [c for c in table.columns if c not in lead and c not in memberships]
    return table[lead + memberships + rest]


def readable_assignments(table: pd.DataFrame) -> pd.DataFrame:
    """For people, the theme label comes right after the text; ids and file names after."""
    first = [c for c in ("text", "theme_label", "theme_score", "workshop", "question", "source_kind", "weight") if c in table]
    return table[first + [c for c in table.columns if c not in first]]


def long_frequencies(frequencies: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every breakdown's table under the overall one, each in report order (:func:`~pipeline.report.in_report_order`)."""
    blocks = []
    for breakdown, table in frequencies.items():
        table = in_report_order(table, frequencies["total"])
        group = table[breakdown].astype(str) if breakdown in table.columns else ""
        blocks.append(table.drop(columns=[breakdown], errors="ignore").assign(breakdown=breakdown, group=group))
    long = pd.concat(blocks, ignore_index=True)
    return long[["breakdown", "group", *[c for c in long.columns if c not in ("breakdown", "group")]]]


def readable_frequencies(table: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
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


def labelled_quotes(quotes: pd.DataFrame, grouping: str, names: Mapping) -> pd.DataFrame:
    labelled = quotes.rename(columns={grouping: "group"})
    labelled.insert(0, "grouping", grouping)
    labelled.insert(2, "label", labelled["group"].map(lambda value: names.get(value, str(value))))
    first = ["grouping", "group", "label", "rank", "text"]  # the quote next to its heading, provenance after
    return labelled[first + [c for c in labelled.columns if c not in first]]


def readable_quotes(quotes: pd.DataFrame, grouping: str, names: Mapping) -> Table:
    """One quote sheet: label, rank, quote, readable source, then provenance."""
    table = labelled_quotes(quotes, grouping, names).drop(columns=["grouping"])
    table = table[["label", "group", *[c for c in table.columns if c not in ("label", "group")]]]
    table.insert(table.columns.get_loc("text") + 1, "source", [source(quote) for quote in table.to_dict("records")])
    header = GROUPING_NAMES[grouping]
    return danish_table(table, rename={"label": header, "group": f"{header}-id" if grouping == "theme" else "Emne-nr."})


def emerging_table(emerging: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """One row per quote of the emerging themes (biggest theme first): its theme's name, size, share and
    words, then the quote's rank, text and source (:func:`~pipeline.report.source`) and its provenance,
    as in the quote sheets; a theme without quotes has one row without them."""
    themes = emerging.reindex(columns=[c for c in EMERGING_SHEET_COLUMNS if c in emerging.columns])
    if "words" in themes:
        themes = themes.assign(words=themes["words"].map(joined_words))
    quoted = quoted_rows(emerging, assignments)
    blocks = []
    for (_, facts), theme in zip(themes.iterrows(), emerging.to_dict("records")):
        quotes = emerging_quotes(theme, quoted)
        quotes.insert(0, "rank", range(1, len(quotes) + 1))
        quotes.insert(2, "source", [source(quote) for quote in quotes.to_dict("records")])
        rows = quotes if len(quotes) else pd.DataFrame([{}], columns=EMERGING_QUOTE_COLUMNS)
        blocks.append(rows.assign(**facts.to_dict())[[*themes.columns, *EMERGING_QUOTE_COLUMNS]])
    if not blocks:
        return pd.DataFrame(columns=[*themes.columns, *EMERGING_QUOTE_COLUMNS])
    return pd.concat(blocks, ignore_index=True)


def topics_table(result: RunResult) -> pd.DataFrame:
    """The topics with their theme's label after the theme id, words as "a, b, c"."""
    labels = result.taxonomy_labels
    topics = result.topics.copy()
    if "theme" in topics.columns and "theme_label" not in topics.columns:
        topics.insert(topics.columns.get_loc("theme") + 1, "theme_label", topics["theme"].map(lambda t: labels.get(t, t)))
    if "words" in topics.columns:
        topics["words"] = topics["words"].map(joined_words)
    return topics


def quotes_table(result: RunResult) -> pd.DataFrame:
    """The quotes per theme, then per topic, each with its grouping, group and label."""
    return pd.concat([labelled_quotes(result.quotes_by_theme, "theme", result.taxonomy_labels),
                      labelled_quotes(result.quotes_by_topic, "topic", topic_names(result.topics))],
                     ignore_index=True)  # fmt: skip


def workshop_theme_table(
    by_workshop: pd.DataFrame, labels: Mapping[str, str], values: str = "share", order: Sequence[str] | None = None
) -> pd.DataFrame:
    """Workshops as rows, themes (labels) as columns in ``order`` (the reports': :func:`~pipeline.report.theme_order`;
    None: the taxonomy's), ``values`` (share, n_texts, ci_low, …) as cells."""
    table = by_workshop.pivot(index="workshop", columns="theme", values=values)
    order = [theme for theme in (labels if order is None else order) if theme in table.columns]
    return table[order].rename(columns=lambda theme: labels.get(theme, theme))
