"""Folders written all or nothing: a kill, a full disk or Ctrl-C never leaves half a run behind.

A run's output folder and its model folder are written under a hidden staging name in
the same parent (``.<name>.<host>-<pid>.partial``) and renamed when complete. Host and pid
in the name let a later run remove the staging folders of processes that died
(:func:`clean_stale_staging`) without touching one that another live run is writing — on
this machine or, on a shared network folder, on another (those are never touched).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Callable, Sequence
from pathlib import Path

STAGING_SUFFIX = ".partial"


def _writer() -> str:
    """This process as written into staging names: ``<host>-<pid>`` (dots and dashes of the host folded)."""
    return f"{re.sub(r'[^A-Za-z0-9]+', '_', socket.gethostname())}-{os.getpid()}"


def staging_folder(target: Path) -> Path:
    """The hidden folder ``target`` is written in first."""
    return target.parent / f".{target.name}.{_writer()}{STAGING_SUFFIX}"


def own_staging(parent: Path) -> list[Path]:
    """This process's staging folders under ``parent`` (to remove before a hard exit)."""
    return sorted(Path(parent).glob(f".*.{_writer()}{STAGING_SUFFIX}"))


def clean_stale_staging(parent: Path) -> list[Path]:
    """Remove staging folders that processes of this machine left when they died (a kill, a power cut)."""
    removed = []
    if not Path(parent).is_dir():
        return removed
    host = _writer().rsplit("-", 1)[0]
    for folder in Path(parent).glob(f".*{STAGING_SUFFIX}"):
        writer = folder.name[: -len(STAGING_SUFFIX)].rsplit(".", 1)[-1]
        writer_host, _, pid = writer.rpartition("-")
        if writer_host != host or not pid.isdigit() or int(pid) == os.getpid() or process_alive(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (of any user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def file_in_the_way(folder: Path) -> Path | None:
    """The first of ``folder`` and its parents that exists as a file: nothing can be made below it."""
    folder = Path(folder)
    return next((path for path in [folder, *folder.parents] if path.exists() and not path.is_dir()), None)


def write_atomically(target: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(folder)`` on a staging folder, then rename it to ``target`` (all or nothing)."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} findes allerede; en kørsel overskriver aldrig en anden")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_folder(target)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        write(staging)
        if target.exists():
            target.rmdir()  # empty, checked above; fails rather than overwrite if it has filled since
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def write_file_atomically(target: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(path)`` on a hidden staging file beside ``target``, then move it to ``target``; never overwrites."""
    target = Path(target)
    if target.exists():
        raise FileExistsError(f"{target} findes allerede")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.stem}.{_writer()}{STAGING_SUFFIX}{target.suffix}"
    try:
        write(staging)
        try:
            os.link(staging, target)  # fails rather than overwrite a file that appeared meanwhile
        except FileExistsError:
            raise
        except OSError:  # no hard links here (FAT, some network shares): a rename, checked just before
            if target.exists():
                raise FileExistsError(f"{target} findes allerede") from None
            os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return target


def write_together(writes: Sequence[tuple[Path, Callable[[Path], object]]]) -> list[Path]:
    """Write several new folders all or none: a run's outputs and its saved model.

    Each ``write(folder)`` fills a staging folder next to its target (it may itself write
    atomically, as :func:`write_atomically` does); only when every one is complete are they
    renamed to their targets, one right after the other. A failure or Ctrl-C before that
    removes every staging folder; one during the renames renames back those already done.
    """
    targets = [Path(target) for target, _ in writes]
    for target in targets:
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise FileExistsError(f"{target} findes allerede; en kørsel overskriver aldrig en anden")
    staged = [staging_folder(target) for target in targets]
    done: list[tuple[Path, Path]] = []
    try:
        for stage, (_, write) in zip(staged, writes):
            stage.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(stage, ignore_errors=True)
            write(stage)
        for stage, target in zip(staged, targets):
            if target.exists():
                target.rmdir()  # empty, checked above
            stage.rename(target)
            done.append((stage, target))
    except BaseException:
        for stage, target in reversed(done):
            try:
                target.rename(stage)
            except OSError:
                shutil.rmtree(target, ignore_errors=True)
        for stage in staged:
            shutil.rmtree(stage, ignore_errors=True)
        raise
    return targets
