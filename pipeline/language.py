"""Lemmas, stop words and language flags for the table of texts.

:class:`TextAnalyzer` turns texts into lowercase content lemmas with spaCy and flags
texts that are not Danish with lingua. It uses the spaCy pipeline named in
:class:`~pipeline.config.LanguageConfig` (an installed package such as ``da_core_news_sm``
or a saved pipeline folder) and falls back to ``spacy.blank("da")`` with the lookup
lemmatizer of spacy-lookups-data when that is missing; :attr:`TextAnalyzer.backend`
says which one ran.

Language flags never drop a text. ``language`` is ``"da"`` unless lingua is confident
the text is another language; answers of one or two words that do not look
Scandinavian (often loanwords: "Innovation", "Smart Manufacturing") get ``"und"``.
``is_danish`` is False only for texts confidently in another language.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pipeline import processes
from pipeline.config import LanguageConfig
from pipeline.errors import InputError
from pipeline.lexicon import LEMMA_RULES, LOOKUP_FIXES, danish_lemma_table, domain_stop_words
from pipeline.torch_free import torch_free_imports

if TYPE_CHECKING:  # spaCy and lingua are imported when a pipeline is loaded / languages detected
    from lingua import IsoCode639_1, LanguageDetector
    from spacy.language import Language as SpacyPipeline

log = logging.getLogger(__name__)

UNDETERMINED = "und"
# The fallback when no trained pipeline is installed (how ``TextAnalyzer.backend`` begins).
LOOKUP_BACKEND = "blank:da + lookup lemmatizer"
# Trained pipelines: lemmas need tagging only; parsing and NER are most of the run time.
UNUSED_COMPONENTS = ["parser", "ner"]
BATCH_SIZE = 1000


# Danish plural/definite endings after an apostrophe ("SMV'er", "SMV'erne", "IT's") are
# dropped so that the abbreviation itself is the lemma.
_APOSTROPHE_ENDING = re.compile(r"['’](?:s|e|en|er|et|ne|ene|ens|ers|erne|ernes)$")
_WORD = re.compile(r"[^\W\d_]+")

# Token kinds: punctuation and space are never lemmas; words are; content words are words
# that are not stop words, numbers, URLs, e-mails or single characters.
_SKIP, _WORD_KIND, _CONTENT = 0, 1, 2

# Language decision thresholds, measured with the default language set on a real workshop
# (196 Mentimeter answers, 104 note passages, all Danish) and on our own test sentences:
# Danish texts of 3+ words reach at most 0.37 English/German, Danish texts of 4+ words at
# most 0.62 Norwegian (Bokmål + Nynorsk), while English sentences of 5+ words score 0.66-0.91,
# Norwegian 0.73-0.95 and Swedish 0.94-0.99. One- and two-word Danish answers reach 0.90
# English ("Smart Manufacturing"), so short texts need near-certainty.
_NEIGHBOURS = frozenset({"nb", "nn", "sv"})
_NEIGHBOUR_MIN_WORDS, _NEIGHBOUR_CONFIDENCE = 4, 0.8
_OTHER_MIN_WORDS, _OTHER_CONFIDENCE = 3, 0.6
_SHORT_TEXT_CONFIDENCE = 0.95
_SCANDINAVIAN = ("da", "nb", "nn", "sv")
# Large corpora are screened with lingua's low-accuracy mode (trigrams only, ~3x faster):
# a text of three words or more that it finds Danish with at least this confidence is
# Danish; every other text is judged in the accurate mode. Measured on 22,127 texts (our
# answers, the shared seeds, foreign samples): all 18,079 screened at >= 0.5 were Danish
# or "und" in the accurate mode too (a Swedish answer scored 0.44; "und" only for texts
# under three words, hence that floor); 0.9 keeps a margin. On 51,421 texts the
# decisions equal the accurate mode's, in ~60 % of its time.
# Small corpora skip the screen: they are fast anyway.
_SCREEN_CONFIDENCE = 0.9
_SCREEN_FROM_TEXTS = 5_000
# From this many distinct texts LanguageDetection.start detects in a child process. Below it
# detection takes under a second, less than a child's start (Python, pandas, lingua's models).
# Measured at 100,000 texts on 2 cores: the language stage went from 7.4 s to 1.3 s of the
# run's wall time, the stages it overlaps 0.5 s slower.
_CHILD_FROM_TEXTS = 5_000


@functools.lru_cache(maxsize=4)
def load_spacy(pipeline: str) -> tuple[SpacyPipeline, str]:
    """``(nlp, backend description)`` for a package name or saved-pipeline path.

    Cached per process: loading the lookup table takes about two seconds. spaCy is
    imported here, without torch unless the pipeline needs it (:func:`needs_torch`).
    """
    spacy = import_spacy(pipeline)
    if spacy.util.is_package(pipeline):
        nlp = spacy.load(pipeline, exclude=UNUSED_COMPONENTS)
        return nlp, f"{pipeline} {nlp.meta.get('version', '?')}"
    path = Path(pipeline)
    if path.exists():
        try:
            nlp = spacy.load(path, exclude=UNUSED_COMPONENTS)
        except (OSError, ValueError) as exc:
            raise InputError(path, f"not a loadable spaCy pipeline: {str(exc).splitlines()[0]}") from None
        meta = nlp.meta
        return nlp, f"{meta.get('lang', '?')}_{meta.get('name', '?')} {meta.get('version', '?')} ({path})"
    log.warning("spaCy pipeline %r is not installed; using spacy.blank('da') with the lookup lemmatizer", pipeline)
    return _blank_lookup_pipeline()


def import_spacy(pipeline: str | None = None):
    """The ``spacy`` module, imported without torch unless ``pipeline`` needs it.

    spaCy's thinc imports torch (~5-10 s) for its optional PyTorch wrapper, which only
    transformer pipelines use; see :func:`pipeline.torch_free.torch_free_imports`. The
    first import in a process decides, so any module importing spaCy should do it through
    this function (lazily, where it is used).
    """
    if pipeline is not None and needs_torch(pipeline):
        import spacy
    else:
        with torch_free_imports():
            import spacy
    return spacy


# Packages whose spaCy components run on torch (transformer pipelines such as da_core_news_trf).
_TORCH_PACKAGES = ("spacy-transformers", "spacy-curated-transformers", "torch")


def needs_torch(pipeline: str) -> bool:
    """Whether the spaCy pipeline (package name or folder) declares a torch-based requirement.

    Read from the package's metadata or the folder's ``meta.json`` without importing spaCy.
    """
    try:
        requirements = metadata.requires(pipeline) or []
    except metadata.PackageNotFoundError:
        meta = Path(pipeline) / "meta.json"
        try:
            requirements = json.loads(meta.read_text(encoding="utf-8")).get("requirements", []) if meta.is_file() else []
        except (OSError, ValueError):
            requirements = []
    return any(requirement.lower().replace("_", "-").startswith(_TORCH_PACKAGES) for requirement in requirements)


def _blank_lookup_pipeline() -> tuple[SpacyPipeline, str]:
    """``spacy.blank("da")``: its tokenizer and lexeme flags; lemmas come from :func:`danish_lemma_table`."""
    spacy = import_spacy()
    return spacy.blank("da"), f"{LOOKUP_BACKEND} (spacy-lookups-data {metadata.version('spacy-lookups-data')})"


def lemma_fingerprint(config: LanguageConfig) -> str:
    """What a text's lemmas depend on besides the text and ``config``, without loading spaCy.

    For caches across runs (the flow's lemmatise task): editing :data:`LOOKUP_FIXES` or the
    domain stop words, installing another spaCy, pipeline package or lookup table,
    or saving the pipeline folder again changes it.
    """

    def version(distribution: str) -> str:
        try:
            return metadata.version(distribution)
        except (metadata.PackageNotFoundError, ValueError):  # ValueError: not a distribution name ("")
            return "-"

    # As load_spacy looks: an installed package first, else a saved folder (each file's size and time).
    pipeline = version(config.pipeline)
    folder = Path(config.pipeline)
    if pipeline == "-" and config.pipeline.strip() and folder.is_dir():
        pipeline = sorted(
            (path.relative_to(folder).as_posix(), path.stat().st_size, path.stat().st_mtime_ns)
            for path in folder.rglob("*") if path.is_file()
        )  # fmt: skip
    parts = {
        "spacy": version("spacy"),
        "spacy-lookups-data": version("spacy-lookups-data"),
        "pipeline": pipeline,
        "fixes": sorted(LOOKUP_FIXES.items()),
        "rules": list(LEMMA_RULES),
        "domain_stop_words": sorted(domain_stop_words()),
    }
    return json.dumps(parts, ensure_ascii=False, sort_keys=True)


@functools.lru_cache(maxsize=4)
def language_detector(codes: tuple[str, ...], low_accuracy: bool = False) -> LanguageDetector:
    """One lingua detector per language set and mode, built once per process.

    Building is instant; lingua loads each language's models on first use
    (about 1.7 s and 180 MB RSS for the default six languages).
    """
    from lingua import LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*(_iso_code(code) for code in codes))
    return (builder.with_low_accuracy_mode() if low_accuracy else builder).build()


def _iso_code(code: str) -> IsoCode639_1:
    from lingua import IsoCode639_1  # the module only (~0.1 s); its models load on first detection

    try:
        return getattr(IsoCode639_1, code.upper())
    except AttributeError:
        raise ValueError(f"unknown ISO 639-1 language code for lingua: {code!r}") from None


def _by_code(confidences) -> dict[str, float]:
    return {value.language.iso_code_639_1.name.lower(): value.value for value in confidences}


def decide_language(text: str, confidences: dict[str, float]) -> str:
    """ISO 639-1 code of ``text`` given lingua's confidence per language; Danish unless confident otherwise."""
    n_words = len(_WORD.findall(text))
    if n_words == 0 or not any(confidences.values()):  # no letters, or a script outside the language set
        return UNDETERMINED
    masses = dict(confidences)
    # Bokmål and Nynorsk share the evidence for one language: judge their sum, name the likelier.
    if "nb" in masses and "nn" in masses:
        norwegian = masses.pop("nb") + masses.pop("nn")
        masses["nb" if confidences["nb"] >= confidences["nn"] else "nn"] = norwegian
    others = ((code, value) for code, value in masses.items() if code != "da")
    other, mass = max(others, key=lambda cv: cv[1], default=(UNDETERMINED, 0.0))
    if other in _NEIGHBOURS:
        confident = n_words >= _NEIGHBOUR_MIN_WORDS and mass >= _NEIGHBOUR_CONFIDENCE
    else:
        confident = mass >= _SHORT_TEXT_CONFIDENCE or (n_words >= _OTHER_MIN_WORDS and mass >= _OTHER_CONFIDENCE)
    if confident:
        return other
    scandinavian = sum(confidences.get(code, 0.0) for code in _SCANDINAVIAN)
    return "da" if n_words >= _OTHER_MIN_WORDS or scandinavian >= 0.5 else UNDETERMINED


def with_languages(frame: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """Copy of ``frame`` with ``language`` (a code per row) and ``is_danish`` (False only for another language)."""
    codes = list(codes)
    return frame.assign(
        language=pd.Series(codes, index=frame.index, dtype=str),
        is_danish=pd.Series([is_danish(code) for code in codes], index=frame.index, dtype=bool),
    )


def is_danish(code: str) -> bool:
    """Whether a text with this language code counts as Danish: unless confidently another language."""
    return code in ("da", UNDETERMINED)


def _lookup_lemma(table, form: str) -> str:
    """``form``'s lemma as spaCy's lookup lemmatizer gives it: the first of a list value."""
    lemma = table.get(form, form)
    return lemma if isinstance(lemma, str) else lemma[0]


class TextAnalyzer:
    """Lowercase content lemmas and language flags of Danish texts.

    Content lemmas exclude spaCy's Danish stop words, tematik's domain stop words and
    ``config.extra_stop_words`` (each compared with the lowercase form and the lemma),
    punctuation, numbers, URLs, e-mail addresses and one-character tokens.
    """

    def __init__(self, config: LanguageConfig = LanguageConfig()):
        self.config = config
        started = time.perf_counter()
        self.nlp, self.backend = load_spacy(config.pipeline)
        fallback = self.backend.startswith(LOOKUP_BACKEND)  # the blank pipeline: lemmas from the table
        table = danish_lemma_table() if fallback else None
        self.load_seconds = time.perf_counter() - started  # ~0 when another analyzer loaded it
        self.stop_words: frozenset[str] = frozenset(
            set(self.nlp.Defaults.stop_words) | domain_stop_words() | {w.strip().lower() for w in config.extra_stop_words}
        )
        self.detection = LanguageDetection(config)
        lemmatizer = self.nlp.get_pipe("lemmatizer") if "lemmatizer" in self.nlp.pipe_names else None
        # A lookup table is keyed by lowercase forms ("Virksomhederne" is not in it): lowercase first.
        self._lowercase_input = fallback or getattr(lemmatizer, "mode", None) == "lookup"
        # With nothing but a lookup lemmatizer a token's lemma depends on its form alone, so the
        # tokenizer plus a per-form cache gives the component's lemmas at ~2x nlp.pipe speed.
        if table is None and self._lowercase_input and self.nlp.pipe_names == ["lemmatizer"]:
            table = lemmatizer.lookups.get_table("lemma_lookup", {})  # what lookup_lemmatize reads
        self._lookup: Callable[[str], str] | None = None if table is None else functools.partial(_lookup_lemma, table)
        self._form_cache: dict[str, tuple[str, int]] = {}
        self._token_cache: dict[tuple[str, str], tuple[str, int]] = {}

    def lemmatise(self, texts: Sequence[str], content_only: bool = True) -> list[list[str]]:
        """Lowercase lemmas per text: content lemmas, or with ``content_only=False`` every word's
        lemma in order (stop words and numbers kept, punctuation dropped) for phrase matching."""
        floor = _CONTENT if content_only else _WORD_KIND
        return [[lemma for lemma, kind in tokens if kind >= floor] for tokens in self._tokens(texts)]

    def detect_languages(self, texts: Sequence[str]) -> list[str]:
        """ISO 639-1 code per text (:meth:`LanguageDetection.detect`); ``"und"`` for all when detection is off."""
        return self.detection.detect(texts)

    def annotate(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Copy of ``frame`` with ``lemmas`` (space-joined content lemmas), ``language`` and ``is_danish``."""
        if "text" not in frame.columns:
            raise ValueError("table of texts lacks the 'text' column")
        texts = ["" if pd.isna(text) else str(text) for text in frame["text"]]
        lemmas = pd.Series([" ".join(words) for words in self.lemmatise(texts)], index=frame.index, dtype=str)
        return with_languages(frame.assign(lemmas=lemmas), self.detect_languages(texts))

    def warm_up(self) -> dict[str, float]:
        """Load what is lazy (lingua's models) and return load seconds, so benchmarks time work only."""
        started = time.perf_counter()
        self.detection.warm_up()
        return {"spacy": self.load_seconds, "lingua": time.perf_counter() - started}

    def clear_cache(self) -> None:
        """Forget cached token lemmas (for cold-cache benchmarks)."""
        self._form_cache.clear()
        self._token_cache.clear()

    def _tokens(self, texts: Iterable[str]) -> Iterator[list[tuple[str, int]]]:
        """``(lemma, kind)`` per token of each text."""
        if self._lowercase_input:
            texts = (text.lower() for text in texts)
        if self._lookup is not None:
            cache = self._form_cache
            for doc in self.nlp.tokenizer.pipe(texts, batch_size=BATCH_SIZE):
                yield [cache.get(token.text) or self._cache_form(token) for token in doc]
        else:
            for doc in self.nlp.pipe(texts, batch_size=BATCH_SIZE):
                yield [self._classify_cached(token.lower_, token.lemma_) for token in doc]

    def _cache_form(self, token) -> tuple[str, int]:
        self._form_cache[token.text] = result = self._classify(token.text, self._lookup(token.text))
        return result

    def _classify_cached(self, lower: str, lemma: str) -> tuple[str, int]:
        key = (lower, lemma)
        result = self._token_cache.get(key)
        if result is None:
            result = self._token_cache[key] = self._classify(lower, lemma)
        return result

    def _classify(self, lower: str, lemma: str) -> tuple[str, int]:
        """Clean lowercase lemma and kind of a token given its lowercase form and raw lemma."""
        lexeme = self.nlp.vocab[lower]
        if lexeme.is_punct or lexeme.is_space or not any(char.isalnum() for char in lower):
            return lower, _SKIP
        lemma = _APOSTROPHE_ENDING.sub("", (lemma or lower).lower())
        lemma = lemma.rstrip(".") or lemma  # abbreviation dot: "bl.a." -> "bl.a"
        stop = self.stop_words
        is_content = not (
            lexeme.like_num
            or lexeme.like_url
            or lexeme.like_email
            or len(lemma) < 2
            or not any(char.isalpha() for char in lemma)
            or lemma in stop
            or lower in stop
            or lower.rstrip(".") in stop
        )
        return lemma, _CONTENT if is_content else _WORD_KIND


class LanguageDetection:
    """ISO 639-1 code per text, from lingua's confidences (see :func:`decide_language`).

    :meth:`detect` runs in this process. :meth:`start` returns at once with a future:
    from :data:`_CHILD_FROM_TEXTS` distinct texts it detects in a child process at the
    lowest CPU priority, so on a machine with few cores it takes the CPU that the run's
    single-threaded stages leave idle instead of adding its seconds to the run. lingua
    holds the GIL, so a thread could not overlap it.
    """

    def __init__(self, config: LanguageConfig = LanguageConfig()):
        self.config = config
        self.languages: tuple[str, ...] = tuple(dict.fromkeys(["da", *(c.lower() for c in config.languages)]))
        for code in self.languages:
            _iso_code(code)

    def detect(self, texts: Sequence[str]) -> list[str]:
        """ISO 639-1 code per text; ``"und"`` for all when detection is off."""
        if not self.config.detect_language:
            return [UNDETERMINED] * len(texts)
        unique = list(dict.fromkeys(texts))
        decided = self._screen_danish(unique) if len(unique) >= _SCREEN_FROM_TEXTS else {}
        unsure = [text for text in unique if text not in decided]
        values = language_detector(self.languages).compute_language_confidence_values_in_parallel(unsure)
        for text, confidences in zip(unsure, values):
            decided[text] = decide_language(text, _by_code(confidences))
        return [decided[text] for text in texts]

    def start(self, texts: Sequence[str]) -> Future[list[str]]:
        """:meth:`detect`'s result as a future; from :data:`_CHILD_FROM_TEXTS` distinct texts it is
        detected in a low-priority child process (:mod:`pipeline.processes`) while the caller goes on."""
        texts = list(texts)
        in_child = self.config.detect_language and len(set(texts)) >= _CHILD_FROM_TEXTS
        return processes.start(_detect, self.config, texts, in_child=in_child, low_priority=True)

    def warm_up(self) -> None:
        """Load lingua's models now (~1.3 s) rather than in the first detection."""
        if self.config.detect_language:
            self.detect(["Virksomhederne mangler kvalificerede medarbejdere"])

    def _screen_danish(self, texts: list[str]) -> dict[str, str]:
        """``"da"`` for each text of three words or more that the low-accuracy mode finds clearly
        Danish (see ``_SCREEN_CONFIDENCE``)."""
        values = language_detector(self.languages, low_accuracy=True).compute_language_confidence_values_in_parallel(texts)
        danish = _iso_code("da")
        # Values come likeliest first. With Danish at >= 0.9 the other languages share <= 0.1, far
        # below every threshold of decide_language, which therefore says "da" for 3+ words.
        # Shorter texts may be "und" in the accurate mode ("vetoedes": da 0.96 here, en there).
        return {
            text: "da"
            for text, confidences in zip(texts, values)
            if confidences
            and confidences[0].value >= _SCREEN_CONFIDENCE
            and confidences[0].language.iso_code_639_1 == danish
            and len(_WORD.findall(text)) >= _OTHER_MIN_WORDS
        }


def _detect(config: LanguageConfig, texts: list[str]) -> list[str]:
    """:meth:`LanguageDetection.detect` as a module-level function, for a child process."""
    return LanguageDetection(config).detect(texts)
