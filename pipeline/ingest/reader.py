"""Ingestion's entry points: files in, one table of texts (schema in :mod:`pipeline.schema`) out."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.atomic import file_in_the_way
from pipeline.config import IngestConfig
from pipeline.danish import count, number
from pipeline.errors import InputError, os_problem, unreadable
from pipeline.ingest import mentimeter, notes, tables
from pipeline.ingest.files import (
    CSV_SUFFIXES,
    WORKBOOK_SUFFIXES,
    check_file,
    expand_with_folders,
    folder_name,
)
from pipeline.ingest.normalise import MAX_TEXT_CHARS, normalise_texts
from pipeline.ingest.report import Extract, FileReport, IngestReport, attach_report, report_of
from pipeline.schema import TEXT_COLUMNS, check_texts, empty_texts, protect_added_columns, unique_text_ids

_NOTE_READERS = {
    ".docx": notes.docx_extract,
    ".md": notes.markdown_extract,
    ".markdown": notes.markdown_extract,
    ".txt": notes.text_extract,
    ".pdf": notes.pdf_extract,
}


@dataclass
class Ingested:
    texts: pd.DataFrame
    report: IngestReport


def read_inputs(paths: Sequence[str | Path] | str | Path, config: IngestConfig | None = IngestConfig()) -> Ingested:
    """Read files and folders into one normalised, deduplicated table of texts.

    A folder is expanded to the readable files inside it (recursively, sorted), and its
    name is their workshop unless ``config.workshop`` is set; a file given directly
    belongs to workshop ``config.workshop`` or its stem.
    """
    config = config or IngestConfig()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files, skipped = expand_with_folders(paths)
    frames = []
    for file, folder in files:
        if folder is not None and config.workshop is None:
            frames.append(read_file(file, config.model_copy(update={"workshop": folder_name(folder)})))
        else:
            frames.append(read_file(file, config))
    return combine(frames, skipped_files=skipped)


def read_file(path: str | Path, config: IngestConfig | None = IngestConfig()) -> pd.DataFrame:
    """One file's texts as read: schema columns plus extras, not yet normalised or deduplicated.

    The file's report (layout, skipped questions) travels in ``frame.attrs`` for :func:`combine`.
    """
    path, config = Path(path), config or IngestConfig()
    try:
        check_file(path)
        kind, extract = _extract(path, config)
    except OSError as error:  # no access, or a system file that reads as an error (/proc/self/mem): named, in Danish
        raise unreadable(error, path) from None
    frame = pd.DataFrame(extract.rows) if extract.rows else empty_texts()
    frame["source_file"] = path.name
    frame["source_kind"] = kind
    frame["workshop"] = config.workshop or path.stem
    frame["text"] = frame["text"].astype(object)
    frame["weight"] = frame["weight"].astype(float)
    extras = [c for c in frame.columns if c not in TEXT_COLUMNS]
    frame = frame[TEXT_COLUMNS + extras]
    n_questions = extract.n_questions if extract.n_questions is not None else int(frame["question"].nunique())
    report = FileReport(
        path.name, kind, extract.layout, len(frame), n_questions, extract.skipped_questions, extract.notes
    )
    return attach_report(frame, report)


def _extract(path: Path, config: IngestConfig) -> tuple[str, Extract]:
    suffix = path.suffix.lower()
    if suffix in _NOTE_READERS:
        return "note", _NOTE_READERS[suffix](path, config)
    if suffix in CSV_SUFFIXES:
        rows, layout = tables.csv_rows(path)
        if mentimeter.is_voters_header(next((r for r in rows if any(c.strip() for c in r)), None)):
            return "mentimeter", mentimeter.mentimeter_extract(path, {None: rows}, config)
        return "table", tables.table_extract(path, {None: rows}, layout, config)
    assert suffix in WORKBOOK_SUFFIXES, suffix  # check_file refused everything else
    grids, formula_notes, hidden, merged = tables.workbook_grids(path)
    layout = mentimeter.detect_layout(grids)
    if layout in ("sessions", "voters"):
        kind, extract = "mentimeter", mentimeter.mentimeter_extract(path, grids, config)
    else:
        try:
            kind, extract = "table", tables.table_extract(path, grids, "Excel", config, hidden, merged)
        except InputError:
            if layout == "unknown":  # Mentimeter-like sheet names, but neither layout nor a text column
                mentimeter.mentimeter_extract(path, grids, config)
            raise
    extract.notes = formula_notes + extract.notes
    return kind, extract


def combine(frames: Sequence[pd.DataFrame], skipped_files: Sequence[str] = ()) -> Ingested:
    """Frames from :func:`read_file` as one table: ids made unique, texts normalised, duplicates merged."""
    reports = [report_of(frame) for frame in frames]
    names = ", ".join(r.source_file for r in reports) or "inputtet"
    filled = [frame.assign(_file=i) for i, frame in enumerate(frames) if len(frame)]
    if not filled:
        raise InputError(None, f"ingen tekster fundet i {names}")
    texts = protect_added_columns(pd.concat(filled, ignore_index=True))
    texts["text_id"] = unique_text_ids(texts["text_id"])
    texts, stats = normalise_texts(texts, count_by="_file")
    if texts.empty:
        empty = number(sum(stats.empty.values()))
        raise InputError(None, f"ingen tekster fundet i {names} (alle {empty} svar er tomme)")
    kept = texts.groupby("_file")["weight"].agg(["size", "sum"])
    for i, report in enumerate(reports):
        report.n_empty, report.n_merged = stats.empty.get(i, 0), stats.merged.get(i, 0)
        if stats.cut.get(i):
            report.notes.append(_cut_note(stats.cut[i]))
        report.n_texts = int(kept["size"].get(i, 0))
        report.weight = float(kept["sum"].get(i, 0.0))
    texts = texts.drop(columns="_file")
    texts.attrs = {}
    return Ingested(check_texts(texts), IngestReport(reports, list(skipped_files)))


def _cut_note(text_ids: list[str]) -> str:
    """The warning for texts cut to MAX_TEXT_CHARS, naming them (file and row are in their ids)."""
    shown = ", ".join(text_ids[:5]) + (f" og {number(len(text_ids) - 5)} flere" if len(text_ids) > 5 else "")
    what = count(len(text_ids), "tekst", "tekster")
    return f"advarsel: {what} over {number(MAX_TEXT_CHARS)} tegn afkortet ({shown})"


def check_texts_target(path: str | Path, inputs: Sequence[str | Path]) -> None:
    """The table of texts (``tematik ingest --out``) may be written to ``path``: not a folder, not one of
    the ``inputs`` (inputs are never modified). Checked before the inputs are read."""
    path = Path(path)
    try:
        is_folder, exists = path.is_dir(), path.exists()
        blocking = file_in_the_way(path.parent)
    except OSError as error:  # a place the system will not show (under /proc)
        raise InputError(error.filename or path, f"teksttabellen kan ikke skrives ({os_problem(error, 'skrive')})") from None
    if is_folder:
        raise InputError(path, "er en mappe; angiv CSV-filen, fx " + str(path / "tekster.csv"))
    if exists and any(path.samefile(file) for file, _ in expand_with_folders(inputs)[0]):
        raise InputError(path, "er en af inputfilerne; vælg et andet navn til teksttabellen (input ændres aldrig)")
    if blocking is not None:
        raise InputError(path, f"mappen til teksttabellen kan ikke oprettes: {blocking} er en fil, ikke en mappe")


def write_texts_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the table as UTF-8 with BOM (so Excel shows æøå); atomically, never half-written.
    No cell evaluates: formula-like texts get a leading apostrophe, as in a run's CSV files."""
    from pipeline.formulas import neutralise

    path = Path(path)
    frame = frame.map(neutralise).rename(columns=neutralise)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8-sig", newline="") as out:
            frame.to_csv(out, index=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
