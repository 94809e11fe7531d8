"""The analyst's check: a validation sample of a run's texts, written as a sheet and read back.

``tematik validate models/<run id> --sample 50 -o kontrol.xlsx`` draws texts at random,
stratified by the theme tematik decided (every decided theme gets at least
``MIN_PER_THEME`` texts, the rest in proportion to the theme's weighted share; seeded),
and writes them to an Excel sheet with an empty column *Korrekt tema* (a drop-down of
the taxonomy's labels and ``andet``). The analyst fills it in; ``tematik validate …
--labels kontrol.xlsx`` reads it back into a
:class:`~pipeline.prevalence.MappingCorrection`, with which every share is corrected and
every interval includes the mapping's uncertainty (:mod:`pipeline.weighting`).

A row is read by its ``Tekst-id``; a correct theme may be given by its id or its label
(any case and spacing). The sheet may be edited as analysts do: columns reordered, headers
retyped, a title row added above them, the sheet renamed. Rows left blank are not used (a partly filled sheet is fine: the export says
on how many texts the check rests). Unknown ids, unknown themes and a text listed twice
are one-line errors naming the sheet and row; so is a sheet with no answer at all. The
sheet keeps a digest of the run's decided themes: a sheet from another run, or from
this run before ``tematik edit`` changed a theme, is refused (the confusion it measured
belongs to the old mapping).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError, short
from pipeline.prevalence import MappingCorrection
from pipeline.schema import ANDET
from pipeline.taxonomy import as_typed, theme_names

SHEET = "Kontrol"
# The workbook's custom property holding the run's decided themes when the sample was drawn.
FINGERPRINT_PROPERTY = "tematik-temaer"
THEMES_SHEET = "Temaer"
# Headers of the sheet (Danish: analysts fill it in).
ID_HEADER = "Tekst-id"
TEXT_HEADER = "Tekst"
SOURCE_HEADER = "Kilde"
DECIDED_HEADER = "tematiks tema"
CORRECT_HEADER = "Korrekt tema"
MIN_PER_THEME = 3
# Texts to check per class (each theme and andet) for corrected shares within ~0.06 of the
# truth: benchmarks/quality.py's simulated checks (median share error over 20 draws) gave
# 0.013-0.034 at 50 texts on our six-theme sets, but 0.085 at 50 and 0.061 at 100 on the
# eleven-theme kommune-11; the held-out ten-theme trivsel-10 then gave 0.055 at 90.
CHECKS_PER_CLASS = 8


def allocation(sizes: Mapping[str, float], counts: Mapping[str, int], n: int, minimum: int = MIN_PER_THEME) -> dict[str, int]:
    """Texts to draw per decided theme: ``minimum`` each (or all it has), the rest by weighted ``sizes``.

    ``counts``: how many texts each theme has (the most it can give). The total is ``n``,
    or every text when there are fewer; when ``n`` is too small for every theme's
    minimum, the largest themes get theirs first. Each further text goes to the theme
    furthest below its proportional share.
    """
    themes = sorted(theme for theme in counts if counts[theme] > 0)
    n = min(n, sum(counts[theme] for theme in themes))
    total = sum(sizes.get(theme, 0.0) for theme in themes) or 1.0
    take = dict.fromkeys(themes, 0)
    for theme in sorted(themes, key=lambda theme: -sizes.get(theme, 0.0)):
        take[theme] = min(counts[theme], minimum, n - sum(take.values()))
    while sum(take.values()) < n:
        room = [theme for theme in themes if take[theme] < counts[theme]]
        theme = max(room, key=lambda theme: n * sizes.get(theme, 0.0) / total - take[theme])
        take[theme] += 1
    return take


def recommended_sample_size(n_themes: int) -> int:
    """How many texts a check should have for a taxonomy of ``n_themes`` (andet is one class more):
    ``CHECKS_PER_CLASS`` per class, rounded up to ten (six themes: 60, eleven: 100)."""
    return -(-CHECKS_PER_CLASS * (n_themes + 1) // 10) * 10


def fingerprint(assignments: pd.DataFrame) -> str:
    """A digest of every text's decided theme: an edit after the sample was drawn changes it."""
    pairs = sorted(zip(assignments["text_id"].astype(str), assignments["theme"].astype(str)))
    return hashlib.sha256("\n".join(f"{text_id}\t{theme}" for text_id, theme in pairs).encode("utf-8")).hexdigest()


def draw_sample(assignments: pd.DataFrame, n: int, random_state: int = 42) -> pd.DataFrame:
    """``n`` counted texts (weight > 0), stratified by decided theme, in a random order (seeded)."""
    counted = assignments[assignments["weight"] > 0]
    if counted.empty:
        raise InputError(None, "kørslen har ingen optalte tekster at kontrollere")
    sizes = counted.groupby("theme")["weight"].sum().to_dict()
    counts = counted["theme"].value_counts().to_dict()
    take = allocation(sizes, counts, n)
    rng = np.random.default_rng(random_state)
    picked = []
    for theme in sorted(take):
        rows = np.flatnonzero(counted["theme"].to_numpy() == theme)
        picked.extend(rng.choice(rows, size=take[theme], replace=False).tolist())
    picked = rng.permutation(np.asarray(picked, dtype=int))  # not grouped by theme: each text read on its own
    return counted.iloc[picked].reset_index(drop=True)


def write_sheet(sample: pd.DataFrame, labels: Mapping[str, str], path: Path, run_id: str, run_fingerprint: str) -> None:
    """The sheet the analyst fills in (see the module docstring); ``labels``: {theme id: label}, andet included;
    ``run_fingerprint``: :func:`fingerprint` of the run's assignments."""
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from pipeline.report import source
    from pipeline.formulas import keep_as_text, printable

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append([ID_HEADER, TEXT_HEADER, SOURCE_HEADER, DECIDED_HEADER, CORRECT_HEADER])
    for row in sample.to_dict("records"):
        sheet.append([printable(str(row["text_id"])), printable(str(row["text"])), printable(source(row)),
                      labels.get(row["theme"], row["theme"]), None])  # fmt: skip
    for cells in sheet.iter_rows(min_row=2, max_col=3):
        for cell in cells:
            keep_as_text(cell)  # an answer "=HYPERLINK(...)" is shown as written, never evaluated
    themes = workbook.create_sheet(THEMES_SHEET)
    themes.append(["Tema", "Tema-id"])
    for theme, label in labels.items():
        themes.append([label, theme])
    themes.sheet_state = "hidden"
    # The run the sample was drawn from, for the analyst; its decided themes, checked when the sheet is read back.
    workbook.properties.identifier = run_id
    workbook.properties.title = f"Kontrol af temaer: {run_id}"
    workbook.custom_doc_props.append(StringProperty(name=FINGERPRINT_PROPERTY, value=run_fingerprint))

    last = len(sample) + 1
    choice = DataValidation(type="list", formula1=f"{THEMES_SHEET}!$A$2:$A${len(labels) + 1}", allow_blank=True,
                            showErrorMessage=True, errorTitle="Ukendt tema",
                            error="Vælg et tema fra listen (eller 'andet').")  # fmt: skip
    sheet.add_data_validation(choice)
    choice.add(f"E2:E{max(last, 2)}")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDE", (28, 70, 36, 28, 28)):
        sheet.column_dimensions[column].width = width
    for cells in sheet.iter_rows(min_row=2, min_col=2, max_col=3):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:E{max(last, 2)}"
    workbook.save(path)


@dataclass(frozen=True)
class Validation:
    """A filled-in sheet: the correction it measures, and how much of the sheet was filled in."""

    correction: MappingCorrection
    n_rows: int
    sheet: Path

    @property
    def n_checked(self) -> int:
        return self.correction.n_checked

    def facts(self) -> dict:
        """For the manifest and the reports: sizes, agreement overall and per decided theme."""
        by_theme = self.correction.agreement_by_class()
        return {
            "sheet": self.sheet.name,
            "rows": self.n_rows,
            "checked": self.n_checked,
            "agreement": self.correction.agreement(),
            "by_theme": {row.theme: {"checked": int(row.checked), "kept": int(row.kept)} for row in by_theme.itertuples()},
        }


# Rows above the header an analyst may have added (a title, a note); the header is looked for in these.
_HEADER_SEARCH_ROWS = 10


def _header_cells(sheet) -> list[tuple[int, dict[str, int]]]:
    """Each of the sheet's first rows as (its number, {id or answer column: its position}) for the
    columns it names, by name in any order, case and spacing."""
    wanted = {as_typed(name): name for name in (ID_HEADER, CORRECT_HEADER)}
    return [(number, {wanted[key]: position for position, key in enumerate(map(as_typed, row)) if key in wanted})
            for number, row in enumerate(sheet.iter_rows(max_row=_HEADER_SEARCH_ROWS, values_only=True), start=1)]  # fmt: skip


def _header(cells: list[tuple[int, dict[str, int]]]) -> tuple[int, dict[str, int]] | None:
    """The header row among :func:`_header_cells`: the first that names both columns; None when none does."""
    return next(((number, found) for number, found in cells if len(found) == 2), None)


def read_sheet(path: Path, assignments: pd.DataFrame, labels: Mapping[str, str]) -> Validation:
    """The analyst's answers as a :class:`Validation` against the run's ``assignments`` (with its edits)."""
    from openpyxl import load_workbook

    path = Path(path)
    if path.is_dir():
        raise InputError(path, "er en mappe; angiv det udfyldte kontrolark (.xlsx)")
    if not path.is_file():
        raise InputError(path, "kontrolarket findes ikke")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise InputError(path, "kontrolarket skal være den Excel-fil (.xlsx), tematik validate --sample skrev; en kopi "
                         f"gemt som {path.suffix.lstrip('.').upper() or 'tekst'} har mistet kørslens fingeraftryk")  # fmt: skip
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # zip, XML or openpyxl's own errors: not an xlsx file it can read
        raise InputError(path, "kan ikke læses som Excel-fil (beskadiget eller et andet format)") from None
    try:
        # The sheet tematik wrote, or that sheet renamed: the first visible sheet with the two columns.
        if SHEET in workbook.sheetnames:
            sheet = workbook[SHEET]
            cells = _header_cells(sheet)
        else:
            found = ((sheet, _header_cells(sheet)) for sheet in workbook.worksheets if sheet.sheet_state == "visible")
            sheet, cells = next(((sheet, cells) for sheet, cells in found if _header(cells)), (None, []))
        if sheet is None:
            raise InputError(path, f"arket '{SHEET}' mangler: brug det ark, tematik validate --sample skrev")
        name, header = sheet.title, _header(cells)
        if header is None:
            seen = {column for _, named in cells for column in named}
            missing = [column for column in (ID_HEADER, CORRECT_HEADER) if column not in seen]
            what = f"kolonnen {missing[0]} mangler" if len(missing) == 1 else f"kolonnerne {ID_HEADER} og {CORRECT_HEADER} mangler"
            raise InputError(path, what, where=f"ark '{name}'")
        header_row, columns = header
        drawn_from = next((p.value for p in workbook.custom_doc_props.props if p.name == FINGERPRINT_PROPERTY), None)
        records = [(number, row) for number, row in enumerate(sheet.iter_rows(min_row=header_row + 1, values_only=True),
                                                              start=header_row + 1)
                   if any(cell is not None and str(cell).strip() for cell in row)]  # fmt: skip
    finally:
        workbook.close()
    if drawn_from != fingerprint(assignments):
        raise InputError(path, "kørslens temaer er rettet (tematik edit), siden arket blev trukket, eller arket er fra "
                         "en anden kørsel: træk et nyt kontrolark")  # fmt: skip

    themes = theme_names(labels)
    decided_now = dict(zip(assignments["text_id"].astype(str), assignments["theme"].astype(str)))
    weight_of = dict(zip(assignments["text_id"].astype(str), assignments["weight"].astype(float)))
    seen: set[str] = set()
    decided, correct, weights, ids = [], [], [], []

    def cell(row: tuple, name: str) -> str:
        position = columns[name]
        value = row[position] if position < len(row) else None
        return "" if value is None else str(value).strip()

    for number, row in records:
        where = f"ark '{name}', række {number}"
        text_id = cell(row, ID_HEADER)
        if not text_id:
            raise InputError(path, f"{ID_HEADER} mangler", where=where)
        if text_id not in decided_now:
            raise InputError(path, f"ukendt {ID_HEADER} '{short(text_id)}': ikke en tekst i kørslen", where=where)
        if text_id in seen:
            raise InputError(path, f"{ID_HEADER} '{short(text_id)}' står to gange", where=where)
        seen.add(text_id)
        answer = cell(row, CORRECT_HEADER)
        if not answer:
            continue
        theme = themes.get(as_typed(answer))
        if theme is None:
            raise InputError(path, f"ukendt tema '{short(answer)}' i '{CORRECT_HEADER}': vælg et fra listen", where=where)
        decided.append(decided_now[text_id])
        correct.append(theme)
        weights.append(weight_of[text_id])
        ids.append(text_id)
    if not correct:
        raise InputError(path, f"ingen rækker har et '{CORRECT_HEADER}' udfyldt", where=f"ark '{name}'")
    classes = tuple(labels) if ANDET in labels else (*labels, ANDET)
    correction = MappingCorrection(classes=classes, decided=tuple(decided), correct=tuple(correct), weights=tuple(weights),
                                   text_ids=tuple(ids))  # fmt: skip
    return Validation(correction=correction, n_rows=len(records), sheet=path)
