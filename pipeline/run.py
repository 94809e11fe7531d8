"""The one assembly: a run's stages in order, from input files to a saved, exported run.

:func:`run_stages` is the order, once: read, protect, detect languages, annotate, embed,
mark roles, fit topics, fit themes, assemble, report, write (export and save), publish.
The stages come as a :class:`~pipeline.stages.Stages` object: :class:`~pipeline.stages.LocalStages`
runs them in this process (:func:`run_workshop`: tests, saved runs, the benchmarks), the
Prefect flows (``flows/``) hand in :class:`flows.tasks.TaskStages`, which runs the same
stages as tasks; so every figure in the README comes from the assembly production runs.
A :class:`~pipeline.stages.LocalStages` builds its costly parts (the spaCy pipeline, the
embedding model) once: reuse the object to reuse them.
"""

from __future__ import annotations

import gc
import logging
import re
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from pipeline.analysis import Analysis
from pipeline.config import RunConfig
from pipeline.preflight import check_settings
from pipeline.stages import LocalStages, Stages

logger = logging.getLogger(__name__)

# Run ids become folder names: keep them well below file-system limits (255 bytes).
MAX_SLUG_LENGTH = 60


# --- run ids -------------------------------------------------------------------------


def slug(text: str) -> str:
    """ASCII folder-name form of a name: 'Aalborg marts 2026' -> 'aalborg-marts-2026'."""
    import unicodedata

    for letter, spelled in (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("Æ", "Ae"), ("Ø", "Oe"), ("Å", "Aa")):
        text = text.replace(letter, spelled)  # before NFKD, which would split "Å" into "A" and a ring
    ascii_text = unicodedata.normalize("NFKD", text)
    cleaned = re.sub(r"[^a-z0-9]+", "-", ascii_text.encode("ascii", "ignore").decode().lower()).strip("-")
    return cleaned[:MAX_SLUG_LENGTH].rstrip("-") or "koersel"


def new_run_id(name: str, now: datetime | None = None) -> str:
    """``<name slug>-<UTC time>-<6 hex>``: sorts by time; the random part keeps runs in one second apart
    (4 hex digits let 50 ids of one second collide 2 % of the time; 6: 0.007 %)."""
    now = now or datetime.now(timezone.utc)
    return f"{slug(name)}-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


_RUN_ID_END = re.compile(r"-\d{8}-\d{6}-[0-9a-f]{6}$")  # what new_run_id adds to the name


def run_name(run_id: str) -> str:
    """The name a run id was made from (``runde-2026`` of ``runde-2026-20260322-101500-a1b2c3``); a name
    that is no run id (a model folder renamed by hand) as it is."""
    return _RUN_ID_END.sub("", run_id) or run_id


# --- the install's one-time work ------------------------------------------------------------


def warm_up_caches() -> None:
    """The one-time work of an install, so that no run does it (README "Speed"): compile the
    topic model's numba code into tematik's cache and put the shipped taxonomies' theme and
    reference embeddings into the embedding cache (default embedder)."""
    from pipeline import themes, topics

    topics.warm_up()
    themes.warm_up()


class Stopwatch:
    """Seconds per stage, for the manifest: ``with stopwatch("topics"): ...``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + time.perf_counter() - start, 3)


# Python's cyclic garbage collector during a run: a full collection scans every live object,
# and at 100,000 texts the stages keep millions alive (texts, lemmas, tables): the default
# thresholds made 14 full collections, 3.2 s of a 60 s run (gc.callbacks). Reference counting
# frees nearly everything; rarer collections still find the cycles. At 100,000 texts: 3.8 s
# of collections -> 0.8 s, the same peak memory (1.23 GB), the same results.
RUN_GC_THRESHOLDS = (50_000, 20, 20)
_gc_lock = threading.Lock()
_gc_runs = 0
_gc_before: tuple[int, int, int] | None = None


@contextmanager
def rare_collections() -> Iterator[None]:
    """:data:`RUN_GC_THRESHOLDS` while the block runs; the process's own thresholds after the
    last of overlapping blocks (runs in threads) ends."""
    global _gc_runs, _gc_before
    with _gc_lock:
        if _gc_runs == 0:
            _gc_before = gc.get_threshold()
            gc.set_threshold(*RUN_GC_THRESHOLDS)
        _gc_runs += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_runs -= 1
            if _gc_runs == 0:
                gc.set_threshold(*_gc_before)


# --- the run ---------------------------------------------------------------------------------


def write_texts(inputs: Sequence[str | Path], config: RunConfig, path: Path):
    """``tematik ingest``: the table of texts a run would analyse, under a run's rules: personal
    data redacted (unless turned off) and no cell a spreadsheet would evaluate. Returns the
    :class:`~pipeline.ingest.Ingested` with the texts as written."""
    from pipeline.ingest import Ingested, check_texts_target, write_texts_csv

    check_texts_target(path, inputs)
    stages = LocalStages(config)
    ingested = stages.read(inputs)
    texts, _ = stages.protect(ingested.texts)
    write_texts_csv(texts, path)
    return Ingested(texts, ingested.report)


@rare_collections()
def run_stages(
    stages: Stages,
    inputs: Sequence[str | Path],
    out: Path | None = None,
    models: Path | None = None,
    *,
    name: str | None = None,
    workshops: Sequence[str] | None = None,
    workshop_column: str | None = None,
) -> tuple[Analysis, object, Path | None]:
    """Every stage of one run, in the one order; the run's files written to ``out/<run id>``
    and its saved model to ``models/<run id>`` when given.

    ``name`` names the run id (by default the workshop's); ``workshops`` and ``workshop_column``
    are a series' (:meth:`~pipeline.stages.LocalStages.read`). ``detect_languages`` returns a
    future, collected before ``assemble`` so that detection runs beside the stages between.
    Returns ``(analysis, result, output folder or None)``; ``analysis.folder`` is the saved model.
    """
    config = stages.config
    stopwatch = Stopwatch()
    with stopwatch("ingest"):
        ingested = stages.read(inputs, workshops, workshop_column)
    with stopwatch("redaction"):
        texts, redacted = stages.protect(ingested.texts)
    with stopwatch("language"):
        languages = stages.detect_languages(texts)  # runs beside the stages below
        texts = stages.annotate(texts)
    with stopwatch("embeddings"):
        embeddings = stages.embed(texts["text"].tolist())
    with stopwatch("roles"):
        texts = stages.mark_roles(texts, embeddings)
    with stopwatch("topics"):
        modeler = stages.fit_topics(texts, embeddings)
    with stopwatch("themes"):
        mapper = stages.fit_themes(texts, embeddings, modeler.topics_)
    with stopwatch("language"):
        texts = stages.with_languages(texts, languages.result())
    with stopwatch("assemble"):
        analysis = stages.assemble(texts, embeddings, modeler, mapper, {"redaction": redacted})
    analysis.facts["timings_seconds"] = dict(stopwatch.seconds)

    run_id = new_run_id(name or config.ingest.workshop or ingested.texts["workshop"].iloc[0])
    files = sorted(set(map(Path, inputs))) if workshops is not None else _input_files(inputs)
    with stopwatch("report"):
        result = stages.report(analysis, run_id, files)
    with stopwatch("export"):
        folder, _ = stages.write(
            result, analysis, modeler, None if out is None else Path(out) / run_id, None if models is None else Path(models) / run_id
        )
    stages.publish(result, folder)
    analysis.facts["timings_seconds"] = dict(stopwatch.seconds)
    return analysis, result, folder


def run_workshop(
    inputs: Sequence[str | Path], config: RunConfig, out: Path | None = None, models: Path | None = None,
    stages: LocalStages | None = None,
):  # fmt: skip
    """Read, analyse, report and (when ``out``/``models`` are given) write one run, without Prefect.

    ``stages`` reuses their built parts (:meth:`~pipeline.stages.LocalStages.for_config`); by default
    new ones. Returns ``(analysis, result, output folder or None)``.
    """
    check_settings(config, out, models)
    return run_stages(LocalStages(config) if stages is None else stages.for_config(config), inputs, out, models)


def _input_files(inputs: Sequence[str | Path]) -> list[Path]:
    from pipeline.ingest import expand_inputs

    return expand_inputs([Path(path) for path in inputs])
