"""The Markdown files: quotes.md (per theme a heading, its paragraph and the quotes, the
participants' answers and the note's excerpts apart; then the emerging themes) and
emerging_topics.md (the emerging themes alone)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.report import (
    EMERGING_INTRO, RunResult, emerging_quotes, emerging_summary, no_quotes_note, quote_parts, quoted_rows, share_basis,
    source, theme_order, theme_summary,
)


def _markdown_quotes(quotes: pd.DataFrame) -> list[str]:
    lines = []
    for title, part in quote_parts(quotes):
        lines += [f"**{title}**", ""]
        for quote in part.to_dict("records"):
            where = source(quote)
            lines += [f"> {quote['text']}", ">", f"> — {where}", ""] if where else [f"> {quote['text']}", ""]
    return lines or ["_Ingen tekster._", ""]


def emerging_markdown(result: RunResult, level: int) -> list[str]:
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
    for theme in theme_order(result):
        lines += [f"## {result.taxonomy_labels.get(theme, theme)}", "", theme_summary(result, theme), ""]
        theme_quotes = result.quotes_by_theme[result.quotes_by_theme["theme"] == theme]
        lines += _markdown_quotes(theme_quotes) if len(theme_quotes) else [f"_{no_quotes_note(result, theme)}_", ""]
    return "\n".join(lines + emerging_markdown(result, level=2))




def write_markdown_files(result: RunResult, folder: Path) -> None:
    """quotes.md and emerging_topics.md."""
    (folder / "quotes.md").write_text(quotes_markdown(result), encoding="utf-8")
    (folder / "emerging_topics.md").write_text("\n".join(emerging_markdown(result, level=1)), encoding="utf-8")
