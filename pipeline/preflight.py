"""Checks that need no model, run by ``tematik run``/``series`` before any model loads.

A missing file, an empty folder, a file without texts, a broken config or taxonomy and
an output folder that cannot be written are found in a second or two, not after the
seconds the models take to load. (Once the paths exist, a temporary Prefect server boots
beside the other checks; a bad input stops it.) In order::

    paths             every input exists                  (no import: instant)
    config            the config file and the overrides   (pipeline.config)
    taxonomy          the taxonomy that will run          (pipeline.taxonomy)
    texts             every file readable, texts in them  (pipeline.ingest: the files are read)
    folders           the output and model folders writable, stale staging folders removed

The files read here are kept for the flow of the same process (:func:`read_file`), so
checking them costs no second reading. The flows repeat the checks that matter for runs
started elsewhere (a deployment from the Prefect UI); :func:`check_paths_exist` is the one
place that says an input is missing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.atomic import clean_stale_staging, file_in_the_way
from pipeline.errors import InputError, os_problem, unreadable

if TYPE_CHECKING:
    from pipeline.config import RunConfig
    from pipeline.taxonomy import Taxonomy

# Files read by the checks, for the flow of this process: (path, mtime, size, config) -> texts.
_read_ahead: dict[tuple, object] = {}


def check_paths_exist(paths: Sequence[str | Path]) -> None:
    """Every input path exists (a file or a folder); the first that does not is named."""
    if not paths:
        raise InputError(None, "ingen inputfiler angivet")
    for path in map(Path, paths):
        try:
            exists = path.exists()
        except OSError as error:  # a path the system will not look at (/proc/1/cwd: "Permission denied")
            raise unreadable(error, path) from None
        if not exists:
            raise InputError(path, "filen eller mappen findes ikke")


def _key(path: Path, config) -> tuple:
    stat = path.stat()
    return str(path.resolve()), stat.st_mtime_ns, stat.st_size, config.model_dump_json()


def _read_now(path: Path, config):
    from pipeline.ingest import read_file as read

    frame = read(path, config)
    _read_ahead[_key(path, config)] = frame
    return frame


def read_file(path: str | Path, config):
    """One file's texts as :func:`pipeline.ingest.read_file` gives them: the checks' reading when the
    file is unchanged since (used once), else read now."""
    from pipeline.ingest import read_file as read

    path = Path(path)
    frame = _read_ahead.pop(_key(path, config), None) if path.is_file() else None
    return frame if frame is not None else read(path, config)


def check_run(
    inputs: Sequence[str | Path],
    config_file: str | Path | None,
    overrides,
    out: Path,
    models: Path,
    series: bool = False,
    workshop_column: str | None = None,
):
    """Every check of a ``tematik run`` (``series``: of a series run) that needs no model; returns the
    :class:`~pipeline.config.RunConfig` the run will use. Raises :class:`InputError` (one line)."""
    check_paths_exist(inputs)
    from pipeline import ingest
    from pipeline.config import RunConfig
    from pipeline.ingest.series import plan_series, workshops_from_column
    from pipeline.taxonomy import load_taxonomy

    config = overrides.apply(RunConfig.from_file(config_file))
    load_taxonomy(config.themes.taxonomy)
    if series:
        frames = [_read_now(path, config.ingest.model_copy(update={"workshop": workshop}))
                  for workshop, path in plan_series(inputs)]  # fmt: skip
        workshops_from_column(ingest.combine(frames).texts, workshop_column)
    else:
        ingest.combine([_read_now(path, config.ingest) for path in ingest.expand_inputs(inputs)])
    check_settings(config, Path(out), Path(models))
    return config


def check_writable(folder: Path, what: str) -> list[Path]:
    """Fail before any analysis when ``folder`` cannot be created or written (``what`` names it);
    returns the folders created for it (parents first), which a later failed check removes again."""
    folder = Path(folder)
    created = _missing(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        _remove_empty(created)
        try:
            blocking = file_in_the_way(folder)
        except OSError:  # a parent the system will not show (/proc/1/cwd): the reason below says so
            blocking = None
        if blocking is not None:
            raise InputError(folder, f"{what} kan ikke oprettes: {blocking} er en fil, ikke en mappe") from None
        raise InputError(folder, f"{what} kan ikke skrives ({os_problem(error, 'skrive')})") from None
    return created


def _missing(folder: Path) -> list[Path]:
    """``folder`` and its parents that do not exist yet (parents first): what creating it creates."""
    return [path for path in reversed([folder, *folder.parents]) if not _shown(path)]


def _shown(path: Path) -> bool:
    """``path`` is there (a link too); one the system will not show (/proc/1/cwd) is not ours to create or remove."""
    try:
        return path.exists() or path.is_symlink()
    except OSError:
        return True


@contextmanager
def removed_if_failed(*folders: Path | str):
    """The output folders a command creates (and their parents) removed again, where still empty,
    when the command fails: after a failure no empty ``--out``/``--models`` folder is left behind
    (the checks create them; a Prefect server that does not answer fails the run later)."""
    created = [path for folder in folders for path in _missing(Path(folder))]
    try:
        yield
    except BaseException:
        _remove_empty(list(dict.fromkeys(created)))
        raise


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (parents first, as :func:`check_writable` returns them) where still empty."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            pass


def check_settings(config: RunConfig, out: Path | None = None, models: Path | None = None) -> Taxonomy:
    """Everything that can be checked before the analysis starts; returns the taxonomy that will run."""
    from pipeline.embeddings import check_backend
    from pipeline.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(config.themes.taxonomy)
    check_backend(config.embeddings)
    created: list[Path] = []
    try:
        for folder, what in ((out, "resultatmappen"), (models, "modelmappen")):
            if folder is not None:
                created += check_writable(folder, what)
                clean_stale_staging(Path(folder))
    except InputError:
        _remove_empty(created)  # a bad --models leaves no empty --out behind
        raise
    return taxonomy
