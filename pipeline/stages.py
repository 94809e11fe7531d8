"""A run's stages as one object: :class:`Stages` says what each stage takes and gives,
:class:`LocalStages` runs them in this process with the parts it was built with.

::

    read              files -> one table of texts                       (pipeline.ingest)
    protect           personal data redacted before anything sees it    (pipeline.redact)
    detect_languages  language flags; large corpora in a child process  (pipeline.language)
    annotate          lemmas                                            (pipeline.language)
    embed             sentence embeddings                               (pipeline.embeddings)
    mark_roles        note passages that are about the workshop itself  (pipeline.ingest.roles)
    fit_topics        BERTopic topics                                   (pipeline.topics)
    fit_themes        theme distributions for texts and topics          (pipeline.themes)
    with_languages    the detected languages joined to the texts        (pipeline.language)
    assemble          final weights, once; the frozen Analysis          (pipeline.weighting, .analysis)
    report            frequencies, quotes, emerging themes, manifest    (pipeline.views)
    write             the report's files and the saved run,             (pipeline.export, .saved_run)
                      together or neither
    publish           the run's summary where its users look            (nothing here; Prefect artifacts)

:func:`pipeline.run.run_stages` calls them in that order. The Prefect flows hand it
:class:`flows.tasks.TaskStages`, which runs each stage of a :class:`LocalStages` as a task.

The parts that are costly to build (the spaCy analyzer, the embedding model) are built
once per :class:`LocalStages`, when first used, and reused by every run it serves: keep
the object to keep them warm. Each part can be handed in already built, which is how a
test or a script swaps one::

    stages = LocalStages(config, topic_modeler=partial(TopicModeler, umap_model=PCA(5)))
    run_workshop(["workshop/"], config, stages=stages)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from pipeline.analysis import TOPIC_WORDS_KEPT, Analysis
from pipeline.config import RunConfig
from pipeline.schema import ANDET
from pipeline.taxonomy import Taxonomy, load_taxonomy


class Stages(Protocol):
    """The stages of a run, in :func:`pipeline.run.run_stages`'s order; each built for one config."""

    config: RunConfig

    def read(self, inputs: Sequence[str | Path], workshops: Sequence[str] | None = None,
             workshop_column: str | None = None): ...  # fmt: skip
    def protect(self, texts: pd.DataFrame) -> tuple[pd.DataFrame, dict]: ...
    def detect_languages(self, texts: pd.DataFrame) -> Any: ...  # a future: anything with result()
    def annotate(self, texts: pd.DataFrame) -> pd.DataFrame: ...
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...
    def mark_roles(self, texts: pd.DataFrame, embeddings: np.ndarray) -> pd.DataFrame: ...
    def fit_topics(self, texts: pd.DataFrame, embeddings: np.ndarray): ...
    def fit_themes(self, texts: pd.DataFrame, embeddings: np.ndarray, topics: np.ndarray): ...
    def with_languages(self, texts: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame: ...
    def assemble(self, texts: pd.DataFrame, embeddings: np.ndarray, modeler, mapper, facts: dict) -> Analysis: ...
    def report(self, analysis: Analysis, run_id: str, inputs: Sequence[Path], validation=None): ...
    def write(self, result, analysis: Analysis, modeler, out_dir: Path | None,
              model_dir: Path | None) -> tuple[Path | None, Path | None]: ...  # fmt: skip
    def publish(self, result, folder: Path | None) -> None: ...


class LocalStages:
    """The stages in this process, built for ``config``.

    Parameters
    ----------
    config : the run's settings.
    analyzer : a :class:`~pipeline.language.TextAnalyzer`; built from ``config.language`` when first needed.
    embedder : an :class:`~pipeline.embeddings.Embedder`; built from ``config.embeddings`` when first needed.
    topic_modeler : called as ``topic_modeler(config.topics, embedder)`` for each run's unfitted
        topic model; :class:`~pipeline.topics.TopicModeler` by default (a ``functools.partial`` of
        it swaps a UMAP, HDBSCAN or representation model).
    theme_mapper : called as ``theme_mapper(taxonomy, embedder, config.themes, lemmatiser=...)``
        for each run's unfitted theme mapper; :class:`~pipeline.themes.ThemeMapper` by default
        (a ``partial`` with ``sources=`` swaps the theme evidence).
    """

    def __init__(
        self,
        config: RunConfig,
        *,
        analyzer=None,
        embedder=None,
        topic_modeler: Callable[..., Any] | None = None,
        theme_mapper: Callable[..., Any] | None = None,
    ):
        self.config = config
        self._analyzer = analyzer
        self._embedder = embedder
        self.topic_modeler = topic_modeler
        self.theme_mapper = theme_mapper
        self._taxonomy: Taxonomy | None = None

    @classmethod
    def from_config(cls, config: RunConfig, reuse: LocalStages | None = None) -> LocalStages:
        """Stages for ``config``. With ``reuse``: its topic modeler and theme mapper factories, and
        its analyzer and embedder when built for the same settings (a process that runs several
        configs keeps one spaCy and one model)."""
        if reuse is None:
            return cls(config)
        same = {section: getattr(reuse.config, section) == getattr(config, section) for section in ("language", "embeddings")}
        return cls(
            config,
            analyzer=reuse._analyzer if same["language"] else None,
            embedder=reuse._embedder if same["embeddings"] else None,  # a corpus-fitted one refits in embed()
            topic_modeler=reuse.topic_modeler,
            theme_mapper=reuse.theme_mapper,
        )

    def for_config(self, config: RunConfig) -> LocalStages:
        """These stages when built for ``config``, else new ones reusing what they can (:meth:`from_config`)."""
        return self if config == self.config else LocalStages.from_config(config, reuse=self)

    # --- the parts, built once -----------------------------------------------------------

    @property
    def analyzer(self):
        """The spaCy-based :class:`~pipeline.language.TextAnalyzer` (loading costs more than using)."""
        if self._analyzer is None:
            from pipeline.language import TextAnalyzer

            self._analyzer = TextAnalyzer(self.config.language)
        return self._analyzer

    @property
    def embedder(self):
        """The :class:`~pipeline.embeddings.Embedder` every stage that needs vectors shares."""
        if self._embedder is None:
            from pipeline.embeddings import make_embedder

            self._embedder = make_embedder(self.config.embeddings)
        return self._embedder

    @property
    def taxonomy(self) -> Taxonomy:
        if self._taxonomy is None:
            self._taxonomy = load_taxonomy(self.config.themes.taxonomy)
        return self._taxonomy

    def warm_up(self, languages: bool = True) -> LocalStages:
        """Build the costly parts now (e.g. while a Prefect server boots); bad settings fail here.
        ``languages=False`` leaves lingua's models (~1.3 s) to the first detection, for a caller
        that may not need one (the flows take a detection of the same texts from their cache)."""
        from pipeline import topics
        from pipeline.redact import Redactor

        self.taxonomy
        if self.config.redaction.enabled:
            Redactor(self.config.redaction).load()  # its name lists, lexicon and NER pipeline stay loaded for the run's Redactor
        self.analyzer  # spaCy
        if languages:
            self.analyzer.warm_up()  # lingua's models (~1.3 s)
        self.embedder
        topics.import_bertopic()
        return self

    # --- the stages ------------------------------------------------------------------------

    def read(self, inputs: Sequence[str | Path], workshops: Sequence[str] | None = None, workshop_column: str | None = None):
        """Files and folders -> :class:`pipeline.ingest.Ingested` (texts and a report).

        A file's workshop is ``workshops``' entry for it (a series' plan), else the config's,
        else the name of the folder it was found in. ``workshop_column`` (a series) names
        a column whose value is each row's workshop. The texts are as read (:meth:`protect`
        redacts them next); what the report and a bad file's error quote from the inputs
        (questions, sheet and column names, cells) is redacted already, since both are
        shown and logged as they are.
        """
        from pipeline import preflight
        from pipeline.ingest import Ingested, combine
        from pipeline.ingest.files import expand_with_folders, folder_name
        from pipeline.ingest.series import workshops_from_column
        from pipeline.redact import Redactor, without_quoted_personal_data

        ingest = self.config.ingest

        def read_all():
            if workshops is not None:
                files, skipped = [(Path(path), workshop) for path, workshop in zip(inputs, workshops)], []
            else:
                found, skipped = expand_with_folders(inputs)
                files = [(file, folder_name(folder) if folder is not None and ingest.workshop is None else None)
                         for file, folder in found]  # fmt: skip
            frames = [
                preflight.read_file(file, ingest if workshop is None else ingest.model_copy(update={"workshop": workshop}))
                for file, workshop in files
            ]
            return combine(frames, skipped_files=skipped)

        ingested = without_quoted_personal_data(read_all, self.config.redaction)
        texts = workshops_from_column(ingested.texts, workshop_column) if workshop_column else ingested.texts
        return Ingested(texts, Redactor(self.config.redaction).redact_report(ingested.report))

    def protect(self, texts: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
        """Redact personal data in every text column; the report (for the manifest) has counts per kind, never values."""
        from pipeline.ingest.normalise import merge_duplicates
        from pipeline.redact import Redactor

        redactor = Redactor(self.config.redaction)
        protected, counts = redactor.redact_texts(texts)
        merged = 0
        if any(counts.values()):  # "Ring til Jens" and "Ring til Peter" are now one answer with two voices
            protected, merged_rows = merge_duplicates(protected)
            merged = len(merged_rows)
        return protected, {**redactor.info(), "counts": counts, "merged_after_redaction": merged}

    def detect_languages(self, texts: pd.DataFrame):
        """A future of the texts' language codes: large corpora are detected in a low-priority child
        process while the next stages run (:meth:`~pipeline.language.LanguageDetection.start`).

        Not through :attr:`analyzer`: detection needs lingua only, and in the flow this runs
        in a task thread beside ``annotate``, which would build the spaCy analyzer a second time."""
        from pipeline.language import LanguageDetection

        return LanguageDetection(self.config.language).start(readable_texts(texts))

    def annotate(self, texts: pd.DataFrame) -> pd.DataFrame:
        """``texts`` with ``lemmas`` (space-joined content lemmas) and the ``language_backend`` that made them."""
        lemmas = [" ".join(words) for words in self.analyzer.lemmatise(readable_texts(texts))]
        return texts.assign(lemmas=pd.Series(lemmas, index=texts.index, dtype=str), language_backend=self.analyzer.backend)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of the run's texts; an embedder fitted on a corpus (``lsa``) learns this run's,
        not the one an earlier run of these stages left in it."""
        return self.embedder.fit_embed(list(texts))

    def mark_roles(self, texts: pd.DataFrame, embeddings: np.ndarray | None = None) -> pd.DataFrame:
        """``texts`` with ``role``: content, or a note passage about the workshop itself / a lead-in / a restating summary."""
        from pipeline.ingest.roles import passage_roles

        return texts.assign(role=passage_roles(texts, embeddings))

    def new_topic_modeler(self):
        """This run's unfitted topic model (``topic_modeler``, by default :class:`~pipeline.topics.TopicModeler`)."""
        from pipeline.topics import TopicModeler

        return (self.topic_modeler or TopicModeler)(self.config.topics, self.embedder)

    def fit_topics(self, texts: pd.DataFrame, embeddings: np.ndarray):
        """BERTopic topics on the embeddings, topic words from the lemmas, names from the texts
        (:class:`~pipeline.topics.TopicModeler`).

        Clustered: the participants' short texts; a note's passages and long texts join the
        topic they stand out as closest to (:meth:`~pipeline.topics.TopicModeler.fit`)."""
        modeler = self.new_topic_modeler()
        text = texts["text"].tolist()
        fit_on = None
        if "source_kind" in texts.columns and texts["source_kind"].eq("note").any():
            short = modeler.short_texts(text)
            fit_on = texts["source_kind"].ne("note").to_numpy() & (True if short is None else short)
        return modeler.fit(text, texts["lemmas"].tolist(), embeddings, fit_on=fit_on)

    def new_theme_mapper(self, taxonomy: Taxonomy | None = None):
        """This run's unfitted theme mapper, with the run's embedder and lemmatiser (keywords in the texts' lemma form)."""
        from pipeline.themes import ThemeMapper

        return (self.theme_mapper or ThemeMapper)(
            taxonomy or self.taxonomy, self.embedder, self.config.themes, lemmatiser=self.analyzer.lemmatise
        )

    def fit_themes(self, texts: pd.DataFrame, embeddings: np.ndarray, topics: np.ndarray):
        """Theme distributions for texts and topics; weights are voices, note sections are context."""
        return self.new_theme_mapper().fit(
            texts["lemmas"].tolist(), embeddings, topics, texts["weight"].to_numpy(float), sections=note_sections(texts)
        )

    def with_languages(self, texts: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
        """``texts`` with ``language`` and ``is_danish`` (:func:`pipeline.language.with_languages`)."""
        from pipeline.language import with_languages

        return with_languages(texts, codes)

    def assemble(self, texts: pd.DataFrame, embeddings: np.ndarray, modeler, mapper, facts: dict | None = None) -> Analysis:
        """The frozen :class:`Analysis`: final weights computed once, topics and themes as decided."""
        from pipeline.weighting import with_text_weights

        frame = with_text_weights(texts.reset_index(drop=True), self.config.weights)
        frame["topic"] = np.asarray(modeler.topics_, dtype=int)
        themes = mapper.text_themes_.reset_index(drop=True)
        frame = pd.concat([frame.drop(columns=[c for c in themes.columns if c in frame.columns]), themes], axis=1)
        topics = modeler.topic_info_.merge(mapper.topic_themes_, on="topic", how="left")
        topics["theme"] = topics["theme"].fillna(ANDET)
        topics["theme_score"] = topics["theme_score"].astype(float)
        facts = dict(facts or {})
        facts.setdefault("backends", {})
        facts["backends"].setdefault("language", str(frame["language_backend"].iloc[0]) if "language_backend" in frame and len(frame) else None)
        facts["backends"].setdefault("embeddings", self.embedder.name)
        facts["clustered"] = bool(modeler.clustered_)
        facts["topic_parameters"] = dict(modeler.parameters_)
        return Analysis(
            texts=frame,
            embeddings=np.asarray(embeddings, dtype=np.float32),
            topics=topics,
            taxonomy=self.taxonomy,
            config=self.config,
            topic_words=_topic_words(modeler),
            facts=facts,
            figures=topic_figures(modeler),
        )

    def report(self, analysis: Analysis, run_id: str, inputs: Sequence[Path], validation=None):
        """The :class:`~pipeline.report.RunResult`: frequencies, quotes, emerging themes, manifest (:func:`pipeline.views.run_result`)."""
        from pipeline.views import run_result

        return run_result(analysis, run_id, list(inputs), validation=validation)

    def write(self, result, analysis: Analysis, modeler, out_dir: Path | None, model_dir: Path | None) -> tuple[Path | None, Path | None]:
        """Write the report's files to ``out_dir`` and the saved run to ``model_dir`` (either may be
        None): both appear together, complete, or neither (:func:`pipeline.atomic.write_together`)."""
        return write_outputs(result, analysis, modeler, out_dir, model_dir)

    def publish(self, result, folder: Path | None) -> None:
        """Nothing to publish in a plain process: the files are the result."""


# --- helpers of the stages -----------------------------------------------------------------


def readable_texts(texts: pd.DataFrame) -> list[str]:
    """The texts as the language stage reads them: redaction placeholders ("[NAVN]") blanked,
    so they never become topic words or sway a language guess."""
    from pipeline.redact import PLACEHOLDER_PATTERN

    return texts["text"].fillna("").astype(str).str.replace(PLACEHOLDER_PATTERN, " ", regex=True).tolist()


def note_sections(texts: pd.DataFrame) -> list[str | None]:
    """Heading path of each note passage (None for answers and tables): notes are organised by theme sessions."""
    path = texts["section_path"] if "section_path" in texts.columns else texts["question"]
    return [
        str(section) if kind == "note" and isinstance(section, str) and section else None
        for kind, section in zip(texts["source_kind"], path)
    ]


def _topic_words(modeler) -> dict[int, list[tuple[str, float]]]:
    if modeler.model_ is None:
        return {}
    words = {}
    for topic in modeler.topic_info_["topic"].astype(int):
        pairs = modeler.model_.get_topic(topic) or []
        words[topic] = [(str(word), float(score)) for word, score in pairs[:TOPIC_WORDS_KEPT] if word]
    return words


def topic_figures(modeler) -> dict[str, str]:
    """BERTopic's interactive views as plotly JSON, made now so a saved run re-exports them without BERTopic."""
    if modeler.model_ is None:
        return {}
    from pipeline.topic_figures import bertopic_figures

    return bertopic_figures(modeler.model_, modeler.documents_)


def topic_model_writer(modeler):
    """A ``save_run`` hook that writes BERTopic's own model (safetensors) beside the run's data."""
    return modeler.save if modeler is not None and modeler.model_ is not None else None


def write_outputs(result, analysis: Analysis, modeler, out_dir: Path | None, model_dir: Path | None) -> tuple[Path | None, Path | None]:
    """Write the run's files to ``out_dir`` and its saved model to ``model_dir`` (either may be
    None): both appear together, complete, or neither (:func:`pipeline.atomic.write_together`)."""
    from pipeline.atomic import write_together
    from pipeline.export import write_run
    from pipeline.saved_run import save_run

    writes = []
    if out_dir is not None:
        writes.append((Path(out_dir), lambda folder: write_run(result, folder, analysis.config.export)))
    if model_dir is not None:
        writes.append((Path(model_dir), lambda folder: save_run(analysis, folder, topic_model_writer(modeler))))
    try:
        write_together(writes)
    except OSError as error:  # a full disk, a folder that cannot be written
        if isinstance(error, FileExistsError) and error.filename is None:
            raise  # the run folder exists already: nothing was written, and the message says so
        where = f": {error.filename}" if error.filename else ""
        nothing = "intet resultat og ingen emnemodel er gemt" if model_dir is not None else "intet resultat er gemt"
        raise OSError(error.errno, f"{error.strerror or error}{where}; {nothing}") from None
    if model_dir is not None:
        analysis.folder = Path(model_dir)  # save_run noted the staging folder it wrote
    return (None if out_dir is None else Path(out_dir)), (None if model_dir is None else Path(model_dir))
