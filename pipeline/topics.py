"""Topics: BERTopic on precomputed embeddings, with lemma-based topic words.

Clustering sees the embeddings of the *original* texts; c-TF-IDF sees the *lemma
strings* (space-joined content lemmas from :class:`pipeline.language.TextAnalyzer`,
stop words already removed). This is done by handing BERTopic the lemma strings as
its documents together with the precomputed embeddings, and a ``CountVectorizer``
that splits on whitespace only, so every topic word is a lemma as the language stage
produced it. The original texts stay on our side; they are only used to deduplicate.

Identical texts are clustered once (density would otherwise be inflated by repeated
answers) and their topic is broadcast back to every row.

New texts are assigned by a similarity-weighted vote of their nearest fitted texts in
embedding space, not by BERTopic's UMAP.transform + ``hdbscan.approximate_predict``:
that path numbers clusters differently from the fit on some small corpora (known
hdbscan issues #163/#361/#445; 58 % of 48 training texts came back in another topic),
while the vote keeps every fitted text in its topic and assigned held-out texts at
least as well (adjusted Rand index against known groups, 20 % held out: 0.69-0.81 vs
0.69-0.75 at 3,000 synthetic texts). It also means the saved model needs no pickle:
BERTopic's safetensors format (topic words, c-TF-IDF, vectorizer) plus the fitted
texts' embeddings.

Like BERTopic, every sub-model can be swapped: ``TopicModeler(config, embedder,
umap_model=..., hdbscan_model=..., vectorizer_model=..., ctfidf_model=...,
representation_model=...)``; ``None`` (the
default) means tematik's adaptive choice, built in :meth:`TopicModeler.fit` for the
corpus at hand (:mod:`pipeline.clustering`: :func:`adaptive_parameters`,
:func:`default_umap`, :func:`default_hdbscan`; here :func:`lemma_vectorizer`,
:func:`default_ctfidf`, :func:`default_representation`).

Large corpora (see :func:`default_umap` and ``TopicConfig.max_fit_texts``): UMAP's
neighbour graph comes from an exact k-nearest-neighbour search (scikit-learn) instead of
pynndescent's ``nn_descent``, which numba compiles in every process (~30 s); above
``max_fit_texts`` distinct texts UMAP and HDBSCAN are fitted on a seeded sample and the
other texts get their topic by the same neighbour vote as :meth:`TopicModeler.transform`.
"""

from __future__ import annotations

import json
import logging
import warnings
from contextlib import contextmanager
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.clustering import adaptive_parameters, default_hdbscan, default_umap, neighbour_vote, place_by_centroid
from pipeline.config import TopicConfig
from pipeline.danish import listing
from pipeline.embeddings import Embedder, bertopic_backend, normalise_rows
from pipeline.estimators import EstimatorWithServices
from pipeline.numba_cache import import_bertopic

logger = logging.getLogger(__name__)

TOPIC_INFO_COLUMNS = ["topic", "size", "name", "words"]
# The representation aspect whose first phrase names a topic (pipeline/naming.py).
NAME_ASPECT = "Navn"
OUTLIER_NAME = "Uden emne"
# Short texts are clustered alone when they are at least this share of the distinct texts
# (TopicModeler.short_texts): then they carry the workshop's subjects.
SHORT_TEXTS_SHARE = 0.5
# ... and the long texts at least this share: on our sydkyst set 2 % of the texts are long,
# and placing them instead of clustering them changed its topics and cost 0.01 macro-F1.
LONG_TEXTS_SHARE = 0.1
# BERTopic replaces an empty document with this token; a text with no content lemma
# must not make it a topic word.
_EMPTY_DOC = "emptydoc"
# Fewer distinct texts are never clustered, whatever config.min_texts says: UMAP needs
# more points than components + 1 (adaptive_parameters shrinks both so fits down to 5
# texts run), but topics of >= 3 texts need several topics' worth of texts to mean anything.
MIN_CLUSTERABLE = 8


def lemma_vectorizer():
    """BERTopic's vectorizer for lemma strings: they are already lowercased and filtered,
    so it splits on whitespace only; the empty-document token is never a word."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(token_pattern=r"\S+", lowercase=False, stop_words=[_EMPTY_DOC])


def default_ctfidf():
    """c-TF-IDF damping words that occur in every topic ("virksomhed" in a business workshop)."""
    import_bertopic()
    from bertopic.vectorizers import ClassTfidfTransformer

    return ClassTfidfTransformer(reduce_frequent_words=True)


def default_representation(top_n_words: int = 10, embedder: Embedder | None = None) -> dict:
    """tematik's representation (:mod:`pipeline.naming`): topic words by
    :class:`~pipeline.representation.ReadableWords`, names by :class:`~pipeline.representation.PhraseRepresentation`
    (aspect ``"Navn"``). Unfitted: each fit hands them its texts (:meth:`TopicModeler.fit`)."""
    from pipeline.representation import PhraseRepresentation, ReadableWords

    return {"Main": ReadableWords(top_n_words=top_n_words), NAME_ASPECT: PhraseRepresentation(embedder=embedder)}


class TopicModeler(EstimatorWithServices):
    """BERTopic topics for a corpus of texts, sized to the corpus.

    Parameters (a scikit-learn estimator: kept as given, ``get_params``/``set_params``,
    ``sklearn.base.clone``, which shares the embedder; nothing is fitted in ``__init__``):

    * ``config`` - :class:`~pipeline.config.TopicConfig` (None: defaults);
    * ``embedder`` - the :class:`~pipeline.embeddings.Embedder` the embeddings came from
      (BERTopic uses it for outlier reduction and representations; optional);
    * ``umap_model``, ``hdbscan_model``, ``vectorizer_model``, ``ctfidf_model`` - as in
      ``BERTopic(...)``: any object BERTopic accepts there (e.g. ``sklearn.cluster.KMeans``
      as ``hdbscan_model``, ``sklearn.decomposition.PCA`` as ``umap_model``). ``None``:
      tematik's adaptive default, built per fit for the corpus size. A given model is
      cloned (``sklearn.base.clone``) for each fit when it can be, so one modeler fits twice alike;
    * ``representation_model`` - as in ``BERTopic(...)``; a topic's name is the first entry of
      its ``"Navn"`` aspect (e.g. ``{"Navn": KeyBERTInspired()}``), else its top words.
      ``None``: :func:`default_representation` (words by :class:`~pipeline.representation.ReadableWords`,
      names by :class:`~pipeline.representation.PhraseRepresentation`). tematik's own representations
      given without texts get each fit's texts in a copy; the given objects are not changed.

    ``fit(texts, lemmas, embeddings)`` sets:

    * ``topics_`` - ``np.ndarray[int]``, one topic per input row, -1 = outlier;
    * ``topic_info_`` - DataFrame ``[topic, size, name, words]``; ``size`` counts input
      rows, ``words`` are the top lemmas comma-separated (:class:`pipeline.representation.ReadableWords`),
      ``name`` a phrase of the topic's texts, e.g. ``"Samarbejde på tværs"``
      (:class:`pipeline.representation.PhraseRepresentation`; analysts' names and merges are edits
      of the saved run, :mod:`pipeline.analysis`, with stable topic ids);
    * ``topic_embeddings_`` - L2-normalised centroid of each topic's text embeddings,
      row ``i`` = topic ``i`` (outliers excluded);
    * ``model_`` - the fitted ``BERTopic`` (None when not clustered);
    * ``documents_`` - the lemma document of each distinct text, aligned with ``model_.topics_``;
    * ``clustered_`` - False when there were fewer than ``config.min_texts`` distinct
      texts (or the clustering found no topic): then every topic is -1;
    * ``parameters_`` - the UMAP/HDBSCAN sizes of the default models (see
      :func:`adaptive_parameters`), plus ``fit_texts`` when a sample was fitted.

    Outliers are reduced with BERTopic's ``reduce_outliers`` (``config.reduce_outliers``
    strategy) and the topic words recomputed with the same vectorizer.
    Everything random is seeded with ``config.random_state``: same input, same topics.
    """

    services = ("embedder",)  # shared by clones (pipeline/estimators.py)

    def __init__(
        self,
        config: TopicConfig | None = None,
        embedder: Embedder | None = None,
        umap_model=None,
        hdbscan_model=None,
        vectorizer_model=None,
        ctfidf_model=None,
        representation_model=None,
    ):
        self.config = config
        self.embedder = embedder
        self.umap_model = umap_model
        self.hdbscan_model = hdbscan_model
        self.vectorizer_model = vectorizer_model
        self.ctfidf_model = ctfidf_model
        self.representation_model = representation_model

    def _config(self) -> TopicConfig:
        return self.config if self.config is not None else TopicConfig()

    # ------------------------------------------------------------------ fitting

    def fit(
        self, texts: Sequence[str], lemmas: Sequence[str], embeddings: np.ndarray, fit_on: Sequence[bool] | None = None
    ) -> "TopicModeler":
        """Fit on the texts; ``fit_on`` (one flag per text) restricts the clustering to the
        flagged texts, and the others join the topic they stand out as closest to
        (:func:`~pipeline.clustering.place_by_centroid`). By default the short texts are flagged when they are
        most of the corpus (:meth:`short_texts`): clustered together, a note's passages
        (30-150 words) and the participants' answers (1-10) part by length instead of
        subject. With fewer flagged texts than a clustering needs, all are fitted."""
        texts, lemmas, embeddings = _check_inputs(texts, lemmas, embeddings)
        if fit_on is None:
            fit_on = self.short_texts(texts)
        first_row: dict[str, int] = {}
        for row, text in enumerate(texts):
            first_row.setdefault(text, row)
        position = {text: k for k, text in enumerate(first_row)}
        self._rows = np.array([position[text] for text in texts], dtype=int)  # input row -> distinct text
        keep = list(first_row.values())
        distinct = list(first_row)
        self.documents_ = [lemmas[i].strip() or _EMPTY_DOC for i in keep]
        # The embedding of each distinct text, kept for transform.
        vectors = self._vectors = normalise_rows(embeddings[keep]) if keep else np.zeros((0, 0), dtype=np.float32)
        n = len(keep)
        self.model_, self.parameters_ = None, {}
        self.clustered_ = False
        config = self._config()
        minimum = max(config.min_texts, MIN_CLUSTERABLE)
        if n < minimum:
            logger.warning(
                "only %d distinct texts (< %d): no topic clustering; themes are mapped text by text", n, minimum
            )
            return self._refresh()
        if self.vectorizer_model is None and all(doc == _EMPTY_DOC for doc in self.documents_):
            # BERTopic's vectorizer would stop on an empty vocabulary (e.g. one-letter answers only).
            logger.warning("no text has a content word (lemma): no topic clustering; themes are mapped text by text")
            return self._refresh()

        fittable = np.arange(n)
        if fit_on is not None:
            flagged = np.zeros(n, dtype=bool)
            flagged[self._rows[np.asarray(fit_on, dtype=bool)]] = True
            if flagged.sum() >= minimum:
                fittable = np.flatnonzero(flagged)
        sample = fittable[self._fit_sample(len(fittable))]
        self.parameters_ = adaptive_parameters(len(sample), config)
        if len(sample) < n:
            self.parameters_["fit_texts"] = len(sample)
        model = self._new_bertopic(vectors[sample])
        docs = [self.documents_[i] for i in sample]
        with _quiet_umap():
            topics, _ = model.fit_transform(docs, embeddings=vectors[sample])
        topics = np.asarray(topics, dtype=int)
        if topics.max() < 0:
            logger.warning("the clustering found no topic among %d texts; every text is an outlier (-1)", n)
            return self._refresh()
        if len(sample) < n:
            # Texts left out of a sample join the topic their nearest fitted texts vote for (see
            # transform); texts of the other genre join the topic they stand out as closest to.
            every = np.empty(n, dtype=int)
            every[sample] = topics
            rest = np.setdiff1d(fittable, sample)
            every[rest] = neighbour_vote(vectors[rest], vectors[sample], topics, self.parameters_["n_neighbors"])
            other = np.setdiff1d(np.arange(n), fittable)
            every[other] = place_by_centroid(vectors[other], vectors[sample], topics)
            topics = every
        strategy = config.reduce_outliers
        if strategy != "none" and topics.min() < 0:
            topics = np.asarray(
                model.reduce_outliers(
                    self.documents_, topics.tolist(), strategy=strategy, threshold=config.outlier_threshold, embeddings=vectors
                ),
                dtype=int,
            )
        # Words and names once, on the final topics of every distinct text: representation
        # models (the names) read the texts, so they run here rather than inside the fit.
        with _quiet_bertopic():  # it warns that custom topics must be the last step: they are
            model.update_topics(
                self.documents_,
                topics=topics.tolist(),
                top_n_words=config.top_n_words,
                vectorizer_model=model.vectorizer_model,
                ctfidf_model=model.ctfidf_model,
                representation_model=self._representation(distinct, vectors),
            )
        # Every topic's name as BERTopic's custom label, so its own views show it too.
        names = model.topic_aspects_.get(NAME_ASPECT, {})
        labels = {
            topic: (names.get(topic) or [("", 0.0)])[0][0] or words_name([w for w, _ in model.get_topic(topic) or [] if w])
            for topic in sorted(set(model.topics_))
        }
        model.set_topic_labels({**labels, -1: OUTLIER_NAME} if -1 in labels else labels)
        # Centroids of the texts' own embeddings (update_topics would fall back to
        # embedding the topic words); BERTopic keeps them unnormalised, as here.
        ids = np.asarray(model.topics_)
        model.topic_embeddings_ = np.vstack([vectors[ids == topic].mean(axis=0) for topic in sorted(set(ids))])
        self.model_, self.clustered_ = model, True
        return self._refresh()

    def fit_transform(self, texts, lemmas, embeddings, fit_on=None) -> np.ndarray:
        return self.fit(texts, lemmas, embeddings, fit_on).topics_

    def short_texts(self, texts: Sequence[str]) -> np.ndarray | None:
        """Texts of at most ``config.cluster_max_words`` words, when they are at least
        :data:`SHORT_TEXTS_SHARE` of the distinct texts and the longer ones at least
        :data:`LONG_TEXTS_SHARE`; else None (all).

        On the real North Jutland workshop (188 answers, 127 note passages) the largest topic
        held 92 of the note's 98 content passages when all were clustered together; with the
        short answers clustered and the note placed (:func:`pipeline.run.fit_topics`) 14, and
        the passages' topics agree with their theme labels at NMI 0.49 instead of 0.09."""
        limit = self._config().cluster_max_words
        if not limit or not len(texts):
            return None
        words = np.array([len(text.split()) for text in texts])
        short = words <= limit
        distinct = dict(zip(texts, short))
        share = sum(distinct.values()) / len(distinct)
        # A few long texts among many short ones form no genre cluster: all are clustered.
        return short if SHORT_TEXTS_SHARE <= share <= 1 - LONG_TEXTS_SHARE else None

    def _fit_sample(self, n: int) -> np.ndarray:
        """Distinct texts UMAP/HDBSCAN are fitted on: all, or a seeded sample of ``config.max_fit_texts``."""
        config = self._config()
        limit = config.max_fit_texts
        if not limit or n <= limit:
            return np.arange(n)
        rng = np.random.default_rng(config.random_state)
        return np.sort(rng.choice(n, size=limit, replace=False))

    def _representation(self, texts: list[str], vectors: np.ndarray):
        """BERTopic's ``representation_model`` for the final topics: the given one (else
        :func:`default_representation`), with tematik's own representations that have no
        texts yet given this fit's surface ``texts`` (and vectors) in a copy."""
        from pipeline.representation import PhraseRepresentation, ReadableWords

        given = self.representation_model
        if given is None:
            given = default_representation(self._config().top_n_words, self.embedder)

        def for_this_fit(model):
            if isinstance(model, ReadableWords) and model.texts is None:
                return _with_parameters(model, texts=texts)
            if isinstance(model, PhraseRepresentation) and model.texts is None:
                return _with_parameters(model, texts=texts, embeddings=vectors)
            return model

        if isinstance(given, dict):
            return {aspect: for_this_fit(model) for aspect, model in given.items()}
        return [for_this_fit(model) for model in given] if isinstance(given, list) else for_this_fit(given)

    def _new_bertopic(self, vectors: np.ndarray):
        BERTopic = import_bertopic()
        config = self._config()
        p, seed = self.parameters_, config.random_state
        return BERTopic(
            embedding_model=bertopic_backend(self.embedder) if self.embedder is not None else None,
            umap_model=_fresh(self.umap_model) if self.umap_model is not None else default_umap(p, seed, vectors),
            hdbscan_model=_fresh(self.hdbscan_model) if self.hdbscan_model is not None else default_hdbscan(p),
            vectorizer_model=_fresh(self.vectorizer_model) if self.vectorizer_model is not None else lemma_vectorizer(),
            ctfidf_model=_fresh(self.ctfidf_model) if self.ctfidf_model is not None else default_ctfidf(),
            top_n_words=config.top_n_words,
            calculate_probabilities=False,
        )

    # ------------------------------------------------------------------ results

    @property
    def topic_embeddings_(self) -> np.ndarray:
        if self.model_ is None:
            return np.zeros((0, 0), dtype=np.float32)
        centroids = np.asarray(self.model_.topic_embeddings_)
        return normalise_rows(centroids[self.model_._outliers :])

    def _refresh(self) -> "TopicModeler":
        """Recompute ``topics_`` and ``topic_info_`` from the BERTopic model and labels."""
        if self.model_ is None:
            self.topics_ = np.full(len(self._rows), -1, dtype=int)
            self.topic_info_ = pd.DataFrame(
                {"topic": pd.Series(dtype=int), "size": pd.Series(dtype=int), "name": pd.Series(dtype=str), "words": pd.Series(dtype=str)}
            )
            if len(self._rows):
                self.topic_info_ = pd.DataFrame([{"topic": -1, "size": len(self._rows), "name": OUTLIER_NAME, "words": ""}])
            return self
        self.topics_ = np.asarray(self.model_.topics_, dtype=int)[self._rows]
        ids, sizes = np.unique(self.topics_, return_counts=True)
        rows = []
        custom = dict(zip(sorted(self.model_.topic_labels_), self.model_.custom_labels_ or []))
        for topic, size in zip(ids.tolist(), sizes.tolist()):
            words = [word for word, _ in self.model_.get_topic(topic) or [] if word]
            # Analysts' names live in the saved run's edits.
            name = OUTLIER_NAME if topic < 0 else custom.get(topic) or words_name(words)
            rows.append({"topic": topic, "size": size, "name": name, "words": ", ".join(words)})
        self.topic_info_ = pd.DataFrame(rows, columns=TOPIC_INFO_COLUMNS)
        return self

    # ------------------------------------------------------------------ new texts

    def transform(self, texts: Sequence[str], lemmas: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """Topic of each (new) text: the similarity-weighted majority topic of its
        ``n_neighbors`` most similar fitted texts (cosine); a text identical to a fitted
        one keeps that text's topic. Only ``embeddings`` decide; ``texts`` and
        ``lemmas`` are checked for length and kept for symmetry with :meth:`fit`."""
        texts, lemmas, embeddings = _check_inputs(texts, lemmas, embeddings)
        if self.model_ is None:
            return np.full(len(texts), -1, dtype=int)
        fitted = np.asarray(self.model_.topics_, dtype=int)
        return neighbour_vote(embeddings, self._vectors, fitted, self.parameters_.get("n_neighbors", 15))

    # ------------------------------------------------------------------ persistence

    def save(self, folder: str | Path) -> Path:
        """Write ``bertopic/`` (BERTopic's safetensors format with c-TF-IDF and vectorizer,
        no embedding model), ``embeddings.npy`` (fitted texts, for :meth:`transform`),
        ``state.json`` and ``topic_info.csv`` (for people)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self.model_ is not None:
            with _quiet_bertopic():  # it warns that no embedding model is named: we pass ours on load
                self.model_.save(folder / "bertopic", serialization="safetensors", save_ctfidf=True, save_embedding_model=False)
            np.save(folder / "embeddings.npy", self._vectors)
        state = {
            "config": self._config().model_dump(mode="json"),
            "embedder": getattr(self.embedder, "name", None),
            "clustered": self.clustered_,
            "parameters": self.parameters_,
            "rows": self._rows.tolist(),
            "docs": self.documents_,
        }
        (folder / "state.json").write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
        self.topic_info_.to_csv(folder / "topic_info.csv", index=False)
        return folder

    @classmethod
    def load(cls, folder: str | Path, embedder: Embedder | None = None) -> "TopicModeler":
        """Read a folder written by :meth:`save`; ``embedder`` should be the one used to fit."""
        folder = Path(folder)
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        if embedder is not None and state["embedder"] and embedder.name != state["embedder"]:
            logger.warning("topic model was fitted with embeddings %r, loaded with %r", state["embedder"], embedder.name)
        modeler = cls(TopicConfig.model_validate(state["config"]), embedder)
        modeler.clustered_ = state["clustered"]
        modeler.parameters_ = state["parameters"]
        modeler._rows = np.asarray(state["rows"], dtype=int)
        modeler.documents_ = state["docs"]
        if modeler.clustered_:
            BERTopic = import_bertopic()
            with _quiet_bertopic():
                modeler.model_ = BERTopic.load(
                    str(folder / "bertopic"), embedding_model=bertopic_backend(embedder) if embedder is not None else None
                )
            modeler.model_.topics_ = [int(topic) for topic in modeler.model_.topics_]
            modeler._vectors = np.load(folder / "embeddings.npy")
        return modeler._refresh()


def words_name(words: Sequence[str]) -> str:
    """A readable name from topic words, for a topic without a phrase name: "Robot, data og automatisering"."""
    top = [str(word) for word in words[:3]]
    if not top:
        return "Uden fælles ord"
    name = listing(top)
    return name[:1].upper() + name[1:]


def warm_up() -> None:
    """Compile the numba code of a topic fit into tematik's cache (:mod:`pipeline.numba_cache`),
    for an install step: later processes load it instead of compiling (~15-20 s each on 2 cores)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    vectors = centres[np.arange(90) % 3] + rng.normal(scale=0.3, size=(90, 16))
    texts = [f"tekst {i}" for i in range(90)]
    lemmas = [f"ord{i % 3} emne{i % 3} ting{i % 7}" for i in range(90)]
    TopicModeler(TopicConfig()).fit(texts, lemmas, vectors)


def _with_parameters(model, **parameters):
    """A new ``model`` of the same parameters but ``parameters``; the others are shared, not
    copied (unlike ``sklearn.base.clone``: a representation may hold the run's embedder)."""
    return type(model)(**{**model.get_params(deep=False), **parameters})


def _fresh(model):
    """An unfitted copy of a user-given sub-model, when scikit-learn can clone it."""
    from sklearn.base import clone

    try:
        return clone(model)
    except (TypeError, RuntimeError):  # not a scikit-learn estimator: used as given
        return model


def _check_inputs(texts, lemmas, embeddings) -> tuple[list[str], list[str], np.ndarray]:
    texts, lemmas = [str(t) for t in texts], [str(lemma) for lemma in lemmas]
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if not (len(texts) == len(lemmas) == len(embeddings)):
        raise ValueError(f"texts ({len(texts)}), lemmas ({len(lemmas)}) and embeddings ({len(embeddings)}) differ in length")
    if embeddings.ndim != 2:
        embeddings = embeddings.reshape(len(texts), -1) if len(texts) else np.zeros((0, 0), dtype=np.float32)
    return texts, lemmas, embeddings


@contextmanager
def _quiet_umap():
    """Silence UMAP's notice that a fixed random_state disables parallelism (intended)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*n_jobs value .* overridden.*")
        yield


@contextmanager
def _quiet_bertopic():
    """Hold back BERTopic's warnings about steps tematik takes on purpose."""
    bertopic_logger = logging.getLogger("BERTopic")
    level = bertopic_logger.level
    bertopic_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        bertopic_logger.setLevel(level)
