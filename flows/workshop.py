"""The after-workshop flow: files in, theme frequencies and quotes out.

Reads as the list of steps it is; each step is a task in ``flows.tasks`` calling one
``pipeline`` stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow
from prefect.logging import get_run_logger

from flows import tasks
from flows.artifacts import publish_artifacts
from pipeline import ingest
from pipeline.analysis import Analysis, new_run_id
from pipeline.config import RunConfig
from pipeline.taxonomy import load_taxonomy


@dataclass
class RunOutcome:
    """What a finished run hands back: where things are, and the headline numbers."""

    run_id: str
    output_dir: Path
    model_dir: Path
    shares: list[tuple[str, float, float, float]]  # (theme label, share, ci_low, ci_high)
    n_texts: int
    n_topics: int
    cached_steps: list[str] = field(default_factory=list)


def load_run_config(config_file: str | None, **overrides) -> RunConfig:
    """The run's config: the file's (or the defaults), then the flow parameters on top."""
    config = RunConfig.from_file(config_file) if config_file else RunConfig()
    data = config.model_dump()
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, key = dotted.split(".")
        data[section][key] = value
    return RunConfig.model_validate(data)


def analyse(texts, config: RunConfig, taxonomy) -> tuple[Analysis, list[str]]:
    """Language → embeddings → topics → themes on an ingested table; shared by both flows."""
    text_list = texts["text"].tolist()
    cached: list[str] = []

    language_state = tasks.lemmatise(text_list, config.language, return_state=True)
    embedding_state = tasks.embed(text_list, config.embeddings, return_state=True)
    for step, state in (("lemmatisering", language_state), ("embeddings", embedding_state)):
        if state.name == "Cached":
            cached.append(step)
    annotated = texts.join(language_state.result().set_index(texts.index))
    embeddings = embedding_state.result()

    modeler = tasks.fit_topics(annotated, embeddings, config)
    mapper = tasks.map_themes(annotated, embeddings, modeler.topics_, taxonomy, config)
    analysis = Analysis(
        texts=annotated, embeddings=embeddings, modeler=modeler, mapper=mapper, taxonomy=taxonomy, config=config
    )
    if cached:
        get_run_logger().info("Genbrugt fra cache: %s", ", ".join(cached))
    return analysis, cached


def finish(analysis: Analysis, run_id: str, out: str, models: str, inputs: list[Path], cached: list[str]) -> RunOutcome:
    """Weights, quotes and exports; save the model for analysts; publish the run summary."""
    result = analysis.result(
        run_id=run_id,
        inputs=inputs,
        frequencies=tasks.weigh(analysis),
        quotes_by_theme=tasks.pick_quotes(analysis, "theme"),
        quotes_by_topic=tasks.pick_quotes(analysis, "topic"),
    )
    output_dir = tasks.export(result, Path(out) / run_id)
    model_dir = analysis.save(Path(models) / run_id)
    publish_artifacts(result, output_dir)
    total = result.frequencies["total"]
    return RunOutcome(
        run_id=run_id,
        output_dir=output_dir,
        model_dir=model_dir,
        shares=list(
            zip(total["label"], total["share"].astype(float), total["ci_low"].astype(float), total["ci_high"].astype(float))
        ),
        n_texts=len(analysis.texts),
        n_topics=analysis.n_topics,
        cached_steps=cached,
    )


@flow(name="workshop", flow_run_name="workshop-{workshop}")
def workshop_flow(
    inputs: list[str],
    taxonomy: str = "deb-2020-2023",
    workshop: str | None = None,
    out: str = "outputs",
    models: str = "models",
    config_file: str | None = None,
    text_column: str | None = None,
    embedder: str | None = None,
) -> RunOutcome:
    """Analyse one workshop.

    inputs: files or folders (Mentimeter exports, notes, CSV/Excel tables).
    taxonomy: shipped taxonomy name or a YAML file.
    workshop: workshop name (default: the input folder's or first file's name).
    out / models: parent folders; each run writes its own sub-folder named by run id.
    """
    files = ingest.expand_inputs(inputs)
    workshop = workshop or ingest.default_workshop_name(inputs)
    config = load_run_config(
        config_file,
        **{"ingest.workshop": workshop, "ingest.text_column": text_column, "embeddings.backend": embedder},
    )
    taxonomy_ = load_taxonomy(taxonomy if taxonomy else config.themes.taxonomy)

    frames = [tasks.ingest_file(path, config.ingest) for path in files]
    texts = tasks.combine_texts(frames).texts
    analysis, cached = analyse(texts, config, taxonomy_)
    return finish(analysis, new_run_id(workshop), out, models, files, cached)
