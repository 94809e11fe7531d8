"""Import libraries that only *optionally* use torch as if torch were not installed.

bertopic (its optional sentence-transformers/vision backends and torch serialisation) and
spaCy's thinc (its PyTorch wrapper) import torch when it is installed, though neither the
e5 nor the lsa backend nor a CNN spaCy pipeline needs it: ~10 s and ~400 MB per process.
The default install has no torch (README "Installation"); with the sentence-transformers
extra it has, and :func:`torch_free_imports` keeps the runs that do not use it free of it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

#: The top-level packages blocked while :func:`torch_free_imports` is active.
TORCH_MODULES = ("torch", "transformers", "sentence_transformers")


@contextmanager
def torch_free_imports() -> Iterator[None]:
    """Import libraries that only *optionally* use torch as if torch were not installed.

    While active, ``import torch`` (and transformers, sentence-transformers) raises
    ``ModuleNotFoundError`` (a ``sys.meta_path`` finder), which bertopic and thinc catch: they mark those features
    unavailable and go on. Afterwards the block is lifted, so an embedder or spaCy
    pipeline that needs torch imports it as usual. What is given up, for the process:
    bertopic's torch-based optional parts (``MultiModalBackend``, ``TextGeneration``,
    ``ZeroShotClassification``, saving as PyTorch ``.bin``: tematik uses none; it saves
    safetensors) and thinc's ``PyTorchWrapper`` (only transformer spaCy pipelines use it:
    :mod:`pipeline.language` does not use this guard for them). Nothing is blocked when
    torch is already imported.
    """
    if "torch" in sys.modules:
        yield
        return
    blocker = _ImportBlocker(TORCH_MODULES)
    # A finder, not ``sys.modules[name] = None``: code that looks torch up in sys.modules
    # (scipy's array-API helpers) must find no entry rather than None.
    sys.meta_path.insert(0, blocker)
    try:
        yield
    finally:
        sys.meta_path.remove(blocker)


class _ImportBlocker:
    """A ``sys.meta_path`` finder that makes importing the named top-level packages fail."""

    def __init__(self, names: Sequence[str]):
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"{fullname} is not imported by tematik here (torch_free_imports)", name=fullname)
        return None
