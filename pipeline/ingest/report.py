"""What ingestion read from each file and what normalisation did to it, in plain words."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

REPORT_ATTR = "tematik_ingest"  # DataFrame.attrs key: a file's report travels with its frame
_UNIT = {"mentimeter": ("answer", "answers", "question", "questions"),
         "table": ("answer", "answers", "question", "questions"),
         "note": ("passage", "passages", "section", "sections")}


@dataclass
class Extract:
    """A reader's result for one file: rows (text_id, text, question, weight, extras) and how it was read."""

    rows: list[dict]
    layout: str
    skipped_questions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    n_questions: int | None = None  # None: count the distinct questions of the rows


@dataclass
class FileReport:
    source_file: str
    source_kind: str
    layout: str
    n_read: int
    n_questions: int
    skipped_questions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    n_empty: int = 0
    n_merged: int = 0
    n_texts: int = 0
    weight: float = 0.0

    def summary_line(self) -> str:
        one, many, group, groups = _UNIT.get(self.source_kind, _UNIT["table"])
        line = (
            f"{self.source_file}: {self.n_read} {one if self.n_read == 1 else many} "
            f"({self.n_questions} {group if self.n_questions == 1 else groups}; {self.layout}), "
            f"{self.n_empty} empty dropped, {self.n_merged} duplicates merged -> {self.n_texts} texts"
        )
        if self.skipped_questions:
            skipped = "; ".join(self.skipped_questions)
            line += f"; skipped {len(self.skipped_questions)} non-text question(s): {skipped}"
        return "; ".join([line, *self.notes])


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)

    @property
    def n_read(self) -> int:
        return sum(f.n_read for f in self.files)

    @property
    def n_empty(self) -> int:
        return sum(f.n_empty for f in self.files)

    @property
    def n_merged(self) -> int:
        return sum(f.n_merged for f in self.files)

    @property
    def n_texts(self) -> int:
        return sum(f.n_texts for f in self.files)

    def summary_lines(self) -> list[str]:
        """One plain-language line per file, then skipped files and a total when there are several."""
        lines = [f.summary_line() for f in self.files]
        if self.skipped_files:
            lines.append(f"not read: {len(self.skipped_files)} file(s) in the folders: {', '.join(self.skipped_files)}")
        if len(self.files) > 1:
            weight = sum(f.weight for f in self.files)
            lines.append(
                f"total: {self.n_texts} texts from {len(self.files)} files ({self.n_read} read, "
                f"{self.n_empty} empty dropped, {self.n_merged} duplicates merged, weight {weight:g})"
            )
        return lines

    def to_records(self) -> list[dict]:
        """Plain dicts for a run manifest."""
        return [asdict(f) for f in self.files]


def attach_report(frame: pd.DataFrame, report: FileReport) -> pd.DataFrame:
    frame.attrs[REPORT_ATTR] = asdict(report)
    return frame


def report_of(frame: pd.DataFrame) -> FileReport:
    """The report a reader attached, or one rebuilt from the columns for frames made elsewhere."""
    stored = frame.attrs.get(REPORT_ATTR)
    if stored:
        return FileReport(**stored)
    first = frame.iloc[0] if len(frame) else {}
    return FileReport(
        source_file=str(first.get("source_file", "?")),
        source_kind=str(first.get("source_kind", "table")),
        layout="table",
        n_read=len(frame),
        n_questions=int(frame["question"].nunique()) if "question" in frame else 0,
    )
