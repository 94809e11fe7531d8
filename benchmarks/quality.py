"""Theme-mapping and topic quality on labelled texts; prints its figures (not a test).

    python benchmarks/quality.py --labels benchmarks/data/deb-dev.csv --taxonomy deb-2020-2023
    python benchmarks/quality.py --labels benchmarks/data/sydkyst-2024.csv --taxonomy benchmarks/data/sydkyst-2024.yaml
    python benchmarks/quality.py --labels benchmarks/data/demo-gold.csv --note corpora/demo/opsamlingsnotat.docx
    python benchmarks/quality.py --labels benchmarks/data/menti-deb.csv --taxonomy deb-2020-2023
    python benchmarks/quality.py --labels benchmarks/data/menti-nordjylland.csv --taxonomy nordjylland-2023
    python benchmarks/quality.py --shared-note            # the real North Jutland note, if present (measure only)

``--labels`` is a CSV with ``text,theme`` (theme = a taxonomy id or ``andet``) and an
optional ``section`` column (a note's section heading), used as context. ``--note``
reads a summary note with tematik's ingestion and keeps its passages that have a label
(matched on whitespace-normalised text), with their section headings as context.

The texts run through the real stages (lemmas, embeddings, BERTopic topics, theme
mapping). Printed: an ablation table (each signal alone, then combined; with and
without topic/section context) with macro-F1 of text -> theme (``andet`` is a class
when the labels use it), accuracy, the share error ½·Σ|predicted share − labelled share|
over the themes and andet (and its largest term), andet precision and recall, and - with
a mapper that flags them - the share of texts marked ``confident`` (quotable as examples
of their theme) and their accuracy; per-theme F1 and share error for the full method;
and the topic model's NMI with the labels, NPMI coherence and diversity of top words.
``--json FILE`` appends the rows to FILE (one JSON object per line) for before/after tables.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, normalized_mutual_info_score

from pipeline.config import EmbeddingConfig, RunConfig, ThemeConfig, WeightConfig
from pipeline.errors import InputError
from pipeline.ingest import read_inputs
from pipeline.prevalence import MappingCorrection, em_adjusted
from pipeline.schema import ANDET
from pipeline.stages import LocalStages
from pipeline.taxonomy import Taxonomy, load_taxonomy
from pipeline.themes import ThemeMapper
from pipeline.validation import draw_sample, recommended_sample_size
from pipeline.weighting import theme_frequencies

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "nordjylland-2023"
# What production runs: topics always, sections when there are notes.
FULL_METHODS = ("+ topics", "full (self-training, topics, sections)")

# name -> (ThemeConfig overrides, use topics, use sections). Each signal alone, then combined.
ABLATIONS: dict[str, tuple[dict, bool, bool]] = {
    "keywords only": ({"embedding_weight": 0.0, "self_training_weight": 0.0}, False, False),
    "embedding only": ({"keyword_weight": 0.0, "self_training_weight": 0.0}, False, False),
    "keywords + embedding": ({"self_training_weight": 0.0}, False, False),
    "+ self-training": ({}, False, False),
    "+ topics": ({}, True, False),
    "+ sections (no topics)": ({}, False, True),
    "full (self-training, topics, sections)": ({}, True, True),
}


def normalise_space(text: object) -> str:
    return " ".join(str(text).split())


def load_labels(labels: Path, note: Path | None = None) -> pd.DataFrame:
    """Labelled texts: ``text``, ``theme`` and, when known, ``section``."""
    frame = pd.read_csv(labels, dtype=str, keep_default_na=False)
    missing = {"text", "theme"} - set(frame.columns)
    if missing:
        raise InputError(labels, f"labels need columns text,theme (missing: {', '.join(sorted(missing))})")
    frame["text"] = frame["text"].map(normalise_space)
    frame["theme"] = frame["theme"].str.strip()
    frame = frame[frame["text"] != ""].drop_duplicates("text")
    if note is None:
        return frame.reset_index(drop=True)
    passages = read_inputs([note]).texts
    # The full heading path when ingestion gives it ("2 Temaer > 2.1 Tema 1: ... > Udfordringer"):
    # it names the theme session whatever heading level the note uses for it.
    section = passages["section_path"] if "section_path" in passages.columns else passages["question"]
    passages = pd.DataFrame({"text": passages["text"].map(normalise_space), "section": section.astype(str)})
    joined = passages.merge(frame[["text", "theme"]], on="text", how="inner").drop_duplicates("text")
    print(f"{note.name}: {len(passages)} passages, {len(joined)} with a label ({len(frame)} labels)")
    return joined.reset_index(drop=True)


@dataclass
class Prepared:
    texts: list[str]
    lemmas: list[str]
    embeddings: np.ndarray
    topics: np.ndarray
    topic_words: list[list[str]]
    sections: list[str] | None


def prepare(frame: pd.DataFrame, stages: LocalStages, use_topics: bool) -> Prepared:
    texts = frame["text"].tolist()
    lemmas = [" ".join(tokens) for tokens in stages.analyzer.lemmatise(texts)]
    embeddings = stages.embedder.embed(texts)
    topics, topic_words = np.full(len(texts), -1), []
    if use_topics:
        modeler = stages.fit_topics(pd.DataFrame({"text": texts, "lemmas": lemmas}), embeddings)  # as production
        topics = np.asarray(modeler.topics_)
        info = modeler.topic_info_[modeler.topic_info_["topic"] >= 0]
        topic_words = [str(words).split(", ") for words in info["words"]]
    sections = frame["section"].tolist() if "section" in frame.columns else None
    return Prepared(texts, lemmas, embeddings, topics, topic_words, sections)


def map_themes(
    prepared: Prepared, taxonomy: Taxonomy, stages: LocalStages, themes: ThemeConfig, topics: bool, sections: bool
) -> ThemeMapper:
    """ThemeMapper built by the production assembly (:class:`pipeline.stages.LocalStages`), with ``themes`` for ablations."""
    ablation = stages.for_config(stages.config.model_copy(update={"themes": themes}))  # same analyzer and embedder
    return ablation.new_theme_mapper(taxonomy).fit(
        prepared.lemmas,
        prepared.embeddings,
        prepared.topics if topics else None,
        None,
        prepared.sections if sections else None,
    )


def shares(themes: pd.Series, classes: list[str]) -> pd.Series:
    return themes.value_counts(normalize=True).reindex(classes, fill_value=0.0)


def scores(gold: pd.Series, predicted: pd.Series, classes: list[str]) -> dict[str, float]:
    """Macro-F1 (``andet`` is a class when the labels use it), accuracy, share error and andet P/R.

    ``share_error`` is ½·Σ|predicted share − gold share| over the themes and ``andet``: the
    share of texts that would have to move class for the predicted shares to equal the gold
    ones (0 = same shares, 1 = disjoint). ``andet`` precision/recall: of the texts called
    andet, how many are; of the andet texts, how many are called so (nan without any).
    """
    labels = sorted(set(gold))
    share_error = (shares(predicted, classes) - shares(gold, classes)).abs()
    gold_andet, predicted_andet = gold.to_numpy() == ANDET, predicted.to_numpy() == ANDET
    both = float((gold_andet & predicted_andet).sum())
    return {
        "macro_f1": f1_score(gold, predicted, labels=labels, average="macro", zero_division=0),
        "accuracy": float((gold.to_numpy() == predicted.to_numpy()).mean()),
        "share_error": float(share_error.sum() / 2),
        "share_err_max": float(share_error.max()),
        "andet_p": both / predicted_andet.sum() if predicted_andet.any() else float("nan"),
        "andet_r": both / gold_andet.sum() if gold_andet.any() else float("nan"),
    }


def estimator_errors(gold: pd.Series, text_themes: pd.DataFrame, classes: list[str], sample: int = 50,
                     repeats: int = 20) -> dict[str, float]:
    """Headline share error of each share estimator (pipeline/prevalence.py) against the gold shares.

    ``cc`` counts the decided themes (the ``share_error`` column), ``pcc`` averages the soft
    memberships, ``em`` re-weights them to the corpus's priors (Saerens et al. 2002).
    ``val<sample>``: classify-and-count corrected by a validation sample of ``sample``
    texts drawn as ``tematik validate`` draws them, answered with the gold labels; the
    median and the 90th percentile over ``repeats`` seeds; ``valrec``: the same with the sample
    size ``tematik validate`` recommends for the taxonomy (:func:`recommended_sample_size`).
    """
    truth = shares(gold, classes).to_numpy()
    soft = text_themes[[f"p_{c}" for c in classes]].to_numpy(dtype=float)
    decided = text_themes["theme"].astype(str)
    taxonomy_ids = [c for c in classes if c != ANDET]
    errors = {"share_err_pcc": float(np.abs(soft.mean(axis=0) - truth).sum() / 2),
              "share_err_em": float(np.abs(em_adjusted(soft).mean(axis=0) - truth).sum() / 2)}  # fmt: skip
    table = pd.DataFrame({"text_id": [str(i) for i in range(len(gold))], "theme": decided.to_numpy(),
                          "gold": gold.to_numpy(), "weight": 1.0, "source_kind": "mentimeter"})  # fmt: skip
    for size, name in ((sample, f"val{sample}"), (recommended_sample_size(len(taxonomy_ids)), "valrec")):
        validated = []
        for seed in range(repeats):
            checked = draw_sample(table, size, random_state=seed)
            correction = MappingCorrection(tuple(classes), tuple(checked["theme"]), tuple(checked["gold"]),
                                           text_ids=tuple(checked["text_id"]))  # fmt: skip
            estimate = theme_frequencies(table, taxonomy_ids, WeightConfig(n_bootstrap=0), correction=correction)
            validated.append(float(np.abs(estimate["share"].to_numpy() - truth).sum() / 2))
        errors[f"share_err_{name}"] = float(np.median(validated))
        errors[f"share_err_{name}_p90"] = float(np.quantile(validated, 0.9))
    return errors


def per_theme(gold: pd.Series, predicted: pd.Series, classes: list[str]) -> pd.DataFrame:
    present = [c for c in classes if c in set(gold) or c in set(predicted)]
    f1 = f1_score(gold, predicted, labels=present, average=None, zero_division=0)
    table = pd.DataFrame({"theme": present, "n_gold": gold.value_counts().reindex(present, fill_value=0).to_numpy()})
    table["n_pred"] = predicted.value_counts().reindex(present, fill_value=0).to_numpy()
    table["f1"] = f1
    table["share_err"] = (shares(predicted, present) - shares(gold, present)).abs().to_numpy()
    return table


def npmi_coherence(topic_words: list[list[str]], documents: list[str], top_n: int = 10) -> float:
    """Mean NPMI of the pairs of each topic's top words, from co-occurrence in the lemma documents."""
    if not topic_words:
        return float("nan")
    sets = [set(document.split()) for document in documents]
    n = len(sets)

    def probability(*words: str) -> float:
        return sum(all(word in document for word in words) for document in sets) / n

    values = []
    for words in topic_words:
        for a, b in itertools.combinations(words[:top_n], 2):
            joint = probability(a, b)
            if joint == 0:
                values.append(-1.0)
            elif joint == 1:
                values.append(1.0)
            else:
                values.append(np.log(joint / (probability(a) * probability(b))) / -np.log(joint))
    return float(np.mean(values)) if values else float("nan")


def topic_diversity(topic_words: list[list[str]], top_n: int = 10) -> float:
    """Share of distinct words among all topics' top words (1 = no word shared by two topics)."""
    words = [word for topic in topic_words for word in topic[:top_n]]
    return len(set(words)) / len(words) if words else float("nan")


def run(
    frame: pd.DataFrame, taxonomy: Taxonomy, backend: str, use_topics: bool, title: str, full_only: bool = False
) -> pd.DataFrame:
    # The stages as production builds them (pipeline/stages.py): one analyzer and embedder for
    # every ablation, the ThemeMapper called as production calls it.
    stages = LocalStages(RunConfig(embeddings=EmbeddingConfig(backend=backend)))
    analyzer, embedder = stages.analyzer, stages.embedder
    unknown = sorted(set(frame["theme"]) - set(taxonomy.ids) - {ANDET})
    if unknown:
        raise InputError(None, f"labels use themes not in taxonomy '{taxonomy.name}': {', '.join(unknown)}")
    prepared = prepare(frame, stages, use_topics)
    gold = frame["theme"].reset_index(drop=True)
    classes = taxonomy.ids + [ANDET]
    has_sections = prepared.sections is not None

    print(f"\n== {title}: {len(frame)} texts, taxonomy '{taxonomy.name}' {taxonomy.version}, embedder {embedder.name}, "
          f"lemmas: {analyzer.backend}")
    print("gold shares: " + ", ".join(f"{k} {v:.2f}" for k, v in shares(gold, classes).items() if v > 0))
    rows, results = [], {}
    for name, (overrides, topics, sections) in ABLATIONS.items():
        if (topics and not use_topics) or (sections and not has_sections):
            continue
        if full_only and name not in FULL_METHODS:
            continue
        mapper = map_themes(prepared, taxonomy, stages, ThemeConfig(**overrides), topics, sections)
        predicted = mapper.text_themes_["theme"]
        row = {"method": name, **scores(gold, predicted, classes), **estimator_errors(gold, mapper.text_themes_, classes)}
        if "confident" in mapper.text_themes_.columns:
            # Texts that may be quoted as examples of their theme: how many, and how many rightly.
            confident = mapper.text_themes_["confident"].to_numpy(bool)
            row["confident_share"] = float(confident.mean())
            row["confident_acc"] = float((gold.to_numpy() == predicted.to_numpy())[confident].mean()) if confident.any() else float("nan")
        rows.append(row)
        results[name] = (predicted, mapper, sections)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    # Per theme for the last method without section context and, when there are sections, the full one.
    without = [name for name, (_, _, sections) in results.items() if not sections][-1]
    for name in dict.fromkeys([without, list(results)[-1]]):
        predicted, mapper, _ = results[name]
        print(f"\nper theme ({name}):")
        print(per_theme(gold, predicted, classes).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if use_topics:
        n_topics = len(set(prepared.topics.tolist()) - {-1})
        print(
            f"\ntopics: {n_topics} (+{(prepared.topics == -1).sum()} outlier texts), "
            f"NMI with labels {normalized_mutual_info_score(gold, prepared.topics):.3f}, "
            f"NPMI coherence {npmi_coherence(prepared.topic_words, prepared.lemmas):.3f}, "
            f"diversity {topic_diversity(prepared.topic_words):.3f}, "
            f"mixed topics {int(mapper.topic_themes_['mixed'].sum())}"
        )
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=Path, help="CSV with text,theme[,section]")
    parser.add_argument("--taxonomy", default=None, help="shipped taxonomy name or YAML path (default: deb-2020-2023)")
    parser.add_argument("--note", type=Path, help="summary note whose labelled passages are evaluated with their sections")
    parser.add_argument("--shared-note", action="store_true", help=f"the labelled note in {SHARED} (nordjylland-2023)")
    parser.add_argument("--embedder", default="e5", help="embedding backend: e5 | lsa | sentence-transformers:<path>")
    parser.add_argument("--no-topics", action="store_true", help="skip BERTopic (no topic context)")
    parser.add_argument("--full-only", action="store_true", help="only the production method, no ablations")
    parser.add_argument("--json", type=Path, help="append this set's figures (one JSON object per line) to this file")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")

    if args.shared_note:
        if not SHARED.is_dir():
            sys.exit(f"{SHARED} is not present")
        args.labels = args.labels or SHARED / "note-passage-themes.csv"
        args.note = args.note or SHARED / "opsamlingsnotat.docx"
        args.taxonomy = args.taxonomy or "nordjylland-2023"
    if args.labels is None:
        parser.error("give --labels FILE.csv or --shared-note")
    try:
        taxonomy = load_taxonomy(args.taxonomy or "deb-2020-2023")
        frame = load_labels(args.labels, args.note)
        title = args.note.name if args.note else args.labels.name
        table = run(frame, taxonomy, args.embedder, not args.no_topics, title, args.full_only)
        if args.json:
            with args.json.open("a", encoding="utf-8") as out:
                for row in table.to_dict("records"):
                    out.write(json.dumps({"set": title, "n": len(frame), **row}) + "\n")
    except InputError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
