"""TopicModeler: real BERTopic fits on short Danish answers written for these tests."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import EmbeddingConfig, TopicConfig
from pipeline.embeddings import make_embedder
from pipeline.topics import TopicModeler, adaptive_parameters

pytestmark = pytest.mark.slow

ROBOTS = [
    "Robotter kan overtage de tunge og ensformige løft i produktionen",
    "Flere virksomheder bør investere i robotter og automatisering",
    "Automatisering af produktionen giver højere produktivitet",
    "Robotterne på fabrikken frigør medarbejdere til mere komplekse opgaver",
    "Små virksomheder mangler hjælp til at komme i gang med automatisering",
    "Kunstig intelligens og robotteknologi vil ændre industrien",
    "Vi har automatiseret pakningen med en samarbejdende robot",
    "Digitalisering og automatisering af arbejdsgange sparer tid",
    "Data fra maskinerne kan bruges til at optimere produktionen",
    "Investeringer i automatiseringsteknologi er for dyre for mange SMV'er",
    "Robotter på lagret gør logistikken hurtigere",
    "Automatiserede produktionslinjer kræver nye digitale kompetencer",
    "En robotcelle kan betale sig hjem på få år",
    "Sensorer og software automatiserer kvalitetskontrollen",
    "Virksomhederne skal bruge data og kunstig intelligens i produktionen",
    "Vi drømmer om en fuldt automatiseret fabrik",
]
SKILLS = [
    "Vi mangler faglærte og lærlinge i byggeriet",
    "Flere unge skal vælge en erhvervsuddannelse",
    "Virksomhederne bør tage flere lærlinge og elever",
    "Manglen på kvalificeret arbejdskraft bremser væksten",
    "Lærlingene skal have bedre praktikpladser i de små virksomheder",
    "Det er svært at rekruttere elektrikere og smede",
    "Efteruddannelse af ufaglærte medarbejdere er afgørende",
    "Erhvervsskolerne skal samarbejde tættere med virksomhederne",
    "Vi kan ikke finde faglært arbejdskraft til vores værksted",
    "Flere praktikpladser til elever fra erhvervsskolerne",
    "Unge bør få øjnene op for håndværksfagene",
    "Rekruttering af udenlandsk arbejdskraft kan afhjælpe manglen",
    "Opkvalificering af medarbejderne gennem AMU-kurser",
    "Mesterlæren skal styrkes så flere lærlinge bliver uddannet",
    "Virksomheder mangler hænder, især faglærte håndværkere",
    "Uddannelse af flere tømrere, murere og VVS'ere",
]
EXPORT = [
    "Eksporten til Tyskland og Sverige kan vokse betydeligt",
    "Små virksomheder har brug for hjælp til at komme ind på nye eksportmarkeder",
    "Internationale messer åbner døre til udenlandske kunder",
    "Vi eksporterer allerede til flere lande i Europa",
    "Eksportrådgivning bør være lettere tilgængelig for SMV'er",
    "Nye markeder i Asien rummer store muligheder for vores produkter",
    "Samhandel med udlandet kræver kendskab til lokale regler",
    "Flere virksomheder skal sælge deres varer på det globale marked",
    "Internationalisering giver adgang til større markeder",
    "Handelsbarrierer og told gør eksporten vanskeligere",
    "Eksportfremme gennem ambassaderne og Trade Council",
    "Udenlandske investorer kan styrke regionens virksomheder",
    "Vi vil gerne sælge mere til kunder i Norge og Tyskland",
    "Danske fødevarer har et godt ry på eksportmarkederne",
    "Salg til udlandet kræver oversatte hjemmesider og lokale partnere",
    "Eksportvirksomheder er mere robuste end dem der kun sælger hjemme",
]
TEXTS = ROBOTS + SKILLS + EXPORT
GROUPS = np.array([0] * len(ROBOTS) + [1] * len(SKILLS) + [2] * len(EXPORT))


def lemmatise(texts: list[str]) -> list[str]:
    """Space-joined content lemmas from the language stage."""
    from pipeline.language import TextAnalyzer

    return [" ".join(lemmas) for lemmas in TextAnalyzer().lemmatise(texts)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    embedder = make_embedder(EmbeddingConfig(backend="e5", cache_dir=tmp_path_factory.mktemp("cache")))
    return {"embedder": embedder, "texts": TEXTS, "lemmas": lemmatise(TEXTS), "embeddings": embedder.embed(TEXTS)}


@pytest.fixture(scope="module")
def fitted(corpus):
    return TopicModeler(TopicConfig(), corpus["embedder"]).fit(corpus["texts"], corpus["lemmas"], corpus["embeddings"])


def purity(topics: np.ndarray, topic: int) -> float:
    members = GROUPS[topics == topic]
    return Counter(members.tolist()).most_common(1)[0][1] / len(members)


def test_fit_finds_the_three_groups(fitted, corpus):
    assert fitted.clustered_
    info = fitted.topic_info_
    assert list(info.columns) == ["topic", "size", "name", "words"]
    assert info["size"].sum() == len(TEXTS) and len(fitted.topics_) == len(TEXTS)
    real = info[info.topic >= 0]
    assert len(real) >= 2
    pure = [topic for topic in real.topic if purity(fitted.topics_, topic) >= 0.8]
    assert len(pure) >= 2
    # Every group is the majority of some topic: none was swallowed by another.
    majorities = {Counter(GROUPS[fitted.topics_ == topic].tolist()).most_common(1)[0][0] for topic in real.topic}
    assert majorities == {0, 1, 2}
    # Default outlier reduction gives every text a topic.
    assert (fitted.topics_ >= 0).all()
    assert fitted.parameters_ == adaptive_parameters(len(TEXTS), TopicConfig())


def test_topic_words_are_lemmas(fitted, corpus):
    vocabulary = {lemma for text in corpus["lemmas"] for lemma in text.split()}
    words = [word for cell in fitted.topic_info_["words"] for word in cell.split(", ")]
    assert words and set(words) <= vocabulary
    assert "robot" in words and "robotterne" not in words and "robotter" not in words
    for row in fitted.topic_info_.itertuples():  # named by a phrase of its texts, never BERTopic's "3_robot_…" id form
        assert not row.name.startswith(f"{row.topic}_") and row.name[:1].isupper()
    robot_topic = Counter(fitted.topics_[GROUPS == 0].tolist()).most_common(1)[0][0]
    robot_words = fitted.topic_info_.set_index("topic").loc[robot_topic, "words"].split(", ")
    assert {"robot", "automatisering"} & set(robot_words[:5])


def test_topic_embeddings_are_topic_centroids(fitted, corpus):
    centroids = fitted.topic_embeddings_
    n_topics = int((fitted.topic_info_.topic >= 0).sum())
    assert centroids.shape == (n_topics, 384)
    np.testing.assert_allclose(np.linalg.norm(centroids, axis=1), 1.0, atol=1e-5)
    mean = corpus["embeddings"][fitted.topics_ == 0].mean(axis=0)
    np.testing.assert_allclose(centroids[0], mean / np.linalg.norm(mean), atol=1e-5)


def test_same_input_same_topics(fitted, corpus):
    again = TopicModeler(TopicConfig(), corpus["embedder"]).fit(corpus["texts"], corpus["lemmas"], corpus["embeddings"])
    np.testing.assert_array_equal(again.topics_, fitted.topics_)
    pd.testing.assert_frame_equal(again.topic_info_, fitted.topic_info_)


def test_too_few_texts_are_not_clustered(corpus, caplog):
    with caplog.at_level(logging.WARNING, logger="pipeline.topics"):
        model = TopicModeler(TopicConfig(min_texts=20), corpus["embedder"]).fit(
            TEXTS[:12], corpus["lemmas"][:12], corpus["embeddings"][:12]
        )
    assert not model.clustered_
    assert (model.topics_ == -1).all() and len(model.topics_) == 12
    assert "no topic clustering" in caplog.text
    assert model.transform(TEXTS[:2], corpus["lemmas"][:2], corpus["embeddings"][:2]).tolist() == [-1, -1]


def test_distinct_texts_decide_and_duplicates_share_a_topic(corpus):
    # 15 distinct texts repeated to 30 rows are still too few for min_texts=20.
    rows = list(range(15)) * 2
    few = TopicModeler(TopicConfig(min_texts=20)).fit(
        [TEXTS[i] for i in rows], [corpus["lemmas"][i] for i in rows], corpus["embeddings"][rows]
    )
    assert not few.clustered_
    rows = list(range(len(TEXTS))) + [0, 0, 20]
    model = TopicModeler(TopicConfig(), corpus["embedder"]).fit(
        [TEXTS[i] for i in rows], [corpus["lemmas"][i] for i in rows], corpus["embeddings"][rows]
    )
    assert model.topics_[-3] == model.topics_[-2] == model.topics_[0]
    assert model.topics_[-1] == model.topics_[20]
    assert model.topic_info_["size"].sum() == len(rows)


@pytest.mark.parametrize("n", [8, 10, 14])
def test_tiny_corpora_at_the_umap_edge(corpus, n):
    rows = [i for group in range(3) for i in np.flatnonzero(GROUPS == group)[: (n + 2 - group) // 3]][:n]
    model = TopicModeler(TopicConfig(min_texts=8), corpus["embedder"]).fit(
        [TEXTS[i] for i in rows], [corpus["lemmas"][i] for i in rows], corpus["embeddings"][rows]
    )
    assert len(model.topics_) == n
    assert model.parameters_["n_neighbors"] < n
    assert model.topic_info_["size"].sum() == n
    if model.clustered_:
        assert set(model.topics_) <= set(model.topic_info_.topic)


def test_save_load_transform(fitted, corpus, tmp_path):
    fitted.save(tmp_path / "topics")
    loaded = TopicModeler.load(tmp_path / "topics", corpus["embedder"])
    pd.testing.assert_frame_equal(loaded.topic_info_, fitted.topic_info_)
    np.testing.assert_array_equal(loaded.topics_, fitted.topics_)
    predicted = loaded.transform(corpus["texts"], corpus["lemmas"], corpus["embeddings"])
    np.testing.assert_array_equal(predicted, fitted.topics_)
    # New answers land in a topic whose texts are mostly from their group.
    new = {
        0: ["Vi har brug for flere robotter i produktionen", "Automatisering kan løse de gentagne opgaver"],
        1: ["Der uddannes for få smede og elektrikere", "Lærlingepladser er svære at finde for unge"],
        2: ["Vi skal sælge flere produkter i udlandet", "Eksportstøtte til virksomheder der vil ud i verden"],
    }
    texts = [text for group in new.values() for text in group]
    predicted = loaded.transform(texts, lemmatise(texts), corpus["embedder"].embed(texts))
    expected = [group for group, group_texts in new.items() for _ in group_texts]
    majority = {t: Counter(GROUPS[fitted.topics_ == t].tolist()).most_common(1)[0][0] for t in set(fitted.topics_)}
    assert [majority[t] for t in predicted] == expected


def test_lsa_embeddings_fast_path(corpus):
    lsa = make_embedder(EmbeddingConfig(backend="lsa"))
    model = TopicModeler(TopicConfig(), lsa).fit(TEXTS, corpus["lemmas"], lsa.embed(TEXTS))
    assert model.clustered_
    assert int((model.topic_info_.topic >= 0).sum()) >= 2
    assert max(purity(model.topics_, topic) for topic in set(model.topics_)) >= 0.8


OFF_TOPIC = [
    "Tak for en god dag",
    "Kaffen var kold i pausen",
    "Hvor kan man finde slides fra oplæggene?",
    "Parkeringen var svær at finde",
    "Mere tid til netværk næste gang",
    "Oplægsholderen talte for hurtigt",
]


def test_outlier_reduction(corpus):
    texts = TEXTS + OFF_TOPIC
    lemmas, embeddings = lemmatise(texts), corpus["embedder"].embed(texts)
    strict = {"min_cluster_size": 5, "min_samples": 5}  # dense cores only: some texts stay noise

    kept = TopicModeler(TopicConfig(reduce_outliers="none", **strict), corpus["embedder"]).fit(texts, lemmas, embeddings)
    assert kept.clustered_ and (kept.topics_ == -1).any()
    assert -1 in set(kept.topic_info_.topic)
    assert kept.topic_embeddings_.shape[0] == int((kept.topic_info_.topic >= 0).sum())

    reduced = TopicModeler(TopicConfig(**strict), corpus["embedder"]).fit(texts, lemmas, embeddings)
    assert (reduced.topics_ >= 0).all() and -1 not in set(reduced.topic_info_.topic)
    clustered = kept.topics_ >= 0
    np.testing.assert_array_equal(reduced.topics_[clustered], kept.topics_[clustered])
    # Each former outlier went to the topic whose centroid (before reduction) is most similar.
    outliers = np.flatnonzero(~clustered)
    nearest = (embeddings[outliers] @ kept.topic_embeddings_.T).argmax(axis=1)
    np.testing.assert_array_equal(reduced.topics_[outliers], nearest)

    unreachable = TopicModeler(TopicConfig(outlier_threshold=0.99, **strict), corpus["embedder"]).fit(texts, lemmas, embeddings)
    np.testing.assert_array_equal(unreachable.topics_, kept.topics_)


def test_inputs_must_align(corpus):
    with pytest.raises(ValueError, match="differ in length"):
        TopicModeler().fit(TEXTS, corpus["lemmas"][:-1], corpus["embeddings"])


def test_adaptive_parameters_grow_with_the_corpus():
    sizes = [adaptive_parameters(n, TopicConfig()) for n in (10, 30, 300, 3000, 30000)]
    assert [p["n_neighbors"] for p in sizes] == sorted(p["n_neighbors"] for p in sizes)
    assert [p["min_cluster_size"] for p in sizes] == sorted(p["min_cluster_size"] for p in sizes)
    assert all(p["n_neighbors"] < n for p, n in zip(sizes, (10, 30, 300, 3000, 30000)))
    assert adaptive_parameters(30, TopicConfig(n_neighbors=4, min_cluster_size=6))["min_cluster_size"] == 6


# ---------------------------------------------------------------------- seams and scale


def test_a_swapped_in_cluster_model_is_used_and_left_unfitted(corpus):
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import adjusted_rand_score

    kmeans, pca = KMeans(n_clusters=3, n_init=10, random_state=0), PCA(n_components=5, random_state=0)
    modeler = TopicModeler(TopicConfig(), corpus["embedder"], umap_model=pca, hdbscan_model=kmeans)
    modeler.fit(corpus["texts"], corpus["lemmas"], corpus["embeddings"])
    assert modeler.clustered_
    assert isinstance(modeler.model_.hdbscan_model, KMeans) and isinstance(modeler.model_.umap_model, PCA)
    assert sorted(set(modeler.topics_)) == [0, 1, 2]  # k-means: exactly k topics, no outliers
    assert adjusted_rand_score(GROUPS, modeler.topics_) >= 0.8
    # Parameters stay parameters: the given estimators are cloned, not fitted in place.
    assert not hasattr(kmeans, "cluster_centers_") and not hasattr(pca, "components_")
    assert modeler.hdbscan_model is kmeans


def test_a_swapped_in_vectorizer_gives_the_topic_words(corpus):
    from sklearn.feature_extraction.text import CountVectorizer

    # Words of the original texts (not lemmas) via the documents BERTopic sees: lemma strings
    # are the documents, so a vectorizer keeping only words of 7+ letters shows it is used.
    vectorizer = CountVectorizer(token_pattern=r"\S{7,}")
    modeler = TopicModeler(TopicConfig(), corpus["embedder"], vectorizer_model=vectorizer)
    modeler.fit(corpus["texts"], corpus["lemmas"], corpus["embeddings"])
    words = [word for cell in modeler.topic_info_["words"] for word in cell.split(", ") if word]
    assert words and all(len(word) >= 7 for word in words)


def test_the_topic_modeler_swaps_umap_hdbscan_and_representation_by_object(corpus):
    """``TopicModeler`` (what the run's stages build) takes BERTopic's sub-models as objects; each fit
    uses copies of them, with tematik's own representation given this fit's texts in its copy."""
    from bertopic.representation import KeyBERTInspired
    from hdbscan import HDBSCAN
    from umap import UMAP

    from pipeline.representation import ReadableWords

    umap_model = UMAP(n_neighbors=6, n_components=3, min_dist=0.0, metric="cosine", random_state=7)
    hdbscan_model = HDBSCAN(min_cluster_size=8, min_samples=2)
    words = ReadableWords(top_n_words=3)
    modeler = TopicModeler(
        TopicConfig(), corpus["embedder"], umap_model=umap_model, hdbscan_model=hdbscan_model,
        representation_model={"Main": words, "Navn": KeyBERTInspired(top_n_words=2)},
    )
    modeler.fit(corpus["texts"], corpus["lemmas"], corpus["embeddings"])
    fitted = modeler.model_
    assert (fitted.umap_model.n_neighbors, fitted.umap_model.n_components, fitted.umap_model.random_state) == (6, 3, 7)
    assert fitted.hdbscan_model.min_cluster_size == 8 and fitted.umap_model.embedding_.shape[1] == 3
    assert all(size >= 8 for size in modeler.topic_info_.query("topic >= 0")["size"])  # the given HDBSCAN's minimum
    names = {topic: [word for word, _ in values] for topic, values in fitted.topic_aspects_["Navn"].items()}
    for row in modeler.topic_info_.query("topic >= 0").itertuples():
        assert row.name == names[row.topic][0]  # KeyBERTInspired names the topics
        assert 1 <= len(row.words.split(", ")) <= 3  # ReadableWords' three words
    # The given objects are parameters: not fitted, not given texts.
    assert not hasattr(umap_model, "embedding_") and not hasattr(hdbscan_model, "labels_") and words.texts is None
    assert modeler.get_params()["umap_model"] is umap_model


def test_get_params_set_params_and_clone_follow_scikit_learn(corpus, fitted):
    from sklearn.base import clone
    from sklearn.decomposition import PCA

    config = TopicConfig(min_texts=8)
    modeler = TopicModeler(config, corpus["embedder"], umap_model=PCA(n_components=4))
    assert not [name for name in vars(modeler) if name.endswith("_")]  # nothing fitted in __init__
    assert modeler.get_params()["umap_model__n_components"] == 4  # sub-models' parameters, as in a Pipeline
    assert "PCA(n_components=4)" in repr(modeler)
    twin = clone(modeler)
    assert twin.get_params(deep=False).keys() == modeler.get_params(deep=False).keys()
    assert twin.config == config and twin.config is not config and twin.umap_model is not modeler.umap_model
    assert twin.embedder is corpus["embedder"]  # a service (loaded model, cache): shared, not copied
    twin.set_params(umap_model__n_components=3, config=TopicConfig(min_texts=8, top_n_words=4))
    twin.fit(corpus["texts"], corpus["lemmas"], corpus["embeddings"])
    assert twin.model_.umap_model.n_components == 3 and modeler.umap_model.n_components == 4
    assert max(len(words.split(", ")) for words in twin.topic_info_["words"]) <= 4
    refitted = clone(fitted)  # a fitted modeler's clone is unfitted and fits alike
    assert not hasattr(refitted, "model_")
    assert refitted.fit(corpus["texts"], corpus["lemmas"], corpus["embeddings"]).topics_.tolist() == fitted.topics_.tolist()


def test_above_max_fit_texts_a_sample_is_fitted_and_the_rest_voted_in(corpus):
    from sklearn.metrics import adjusted_rand_score

    full = TopicModeler(TopicConfig(), corpus["embedder"]).fit(corpus["texts"], corpus["lemmas"], corpus["embeddings"])
    sampled = TopicModeler(TopicConfig(max_fit_texts=36), corpus["embedder"]).fit(
        corpus["texts"], corpus["lemmas"], corpus["embeddings"]
    )
    assert sampled.parameters_["fit_texts"] == 36
    assert sampled.parameters_ != full.parameters_ and "fit_texts" not in full.parameters_
    assert (sampled.topics_ >= 0).all() and len(sampled.topics_) == len(TEXTS)
    assert sampled.topic_info_["size"].sum() == len(TEXTS)
    assert len(sampled.model_.topics_) == len(TEXTS)  # BERTopic's own state covers every text
    assert adjusted_rand_score(GROUPS, sampled.topics_) >= adjusted_rand_score(GROUPS, full.topics_) - 0.15


def test_exact_neighbours_match_a_full_similarity_matrix():
    from pipeline.clustering import exact_neighbours

    rng = np.random.default_rng(0)
    points = rng.normal(size=(300, 20)).astype(np.float32)
    indices, distances = exact_neighbours(points, points, 7)
    unit = points / np.linalg.norm(points, axis=1, keepdims=True)
    expected = np.argsort(-(unit @ unit.T), axis=1)[:, :7]
    np.testing.assert_array_equal(indices, expected)
    assert indices.dtype == np.int32 and distances.dtype == np.float32
    np.testing.assert_allclose(distances[:, 0], 0.0, atol=1e-5)
    np.testing.assert_allclose(distances, 1 - np.take_along_axis(unit @ unit.T, expected, axis=1), atol=1e-5)


def test_texts_without_content_words_are_not_clustered(caplog):
    texts = [f"{letter}{'!' * repeat}" for letter in "abcdefghij" for repeat in range(1, 4)]
    lsa = make_embedder(EmbeddingConfig(backend="lsa"))
    with caplog.at_level(logging.WARNING, logger="pipeline.topics"):
        model = TopicModeler(TopicConfig(), lsa).fit(texts, [""] * len(texts), lsa.embed(texts))
    assert not model.clustered_ and (model.topics_ == -1).all()
    assert "no text has a content word" in caplog.text


def test_topic_fit_imports_no_torch_and_compiles_nothing_the_second_time(tmp_path):
    """Two fresh processes fitting a small corpus with the lsa embedder: neither imports torch,
    and the second loads every numba function of umap/pynndescent from tematik's cache."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from numba.core import event\n"
        "compiles = []\n"
        "class Count(event.Listener):\n"
        "    def on_start(self, e): pass\n"
        "    def on_end(self, e): compiles.append(1)\n"
        "event.register('numba:compile', Count())\n"
        "from pipeline.config import EmbeddingConfig, TopicConfig\n"
        "from pipeline.embeddings import make_embedder\n"
        "from pipeline.topics import TopicModeler\n"
        "from tests.test_topics import TEXTS\n"
        "lsa = make_embedder(EmbeddingConfig(backend='lsa'))\n"
        "model = TopicModeler(TopicConfig(), lsa).fit(TEXTS, [t.lower() for t in TEXTS], lsa.embed(TEXTS))\n"
        "assert model.clustered_\n"
        "print(len(compiles), 'torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    env = {**__import__("os").environ, "TEMATIK_CACHE": str(tmp_path)}
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=Path(__file__).parents[1])
        for _ in range(2)
    ]
    first, second = (run.stdout.split() for run in runs)
    assert all(run.returncode == 0 for run in runs), runs[0].stderr[-2000:]
    assert int(first[0]) > 0 and int(second[0]) == 0
    assert first[1:] == second[1:] == ["False", "False"]
    assert any((tmp_path / "numba").iterdir())


def test_topic_words_of_a_subset_count_the_subset_as_a_fresh_model_would():
    """BERTopic's hierarchy asks ReadableWords for each merge's words with a subset of the fitted
    documents; the corpus's lemma matrix kept from the full call gives the same words as reading
    the subset anew, and a subset whose documents differ at the same ids is read anew."""
    import pandas as pd

    from pipeline.representation import ReadableWords

    docs = ["vækst eksport marked", "vækst eksport", "marked robot", "robot automatisering", "automatisering data",
            "data"]  # fmt: skip
    corpus = pd.DataFrame({"Document": docs, "ID": range(6), "Topic": [0, 0, 0, 1, 1, 1]})
    words = ReadableWords(top_n_words=5)
    full = words.extract_topics(None, corpus, None, {0: [("vækst", 1.0), ("marked", 0.5)], 1: [("robot", 1.0), ("data", 0.4)]})
    assert full == {0: [("vækst", 1.0), ("marked", 0.5)], 1: [("robot", 1.0), ("data", 0.4)]}  # each in two texts

    merge = {0: [("vækst", 1.0), ("marked", 0.6), ("robot", 0.3)]}
    subset = corpus.iloc[[0, 1, 2]].assign(Topic=0)  # "robot" is in one of these texts: dropped
    assert words.extract_topics(None, subset, None, merge) == ReadableWords(top_n_words=5).extract_topics(None, subset, None, merge)
    assert [word for word, _ in words.extract_topics(None, subset, None, merge)[0]] == ["vækst", "marked"]
    changed = subset.assign(Document=["vækst eksport marked", "vækst robot", "marked robot"])  # other texts, same ids
    assert [word for word, _ in words.extract_topics(None, changed, None, merge)[0]] == ["vækst", "marked", "robot"]
