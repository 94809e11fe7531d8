"""Kommandoen ``tematik``.

Exit codes: 0 success; 1 bad input (one Danish line naming the file); 2 any other
failure (one line; ``--debug`` shows the traceback); 130 interrupted (Ctrl-C).

The console command is :func:`main`: ``app`` plus an exit without the interpreter's teardown.

Heavy libraries (Prefect, BERTopic, spaCy) are imported inside the commands that use
them, so ``tematik --help``, ``taxonomies`` and ``topics`` start at once.
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flows.danish_cli import DanishCommand, DanishGroup
from flows.progress import console, follow_logs, progress, quiet_prefect
from pipeline.danish import count, decimal, interval, number, percent
from pipeline.errors import InputError, os_problem, unreadable

# Before Prefect is imported (inside the commands): no telemetry.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

app = typer.Typer(
    help="tematik: fra workshop-input til vægtede temahyppigheder og citater.",
    cls=DanishGroup,
    options_metavar="[INDSTILLINGER]",
    subcommand_metavar="KOMMANDO [ARGUMENTER]...",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()

InputsArg = Annotated[
    list[Path], typer.Argument(help="Inputfiler eller -mapper: Mentimeter-eksporter, notater (.docx/.pdf/.md/.txt), CSV/Excel-tabeller.")
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Mappe til resultater; hver kørsel får sin egen undermappe.")]
ModelsOpt = Annotated[Path, typer.Option("--models", help="Mappe hvor hver kørsels emnemodel gemmes.")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="YAML-fil med indstillinger (se README).")]


def overrides(*names: str):
    """The run overrides ``names`` as this command's options (:data:`flows.overrides.OVERRIDES`)."""
    from flows.overrides import with_overrides

    return with_overrides(*names, annotate=lambda name, override: Annotated[
        override.type, typer.Option(*override.flags, help=override.help)])


VerboseOpt = Annotated[bool, typer.Option("--verbose", help="Vis Prefects egne loglinjer.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Vis hele tracebacken ved fejl.")]


def _interrupted() -> None:
    """Ctrl-C did not end the run in time: said just before the hard exit (code 130)."""
    console.print("[yellow]Afbrudt.[/] Kørslen er stoppet; intet halvt skrevet resultat er efterladt.", highlight=False)


def _summary(outcome) -> None:
    table = Table(title=f"Temaer ({count(outcome.n_texts, 'tekst', 'tekster')}, {count(outcome.n_topics, 'emne', 'emner')})")
    table.add_column("Tema")
    table.add_column("Andel", justify="right")
    table.add_column("95 %-interval", justify="right")
    for label, share, low, high in outcome.shares:  # as the reports list them: by share, andet last
        table.add_row(label, percent(share), interval(low, high))
    out.print(table)
    if outcome.emerging:
        emerging = Table(title="Nye temaer i 'andet' (største først)")
        emerging.add_column("Nyt tema")
        emerging.add_column("Tekster", justify="right")
        emerging.add_column("Andel", justify="right")
        for name, size, share in outcome.emerging[:5]:
            emerging.add_row(name, str(size), percent(share))
        out.print(emerging)
    out.print(f"Resultater: [bold]{outcome.output_dir}[/]")
    out.print(f"Emnemodel:  {outcome.model_dir}")
    if outcome.cached_steps:
        out.print(f"Genbrugt fra cache: {', '.join(outcome.cached_steps)}")
    _print_check_hint(outcome.model_dir, outcome.n_themes)


def _print_check_hint(model_dir: Path, n_themes: int) -> None:
    """The one step that measures the shares' error: a check of a sample of the size the taxonomy needs.

    Without it the shares rest on tematik's mapping alone, measured only on our labelled sets
    (README, "Measured"): on an unfamiliar eleven-theme taxonomy they were 0.11 off, 0.06 after
    a check of the recommended size. The command is printed unwrapped, to be copied whole, and
    as this one was called (``make demo`` calls ``.venv/bin/tematik``, not on the PATH)."""
    from pipeline.validation import recommended_sample_size

    size = recommended_sample_size(n_themes)
    out.print(f"Kontrollér temaerne på en stikprøve ({size} tekster anbefales ved {n_themes} temaer):")
    out.print(f"  [bold]{_command_line('validate', model_dir, '--sample', size, '-o', 'kontrol.xlsx')}[/]", soft_wrap=True)


def _command_line(*arguments) -> str:
    """A tematik command to copy: as this one was called (``make demo`` calls ``.venv/bin/tematik``,
    not on the PATH), paths quoted for the shell, escaped for rich's markup."""
    import shlex

    program = sys.argv[0] if Path(sys.argv[0]).name == "tematik" else "tematik"
    return escape(shlex.join([program, *map(str, arguments)]))


def _run_flow(kind: str, out_dir: Path, models: Path, config: Path | None, verbose: bool, debug: bool,
              parameters: dict) -> None:
    """Run the ``workshop`` or ``series`` flow with a Prefect API, progress and Ctrl-C handling; print the summary.

    Once every input path exists, the Prefect API (a temporary server if none runs) starts
    and boots while the inputs are checked (:mod:`pipeline.preflight`: a bad input fails in a
    second or two, in one line, the server stopped) and the flow and the models load;
    Ctrl-C ends the run within 5 s (exit 130), server stopped. A run that fails leaves no empty
    output or model folder it created.
    """
    from flows.server import exit_on_interrupt, prefect_api, remove_own_staging
    from pipeline.preflight import check_paths_exist, removed_if_failed

    title = "starter workshop-flow …" if kind == "workshop" else "starter serie-flow …"
    with progress("kontrollerer input …", debug, verbose):
        check_paths_exist(parameters["inputs"])  # instant: a typo in a path starts nothing
    quiet_prefect(verbose)
    with (
        removed_if_failed(out_dir, models),
        progress("kontrollerer input …", debug, verbose) as display,
        exit_on_interrupt(_interrupted) as interrupt,
        prefect_api(announce=False) as api,
    ):
        interrupt.on_timeout(api.stop)
        interrupt.on_timeout(lambda: remove_own_staging(out_dir, models))
        run_config = _check_run(kind, out_dir, models, config, parameters)
        api.announce()  # the inputs are fine: from here on the server is the run's
        display.status.update(f"[bold]tematik[/] {title}")
        display.show_run_page = api.kind != "temporary"
        from flows.series import series_flow
        from flows.workshop import workshop_flow
        from pipeline.stages import LocalStages

        follow_logs(display)
        # The costly stage objects load while the server boots; the flow runs with them. lingua's
        # models load in the language task, only when its cache has no detection of these texts.
        stages = LocalStages(run_config).warm_up(languages=False)
        api.wait()
        with api.run_settings():
            outcome = (workshop_flow if kind == "workshop" else series_flow)(**parameters, stages=stages)
    _summary(outcome)


def _check_run(kind: str, out_dir: Path, models: Path, config: Path | None, parameters: dict):
    """:func:`pipeline.preflight.check_run` with the overrides the flow will apply; the run's config."""
    from flows.overrides import OVERRIDES, run_overrides
    from pipeline.ingest import default_workshop_name
    from pipeline.preflight import check_run

    values = {name: parameters[name] for name in OVERRIDES if name in parameters}
    if kind == "workshop":
        values["workshop"] = values["workshop"] or default_workshop_name(parameters["inputs"])
    return check_run(parameters["inputs"], config, run_overrides(**values), out_dir, models, series=kind == "series",
                     workshop_column=parameters.get("workshop_column"))  # fmt: skip


@app.command(cls=DanishCommand)
@overrides("taxonomy", "workshop", "text_column", "embedder", "behold_persondata")
def run(
    inputs: InputsArg,
    out_dir: OutOpt = Path("outputs"),
    models: ModelsOpt = Path("models"),
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
    **overrides,
) -> None:
    """Analysér én workshop: temaer, hyppigheder og citater, skrevet til OUT/<kørsels-id>/."""
    _run_flow("workshop", out_dir, models, config, verbose, debug, dict(
        inputs=[str(p) for p in inputs], out=str(out_dir), models=str(models),
        config_file=str(config) if config else None, **overrides,
    ))  # fmt: skip


@app.command(cls=DanishCommand)
@overrides("taxonomy", "normalise_workshops", "text_column", "embedder", "behold_persondata")
def series(
    inputs: Annotated[
        list[Path], typer.Argument(help="Et manifest (YAML/CSV), mapper med én undermappe pr. workshop, eller filer.")
    ],
    name: Annotated[str, typer.Option(help="Seriens navn, bruges i kørslens id.")] = "serie",
    out_dir: OutOpt = Path("outputs"),
    models: ModelsOpt = Path("models"),
    workshop_column: Annotated[
        Optional[str], typer.Option(help="Tabelkolonne der angiver hver rækkes workshop (går forud for mappenavne).")
    ] = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
    **overrides,
) -> None:
    """Analysér flere workshops samlet: én emnemodel, resultater pr. workshop og i alt."""
    _run_flow("series", out_dir, models, config, verbose, debug, dict(
        inputs=[str(p) for p in inputs], name=name, out=str(out_dir), models=str(models),
        config_file=str(config) if config else None, workshop_column=workshop_column, **overrides,
    ))  # fmt: skip


@app.command(cls=DanishCommand)
@overrides("workshop", "text_column", "behold_persondata")
def ingest(
    inputs: InputsArg,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="CSV-fil som teksttabellen skrives til.")],
    config: ConfigOpt = None,
    debug: DebugOpt = False,
    **overrides,
) -> None:
    """Læs input til én teksttabel (til eftersyn), som en kørsel ser den: persondata fjernet; ingen analyse."""
    from flows.overrides import run_overrides
    from pipeline.config import RunConfig
    from pipeline.run import write_texts

    with progress("læser input …", debug):
        ingested = write_texts(inputs, run_overrides(**overrides).apply(RunConfig.from_file(config)), out_file)
    for line in ingested.report.summary_lines():
        out.print(line, highlight=False)
    out.print(f"{count(len(ingested.texts), 'tekst', 'tekster')} skrevet til {out_file}")


@app.command(cls=DanishCommand)
def taxonomies() -> None:
    """Vis de medfølgende taksonomier."""
    from pipeline.taxonomy import list_taxonomies

    table = Table(title="Taksonomier (brug navnet med --taxonomy, eller en egen YAML-fil)")
    for column in ("Navn", "Titel", "Version", "Temaer"):
        table.add_column(column)
    for summary in list_taxonomies():
        table.add_row(summary["name"], summary["title"], str(summary["version"] or ""), ", ".join(summary["themes"]))
    out.print(table)


ModelArg = Annotated[Path, typer.Argument(help="En gemt kørsel: models/<kørsels-id>/.")]


def _words_that_fit(words: str, width: int) -> str:
    """As many whole topic words as fit in ``width`` characters, '…' when some are left out."""
    kept, used = [], 0
    for word in [w.strip() for w in str(words).split(",") if w.strip()]:
        if used + len(word) + (2 if kept else 0) > width - 2:
            return ", ".join(kept) + " …" if kept else word[: max(width - 1, 1)] + "…"
        kept.append(word)
        used += len(word) + (2 if len(kept) > 1 else 0)
    return ", ".join(kept)


@app.command(cls=DanishCommand)
def topics(model: ModelArg, debug: DebugOpt = False) -> None:
    """Vis en gemt kørsels emner: id, størrelse, navn/ord og tema (id til --theme) — uden at genberegne noget."""
    from pipeline.saved_run import load_run
    from pipeline.views import topic_table

    with progress("åbner emnemodel …", debug):
        analysis = load_run(model)
        table = topic_table(analysis)
    # Fits 80 columns: no vertical rules, short headers, the words get what is left.
    fixed = 2 + 5 + 6 + max(len(str(t)) for t in table["theme"]) + 5 + 3 * 6 + 1  # + padding, gaps and edge
    width = max(out.width - fixed, 16)
    view = Table(title=f"Emner i {escape(model.name)}", box=box.SIMPLE_HEAD, padding=(0, 1))
    view.add_column("Nr", justify="right", no_wrap=True)
    view.add_column("Antal", justify="right", no_wrap=True)
    view.add_column("Følger", justify="right", no_wrap=True)
    view.add_column("Navn og ord", no_wrap=True, max_width=width)
    view.add_column("Tema", no_wrap=True)
    view.add_column("Score", justify="right", no_wrap=True)
    for row in table.itertuples():
        generated = str(row.name).startswith(f"{row.topic}_")
        name = "" if generated else f"{row.name}: "
        following = int(analysis.moved_by_topic_theme(int(row.topic)).sum()) if row.topic >= 0 else 0
        view.add_row(
            str(row.topic), number(row.size), number(following), escape(_words_that_fit(name + str(row.words), width)),
            str(row.theme), decimal(row.theme_score, 2),
        )  # fmt: skip
    out.print(view)
    out.print("Følger: de tekster, der fik deres tema fra emnet; dem flytter --theme (--all-texts: alle).",
              highlight=False)  # fmt: skip
    ids = ", ".join(analysis.classes)
    out.print(f"Tema-id'er til --theme/--text: {ids}", highlight=False)


# What each option of ``tematik edit`` takes, with an example, for the line that says it was misspelt.
_EDIT_PAIRS = {"rename": 'EMNE=NAVN, fx --rename 3="Robotter i produktionen"', "theme": "EMNE=TEMA, fx --theme 3=andet",
               "text": "TEKST-ID=TEMA, fx --text postkort:P09=andet (kolonnen Tekst-id i assignments.csv)"}  # fmt: skip


def _pairs(values: list[str], option: str, key=int) -> list[tuple]:
    try:
        return [(key(k.strip()), v.strip()) for k, v in (item.split("=", 1) for item in values)]
    except ValueError:
        raise InputError(None, f"--{option} tager {_EDIT_PAIRS[option]}") from None


EDIT_HELP = """Læg emner sammen, omdøb dem eller ret temaer; gemmes i kørslens edits.yaml, uden genberegning.

Et emnes tema (--theme) bestemmer temaet for de tekster, der fik deres tema fra emnet: tekster i et emne, der ikke er blandet, og som har emnets tema. Tekster med tema efter egen evidens — uden for emnerne, i blandede emner, med et andet tema end emnets eller rettet enkeltvis med --text — beholder deres tema; --all-texts flytter alle emnets tekster. Kommandoen skriver, hvor mange tekster der skiftede tema."""


@app.command(cls=DanishCommand, help=EDIT_HELP)
def edit(
    model: ModelArg,
    merge: Annotated[list[str], typer.Option(help="A,B[,C]: læg emner sammen; de får id A, andre emner beholder deres id.")] = [],
    rename: Annotated[list[str], typer.Option(help="EMNE=NAVN: giv et emne et læsbart navn.")] = [],
    theme: Annotated[list[str], typer.Option(help="EMNE=TEMA-ID: ret et emnes tema (eller 'andet'); flytter de tekster, der fik deres tema fra emnet.")] = [],
    all_texts: Annotated[bool, typer.Option("--all-texts", help="Med --theme: flyt alle emnets tekster, også dem med tema efter egen evidens.")] = False,
    text: Annotated[list[str], typer.Option(help="TEKST-ID=TEMA-ID: flyt én tekst til et andet tema eller 'andet' (kolonnen Tekst-id i assignments.csv).")] = [],
    debug: DebugOpt = False,
) -> None:
    from pipeline.saved_run import load_run, save_edits

    lines = []
    with progress("retter emnemodel …", debug):
        if not (merge or rename or theme or text):
            raise InputError(None, "angiv en rettelse: --merge, --rename, --theme eller --text (se tematik edit --help)")
        analysis = load_run(model)
        try:
            groups = [[int(t) for t in item.split(",")] for item in merge]
        except ValueError:
            raise InputError(None, "--merge tager emne-id'er adskilt af komma, fx --merge 2,5") from None
        if groups:
            analysis.merge_topics(groups)
        lines += [f"Emne {'+'.join(map(str, group))} er nu emne {group[0]}" for group in groups]
        for topic, name in _pairs(rename, "rename"):
            analysis.rename_topic(topic, name)
            lines.append(f"Emne {topic} hedder nu »{analysis.edits.rename[topic]}«")
            namesakes = _other_topics_named(analysis, topic)
            if namesakes:  # allowed (numbers tell them apart), but likely one topic in two
                lines.append(f"  Bemærk: emne {', '.join(map(str, namesakes))} hedder det samme; er de ét emne, så læg dem "
                             f"sammen: --merge {','.join(map(str, [topic, *namesakes]))}")  # fmt: skip
        for topic, theme_id in _pairs(theme, "theme"):
            size = int((analysis.texts["topic"] == topic).sum())
            changed = analysis.set_topic_theme(topic, theme_id, every_text=all_texts)
            kept = size - int(analysis.moved_by_topic_theme(topic, all_texts).sum())
            theme_id = analysis.edits.topic_themes[topic]  # by its id, however it was named
            line = f"Emne {topic} → {theme_id}: {number(changed)} af {count(size, 'tekst', 'tekster')} skiftede tema"
            if kept:
                line += f"; {number(kept)} med tema efter egen evidens beholdt det (--all-texts flytter dem)"
            lines.append(line)
        for text_id, theme_id in _pairs(text, "text", key=str):
            changed = analysis.set_text_theme(text_id, theme_id)
            theme_id = analysis.edits.text_themes[text_id]
            lines.append(f"Tekst {text_id} → {theme_id}: " + ("skiftede tema" if changed else "havde allerede temaet"))
        path = save_edits(analysis)
    for line in lines:  # names and ids as the analyst typed them, "[" included: no markup
        out.print(line, highlight=False, markup=False)
    out.print(f"Rettelser gemt i {path}; kør `tematik export {model}` for nye tabeller.", highlight=False, markup=False)


def _other_topics_named(analysis, topic: int) -> list[int]:
    """The other topics whose name is ``topic``'s, in any case."""
    topics = analysis.topics[analysis.topics["topic"] >= 0]
    names = topics["name"].astype(str).str.strip().str.casefold()
    name = names[topics["topic"] == topic].iloc[0]
    return sorted(int(other) for other in topics.loc[(names == name) & (topics["topic"] != topic), "topic"])


def _export_saved(model: Path, out_dir: Path, suffix: str, labels: Path | None = None):
    """A new export folder of a saved run as it stands (with its edits), corrected by the filled-in sheet ``labels``
    when given: ``(folder, validation or None)``."""
    from pipeline.preflight import check_writable
    from pipeline.run import new_run_id, run_name
    from pipeline.saved_run import load_run
    from pipeline.stages import LocalStages
    from pipeline.validation import read_sheet
    from pipeline.views import assignments

    analysis = load_run(model)
    try:
        validation = read_sheet(labels, assignments(analysis), analysis.labels) if labels is not None else None
    except OSError as error:  # a sheet the system will not let tematik read (under /proc): one Danish line
        raise unreadable(error, labels) from None
    check_writable(out_dir, "resultatmappen")  # after the run and the sheet are read: a bad one leaves no folder
    # Named as the run was: by its workshop, else (a series, a run named by its folder) by its model folder's
    # run id without its time, so a re-export's id does not repeat the fitted run's.
    run_id = new_run_id(f"{analysis.config.ingest.workshop or run_name(model.resolve().name)}-{suffix}")
    stages = LocalStages(analysis.config)  # report and write only: nothing is built
    result = stages.report(analysis, run_id, inputs=[], validation=validation)
    folder, _ = stages.write(result, analysis, None, out_dir / run_id, None)
    return folder, validation


@app.command(cls=DanishCommand)
def export(
    model: ModelArg,
    out_dir: OutOpt = Path("outputs"),
    debug: DebugOpt = False,
) -> None:
    """Eksportér en gemt kørsel igen, med dens rettelser, uden at genberegne emnemodellen."""
    with progress("eksporterer …", debug):
        folder, _ = _export_saved(model, out_dir, "rettet")
    out.print(f"Resultater: [bold]{escape(str(folder))}[/]")


@app.command(cls=DanishCommand)
def validate(
    model: ModelArg,
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Med --sample: kontrolarket (.xlsx) der skrives. Med --labels: mappe til de kontrollerede resultater.")],
    sample: Annotated[Optional[int], typer.Option("--sample", min=1, help="Træk så mange tekster, lagdelt efter tematiks tema, til et kontrolark.")] = None,
    labels: Annotated[Optional[Path], typer.Option("--labels", help="Et udfyldt kontrolark: andelene rettes efter det og eksporteres.")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Startværdi for udtrækningen (samme værdi, samme tekster).")] = 42,
    debug: DebugOpt = False,
) -> None:
    """Kontrollér temaerne på en stikprøve: skriv et kontrolark, eller læs det udfyldte ark og eksportér rettede andele."""
    if labels is not None:
        from pipeline.report import check_summary

        with progress("læser kontrolarket …", debug):
            if sample is not None:
                raise InputError(None, "angiv enten --sample eller --labels, ikke begge")
            folder, validation = _export_saved(model, out_path, "kontrolleret", labels)
        out.print(check_summary(validation.facts()))
        out.print(f"Resultater med rettede andele: [bold]{escape(str(folder))}[/]")
        return
    from pipeline.atomic import write_file_atomically
    from pipeline.preflight import check_writable
    from pipeline.saved_run import load_run
    from pipeline.validation import draw_sample, fingerprint, recommended_sample_size, write_sheet
    from pipeline.views import assignments

    with progress("trækker stikprøve …", debug):
        if sample is None:
            raise InputError(None, "angiv --sample ANTAL (skriv et kontrolark) eller --labels ARK.xlsx (læs det udfyldte ark)")
        if out_path.suffix.lower() != ".xlsx":
            raise InputError(out_path, "kontrolarket skal være en .xlsx-fil")
        try:
            taken = out_path.exists()
        except OSError as error:  # a place the system will not show (under /proc)
            raise InputError(out_path, f"kontrolarket kan ikke skrives ({os_problem(error, 'skrive')})") from None
        if taken:
            raise InputError(out_path, "findes allerede: vælg et andet navn (et udfyldt ark overskrives aldrig)")
        analysis = load_run(model)
        table = assignments(analysis)
        drawn = draw_sample(table, sample, random_state=seed)
        check_writable(out_path.parent, "mappen til kontrolarket")
        write_file_atomically(out_path, lambda path: write_sheet(drawn, analysis.labels, path, model.name, fingerprint(table)))
    if len(drawn) < sample:  # texts that count nothing (weight 0) are never drawn
        out.print(f"Kørslen har {count(len(drawn), 'optalt tekst', 'optalte tekster')}: alle er med i arket.", highlight=False)
    out.print(f"Kontrolark med {count(len(drawn), 'tekst', 'tekster')}: [bold]{escape(str(out_path))}[/]. Udfyld kolonnen "
              "'Korrekt tema', og kør:")  # fmt: skip
    out.print(f"  {_command_line('validate', model, '--labels', out_path, '-o', 'outputs')}", soft_wrap=True)
    n_themes = len(analysis.labels) - 1  # labels: the themes and andet
    recommended = recommended_sample_size(n_themes)
    if len(drawn) < recommended and len(drawn) < len(table):
        out.print(f"[yellow]Bemærk:[/] med {n_themes} temaer bør kontrollen have mindst {recommended} tekster; "
                  f"med færre bliver de rettede andele usikre (README, afsnittet »For analysts«).")  # fmt: skip


@app.command(cls=DanishCommand)
@overrides("taxonomy")
def serve(
    out_dir: OutOpt = Path("outputs"),
    models: ModelsOpt = Path("models"),
    **overrides,
) -> None:
    """Gør workshop- og serie-flowet til deployments, som Prefect-UI'et kan starte."""
    from flows.deploy import serve_deployments

    serve_deployments(taxonomy=overrides["taxonomy"], out=str(out_dir.resolve()), models=str(models.resolve()))


_exit_code: list[int] = []


def _exit_without_teardown() -> None:
    """The last atexit handler of the ``tematik`` command: once every other handler has run
    (Prefect's log and event workers, logging's flush, temporary folders), exit at once with
    the command's code. The interpreter's teardown that it skips frees the modules and
    objects of spaCy, numba, pandas & co., one by one: 1.1–1.9 s after a demo run, for
    nothing the user sees. Files are written and closed by then (atomic renames)."""
    if _exit_code:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe (``tematik … | head``)
                pass
        os._exit(_exit_code[0])


def main() -> None:
    """The ``tematik`` command: :data:`app`, then :func:`_exit_without_teardown`."""
    atexit.register(_exit_without_teardown)  # registered first, so it runs last
    try:
        app()
    except SystemExit as finished:
        code = finished.code
        # sys.exit("message") prints the message and exits with 1 before the handlers run.
        _exit_code.append(code if isinstance(code, int) else 0 if code is None else 1)
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
