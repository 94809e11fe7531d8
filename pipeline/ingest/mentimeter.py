"""Mentimeter exports: free-text answers per question, from either of two layouts.

* Session sheets ("Session 1", ...): each question is a block of label rows in column A
  (``Question N``, ``Type``, ``Question``, maybe ``Responses``), then an ``Answer``
  header row with the answers below it (a Q&A block may add an upvotes column).
* A ``Voters`` sheet (or the CSV export): one row per voter with ``Date (UTC)``,
  ``Session``, ``Voter`` and one column per question. Question types are only known
  when a type row sits under the header; without one, number-only columns are taken
  for scales and skipped, every other column is read as free text.

Only free-text questions are read (open ended, word cloud, Q&A); multiple choice,
scales, rankings etc. are skipped and listed in the report. When a workbook has both
layouts, the session sheets are read (they carry types and upvotes) and the Voters
sheet, which repeats the same answers, is not.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from openpyxl.utils import get_column_letter

from pipeline.config import IngestConfig
from pipeline.danish import number
from pipeline.errors import InputError, short
from pipeline.ingest.normalise import is_number_or_date
from pipeline.ingest.report import Extract
from pipeline.ingest.tables import cell_text, sheet_key

Grids = dict[str | None, list[list[object]]]

_QUESTION_ROW = re.compile(r"^\s*question\s+(\d+)\s*$", re.IGNORECASE)
_ANSWER_HEADERS = {"answer", "answers", "svar"}
_UPVOTE_HEADERS = {"upvotes", "upvote", "votes", "likes", "stemmer"}
_VOTER_META = {"date (utc)", "date", "time", "timestamp", "session", "voter", "voter id", "participant"}
_MENTIMETER_SHEETS = re.compile(r"^(presentation|voters|session \d+)$", re.IGNORECASE)
# Question types as keys without spaces or punctuation ("Word Cloud" -> "wordcloud", "Q&A" -> "qa").
FREE_TEXT_TYPES = {"": "open", "open": "open", "openended": "open", "freetext": "open", "text": "open",
                   "wordcloud": "wordcloud", "qa": "qa", "qanda": "qa", "questionsfromaudience": "qa"}
_OTHER_TYPES = {"multiplechoice", "choices", "scales", "scale", "ranking", "points", "100points", "2x2grid",
                "pinonimage", "quiz", "selectanswer", "typeanswer", "slider", "rating"}
_WORD_SEPARATORS = re.compile(r"[,;\r\n]+")


def _answer_text(value: object) -> str | None:
    """None when there is no answer; "" for an answer that is only whitespace (dropped and counted later)."""
    if value is None or value == "":
        return None
    return cell_text(value) or ""


def _type_key(value: object) -> str:
    return re.sub(r"[^a-z0-9]", "", (cell_text(value) or "").casefold())


def _is_question_row(row: list[object]) -> bool:
    return bool(row) and isinstance(row[0], str) and bool(_QUESTION_ROW.match(row[0]))


def _first_filled(rows: list[list[object]]) -> list[object] | None:
    return next((row for row in rows if any(cell_text(c) for c in row)), None)


def is_voters_header(row: list[object] | None) -> bool:
    names = {(cell_text(c) or "").strip().casefold() for c in row or []}
    return "voter" in names and bool(names & {"session", "date (utc)", "date"})


def detect_layout(grids: Grids) -> str | None:
    """"sessions", "voters", "unknown" (looks like Mentimeter, layout not recognised) or None (not Mentimeter)."""
    if any(_is_question_row(row) for rows in grids.values() for row in rows):
        return "sessions"
    if any(is_voters_header(_first_filled(rows)) for rows in grids.values()):
        return "voters"
    names = [name for name in grids if name]
    first_cells = [str((_first_filled(rows) or [""])[0]).strip().casefold() for rows in grids.values()]
    if any(_MENTIMETER_SHEETS.match(name) for name in names) or "presentation" in first_cells:
        return "unknown"
    return None


def mentimeter_extract(path: Path, grids: Grids, config: IngestConfig) -> Extract:
    layout = detect_layout(grids)
    if layout == "sessions":
        return _sessions_extract(path, grids, config)
    if layout == "voters":
        return _voters_extract(path, grids, config)
    raise InputError(path, "ukendt Mentimeter-layout (forventede blokke med 'Question N' eller et ark 'Voters')")


def _answers(text: str | None, kind: str, config: IngestConfig) -> list[str]:
    """One cell's answers: a word-cloud cell with several words gives one answer per word."""
    if text is None:
        return []
    if kind == "wordcloud" and config.wordcloud_split:
        return [word.strip() for word in _WORD_SEPARATORS.split(text) if word.strip()] or [text]
    return [text]


def _add_answers(rows: list[dict], base_id: str, text: str | None, kind: str, config, **fields) -> None:
    answers = _answers(text, kind, config)
    for k, answer in enumerate(answers, start=1):
        rows.append({"text_id": base_id if len(answers) == 1 else f"{base_id}.{k}", "text": answer, **fields})


def _sessions_extract(path: Path, grids: Grids, config: IngestConfig) -> Extract:
    rows: list[dict] = []
    skipped: list[str] = []
    notes: list[str] = []
    questions: set[str] = set()
    for sheet, grid in grids.items():
        starts = [i for i, row in enumerate(grid) if _is_question_row(row)]
        for start, end in zip(starts, starts[1:] + [len(grid)]):
            block = grid[start:end]
            question_number = _QUESTION_ROW.match(block[0][0]).group(1)
            header = next((i for i, row in enumerate(block) if row and _type_key(row[0]) in _ANSWER_HEADERS), None)
            labels = {
                _type_key(row[0]): next((c for c in row[1:] if cell_text(c)), None)
                for row in block[1 : header if header is not None else len(block)]
                if row and cell_text(row[0])
            }
            question = cell_text(labels.get("question")) or f"Spørgsmål {question_number}"
            type_name = cell_text(labels.get("type")) or ""
            kind = FREE_TEXT_TYPES.get(_type_key(type_name))
            where = f"ark '{sheet}', Question {question_number}"
            if kind is None:
                skipped.append(f"'{question}' ({type_name})")
                continue
            questions.add(question)
            if header is None:
                notes.append(f"{where}: ingen overskrift 'Answer', ingen svar læst")
                continue
            header_keys = [_type_key(c) for c in block[header]]
            upvotes = next((j for j, key in enumerate(header_keys) if key in _UPVOTE_HEADERS), None)
            n_answers = 0
            for offset, row in enumerate(block[header + 1 :], start=header + 1):
                text = _answer_text(row[0]) if row else None
                if text is None:
                    continue
                n_answers += 1
                votes = _upvotes(path, row, upvotes, f"ark '{sheet}', række {start + offset + 1}")
                base_id = f"{path.stem}:{sheet_key(grids, sheet)}:r{start + offset + 1}"
                _add_answers(rows, base_id, text, kind, config, question=question, weight=1.0 + votes, session=sheet)
            expected = labels.get("responses")
            if isinstance(expected, (int, float)) and int(expected) != n_answers:
                notes.append(f"{where}: {number(n_answers)} svar, men eksporten angiver {number(int(expected))} (Responses)")
    return Extract(rows, "Mentimeter, session-ark", skipped_questions=skipped, notes=notes, n_questions=len(questions))


def _upvotes(path: Path, row: list[object], column: int | None, where: str) -> float:
    if column is None or column >= len(row) or cell_text(row[column]) is None:
        return 0.0
    try:
        votes = float(str(cell_text(row[column])).replace(",", "."))
    except ValueError:
        votes = math.nan
    if not math.isfinite(votes):  # "inf" and "nan" parse as floats
        raise InputError(path, f"antal upvotes '{short(cell_text(row[column]))}' er ikke et tal", where=where)
    return max(votes, 0.0)


def _voters_extract(path: Path, grids: Grids, config: IngestConfig) -> Extract:
    rows: list[dict] = []
    skipped: list[str] = []
    questions: set[str] = set()
    for sheet, grid in grids.items():
        head = next((i for i, row in enumerate(grid) if any(cell_text(c) for c in row)), None)
        if head is None or not is_voters_header(grid[head]):
            continue
        names = [(cell_text(c) or "").strip() for c in grid[head]]
        meta = {name.casefold(): j for j, name in enumerate(names) if name.casefold() in _VOTER_META}
        body = grid[head + 1 :]
        types = _type_row(body[0] if body else [], names, meta)
        if types is not None:
            body, first_row = body[1:], head + 3
        else:
            first_row = head + 2
        session_col = meta.get("session")
        prefix = f"{path.stem}:{sheet_key(grids, sheet)}" if sheet else path.stem
        for j, question in enumerate(names):
            if not question or j in meta.values():
                continue
            cells = [_answer_text(row[j]) if j < len(row) else None for row in body]
            type_name = (cell_text(types[j]) or "") if types is not None and j < len(types) else ""
            kind = FREE_TEXT_TYPES.get(_type_key(type_name))
            answered = [c for c in cells if c]
            if types is None and answered and all(is_number_or_date(c) for c in answered):
                kind, type_name = None, "kun tal"
            if kind is None:
                skipped.append(f"'{question}' ({type_name})")
                continue
            questions.add(question)
            for n, (row, text) in enumerate(zip(body, cells), start=first_row):
                session = cell_text(row[session_col]) if session_col is not None and session_col < len(row) else None
                base_id = f"{prefix}:r{n}:{get_column_letter(j + 1)}"
                _add_answers(rows, base_id, text, kind, config, question=question, weight=1.0, session=session or sheet)
    return Extract(rows, "Mentimeter, Voters-tabel", skipped_questions=skipped, n_questions=len(questions))


def _type_row(row: list[object], names: list[str], meta: dict[str, int]) -> list[object] | None:
    """The row under the header when it holds question types instead of answers."""
    if any(cell_text(row[j]) for j in meta.values() if j < len(row)):
        return None
    keys = [_type_key(row[j]) for j in range(min(len(row), len(names))) if j not in meta.values() and cell_text(row[j])]
    known = set(FREE_TEXT_TYPES) | _OTHER_TYPES
    return row if keys and all(key in known for key in keys) else None
