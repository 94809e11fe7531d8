"""The series flow: several workshops of one strategy round, one topic model over all.

Frequencies and quotes come per workshop and in total; each workshop's weight is
normalised by default so one large workshop does not outweigh the others. Its steps are
the workshop flow's (:func:`pipeline.run.run_stages`), with the series' plan as input.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.parameters import StagesParam, TaxonomyParam
from flows.workshop import RunOutcome, run_config, task_stages
from pipeline.config import RunOverrides
from pipeline.ingest.series import plan_series
from pipeline.run import check_settings, run_stages


@flow(name="series", flow_run_name="serie-{name}")
def series_flow(
    inputs: list[str],
    taxonomy: TaxonomyParam = None,
    name: str = "serie",
    out: str = "outputs",
    models: str = "models",
    config_file: str | None = None,
    workshop_column: str | None = None,
    normalise_workshops: bool = True,
    text_column: str | None = None,
    embedder: str | None = None,
    behold_persondata: bool = False,
    stages: StagesParam = None,
) -> RunOutcome:
    """Analysér flere workshops samlet: én emnemodel, resultater pr. workshop og i alt.

    Args:
        inputs: Et manifest (YAML/CSV), mapper med én undermappe pr. workshop, eller filer.
        taxonomy: Taksonomi: navnet på en medfølgende eller stien til en YAML-fil; tom = konfigurationens.
        name: Seriens navn, bruges i kørslens id.
        out: Mappe til resultater; hver kørsel får sin egen undermappe.
        models: Mappe hvor hver kørsels emnemodel gemmes.
        config_file: YAML-fil med indstillinger (se README).
        workshop_column: Tabelkolonne der angiver hver rækkes workshop (går forud for mappenavne).
        normalise_workshops: Giv hver workshop samme samlede vægt.
        text_column: Kolonnen med teksten i CSV/Excel-tabeller; tom = gættes.
        embedder: 'e5' (standard), 'lsa' eller 'sentence-transformers:<lokal sti>'.
        behold_persondata: Slå fjernelse af persondata fra (registreres i manifestet).
    """
    plan = plan_series(inputs)
    config = run_config(
        config_file,
        RunOverrides(taxonomy=taxonomy, normalise_workshops=normalise_workshops, text_column=text_column,
                     embedder=embedder, redact=False if behold_persondata else None),  # fmt: skip
    )
    check_settings(config, Path(out), Path(models))
    stages = task_stages(config, stages)
    files, workshops = [path for _, path in plan], [workshop for workshop, _ in plan]
    analysis, result, folder = run_stages(
        stages, files, Path(out), Path(models), name=name, workshops=workshops, workshop_column=workshop_column
    )
    return RunOutcome.of(analysis, result, folder, stages.cached)
