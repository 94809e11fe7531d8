"""Input files before any parsing: which ones to read, and the checks every format shares.

Checks here turn the usual ways a file is unreadable (missing, empty, too large,
password-protected, corrupt, a zip bomb, undecodable) into one-line :class:`InputError`
messages naming the file. The parsers of Office files and PDFs raise dozens of exception
types on damaged input (zipfile, lxml, openpyxl, python-docx, pypdf); they are caught where
the parser runs and nowhere else, so an exception from tematik's own code stays a bug.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import charset_normalizer
import docx
import openpyxl

from pipeline.danish import listing, number
from pipeline.errors import InputError, unreadable

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".tsv"}
NOTE_SUFFIXES = {".docx", ".md", ".markdown", ".txt", ".pdf"}
READABLE_SUFFIXES = WORKBOOK_SUFFIXES | CSV_SUFFIXES | NOTE_SUFFIXES
# Formats people plausibly pass by mistake, with the fix.
_SAVE_AS_HINT = {
    ".xls": ".xlsx", ".ods": ".xlsx", ".numbers": ".xlsx", ".doc": ".docx", ".odt": ".docx", ".rtf": ".docx",
    ".pages": ".docx",
}
# Password-protected Office files are not zip packages but OLE compound files ("CFB"),
# whatever their extension says; so are pre-2007 .xls/.doc files.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A file whose content is another format than its extension says (a PDF saved as "notat.docx", a
# workbook renamed "svar.csv") is named for what it is: what each extension should hold, and what
# a zip package or an OLE file holds by the parts or streams it has.
_SHOULD_BE = {".xlsx": "en Excel-projektmappe", ".xlsm": "en Excel-projektmappe", ".docx": "et Word-dokument",
              ".pdf": "en PDF-fil"}  # fmt: skip
_ZIP_PARTS = {"xl/workbook.xml": ("en Excel-projektmappe", ".xlsx"), "word/document.xml": ("et Word-dokument", ".docx"),
              "ppt/presentation.xml": ("en PowerPoint-præsentation", None), "mimetype": ("et OpenDocument-dokument", None)}
_OLD_OFFICE_STREAMS = {"WordDocument": ("et Word-dokument i det gamle format (.doc)", ".docx"),
                       "Workbook": ("en Excel-projektmappe i det gamle format (.xls)", ".xlsx"),
                       "Book": ("en Excel-projektmappe i det gamle format (.xls)", ".xlsx")}  # Excel 5/95
# Workshop inputs are kilobytes to a few megabytes (a note with photos: tens). Far larger
# files are mistakes or attacks; reading them would exhaust memory before failing.
MAX_FILE_BYTES = 256 * 1024**2
# xlsx/docx are zip packages read wholly into memory; the sizes declared in the zip directory
# are enforced by zipfile while unpacking, so checking them first stops a zip bomb cheaply.
MAX_UNPACKED_BYTES = 512 * 1024**2


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
        try:
            candidates, not_read = _candidates(given)
        except OSError as error:  # a file or folder the system will not show (under /proc): named, in Danish
            raise unreadable(error, given) from None
        skipped += not_read
        for file, folder in candidates:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                found.append((file, folder))
    if not found:
        raise InputError(None, "ingen inputfiler angivet")
    return found, skipped


def _candidates(given: Path) -> tuple[list[tuple[Path, Path | None]], list[str]]:
    """The files ``given`` stands for (itself, or a folder's readable files) and what a folder holds that is not read."""
    if given.is_dir():
        entries = [p for p in sorted(given.rglob("*")) if not _hidden(p.relative_to(given)) and not p.is_dir()]
        # tematik's own output and model folders (an --out inside the input folder) are no input.
        folders = {folder for p in entries for folder in p.relative_to(given).parents if folder != Path(".")}
        own = sorted(folder for folder in folders if _is_own_output(given / folder))
        inside = [p for p in entries if not any(folder in p.relative_to(given).parents for folder in own)]
        files = [p for p in inside if p.is_file() and is_readable(p)]
        skipped = [f"{folder}/ (resultater fra tematik)" for folder in own]
        skipped += [str(p.relative_to(given)) + _why_not_read(p) for p in inside if not (p.is_file() and is_readable(p))]
        if not files:
            raise InputError(given, "ingen læsbare filer i mappen" + _save_as_hint(inside) + " (tematik læser "
                             + ", ".join(sorted(READABLE_SUFFIXES)) + ")")  # fmt: skip
        return [(p, given) for p in files], skipped
    if given.exists():
        return [(given, None)], []
    if given.is_symlink():
        raise InputError(given, _not_a_file(given))
    raise InputError(given, "filen eller mappen findes ikke")


def _why_not_read(path: Path) -> str:
    """What follows a skipped file's name in the run's report: " (gem den som .docx)" for a note in an
    old format, which would otherwise go unread with a word in a list; "" for files that are no input."""
    if not path.is_file():
        return f" ({_not_a_file(path)})"
    return f" (gem den som {_SAVE_AS_HINT[path.suffix.lower()]})" if path.suffix.lower() in _SAVE_AS_HINT else ""


def _save_as_hint(files: Iterable[Path]) -> str:
    """"; gem notat.doc som .docx" for the files of a folder that would be read in another format."""
    by_fix: dict[str, list[str]] = {}
    for file in files:
        if file.suffix.lower() in _SAVE_AS_HINT:
            by_fix.setdefault(_SAVE_AS_HINT[file.suffix.lower()], []).append(file.name)
    hints = [f"gem {listing(names, shown=5)} som {fix}" for fix, names in sorted(by_fix.items())]
    return "; " + "; ".join(hints) if hints else ""


def _is_own_output(folder: Path) -> bool:
    """A run's output folder (``manifest.json`` beside ``assignments.csv``) or saved run (``texts.json``, ``config.json``)."""
    return ((folder / "manifest.json").is_file() and (folder / "assignments.csv").is_file()) or (
        (folder / "texts.json").is_file() and (folder / "config.json").is_file()
    )


def _not_a_file(path: Path) -> str:
    """Why an existing name that is no regular file is not read (a FIFO would block the read forever)."""
    if path.is_symlink() and not path.exists():
        return "en genvej der peger på noget der ikke findes"
    return "ikke en almindelig fil, fx en FIFO"


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "~$")) for part in relative.parts)


def folder_name(folder: Path) -> str:
    return folder.name or folder.resolve().name


def default_workshop_name(paths: Sequence[str | Path]) -> str:
    """The first input folder's name, else the name of the folder the first file lies in.

    Not a file's stem: "mentimeter-export" would then stand in every attribution.
    """
    paths = [Path(p) for p in paths]
    folders = [p for p in paths if p.is_dir()]
    if folders:
        return folder_name(folders[0])
    if not paths:
        raise InputError(None, "ingen inputfiler angivet")
    return folder_name(paths[0].parent)


def check_file(path: Path) -> bytes:
    """The file's first bytes, after the checks common to all formats (exists, not empty, supported)."""
    suffix = path.suffix.lower()
    if suffix not in READABLE_SUFFIXES:
        hint = f"; gem den som {_SAVE_AS_HINT[suffix]}" if suffix in _SAVE_AS_HINT else ""
        supported = ", ".join(sorted(READABLE_SUFFIXES))
        raise InputError(path, f"filtypen '{suffix or path.name}' kan ikke læses{hint} (tematik læser {supported})")
    if not path.is_file():
        raise InputError(path, _not_a_file(path) if path.exists() or path.is_symlink() else "filen findes ikke")
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head:
        raise InputError(path, "filen er tom")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(path, f"filen er for stor ({_megabytes(size)}; højst {_megabytes(MAX_FILE_BYTES)})")
    if head == OLE_MAGIC:
        _refuse_ole_file(path)
    if head.startswith(b"%PDF-") and suffix != ".pdf":
        raise InputError(path, _not_what_it_says(path, "en PDF-fil", ".pdf"))
    if head.startswith(b"PK\x03\x04") and suffix not in WORKBOOK_SUFFIXES | {".docx"}:
        found, fix = _zip_content(path)
        raise InputError(path, _not_what_it_says(path, found, fix))
    return head


def _not_what_it_says(path: Path, found: str, fix: str | None) -> str:
    """ "filen er en PDF-fil, ikke et Word-dokument; omdøb den til .pdf" for a file whose content is ``found``."""
    should_be = _SHOULD_BE.get(path.suffix.lower(), "en tekstfil")
    return f"filen er {found}, ikke {should_be}" + (f"; omdøb den til {fix}" if fix else "")


def _looks_like_text_file(path: Path) -> bool:
    """True when the file's first kilobytes read as text (UTF-8 or Windows-1252 without control characters)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    text = head.decode("utf-8", errors="ignore") if _UTF8_LETTER.search(head) else head.decode("cp1252", errors="replace")
    return bool(text.strip()) and not _CONTROL.search(text)


def _zip_content(path: Path, names: Iterable[str] | None = None) -> tuple[str, str | None]:
    """What a zip package is, by its parts: (Danish name, extension) or ("en zip-fil", None)."""
    if names is None:
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            names = ()
    names = set(names)
    return next((found for part, found in _ZIP_PARTS.items() if part in names), ("en zip-fil", None))


def _refuse_ole_file(path: Path) -> None:
    """An OLE compound file (``OLE_MAGIC``) is a password-protected Office file or a pre-2007 .doc/.xls,
    whatever its extension says: told by the name of its streams (UTF-16 in its directory)."""
    data = path.read_bytes()
    if "EncryptedPackage".encode("utf-16-le") not in data:
        for stream, (found, fix) in _OLD_OFFICE_STREAMS.items():
            if stream.encode("utf-16-le") in data:
                raise InputError(path, _not_what_it_says(path, found, None) + f"; åbn den i Office, og gem den som {fix}")
    raise InputError(path, "filen er beskyttet med adgangskode (krypteret); fjern den i Office, og gem igen")


def check_package(path: Path, kind: str) -> None:
    """An Office file (zip package) that can be unpacked: a zip, not a bomb; ``kind`` names the format
    in Danish ("Excel-projektmappe"), as it stands in "kan ikke læses som …"."""
    check_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        if _looks_like_text_file(path):  # a text file renamed, or a CSV saved under the workbook's name
            raise InputError(path, _not_what_it_says(path, "en tekstfil", None) + "; gem den i Office som "
                             f"{path.suffix.lower()}, eller giv den den rigtige filtype (.csv, .txt)") from None  # fmt: skip
        message = f"filen kan ikke læses som {kind} (beskadiget eller et andet format: {reason(exc)})"
        raise InputError(path, message) from None
    found, fix = _zip_content(path, names)
    if found != "en zip-fil" and fix != (".docx" if path.suffix.lower() == ".docx" else ".xlsx"):
        raise InputError(path, _not_what_it_says(path, found, fix))  # a zip of no known kind: damaged, told below
    if unpacked > MAX_UNPACKED_BYTES:
        raise InputError(
            path, f"filen kan ikke læses som {kind}: fylder {_megabytes(unpacked)} udpakket (højst "
            f"{_megabytes(MAX_UNPACKED_BYTES)}; beskadiget eller en zip-bombe)"
        )


def open_workbook(path: Path, data_only: bool = True) -> openpyxl.Workbook:
    """Open an .xlsx read-only; ``data_only``: cells hold cached formula results, else formulas."""
    check_package(path, "Excel-projektmappe")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as exc:  # a damaged package: zipfile, lxml, openpyxl and KeyError for missing parts
        message = f"filen kan ikke læses som Excel-projektmappe (beskadiget eller et andet format: {reason(exc)})"
        raise InputError(path, message) from None


def open_document(path: Path) -> docx.document.Document:
    """Open a .docx; python-docx parses every part here, so a damaged file fails here."""
    check_package(path, "Word-dokument")
    try:
        return docx.Document(str(path))
    except Exception as exc:  # zipfile, lxml ("Premature end of data in tag t"), python-docx, KeyError
        message = f"filen kan ikke læses som Word-dokument (beskadiget eller et andet format: {reason(exc)})"
        raise InputError(path, message) from None


def reason(exc: BaseException) -> str:
    """An exception as a short phrase for a one-line message (first line, at most 160 characters)."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return (first[:157] + "..." if len(first) > 160 else first) or type(exc).__name__


def _megabytes(size: int) -> str:
    return f"{number(size / 1024**2)} MB" if size >= 1024**2 else f"{number(size / 1024)} KB"


def read_text(path: Path) -> tuple[str, str]:
    """The text of a CSV/TXT/MD file and the encoding used.

    UTF-8 (with or without BOM) and UTF-16 with BOM first; then Windows-1252, which is
    what Danish Excel writes for "CSV (semikolonsepareret)"; a file of both (answers pasted
    together from two sources) is read as UTF-8 with its other bytes as Windows-1252; then
    charset-normalizer's guess. Text full of control characters is binary, not text.
    """
    check_file(path)
    data = path.read_bytes()
    boms = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    for bom, encoding in boms:
        if data.startswith(bom):
            return _decode(path, data, encoding), encoding
    try:
        text = data.decode("utf-8")
        if _looks_like_text(text):
            return text, "utf-8"
    except UnicodeDecodeError:
        if _has_utf8_letters(data):
            text = data.decode("utf-8", errors=_CP1252_FALLBACK)
            if _looks_like_text(text):
                return text, "utf-8 + cp1252"
    try:
        text = data.decode("cp1252")
        if _looks_like_text(text):
            return text, "cp1252"
    except UnicodeDecodeError:
        pass
    guess = charset_normalizer.from_bytes(data).best()
    if guess is not None and _looks_like_text(str(guess)):
        return str(guess), guess.encoding
    raise InputError(path, "filen kan ikke læses som tekst (hverken UTF-8, Windows-1252 eller en anden kendt kodning)")


def _decode(path: Path, data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(path, f"filen kan ikke læses som {encoding} (byte {exc.start})") from None
    if not _looks_like_text(text):
        raise InputError(path, f"filen kan ikke læses som tekst ({encoding} giver kontroltegn)")
    return text


# UTF-8 encodings of non-ASCII letters (two-byte sequences: Latin-1 supplement and beyond).
_UTF8_LETTER = re.compile(rb"[\xc2-\xdf][\x80-\xbf]")
_CP1252_FALLBACK = "tematik-cp1252-fallback"


def _has_utf8_letters(data: bytes) -> bool:
    """True when the bytes hold UTF-8 encoded letters (``æ`` as ``C3 A6``) among bytes that are not UTF-8."""
    return _UTF8_LETTER.search(data) is not None


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 refused as Windows-1252 (bytes cp1252 leaves undefined as U+FFFD)."""
    chunk = error.object[error.start : error.end]
    return chunk.decode("cp1252", errors="replace"), error.end


codecs.register_error(_CP1252_FALLBACK, _cp1252_fallback)


# Control characters that text files do not hold: below 32 except tab, LF, form feed and CR; DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _looks_like_text(text: str) -> bool:
    return len(_CONTROL.findall(text)) <= len(text) // 1000
