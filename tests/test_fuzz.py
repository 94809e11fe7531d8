"""Fuzz tests: whatever bytes a file holds, every reader ends in a result or an InputError.

Each test feeds generated files (random bytes, truncated or damaged real files, damaged
parts inside Office packages, generated tables, notes and workbooks with control
characters, huge cells, mixed encodings and line endings) to the real entry point,
:func:`pipeline.ingest.read_inputs`, and to :func:`pipeline.taxonomy.load_taxonomy`.
Any exception other than :class:`InputError` fails the test, and so does an error message
on several lines, one that does not name the file, a result that breaks the schema, or
a changed input file.

Derandomized (the same examples on every run, so CI is reproducible) and sized to run in
well under a minute on two cores; ``TEMATIK_FUZZ_EXAMPLES=500`` multiplies the examples for
a longer local hunt.
"""

from __future__ import annotations

import io
import math
import os
import zipfile
from pathlib import Path

import pytest
import yaml
from helpers_ingest_files import write_docx, write_pdf, write_session_workbook, write_table_workbook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from pipeline.errors import InputError
from pipeline.ingest import read_inputs
from pipeline.schema import TEXT_COLUMNS
from pipeline.taxonomy import load_taxonomy

SCALE = int(os.environ.get("TEMATIK_FUZZ_EXAMPLES", "0")) / 100 or 1.0


def fuzz(examples: int):
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# --- what every outcome must satisfy -----------------------------------------------------

def read_or_reject(path: Path):
    """Read ``path``: a valid table of texts, or an InputError of one line naming the file. The file is unchanged."""
    before = path.read_bytes()
    try:
        ingested = read_inputs([path])
    except InputError as error:
        message = str(error)
        assert len(message.splitlines()) == 1, message
        assert path.name in message, message
        ingested = None
    else:
        texts = ingested.texts
        assert list(texts.columns[: len(TEXT_COLUMNS)]) == TEXT_COLUMNS
        assert len(texts) > 0
        assert texts["text"].map(lambda t: isinstance(t, str) and t == t.strip() and t != "").all()
        assert texts["text_id"].is_unique
        assert texts["weight"].map(lambda w: math.isfinite(w) and w >= 0).all()
        assert ingested.report.summary_lines()
    assert path.read_bytes() == before
    return ingested


# --- real files to damage ----------------------------------------------------------------

NOTE_LINES = ["1 Opsamling", "", "1.1 Tema: Grøn omstilling", "", "Virksomhederne efterspørger hjælp til klima-",
              "regnskaber og energibesparelser.", "", "- Flere netværk for ejerledere", "- Mere rådgivning om eksport"]


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, bytes]:
    """Valid inputs of every kind and layout, as bytes."""
    folder = tmp_path_factory.mktemp("seeds")
    blocks = [
        {"type": "Open Ended", "question": "Hvad skal erhvervshuset gøre mere af?",
         "answers": ["Mere rådgivning om eksport", "Hjælp til digitalisering", "=- flere penge"]},
        {"type": "Multiple Choice", "question": "Hvor enig er du?", "answers": ["Enig", "Uenig"]},
        {"type": "Q&A", "question": "Spørgsmål til panelet", "upvotes_header": "Upvotes",
         "answers": [("Hvordan får vi flere lærlinge?", 4), ("Hvad med CO2-fangst?", 1)]},
    ]
    files = {
        "menti.xlsx": write_session_workbook(folder / "menti.xlsx", blocks),
        "tabel.xlsx": write_table_workbook(folder / "tabel.xlsx", {"Ark1": [
            ["id", "svar", "vægt", "kommune"], [1, "Grøn omstilling på værkstederne", 2, "Aalborg"],
            [2, '=HYPERLINK("http://eksempel.dk";"klik")', 1, "Aarhus"], [3, "Flere lærlingepladser", "1,5", None]]}),
        "notat.docx": write_docx(folder / "notat.docx", [
            ("Title", "Opsamling"), ("Heading 1", "1 Tema: Grøn omstilling"),
            ("Normal", "Virksomhederne efterspørger hjælp til klimaregnskaber."), ("List Bullet", "Flere netværk"),
            ("table", [["Potentialer", "Barrierer"], ["Ny teknologi.", "Mangel på arbejdskraft."]])]),
        "notat.pdf": write_pdf(folder / "notat.pdf", [NOTE_LINES]),
    }
    seeds = {name: path.read_bytes() for name, path in files.items()}
    seeds["menti.csv"] = ("Date (UTC);Session;Voter;Hvad skal vi gøre mere af?;Hvor enig er du?\n"
                          "2026-05-04 10:00;1;a1;Mere samarbejde;4\n2026-05-04 10:01;1;a2;Flere netværk, mere eksport;2\n"
                          ).encode("utf-8")
    seeds["tabel.csv"] = "id;svar;vægt\n1;Mere samarbejde om eksport;2\n2;\"To linjer\ni et svar\";1\n".encode("cp1252")
    seeds["notat.md"] = ("# Opsamling\n\n## Tema 1: Grøn omstilling\n\nVirksomhederne vil have hjælp.\n\n"
                         "- Flere netværk\n\n| Potentialer | Barrierer |\n|---|---|\n| Ny teknologi | Mangel |\n").encode()
    seeds["notat.txt"] = "\n".join(NOTE_LINES).encode("utf-8")
    return seeds


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def write(workdir: Path, name: str, data: bytes) -> Path:
    path = workdir / name
    path.write_bytes(data)
    return path


SEED_NAMES = ["menti.xlsx", "tabel.xlsx", "notat.docx", "notat.pdf", "menti.csv", "tabel.csv", "notat.md", "notat.txt"]
EXTENSIONS = [".csv", ".tsv", ".txt", ".md", ".xlsx", ".docx", ".pdf"]
MAGIC = [b"", b"PK\x03\x04", b"%PDF-1.7\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"]


# --- bytes ---------------------------------------------------------------------------------

@fuzz(60)
@given(extension=st.sampled_from(EXTENSIONS), magic=st.sampled_from(MAGIC), body=st.binary(min_size=0, max_size=3000))
def test_random_bytes(workdir, extension, magic, body):
    read_or_reject(write(workdir, f"tilfældig{extension}", magic + body))


@fuzz(50)
@given(name=st.sampled_from(SEED_NAMES), keep=st.floats(0, 1, exclude_max=True))
def test_truncated_files(workdir, seeds, name, keep):
    data = seeds[name]
    read_or_reject(write(workdir, f"afkortet-{name}", data[: int(len(data) * keep)]))


@fuzz(50)
@given(name=st.sampled_from(SEED_NAMES), data=st.data())
def test_damaged_bytes(workdir, seeds, name, data):
    content = bytearray(seeds[name])
    changes = data.draw(st.lists(st.tuples(st.integers(0, len(content) - 1), st.integers(0, 255)), min_size=1, max_size=8))
    for position, value in changes:
        content[position] = value
    read_or_reject(write(workdir, f"beskadiget-{name}", bytes(content)))


@fuzz(60)
@given(name=st.sampled_from(["menti.xlsx", "tabel.xlsx", "notat.docx"]), data=st.data())
def test_damaged_parts_inside_office_packages(workdir, seeds, name, data):
    """The zip is intact but one of its XML parts is truncated, spliced with junk or replaced."""
    with zipfile.ZipFile(io.BytesIO(seeds[name])) as archive:
        members = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    member = data.draw(st.sampled_from(sorted(members)))
    part = members[member]
    how = data.draw(st.sampled_from(["truncate", "splice", "replace", "drop"]))
    at = data.draw(st.integers(0, len(part)))
    if how == "truncate":
        members[member] = part[:at]
    elif how == "splice":
        members[member] = part[:at] + data.draw(st.binary(max_size=40)) + part[at:]
    elif how == "replace":
        members[member] = data.draw(st.binary(max_size=200))
    else:
        del members[member]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for filename, content in members.items():
            archive.writestr(filename, content)
    read_or_reject(write(workdir, f"del-{name}", out.getvalue()))


# --- generated text files ------------------------------------------------------------------

# Text with what real exports carry: Danish letters, quotes, delimiters, control characters,
# invisible characters, emoji, line breaks of every kind.
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("abcæøåÆØÅ ;,|\t\"'-=+@#*.:!?0123456789\r\n\x00\x01\x0b\x0c\x1b\x7f\u00ad\u200b\ufeff\u2028")),
        st.characters(codec="utf-8"),
    ),
    max_size=60,
)
HEADERS = [["svar"], ["svar", "kommune"], ["id", "tekst", "vægt"], ["Date (UTC)", "Session", "Voter", "Hvad?"],
           ["navn", "kommune"], ["spørgsmål", "svar", "weight"]]


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "mixed":  # every other line UTF-8, the others Windows-1252
        lines = text.split("\n")
        return b"\n".join(line.encode("utf-8" if i % 2 else "cp1252", errors="replace") for i, line in enumerate(lines))
    return text.encode(encoding, errors="replace")


@fuzz(80)
@given(
    header=st.sampled_from(HEADERS),
    rows=st.lists(st.lists(ANY_TEXT, max_size=5), max_size=12),
    delimiter=st.sampled_from([";", ",", "\t", "|"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    mixed_newlines=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "mixed"]),
    huge=st.sampled_from([0, 0, 0, 140_000, 250_000]),
)
def test_generated_csv(workdir, header, rows, delimiter, newline, mixed_newlines, encoding, huge):
    def field(cell: str) -> str:
        return f'"{cell.replace(chr(34), chr(34) * 2)}"' if any(c in cell for c in f'"{delimiter}\r\n') else cell

    lines = [delimiter.join(header)] + [delimiter.join(field(c) for c in row) for row in rows]
    if huge:
        lines.append(delimiter.join([field("Et langt svar om samarbejde. " * (huge // 29))] + ["x"] * (len(header) - 1)))
    ends = ["\n", "\r\n", "\r"] if mixed_newlines else [newline]
    text = "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))
    read_or_reject(write(workdir, "genereret.csv", _encode(text, encoding)))


NOTE_LINE = st.one_of(
    ANY_TEXT,
    st.sampled_from(["", "# Opsamling", "## 2.1 Tema 1", "2 Opsamling", "2.1 Tema: Grøn omstilling", "- punkt",
                     "1. punkt", "| a | b |", "|---|---|", "Side 3 af 7", "digitali-", "sering af værkstederne."]),
)


@fuzz(60)
@given(
    extension=st.sampled_from([".md", ".txt"]),
    lines=st.lists(NOTE_LINE, max_size=30),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "cp1252", "utf-16", "mixed"]),
)
def test_generated_notes(workdir, extension, lines, newline, encoding):
    read_or_reject(write(workdir, f"notat{extension}", _encode(newline.join(lines), encoding)))


# --- generated Office files and PDFs -------------------------------------------------------

def _legal(text: str) -> str:
    """Only characters XML (so xlsx/docx) can hold: what Excel and Word can save at all."""
    return ILLEGAL_CHARACTERS_RE.sub("", text).replace("\ufffe", "").replace("\uffff", "")


CELL = st.one_of(
    st.none(),
    ANY_TEXT.map(_legal),
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["=1+1", '="Mere "&"samarbejde"', "=- flere penge", "=SUM(A1:A3)", "#NAME?", "Question 1",
                     "Type", "Open Ended", "Word Cloud", "Multiple Choice", "Answer", "Upvotes", "Question", "svar",
                     "Voter", "Session", "Date (UTC)", "inf", "nan", "-3"]),
)
SHEET_NAMES = ["Ark1", "Voters", "Session 1", "Presentation", "Svar"]


@fuzz(60)
@given(sheets=st.dictionaries(st.sampled_from(SHEET_NAMES), st.lists(st.lists(CELL, max_size=6), max_size=15),
                              min_size=1, max_size=3))
def test_generated_workbooks(workdir, sheets):
    read_or_reject(write_table_workbook(workdir / "genereret.xlsx", sheets))


@fuzz(40)
@given(
    blocks=st.lists(
        st.one_of(
            st.tuples(st.sampled_from(["Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "List Bullet"]),
                      ANY_TEXT.map(_legal)),
            st.tuples(st.just("table"), st.lists(st.lists(ANY_TEXT.map(_legal), min_size=2, max_size=2),
                                                 min_size=1, max_size=3)),
        ),
        max_size=12,
    )
)
def test_generated_documents(workdir, blocks):
    read_or_reject(write_docx(workdir / "genereret.docx", blocks))


@pytest.mark.filterwarnings("ignore:Glyph")  # matplotlib draws characters its font lacks as boxes
@fuzz(8)
@given(pages=st.lists(st.lists(NOTE_LINE.map(lambda s: _legal(s).replace("$", "").replace("\\", "")), max_size=20),
                      min_size=1, max_size=2))
def test_generated_pdfs(workdir, pages):
    read_or_reject(write_pdf(workdir / "genereret.pdf", pages))


# --- the taxonomy loader -------------------------------------------------------------------

def load_or_reject(path: Path) -> None:
    try:
        taxonomy = load_taxonomy(path)
    except InputError as error:
        assert len(str(error).splitlines()) == 1, str(error)
        assert str(error).startswith(str(path)), str(error)
    else:
        assert len(taxonomy.themes) >= 2 and isinstance(taxonomy.version, str)


YAML_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), ANY_TEXT.map(_legal)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(ANY_TEXT.map(_legal), inner, max_size=4)),
    max_leaves=12,
)
THEME = st.fixed_dictionaries(
    {"id": st.one_of(st.sampled_from(["mad", "sport", "andet", "Grøn", "a_b"]), ANY_TEXT),
     "label": YAML_VALUE, "description": YAML_VALUE,
     "keywords": st.one_of(st.lists(ANY_TEXT.map(_legal), max_size=4), YAML_VALUE)},
    optional={"colour": YAML_VALUE},
)


@fuzz(60)
@given(
    content=st.one_of(
        st.binary(max_size=2000),
        ANY_TEXT.map(lambda s: s.encode("utf-8", errors="replace")),
        st.fixed_dictionaries({"name": YAML_VALUE, "themes": st.lists(THEME, max_size=4)},
                              optional={"version": YAML_VALUE, "extra": YAML_VALUE})
        .map(lambda d: yaml.safe_dump(d, allow_unicode=True).encode("utf-8")),
        YAML_VALUE.map(lambda v: yaml.safe_dump(v, allow_unicode=True).encode("utf-8")),
    )
)
def test_taxonomy_loader(workdir, content):
    load_or_reject(write(workdir, "taksonomi.yaml", content))


# --- series manifests ----------------------------------------------------------------------

@fuzz(40)
@given(
    content=st.one_of(
        st.binary(max_size=500),
        YAML_VALUE.map(lambda v: yaml.safe_dump(v, allow_unicode=True).encode("utf-8")),
        st.dictionaries(ANY_TEXT.map(_legal), st.one_of(YAML_VALUE, ANY_TEXT, st.just("svar.csv"), st.just(["svar.csv", 3])),
                        max_size=3).map(lambda d: yaml.safe_dump({"workshops": d}, allow_unicode=True).encode("utf-8")),
    )
)
def test_series_manifest(workdir, content):
    from pipeline.ingest.series import plan_series

    (workdir / "svar.csv").write_text("svar\nMere samarbejde\n", encoding="utf-8")
    path = write(workdir, "serie.yaml", content)
    try:
        plan = plan_series([path])
    except InputError as error:
        assert len(str(error).splitlines()) == 1 and path.name in str(error), str(error)
    else:
        assert plan and all(isinstance(name, str) and file.is_file() for name, file in plan)


# --- personal data wherever a workbook can hold it -------------------------------------------

# Planted as whole words (as people type them), each of a kind redaction replaces.
SECRETS = ["0707071234", "29 38 47 56", "29384756", "helle.t@firma.dk", "Mette Kløvedal"]
FOUND_AS = ["0707071234", "29 38 47 56", "29384756", "helle.t@firma", "Kløvedal"]
PLANTED = st.tuples(st.sampled_from(["Ring til", "Kontakt", "Stem på", "Spørg", "Hej"]), st.sampled_from(SECRETS),
                    st.sampled_from(["", "om robotter", "i morgen", "?"])).map(lambda t: " ".join(t).strip())  # fmt: skip
WEIGHT = st.one_of(st.integers(0, 5), PLANTED)
QUESTION_TYPES = ["Open Ended", "Word Cloud", "Multiple Choice", "Scales", "Q&A"]


def _leaks(text: str) -> list[str]:
    return [secret for secret in FOUND_AS if secret.casefold() in text.casefold()]


def _session_export(path: Path, sheet: str, blocks) -> Path:
    import openpyxl

    write_session_workbook(path, [{"type": kind, "question": question, "answers": answers} for kind, question, answers in blocks])
    workbook = openpyxl.load_workbook(path)
    workbook["Session 1"].title = sheet
    workbook.save(path)
    return path


@fuzz(40)
@given(
    sheet=PLANTED.map(lambda name: name.replace("?", "").strip()[:31]),  # "?" cannot stand in a sheet name
    layout=st.sampled_from(["sessions", "table"]),
    blocks=st.lists(st.tuples(st.sampled_from(QUESTION_TYPES), PLANTED, st.lists(PLANTED, min_size=1, max_size=4)),
                    min_size=1, max_size=3),
    header=PLANTED,
    rows=st.lists(st.tuples(PLANTED, PLANTED, WEIGHT), min_size=1, max_size=5),
)  # fmt: skip
def test_personal_data_in_sheet_names_headers_questions_and_cells_never_surfaces(workdir, sheet, layout, blocks, header, rows):
    """What a run shows, logs or analyses of a workbook — its texts with their ids and columns,
    its reading summary, or the error it stops with — holds none of the planted personal data."""
    from pipeline.config import RedactionConfig, RunConfig
    from pipeline.stages import LocalStages

    config = RunConfig(redaction=RedactionConfig(ner_pipeline=None))
    path = workdir / "persondata.xlsx"
    if layout == "sessions":
        _session_export(path, sheet, blocks)
    else:
        grid = [["svar", header, "vægt"]] + [[answer, extra, weight] for answer, extra, weight in rows]
        write_table_workbook(path, {sheet: grid})
    try:
        stages = LocalStages(config)
        ingested = stages.read([path])
    except InputError as error:
        assert _leaks(str(error)) == [], str(error)
        return
    texts, _ = stages.protect(ingested.texts)
    shown = "\n".join([*ingested.report.summary_lines(), *map(str, texts.columns), texts.astype(str).to_csv()])
    assert _leaks(shown) == [], shown
