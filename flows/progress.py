"""What the terminal shows while a ``tematik`` command runs: a spinner with the current step
(the flow's and tematik's log lines), and how an error ends it (one Danish line and the
documented exit code, see :mod:`flows.cli`)."""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from pipeline.danish import number
from pipeline.errors import InputError

console = Console(stderr=True)


class ProgressHandler(logging.Handler):
    """Shows each flow/task log line as the current step of the progress display."""

    # Prefect's own state lines; the steps' own messages say more.
    _ENGINE_LINES = ("Finished in state", "Beginning flow run", "Beginning subflow", "Created task run", "Executing")

    # Prefect's "View at <flow run page>": shown (in Danish) only for a server that outlives the run.
    _RUN_PAGE = "View at "

    def __init__(self, status, started: float):
        super().__init__(logging.INFO)
        self.status, self.started = status, started
        self.show_run_page = False

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().strip().splitlines()[0]
        if message.startswith(self._ENGINE_LINES):
            return
        if message.startswith(self._RUN_PAGE):
            if not self.show_run_page:  # a temporary server is gone when the run ends: no dead link
                return
            message = "Kørslen i Prefect-UI'et: " + message.removeprefix(self._RUN_PAGE).strip()
        self.status.update(f"[bold]tematik[/] {message[:90]}")
        # Errors are summed up in the one line printed when the run stops.
        if logging.INFO <= record.levelno < logging.ERROR:
            console.print(f"  {number(time.monotonic() - self.started, 1):>5} s  {message}", highlight=False, markup=False)


FOLLOWED_LOGGERS = ("prefect.flow_runs", "prefect.task_runs", "tematik")


def follow_logs(handler: logging.Handler) -> None:
    """Show the flow's and tematik's log lines in the progress display. Call again once Prefect is
    imported: importing it configures logging anew and drops handlers attached before."""
    for name in FOLLOWED_LOGGERS:
        if handler not in logging.getLogger(name).handlers:
            logging.getLogger(name).addHandler(handler)


@contextmanager
def progress(title: str, debug: bool, verbose: bool = False):
    """A spinner with the current step; errors end in one Danish line and the documented exit code."""
    if not verbose:
        # BERTopic warns about its own internals (pickling, custom topic lists) on every run.
        logging.getLogger("BERTopic").setLevel(logging.ERROR)
    handler = None
    try:
        with console.status(f"[bold]tematik[/] {title}") as status:
            handler = ProgressHandler(status, time.monotonic())
            follow_logs(handler)
            yield handler
    except InputError as error:
        # escape: a message may hold brackets (pip install "tematik[sentence-transformers]", file names)
        console.print(f"[red]fejl:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("[yellow]Afbrudt.[/] Intet halvt skrevet resultat er efterladt.", highlight=False)
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception as error:  # noqa: BLE001 - the command line's last line of defence
        if debug:
            raise
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        console.print(f"[red]fejlede:[/] {escape(reason)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    finally:
        if handler is not None:
            for name in FOLLOWED_LOGGERS:
                logging.getLogger(name).removeHandler(handler)


def quiet_prefect(verbose: bool) -> None:
    """Prefect's console lines are replaced by the progress display (everything still reaches the API/UI)."""
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
