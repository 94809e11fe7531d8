"""Prefect artifacts that make a run's page in the UI a readable summary."""

from __future__ import annotations

from pathlib import Path

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from pipeline.danish import interval, percent
from pipeline.report import RunResult, in_report_order, share_basis, source, voice_columns, voice_name
from pipeline.writers.markdown import markdown_text


def publish_artifacts(result: RunResult, output_dir: Path, top_quotes: int = 3) -> None:
    """A theme-frequency table, the top quotes per theme, and a link to the output folder."""
    total = in_report_order(result.frequencies["total"])  # as the reports list the themes
    voices = voice_columns(total)
    create_table_artifact(
        key="theme-frequencies",
        table=[
            {
                "tema": row["label"],
                "tekster": int(row["n_texts"]),
                "vægtet hyppighed": round(float(row["weighted_frequency"]), 2),
                "andel": percent(row["share"]),
                "95 %-interval": interval(row["ci_low"], row["ci_high"]),
                **{f"andel, {voice_name(column).lower()}": percent(row[column]) for column in voices},
            }
            for row in total.to_dict("records")
        ],
        description=f"Vægtede temahyppigheder for hele kørslen. {share_basis(result)}",
    )

    lines = ["# Udvalgte citater pr. tema", ""]
    quotes = result.quotes_by_theme
    for theme_id in total["theme"]:
        label = result.taxonomy_labels.get(theme_id, theme_id)
        chosen = quotes[quotes["theme"] == theme_id].sort_values("rank").head(top_quotes)
        if chosen.empty:
            continue
        lines += [f"## {label}", ""]
        lines += [f"> {markdown_text(quote['text'])}\n>\n> — *{markdown_text(source(quote))}*\n" for quote in chosen.to_dict("records")]
    create_markdown_artifact(key="top-quotes", markdown="\n".join(lines), description="Citater pr. tema")

    create_link_artifact(
        key="output-folder",
        link=Path(output_dir).resolve().as_uri(),
        link_text=str(output_dir),
        description="Mappen med alle eksporter fra kørslen",
    )
