"""The after-workshop flow: files in, theme frequencies and quotes out.

Reads as the list of steps it is; each step is a task in :mod:`flows.tasks` calling one
stage of :mod:`pipeline.run`, in the order that module gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow

from flows import tasks
from flows.deploy import TaxonomyParam
from flows.artifacts import publish_artifacts
from pipeline import ingest
from pipeline.analysis import Analysis
from pipeline.config import RunConfig, RunOverrides
from pipeline.export import in_report_order
from pipeline import run
from pipeline.run import Stopwatch, check_settings, new_run_id


@dataclass
class RunOutcome:
    """What a finished run hands back: where things are, and the headline numbers."""

    run_id: str
    output_dir: Path
    model_dir: Path
    shares: list[tuple[str, float, float, float]]  # (theme label, share, ci_low, ci_high), by share, andet last
    n_texts: int
    n_topics: int
    emerging: list[tuple[str, int, float]] = field(default_factory=list)  # (name, texts, share), biggest first
    cached_steps: list[str] = field(default_factory=list)


def run_config(config_file: str | None, overrides: RunOverrides) -> RunConfig:
    """The run's config: the file's (or the defaults), then the typed overrides on top."""
    return overrides.apply(RunConfig.from_file(config_file))


def analyse(texts, config: RunConfig, stopwatch: Stopwatch) -> tuple[Analysis, object, list[str]]:
    """The stages of :func:`pipeline.run.analyse`, each a task; shared by both flows."""
    stages = tasks.TaskStages()
    analysis, modeler = run.analyse(texts, config, stopwatch, stages=stages)
    return analysis, modeler, stages.cached


def finish(
    analysis: Analysis, modeler, run_id: str, out: str, models: str, inputs: list[Path], cached: list[str], stopwatch: Stopwatch
) -> RunOutcome:
    """Tables, quotes and exports; the saved run for analysts; the run summary in Prefect."""
    with stopwatch("report"):
        result = tasks.report(analysis, run_id, inputs)
    with stopwatch("export"):
        output_dir, model_dir = tasks.write_outputs(result, analysis, modeler, Path(out) / run_id, Path(models) / run_id)
    publish_artifacts(result, output_dir)
    total = in_report_order(result.frequencies["total"])
    return RunOutcome(
        run_id=run_id,
        output_dir=output_dir,
        model_dir=model_dir,
        shares=list(
            zip(total["label"], total["share"].astype(float), total["ci_low"].astype(float), total["ci_high"].astype(float))
        ),
        n_texts=len(analysis.texts),
        n_topics=analysis.n_topics,
        emerging=[(str(row.name), int(row.size), float(row.share)) for row in result.emerging.itertuples()],
        cached_steps=cached,
    )


def _workshop_run_name() -> str:
    """Flow runs are named after the workshop, by default the input folder's name."""
    from prefect.runtime import flow_run

    parameters = flow_run.parameters
    return parameters.get("workshop") or ingest.default_workshop_name(parameters.get("inputs") or ["."])


@flow(name="workshop", flow_run_name=_workshop_run_name)
def workshop_flow(
    inputs: list[str],
    taxonomy: TaxonomyParam = None,
    workshop: str | None = None,
    out: str = "outputs",
    models: str = "models",
    config_file: str | None = None,
    text_column: str | None = None,
    embedder: str | None = None,
    behold_persondata: bool = False,
) -> RunOutcome:
    """Analysér én workshop: temaer, hyppigheder og citater.

    Args:
        inputs: Filer eller mapper: Mentimeter-eksporter, notater (.docx/.pdf/.md/.txt), CSV/Excel-tabeller.
        taxonomy: Taksonomi: navnet på en medfølgende (fx deb-2020-2023) eller stien til en YAML-fil; tom = konfigurationens.
        workshop: Workshoppens navn; tom = inputmappens navn.
        out: Mappe til resultater; hver kørsel får sin egen undermappe.
        models: Mappe hvor hver kørsels emnemodel gemmes.
        config_file: YAML-fil med indstillinger (se README).
        text_column: Kolonnen med teksten i CSV/Excel-tabeller; tom = gættes.
        embedder: 'e5' (standard), 'lsa' eller 'sentence-transformers:<lokal sti>'.
        behold_persondata: Slå fjernelse af persondata fra (registreres i manifestet).
    """
    stopwatch = Stopwatch()
    files = ingest.expand_inputs(inputs)
    workshop = workshop or ingest.default_workshop_name(inputs)
    config = run_config(
        config_file,
        RunOverrides(taxonomy=taxonomy, workshop=workshop, text_column=text_column, embedder=embedder,
                     redact=False if behold_persondata else None),  # fmt: skip
    )
    check_settings(config, Path(out), Path(models))

    with stopwatch("ingest"):
        frames = [tasks.ingest_file(path, config.ingest, config.redaction) for path in files]
        texts = tasks.combine_texts(frames, config.redaction)
    analysis, modeler, cached = analyse(texts, config, stopwatch)
    return finish(analysis, modeler, new_run_id(workshop), out, models, files, cached, stopwatch)
