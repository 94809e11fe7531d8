"""Speed of tematik, end to end and stage by stage; prints its figures (not a test).

    python benchmarks/speed.py                      # cold, stages, imports, scale 1000 10000
    python benchmarks/speed.py cold                 # `tematik run corpora/demo`, 1st and 2nd fresh process
    python benchmarks/speed.py cold --after-install # the same after the install's one-time warm-up
    python benchmarks/speed.py cold --after-install --runs 5   # and the median of 5 later processes
    python benchmarks/speed.py stages               # per-stage seconds of the demo in one process
    python benchmarks/speed.py imports              # which heavy modules each command imports
    python benchmarks/speed.py scale --sizes 1000 10000 100000 --embedder lsa

``scale`` builds a corpus of distinct short answers with known groups by gluing
thirds of answers of the same theme in ``benchmarks/data/deb-dev.csv`` (not ``andet``),
runs the whole assembly (``pipeline.run.run_workshop``: ingest ... exports and the saved
model) in a fresh process per size, reports wall time, each stage, peak memory
(``ru_maxrss``) and the agreement of the topics with the groups (ARI, NMI), then fits
bare BERTopic (its defaults, UMAP seeded like tematik's; pynndescent compiled beforehand,
so its figure is warm) on the same vectors and lemmas in the same process, so
tematik's cost is a ratio to the bare fit. Run 100,000 once: it takes minutes.

The cold runs use a fresh ``TEMATIK_CACHE`` (numba and embedding caches) and Prefect home
(its database and the flow's task cache): the first process compiles umap/pynndescent
(not after the install's warm-up, which does it), embeds the workshop's texts with e5 and
loads lingua's models to detect their languages; the later ones find all of it on disk.
A later process on an idle 2-core machine is the figure of issue 21's goal (8 s); on a
shared machine compare A/B in alternation and quote medians with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "corpora" / "demo"
LABELLED = ROOT / "benchmarks" / "data" / "deb-dev.csv"
TEMATIK = ROOT / ".venv" / "bin" / "tematik"
PYTHON = sys.executable


# --------------------------------------------------------------------------- corpora


def grouped_corpus(size: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``size`` distinct answers and their group: thirds of three same-theme answers glued."""
    import pandas as pd

    labelled = pd.read_csv(LABELLED)
    labelled = labelled[labelled["theme"] != "andet"]
    by_theme = {theme: [text.split() for text in group["text"]] for theme, group in labelled.groupby("theme")}
    themes = sorted(by_theme)
    rng = random.Random(seed)
    seen: dict[str, str] = {}
    while len(seen) < size:
        theme = rng.choice(themes)
        a, b, c = (rng.choice(by_theme[theme]) for _ in range(3))
        cut_a, cut_c = rng.randint(1, max(1, len(a) // 2)), rng.randint(len(c) // 2, len(c))
        text = " ".join(a[:cut_a] + b[len(b) // 3 : 2 * len(b) // 3 + 1] + c[cut_c:])
        seen.setdefault(text, theme)
    texts = list(seen)
    return texts, [seen[text] for text in texts]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- cold processes


def cold(args) -> None:
    after_install = " after the install's warm-up" if args.after_install else ""
    print(f"\n== `tematik run corpora/demo`, fresh processes, fresh TEMATIK_CACHE and Prefect home{after_install} ==")
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "TEMATIK_CACHE": str(Path(folder) / "cache"), "PREFECT_HOME": str(Path(folder) / "prefect")}
        if args.after_install:  # what `make install` does once per machine after pip (Makefile)
            start = time.perf_counter()
            for step in (
                "from pipeline.run import warm_up_caches; warm_up_caches()",
                "from flows.server import prefect_api; exec('with prefect_api() as api: api.wait()')",
            ):
                subprocess.run([PYTHON, "-c", step], env=env, cwd=ROOT, check=True, capture_output=True)
            print(f"  install warm-up: {time.perf_counter() - start:6.1f} s wall")
        later, later_cpu = [], []
        for attempt in ["first", *(["later"] * args.runs)]:
            start, cpu = time.perf_counter(), _children_cpu()
            done = subprocess.run(
                [str(TEMATIK), "run", str(DEMO), "--out", f"{folder}/out", "--models", f"{folder}/models"],
                env=env, capture_output=True, text=True,
            )
            seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
            status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}"
            print(f"  {attempt} process: {seconds:6.1f} s wall, {cpu:6.1f} s CPU ({status}); load average {os.getloadavg()[0]:.1f}")
            if attempt == "first":
                first, first_cpu = seconds, cpu
            else:
                later.append(seconds)
                later_cpu.append(cpu)
        median, median_cpu = statistics.median(later), statistics.median(later_cpu)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"  later processes: median {median:.1f} s wall, {median_cpu:.1f} s CPU; first / later "
              f"{first / median:.2f}x wall, {first_cpu / median_cpu:.2f}x CPU; "
              f"peak memory of the largest process {peak:.0f} MB")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------- stages in one process


def stages(args) -> None:
    print("\n== demo workshop, stage by stage in one process (caches as left by `cold`, or warm) ==")
    subprocess.run([PYTHON, __file__, "_stages"], check=False)


def _stages() -> None:
    start = time.perf_counter()
    import pipeline.run as run
    from pipeline.config import RunConfig
    from pipeline.numba_cache import import_bertopic

    base = time.perf_counter() - start
    started = time.perf_counter()
    import_bertopic()
    bertopic_seconds = time.perf_counter() - started
    config = RunConfig()
    stages = run.LocalStages(config)  # both runs reuse its built parts
    started = time.perf_counter()
    stages.analyzer
    spacy_seconds = time.perf_counter() - started
    started = time.perf_counter()
    stages.embedder
    model_seconds = time.perf_counter() - started
    rows = [("imports: pipeline.run", base), ("imports: bertopic (+umap, hdbscan)", bertopic_seconds),
            ("spaCy load", spacy_seconds), ("embedding model load", model_seconds)]
    with tempfile.TemporaryDirectory() as folder:
        first, _, _ = run.run_workshop([DEMO], config, out=Path(folder) / "out", models=Path(folder) / "models", stages=stages)
        second, _, _ = run.run_workshop([DEMO], config, out=Path(folder) / "out", models=Path(folder) / "models", stages=stages)
    one, two = first.facts["timings_seconds"], second.facts["timings_seconds"]
    rows.append(("topic fit, first in process", one.get("topics", 0.0)))
    rows.append(("topic fit, second in process", two.get("topics", 0.0)))
    for stage, seconds in one.items():
        if stage != "topics":
            rows.append((f"{stage} (first run)", seconds))
    own = sum(seconds for stage, seconds in two.items() if stage != "topics")
    rows.append(("tematik's own stages, second run (all but the topic fit)", own))
    for label, seconds in rows:
        print(f"  {label:<58} {seconds:7.2f} s")
    print(f"  total in process: {time.perf_counter() - start:.1f} s; peak RSS {peak_mb():.0f} MB")


# --------------------------------------------------------------------------- imports


COMMANDS = {
    "tematik --help": "import sys; sys.argv=['tematik','--help']\nfrom flows.cli import app\ntry: app()\nexcept SystemExit: pass",
    "tematik taxonomies": "import sys; sys.argv=['tematik','taxonomies']\nfrom flows.cli import app\ntry: app()\nexcept SystemExit: pass",
    "language stage (e5 run)": "from pipeline.stages import LocalStages; from pipeline.config import RunConfig; LocalStages(RunConfig()).analyzer",
    "topic fit imports": "from pipeline.numba_cache import import_bertopic; import_bertopic()",
}
HEAVY = ("torch", "transformers", "sentence_transformers", "bertopic", "umap", "spacy", "lingua", "matplotlib", "plotly",
         "docx", "openpyxl", "prefect", "prefect.server.api")


def imports(args) -> None:
    print("\n== heavy modules imported (python -X importtime; cumulative seconds) ==")
    for label, code in COMMANDS.items():
        code += f"\nimport sys; print('IMPORTED', *[m for m in {HEAVY!r} if m in sys.modules])"
        done = subprocess.run([PYTHON, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=ROOT)
        imported = next((line.split()[1:] for line in done.stdout.splitlines() if line.startswith("IMPORTED")), ["?"])
        cumulative = {}
        for line in done.stderr.splitlines():
            parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
            if len(parts) == 3 and parts[1].isdigit() and parts[2] in imported:
                cumulative[parts[2]] = int(parts[1]) / 1e6
        top_level = [line.split("|") for line in done.stderr.splitlines() if line.startswith("import time:") and "|" in line]
        total = sum(int(p[1]) for p in top_level if p[1].strip().isdigit() and not p[2].startswith("  ")) / 1e6
        found = ", ".join(f"{name} {cumulative.get(name, 0):.1f}" for name in imported) or "none"
        print(f"  {label:<26} imports {total:5.1f} s; heavy modules loaded: {found}")


# --------------------------------------------------------------------------- scale


def scale(args) -> None:
    print(f"\n== scale, --embedder {args.embedder}: whole assembly in a fresh process per size ==")
    header = ("texts", "wall (CPU incl. children)", "peak MB (this process)", "language", "embed", "topics", "themes",
              "report+export", "own/bare", "bare fit", "ARI/NMI tematik", "ARI/NMI bare", "topics")
    print("  " + " | ".join(header))
    for size in args.sizes:
        done = subprocess.run([PYTHON, __file__, "_scale", str(size), args.embedder], capture_output=True, text=True)
        if done.returncode:
            print(f"  {size}: failed: {done.stderr.strip()[-800:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        t = r["timings"]
        own = r["wall"] - t.get("topics", 0.0)
        print("  " + " | ".join([
            f"{size:,}", f"{r['wall']:.1f} s ({r['cpu']:.0f} s)",
            f"{r['peak_mb']:.0f}",
            f"{t.get('language', 0):.1f}",
            f"{t.get('embeddings', 0):.1f}", f"{t.get('topics', 0):.1f}", f"{t.get('themes', 0):.1f}",
            f"{t.get('report', 0) + t.get('export', 0) + t.get('saved_run', 0):.1f}",
            f"{own / r['bare_seconds']:.0%}" if r.get("bare_seconds") else "-",
            f"{r.get('bare_seconds', 0):.1f} s", f"{r['ari']:.2f}/{r['nmi']:.2f}",
            f"{r.get('bare_ari', 0):.2f}/{r.get('bare_nmi', 0):.2f}", f"{r['n_topics']} vs {r.get('bare_topics', '-')}",
        ]))
        print(f"    stages: {json.dumps(t)}; fit parameters {r['parameters']}; peak after bare fit "
              f"{r['peak_after_bare_mb']:.0f} MB; load average {r['load']:.1f}")


def _scale(size: int, embedder: str) -> None:
    start = time.perf_counter()
    import numpy as np
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    import pipeline.run as run
    from pipeline.config import RunConfig, RunOverrides

    imported = time.perf_counter()
    texts, groups = grouped_corpus(size)
    config = RunOverrides(embedder=embedder).apply(RunConfig())
    result: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "svar.csv"
        pd.DataFrame({"svar": texts}).to_csv(path, index=False)
        started = time.perf_counter()
        analysis, _, _ = run.run_workshop([path], config, out=Path(folder) / "out", models=Path(folder) / "models")
        # The imports count, building the benchmark's own corpus does not.
        result["wall"] = time.perf_counter() - started + (imported - start)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # With the child processes' CPU (language detection, the assignments CSV: pipeline.processes).
    result["cpu"] = usage.ru_utime + usage.ru_stime + _children_cpu()
    result["load"] = os.getloadavg()[0]
    result["timings"] = analysis.facts["timings_seconds"]
    result["peak_mb"] = peak_mb()
    result["parameters"] = analysis.facts.get("topic_parameters", {})
    group_of = dict(zip(texts, groups))
    truth = [group_of[text] for text in analysis.texts["text"]]
    topics = analysis.texts["topic"].to_numpy()
    result["ari"] = adjusted_rand_score(truth, topics)
    result["nmi"] = normalized_mutual_info_score(truth, topics)
    result["n_topics"] = int(len(set(topics.tolist()) - {-1}))

    # Bare BERTopic on the same vectors and lemma documents.
    from sklearn.feature_extraction.text import CountVectorizer

    from pipeline.numba_cache import import_bertopic
    from pipeline.clustering import UMAP_EXACT_LIMIT

    BERTopic = import_bertopic()
    from umap import UMAP

    vectors = np.asarray(analysis.embeddings, dtype=np.float32)
    docs = [lemmas or "emptydoc" for lemmas in analysis.texts["lemmas"]]
    if len(vectors) >= UMAP_EXACT_LIMIT:  # compile pynndescent's nn_descent outside the timing
        UMAP(random_state=42).fit(np.random.default_rng(0).normal(size=(UMAP_EXACT_LIMIT + 10, 8)).astype(np.float32))
    started = time.perf_counter()
    bare = BERTopic(
        umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42),
        vectorizer_model=CountVectorizer(token_pattern=r"\S+", lowercase=False),
        calculate_probabilities=False,
    )
    bare_topics = np.asarray(bare.fit_transform(docs, embeddings=vectors)[0])
    result["bare_seconds"] = time.perf_counter() - started
    result["bare_ari"] = adjusted_rand_score(truth, bare_topics)
    result["bare_nmi"] = normalized_mutual_info_score(truth, bare_topics)
    result["bare_topics"] = int(len(set(bare_topics.tolist()) - {-1}))
    result["peak_after_bare_mb"] = peak_mb()
    print(json.dumps(result))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_stages":
        return _stages()
    if len(sys.argv) > 1 and sys.argv[1] == "_scale":
        return _scale(int(sys.argv[2]), sys.argv[3])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", nargs="?", choices=["all", "cold", "stages", "imports", "scale"], default="all")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--embedder", default="lsa")
    parser.add_argument("--after-install", action="store_true", help="cold: run the install's warm-up first")
    parser.add_argument("--runs", type=int, default=1, help="cold: later processes after the first (median)")
    args = parser.parse_args()
    parts = {"cold": cold, "stages": stages, "imports": imports, "scale": scale}
    for name, part in parts.items():
        if args.part in ("all", name):
            part(args)


if __name__ == "__main__":
    main()
