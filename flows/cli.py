"""The ``tematik`` command.

Exit codes: 0 success; 1 bad input (a one-line reason naming the file); 2 any other
failure (a one-line reason; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

# Before Prefect is imported: no telemetry, and Prefect's own console lines are replaced
# by the progress display below (everything still goes to the Prefect API / UI).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
if "--verbose" not in sys.argv:
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")

import typer
from rich.console import Console
from rich.table import Table

from pipeline.errors import InputError

app = typer.Typer(
    help="tematik: fra workshop-input til vægtede temahyppigheder og citater.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out = Console()

InputsArg = Annotated[
    list[Path], typer.Argument(help="Input files or folders: Mentimeter exports, notes (.docx/.pdf/.md/.txt), CSV/Excel tables.")
]
TaxonomyOpt = Annotated[
    str, typer.Option("--taxonomy", "-t", help="Shipped taxonomy name (see `tematik taxonomies`) or a YAML file.")
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder for results; each run gets its own sub-folder.")]
ModelsOpt = Annotated[Path, typer.Option("--models", help="Folder where the fitted topic model of each run is saved.")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="YAML file with settings (see README).")]
TextColumnOpt = Annotated[
    Optional[str], typer.Option("--text-column", help="Column with the text in CSV/Excel tables (default: guessed).")
]
EmbedderOpt = Annotated[
    Optional[str],
    typer.Option("--embedder", help="'e5' (default), 'lsa' (fast, no model) or 'sentence-transformers:<local path>'."),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", help="Show Prefect's own log lines.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]


class _ProgressHandler(logging.Handler):
    """Shows each flow/task log line as the current step of a spinner."""

    def __init__(self, status):
        super().__init__(logging.INFO)
        self.status = status

    # Prefect's own state lines; the steps' own messages say more.
    _ENGINE_LINES = ("Finished in state", "Beginning flow run", "Beginning subflow", "Created task run", "Executing")

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().splitlines()[0]
        if message.startswith(self._ENGINE_LINES):
            return
        self.status.update(f"[bold]tematik[/] {message[:100]}")
        # Errors are summed up in the one line printed when the run stops.
        if logging.INFO <= record.levelno < logging.ERROR:
            console.print(f"  {message}", highlight=False, markup=False)


@contextmanager
def _progress(title: str, debug: bool):
    if "--verbose" not in sys.argv:
        # BERTopic warns about its own internals (pickling, custom topic lists) on every run.
        logging.getLogger("BERTopic").setLevel(logging.ERROR)
    handler = None
    try:
        with console.status(f"[bold]tematik[/] {title}") as status:
            handler = _ProgressHandler(status)
            for name in ("prefect.flow_runs", "prefect.task_runs"):
                logging.getLogger(name).addHandler(handler)
            yield
    except InputError as error:
        console.print(f"[red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as error:  # noqa: BLE001 - the command line's last line of defence
        if debug:
            raise
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        console.print(f"[red]failed:[/] {reason}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    finally:
        if handler is not None:
            for name in ("prefect.flow_runs", "prefect.task_runs"):
                logging.getLogger(name).removeHandler(handler)


def _summary(outcome) -> None:
    from pipeline.export import percent

    table = Table(title=f"Temaer ({outcome.n_texts} tekster, {outcome.n_topics} emner)")
    table.add_column("Tema")
    table.add_column("Andel", justify="right")
    table.add_column("95 %-interval", justify="right")
    for label, share, low, high in sorted(outcome.shares, key=lambda row: -row[1]):
        table.add_row(label, percent(share), f"{percent(low)} – {percent(high)}")
    out.print(table)
    out.print(f"Resultater: [bold]{outcome.output_dir}[/]")
    out.print(f"Emnemodel:  {outcome.model_dir}")
    if outcome.cached_steps:
        out.print(f"Genbrugt fra cache: {', '.join(outcome.cached_steps)}")


@app.command()
def run(
    inputs: InputsArg,
    taxonomy: TaxonomyOpt = "deb-2020-2023",
    out_dir: OutOpt = Path("outputs"),
    workshop: Annotated[Optional[str], typer.Option(help="Workshop name (default: the input folder's name).")] = None,
    models: ModelsOpt = Path("models"),
    config: ConfigOpt = None,
    text_column: TextColumnOpt = None,
    embedder: EmbedderOpt = None,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Analyse one workshop: themes, frequencies and quotes, written to OUT/<run id>/."""
    from flows.workshop import workshop_flow

    with _progress("starter workshop-flow …", debug):
        outcome = workshop_flow(
            inputs=[str(p) for p in inputs],
            taxonomy=taxonomy,
            workshop=workshop,
            out=str(out_dir),
            models=str(models),
            config_file=str(config) if config else None,
            text_column=text_column,
            embedder=embedder,
        )
    _summary(outcome)


@app.command()
def series(
    inputs: Annotated[
        list[Path], typer.Argument(help="A manifest (YAML/CSV), folders with one sub-folder per workshop, or files.")
    ],
    taxonomy: TaxonomyOpt = "deb-2020-2023",
    name: Annotated[str, typer.Option(help="Name of the series, used in the run id.")] = "serie",
    out_dir: OutOpt = Path("outputs"),
    models: ModelsOpt = Path("models"),
    workshop_column: Annotated[
        Optional[str], typer.Option(help="Table column naming each row's workshop (overrides folder names).")
    ] = None,
    normalise: Annotated[
        bool, typer.Option("--normalise/--no-normalise", help="Give every workshop the same total weight.")
    ] = True,
    config: ConfigOpt = None,
    text_column: TextColumnOpt = None,
    embedder: EmbedderOpt = None,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Analyse several workshops together: one topic model, results per workshop and in total."""
    from flows.series import series_flow

    with _progress("starter serie-flow …", debug):
        outcome = series_flow(
            inputs=[str(p) for p in inputs],
            taxonomy=taxonomy,
            name=name,
            out=str(out_dir),
            models=str(models),
            config_file=str(config) if config else None,
            workshop_column=workshop_column,
            normalise_workshops=normalise,
            text_column=text_column,
            embedder=embedder,
        )
    _summary(outcome)


@app.command()
def ingest(
    inputs: InputsArg,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write the table of texts to.")],
    workshop: Annotated[Optional[str], typer.Option(help="Workshop name.")] = None,
    text_column: TextColumnOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Read inputs into one table of texts (for inspection); no analysis."""
    from pipeline.config import IngestConfig
    from pipeline.ingest import read_inputs, write_texts_csv

    with _progress("læser input …", debug):
        ingested = read_inputs(inputs, IngestConfig(workshop=workshop, text_column=text_column))
        write_texts_csv(ingested.texts, out_file)
    for line in ingested.report.summary_lines():
        out.print(line, highlight=False)
    out.print(f"{len(ingested.texts)} tekster skrevet til {out_file}")


@app.command()
def taxonomies() -> None:
    """List the shipped taxonomies."""
    from pipeline.taxonomy import list_taxonomies

    table = Table(title="Taksonomier (brug navnet med --taxonomy, eller en egen YAML-fil)")
    for column in ("Navn", "Titel", "Version", "Temaer"):
        table.add_column(column)
    for summary in list_taxonomies():
        table.add_row(summary["name"], summary["title"], str(summary["version"]), ", ".join(summary["themes"]))
    out.print(table)


ModelArg = Annotated[Path, typer.Argument(help="A saved run: models/<run id>/.")]


@app.command()
def topics(model: ModelArg, debug: DebugOpt = False) -> None:
    """Show a saved run's topics: size, words, theme and theme score."""
    from pipeline.analysis import Analysis

    with _progress("åbner emnemodel …", debug):
        table = Analysis.load(model).topic_table()
    view = Table(title=f"Emner i {model.name}")
    for column in ("Emne", "Navn", "Tekster", "Vægt", "Ord", "Tema", "Score"):
        view.add_column(column)
    names = table["label"] if "label" in table.columns else table["name"]
    for row, name in zip(table.itertuples(), names):
        view.add_row(
            str(row.topic), str(name), str(row.size), f"{row.weighted_size:.1f}", str(row.words)[:60],
            str(row.theme_label), f"{row.theme_score:.2f}" if row.theme_score == row.theme_score else "",
        )
    out.print(view)


@app.command()
def edit(
    model: ModelArg,
    rename: Annotated[
        list[str], typer.Option(help="TOPIC=NAME: give a topic a readable name (ids as after --merge).")
    ] = [],
    merge: Annotated[list[str], typer.Option(help="A,B[,C]: merge topics into one.")] = [],
    theme: Annotated[list[str], typer.Option(help="TOPIC=THEME_ID: correct a topic's theme (or 'andet').")] = [],
    debug: DebugOpt = False,
) -> None:
    """Rename/merge topics or correct a theme mapping; saved in the run's edits.yaml."""
    from pipeline.analysis import Analysis

    def pairs(values: list[str], option: str) -> list[tuple[int, str]]:
        try:
            return [(int(key), value) for key, value in (item.split("=", 1) for item in values)]
        except ValueError:
            raise InputError(None, f"--{option} takes TOPIC=VALUE, e.g. --{option} 3=...") from None

    with _progress("retter emnemodel …", debug):
        analysis = Analysis.load(model)
        try:
            groups = [[int(t) for t in item.split(",")] for item in merge]
        except ValueError:
            raise InputError(None, "--merge takes topic ids separated by commas, e.g. --merge 2,5") from None
        if groups:
            renumbered = analysis.merge_topics(groups)
            for group in groups:
                new = sorted({renumbered.get(t, t) for t in group})
                out.print(f"Emne {'+'.join(map(str, group))} er nu emne {', '.join(map(str, new))}")
        for topic, name in pairs(rename, "rename"):
            analysis.rename_topic(topic, name)
        for topic, theme_id in pairs(theme, "theme"):
            analysis.set_topic_theme(topic, theme_id)
        analysis.save_edits()
    out.print(f"Rettelser gemt i {model / 'edits.yaml'}; kør `tematik export {model}` for nye tabeller.")


@app.command()
def export(
    model: ModelArg,
    out_dir: OutOpt = Path("outputs"),
    debug: DebugOpt = False,
) -> None:
    """Export a saved run again, with its edits, without refitting the topic model."""
    from pipeline.analysis import Analysis, new_run_id
    from pipeline.export import write_run

    with _progress("eksporterer …", debug):
        analysis = Analysis.load(model)
        result = analysis.result(run_id=new_run_id(model.name.rsplit("-", 2)[0] + "-rettet"), inputs=[])
        folder = write_run(result, out_dir / result.manifest["run_id"])
    out.print(f"Resultater: [bold]{folder}[/]")


@app.command()
def serve(
    taxonomy: TaxonomyOpt = "deb-2020-2023",
    out_dir: OutOpt = Path("outputs"),
    models: ModelsOpt = Path("models"),
) -> None:
    """Serve the workshop and series flows as deployments the Prefect UI can start."""
    from flows.deploy import serve_deployments

    serve_deployments(taxonomy=taxonomy, out=str(out_dir.resolve()), models=str(models.resolve()))


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
