"""Taxonomies: the shipped ones load, and broken files fail with one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.errors import InputError
from pipeline.taxonomy import DEFAULT_TAXONOMY, Taxonomy, list_taxonomies, load_taxonomy

DEB_IDS = [
    "kvalificeret_arbejdskraft",
    "ivaerksaetteri",
    "groen_omstilling",
    "innovation",
    "digitalisering",
    "internationalisering",
]
NORDJYLLAND_IDS = [
    "robusthed_resiliens",
    "groen_omstilling_baeredygtighed",
    "co2_fangst_anvendelse_lagring",
    "digitalisering_i_industrien",
    "byer_og_kystomraader",
    "kompetenceforsyning",
]

VALID = {
    "name": "Testworkshop",
    "version": "1",
    "themes": [
        {"id": "mad", "label": "Mad", "description": "Mad og drikke.", "keywords": ["mad", "kage"]},
        {"id": "sport", "label": "Sport", "description": "Sport og motion.", "keywords": ["fodbold", "løb"]},
    ],
}


def write(tmp_path: Path, data: object, name: str = "taxonomy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("name, ids", [("deb-2020-2023", DEB_IDS), ("nordjylland-2023", NORDJYLLAND_IDS)])
def test_shipped_taxonomies_load_with_rich_lemma_keywords(name, ids):
    taxonomy = load_taxonomy(name)
    assert taxonomy.ids == ids
    for theme in taxonomy.themes:
        assert len(theme.keywords) >= 15, theme.id
        assert all(keyword == keyword.lower().strip() for keyword in theme.keywords)
        assert len(theme.description.split()) >= 15


def test_default_and_listing():
    assert load_taxonomy().ids == load_taxonomy(DEFAULT_TAXONOMY).ids == DEB_IDS
    listed = {entry["name"]: entry for entry in list_taxonomies()}
    assert {"deb-2020-2023", "nordjylland-2023"} <= set(listed)
    assert listed["nordjylland-2023"]["themes"] == NORDJYLLAND_IDS


def test_custom_file_loads_and_normalises(tmp_path):
    data = {**VALID, "version": 2024.1, "themes": list(VALID["themes"])}  # VALID itself stays as it is for the other tests
    data["themes"][0] = {**VALID["themes"][0], "keywords": ["Mad", " kage ", "mad"]}
    taxonomy = load_taxonomy(write(tmp_path, data))
    assert isinstance(taxonomy, Taxonomy)
    assert taxonomy.version == "2024.1"  # YAML number read as a version label
    assert taxonomy["mad"].keywords == ["mad", "kage"]


@pytest.mark.parametrize("version_line", ["", "version:\n", "version: ''\n", "version: null\n"])
def test_version_is_optional(tmp_path, version_line):
    # The format in the themes issue has no version: such a file loads, with version "".
    themes = yaml.safe_dump({"themes": VALID["themes"]}, allow_unicode=True)
    taxonomy = load_taxonomy(write(tmp_path, f"name: Uden version\n{version_line}{themes}"))
    assert taxonomy.version == ""
    assert taxonomy.title == "Uden version"
    assert load_taxonomy(write(tmp_path, {**VALID, "version": "2026.2"}, "med.yaml")).title == "Testworkshop (2026.2)"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["themes"].append(dict(d["themes"][0])), "tema-id står flere gange: mad"),
        (lambda d: d["themes"][1].update(id="andet"), "er reserveret til tekster"),
        # pydantic's English is told in Danish, and a theme by its number from 1 and its id.
        (lambda d: d["themes"][0].pop("description"), "ugyldig taksonomi: tema 1 (mad), description: mangler"),
        (lambda d: d["themes"][0].update(keywords=[]), "tema 1 (mad), keywords: skal have mindst 1 (har 0)"),
        (lambda d: d["themes"][1].update(keywords="fodbold, løb"), "tema 2 (sport), keywords: skal være en liste, fx [ord1, ord2]"),
        (lambda d: d["themes"][0].update(id="Grøn omstilling"), ("tema 1 (Grøn omstilling), id: skal være små "
                                                                 "bogstaver a-z og tal, ord forbundet med _")),
        (lambda d: d["themes"][1].update(label=""), "tema 2 (sport), label: må ikke være tom"),
        (lambda d: d["themes"][0]["keywords"].append(["is"]), "tema 1 (mad), keywords nr. 3: skal være tekst"),
        (lambda d: d.update(version=["1", "2"]), "ugyldig taksonomi: version: skal være tekst"),
        (lambda d: d.update(themes=d["themes"][:1]), "ugyldig taksonomi: themes: skal have mindst 2 (har 1)"),
        (lambda d: d["themes"][0].update(colour="green"), ("tema 1 (mad), colour: ukendt nøgle (et tema har id, "
                                                           "label, description og keywords)")),
        (lambda d: d["themes"].append("Turisme"), ("ugyldig taksonomi: tema 3: skal være et tema med id, "
                                                   "label, description og keywords")),
        (lambda d: d.pop("name"), "ugyldig taksonomi: name: mangler"),
        # An analyst names a theme by its id or its label (edit --theme, the check sheet): each name means one theme.
        (lambda d: d["themes"][0].update(label="SPORT"), "tema mad har label 'SPORT', som også er navnet på tema sport"),
        (lambda d: d["themes"][1].update(label="Andet"), "tema sport har label 'Andet', som også er navnet på andet"),
    ],
)
def test_invalid_taxonomy_is_one_line_input_error_naming_the_file(tmp_path, change, message):
    data = yaml.safe_load(yaml.safe_dump(VALID))
    change(data)
    path = write(tmp_path, data, "mine.yaml")
    with pytest.raises(InputError) as caught:
        load_taxonomy(path)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(str(path))
    assert message in text


def test_bad_yaml_and_missing_file(tmp_path):
    path = write(tmp_path, "name: x\nthemes: [unclosed\n", "broken.yaml")
    with pytest.raises(InputError, match=r"broken\.yaml \(linje \d+\): ikke gyldig YAML"):
        load_taxonomy(path)
    with pytest.raises(InputError, match="ugyldig taksonomi: forventede nøglerne name, themes"):
        load_taxonomy(write(tmp_path, "- just\n- a list\n", "list.yaml"))
    with pytest.raises(InputError, match=r"nope\.yaml: taksonomien findes ikke \(medfølgende taksonomier: .*deb-2020-2023"):
        load_taxonomy(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="taksonomien findes ikke"):
        load_taxonomy("no-such-taxonomy")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x00\x01\x02binary\xff\xfe", "ikke en UTF-8-tekstfil|ikke gyldig YAML"),
        ("name: [" * 5000, "ikke gyldig YAML"),  # nested deeper than the parser's recursion
        ("name: x\nthemes: !!python/object/apply:os.system ['echo hi']\n", "ikke gyldig YAML"),
        (yaml.safe_dump({**VALID, "farve\nrød": 1}), "ugyldig taksonomi: farve rød: ukendt nøgle"),  # a line break
    ],
)
def test_junk_files_are_one_line_input_errors(tmp_path, content, message):
    path = tmp_path / "junk.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(InputError, match=message) as caught:
        load_taxonomy(path)
    assert "\n" not in str(caught.value) and str(caught.value).startswith(str(path))


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary\xff\xfe", "a: [" * 5000, "a: [\n"])
def test_every_yaml_the_user_gives_reads_junk_as_one_input_error(tmp_path, content):
    from pipeline.analysis import Edits
    from pipeline.config import RunConfig
    from pipeline.ingest.series import plan_series

    path = tmp_path / "junk.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    for read in (load_taxonomy, RunConfig.from_file, Edits.read, lambda path: plan_series([path])):
        with pytest.raises(InputError) as caught:
            read(path)
        assert "\n" not in str(caught.value) and str(caught.value).startswith(str(path)), read


@pytest.mark.parametrize(
    "content, message",
    [
        ("name: x\nthemes:\n  - id: a\n    description: Om klima: energi\n",
         "(linje 4): ikke gyldig YAML: et kolon står, hvor det ikke må: sæt en tekst med kolon i anførselstegn"),
        ("name: x\nthemes:\n\t- id: a\n", "(linje 3): ikke gyldig YAML: tabulator: ryk ind med mellemrum"),
        ("name: x\nthemes:\n  - id: a\n    keywords: [klima, energi\n  - id: b\n",
         "ikke gyldig YAML: en [liste] eller {tabel} er ikke lukket med ']'"),
        ("name: 'Grøn\n", "ikke gyldig YAML: et anførselstegn er ikke lukket"),
        ("name: @mig\n", "ikke gyldig YAML: tegnet '@' kan ikke stå først: sæt teksten i anførselstegn"),
        ("name: x\nthemes:\n  - id: a\n - id: b\n", "ikke gyldig YAML: indrykningen passer ikke"),
        ("name: Grøn\n".encode("cp1252"), "ikke en UTF-8-tekstfil; gem den med kodningen UTF-8"),
    ],
)
def test_yaml_slips_made_by_hand_are_told_in_danish_with_the_line(tmp_path, content, message):
    path = tmp_path / "mine.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(InputError) as caught:
        load_taxonomy(path)
    assert str(caught.value).startswith(f"{path}") and message in str(caught.value), str(caught.value)


def test_a_folder_given_for_a_yaml_file_is_one_line(tmp_path):
    # `--config workshop/` or `--taxonomy temaer/`: a folder where a file belongs.
    from pipeline.config import RunConfig

    folder = tmp_path / "temaer"
    folder.mkdir()
    for read in (load_taxonomy, RunConfig.from_file):
        with pytest.raises(InputError) as caught:
            read(folder)
        assert str(caught.value) == f"{folder}: er en mappe; angiv YAML-filen i den", read


def test_a_theme_named_by_id_or_label_in_any_case_and_an_id_always_means_its_own_theme():
    from pipeline.taxonomy import theme_names

    names = theme_names({"klima": "Energi", "energi": "Klima og energi", "andet": "Andet / nye temaer"})
    assert names["klima og energi"] == names["energi"] == "energi"  # by label or id
    assert names["klima"] == "klima"  # an id wins over a label that reads the same
    assert names["andet / nye temaer"] == "andet"
