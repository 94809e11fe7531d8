"""Speed of each stage at several corpus sizes; prints its figures (not a test).

    python benchmarks/speed.py [--sizes 300 3000] [--embedder e5]

Corpora larger than the demo are made by recombining the demo's answers into new,
distinct texts (so deduplication does not shrink them). Embeddings are computed with
the cache off, so the figures are cold-start speeds.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline.config import EmbeddingConfig, LanguageConfig, RunConfig, ThemeConfig, TopicConfig
from pipeline.embeddings import make_embedder
from pipeline.ingest import read_inputs
from pipeline.language import TextAnalyzer
from pipeline.taxonomy import load_taxonomy
from pipeline.themes import ThemeMapper
from pipeline.topics import TopicModeler

DEMO = Path(__file__).resolve().parents[1] / "corpora" / "demo"


def synthetic_corpus(seed_texts: list[str], size: int, seed: int = 0) -> list[str]:
    """``size`` distinct texts, each two demo sentences' halves glued together."""
    rng = random.Random(seed)
    words = [text.split() for text in seed_texts if len(text.split()) >= 4]
    texts: set[str] = set(seed_texts[:size])
    while len(texts) < size:
        a, b = rng.sample(words, 2)
        texts.add(" ".join(a[: len(a) // 2 + 1] + b[len(b) // 2 :]))
    return sorted(texts)[:size]


def timed(label: str, n: int, function):
    start = time.perf_counter()
    value = function()
    seconds = time.perf_counter() - start
    print(f"  {label:<28} {seconds:8.2f} s   {n / seconds:10.0f} texts/s")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--embedder", default="e5")
    args = parser.parse_args()

    seed_texts = read_inputs([DEMO]).texts["text"].tolist()
    analyzer = TextAnalyzer(LanguageConfig())
    taxonomy = load_taxonomy("deb-2020-2023")
    print(f"language backend: {analyzer.backend}; embedder: {args.embedder}")
    with tempfile.TemporaryDirectory() as cache:
        embedder = make_embedder(EmbeddingConfig(backend=args.embedder, cache_dir=Path(cache)))
        for size in args.sizes:
            texts = synthetic_corpus(seed_texts, size)
            print(f"\n{size} texts")
            lemmas = timed("lemmatise", size, lambda: [" ".join(t) for t in analyzer.lemmatise(texts)])
            vectors = timed("embed (cold)", size, lambda: embedder.embed(texts))
            timed("embed (cached)", size, lambda: embedder.embed(texts))
            modeler = timed("BERTopic fit", size, lambda: TopicModeler(TopicConfig(), embedder).fit(texts, lemmas, vectors))
            n_topics = int((modeler.topic_info_["topic"] >= 0).sum())
            print(f"  -> {n_topics} topics, {int(np.sum(modeler.topics_ < 0))} outliers")
            timed(
                "theme mapping",
                size,
                lambda: ThemeMapper(taxonomy, embedder, ThemeConfig()).fit(
                    lemmas, vectors, modeler.topics_, np.ones(size)
                ),
            )
    print(f"\nconfig: {RunConfig().topics.model_dump()}")


if __name__ == "__main__":
    main()
