"""The clustering under tematik's topics, sized to the corpus: UMAP and HDBSCAN built for
the number of distinct texts (:func:`adaptive_parameters`, :func:`default_umap`,
:func:`default_hdbscan`), an exact neighbour search for large corpora
(:func:`exact_neighbours`), and how texts outside a fit get a topic (:func:`neighbour_vote`
for texts like the fitted ones, :func:`place_by_centroid` for texts of another genre).
:class:`pipeline.topics.TopicModeler` uses them when no sub-model is given."""

from __future__ import annotations

import numpy as np

from pipeline.config import TopicConfig
from pipeline.embeddings import normalise_rows


def adaptive_parameters(n: int, config: TopicConfig) -> dict[str, int]:
    """UMAP/HDBSCAN sizes for ``n`` distinct texts; values set in ``config`` win.

    * ``n_neighbors = clip(round(3 * log10(n) + 3), 5, 15)``, at most ``n - 1``:
      7 at 30 texts, 10 at 300, 13 at 3,000, BERTopic's 15 from 10,000 on. Small
      corpora need small neighbourhoods or groups blur together; 15 is enough for big ones.
    * ``min_cluster_size = clip(round(sqrt(n) / 2), 3, 100)``: 3 up to ~50 texts (a
      topic is at least three answers), 9 at 300, 27 at 3,000, 87 at 30,000. A fixed
      share of n (2 %) gave 16-17 topics at 100-300 texts, BERTopic's fixed 10 gave
      none at 30; the square root keeps the topic count growing slowly (~4 at 30,
      ~10 at 300, ~18 at 3,000 on labelled test sets).
    * ``min_samples = max(1, min_cluster_size // 3)``: HDBSCAN's default
      (= min_cluster_size) makes most short answers noise and sometimes collapses a
      300-text workshop into 2-3 topics; a third keeps clusters stable while the
      remaining noise is given to topics by outlier reduction.
    * ``max_cluster_size = ceil(n / 2)``: HDBSCAN's "excess of mass" selection can keep
      one parent cluster holding most of a small corpus (48 answers in 3 groups plus 6
      off-topic remarks became 2 topics, one of 70 %); capping it at half the corpus
      splits such a parent and changed nothing on corpora that were already fine.
    * ``n_components = min(config.n_components, n - 2)``.

    Measured with e5 embeddings and seeds 42/0/1 (topics after outlier reduction;
    noise = HDBSCAN outlier share before it; ARI against known groups; fit time on 2 cores):

    ==========================================  ======  ========  =========  ========
    corpus                                      topics  noise     ARI        fit
    ==========================================  ======  ========  =========  ========
    30 answers, 3 groups (tests' own texts)     4       0 %       0.86       <0.1 s
    54 = 48 answers in 3 groups + 6 off-topic   4-6     0-4 %     0.74-0.82  0.1 s
    104 note passages, 6 themes (Nordjylland)   8-13    1-5 %     0.16-0.22  0.1 s
    291 = those notes + Mentimeter answers      10-13   12-22 %   (weak)     0.3 s
    300 synthetic recombined answers, 11 groups 8-10    3-6 %     0.61-0.64  0.3 s
    3,000 synthetic, 11 groups                  19-21   8-10 %    0.62-0.66  10 s
    30,000 synthetic (fragment-mean vectors)    58      9 %       0.55       14-16 s
    ==========================================  ======  ========  =========  ========
    """
    n_neighbors = config.n_neighbors or int(np.clip(round(3 * np.log10(max(n, 2)) + 3), 5, 15))
    min_cluster_size = config.min_cluster_size or int(np.clip(round(np.sqrt(n) / 2), 3, 100))
    min_samples = config.min_samples or max(1, min_cluster_size // 3)
    return {
        "n_neighbors": max(2, min(n_neighbors, n - 1)),
        "n_components": max(2, min(config.n_components, n - 2)),
        "min_cluster_size": max(2, min(min_cluster_size, n // 2)),
        "min_samples": min_samples,
        "max_cluster_size": -(-n // 2),
    }


# UMAP computes all pairwise distances below this many points and calls pynndescent's
# nn_descent from here on (umap_.py); tematik gives it exact neighbours instead.
UMAP_EXACT_LIMIT = 4096

def default_hdbscan(parameters: dict[str, int]):
    """HDBSCAN with the sizes of :func:`adaptive_parameters`."""
    from hdbscan import HDBSCAN

    return HDBSCAN(
        min_cluster_size=parameters["min_cluster_size"],
        min_samples=parameters["min_samples"],
        max_cluster_size=parameters["max_cluster_size"],
        metric="euclidean",
        cluster_selection_method="eom",
    )


def default_umap(parameters: dict[str, int], random_state: int, vectors: np.ndarray | None = None):
    """UMAP (cosine, ``min_dist=0``, seeded) with the sizes of :func:`adaptive_parameters`.

    With ``vectors`` of :data:`UMAP_EXACT_LIMIT` rows or more, their exact cosine
    neighbours are handed over as ``precomputed_knn``: UMAP would otherwise run
    pynndescent's ``nn_descent``, whose numba code is compiled in every process (it is
    not cacheable; ~30 s on 2 cores) and which is approximate. The exact search is
    scikit-learn's brute-force k-neighbours on unit vectors (Euclidean order = cosine
    order; cosine distance = d^2 / 2).
    """
    from pipeline.numba_cache import import_topic_libraries

    import_topic_libraries()
    from umap import UMAP

    knn = (None, None, None)
    if vectors is not None and len(vectors) >= UMAP_EXACT_LIMIT:
        indices, distances = exact_neighbours(vectors, vectors, parameters["n_neighbors"])
        knn = (indices, distances, None)  # no search index: tematik never calls UMAP.transform on new texts
    return UMAP(
        n_neighbors=parameters["n_neighbors"],
        n_components=parameters["n_components"],
        min_dist=0.0,
        metric="cosine",
        random_state=random_state,
        precomputed_knn=knn,
    )


def exact_neighbours(queries: np.ndarray, points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (int32) and cosine distances (float32) of each query's ``k`` nearest ``points``.

    Both are L2-normalised first; scikit-learn's brute-force search runs in parallel
    chunks with bounded memory (its ``ArgKmin`` reduction).
    """
    from sklearn.neighbors import NearestNeighbors

    points, queries = normalise_rows(points), normalise_rows(queries)
    k = min(k, len(points))
    search = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="euclidean").fit(points)
    distances, indices = search.kneighbors(queries)
    return indices.astype(np.int32), np.clip(distances**2 / 2, 0.0, 2.0).astype(np.float32)


def neighbour_vote(queries: np.ndarray, points: np.ndarray, topics: np.ndarray, k: int) -> np.ndarray:
    """Topic of each query: the similarity-weighted majority topic of its ``k`` most similar
    ``points`` (cosine); a query identical to a point takes that point's topic."""
    if len(queries) == 0:
        return np.zeros(0, dtype=int)
    indices, distances = exact_neighbours(queries, points, k)
    similarity = 1.0 - distances  # sorted, nearest first
    weights = np.maximum(similarity, 0.0)
    neighbour_topics = topics[indices]
    votes = np.zeros((len(queries), topics.max() + 2))
    np.add.at(votes, (np.arange(len(queries))[:, None], neighbour_topics + 1), weights)
    chosen = votes.argmax(axis=1) - 1
    same = similarity[:, 0] >= 1 - 1e-5  # float32 search: identical texts come out at 1 - ~1e-7
    chosen[same] = neighbour_topics[same, 0]
    return chosen


# From this many texts of the other genre their similarities are standardised per topic.
_STANDARDISE_FROM = 5


def place_by_centroid(queries: np.ndarray, points: np.ndarray, topics: np.ndarray) -> np.ndarray:
    """Topic of each query text of another genre (note passages beside short answers): the topic
    whose centroid it is most similar to, in standard scores per topic.

    Long passages are all more similar to some topics' centroids (the broad ones) than to
    others, whatever they say, and a neighbour vote among short answers follows the biggest
    topic. Standardised per topic over the queries, a passage goes where it stands out. On
    the real North Jutland workshop (98 content passages, 97 with a theme label; the same
    answer topics) the largest topic took 55 % of them by neighbour vote, 37 % by raw
    centroid similarity and 17 % in standard scores; NMI with the passages' theme labels
    0.19, 0.25 and 0.40 (all clustered together: 94 %, 0.09).
    """
    if len(queries) == 0:
        return np.zeros(0, dtype=int)
    ids = np.array(sorted(set(topics.tolist()) - {-1}))
    centroids = normalise_rows(np.vstack([points[topics == topic].mean(axis=0) for topic in ids]))
    similarity = normalise_rows(queries) @ centroids.T
    if len(queries) >= _STANDARDISE_FROM:
        spread = similarity.std(axis=0)
        similarity = (similarity - similarity.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    return ids[similarity.argmax(axis=1)]


