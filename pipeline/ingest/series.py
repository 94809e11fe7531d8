"""Which files belong to which workshop in a series run (several workshops analysed together).

Inputs are one of:

* a manifest: YAML mapping workshop -> file or list of files/folders
  (``{aalborg: [menti.xlsx, notat.docx], aarhus: aarhus/}``, optionally under a
  ``workshops:`` key), or a list of ``{name: ..., inputs: ...}``, or a CSV with columns ``workshop`` and ``path`` (or ``file``);
  relative paths are relative to the manifest;
* folders: every sub-folder with readable files is one workshop named after it; files
  directly in the folder belong to a workshop named after the folder;
* files: each file is its own workshop, named by its stem.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import yaml

from pipeline.errors import InputError, read_yaml, short, unreadable
from pipeline.ingest.files import expand_with_folders, folder_name, is_readable
from pipeline.ingest.tables import csv_rows
from pipeline.schema import TEXT_COLUMNS

_PATH_COLUMNS = ("path", "file", "fil", "sti")


def plan_series(inputs: Sequence[str | Path]) -> list[tuple[str, Path]]:
    """``[(workshop, file)]`` for every readable file of the series, in input order, without repeats."""
    plan: list[tuple[str, Path]] = []
    named_by_file: dict[str, Path] = {}
    for given in map(Path, inputs):
        try:
            entries = _entries(given)
        except OSError as error:  # a file or folder the system will not show (under /proc): named, in Danish
            raise unreadable(error, given) from None
        if entries is None:
            entries = [(given.stem, given)]
            other = named_by_file.setdefault(given.stem, given)
            if other != given:  # each file is a workshop of its own: two would silently become one
                raise InputError(given, f"hedder det samme som {other}, og hver fil er sin egen workshop, navngivet efter "
                                 "filen: giv filerne forskellige navne, eller brug et manifest (workshop: filer)")
        for workshop, path in entries:
            plan += [(workshop, file) for file in _files(path)]
    seen: set[Path] = set()
    unique = []
    for workshop, file in plan:
        if file.resolve() not in seen:
            seen.add(file.resolve())
            unique.append((workshop, file))
    return unique


def workshops_from_column(texts, column: str | None):
    """``texts`` with each row's workshop taken from ``column`` where it has a value (``None``: unchanged);
    a blank cell (a table's empty cell reads as "") keeps the row's workshop from its folder or file."""
    if not column:
        return texts
    own = [name for name in texts.columns if name not in TEXT_COLUMNS]  # the tables' own columns, kept as read
    if column not in texts.columns:  # "kommune" for a column headed "Kommune"
        column = next((name for name in own if str(name).strip().casefold() == column.strip().casefold()), column)
    if column not in texts.columns:
        said = f"tabellernes øvrige kolonner: {', '.join(own)}" if own else "tabellerne har ingen andre kolonner end teksten"
        raise InputError(None, f"ingen kolonne '{column}' i inputtenes tabeller ({said})")
    named = texts[column].astype("string").str.strip().replace("", pd.NA)
    texts["workshop"] = named.fillna(texts["workshop"]).astype(str)
    return texts


def _entries(given: Path) -> list[tuple[str, Path]] | None:
    """``[(workshop, file or folder)]`` of a manifest or a folder of workshops; None for a file, its own workshop."""
    if given.is_file() and _is_manifest(given):
        return _manifest_entries(given)
    if given.is_dir():
        return _folder_entries(given)
    return None


def _files(path: Path) -> list[Path]:
    return [file for file, _ in expand_with_folders([path])[0]]


def _folder_entries(folder: Path) -> list[tuple[str, Path]]:
    subfolders = [p for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith((".", "~$"))]
    workshops = [(p.name, p) for p in subfolders if any(is_readable(f) for f in p.rglob("*"))]
    loose = [(folder_name(folder), p) for p in sorted(folder.iterdir()) if p.is_file() and is_readable(p)]
    if not workshops:
        return [(folder_name(folder), folder)]
    return loose + workshops


def _is_manifest(path: Path) -> bool:
    if path.suffix.lower() in (".yaml", ".yml"):
        return True
    if path.suffix.lower() != ".csv":
        return False
    header = next((row for row in csv_rows(path)[0] if any(cell.strip() for cell in row)), [])
    names = {cell.strip().casefold() for cell in header}
    return "workshop" in names and bool(names & set(_PATH_COLUMNS))


def _named_workshops(path: Path, workshops: list) -> dict:
    """A manifest's list of workshops, ``{name: ..., inputs: file or [files]}`` each, as {name: inputs}."""
    named = {}
    for number, workshop in enumerate(workshops, start=1):
        if not (isinstance(workshop, dict) and workshop.get("name") and workshop.get("inputs")):
            raise InputError(path, "en workshop skal have name og inputs", where=f"post {number}")
        if str(workshop["name"]) in named:
            raise InputError(path, f"workshoppen '{short(workshop['name'])}' står to gange", where=f"post {number}")
        named[str(workshop["name"])] = workshop["inputs"]
    return named


def _manifest_entries(path: Path) -> list[tuple[str, Path]]:
    base = path.parent
    if path.suffix.lower() == ".csv":
        rows = [row for row in csv_rows(path)[0] if any(cell.strip() for cell in row)]
        names = [cell.strip().casefold() for cell in rows[0]]
        w, p = names.index("workshop"), next(names.index(c) for c in _PATH_COLUMNS if c in names)
        pairs = [(row[w].strip() if len(row) > w else "", row[p].strip() if len(row) > p else "") for row in rows[1:]]
    else:
        data = read_yaml(path, "ugyldigt manifest") or {}
        _check_names_unique(path)
        data = data.get("workshops", data) if isinstance(data, dict) else data
        if isinstance(data, list):  # [{name: Aalborg, inputs: [...]}, ...], as the README shows it
            data = _named_workshops(path, data)
        if not isinstance(data, dict):
            raise InputError(path, "ugyldigt manifest: forventede 'workshop: filer' for hver workshop")
        pairs = [(str(name), item) for name, items in data.items()
                 for item in ((items or [None]) if isinstance(items, list) else [items])]  # []: no files, said below
    entries = []
    for number, (workshop, item) in enumerate(pairs, start=1):
        if not workshop or not item:
            what = f"workshoppen '{short(workshop)}' har ingen fil eller mappe" if workshop else "posten mangler en workshop"
            raise InputError(path, what, where=f"post {number}")
        if not isinstance(item, str):
            message = f"forventede stien til en fil eller mappe, ikke {short(item)}"
            raise InputError(path, message, where=f"post {number}")
        target = Path(item) if Path(item).is_absolute() else base / item
        if "\x00" in item or not target.exists():  # a NUL byte makes the file system call raise ValueError
            raise InputError(path, f"'{item}' findes ikke", where=f"workshop '{workshop}'")
        entries.append((workshop, target))
    if not entries:
        raise InputError(path, "manifestet nævner ingen filer")
    return entries


def _check_names_unique(path: Path) -> None:
    """A workshop named twice in a YAML mapping is refused: PyYAML keeps the last of two equal keys,
    so the first one's files would silently be left out of the series."""
    node = yaml.compose(path.read_text(encoding="utf-8"))  # valid and bounded: read_yaml read it first
    if isinstance(node, yaml.MappingNode):
        node = next((value for key, value in node.value if key.value == "workshops"), node)
    if not isinstance(node, yaml.MappingNode):
        return
    seen: set[str] = set()
    for key in (key for key, _ in node.value if isinstance(key, yaml.ScalarNode)):
        if key.value in seen:
            raise InputError(path, f"workshoppen '{short(key.value)}' står to gange", where=f"linje {key.start_mark.line + 1}")
        seen.add(key.value)
