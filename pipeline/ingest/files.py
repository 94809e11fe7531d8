"""Input files before any parsing: which ones to read, and the checks every format shares.

Checks here turn the usual ways a file is unreadable (missing, empty, password-protected,
corrupt, undecodable) into one-line :class:`InputError` messages naming the file.
"""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import charset_normalizer
import docx
from docx.opc.exceptions import PackageNotFoundError
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from pipeline.errors import InputError

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".tsv"}
NOTE_SUFFIXES = {".docx", ".md", ".markdown", ".txt", ".pdf"}
READABLE_SUFFIXES = WORKBOOK_SUFFIXES | CSV_SUFFIXES | NOTE_SUFFIXES
# Formats people plausibly pass by mistake, with the fix.
_SAVE_AS_HINT = {
    ".xls": ".xlsx", ".ods": ".xlsx", ".numbers": ".xlsx", ".doc": ".docx", ".odt": ".docx", ".rtf": ".docx"
}
# Password-protected Office files are not zip packages but OLE compound files ("CFB"),
# whatever their extension says; so are pre-2007 .xls/.doc files.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def is_readable(path: Path) -> bool:
    """A file a folder's expansion reads: supported extension, not hidden, not an Office lock file
    (``~$x.docx``), not a README (documentation of the folder, not workshop material)."""
    return (
        path.suffix.lower() in READABLE_SUFFIXES
        and not path.name.startswith((".", "~$"))
        and not path.name.casefold().startswith("readme")
    )


def expand_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Files to read: files as given, folders expanded to their readable files (sorted, recursive)."""
    return [file for file, _ in expand_with_folders(paths)[0]]


def expand_with_folders(paths: Iterable[str | Path]) -> tuple[list[tuple[Path, Path | None]], list[str]]:
    """``[(file, folder it came from or None)]`` without repeats, and the unsupported files skipped in folders."""
    found: list[tuple[Path, Path | None]] = []
    skipped: list[str] = []
    seen: set[Path] = set()
    for given in map(Path, paths):
        if given.is_dir():
            inside = [p for p in sorted(given.rglob("*")) if p.is_file() and not _hidden(p.relative_to(given))]
            files = [p for p in inside if is_readable(p)]
            skipped += [str(p.relative_to(given)) for p in inside if not is_readable(p)]
            if not files:
                raise InputError(given, "no readable files in folder (" + ", ".join(sorted(READABLE_SUFFIXES)) + ")")
            candidates = [(p, given) for p in files]
        elif given.exists():
            candidates = [(given, None)]
        else:
            raise InputError(given, "file or folder not found")
        for file, folder in candidates:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                found.append((file, folder))
    if not found:
        raise InputError(None, "no input files given")
    return found, skipped


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "~$")) for part in relative.parts)


def folder_name(folder: Path) -> str:
    return folder.name or folder.resolve().name


def default_workshop_name(paths: Sequence[str | Path]) -> str:
    """The first input folder's name, else the first file's stem."""
    paths = [Path(p) for p in paths]
    folders = [p for p in paths if p.is_dir()]
    if folders:
        return folder_name(folders[0])
    if not paths:
        raise InputError(None, "no input files given")
    return paths[0].stem


def check_file(path: Path) -> bytes:
    """The file's first bytes, after the checks common to all formats (exists, not empty, supported)."""
    suffix = path.suffix.lower()
    if suffix not in READABLE_SUFFIXES:
        hint = f"; save it as {_SAVE_AS_HINT[suffix]}" if suffix in _SAVE_AS_HINT else ""
        supported = ", ".join(sorted(READABLE_SUFFIXES))
        raise InputError(path, f"unsupported file type '{suffix or path.name}'{hint} (supported: {supported})")
    if not path.is_file():
        raise InputError(path, "file not found")
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head:
        raise InputError(path, "file is empty")
    if head == OLE_MAGIC and suffix in WORKBOOK_SUFFIXES | {".docx"}:
        raise InputError(path, "file is password-protected (encrypted); remove the password in Office and save again")
    return head


def open_workbook(path: Path) -> openpyxl.Workbook:
    """Open an .xlsx for reading cell values (cached formula results, not formulas)."""
    check_file(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InputError(path, f"not a readable Excel workbook (corrupt or another format: {_reason(exc)})") from None


def open_document(path: Path) -> docx.document.Document:
    check_file(path)
    try:
        return docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, PackageNotFoundError) as exc:
        raise InputError(path, f"not a readable Word document (corrupt or another format: {_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0] or type(exc).__name__


def read_text(path: Path) -> tuple[str, str]:
    """The text of a CSV/TXT/MD file and the encoding used.

    UTF-8 (with or without BOM) and UTF-16 with BOM first; then Windows-1252, which is
    what Danish Excel writes for "CSV (semikolonsepareret)"; then charset-normalizer's
    guess. Text full of control characters is binary, not text.
    """
    check_file(path)
    data = path.read_bytes()
    boms = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    for bom, encoding in boms:
        if data.startswith(bom):
            return _decode(path, data, encoding), encoding
    for encoding in ("utf-8", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text, encoding
    guess = charset_normalizer.from_bytes(data).best()
    if guess is not None and _looks_like_text(str(guess)):
        return str(guess), guess.encoding
    raise InputError(path, "cannot decode the file as text (not UTF-8, Windows-1252 or another known encoding)")


def _decode(path: Path, data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(path, f"cannot decode the file as {encoding} (byte {exc.start})") from None
    if not _looks_like_text(text):
        raise InputError(path, f"cannot decode the file as text ({encoding} gives control characters)")
    return text


def _looks_like_text(text: str) -> bool:
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f") + text.count("\x7f")
    return control <= len(text) // 1000
