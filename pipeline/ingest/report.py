"""What ingestion read from each file and what normalisation did to it, in plain Danish words."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from pipeline.danish import count, number

REPORT_ATTR = "tematik_ingest"  # DataFrame.attrs key: a file's report travels with its frame
# What a file's texts and their groups are called: a note's passages are its paragraphs ("afsnit"),
# grouped under headings; the same words as in the exports.
_UNIT = {"mentimeter": ("svar", "svar", "spørgsmål", "spørgsmål"),
         "table": ("svar", "svar", "spørgsmål", "spørgsmål"),
         "note": ("afsnit", "afsnit", "overskrift", "overskrifter")}


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
            f"{self.source_file}: {count(self.n_read, one, many)} ({count(self.n_questions, group, groups)}; "
            f"{self.layout}), {_dropped_and_merged(self.n_empty, self.n_merged)} -> {count(self.n_texts, 'tekst', 'tekster')}"
        )
        if self.skipped_questions:
            skipped = "; ".join(self.skipped_questions)
            line += f"; {len(self.skipped_questions)} spørgsmål uden fritekst sprunget over: {skipped}"
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
            skipped = count(len(self.skipped_files), "fil", "filer")
            lines.append(f"ikke læst: {skipped} i mapperne: {', '.join(self.skipped_files)}")
        if len(self.files) > 1:
            total = sum(f.weight for f in self.files)
            weight = number(total, 0 if float(total).is_integer() else 2)
            lines.append(
                f"i alt: {count(self.n_texts, 'tekst', 'tekster')} fra {number(len(self.files))} filer "
                f"({number(self.n_read)} læst, {_dropped_and_merged(self.n_empty, self.n_merged)}, "
                f"vægt {weight})"
            )
        return lines

    def to_records(self) -> list[dict]:
        """Plain dicts for a run manifest."""
        return [asdict(f) for f in self.files]


def _dropped_and_merged(n_empty: int, n_merged: int) -> str:
    """``2 tomme fjernet, 1 dublet slået sammen``; the texts are neuter nouns (svar, afsnit), hence "tomt"."""
    return f"{count(n_empty, 'tomt', 'tomme')} fjernet, {count(n_merged, 'dublet', 'dubletter')} slået sammen"


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
