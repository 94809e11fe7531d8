"""The Markdown files: quotes.md (the overview table of the themes, then per theme a heading,
its paragraph and the quotes, the participants' answers and the note's excerpts apart; then
the emerging themes) and emerging_topics.md (the emerging themes alone).

The texts are the public's and are shown as written: what CommonMark would read as markup in
them (a "1) …" or "- …" answer as a list, "# …" as a heading, "<b>" as HTML, "*ord*" as
emphasis) is backslash-escaped (:func:`markdown_text`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pipeline.report import (
    EMERGING_INTRO, RunResult, emerging_quotes, emerging_summary, no_quotes_note, overview_rows, quote_parts, quoted_rows,
    share_basis, source, theme_order, theme_summary,
)

# Markup anywhere in a line: backslash escapes, code, emphasis, strikethrough, links, raw HTML, entities.
_INLINE_MARKUP = re.compile(r"[\\`*_~\[\]<]|&(?=#?\w+;)")
# Markup that starts a block at a line's beginning (its first character is escaped): a heading
# ("# …"), a block quote ("> …"), a list item ("- …", "+ …"), a setext underline or thematic
# break ("===", "---"); and a numbered list item ("1. …", "2) …": its dot or parenthesis).
_BLOCK_MARKER = re.compile(r"^(\s*)(#(?=#{0,5}(?:\s|$))|>|[-+](?=\s|$)|[=-](?=[=-]*\s*$))")
_NUMBERED_ITEM = re.compile(r"^(\s*\d{1,9})([.)])(?=\s|$)")
_LINE_BREAK = re.compile(r"\r\n?|\n")  # Markdown's line endings (str.splitlines would split at \x0b too)


def markdown_text(text: object) -> str:
    """``text`` as Markdown shows it, character for character: its markup characters escaped."""
    escaped = _INLINE_MARKUP.sub(lambda match: "\\" + match.group(), str(text))
    lines = (_NUMBERED_ITEM.sub(r"\1\\\2", _BLOCK_MARKER.sub(r"\1\\\2", line)) for line in _LINE_BREAK.split(escaped))
    return "\n".join(lines)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A table whose columns line up in the plain text too: the first column to the left, the others
    (numbers) to the right."""
    cells = [[markdown_text(cell).replace("|", "\\|") for cell in row] for row in [header, *rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) if column == 0 else cell.rjust(width)
                                 for column, (cell, width) in enumerate(zip(row, widths))) + " |"  # fmt: skip

    rule = "| " + " | ".join("-" * width if column == 0 else "-" * (width - 1) + ":" for column, width in enumerate(widths)) + " |"
    return [line(cells[0]), rule, *map(line, cells[1:]), ""]


def _blockquote(text: object, where: str) -> list[str]:
    """A quote and its source as one block quote: every line of the text inside it."""
    lines = [f"> {line}".rstrip() for line in markdown_text(text).split("\n")]
    return lines + ([">", f"> — {markdown_text(where)}"] if where else []) + [""]


def _markdown_quotes(quotes: pd.DataFrame) -> list[str]:
    lines = []
    for title, part in quote_parts(quotes):
        lines += [f"**{title}**", ""]
        for quote in part.to_dict("records"):
            lines += _blockquote(quote["text"], source(quote))
    return lines or ["_Ingen tekster._", ""]


def emerging_markdown(result: RunResult, level: int) -> list[str]:
    """The emerging themes under a heading of ``level`` (each theme one level below)."""
    lines = ["#" * level + " Nye temaer", "", EMERGING_INTRO, ""]
    if result.emerging.empty:
        return lines + ["_Ingen nye temaer: ingen gruppe af tekster uden for temaerne._", ""]
    quoted = quoted_rows(result.emerging, result.assignments)
    for theme in result.emerging.to_dict("records"):
        lines += ["#" * (level + 1) + f" {markdown_text(theme['name'])}", "", markdown_text(emerging_summary(theme)), ""]
        lines += _markdown_quotes(emerging_quotes(theme, quoted))
    return lines


def quotes_markdown(result: RunResult) -> str:
    header, overview = overview_rows(result)
    lines = ["# Repræsentative citater", "", share_basis(result), "", *markdown_table(header, [cells for _, cells in overview])]
    for theme in theme_order(result):
        label = markdown_text(result.taxonomy_labels.get(theme, theme))
        lines += [f"## {label}", "", markdown_text(theme_summary(result, theme)), ""]
        theme_quotes = result.quotes_by_theme[result.quotes_by_theme["theme"] == theme]
        lines += _markdown_quotes(theme_quotes) if len(theme_quotes) else [f"_{no_quotes_note(result, theme)}_", ""]
    return "\n".join(lines + emerging_markdown(result, level=2))




def write_markdown_files(result: RunResult, folder: Path) -> None:
    """quotes.md and emerging_topics.md."""
    (folder / "quotes.md").write_text(quotes_markdown(result), encoding="utf-8")
    (folder / "emerging_topics.md").write_text("\n".join(emerging_markdown(result, level=1)), encoding="utf-8")
