"""Saved runs: an :class:`~pipeline.analysis.Analysis` on disk, without pickle.

A model folder (``models/<run id>/``) holds::

    texts.json        the texts with lemmas, roles, weights, topics and theme distributions
                      (pandas' "table" JSON: values with their dtypes)
    embeddings.npy    one row per text (read with allow_pickle=False)
    topics.json       the topics, their words with c-TF-IDF scores
    taxonomy.yaml     the taxonomy that ran
    config.json       the config that ran
    facts.json        backends, timings, redaction counts, ...
    figures.json      BERTopic's views as plotly JSON (for report.html)
    edits.yaml        the analyst's corrections
    topic_model/      BERTopic's own safetensors model, for analysts who want it

Model folders are passed between colleagues, so nothing in them is executable: opening
one reads JSON, YAML and a plain array, and a broken file is a one-line
:class:`~pipeline.errors.InputError` naming it. A folder is written under a hidden
staging name and renamed when complete, so a kill while saving leaves no half-saved run.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipeline.analysis import Analysis, Edits
from pipeline.atomic import write_atomically
from pipeline.config import RunConfig
from pipeline.errors import InputError, unreadable
from pipeline.taxonomy import load_taxonomy

def save_run(analysis: Analysis, folder: str | Path, topic_model_writer: Callable[[Path], None] | None = None) -> Path:
    """Write ``analysis`` (as fitted, edits in ``edits.yaml``) to the new ``folder``.

    ``topic_model_writer(path)`` adds BERTopic's own model under ``topic_model/``.
    """

    def write(staging: Path) -> None:
        analysis.texts.to_json(staging / "texts.json", orient="table", index=False, force_ascii=False, double_precision=15)
        # JSON keeps 15 digits; the exact floats go beside it, so a re-export repeats the reported numbers.
        np.savez(staging / "numbers.npz", **_float_columns(analysis.texts, "texts"),
                 **_float_columns(analysis.topics, "topics"))  # fmt: skip
        np.save(staging / "embeddings.npy", np.asarray(analysis.embeddings, dtype=np.float32), allow_pickle=False)
        topics = {
            "table": json.loads(analysis.topics.to_json(orient="table", index=False, double_precision=15)),
            "words": {str(topic): [[w, float(s)] for w, s in words] for topic, words in analysis.topic_words.items()},
        }
        _write_json(staging / "topics.json", topics)
        (staging / "taxonomy.yaml").write_text(
            yaml.safe_dump(analysis.taxonomy.model_dump(), allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        (staging / "config.json").write_text(analysis.config.model_dump_json(indent=2), encoding="utf-8")
        _write_json(staging / "facts.json", analysis.facts)
        _write_json(staging / "figures.json", analysis.figures)
        analysis.edits.write(staging / "edits.yaml")
        if topic_model_writer is not None:
            topic_model_writer(staging / "topic_model")

    folder = write_atomically(Path(folder), write)
    analysis.folder = folder
    return folder


def _float_columns(frame: pd.DataFrame, table: str) -> dict[str, np.ndarray]:
    return {f"{table}:{column}": frame[column].to_numpy(np.float64) for column in frame.columns
            if pd.api.types.is_float_dtype(frame[column])}  # fmt: skip


def _restore_floats(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Put the exact floats of ``numbers.npz`` back into the tables read from JSON (same rows, same order)."""
    with np.load(path, allow_pickle=False) as numbers:
        for key in numbers.files:
            table, column = key.split(":", 1)
            frame = tables[table]
            if column not in frame.columns or len(numbers[key]) != len(frame):
                raise ValueError(f"'{key}' passer ikke til tabellen")
            frame[column] = numbers[key]


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


def _read(path: Path, reader: Callable[[Path], object]):
    try:
        return reader(path)
    except FileNotFoundError:
        raise InputError(path, "mangler i den gemte kørsel") from None
    except InputError:
        raise
    except OSError as error:  # no access, or a system file: said in Danish, not as a broken file
        raise unreadable(error, path) from None
    except Exception as exc:  # noqa: BLE001 - any parse error of a saved file is a broken file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(path, f"ødelagt fil i den gemte kørsel ({reason[:160]})") from None


def _read_table(path: Path) -> pd.DataFrame:
    return pd.read_json(io.StringIO(path.read_text(encoding="utf-8")), orient="table")


def _read_topics(path: Path) -> tuple[pd.DataFrame, dict[int, list[tuple[str, float]]]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    table = pd.read_json(io.StringIO(json.dumps(data["table"])), orient="table")
    words = {int(topic): [(str(w), float(s)) for w, s in pairs] for topic, pairs in data.get("words", {}).items()}
    return table, words


def _read_taxonomy(path: Path):
    if not path.is_file():  # load_taxonomy would take the name for a shipped taxonomy's and say it has none
        raise FileNotFoundError(path)
    return load_taxonomy(path)


def _read_json(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("forventede et JSON-objekt")
    return data


def load_run(folder: str | Path) -> Analysis:
    """Open a saved run as it was reported, with its recorded edits applied; nothing is refitted."""
    folder = Path(folder)
    try:
        return _load_run(folder)
    except OSError as error:  # a folder the system will not show (under /proc): one Danish line naming it
        raise unreadable(error, folder) from None


def _load_run(folder: Path) -> Analysis:
    if not folder.exists():
        raise InputError(folder, "mappen findes ikke")
    if (folder / "manifest.json").is_file() and not (folder / "texts.json").exists():  # --out's folder, not --models'
        # A run's model folder has its run id (models/<run id>); a re-export's results are a new run id, so
        # the folder's name is no guide to the model's: say where models go, not a folder that may not exist.
        raise InputError(folder, "er en resultatmappe, ikke en gemt kørsel; angiv kørslens modelmappe "
                         "(den, --models pegede på: som standard models/<kørsels-id>)")
    if not folder.is_dir() or not (folder / "texts.json").exists():
        runs = sorted(folder.glob("*/texts.json"), key=lambda path: path.stat().st_mtime) if folder.is_dir() else []
        if runs:  # --models' folder itself, which holds one saved run per run id: name the newest
            raise InputError(folder, f"er mappen med gemte kørsler; angiv én af dem, fx {runs[-1].parent}")
        raise InputError(folder, "ikke en gemt tematik-kørsel (ingen texts.json)")
    texts = _read(folder / "texts.json", _read_table)
    embeddings = _read(folder / "embeddings.npy", lambda path: np.load(path, allow_pickle=False))
    topics, topic_words = _read(folder / "topics.json", _read_topics)
    config = _read(folder / "config.json", lambda path: RunConfig.model_validate_json(path.read_text(encoding="utf-8")))
    taxonomy = _read(folder / "taxonomy.yaml", _read_taxonomy)
    facts = _read(folder / "facts.json", _read_json) if (folder / "facts.json").exists() else {}
    # The stage timings describe the process that fitted (they stay in facts.json); a re-export measured none of them.
    facts.pop("timings_seconds", None)
    figures = _read(folder / "figures.json", _read_json) if (folder / "figures.json").exists() else {}
    if (folder / "numbers.npz").exists():
        _read(folder / "numbers.npz", lambda path: _restore_floats(path, {"texts": texts, "topics": topics}))
    if len(embeddings) != len(texts):
        raise InputError(folder / "embeddings.npy", f"{len(embeddings)} rækker, men {len(texts)} tekster")
    analysis = Analysis(
        texts=texts.reset_index(drop=True), embeddings=embeddings, topics=topics, taxonomy=taxonomy, config=config,
        topic_words=topic_words, facts=facts, figures=figures, folder=folder,
    )  # fmt: skip
    edits = folder / "edits.yaml"
    try:
        analysis.apply_edits(Edits.read(edits))
    except InputError as error:
        raise InputError(edits, error.message) from None
    return analysis


def save_edits(analysis: Analysis) -> Path:
    if analysis.folder is None:
        raise ValueError("save_run() the analysis before recording edits")
    path = analysis.folder / "edits.yaml"
    analysis.edits.write(path)
    return path
