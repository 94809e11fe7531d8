"""Prefect tasks: each is a thin call into one ``pipeline`` stage.

IO tasks retry (a network share can hiccup); the expensive stages (lemmatisation and
embeddings) are cached by a hash of their inputs so a re-run after a small change only
pays for what changed. The logic lives in ``pipeline/`` and is tested there; these
wrappers add retries, caching and plain-language log lines.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

import pipeline
from pipeline import ingest
from pipeline.analysis import Analysis, fit_themes
from pipeline.config import EmbeddingConfig, IngestConfig, LanguageConfig, RunConfig
from pipeline.embeddings import make_embedder
from pipeline.errors import InputError
from pipeline.export import RunResult, write_run
from pipeline.language import TextAnalyzer
from pipeline.taxonomy import Taxonomy
from pipeline.themes import ThemeMapper
from pipeline.topics import TopicModeler

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


def text_analyzer(config: LanguageConfig) -> TextAnalyzer:
    """One spaCy pipeline per process and config: loading it costs more than using it."""
    return _text_analyzer(config.model_dump_json())


@lru_cache(maxsize=4)
def _text_analyzer(config_json: str) -> TextAnalyzer:
    return TextAnalyzer(LanguageConfig.model_validate_json(config_json))


def embedder(config: EmbeddingConfig):
    """One embedding model per process and config."""
    return _embedder(config.model_dump_json())


@lru_cache(maxsize=4)
def _embedder(config_json: str):
    return make_embedder(EmbeddingConfig.model_validate_json(config_json))


def _worth_retrying(task, task_run, state) -> bool:
    """Retry IO hiccups, not bad input or an existing output folder: neither goes away."""
    try:
        state.result()
    except (InputError, FileExistsError):
        return False
    except Exception:  # noqa: BLE001 - anything else may be passing
        return True
    return False


@task(
    retries=2,
    retry_delay_seconds=2,
    retry_condition_fn=_worth_retrying,
    cache_policy=NO_CACHE,
    task_run_name="ingest {path.name}",
)
def ingest_file(path: Path, config: IngestConfig) -> pd.DataFrame:
    frame = ingest.read_file(path, config)
    get_run_logger().info("%s: %d tekster læst", path.name, len(frame))
    return frame


@task(cache_policy=NO_CACHE)
def combine_texts(frames: list[pd.DataFrame]) -> ingest.Ingested:
    ingested = ingest.combine(frames)
    logger = get_run_logger()
    for line in ingested.report.summary_lines():
        logger.info(line)
    return ingested


def _language_key(context, parameters) -> str:
    return "lemmas-" + content_key(parameters["texts"], parameters["config"])


@task(cache_key_fn=_language_key, cache_expiration=CACHE_FOR, persist_result=True)
def lemmatise(texts: list[str], config: LanguageConfig) -> pd.DataFrame:
    """Lemmas and language flags of ``texts`` (only what the key covers, so a cached result is exact)."""
    analyzer = text_analyzer(config)
    annotated = analyzer.annotate(pd.DataFrame({"text": texts}))
    foreign = annotated.loc[~annotated["is_danish"], "text"]
    logger = get_run_logger()
    logger.info("Sprog: %s; %d tekster lemmatiseret", analyzer.backend, len(annotated))
    if len(foreign):
        logger.info("%d tekster ser ikke danske ud (beholdt, markeret): %s", len(foreign), "; ".join(foreign.head(5)))
    return annotated[["lemmas", "language", "is_danish"]].assign(language_backend=analyzer.backend)


def _embedding_key(context, parameters) -> str:
    return "embeddings-" + content_key(parameters["texts"], parameters["config"])


@task(cache_key_fn=_embedding_key, cache_expiration=CACHE_FOR, persist_result=True)
def embed(texts: list[str], config: EmbeddingConfig) -> np.ndarray:
    model = embedder(config)
    vectors = model.embed(texts)
    get_run_logger().info("Embeddings: %d tekster med %s", len(texts), model.name)
    return vectors


@task(cache_policy=NO_CACHE)
def fit_topics(annotated: pd.DataFrame, embeddings: np.ndarray, config: RunConfig) -> TopicModeler:
    modeler = TopicModeler(config.topics, embedder(config.embeddings))
    modeler.fit(annotated["text"].tolist(), annotated["lemmas"].tolist(), embeddings)
    logger = get_run_logger()
    if modeler.clustered_:
        n_topics = int((modeler.topic_info_["topic"] >= 0).sum())
        logger.info("Emner: %d fundet; %d tekster uden emne", n_topics, int((modeler.topics_ < 0).sum()))
    else:
        logger.info("For få tekster til at finde emner: temaerne tildeles tekst for tekst")
    return modeler


@task(cache_policy=NO_CACHE)
def map_themes(
    annotated: pd.DataFrame, embeddings: np.ndarray, topics: np.ndarray, taxonomy: Taxonomy, config: RunConfig
) -> ThemeMapper:
    mapper = fit_themes(ThemeMapper(taxonomy, embedder(config.embeddings), config.themes), annotated, embeddings, topics)
    n_andet = int((mapper.text_themes_["theme"] == "andet").sum())
    get_run_logger().info("Temaer: %d af %d tekster i 'andet'", n_andet, len(annotated))
    return mapper


@task(cache_policy=NO_CACHE)
def weigh(analysis: Analysis) -> dict[str, pd.DataFrame]:
    return analysis.frequencies()


@task(cache_policy=NO_CACHE, task_run_name="quotes per {group}")
def pick_quotes(analysis: Analysis, group: str) -> pd.DataFrame:
    return analysis.quotes(group)


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=_worth_retrying, cache_policy=NO_CACHE)
def export(result: RunResult, out_dir: Path) -> Path:
    folder = write_run(result, out_dir)
    get_run_logger().info("Resultater skrevet til %s", folder)
    return folder
