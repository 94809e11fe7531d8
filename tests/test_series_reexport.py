"""A series run's saved model, re-exported: its new run id is named as a single run's is."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import DEMO
from typer.testing import CliRunner

from flows.cli import app
from pipeline.config import RunConfig
from pipeline.run import run_name, run_stages
from pipeline.stages import LocalStages

pytestmark = pytest.mark.slow
runner = CliRunner()
TIME_AND_HEX = r"\d{8}-\d{6}-[0-9a-f]{6}"


def test_run_name_is_the_name_a_run_id_was_made_from():
    assert run_name("runde-2026-20261206-203629-edf57d") == "runde-2026"
    assert run_name("edited-model") == "edited-model"  # a model folder renamed by hand
    assert run_name("aalborg-20261206-203629") == "aalborg-20261206-203629"  # not a run id's end


def test_a_series_reexport_is_named_like_a_single_runs(tmp_path, demo_run):
    """``tematik export`` of a series' model folder: "runde-2026-rettet-<time>-<hex>", as a single run's
    "<workshop>-rettet-<time>-<hex>", not the fitted run's id again inside the new one."""
    for name in ("aarhus", "herning"):
        (tmp_path / "runde" / name).mkdir(parents=True)
    shutil.copy(DEMO / "mentimeter-export.xlsx", tmp_path / "runde" / "aarhus")
    shutil.copy(DEMO / "opsamlingsnotat.docx", tmp_path / "runde" / "herning")
    files = [tmp_path / "runde" / "aarhus" / "mentimeter-export.xlsx", tmp_path / "runde" / "herning" / "opsamlingsnotat.docx"]
    _, _, folder = run_stages(LocalStages(RunConfig()), files, tmp_path / "out", tmp_path / "models",
                              name="Runde 2026", workshops=["Aarhus", "Herning"])  # fmt: skip
    model = tmp_path / "models" / folder.name
    assert re.fullmatch(f"runde-2026-{TIME_AND_HEX}", model.name)

    single = demo_run[3]  # the demo, a single run named by its workshop
    for saved, name in ((model, "runde-2026"), (single, "strategiworkshop-midtjylland-2026")):
        out = tmp_path / f"rettet-{name}"
        result = runner.invoke(app, ["export", str(saved), "--out", str(out)])
        assert result.exit_code == 0, result.output
        (exported,) = out.iterdir()
        assert re.fullmatch(f"{name}-rettet-{TIME_AND_HEX}", exported.name), exported.name
        assert saved.name not in exported.name
