"""pipeline.language: spaCy backends, content lemmas, stop words and language flags.

Runs the real spaCy fallback pipeline (blank Danish + spacy-lookups-data), small
pipelines saved to disk by the tests, and the real lingua detector.
"""

from __future__ import annotations

import importlib.util
from importlib import metadata
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import spacy
from spacy.lookups import Lookups

from pipeline.config import LanguageConfig
from pipeline.errors import InputError
from pipeline.language import LanguageDetection, TextAnalyzer
from pipeline.lexicon import LOOKUP_FIXES, domain_stop_words
from pipeline.schema import TEXT_COLUMNS

MENTIMETER_EXPORT = Path("/work/shared/corpora/nordjylland-2023/mentimeter-export.xlsx")
MISSING_PIPELINE = "tematik_no_such_pipeline"

# Our own short workshop-style answers.
DANISH = [
    "Kommunerne bør hjælpe iværksættere hurtigere i gang",
    "Mere fokus på cirkulær økonomi i produktionen",
    "Det er svært at rekruttere ingeniører til små byer",
    "Eksportrådgivning til mindre virksomheder",
]
ENGLISH = [
    "We need more skilled workers in the region",
    "Better access to venture capital for startups",
]


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer(LanguageConfig(pipeline=MISSING_PIPELINE))


def test_missing_pipeline_falls_back_to_blank_danish_lookup(analyzer):
    version = metadata.version("spacy-lookups-data")
    assert analyzer.backend == f"blank:da + lookup lemmatizer (spacy-lookups-data {version})"
    assert analyzer.nlp.lang == "da"
    assert analyzer.nlp.pipe_names == []  # lemmas come from the lookup table itself (danish_lemma_table)


def test_fallback_lemmatises_after_lowercasing_and_filters_stop_lemmas(analyzer):
    text = "Virksomhederne mangler kvalificerede medarbejdere"
    [content] = analyzer.lemmatise([text])
    [words] = analyzer.lemmatise([text], content_only=False)
    # The capitalised form is not in the (case-sensitive) lookup table; lowercasing first finds it.
    assert words == ["virksomhed", "mangle", "kvalificere", "medarbejder"]
    # "virksomhederne" itself is no stop word: its lemma is, so it goes only after lemmatisation.
    assert "virksomhederne" not in analyzer.stop_words and "virksomhed" in analyzer.stop_words
    assert content == ["mangle", "kvalificere", "medarbejder"]


def test_content_lemmas_drop_stop_words_numbers_urls_emails_and_punctuation(analyzer):
    text = "Vi SKAL have flere iværksættere i 2030 – skriv til info@eksempel.dk eller se www.eksempel.dk, bl.a. om SMV'ernes eksport!"
    [content] = analyzer.lemmatise([text])
    assert content == ["iværksætter", "skrive", "se", "smv", "eksport"]
    [words] = analyzer.lemmatise([text], content_only=False)
    assert {"vi", "skulle", "2030", "bl.a", "info@eksempel.dk"} <= set(words)
    assert not {"–", ",", "!"} & set(words)


def test_lookup_fixes_give_the_noun_for_singular_and_plural(analyzer):
    # The lookup table alone lemmatises singular "iværksætter" to the verb "iværksætte".
    assert analyzer.lemmatise(["En iværksætter", "Iværksættere", "Ny viden"]) == [["iværksætter"], ["iværksætter"], ["viden"]]
    # Adjectives the table reads as other words ("svært" -> "sværte", "let" -> "le", "mange" -> "mangen").
    assert analyzer.lemmatise(["Svært og let", "Mange ideer"], content_only=False) == [["svær", "og", "let"], ["mange", "ide"]]
    # "lang" read as the verb "lange" while "længere" gave "lang": an emerging theme was named "Geografisk, lang og lange".
    assert analyzer.lemmatise(["Lange afstande", "en lang vej", "Flere iværksætterier"]) == [
        ["lang", "afstand"], ["lang", "vej"], ["iværksætteri"]]  # fmt: skip
    # "vedvarende" read as the verb "vedvare" (a topic word of the real workshop); SMV plurals without apostrophe.
    assert analyzer.lemmatise(["Vedvarende energi", "Flere SMVere og SMV'er"]) == [["vedvarende", "energi"], ["smv", "smv"]]
    # Every present participle is its own lemma ("udfordrende" was the verb "udfordre"); the verb's own forms are not.
    assert analyzer.lemmatise(["Udfordrende infrastruktur og manglende arbejdskraft", "Vi mangler folk"]) == [
        ["udfordrende", "infrastruktur", "manglende", "arbejdskraft"],
        ["mangle", "folk"],
    ]


def test_fallback_gives_spacys_lookup_lemmatizer_lemmas(analyzer):
    # spaCy's own lookup lemmatizer on spacy-lookups-data's table, with tematik's fixes.
    nlp = spacy.blank("da")
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    table = lemmatizer.lookups.get_table("lemma_lookup")
    for form, lemma in LOOKUP_FIXES.items():
        table[form] = lemma
    texts = DANISH + ["Virksomhederne mangler kvalificerede medarbejdere i Nordjylland", "En iværksætter har viden"]
    expected = [[token.lemma_ for token in doc if not token.is_punct] for doc in nlp.pipe(text.lower() for text in texts)]
    assert any(lemma != form for lemmas, text in zip(expected, texts) for lemma, form in zip(lemmas, text.lower().split()))
    assert analyzer.lemmatise(texts, content_only=False) == expected
    analyzer.clear_cache()
    assert analyzer.lemmatise(texts, content_only=False) == expected


def test_every_content_lemma_is_a_lowercase_non_stop_word(analyzer):
    texts = DANISH + ENGLISH + ["Fx 3 nye SMV'er, ca. 40 % – osv.", "Grøn omstilling & digitalisering!!"]
    for lemmas in analyzer.lemmatise(texts):
        for lemma in lemmas:
            assert lemma == lemma.lower() and len(lemma) >= 2
            assert lemma not in analyzer.stop_words
            assert any(char.isalpha() for char in lemma)


def test_domain_stop_words_are_small_and_keep_theme_and_place_words(analyzer):
    words = domain_stop_words()
    assert 10 < len(words) < 100
    assert all(word == word.lower() and " " not in word and "#" not in word for word in words)
    theme_words = ["arbejdskraft", "iværksætter", "grøn", "omstilling", "digitalisering", "eksport",
                   "innovation", "samarbejde", "uddannelse", "automatisering", "nordjylland", "region"]
    assert not set(theme_words) & analyzer.stop_words


def test_extra_stop_words_are_removed_in_any_case():
    text = "Nordjylland har stærke klynger"
    default = TextAnalyzer(LanguageConfig(pipeline=MISSING_PIPELINE))
    regional = TextAnalyzer(LanguageConfig(pipeline=MISSING_PIPELINE, extra_stop_words=["NordJylland"]))
    assert "nordjylland" in default.lemmatise([text])[0]
    assert regional.lemmatise([text])[0] == [lemma for lemma in default.lemmatise([text])[0] if lemma != "nordjylland"]


def _attribute_ruler_pipeline(lemmas: dict[str, str]) -> spacy.Language:
    nlp = spacy.blank("da")
    ruler = nlp.add_pipe("attribute_ruler")
    nlp.add_pipe("ner").add_label("ORG")  # a component tematik must not load
    nlp.initialize()  # (clears the attribute ruler: add its patterns afterwards)
    for form, lemma in lemmas.items():
        ruler.add([[{"LOWER": form}]], {"LEMMA": lemma})
    return nlp


def _lookup_pipeline(lemmas: dict[str, str]) -> spacy.Language:
    nlp = spacy.blank("da")
    lookups = Lookups()
    lookups.add_table("lemma_lookup", lemmas)
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"}).initialize(lookups=lookups)
    return nlp


@pytest.mark.parametrize("build", [_attribute_ruler_pipeline, _lookup_pipeline])
def test_saved_pipeline_is_used_with_its_own_lemmas(tmp_path, build):
    # Lemmas the fallback would not give ("virksomhederne" -> "firma", "rekrutterer" -> "hyre").
    known = {"virksomhederne": "firma", "rekrutterer": "hyre", "ingeniører": "ingeniør"}
    nlp = build(known)
    nlp.meta.update(name="mini_test", version="0.2.1")
    path = tmp_path / "mini_da"
    nlp.to_disk(path)

    analyzer = TextAnalyzer(LanguageConfig(pipeline=str(path)))

    assert analyzer.backend == f"da_mini_test 0.2.1 ({path})"
    assert "ner" not in analyzer.nlp.pipe_names
    [content] = analyzer.lemmatise(["Virksomhederne rekrutterer ingeniører og teknikere"])
    # Forms without a known lemma stay as their lowercase form; "og" is a stop word.
    assert content == ["firma", "hyre", "ingeniør", "teknikere"]


def test_saved_lookup_table_with_several_lemmas_per_form_gives_the_first_like_spacy(tmp_path):
    nlp = _lookup_pipeline({"rekrutterer": ["hyre", "rekruttere"], "virksomhederne": "firma"})
    nlp.to_disk(tmp_path / "mini_da")
    text = "virksomhederne rekrutterer"

    [content] = TextAnalyzer(LanguageConfig(pipeline=str(tmp_path / "mini_da"))).lemmatise([text])

    assert content == [token.lemma_ for token in nlp(text)] == ["firma", "hyre"]


def test_lemma_fingerprint_follows_the_fixes_stop_words_and_pipeline(tmp_path, monkeypatch):
    from flows.tasks import _language_key
    from pipeline import language

    config = LanguageConfig(pipeline=MISSING_PIPELINE)
    key = _language_key(None, {"texts": ["Mere viden"], "config": config})
    assert key == _language_key(None, {"texts": ["Mere viden"], "config": config})

    monkeypatch.setitem(language.LOOKUP_FIXES, "viden", "viden2")
    assert _language_key(None, {"texts": ["Mere viden"], "config": config}) != key
    monkeypatch.undo()
    monkeypatch.setattr(language, "domain_stop_words", lambda: frozenset({"mere"}))
    assert _language_key(None, {"texts": ["Mere viden"], "config": config}) != key
    monkeypatch.undo()
    monkeypatch.setattr(language, "LEMMA_RULES", ())  # the table's rules besides the fixes
    assert _language_key(None, {"texts": ["Mere viden"], "config": config}) != key
    monkeypatch.undo()

    # A saved pipeline folder: saving it again (other lemmas, same meta) gives another key.
    saved_config = LanguageConfig(pipeline=str(tmp_path / "mini_da"))
    keys = []
    for lemmas in ({"viden": "vide"}, {"viden": "viden"}):
        _lookup_pipeline(lemmas).to_disk(tmp_path / "mini_da")
        keys.append(_language_key(None, {"texts": ["Mere viden"], "config": saved_config}))
        assert keys[-1] == _language_key(None, {"texts": ["Mere viden"], "config": saved_config})
    assert keys[0] != keys[1]


def test_existing_path_that_is_no_pipeline_is_an_input_error(tmp_path):
    folder = tmp_path / "not_a_pipeline"
    folder.mkdir()
    with pytest.raises(InputError, match="not_a_pipeline"):
        TextAnalyzer(LanguageConfig(pipeline=str(folder)))


def test_language_flags(analyzer):
    texts = DANISH + ENGLISH + [
        "Vi behöver fler ingenjörer i regionen",
        "Vi trenger flere fagarbeidere i industrien",
        "Bæredygtighed",
        "Innovation",
        "2030",
        "",
    ]
    languages = analyzer.detect_languages(texts)
    assert languages[: len(DANISH)] == ["da"] * len(DANISH)
    assert languages[len(DANISH):] == ["en", "en", "sv", "nb", "da", "und", "und", "und"]


def test_large_corpora_are_screened_in_lingua_fast_mode_without_changing_a_decision(analyzer, monkeypatch):
    import pipeline.language as language

    own_answers = pd.read_csv(Path(__file__).parents[1] / "benchmarks" / "data" / "menti-deb.csv")["text"].tolist()
    texts = own_answers + DANISH + ENGLISH + [
        "Vi behöver fler ingenjörer i regionen",
        "Företagen borde samarbeta mer",
        "Vi trenger flere fagarbeidere i industrien",
        "Wir brauchen mehr Fachkräfte in der Region",
        "Innovation",
        "",
    ]
    accurate = analyzer.detect_languages(texts)  # below _SCREEN_FROM_TEXTS: accurate mode only
    screened = analyzer.detection._screen_danish(list(dict.fromkeys(texts)))
    assert len(screened) >= len(own_answers) // 6  # the screen takes work off the accurate mode (3+ words)
    monkeypatch.setattr(language, "_SCREEN_FROM_TEXTS", 1)
    assert analyzer.detect_languages(texts) == accurate
    assert accurate[-6:-2] == ["sv", "sv", "nb", "de"]


def test_large_corpora_are_detected_in_a_child_process_with_the_same_codes(analyzer, monkeypatch, caplog):
    """``start`` hands large inputs to a child process (pipeline.processes) and returns at once;
    the codes equal this process's. A failing child falls back to this process with a warning."""
    import logging
    import sys

    import pipeline.language as language

    texts = DANISH + ENGLISH + ["Vi behöver fler ingenjörer i regionen", "Vi trenger flere fagarbeidere i industrien",
                                "Innovation", "", DANISH[0]]  # fmt: skip
    expected = analyzer.detect_languages(texts)
    monkeypatch.setattr(language, "_CHILD_FROM_TEXTS", 2)

    def not_here(self, texts):
        raise AssertionError("detected in the parent process")

    with monkeypatch.context() as patched:
        patched.setattr(language.LanguageDetection, "detect", not_here)  # the child imports the real one
        future = analyzer.detection.start(texts)
        assert future.result(timeout=120) == expected

    monkeypatch.setattr(sys, "executable", "/no/such/python")  # no child starts
    with caplog.at_level(logging.WARNING, logger="pipeline.processes"):
        assert analyzer.detection.start(texts).result(timeout=120) == expected
    assert f"Child process for {language._detect.__qualname__} failed" in caplog.text


def test_small_inputs_and_switched_off_detection_are_done_at_once(analyzer):
    assert analyzer.detection.start(ENGLISH).done()
    switched_off = LanguageDetection(LanguageConfig(detect_language=False))
    future = switched_off.start(ENGLISH * 5_000)
    assert future.done() and future.result() == ["und"] * 10_000


def test_language_detection_can_be_switched_off():
    analyzer = TextAnalyzer(LanguageConfig(pipeline=MISSING_PIPELINE, detect_language=False))
    assert analyzer.detect_languages(ENGLISH) == ["und", "und"]


def test_unknown_language_code_is_rejected():
    with pytest.raises(ValueError, match="xx"):
        TextAnalyzer(LanguageConfig(pipeline=MISSING_PIPELINE, languages=["en", "xx"]))


def test_annotate_adds_columns_to_a_copy(analyzer):
    texts = [DANISH[0], ENGLISH[0], "Innovation", "Virksomhederne mangler kvalificerede medarbejdere"]
    frame = pd.DataFrame(
        {
            "text_id": [f"demo:{i}" for i in range(len(texts))],
            "text": texts,
            "source_file": "demo.xlsx",
            "source_kind": "mentimeter",
            "question": "Hvad skal vi satse på?",
            "workshop": "demo",
            "weight": [1.0, 2.0, 1.0, 1.0],
        },
        index=[10, 11, 12, 13],
    )
    before = frame.copy()

    annotated = analyzer.annotate(frame)

    pd.testing.assert_frame_equal(frame, before)
    assert list(annotated.columns) == TEXT_COLUMNS + ["lemmas", "language", "is_danish"]
    pd.testing.assert_frame_equal(annotated[TEXT_COLUMNS], before)
    assert annotated["lemmas"].tolist() == [" ".join(lemmas) for lemmas in analyzer.lemmatise(texts)]
    assert annotated["lemmas"].iloc[3] == "mangle kvalificere medarbejder"
    assert annotated["language"].tolist() == ["da", "en", "und", "da"]
    assert annotated["is_danish"].dtype == bool
    assert annotated["is_danish"].tolist() == [True, False, True, True]


def _mentimeter_answers(path: Path) -> list[str]:
    rows = openpyxl.load_workbook(path, read_only=True)["Session 1"].iter_rows(values_only=True)
    answers, in_answers = [], False
    for first, *_ in rows:
        if first == "Answer":
            in_answers = True
        elif first is None or str(first).startswith("Question"):
            in_answers = False
        elif in_answers:
            answers.append(str(first))
    return answers


@pytest.mark.skipif(not MENTIMETER_EXPORT.exists(), reason="shared workshop corpus not present")
def test_real_short_danish_answers_are_rarely_flagged(analyzer):
    answers = _mentimeter_answers(MENTIMETER_EXPORT)
    assert len(answers) > 100
    languages = analyzer.detect_languages(answers)
    flagged = [text for text, code in zip(answers, languages) if code not in ("da", "und")]
    assert len(flagged) <= len(answers) // 50, flagged
    assert languages.count("da") >= 0.9 * len(answers)
    assert all(lemmas for lemmas, text in zip(analyzer.lemmatise(answers), answers) if len(text.split()) >= 4)


def test_spacy_and_lingua_load_when_used_and_torch_not_at_all():
    """In a fresh process: importing the module loads neither spaCy nor lingua's models;
    the analyzer loads spaCy without torch (thinc's optional import); lingua's models
    load on the first detection."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from pipeline.language import TextAnalyzer, language_detector\n"
        "from pipeline.config import LanguageConfig\n"
        "print('spacy' in sys.modules, 'lingua' in sys.modules)\n"
        f"analyzer = TextAnalyzer(LanguageConfig(pipeline={MISSING_PIPELINE!r}))\n"
        "print('spacy' in sys.modules, 'torch' in sys.modules, language_detector.cache_info().currsize)\n"
        "print(analyzer.lemmatise(['Robotterne i produktionen'])[0], analyzer.detect_languages(['We need more skilled workers in the region']))\n"
        "print(language_detector.cache_info().currsize)\n"
        # The guard is lifted: a pipeline or embedder that needs torch still gets it (torch is an extra).
        "import importlib.util\n"
        "if importlib.util.find_spec('torch'):\n"
        "    import torch\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:5] == [
        "False False",
        "True False 0",
        "['robot', 'produktion'] ['en']",
        "1",
        str(importlib.util.find_spec("torch") is not None),
    ]


def test_transformer_pipelines_are_recognised_as_needing_torch(tmp_path):
    from pipeline.language import needs_torch

    folder = tmp_path / "da_trf"
    folder.mkdir()
    (folder / "meta.json").write_text('{"lang": "da", "requirements": ["spacy-curated-transformers>=0.2.2,<0.3.0"]}')
    assert needs_torch(str(folder))
    (folder / "meta.json").write_text('{"lang": "da", "requirements": []}')
    assert not needs_torch(str(folder))
    assert not needs_torch(MISSING_PIPELINE)
    assert not needs_torch("spacy-lookups-data")  # an installed package without torch requirements
