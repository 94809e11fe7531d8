"""The one error type users see: bad input, named by file and place."""

from __future__ import annotations

import errno
import re
from collections.abc import Callable
from pathlib import Path

import yaml

_LINE_BREAKS = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")


class InputError(Exception):
    """Bad input: a one-line message naming the file and, where known, the sheet or row.

    The command line prints ``str(error)`` and exits non-zero; nothing is written.
    """

    def __init__(self, path: str | Path | None, message: str, *, where: str | None = None):
        self.path = None if path is None else Path(path)
        self.where = where
        self.message = message
        location = "" if self.path is None else str(self.path)
        if where:
            location = f"{location} ({where})" if location else where
        # One line whatever the input held: messages quote cells, column names and file names.
        super().__init__(_LINE_BREAKS.sub(" ", f"{location}: {message}" if location else message))

    def redacted(self, redact: Callable[[str], str]) -> "InputError":
        """This error with what it quotes from the input (cells, headers, sheet names in ``message``
        and ``where``) passed through ``redact``; the file name stays, as file names do everywhere."""
        return InputError(self.path, redact(self.message), where=redact(self.where) if self.where else None)

    def __reduce__(self):  # pickles whole (a child process's error reaches its parent; Prefect's results)
        return _input_error, (self.path, self.message, self.where)


def _input_error(path: Path | None, message: str, where: str | None) -> InputError:
    return InputError(path, message, where=where)


# Why the system refused a file or folder, in Danish (by errno): its own words (``strerror``) are English.
# ``{access}``: "læse" or "skrive".
_OS_PROBLEMS = {
    errno.EACCES: "ingen {access}adgang", errno.EPERM: "ingen {access}adgang", errno.EROFS: "drevet er skrivebeskyttet",
    errno.ENOSPC: "disken er fuld", errno.ENAMETOOLONG: "stien er for lang", errno.ENOENT: "findes ikke",
    errno.ENOTDIR: "en del af stien er ikke en mappe", errno.EISDIR: "er en mappe", errno.ELOOP: "genveje der peger i ring",
    errno.EIO: "læsefejl: en systemfil eller et drev med fejl",
    errno.ENXIO: "enheden findes ikke", errno.ENODEV: "enheden findes ikke",
    errno.ETIMEDOUT: "drevet svarer ikke", errno.ESTALE: "netværksdrevet svarer ikke",
}  # fmt: skip


def os_problem(error: OSError, access: str = "læse") -> str:
    """Why the system refused (``error``), in Danish, for a one-line message; an errno without Danish
    words is named by its code ("systemfejl EBUSY"), never by the system's English text."""
    said = _OS_PROBLEMS.get(error.errno)
    return said.format(access=access) if said else f"systemfejl {errno.errorcode.get(error.errno, error.errno)}"


def unreadable(error: OSError, path: str | Path) -> InputError:
    """The one line for an input the system will not let tematik read: named by the file or folder the
    system refused (``error.filename``: maybe a file inside the folder ``path``), else ``path``."""
    return InputError(error.filename or path, f"kan ikke læses ({os_problem(error)})")


def short(text: object, limit: int = 40) -> str:
    """A value from a file (a cell, a column name, a YAML snippet) as a short single line for a message."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# A user's YAML file (config, taxonomy, series manifest, a saved run's edits.yaml) is small; these
# bound what a tampered one costs: its size, and the nodes it expands to, anchors and aliases
# counted as often as they are used (a "billion laughs" file is tiny but expands without end).
MAX_YAML_BYTES = 10 * 1024**2
MAX_YAML_NODES = 1_000_000


# PyYAML's words for the slips people make in a YAML file by hand, in Danish with the fix; others stay as PyYAML says them.
_YAML_PROBLEMS = [
    (re.compile(r"mapping values are not allowed here"),
     "et kolon står, hvor det ikke må: sæt en tekst med kolon i anførselstegn (\"Om klima: energi\"), eller ret indrykningen"),
    (re.compile(r"found character '\\t' that cannot start any token"), "tabulator: ryk ind med mellemrum"),
    (re.compile(r"found character '(.)' that cannot start any token"), "tegnet '\\1' kan ikke stå først: sæt teksten i anførselstegn"),
    (re.compile(r"expected ',' or '([\]}])', but got"), "en [liste] eller {tabel} er ikke lukket med '\\1'"),
    (re.compile(r"found unexpected end of stream"), "et anførselstegn er ikke lukket"),
    (re.compile(r"expected <block end>, but found"), "indrykningen passer ikke: elementer på samme niveau skal stå lige under hinanden"),
]  # fmt: skip


def _yaml_problem(problem: str) -> str:
    for pattern, danish in _YAML_PROBLEMS:
        if match := pattern.search(problem):
            return match.expand(danish)
    return problem


FOLDER_NOT_FILE = "er en mappe; angiv YAML-filen i den"


def read_yaml(path: Path, problem: str) -> object:
    """A user's YAML file, parsed safely. Any problem reading it is one :class:`InputError`:
    ``<problem>: <PyYAML's words>`` with the line where known (``problem`` says what the file
    should have been, e.g. "ikke gyldig YAML"). Files over :data:`MAX_YAML_BYTES` and files whose
    aliases expand beyond :data:`MAX_YAML_NODES` values are refused. A missing file raises
    ``FileNotFoundError``."""
    try:
        if path.is_dir():
            raise InputError(path, FOLDER_NOT_FILE)
        size = path.stat().st_size
    except FileNotFoundError:
        raise
    except OSError as error:  # a file the system will not show (under /proc)
        raise unreadable(error, path) from None
    if size > MAX_YAML_BYTES:
        raise InputError(path, f"{problem}: filen er for stor ({_size(size)}; højst {_size(MAX_YAML_BYTES)})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"linje {mark.line + 1}" if mark is not None else None
        said = _yaml_problem(str(getattr(exc, "problem", None) or exc))
        raise InputError(path, f"{problem}: {short(said, 200)}", where=where) from None
    except UnicodeDecodeError:
        raise InputError(path, "ikke en UTF-8-tekstfil; gem den med kodningen UTF-8") from None
    except OSError as error:  # no access, or a system file that reads as an error (/proc/self/mem)
        raise unreadable(error, path) from None
    except RecursionError:  # "[[[[[[..." thousands deep
        raise InputError(path, f"{problem}: for dybt indlejret") from None
    if _expanded_size(data, MAX_YAML_NODES) > MAX_YAML_NODES:
        raise InputError(path, f"{problem}: aliaserne (*navn) udfolder sig til mere end {MAX_YAML_NODES:,} værdier".replace(",", "."))
    return data


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1024**2:.1f} MB".replace(".", ",") if n_bytes >= 1024**2 else f"{max(n_bytes // 1024, 1)} KB"


def _expanded_size(data: object, limit: int) -> int:
    """Values in ``data`` with every shared (aliased) part counted each time it is used; stops past ``limit``."""
    seen, todo = 0, [data]
    while todo and seen <= limit:
        item = todo.pop()
        seen += 1
        if isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            todo.extend(item)
    return seen


# pydantic's error types in Danish, for the one line a bad setting or taxonomy gives (pipeline.config,
# pipeline.taxonomy): "skal være mindst 1".
PYDANTIC_DANISH = {
    "greater_than_equal": "skal være mindst {ge}",
    "greater_than": "skal være større end {gt}",
    "less_than_equal": "skal være højst {le}",
    "less_than": "skal være mindre end {lt}",
    "finite_number": "skal være et endeligt tal",
    "int_parsing": "skal være et heltal",
    "int_from_float": "skal være et heltal",
    "float_parsing": "skal være et tal",
    "bool_parsing": "skal være true eller false",
    "string_type": "skal være tekst",
    "list_type": "skal være en liste",
    "dict_type": "skal være en tabel (nøgle: værdi)",
    "model_type": "skal være en tabel (nøgle: værdi)",
    "literal_error": "skal være en af {expected}",
    "extra_forbidden": "er ikke en indstilling",
    "missing": "mangler",
}
