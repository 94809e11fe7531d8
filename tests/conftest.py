"""Test-session set-up shared by all tests.

Prefect, the embedding cache and spaCy all write under the home folder by default; the
tests point them at a throw-away folder so runs are isolated and leave nothing behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="tematik-tests-"))
# Set before Prefect is imported anywhere: its settings are read at import time.
os.environ["PREFECT_HOME"] = str(_SESSION_HOME / "prefect")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ["TEMATIK_CACHE"] = str(_SESSION_HOME / "cache")

from pipeline.embeddings import E5Embedder  # noqa: E402 - after the environment above

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "corpora" / "demo"
SHARED = REPO.parent / "shared" / "corpora" / "nordjylland-2023"


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server for every flow test of the session (~10 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def shared_workshop() -> Path:
    """The real North Jutland workshop next to the repository; tests using it skip without it."""
    if not SHARED.is_dir():
        pytest.skip("../shared/corpora/nordjylland-2023 is not present")
    return SHARED


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """One real run of the demo workshop through the one assembly (no Prefect), shared by the
    tests that read its result: ``(analysis, result, output folder, model folder)``."""
    from pipeline.config import RunConfig, RunOverrides
    from pipeline.run import run_workshop

    root = tmp_path_factory.mktemp("demo-run")
    config = RunOverrides(workshop="Strategiworkshop Midtjylland 2026").apply(RunConfig())
    analysis, result, folder = run_workshop([DEMO], config, out=root / "outputs", models=root / "models")
    return analysis, result, folder, root / "models" / folder.name


@pytest.fixture()
def saved_model(demo_run, tmp_path):
    """A copy of the demo run's saved model, so edits do not touch the shared one."""
    import shutil

    model = tmp_path / demo_run[3].name
    shutil.copytree(demo_run[3], model)
    return model



class CountingE5(E5Embedder):
    """The real e5 backend, recording which texts reach the model."""

    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    def encode(self, texts, kind):
        self.seen.extend(texts)
        return super().encode(texts, kind)
