"""The series flow: several workshops of one strategy round, one topic model over all.

Frequencies and quotes come per workshop and in total; each workshop's weight is
normalised by default so one large workshop does not outweigh the others. Its steps are
the workshop flow's (:func:`pipeline.run.run_stages`), with the series' plan as input.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.overrides import run_overrides
from flows.parameters import StagesParam, flow_parameters
from flows.workshop import RunOutcome, run_config, task_stages
from pipeline.ingest.series import plan_series
from pipeline.preflight import check_settings
from pipeline.run import run_stages


@flow(name="series", flow_run_name="serie-{name}")
@flow_parameters("taxonomy", "normalise_workshops", "text_column", "embedder", "behold_persondata")
def series_flow(
    inputs: list[str],
    name: str = "serie",
    out: str = "outputs",
    models: str = "models",
    config_file: str | None = None,
    workshop_column: str | None = None,
    stages: StagesParam = None,
    **overrides,
) -> RunOutcome:
    """Analysér flere workshops samlet: én emnemodel, resultater pr. workshop og i alt.

    Args:
        inputs: Et manifest (YAML/CSV), mapper med én undermappe pr. workshop, eller filer.
        name: Seriens navn, bruges i kørslens id.
        out: Mappe til resultater; hver kørsel får sin egen undermappe.
        models: Mappe hvor hver kørsels emnemodel gemmes.
        config_file: YAML-fil med indstillinger (se README).
        workshop_column: Tabelkolonne der angiver hver rækkes workshop (går forud for mappenavne).
    """
    plan = plan_series(inputs)
    config = run_config(config_file, run_overrides(**overrides))
    check_settings(config, Path(out), Path(models))
    stages = task_stages(config, stages)
    files, workshops = [path for _, path in plan], [workshop for workshop, _ in plan]
    analysis, result, folder = run_stages(
        stages, files, Path(out), Path(models), name=name, workshops=workshops, workshop_column=workshop_column
    )
    return RunOutcome.of(analysis, result, folder, stages.cached)
