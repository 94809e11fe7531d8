"""The series flow: several workshops of one strategy round, one topic model over all.

Frequencies and quotes come per workshop and in total; each workshop's weight is
normalised by default so one large workshop does not outweigh the others.
"""

from __future__ import annotations

from prefect import flow
from prefect.logging import get_run_logger

from flows import tasks
from flows.workshop import RunOutcome, analyse, finish, load_run_config
from pipeline.analysis import new_run_id
from pipeline.errors import InputError
from pipeline.ingest.series import plan_series
from pipeline.taxonomy import load_taxonomy


@flow(name="series", flow_run_name="series-{name}")
def series_flow(
    inputs: list[str],
    taxonomy: str = "deb-2020-2023",
    name: str = "serie",
    out: str = "outputs",
    models: str = "models",
    config_file: str | None = None,
    workshop_column: str | None = None,
    normalise_workshops: bool = True,
    text_column: str | None = None,
    embedder: str | None = None,
) -> RunOutcome:
    """Analyse a series of workshops together.

    inputs: a manifest (YAML/CSV), folders with one sub-folder per workshop, or files.
    workshop_column: a table column naming each row's workshop (overrides folder names).
    normalise_workshops: give every workshop the same total weight.
    """
    plan = plan_series(inputs)
    config = load_run_config(
        config_file,
        **{
            "weights.normalise_workshops": normalise_workshops,
            "ingest.text_column": text_column,
            "embeddings.backend": embedder,
        },
    )
    taxonomy_ = load_taxonomy(taxonomy)

    frames = [
        tasks.ingest_file(path, config.ingest.model_copy(update={"workshop": workshop})) for workshop, path in plan
    ]
    texts = tasks.combine_texts(frames).texts
    if workshop_column:
        if workshop_column not in texts.columns:
            raise InputError(None, f"no column '{workshop_column}' in the inputs' tables")
        texts["workshop"] = texts[workshop_column].fillna(texts["workshop"]).astype(str)
    workshops = sorted(texts["workshop"].unique())
    get_run_logger().info("Serie med %d workshops: %s", len(workshops), ", ".join(workshops))

    analysis, cached = analyse(texts, config, taxonomy_)
    files = sorted({path for _, path in plan})
    return finish(analysis, new_run_id(name), out, models, files, cached)
