"""The series flow: several workshops of one strategy round, one topic model over all.

Frequencies and quotes come per workshop and in total; each workshop's weight is
normalised by default so one large workshop does not outweigh the others.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.logging import get_run_logger

from flows import tasks
from flows.deploy import TaxonomyParam
from flows.workshop import RunOutcome, analyse, finish, run_config
from pipeline.config import RunOverrides
from pipeline.ingest.series import plan_series, workshops_from_column
from pipeline.run import Stopwatch, check_settings, new_run_id


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
    stopwatch = Stopwatch()
    plan = plan_series(inputs)
    config = run_config(
        config_file,
        RunOverrides(taxonomy=taxonomy, normalise_workshops=normalise_workshops, text_column=text_column,
                     embedder=embedder, redact=False if behold_persondata else None),  # fmt: skip
    )
    check_settings(config, Path(out), Path(models))

    with stopwatch("ingest"):
        frames = [tasks.ingest_file(path, config.ingest.model_copy(update={"workshop": workshop}), config.redaction) for workshop, path in plan]
        texts = tasks.combine_texts(frames, config.redaction)
    texts = workshops_from_column(texts, workshop_column)
    workshops = sorted(texts["workshop"].unique())
    get_run_logger().info("Serie med %d workshops: %s", len(workshops), ", ".join(workshops))

    analysis, modeler, cached = analyse(texts, config, stopwatch)
    files = sorted({path for _, path in plan})
    return finish(analysis, modeler, new_run_id(name), out, models, files, cached, stopwatch)
