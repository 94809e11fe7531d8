"""Analyst edits on the demo's saved run: a topic's theme moves only the texts that took their theme
from the topic, the command says how many changed, and the README's examples run as written."""

from __future__ import annotations

import json
import re
import shlex
import shutil

import pytest
from conftest import REPO
from typer.testing import CliRunner

from flows.cli import app
from pipeline.errors import InputError
from pipeline.saved_run import load_run, save_edits

pytestmark = pytest.mark.slow
runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture()
def saved_model(demo_run, tmp_path):
    """A copy of the demo run's saved model, so edits do not touch the shared one."""
    model = tmp_path / demo_run[3].name
    shutil.copytree(demo_run[3], model)
    return model


def _themes(model) -> dict[str, str]:
    texts = load_run(model).texts
    return dict(zip(texts["text_id"].astype(str), texts["theme"].astype(str)))


def _topic(analysis, mixed: bool):
    """A topic (mixed or not) with texts that follow it and texts whose own theme differs from it."""
    texts, topics = analysis.texts, analysis.topics[analysis.topics["topic"] >= 0]
    for row in topics[topics["mixed"].astype(bool) == mixed].itertuples():
        members = texts[texts["topic"] == row.topic]
        if (members["theme"] != row.theme).any() and (mixed or (members["theme"] == row.theme).any()):
            return int(row.topic), str(row.theme)
    raise AssertionError(f"the demo run has no {'mixed' if mixed else 'unmixed'} topic with texts of other themes")


def test_a_topic_theme_moves_only_the_texts_that_took_their_theme_from_the_topic(saved_model):
    analysis = load_run(saved_model)
    topic, old_theme = _topic(analysis, mixed=False)
    members = analysis.texts[analysis.texts["topic"] == topic]
    followers = members[members["theme"] == old_theme]
    own = members[members["theme"] != old_theme]  # the run pooled them too, but their own evidence won
    new_theme = next(theme for theme in analysis.taxonomy.ids if theme not in set(members["theme"]))

    changed = analysis.set_topic_theme(topic, new_theme)
    save_edits(analysis)

    themes = _themes(saved_model)
    assert all(themes[text_id] == new_theme for text_id in followers["text_id"])
    assert all(themes[row.text_id] == row.theme for row in own.itertuples())  # kept their own theme
    assert load_run(saved_model).topics.set_index("topic").loc[topic, "theme"] == new_theme
    assert changed == len(followers)


def test_topics_shows_how_many_texts_follow_each_topic(saved_model):
    analysis = load_run(saved_model)
    topic, theme = _topic(analysis, mixed=False)
    members = analysis.texts[analysis.texts["topic"] == topic]
    result = CliRunner(env={"COLUMNS": "120"}).invoke(app, ["topics", str(saved_model)])
    assert result.exit_code == 0, result.output
    row = re.search(rf"^\s+{topic}\s+(\d+)\s+(\d+)\s", result.stdout, flags=re.MULTILINE)
    assert (int(row.group(1)), int(row.group(2))) == (len(members), int((members["theme"] == theme).sum()))
    mixed, _ = _topic(analysis, mixed=True)
    assert re.search(rf"^\s+{mixed}\s+\d+\s+0\s", result.stdout, flags=re.MULTILINE)


def test_a_mixed_topic_set_to_its_own_theme_changes_no_text_and_says_so(saved_model):
    topic, theme = _topic(load_run(saved_model), mixed=True)
    before = _themes(saved_model)
    size = int((load_run(saved_model).texts["topic"] == topic).sum())

    result = runner.invoke(app, ["edit", str(saved_model), "--theme", f"{topic}={theme}"])
    assert result.exit_code == 0, result.output
    assert f"Emne {topic} → {theme}: 0 af {size} tekster skiftede tema; {size} med tema efter egen evidens" in result.output
    assert _themes(saved_model) == before


def test_all_texts_moves_every_text_of_the_topic_and_is_kept_in_the_edits(saved_model):
    topic, theme = _topic(load_run(saved_model), mixed=True)
    target = "andet" if theme != "andet" else "digitalisering"
    before = load_run(saved_model).texts
    members = before[before["topic"] == topic]
    result = runner.invoke(app, ["edit", str(saved_model), "--theme", f"{topic}={target}", "--all-texts"])
    assert result.exit_code == 0, result.output
    moved = int((members["theme"] != target).sum())
    assert f"Emne {topic} → {target}: {moved} af {len(members)} tekster skiftede tema" in result.output
    analysis = load_run(saved_model)
    assert (analysis.texts.loc[analysis.texts["topic"] == topic, "theme"] == target).all()
    assert analysis.edits.every_text == [topic]

    # The same correction without the option: back to the texts that follow the topic (none: it is mixed).
    again = runner.invoke(app, ["edit", str(saved_model), "--theme", f"{topic}={target}"])
    assert again.exit_code == 0, again.output
    reopened = load_run(saved_model)
    assert reopened.edits.every_text == []
    assert reopened.texts.loc[reopened.texts["topic"] == topic, "theme"].tolist() == members["theme"].tolist()


def test_a_text_correction_is_kept_when_its_topic_is_corrected(saved_model):
    analysis = load_run(saved_model)
    topic, old_theme = _topic(analysis, mixed=False)
    followers = analysis.texts[(analysis.texts["topic"] == topic) & (analysis.texts["theme"] == old_theme)]
    corrected = str(followers["text_id"].iloc[0])
    analysis.set_text_theme(corrected, "andet")
    new_theme = next(theme for theme in analysis.taxonomy.ids if theme != old_theme)
    changed = analysis.set_topic_theme(topic, new_theme)
    assert analysis.texts.loc[analysis.texts["text_id"] == corrected, "theme"].item() == "andet"
    assert changed == len(followers) - 1
    save_edits(analysis)
    assert _themes(saved_model)[corrected] == "andet"


def test_a_merged_away_topics_correction_stays_with_the_texts_it_moved(saved_model):
    analysis = load_run(saved_model)
    topic, old_theme = _topic(analysis, mixed=False)
    other = int(analysis.topics.loc[(analysis.topics["topic"] >= 0) & (analysis.topics["topic"] != topic), "topic"].min())
    members = analysis.texts[analysis.texts["topic"] == topic]
    new_theme = next(theme for theme in analysis.taxonomy.ids if theme not in set(members["theme"]))
    analysis.set_topic_theme(topic, new_theme)
    analysis.merge_topics([[other, topic]])
    save_edits(analysis)

    themes = _themes(saved_model)
    for row in members.itertuples():
        assert themes[row.text_id] == (new_theme if row.theme == old_theme else row.theme)


def test_a_theme_is_named_by_its_id_or_its_label_in_any_case(saved_model):
    topic = int(load_run(saved_model).topics.query("topic >= 0")["topic"].iloc[0])
    theme = load_run(saved_model).taxonomy.themes[-1]
    result = runner.invoke(app, ["edit", str(saved_model), "--theme", f"{topic}={theme.label.upper()}"])
    assert result.exit_code == 0, result.output
    assert f"Emne {topic} → {theme.id}: " in result.output  # said by its id, as topics lists it
    assert load_run(saved_model).edits.topic_themes == {topic: theme.id}  # kept by its id
    unknown = runner.invoke(app, ["edit", str(saved_model), "--theme", f"{topic}=Sport"])
    assert unknown.exit_code == 1 and "ukendt tema 'Sport'" in unknown.output


def test_an_unknown_text_id_names_the_danish_column(saved_model):
    with pytest.raises(InputError, match="Tekst-id i assignments.csv"):
        load_run(saved_model).set_text_theme("mentimeter-export:q2:17", "andet")


def test_edit_help_explains_what_a_topic_theme_decides_in_danish():
    result = runner.invoke(app, ["edit", "--help"])
    assert result.exit_code == 0
    assert "<list[str]>" not in result.output and "<tekst>" in result.output
    assert "--all-texts" in result.output and "egen evidens" in result.output


def _readme_analyst_commands(model) -> list[list[str]]:
    """The analyst section's shell lines, split as a shell would, with ``models/<run id>`` -> ``model``."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For analysts", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.DOTALL).group(1)
    lines = [line.replace("models/<run id>", shlex.quote(str(model))) for line in block.splitlines() if line.strip()]
    return [shlex.split(line, comments=True) for line in lines]


def test_the_readme_analyst_examples_run_as_written(saved_model, tmp_path):
    commands = _readme_analyst_commands(saved_model)
    assert [command[:2] for command in commands] == [[".venv/bin/tematik", name] for name in ("topics", "edit", "edit", "export")]
    outputs = tmp_path / "outputs"
    for command in commands:
        arguments = [str(outputs) if arg == "outputs" else arg for arg in command[1:]]
        result = runner.invoke(app, arguments)
        assert result.exit_code == 0, f"{shlex.join(command)}\n{result.output}"
        if command[1] == "edit":
            assert "skiftede tema" in result.output
    # The --text example moved its text; the export wrote a run folder with the corrections.
    text_edit = next(command for command in commands if "--text" in command)
    text_id, theme = text_edit[text_edit.index("--text") + 1].split("=")
    assert _themes(saved_model)[text_id] == theme
    (folder,) = outputs.iterdir()
    assert (folder / "manifest.json").exists()


def test_a_reexport_does_not_copy_the_fits_stage_timings(saved_model, tmp_path):
    fitted = json.loads((saved_model / "facts.json").read_text(encoding="utf-8"))
    assert {"topics", "themes"} <= set(fitted["timings_seconds"])  # the fit measured them
    result = runner.invoke(app, ["export", str(saved_model), "--out", str(tmp_path / "eksport")])
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "eksport").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["timings_seconds"] == {}
    assert "Tidsforbrug" not in (folder / "report.html").read_text(encoding="utf-8")
    assert json.loads((saved_model / "facts.json").read_text(encoding="utf-8")) == fitted  # the saved run is untouched


def _topic_sizes(model) -> dict[int, int]:
    topics = load_run(model).topics
    return dict(zip(topics["topic"].astype(int), topics["size"].astype(int)))


def test_a_second_merge_with_the_merged_topic_is_saved_and_the_run_still_opens(saved_model, tmp_path):
    sizes = _topic_sizes(saved_model)
    first, second, third = sorted(topic for topic in sizes if topic >= 0)[:3]
    assert runner.invoke(app, ["edit", str(saved_model), "--merge", f"{first},{second}"]).exit_code == 0
    again = runner.invoke(app, ["edit", str(saved_model), "--merge", f"{first},{third}", "--rename", f"{first}=Små firmaer"])
    assert again.exit_code == 0, again.output

    merged = _topic_sizes(saved_model)  # the saved edits reopen: the two merges apply one after the other
    assert merged[first] == sizes[first] + sizes[second] + sizes[third]
    assert second not in merged and third not in merged
    result = runner.invoke(app, ["export", str(saved_model), "--out", str(tmp_path / "eksport")])
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "eksport").iterdir()
    topics_csv = (folder / "topics.csv").read_text(encoding="utf-8-sig")
    assert f"\n{first};{merged[first]};" in topics_csv and "Små firmaer" in topics_csv


def test_a_merged_away_topic_is_named_with_the_topic_it_is_now_part_of(saved_model):
    first, second = sorted(topic for topic in _topic_sizes(saved_model) if topic >= 0)[:2]
    assert runner.invoke(app, ["edit", str(saved_model), "--merge", f"{first},{second}"]).exit_code == 0
    edits = (saved_model / "edits.yaml").read_bytes()
    result = runner.invoke(app, ["edit", str(saved_model), "--rename", f"{second}=Nyt navn"])
    assert result.exit_code == 1
    assert f"emne {second} er lagt sammen med emne {first}; brug {first}" in result.output
    assert (saved_model / "edits.yaml").read_bytes() == edits  # a refused edit records nothing


def test_a_topic_named_twice_in_a_merge_is_kept(saved_model):
    sizes = _topic_sizes(saved_model)
    first, second = sorted(topic for topic in sizes if topic >= 0)[:2]
    result = runner.invoke(app, ["edit", str(saved_model), "--merge", f"{first},{first},{second}"])
    assert result.exit_code == 0, result.output
    assert _topic_sizes(saved_model)[first] == sizes[first] + sizes[second]


def test_a_topic_name_with_a_line_break_is_kept_on_one_line_in_every_export(saved_model, tmp_path):
    result = runner.invoke(app, ["edit", str(saved_model), "--rename", "0=Havnen\nog\tbyen "])
    assert result.exit_code == 0, result.output
    assert "Emne 0 hedder nu »Havnen og byen«" in result.output
    assert load_run(saved_model).edits.rename == {0: "Havnen og byen"}
    assert runner.invoke(app, ["export", str(saved_model), "--out", str(tmp_path / "eksport")]).exit_code == 0
    (folder,) = (tmp_path / "eksport").iterdir()
    assert "\n0;" in (folder / "topics.csv").read_text(encoding="utf-8-sig")
    assert "Havnen og byen" in (folder / "topics.csv").read_text(encoding="utf-8-sig")
