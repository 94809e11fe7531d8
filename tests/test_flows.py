"""The Prefect flows run for real, under a temporary Prefect server, on the demo workshop."""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest
from conftest import DEMO
from prefect.client.orchestration import get_client

from flows.series import series_flow
from flows.workshop import workshop_flow
from pipeline.report import ANDET_LABEL
from pipeline.saved_run import load_run, save_edits
from pipeline.views import assignments, topic_table

pytestmark = pytest.mark.slow

EXPORTS = {
    "assignments.csv",
    "theme_frequencies.csv",
    "theme_frequencies.xlsx",
    "topics.csv",
    "quotes.xlsx",
    "quotes.docx",
    "quotes.csv",
    "quotes.md",
    "theme_shares.png",
    "manifest.json",
    "report.html",
    "emerging_topics.md",
    "data",
}


def _artifacts(flow_run_id) -> dict[str, dict]:
    """The flow run's artifacts by key, read through the REST API (the 3.8 client's
    ``read_artifacts`` sends unset filters as null, which the server rejects)."""
    body = {"artifacts": {"flow_run_id": {"any_": [str(flow_run_id)]}}, "limit": 50, "offset": 0, "sort": "CREATED_DESC"}
    with get_client(sync_client=True) as client:
        return {artifact["key"]: artifact for artifact in client.request("POST", "/artifacts/filter", json=body).json()}


@pytest.fixture(scope="module")
def demo_runs(prefect_server, tmp_path_factory):
    """The demo workshop run twice with the same inputs (the second should hit the cache)."""
    root = tmp_path_factory.mktemp("workshop")
    states = [
        workshop_flow(
            inputs=[str(DEMO)], workshop="Demo", out=str(root / "outputs"), models=str(root / "models"), return_state=True
        )
        for _ in range(2)
    ]
    return root, states


def test_workshop_flow_writes_every_export(demo_runs):
    _, (state, _) = demo_runs
    outcome = state.result()
    assert EXPORTS <= {path.name for path in outcome.output_dir.iterdir()}

    assignments = pd.read_csv(outcome.output_dir / "data" / "assignments.csv")
    texts = assignments["text"]
    assert len(assignments) == outcome.n_texts > 100
    assert set(assignments["source_kind"]) == {"mentimeter", "note", "table"}
    assert assignments["theme"].nunique() >= 4  # the demo covers the six themes unevenly
    assert abs(sum(share for _, share, _, _ in outcome.shares) - 1) < 1e-9

    quotes = pd.read_csv(outcome.output_dir / "data" / "quotes.csv")
    assert set(quotes["text"]) <= set(texts)  # original wording, never lemmas
    assert quotes[["workshop", "question", "source_file"]].notna().all().all()


def test_workshop_flow_publishes_artifacts(demo_runs):
    _, (state, _) = demo_runs
    artifacts = _artifacts(state.state_details.flow_run_id)
    assert {"theme-frequencies", "top-quotes", "output-folder"} <= set(artifacts)
    assert artifacts["theme-frequencies"]["type"] == "table"
    assert "Internationalisering" in artifacts["theme-frequencies"]["data"]
    assert artifacts["top-quotes"]["type"] == "markdown" and "> " in artifacts["top-quotes"]["data"]
    assert str(state.result().output_dir.resolve().as_uri()) in artifacts["output-folder"]["data"]
    assert re.search(r"\d,\d %", artifacts["theme-frequencies"]["data"])  # Danish percentages: "13,8 %"
    # Themes as every report lists them: by share, andet last (the terminal summary too).
    outcome = state.result()
    labels = [label for label, _, _, _ in outcome.shares]
    shares = [share for _, share, _, _ in outcome.shares]
    assert labels[-1] == ANDET_LABEL and shares[:-1] == sorted(shares[:-1], reverse=True)
    rows = json.loads(artifacts["theme-frequencies"]["data"])
    assert [row["tema"] for row in rows] == labels
    # The two voices apart, and the one interval format of every report ("18,4–28,7 %").
    assert {"andel, deltagere", "andel, notat"} <= set(rows[0])
    assert all(re.fullmatch(r"\d+,\d–\d+,\d %", row["95 %-interval"]) for row in rows)
    headings = re.findall(r"^## (.+)$", artifacts["top-quotes"]["data"], flags=re.MULTILINE)
    assert headings == [label for label in labels if label in headings]
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(state.state_details.flow_run_id).name == "Demo"  # named after the workshop


def test_second_run_hits_the_cache_and_gives_the_same_result(demo_runs):
    _, (first, second) = demo_runs
    first, second = first.result(), second.result()
    assert first.cached_steps == []
    assert second.cached_steps == ["lemmatisering", "embeddings", "sprog"]
    assert first.output_dir != second.output_dir  # never overwriting another run
    columns = ["text_id", "topic", "theme", "theme_score", "weight", "language"]
    a = pd.read_csv(first.output_dir / "data" / "assignments.csv")[columns]
    b = pd.read_csv(second.output_dir / "data" / "assignments.csv")[columns]
    pd.testing.assert_frame_equal(a, b)


def test_saved_model_reexports_an_analyst_correction(demo_runs):
    _, (state, _) = demo_runs
    outcome = state.result()
    analysis = load_run(outcome.model_dir)
    topic_info = topic_table(analysis)
    topic = int(topic_info.loc[topic_info["topic"] >= 0, "topic"].iloc[0])
    analysis.rename_topic(topic, "Analytikerens navn")
    analysis.set_topic_theme(topic, "internationalisering", every_text=True)
    save_edits(analysis)

    reopened = load_run(outcome.model_dir)  # edits.yaml is applied on load, no refit
    table = assignments(reopened)
    members = table[table["topic"] == topic]
    assert len(members) and (members["theme"] == "internationalisering").all()
    assert (members["topic_label"] == "Analytikerens navn").all()


def test_a_config_files_taxonomy_is_used_and_recorded(prefect_server, tmp_path):
    config = tmp_path / "indstillinger.yaml"
    config.write_text("themes:\n  taxonomy: nordjylland-2023\n", encoding="utf-8")
    outcome = workshop_flow(
        inputs=[str(DEMO / "postkort.csv")], out=str(tmp_path / "out"), models=str(tmp_path / "models"),
        config_file=str(config), embedder="lsa",
    )
    manifest = json.loads((outcome.output_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["taxonomy"]["source"] == "nordjylland-2023"
    assert manifest["config"]["themes"]["taxonomy"] == "nordjylland-2023"
    assert manifest["config"]["embeddings"]["backend"] == "lsa"  # the flag on top of the file
    assert set(manifest["timings_seconds"]) >= {"ingest", "language", "embeddings", "topics", "themes"}
    table = pd.read_csv(outcome.output_dir / "data" / "assignments.csv")
    assert "p_kompetenceforsyning" in table.columns and "p_digitalisering" not in table.columns


def test_series_flow_gives_results_per_workshop(prefect_server, tmp_path):
    series_root = tmp_path / "runde"
    (series_root / "Aarhus").mkdir(parents=True)
    (series_root / "Herning").mkdir()
    shutil.copy(DEMO / "mentimeter-export.xlsx", series_root / "Aarhus")
    shutil.copy(DEMO / "opsamlingsnotat.docx", series_root / "Herning")
    shutil.copy(DEMO / "postkort.csv", series_root / "Herning")

    state = series_flow(
        inputs=[str(series_root)], name="runde", out=str(tmp_path / "out"), models=str(tmp_path / "models"),
        return_state=True,
    )
    outcome = state.result()
    by_workshop = pd.read_excel(outcome.output_dir / "theme_frequencies.xlsx", sheet_name=None)
    workshop_sheet = next(frame for name, frame in by_workshop.items() if "workshop" in name.lower())
    shares = workshop_sheet.groupby("Workshop")["Andel"].sum()
    assert set(shares.index) == {"Aarhus", "Herning"}
    assert all(abs(total - 1) < 1e-6 for total in shares)
    assert {"theme-frequencies", "top-quotes", "output-folder"} <= set(_artifacts(state.state_details.flow_run_id))
    overview = pd.read_excel(outcome.output_dir / "workshop_themes.xlsx")
    assert list(overview["Workshop"]) == ["Aarhus", "Herning"]
    assert overview.drop(columns=["Workshop", "Tekster i alt"]).sum(axis=1).round(6).eq(1).all()
    assert (outcome.output_dir / "workshop_themes.png").stat().st_size > 10_000


def test_served_deployments_offer_both_flows_with_their_defaults():
    from flows.deploy import deployments

    served = deployments(taxonomy="nordjylland-2023", out="/srv/tematik/outputs", models="/srv/tematik/models")
    assert {(d.flow_name, d.name) for d in served} == {("workshop", "efter-workshop"), ("series", "workshopserie")}
    for deployment in served:
        assert deployment.parameters["taxonomy"] == "nordjylland-2023"
        assert deployment.parameters["out"] == "/srv/tematik/outputs"
        assert deployment.enforce_parameter_schema  # the UI form checks what the secretariat types


def test_corpus_fitted_embeddings_are_never_taken_from_the_task_cache(prefect_server, tmp_path):
    # lsa vectors mean something only with the fit that made them; the theme mapper's queries need that fit.
    outcomes = [
        workshop_flow(inputs=[str(DEMO / "postkort.csv")], out=str(tmp_path / "out"), models=str(tmp_path / "models"), embedder="lsa")
        for _ in range(2)
    ]
    assert outcomes[1].cached_steps == ["lemmatisering", "sprog"]
    assert outcomes[0].shares == outcomes[1].shares


def test_a_flow_runs_with_the_stages_it_is_given(prefect_server, tmp_path):
    # A part swapped through the public assembly reaches the flow's topic fit; the flow's own
    # settings (here the embedder) still decide the rest.
    from functools import partial

    from sklearn.cluster import KMeans

    from pipeline.config import RunConfig
    from pipeline.stages import LocalStages
    from pipeline.topics import TopicModeler

    stages = LocalStages(RunConfig(), topic_modeler=partial(TopicModeler, hdbscan_model=KMeans(n_clusters=3, n_init=10, random_state=0)))
    outcome = workshop_flow(inputs=[str(DEMO)], out=str(tmp_path / "out"), models=str(tmp_path / "models"), embedder="lsa",
                            stages=stages)  # fmt: skip
    assert outcome.n_topics == 3
    manifest = json.loads((outcome.output_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["embeddings"]["backend"] == "lsa"


def test_a_workshop_mostly_not_in_danish_is_warned_about_on_every_run(prefect_server, tmp_path):
    import logging

    answers = tmp_path / "svar.csv"
    answers.write_text("svar\n" + "\n".join([
        "We need more skilled workers in the region", "The green transition must go faster",
        "More robots in the factories please", "Better broadband in rural areas",
        "Help small firms export to Germany", "More start-up funding for young founders",
        "Digital skills for older employees", "Attract international talent to our universities",
        "Flere faglærte til industrien", "Grøn omstilling af transporten",
    ]) + "\n", encoding="utf-8")  # fmt: skip

    class Lines(logging.Handler):
        def __init__(self):
            super().__init__(logging.INFO)
            self.lines = []

        def emit(self, record):
            self.lines.append((record.levelno, record.getMessage()))

    lines = Lines()
    logging.getLogger("prefect.flow_runs").addHandler(lines)
    try:
        for _ in range(2):  # the second run takes the languages from the cache and still says it
            workshop_flow(inputs=[str(answers)], out=str(tmp_path / "out"), models=str(tmp_path / "models"), embedder="lsa")
    finally:
        logging.getLogger("prefect.flow_runs").removeHandler(lines)
    warnings = [message for level, message in lines.lines if level == logging.WARNING and "ser ikke danske ud" in message]
    assert len(warnings) == 2
    assert re.match(r"Advarsel: [6-8] af 10 tekster ser ikke danske ud \(mest 'en'\): tematiks lemmaer", warnings[0])
