"""A run's data: what was fitted and decided, frozen, with the analyst's edits on top.

An :class:`Analysis` holds plain tables and arrays — the texts with their lemmas, role,
weights, topic and theme distribution; the topics with their words and theme; the
embeddings — not the fitted models. Opening a saved run therefore needs neither
BERTopic nor an embedding model and shows exactly what was reported
(:mod:`pipeline.saved_run` reads and writes it; :mod:`pipeline.views` turns it into the
report's tables).

Analysts correct it without refitting (``tematik edit``); every correction is recorded
in :class:`Edits` (``edits.yaml`` of the saved run) and applied in this order: merges,
names, topic themes, text themes. Topic ids are stable: a merged group takes the id of
its first topic and every other topic keeps its id, so ``--merge 1,2 --rename 1=…``
renames the merged topic::

    analysis = load_run("models/midtjylland-20261123-101500-3f2a")
    analysis.merge_topics([[2, 5]])
    analysis.rename_topic(2, "Robotter i produktionen")
    analysis.set_topic_theme(2, "digitalisering")        # the texts that follow topic 2
    analysis.set_text_theme("mentimeter-export:session-1:r96", "andet")

A topic's theme decides only the texts that took their theme from the topic
(:attr:`Analysis.follows_topic`); the others were decided on their own evidence and
keep their theme unless ``every_text=True``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipeline.config import RunConfig
from pipeline.errors import InputError, read_yaml
from pipeline.schema import ANDET, ANDET_LABEL
from pipeline.taxonomy import Taxonomy, as_typed, theme_names

# Topic words kept per topic; a merged topic's words are its members' scores pooled by size.
TOPIC_WORDS_KEPT = 30
# A topic name is a heading in every report: an analyst's is a few words, never a document.
MAX_TOPIC_NAME_LENGTH = 200


@dataclass
class Edits:
    """An analyst's corrections; topic ids are the stable ids of the fitted run."""

    merge: list[list[int]] = field(default_factory=list)
    rename: dict[int, str] = field(default_factory=dict)
    topic_themes: dict[int, str] = field(default_factory=dict)
    text_themes: dict[str, str] = field(default_factory=dict)
    # Topics whose theme correction moves every text of the topic, not only the texts that follow it.
    every_text: list[int] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> "Edits":
        if not path.exists():
            return cls()
        data = read_yaml(path, "rettelserne er ikke gyldig YAML") or {}
        try:
            return cls(
                merge=[[int(t) for t in group] for group in data.get("merge") or []],
                rename={int(k): str(v) for k, v in (data.get("rename") or {}).items()},
                topic_themes={int(k): str(v) for k, v in (data.get("topic_themes") or {}).items()},
                text_themes={str(k): str(v) for k, v in (data.get("text_themes") or {}).items()},
                every_text=[int(t) for t in data.get("every_text") or []],
            )
        except (TypeError, ValueError, AttributeError):
            raise InputError(
                path, "rettelserne skal have merge: [[a, b]], rename: {emne: navn}, topic_themes: {emne: tema}, "
                "text_themes: {tekst-id: tema}, every_text: [emne]"
            ) from None

    def as_dict(self) -> dict:
        return {"merge": self.merge, "rename": self.rename, "topic_themes": self.topic_themes,
                "text_themes": self.text_themes, "every_text": self.every_text}  # fmt: skip

    def write(self, path: Path) -> None:
        """Write atomically: a kill while saving leaves the previous edits, never half a file."""
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(yaml.safe_dump(self.as_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")
        temporary.replace(path)


@dataclass
class Analysis:
    """One fitted run as data.

    ``texts``: one row per text (index 0..n-1): the schema columns, ``lemmas``,
    ``language``, ``role``, ``voices`` (the rows it stands for), ``weight`` (final weight,
    computed once by :func:`pipeline.weighting.with_text_weights`), ``topic``, ``theme``,
    ``theme_score``, ``confident`` and ``p_<theme>`` for every theme and ``andet``.
    ``topics``: one row per topic id (-1 = outliers): ``topic``, ``size``, ``name``,
    ``words``, ``theme``, ``theme_score``, ``mixed``, ``p_*``. ``topic_words``: each
    topic's words with their c-TF-IDF scores. ``facts``: backends, timings, redaction
    counts and other facts of the fit for the manifest. ``figures``: BERTopic's views as
    plotly JSON, made at fit time.

    ``follows_topic`` (computed from the texts and topics as given, i.e. as fitted): True
    for the texts that took their theme from their topic — the topic context pooled them
    (a topic that is not mixed, topic context on) and their theme is the topic's theme.
    Outliers, texts of mixed topics and texts whose own evidence kept another theme are
    False: a topic theme correction leaves them alone (unless ``every_text``).
    """

    texts: pd.DataFrame
    embeddings: np.ndarray
    topics: pd.DataFrame
    taxonomy: Taxonomy
    config: RunConfig
    topic_words: dict[int, list[tuple[str, float]]] = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)
    edits: Edits = field(default_factory=Edits)
    folder: Path | None = None
    follows_topic: pd.Series = field(init=False, repr=False)

    def __post_init__(self) -> None:
        topics = self.topics[self.topics["topic"] >= 0]
        mixed = topics["mixed"].fillna(False).astype(bool) if "mixed" in topics.columns else False
        pulling = topics.loc[~mixed] if self.config.themes.topic_weight > 0 else topics.iloc[0:0]
        topic_theme = self.texts["topic"].map(dict(zip(pulling["topic"].astype(int), pulling["theme"].astype(str))))
        self.follows_topic = topic_theme.notna() & topic_theme.eq(self.texts["theme"].astype(str))

    @property
    def labels(self) -> dict[str, str]:
        return {theme.id: theme.label for theme in self.taxonomy.themes} | {ANDET: ANDET_LABEL}

    @property
    def classes(self) -> list[str]:
        return self.taxonomy.ids + [ANDET]

    @property
    def n_topics(self) -> int:
        return int((self.topics["topic"] >= 0).sum())

    # --- analyst edits, without refitting ------------------------------------------

    def _fail(self, message: str) -> InputError:
        return InputError(self.folder, message)

    def _check_topics(self, topics: list[int], known: set[int] | None = None) -> None:
        """Every one of ``topics`` is a topic of the run (of ``known`` when given); a merged-away one is
        named with the topic it is now part of."""
        if known is None:
            known = self._topic_ids()
        if not known:
            raise self._fail("kørslen har ingen emner (for få tekster til at finde emner)")
        merged_into = self._merged_into()
        for topic in topics:
            if topic in known:
                continue
            target = merged_into.get(topic)
            while target is not None and target not in known:  # merged, then merged again
                target = merged_into.get(target)
            if target is not None:
                raise self._fail(f"emne {topic} er lagt sammen med emne {target}; brug {target}")
            raise self._fail(f"intet emne {topic} (emner: {', '.join(map(str, sorted(known)))})")

    def _topic_ids(self) -> set[int]:
        """The run's topics (not -1, the texts without one)."""
        return set(self.topics.loc[self.topics["topic"] >= 0, "topic"].astype(int))

    def _merged_into(self) -> dict[int, int]:
        """{merged-away topic: the topic it was merged into} of the recorded merges."""
        return {topic: group[0] for group in self.edits.merge for topic in group[1:]}

    def _theme_id(self, theme: str) -> str:
        """The theme an analyst names by its id or its label, in any case ("Digitalisering og automatisering")."""
        found = theme_names(self.labels).get(as_typed(theme))
        if found is None:
            raise self._fail(f"ukendt tema '{theme}' (temaer: {', '.join(self.classes)})")
        return found

    def _set_theme(self, rows: np.ndarray, theme: str) -> int:
        """Give ``rows`` of the texts ``theme`` with certainty (the analyst has decided); how many changed theme."""
        changed = int((self.texts.loc[rows, "theme"].astype(str) != theme).sum())
        for cls in self.classes:
            self.texts.loc[rows, f"p_{cls}"] = 1.0 if cls == theme else 0.0
        self.texts.loc[rows, "theme"] = theme
        self.texts.loc[rows, "theme_score"] = 1.0
        if "confident" in self.texts.columns:
            self.texts.loc[rows, "confident"] = theme != ANDET  # andet is never an example of a theme
        return changed

    def merge_topics(self, groups: list[list[int]]) -> None:
        """Merge each group into its first topic; other ids do not change, texts keep their themes.

        The merged topic's words pool its members' word scores by size; its theme is decided
        on its members' pooled distribution as the theme mapper decides a topic's (the
        likeliest class, ``andet`` included, when it reaches ``min_theme_score``). A theme
        correction of a topic that disappears stays with that topic's texts (as text
        corrections); the merged topic's own correction covers all its texts.
        """
        # Groups merge one after the other (a later group may name an earlier group's merged topic, as
        # a second `tematik edit --merge` does), so each is checked against the topics left before it.
        groups = [list(dict.fromkeys(group)) for group in groups]  # "1,1,2" is 1 and 2: topic 1 stays
        known = self._topic_ids()
        for group in groups:
            if len(set(group)) < 2:
                raise self._fail(f"en sammenlægning kræver mindst to forskellige emner: {','.join(map(str, group))}")
            self._check_topics(group, known)
            known -= set(group[1:])
        # The mapper's own rules for a topic's theme and for a mixed topic (scikit-learn: imported on merge only).
        from pipeline.context import TopicContext
        from pipeline.decision import Decision

        themes = self.config.themes
        decision = Decision.from_config(themes)
        topic_context = TopicContext(mixed_threshold=themes.mixed_topic_threshold, decision=decision)
        probabilities = [f"p_{cls}" for cls in self.classes]
        for group in groups:
            target, members = group[0], self.topics[self.topics["topic"].isin(group)]
            sizes = members["size"].to_numpy(float)
            pooled = (members[probabilities].to_numpy(float) * sizes[:, None]).sum(axis=0) / sizes.sum()
            scores: dict[str, float] = {}
            for topic, size in zip(members["topic"].astype(int), sizes):
                for word, score in self.topic_words.get(topic, []):
                    scores[word] = scores.get(word, 0.0) + score * size / sizes.sum()
            words = sorted(scores.items(), key=lambda item: -item[1])[:TOPIC_WORDS_KEPT]
            best = int(decision.decide(pooled[None])[0])
            row = self.topics.index[self.topics["topic"] == target][0]
            self.topics.loc[row, probabilities] = pooled
            self.topics.loc[row, ["size", "theme", "theme_score"]] = [int(sizes.sum()), self.classes[best], float(pooled[best])]
            self.topics.loc[row, "words"] = ", ".join(word for word, _ in words[: self.config.topics.top_n_words])
            if "mixed" in self.topics.columns:
                self.topics.loc[row, "mixed"] = bool(topic_context.is_mixed(pooled[None])[0])
            kept_texts: dict[str, str] = {}
            for topic in group[1:]:
                if topic in self.edits.rename:
                    self.edits.rename.setdefault(target, self.edits.rename.pop(topic))
                if topic in self.edits.topic_themes:
                    theme = self.edits.topic_themes.pop(topic)
                    moved = self.moved_by_topic_theme(topic, topic in self.edits.every_text)
                    ids = self.texts.loc[moved, "text_id"].astype(str)
                    kept_texts.update({text_id: theme for text_id in ids if text_id not in self.edits.text_themes})
            # Unless renamed, the merged topic is named as its biggest member was.
            biggest = members.sort_values(["size", "topic"], ascending=[False, True], kind="stable").iloc[0]
            self.topics.loc[row, "name"] = self.edits.rename.get(target) or str(biggest["name"])
            self.topic_words[target] = words
            self.topics = self.topics[~self.topics["topic"].isin(group[1:])].reset_index(drop=True)
            self.texts.loc[self.texts["topic"].isin(group), "topic"] = target
            for topic in group[1:]:
                self.topic_words.pop(topic, None)
                if topic in self.edits.every_text:
                    self.edits.every_text.remove(topic)
            # In the order a reload applies them: the merged topic's own correction, then text corrections.
            if target in self.edits.topic_themes:
                self.set_topic_theme(target, self.edits.topic_themes[target], target in self.edits.every_text)
            for text_id, theme in {**kept_texts, **self.edits.text_themes}.items():
                self.set_text_theme(text_id, theme)
        self.edits.merge += [list(group) for group in groups]

    def rename_topic(self, topic: int, name: str) -> None:
        self._check_topics([topic])
        name = " ".join(name.split())  # a heading on one line: a pasted line break or tab would split it
        if not name:
            raise self._fail(f"tomt navn til emne {topic}")
        if len(name) > MAX_TOPIC_NAME_LENGTH:
            raise self._fail(f"navnet til emne {topic} har {len(name):,} tegn (højst {MAX_TOPIC_NAME_LENGTH})".replace(",", "."))
        self.topics.loc[self.topics["topic"] == topic, "name"] = name
        self.edits.rename[topic] = name

    def moved_by_topic_theme(self, topic: int, every_text: bool = False) -> pd.Series:
        """The texts a theme correction of ``topic`` moves: those that follow it (all with ``every_text``),
        not those with a correction of their own."""
        moved = self.texts["topic"] == topic
        if not every_text:
            moved &= self.follows_topic
        return moved & ~self.texts["text_id"].astype(str).isin(self.edits.text_themes)

    def set_topic_theme(self, topic: int, theme: str, every_text: bool = False) -> int:
        """``topic`` gets ``theme`` (or ``andet``), and so do the texts that took their theme from it
        (:attr:`follows_topic`); with ``every_text`` all its texts. Returns how many texts changed theme.

        Texts decided on their own evidence (a mixed topic's, texts whose evidence kept another
        theme, texts with a correction of their own) keep their theme.
        """
        self._check_topics([topic])
        theme = self._theme_id(theme)
        changed = self._set_theme(self.texts.index[self.moved_by_topic_theme(topic, every_text)].to_numpy(), theme)
        row = self.topics["topic"] == topic
        self.topics.loc[row, "theme"] = theme
        self.topics.loc[row, "theme_score"] = 1.0
        self.edits.topic_themes[topic] = theme
        if every_text and topic not in self.edits.every_text:
            self.edits.every_text.append(topic)
        elif not every_text and topic in self.edits.every_text:
            self.edits.every_text.remove(topic)
        return changed

    def set_text_theme(self, text_id: str, theme: str) -> int:
        """One text gets ``theme`` (or ``andet``), whatever its topic says; returns 1 if it changed theme, else 0."""
        theme = self._theme_id(theme)
        rows = self.texts.index[self.texts["text_id"].astype(str) == str(text_id)].to_numpy()
        if not len(rows):
            raise self._fail(f"ingen tekst med id '{text_id}' (se kolonnen Tekst-id i assignments.csv)")
        self.edits.text_themes[str(text_id)] = theme
        return self._set_theme(rows, theme)

    def apply_edits(self, edits: Edits) -> None:
        """Apply recorded edits in their order: merges, names, topic themes, text themes."""
        if edits.merge:
            self.merge_topics(edits.merge)
        for topic, name in edits.rename.items():
            self.rename_topic(topic, name)
        for topic, theme in edits.topic_themes.items():
            self.set_topic_theme(topic, theme, topic in edits.every_text)
        for text_id, theme in edits.text_themes.items():
            self.set_text_theme(text_id, theme)
