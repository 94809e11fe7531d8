"""Ingestion: Mentimeter exports, tables and summary notes into one table of texts.

``read_inputs(paths, config) -> Ingested(texts, report)`` is the entry point; the
schema of ``texts`` is in :mod:`pipeline.schema`. One module per concept:
:mod:`~pipeline.ingest.files` (which files, shared checks), :mod:`~pipeline.ingest.mentimeter`,
:mod:`~pipeline.ingest.tables`, :mod:`~pipeline.ingest.notes`, :mod:`~pipeline.ingest.normalise`,
:mod:`~pipeline.ingest.report`, :mod:`~pipeline.ingest.series` (workshops of a series run).
"""

from pipeline.ingest.files import default_workshop_name, expand_inputs
from pipeline.ingest.normalise import normalise_text, normalise_texts
from pipeline.ingest.reader import Ingested, check_texts_target, combine, read_file, read_inputs, write_texts_csv
from pipeline.ingest.report import FileReport, IngestReport

__all__ = [
    "FileReport",
    "IngestReport",
    "Ingested",
    "check_texts_target",
    "combine",
    "default_workshop_name",
    "expand_inputs",
    "normalise_text",
    "normalise_texts",
    "read_file",
    "read_inputs",
    "write_texts_csv",
]
