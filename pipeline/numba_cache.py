"""Compile umap's and pynndescent's numba functions once per machine, not once per process.

UMAP and pynndescent are written in numba. Most of umap's jitted functions (and many
of pynndescent's) are declared without ``cache=True``, so numba compiles them again in
every new process: 15-20 s before the first topic fit of a run on 2 cores, however
small the corpus. ``NUMBA_CACHE_DIR`` alone does not help, because numba only caches
functions that ask for it.

:func:`import_topic_libraries` therefore imports ``pynndescent`` and ``umap`` while
``numba.njit``/``numba.jit`` default to ``cache=True``, with numba's cache folder set
to one tematik owns (:func:`cache_folder`). The patch is active only during those two
imports, so no other library's numba code changes behaviour; afterwards ``numba.njit``
is numba's own again. Functions that numba cannot cache (closures built at run time)
are compiled as before. hdbscan is Cython, not numba: nothing to do there.

The cache is keyed by each function's source file and its modification time, and the
CPU; an upgrade of umap or pynndescent simply compiles once more. Deleting the folder is
always safe.

Measured on 2 cores: a topic fit of 300 texts in a new process took 47 s the first time
(80 numba compilations) and 0.9 s the second (none); ``tematik run corpora/demo`` takes
55 s in the first process after install and 14 s in the second (README "Speed").
:func:`pipeline.topics.warm_up` fills the cache from an install step (25 s).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

# Imported under the patch, in this order (umap imports pynndescent).
LIBRARIES = ("pynndescent", "umap")


def cache_folder() -> Path:
    """``$TEMATIK_CACHE/numba``, default ``~/.cache/tematik/numba`` (next to the embedding cache)."""
    base = os.environ.get("TEMATIK_CACHE") or Path.home() / ".cache" / "tematik"
    return Path(base).expanduser() / "numba"


_imported = False


def import_topic_libraries() -> None:
    """Import pynndescent and umap with numba's on-disk cache on (idempotent, cheap when done).

    When either was already imported elsewhere without the patch, its functions stay
    uncached in this process (logged); the run is correct, only slower to start.
    """
    global _imported
    if _imported:
        return
    already = [name for name in LIBRARIES if name in sys.modules]
    if already:
        logger.info("%s imported before tematik enabled numba's cache: compiled in this process", ", ".join(already))
    import numba

    folder = cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        numba.config.CACHE_DIR = str(folder)
    except OSError as error:  # read-only home: numba falls back to __pycache__ or compiles
        logger.warning("numba cache folder %s unusable (%s): numba compiles in every process", folder, error)
    with _cache_by_default(numba):
        for name in LIBRARIES:
            __import__(name)
    _imported = True


@contextmanager
def _cache_by_default(numba):
    """``numba.njit``/``numba.jit`` with ``cache=True`` unless the caller says otherwise."""
    originals = {"njit": numba.njit, "jit": numba.jit}

    def caching(decorator):
        @functools.wraps(decorator)
        def wrapper(*args, **kwargs):
            kwargs.setdefault("cache", True)
            return decorator(*args, **kwargs)

        return wrapper

    for name, decorator in originals.items():
        setattr(numba, name, caching(decorator))
    try:
        with warnings.catch_warnings():
            # "Cannot cache compiled function ... as it uses dynamic globals": such
            # functions are compiled per process, as they were without the patch.
            warnings.filterwarnings("ignore", message=".*[Cc]annot cache.*")
            yield
    finally:
        for name, decorator in originals.items():
            setattr(numba, name, decorator)


def import_bertopic():
    """``bertopic.BERTopic``, imported with numba's cache on for umap/pynndescent and
    without torch (see :func:`pipeline.torch_free.torch_free_imports`)."""
    from pipeline.torch_free import torch_free_imports
    from pipeline.errors import InputError

    import_topic_libraries()  # before bertopic, whose plotting module imports umap
    try:
        with torch_free_imports():
            from bertopic import BERTopic
    except ModuleNotFoundError as error:
        if error.name != "bertopic":
            raise
        # `pip install tematik` alone: BERTopic is installed apart, without its torch dependencies.
        raise InputError(
            None,
            "BERTopic er ikke installeret; installer den uden dens torch-afhængigheder: "
            "pip install --no-deps bertopic (udgaven i constraints.txt, se README)",
        ) from None
    return BERTopic
