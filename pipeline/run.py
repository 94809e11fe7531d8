"""The one assembly: tematik's stages in order, from input files to a saved, exported run.

::

    read_texts        files -> one table of texts                       (pipeline.ingest)
    protect           personal data redacted before anything sees it    (pipeline.redact)
    detect_languages  language flags; large corpora in a child process  (pipeline.language)
    annotate          lemmas                                            (pipeline.language)
    embed             sentence embeddings                               (pipeline.embeddings)
    mark_roles        note passages that are about the workshop itself  (pipeline.ingest.roles)
    fit_topics        BERTopic topics                                   (pipeline.topics)
    fit_themes        theme distributions for texts and topics          (pipeline.themes)
    assemble          final weights, once; the frozen Analysis          (pipeline.weighting, .analysis)
    views.run_result  frequencies, quotes, emerging themes, manifest    (pipeline.views)
    write_outputs     the files report writers open and the saved run,  (pipeline.export, .saved_run)
                      together or neither

The Prefect flows (``flows/``) call these functions one task each; :func:`analyse` and
:func:`run_workshop` call them in one process for tests, saved runs and the benchmarks,
so every figure in the README comes from the assembly production runs. The stage
objects that are costly to build (the spaCy pipeline, the embedding model) are built
once per process and config by :func:`language_stage` and :func:`embedding_stage`, and
handed to every stage that needs them.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.analysis import TOPIC_WORDS_KEPT, Analysis
from pipeline.config import EmbeddingConfig, LanguageConfig, RunConfig
from pipeline.errors import InputError
from pipeline.schema import ANDET
from pipeline.taxonomy import Taxonomy, load_taxonomy

logger = logging.getLogger(__name__)

# Run ids become folder names: keep them well below file-system limits (255 bytes).
MAX_SLUG_LENGTH = 60


# --- run ids and settings checked before any work -------------------------------------


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


def check_writable(folder: Path, what: str) -> None:
    """Fail before any analysis when ``folder`` cannot be created or written (``what`` names it)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise InputError(folder, f"{what} kan ikke skrives ({error.strerror or error})") from None


def check_settings(config: RunConfig, out: Path | None = None, models: Path | None = None) -> Taxonomy:
    """Everything that can be checked before the analysis starts; returns the taxonomy that will run."""
    from pipeline.atomic import clean_stale_staging

    from pipeline.embeddings import check_backend

    taxonomy = load_taxonomy(config.themes.taxonomy)
    check_backend(config.embeddings)
    for folder, what in ((out, "resultatmappen"), (models, "modelmappen")):
        if folder is not None:
            check_writable(folder, what)
            clean_stale_staging(Path(folder))
    return taxonomy


# --- stage objects, built once per process ----------------------------------------------


def language_stage(config: LanguageConfig):
    """The spaCy-based :class:`~pipeline.language.TextAnalyzer` for ``config`` (loading costs more than using)."""
    return _language_stage(config.model_dump_json())


@lru_cache(maxsize=4)
def _language_stage(config_json: str):
    from pipeline.language import TextAnalyzer

    return TextAnalyzer(LanguageConfig.model_validate_json(config_json))


def embedding_stage(config: EmbeddingConfig):
    """The :class:`~pipeline.embeddings.Embedder` for ``config``, one per process."""
    return _embedding_stage(config.model_dump_json())


@lru_cache(maxsize=4)
def _embedding_stage(config_json: str):
    from pipeline.embeddings import make_embedder

    return make_embedder(EmbeddingConfig.model_validate_json(config_json))


def warm_up(config: RunConfig) -> None:
    """Build the costly stage objects for ``config`` now (e.g. while a Prefect server boots);
    the stages reuse them. Bad settings fail here, before any work."""
    from pipeline.redact import Redactor

    load_taxonomy(config.themes.taxonomy)
    if config.redaction.enabled:
        Redactor(config.redaction).load()  # its name lists, lexicon and NER pipeline stay loaded for the run's Redactor
    language_stage(config.language).warm_up()  # spaCy, and lingua's models (~1.3 s)
    embedding_stage(config.embeddings)
    from pipeline import topics

    topics.import_bertopic()


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


# --- the stages -----------------------------------------------------------------------


def read_texts(inputs: Sequence[str | Path], config: RunConfig):
    """Files and folders -> :class:`pipeline.ingest.Ingested` (texts and a report).

    The texts are as read (:func:`protect` redacts them next); what the report and a bad
    file's error quote from the inputs (questions, sheet and column names, cells) is redacted
    already, since both are shown and logged as they are.
    """
    from pipeline.ingest import Ingested, read_inputs
    from pipeline.redact import Redactor, without_quoted_personal_data

    ingested = without_quoted_personal_data(lambda: read_inputs([Path(path) for path in inputs], config.ingest), config.redaction)
    return Ingested(ingested.texts, Redactor(config.redaction).redact_report(ingested.report))


def write_texts(inputs: Sequence[str | Path], config: RunConfig, path: Path):
    """``tematik ingest``: the table of texts a run would analyse, under a run's rules: personal
    data redacted (unless turned off) and no cell a spreadsheet would evaluate. Returns the
    :class:`~pipeline.ingest.Ingested` with the texts as written."""
    from pipeline.ingest import Ingested, write_texts_csv

    ingested = read_texts(inputs, config)
    texts, _ = protect(ingested.texts, config)
    write_texts_csv(texts, path)
    return Ingested(texts, ingested.report)


def protect(texts: pd.DataFrame, config: RunConfig) -> tuple[pd.DataFrame, dict]:
    """Redact personal data in every text column; the report (for the manifest) has counts per kind, never values."""
    from pipeline.redact import Redactor

    from pipeline.ingest.normalise import merge_duplicates

    redactor = Redactor(config.redaction)
    protected, counts = redactor.redact_texts(texts)
    merged = 0
    if any(counts.values()):  # "Ring til Jens" and "Ring til Peter" are now one answer with two voices
        protected, merged_rows = merge_duplicates(protected)
        merged = len(merged_rows)
    return protected, {**redactor.info(), "counts": counts, "merged_after_redaction": merged}


def readable_texts(texts: pd.DataFrame) -> list[str]:
    """The texts as the language stage reads them: redaction placeholders ("[NAVN]") blanked,
    so they never become topic words or sway a language guess."""
    from pipeline.redact import PLACEHOLDER_PATTERN

    return texts["text"].fillna("").astype(str).str.replace(PLACEHOLDER_PATTERN, " ", regex=True).tolist()


def annotate(texts: pd.DataFrame, config: LanguageConfig) -> pd.DataFrame:
    """``texts`` with ``lemmas`` (space-joined content lemmas) and the ``language_backend`` that made them."""
    analyzer = language_stage(config)
    lemmas = [" ".join(words) for words in analyzer.lemmatise(readable_texts(texts))]
    return texts.assign(lemmas=pd.Series(lemmas, index=texts.index, dtype=str), language_backend=analyzer.backend)


def detect_languages(texts: pd.DataFrame, config: LanguageConfig) -> Future:
    """A future of the texts' language codes: large corpora are detected in a low-priority child
    process while the next stages run (:meth:`~pipeline.language.LanguageDetection.start`).

    Not through :func:`language_stage`: detection needs lingua only, and in the flow this runs
    in a task thread beside ``annotate``, which would build the spaCy analyzer a second time."""
    from pipeline.language import LanguageDetection

    return LanguageDetection(config).start(readable_texts(texts))


def with_languages(texts: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """``texts`` with ``language`` and ``is_danish`` (:func:`pipeline.language.with_languages`)."""
    from pipeline.language import with_languages as language_columns

    return language_columns(texts, codes)


def embed(texts: Sequence[str], config: EmbeddingConfig) -> np.ndarray:
    """Vectors of the run's texts; an embedder fitted on a corpus (``lsa``) learns this run's,
    not one an earlier run in this process left in the shared stage object."""
    return embedding_stage(config).fit_embed(list(texts))


def mark_roles(texts: pd.DataFrame, embeddings: np.ndarray | None = None) -> pd.DataFrame:
    """``texts`` with ``role``: content, or a note passage about the workshop itself / a lead-in / a restating summary."""
    from pipeline.ingest.roles import passage_roles

    return texts.assign(role=passage_roles(texts, embeddings))


def fit_topics(texts: pd.DataFrame, embeddings: np.ndarray, config: RunConfig):
    """BERTopic topics on the embeddings, topic words from the lemmas, names from the texts
    (:class:`~pipeline.topics.TopicModeler`).

    Clustered: the participants' short texts; a note's passages and long texts join the
    topic they stand out as closest to (:meth:`~pipeline.topics.TopicModeler.fit`)."""
    from pipeline.topics import build_topic_modeler

    modeler = build_topic_modeler(config.topics, embedding_stage(config.embeddings))
    text = texts["text"].tolist()
    fit_on = None
    if "source_kind" in texts.columns and texts["source_kind"].eq("note").any():
        short = modeler.short_texts(text)
        fit_on = texts["source_kind"].ne("note").to_numpy() & (True if short is None else short)
    return modeler.fit(text, texts["lemmas"].tolist(), embeddings, fit_on=fit_on)


def note_sections(texts: pd.DataFrame) -> list[str | None]:
    """Heading path of each note passage (None for answers and tables): notes are organised by theme sessions."""
    path = texts["section_path"] if "section_path" in texts.columns else texts["question"]
    return [
        str(section) if kind == "note" and isinstance(section, str) and section else None
        for kind, section in zip(texts["source_kind"], path)
    ]


def theme_mapper(taxonomy: Taxonomy, config: RunConfig):
    """The :class:`~pipeline.themes.ThemeMapper` of ``config.themes`` (its evidence sources) with the run's
    embedder and lemmatiser (keywords in the texts' lemma form)."""
    from pipeline.themes import build_theme_mapper

    return build_theme_mapper(
        taxonomy, config.themes, embedding_stage(config.embeddings), lemmatiser=language_stage(config.language).lemmatise
    )


def fit_themes(texts: pd.DataFrame, embeddings: np.ndarray, topics: np.ndarray, taxonomy: Taxonomy, config: RunConfig):
    """Theme distributions for texts and topics; weights are voices, note sections are context."""
    return theme_mapper(taxonomy, config).fit(
        texts["lemmas"].tolist(), embeddings, topics, texts["weight"].to_numpy(float), sections=note_sections(texts)
    )


def _topic_words(modeler) -> dict[int, list[tuple[str, float]]]:
    if modeler.model_ is None:
        return {}
    words = {}
    for topic in modeler.topic_info_["topic"].astype(int):
        pairs = modeler.model_.get_topic(topic) or []
        words[topic] = [(str(word), float(score)) for word, score in pairs[:TOPIC_WORDS_KEPT] if word]
    return words


def topic_figures(modeler) -> dict[str, str]:
    """BERTopic's interactive views as plotly JSON, made now so a saved run re-exports them without BERTopic."""
    if modeler.model_ is None:
        return {}
    from pipeline.topic_figures import bertopic_figures

    return bertopic_figures(modeler.model_, modeler.documents_)


def assemble(
    texts: pd.DataFrame,
    embeddings: np.ndarray,
    modeler,
    mapper,
    taxonomy: Taxonomy,
    config: RunConfig,
    facts: dict | None = None,
) -> Analysis:
    """The frozen :class:`Analysis`: final weights computed once, topics and themes as decided."""
    from pipeline.weighting import with_text_weights

    frame = with_text_weights(texts.reset_index(drop=True), config.weights)
    frame["topic"] = np.asarray(modeler.topics_, dtype=int)
    themes = mapper.text_themes_.reset_index(drop=True)
    frame = pd.concat([frame.drop(columns=[c for c in themes.columns if c in frame.columns]), themes], axis=1)
    topics = modeler.topic_info_.merge(mapper.topic_themes_, on="topic", how="left")
    topics["theme"] = topics["theme"].fillna(ANDET)
    topics["theme_score"] = topics["theme_score"].astype(float)
    facts = dict(facts or {})
    facts.setdefault("backends", {})
    facts["backends"].setdefault("language", str(frame["language_backend"].iloc[0]) if "language_backend" in frame and len(frame) else None)
    facts["backends"].setdefault("embeddings", embedding_stage(config.embeddings).name)
    facts["clustered"] = bool(modeler.clustered_)
    facts["topic_parameters"] = dict(modeler.parameters_)
    return Analysis(
        texts=frame,
        embeddings=np.asarray(embeddings, dtype=np.float32),
        topics=topics,
        taxonomy=taxonomy,
        config=config,
        topic_words=_topic_words(modeler),
        facts=facts,
        figures=topic_figures(modeler),
    )


def analyse(texts: pd.DataFrame, config: RunConfig, stopwatch: Stopwatch | None = None, stages=None):
    """Every stage from redaction to the frozen :class:`Analysis`, in the one order.

    ``stages`` provides the stage functions under this module's names (``protect``,
    ``detect_languages``, ``annotate``, ``embed``, ``mark_roles``, ``fit_topics``,
    ``fit_themes``, ``assemble``); by default this module's own, in one process.
    ``detect_languages`` returns a future (anything with ``result()``), collected before
    ``assemble`` so that detection runs beside the stages between. The Prefect flows pass
    :class:`flows.tasks.TaskStages`, whose functions run the same stages as tasks.
    Returns ``(analysis, modeler)``: the modeler only to save BERTopic's own files beside the run.
    """
    stages = stages or sys.modules[__name__]
    stopwatch = stopwatch or Stopwatch()
    taxonomy = load_taxonomy(config.themes.taxonomy)
    with stopwatch("redaction"):
        texts, redacted = stages.protect(texts, config)
    with stopwatch("language"):
        languages = stages.detect_languages(texts, config.language)  # runs beside the stages below
        texts = stages.annotate(texts, config.language)
    with stopwatch("embeddings"):
        embeddings = stages.embed(texts["text"].tolist(), config.embeddings)
    with stopwatch("roles"):
        texts = stages.mark_roles(texts, embeddings)
    with stopwatch("topics"):
        modeler = stages.fit_topics(texts, embeddings, config)
    with stopwatch("themes"):
        mapper = stages.fit_themes(texts, embeddings, modeler.topics_, taxonomy, config)
    with stopwatch("language"):
        texts = with_languages(texts, languages.result())
    with stopwatch("assemble"):
        analysis = stages.assemble(texts, embeddings, modeler, mapper, taxonomy, config, {"redaction": redacted})
    analysis.facts["timings_seconds"] = dict(stopwatch.seconds)
    return analysis, modeler


def topic_model_writer(modeler):
    """A ``save_run`` hook that writes BERTopic's own model (safetensors) beside the run's data."""
    return modeler.save if modeler is not None and modeler.model_ is not None else None


def write_outputs(result, analysis: Analysis, modeler, out_dir: Path | None, model_dir: Path | None) -> tuple[Path | None, Path | None]:
    """Write the run's files to ``out_dir`` and its saved model to ``model_dir`` (either may be
    None): both appear together, complete, or neither (:func:`pipeline.atomic.write_together`)."""
    from pipeline.atomic import write_together
    from pipeline.export import write_run
    from pipeline.saved_run import save_run

    writes = []
    if out_dir is not None:
        writes.append((Path(out_dir), lambda folder: write_run(result, folder, analysis.config.export)))
    if model_dir is not None:
        writes.append((Path(model_dir), lambda folder: save_run(analysis, folder, topic_model_writer(modeler))))
    try:
        write_together(writes)
    except OSError as error:  # a full disk, a folder that cannot be written
        if isinstance(error, FileExistsError) and error.filename is None:
            raise  # the run folder exists already: nothing was written, and the message says so
        where = f": {error.filename}" if error.filename else ""
        raise OSError(error.errno, f"{error.strerror or error}{where}; intet resultat og ingen emnemodel er gemt") from None
    if model_dir is not None:
        analysis.folder = Path(model_dir)  # save_run noted the staging folder it wrote
    return (None if out_dir is None else Path(out_dir)), (None if model_dir is None else Path(model_dir))


def run_workshop(inputs: Sequence[str | Path], config: RunConfig, out: Path | None = None, models: Path | None = None):
    """Read, analyse, report and (when ``out``/``models`` are given) write one run, without Prefect.

    Returns ``(analysis, result, output folder or None)``.
    """
    from pipeline.views import run_result

    stopwatch = Stopwatch()
    check_settings(config, out, models)
    with stopwatch("ingest"):
        ingested = read_texts(inputs, config)
    analysis, modeler = analyse(ingested.texts, config, stopwatch)
    files = _input_files(inputs)
    run_id = new_run_id(config.ingest.workshop or ingested.texts["workshop"].iloc[0])
    with stopwatch("report"):
        result = run_result(analysis, run_id, files)
    with stopwatch("export"):
        folder, _ = write_outputs(
            result, analysis, modeler, None if out is None else Path(out) / run_id, None if models is None else Path(models) / run_id
        )
    analysis.facts["timings_seconds"] = dict(stopwatch.seconds)
    return analysis, result, folder


def _input_files(inputs: Sequence[str | Path]) -> list[Path]:
    from pipeline.ingest import expand_inputs

    return expand_inputs([Path(path) for path in inputs])
