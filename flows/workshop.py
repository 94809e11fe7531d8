"""The after-workshop flow: files in, theme frequencies and quotes out.

Its steps are :func:`pipeline.run.run_stages`'s, each a Prefect task (:class:`flows.tasks.TaskStages`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow

from flows.overrides import run_overrides
from flows.parameters import StagesParam, flow_parameters
from flows.tasks import TaskStages
from pipeline import ingest
from pipeline.config import RunConfig, RunOverrides
from pipeline.report import in_report_order
from pipeline.preflight import check_settings
from pipeline.run import run_stages
from pipeline.stages import LocalStages


@dataclass
class RunOutcome:
    """What a finished run hands back: where things are, and the headline numbers."""

    run_id: str
    output_dir: Path
    model_dir: Path
    shares: list[tuple[str, float, float, float]]  # (theme label, share, ci_low, ci_high), by share, andet last
    n_texts: int
    n_topics: int
    n_themes: int  # the taxonomy's, andet not counted
    emerging: list[tuple[str, int, float]] = field(default_factory=list)  # (name, texts, share), biggest first
    cached_steps: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, analysis, result, output_dir: Path, cached: list[str]) -> RunOutcome:
        total = in_report_order(result.frequencies["total"])
        return cls(
            run_id=result.manifest["run_id"],
            output_dir=output_dir,
            model_dir=analysis.folder,
            shares=list(
                zip(total["label"], total["share"].astype(float), total["ci_low"].astype(float), total["ci_high"].astype(float))
            ),
            n_texts=len(analysis.texts),
            n_topics=analysis.n_topics,
            n_themes=len(analysis.taxonomy.themes),
            emerging=[(str(row.name), int(row.size), float(row.share)) for row in result.emerging.itertuples()],
            cached_steps=cached,
        )


def run_config(config_file: str | None, overrides: RunOverrides) -> RunConfig:
    """The run's config: the file's (or the defaults), then the typed overrides on top."""
    return overrides.apply(RunConfig.from_file(config_file))


def task_stages(config: RunConfig, stages: LocalStages | None) -> TaskStages:
    """The stages as tasks: ``stages`` when given (their parts stay warm; rebuilt where ``config``
    differs: :meth:`~pipeline.stages.LocalStages.for_config`), else new ones."""
    return TaskStages(LocalStages(config) if stages is None else stages.for_config(config))


def _workshop_run_name() -> str:
    """Flow runs are named after the workshop, by default the input folder's name."""
    from prefect.runtime import flow_run

    parameters = flow_run.parameters
    return parameters.get("workshop") or ingest.default_workshop_name(parameters.get("inputs") or ["."])


@flow(name="workshop", flow_run_name=_workshop_run_name)
@flow_parameters("taxonomy", "workshop", "text_column", "embedder", "behold_persondata")
def workshop_flow(
    inputs: list[str],
    out: str = "outputs",
    models: str = "models",
    config_file: str | None = None,
    stages: StagesParam = None,
    **overrides,
) -> RunOutcome:
    """Analysér én workshop: temaer, hyppigheder og citater.

    Args:
        inputs: Filer eller mapper: Mentimeter-eksporter, notater (.docx/.pdf/.md/.txt), CSV/Excel-tabeller.
        out: Mappe til resultater; hver kørsel får sin egen undermappe.
        models: Mappe hvor hver kørsels emnemodel gemmes.
        config_file: YAML-fil med indstillinger (se README).
    """
    workshop = overrides.pop("workshop") or ingest.default_workshop_name(inputs)
    config = run_config(config_file, run_overrides(workshop=workshop, **overrides))
    check_settings(config, Path(out), Path(models))
    stages = task_stages(config, stages)
    analysis, result, folder = run_stages(stages, inputs, Path(out), Path(models))
    return RunOutcome.of(analysis, result, folder, stages.cached)
