"""Folders written all or nothing: a kill, a full disk or Ctrl-C never leaves half a run behind.

A run's output folder and its model folder are written under a hidden staging name in
the same parent (``.<name>.<pid>.partial``) and renamed when complete. The pid in the
name lets a later run remove the staging folders of processes that died
(:func:`clean_stale_staging`) without touching one that another live run is writing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

STAGING_SUFFIX = ".partial"


def staging_folder(target: Path) -> Path:
    """The hidden folder ``target`` is written in first; the pid tells a live writer from a dead one."""
    return target.parent / f".{target.name}.{os.getpid()}{STAGING_SUFFIX}"


def clean_stale_staging(parent: Path) -> list[Path]:
    """Remove staging folders left by processes that no longer run (a kill, a power cut)."""
    removed = []
    if not parent.is_dir():
        return removed
    for folder in parent.glob(f".*{STAGING_SUFFIX}"):
        pid = folder.name[: -len(STAGING_SUFFIX)].rsplit(".", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
