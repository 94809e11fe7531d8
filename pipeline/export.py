"""Write one run's results to a folder of files that report writers open directly.

The report model (:mod:`pipeline.report`: :class:`~pipeline.report.RunResult`, the order of
the themes, the Danish prose and headers) is written by one writer per format
(:mod:`pipeline.writers`: csv, xlsx, docx, markdown, charts, html); this module only
makes the folder.

``write_run`` writes everything into a hidden staging folder next to ``out_dir`` and
renames it to ``out_dir`` at the end, so a failure leaves no half-written run, and it
refuses an ``out_dir`` that already holds anything: a run is never overwritten.

Files for people (Danish headers and values; shares in the spreadsheets are numbers
formatted as percentages, in the CSV files percentage points, header "… (%)"):

=========================  ===============================================================
assignments.csv            one row per text: provenance, topic, theme, score, weight,
                           membership of every theme, then any other columns
theme_frequencies.csv      all frequency tables, long: Opdeling (I alt, Workshop, …), Gruppe,
                           Tema, Tekster, Vægtet hyppighed, Andel, 95 %-interval nedre/øvre
theme_frequencies.xlsx     the same, one sheet per breakdown
workshop_themes.xlsx       series runs (several workshops): workshops × themes, sheets with
(+ .png)                   shares, text counts, intervals and all figures; a heat map
topics.csv                 topics with words, size and mapped theme
quotes.csv / quotes.xlsx   representative quotes per theme and per topic with provenance,
                           and the emerging themes (xlsx sheet "Nye temaer")
quotes.md / quotes.docx    per theme: heading, one paragraph with share and interval, the
                           participants' answers and, apart, excerpts "Fra opsamlingen";
                           then the emerging themes. Word: A4, Danish proofing language,
                           full-width two-column tables (quote, source) ready to paste
emerging_topics.md         the emerging themes ("Nye temaer") with words and quotes
theme_shares.png           bar chart of theme shares with 95 % intervals
manifest.json              the run manifest plus every file's size and sha256
data/*.csv                 the four CSV tables for programs (see below)
=========================  ===============================================================

CSV dialects. The CSV files above open in a Danish Excel as they are: ``;`` separator,
decimal comma, numbers rounded, UTF-8 with BOM. For programs (pandas, R) the same tables
are written to ``data/`` in the machine-readable form: ``,`` separator, decimal point,
full precision, shares as fractions, UTF-8 without BOM and the column ids of
``pipeline/schema.py`` (``text_id``, ``n_texts``, ``ci_low``, …); turn it off with
``export: {machine_readable: false}`` in the config (:class:`~pipeline.config.ExportConfig`).

Formula injection (OWASP "CSV injection"). A text a spreadsheet would evaluate — one
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, also after
leading whitespace — is neutralised in every CSV and XLSX cell: in CSV files it gets a
leading apostrophe (``'=HYPERLINK(…)``, ``'- et punkt``: still readable); in XLSX files
it is kept verbatim as a text cell with Excel's quote prefix, so it shows as written and
stays text even when edited. Word and Markdown files hold no formulas and keep the text.
"""

from __future__ import annotations

import hashlib
import json
from concurrent import futures
from pathlib import Path

from pipeline import processes
from pipeline.atomic import write_atomically
from pipeline.config import ExportConfig
from pipeline.report import RunResult
from pipeline.writers.charts import write_charts
from pipeline.writers.csv import MACHINE_READABLE_FOLDER, write_assignments_csv_files, write_csv_files, write_machine_csv_files
from pipeline.writers.docx import write_quotes_docx
from pipeline.writers.html import write_html_report
from pipeline.writers.markdown import write_markdown_files
from pipeline.writers.tables import assignments_table
from pipeline.writers.xlsx import write_xlsx_files

# From this many texts the two assignments.csv files (for people and in data/) are written by a
# child process (pipeline.processes) beside the other files: at 100,000 they take ~3 s, a
# child's start ~0.5 s on the other core.
CHILD_WRITES_FROM_ROWS = 20_000


def _write_files(result: RunResult, folder: Path, config: ExportConfig) -> None:
    assignments = assignments_table(result)
    if config.machine_readable:
        (folder / MACHINE_READABLE_FOLDER).mkdir()
    # The largest files: on large runs a child process writes them while this one writes the rest.
    writing = processes.start(write_assignments_csv_files, assignments, result.taxonomy_labels, folder,
                              config.machine_readable, in_child=len(assignments) >= CHILD_WRITES_FROM_ROWS)  # fmt: skip
    try:
        write_csv_files(result, folder)
        if config.machine_readable:
            write_machine_csv_files(result, folder / MACHINE_READABLE_FOLDER)
        write_xlsx_files(result, folder)
        write_markdown_files(result, folder)
        write_quotes_docx(result, folder / "quotes.docx")
        write_charts(result, folder)
        write_html_report(result, folder / "report.html")
    finally:
        futures.wait([writing])  # never leave the child writing into a folder that may be removed
    writing.result()

    files = [
        {"name": path.relative_to(folder).as_posix(), "bytes": path.stat().st_size,
         "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        for path in sorted(folder.rglob("*")) if path.is_file()
    ]  # fmt: skip
    manifest = {**result.manifest, "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def write_run(result: RunResult, out_dir: str | Path, config: ExportConfig | None = None) -> Path:
    """Write ``result`` into the new folder ``out_dir`` (all files or none, via a staging folder;
    :mod:`pipeline.atomic`) and return it.

    Raises ``FileExistsError`` when ``out_dir`` exists and is not an empty folder; it is
    left untouched.
    """
    if "total" not in result.frequencies:
        raise ValueError("result.frequencies lacks the 'total' table")
    config = config or ExportConfig()
    return write_atomically(Path(out_dir), lambda staging: _write_files(result, staging, config))
