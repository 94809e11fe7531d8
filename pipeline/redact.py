"""Redaction of personal data: the step right after ingestion.

Workshop answers are typed by the public and summary notes name people, so before
anything is lemmatised, embedded, cached, saved or sent to Prefect, :class:`Redactor`
replaces personal data by Danish placeholders:

==========  ============  ==================================================================
kind        placeholder   what
==========  ============  ==================================================================
``cpr``     ``[CPR]``     CPR numbers ``010190-1234``, ``0101901234``, ``010190 1234`` (valid day and month)
``email``   ``[E-MAIL]``  e-mail addresses, also ``navn[at]firma.dk``
``phone``   ``[TELEFON]`` Danish numbers (``12345678``, ``12 34 56 78``, ``1234 5678``, with ``+45``/``0045``)
                          and international ones (``+46 8 123 456 78``, ``0044 20 7946 0958``)
``url``     ``[URL]``     links with a query, fragment or user info (all links with ``all_urls``)
``name``    ``[NAVN]``    person names: first names (Faker's Danish, Norwegian and Swedish lists),
                          the names that follow them, names after a title ("borgmester ..."),
                          hyphenated first names in any case ("anne-mette"), lowercase full names,
                          Danish surnames alone ("Jensen", "Mortensens"), and the PER entities
                          of an installed spaCy pipeline (``da_core_news_sm``)
==========  ============  ==================================================================

False positives would damage answers, so the rules are cautious where a name is also a
word: a first name that is a Danish word ("Per" in "per år", "Bo", "Mark", "Line", "Hans")
counts only before a surname or after a title; numbers followed by a unit ("kr.", "mio.",
"deltagere"), years, dates and CVR numbers are no phone numbers; place names (every
municipality and region) and organisation words are never names; ``allow_words`` protects
whatever else a workshop needs. Counts per kind (never the values) are returned for the
run manifest.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd

from pipeline.config import RedactionConfig
from pipeline.errors import InputError
from pipeline.schema import TEXT_COLUMNS, unique_text_ids

if TYPE_CHECKING:
    from pipeline.ingest.report import IngestReport

log = logging.getLogger(__name__)
T = TypeVar("T")

KINDS: tuple[str, ...] = ("cpr", "email", "phone", "url", "name")
PLACEHOLDERS: dict[str, str] = {
    "cpr": "[CPR]",
    "email": "[E-MAIL]",
    "phone": "[TELEFON]",
    "url": "[URL]",
    "name": "[NAVN]",
}
# The placeholders in a redacted text: later stages drop them before lemmatising, so that
# "navn" or "telefon" never become topic words (the real word "navn" stays a word).
PLACEHOLDER_PATTERN = re.compile("|".join(re.escape(token) for token in PLACEHOLDERS.values()))
# Danish names of the kinds, for log lines and reports ("Persondata fjernet: 2 telefonnumre").
KIND_LABELS: dict[str, str] = {
    "cpr": "CPR-numre",
    "email": "e-mailadresser",
    "phone": "telefonnumre",
    "url": "links",
    "name": "navne",
}
# Columns of the texts table that are tematik's own structure and never carry personal data.
# Every other text column is redacted: the answer, question and note headings (which name
# facilitators), but also a table's own extra columns ("navn", "email") and its id column,
# which the exports carry through.
STRUCTURAL_COLUMNS: frozenset[str] = frozenset({"source_file", "source_kind", "workshop"})
NAME_LOCALES: tuple[str, ...] = ("da_DK", "no_NO", "sv_SE")

# --- numbers -----------------------------------------------------------------------------
_DIGIT = re.compile(r"\d")
_CPR = re.compile(r"(?<![\w+\-/.,])(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d\d[-– ]?\d{4}(?![\w\-/]|[.,]\d)")
# Danish numbers have 8 digits, written together, in pairs (also with dots), 4+4 or 3+2+3. Real ones start with
# 2-9, but typed examples and test numbers ("12 34 56 78") start with 1 as well: not with 0.
_DK_BODY = r"(?:[1-9]\d{7}|[1-9]\d(?:[ -]\d\d){3}|[1-9]\d(?:\.\d\d){3}|[1-9]\d{3} \d{4}|[1-9]\d\d \d\d \d{3})"
_DK_PREFIX = r"(?:(?:\+|00)45[ -]?|\(\+?45\) ?)"
_INTERNATIONAL = r"(?:\+|00)(?!45)[1-9]\d{0,2}(?:[ -]?\(?\d{1,4}\)?){2,6}"
_PHONE = re.compile(
    rf"(?<![\w+\-/.,])(?:(?P<prefixed>{_DK_PREFIX}{_DK_BODY})|(?P<local>{_DK_BODY})|(?P<intl>{_INTERNATIONAL}))"
    r"(?![\w\-/]|[.,]\d)"
)
# An 8-digit number followed by a unit or preceded by a currency / register name is no phone number.
_UNIT_AFTER = re.compile(
    r"\s?(?:kr\b|kr\.|kroner|dkk|mio|mia|millioner|milliarder|euro|eur\b|€|%|procent|pct|personer|deltagere|"
    r"borgere|indbyggere|ansatte|stk|m2|m²|km|ton|timer|kwh|mwh|gwh|år\b)",
    re.IGNORECASE,
)
_REGISTER_BEFORE = re.compile(
    r"(?:kr\.?|dkk|€|eur|cvr|cvr-?nr\.?|se-?nr\.?|p-?nr\.?|ean|j\.?\s?nr\.?|sagsnr\.?|konto(?:nr\.?)?|reg\.?\s?nr\.?)"
    r"[\s:.]*$",
    re.IGNORECASE,
)
_YEARS = re.compile(r"(?:19|20)\d\d\D+(?:19|20)\d\d")  # "2020 2023": two years, not a number
_DATE = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")  # 20230322

# --- e-mail and links ----------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.%+-]+(?:@|\s?[(\[]at[)\]]\s?)[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}", re.IGNORECASE
)
# With a scheme, from www., or a bare domain with a path ("example.dk/svar?id=3").
_URL = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|(?<![\w@.-])(?:[a-z0-9-]+\.)+[a-z]{2,}/)[^\s<>\"'\[\]]*", re.IGNORECASE
)
_URL_TRAILING = ".,;:!?)]}'\""
_URL_USERINFO = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?[^/?#]*@", re.IGNORECASE)
# Kept links are hidden behind private-use markers so that digits in them are no phone numbers.
_PROTECT_OPEN, _PROTECT_CLOSE = "\ue000", "\ue001"
_PROTECTED = re.compile(f"{_PROTECT_OPEN}(\\d+){_PROTECT_CLOSE}")

# --- names --------------------------------------------------------------------------------
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_GENITIVE = re.compile(r"(?:['’]s|['’]|s)$")
# Surnames recognised by their ending even when the list lacks them (Kjærsgaard, Kastrup-Larsen).
_SURNAME_ENDING = re.compile(r"(?:sen|ssen|søn|sson|gaard|gård|strup|skov|holm|lund|bæk|berg|kjær)s?$")
# Titles and functions that precede a name ("borgmester Mette ...", "direktør Kjærsgaard");
# compounds count ("kommunaldirektør", "projektleder"), the bare verb-like "leder" does not.
_TITLES = frozenset(
    {"hr", "fru", "frk", "dr", "prof", "direktør", "borgmester", "konsulent", "formand", "næstformand",
     "rådmand", "minister", "professor", "lektor", "adjunkt", "rektor", "prorektor", "dekan", "chef",
     "facilitator", "ordfører", "sekretær", "koordinator", "ph.d", "kollega", "kollegaen", "ceo", "cto"}
)  # fmt: skip
_TITLE_ENDINGS = (
    "direktør", "borgmester", "konsulent", "formand", "rådmand", "minister", "chef", "leder", "koordinator",
    "sekretær", "ordfører", "facilitator", "rådgiver", "medlem",
)  # fmt: skip
_DOTTED_TITLES = frozenset({"hr", "dr", "prof", "frk"})
# Names that are also Danish words but far more often a name than the word in workshop texts:
# they count alone, like any other first name ("Jens foreslog ...").
_NAMES_DESPITE_WORD = frozenset(
    {"Jens", "Mads", "Kim", "Lotte", "Trine", "Helle", "Tove", "Palle", "Ebbe", "Stig", "Sten", "Rune", "Ellen",
     "Agnes", "Arne", "Aksel", "Maren", "Mille", "Maya", "Noah", "Oscar", "Jasmin", "Henry", "Helen", "Karl",
     "Søs", "Lærke", "Benjamin", "Kåre", "Jarl", "Iver", "Verner", "Frede", "Ester", "Viola", "Åse", "Tilde"}
)  # fmt: skip
# First names that workshop texts mostly use as words, Danish or English ("Per år", "max 5 minutter",
# "Siri"), beyond those the Danish lexicon finds; they count only before a surname or after a title.
# ("Vest", "Sol", "Storm", "Have" are in no list; they are here in case extra names or NER bring them.)
_ALWAYS_WORDS = frozenset(
    {"Per", "Bo", "Have", "Vest", "Sol", "Storm", "Mark", "Hans", "Line", "Tage", "Sine", "Max", "May", "Frank",
     "Odd", "Said", "Gun", "Nova", "Siri", "Will", "Grace", "Hope", "Joy", "Summer", "Victoria", "Smart"}
)  # fmt: skip
# Municipalities, regions and other places of Denmark and its neighbours, and words of organisation
# names: never a name, also not right after a first name or a title.
_PLACES = frozenset(
    """København Frederiksberg Albertslund Ballerup Brøndby Dragør Gentofte Gladsaxe Glostrup Herlev Hvidovre
    Høje-Taastrup Ishøj Lyngby-Taarbæk Lyngby Rødovre Tårnby Vallensbæk Allerød Egedal Fredensborg Frederikssund
    Furesø Gribskov Halsnæs Helsingør Hillerød Hørsholm Rudersdal Bornholm Christiansø Greve Køge Lejre Roskilde
    Solrød Faxe Guldborgsund Holbæk Kalundborg Lolland Næstved Odsherred Ringsted Slagelse Sorø Stevns Vordingborg
    Assens Faaborg-Midtfyn Faaborg Kerteminde Langeland Middelfart Nordfyn Nyborg Odense Svendborg Ærø Billund
    Esbjerg Fanø Fredericia Haderslev Kolding Sønderborg Tønder Varde Vejen Vejle Aabenraa Favrskov Hedensted
    Horsens Norddjurs Odder Randers Samsø Silkeborg Skanderborg Syddjurs Aarhus Århus Herning Holstebro
    Ikast-Brande Ikast Brande Lemvig Ringkøbing-Skjern Ringkøbing Skjern Skive Struer Viborg Brønderslev
    Frederikshavn Hjørring Jammerbugt Læsø Mariagerfjord Morsø Rebild Thisted Vesthimmerland Aalborg Nordjylland
    Midtjylland Syddanmark Sjælland Hovedstaden Danmark Jylland Fyn Falster Vendsyssel Himmerland Thy Mors
    Djursland Skagen Hirtshals Sæby Brovst Nibe Støvring Hadsund Hobro Løgstør Aars Fjerritslev Pandrup Aabybro
    Dronninglund Hals Skørping Nørresundby Limfjorden Kattegat Nordsøen Østersøen Grønland Færøerne Europa Norden
    Sverige Norge Tyskland Holland Nordjyllands Aalborgs Danmarks Region Regionen Regions Kommune Kommunen
    Kommunes Universitet Universitetet Erhvervshus Erhvervshuset Dansk Danske Fonden Fond Nord Syd Øst Vest
    Business Vækstforum Erhvervsråd Byråd Byrådet Folketinget Regeringen Ministeriet Styrelsen Akademi
    Erhvervsakademi Professionshøjskole Gymnasium Skole Center Centret Hospital Sygehus""".split()
)  # fmt: skip
_ORGANISATION_WORDS = frozenset(w.casefold() for w in _PLACES)


@functools.lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    """spaCy's Danish stop words, imported on first use and without torch (see pipeline.language.import_spacy)."""
    from pipeline.language import import_spacy

    import_spacy()
    from spacy.lang.da.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


@functools.cache
def _name_lists() -> tuple[frozenset[str], frozenset[str], frozenset[str], str]:
    """First names, last names and Danish last names from Faker's person providers, and where they came from."""
    from faker.providers.person.da_DK import Provider as Danish
    from faker.providers.person.no_NO import Provider as Norwegian
    from faker.providers.person.sv_SE import Provider as Swedish

    first: set[str] = set()
    last: set[str] = set()
    for provider in (Danish, Norwegian, Swedish):
        for attribute in ("first_names", "first_names_male", "first_names_female"):
            first.update(getattr(provider, attribute, ()) or ())
        last.update(getattr(provider, "last_names", ()) or ())
    # Hyphenated list entries ("Ann-Marie") are recognised part by part.
    first = {part for name in first for part in name.split("-")}
    source = f"faker {metadata.version('faker')} ({', '.join(NAME_LOCALES)})"
    return frozenset(first), frozenset(last), frozenset(Danish.last_names), source


@functools.cache
def _danish_words() -> frozenset[str]:
    """Every word form of spacy-lookups-data's Danish lemma table (the lexicon of the lookup lemmatizer).

    Used only to tell which names are also words ("per", "bo", "mark").
    """
    from pipeline.language import danish_lemma_table

    return frozenset(danish_lemma_table())


@functools.lru_cache(maxsize=2)
def _ner_pipeline(name: str):
    """``(nlp, description)`` of the spaCy pipeline ``name`` with only what NER needs, or
    ``(None, None)`` when it is not installed or has no NER. Loaded once per process."""
    from pipeline.language import import_spacy

    spacy = import_spacy(name)
    if not (spacy.util.is_package(name) or Path(name).is_dir()):
        log.info("spaCy-pipelinen %s er ikke installeret: navne findes uden NER", name)
        return None, None
    nlp = spacy.load(name)
    # Only what NER needs: the tagger, parser and lemmatizer are most of the time.
    unused = {"parser", "tagger", "morphologizer", "lemmatizer", "trainable_lemmatizer", "attribute_ruler", "senter"}
    nlp.select_pipes(disable=[pipe for pipe in nlp.pipe_names if pipe in unused])
    if not any(pipe in nlp.pipe_names for pipe in ("ner", "entity_ruler", "span_ruler")):
        log.info("spaCy-pipelinen %s har ingen NER: navne findes uden NER", name)
        return None, None
    version = nlp.meta.get("version", "")
    return nlp, f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', name)} {version}".strip()


class Redactor:
    """Replace personal data in texts by placeholders; see the module docstring for the kinds.

    Parameters live in :class:`~pipeline.config.RedactionConfig`. The name lists, the Danish
    lexicon and the optional spaCy NER pipeline are loaded on first use and kept on the
    instance (``first_names_``, ``last_names_``, ``ner_``); :meth:`info` says which were used.
    """

    def __init__(self, config: RedactionConfig | None = None):
        self.config = config or RedactionConfig()
        self._loaded = False

    # ------------------------------------------------------------------ public API
    def redact(self, text: str) -> str:
        """``text`` with its personal data replaced by placeholders."""
        return self.redact_many([text])[0][0]

    def redact_many(self, texts: Sequence[str]) -> tuple[list[str], dict[str, int]]:
        """Redact each text; return the texts and how many items of each kind were replaced."""
        counts = Counter(dict.fromkeys(KINDS, 0))
        if not self.config.enabled:
            return list(texts), dict(counts)
        self.load()
        redacted = [self._redact_rules(text, counts) for text in texts]
        if self.ner_ is not None and self.config.names:
            redacted = self._redact_entities(redacted, counts)
        return redacted, {kind: counts[kind] for kind in KINDS}

    def redact_texts(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
        """Redact every text column of a texts table but :data:`STRUCTURAL_COLUMNS`.

        Returns a new table and the counts per kind, counted once per distinct value of a
        column: a name in a question shared by 150 answers is one name. Ids stay unique
        (a redacted id that now repeats gets a ``~n`` suffix). With ``enabled`` false the
        table is returned as it is, with zero counts.
        """
        counts = Counter(dict.fromkeys(KINDS, 0))
        out = frame.copy()
        if not self.config.enabled:
            return out, dict(counts)
        out = self._redact_column_names(out, counts)
        for column in out.columns:
            if column in STRUCTURAL_COLUMNS or not (
                pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column])
            ):
                continue
            values = out[column]
            is_text = values.map(lambda value: isinstance(value, str))
            distinct = list(pd.unique(values[is_text]))
            redacted, column_counts = self.redact_many(distinct)
            replacement = dict(zip(distinct, redacted))
            out.loc[is_text, column] = values[is_text].map(replacement)
            counts.update(column_counts)
        if "text_id" in out.columns and out["text_id"].duplicated().any():
            out["text_id"] = unique_text_ids(out["text_id"])
        return out, {kind: counts[kind] for kind in KINDS}

    def _redact_column_names(self, frame: pd.DataFrame, counts: Counter) -> pd.DataFrame:
        """The table with the names of an input table's own columns redacted ("Kontakt Jette Vinther"):
        they become headers of the exports. Redacted names that now repeat get ``.2``, ``.3``."""
        own = [c for c in frame.columns if isinstance(c, str) and c not in TEXT_COLUMNS and c not in STRUCTURAL_COLUMNS]
        if not own:
            return frame
        redacted, column_counts = self.redact_many(own)
        if redacted == own:
            return frame
        counts.update(column_counts)
        taken = set(frame.columns) - set(own)
        names = {}
        for column, name in zip(own, redacted):
            unique, k = name, 1
            while unique in taken:
                k += 1
                unique = f"{name}.{k}"
            taken.add(unique)
            names[column] = unique
        return frame.rename(columns=names)

    def redact_report(self, report: IngestReport) -> IngestReport:
        """An ingest report with what it quotes from the inputs redacted: skipped questions, notes
        (sheet names, cells) and layouts (text column and sheet names); file names stay."""
        if not self.config.enabled:
            return report
        files = []
        for file in report.files:
            texts = [file.layout, *file.skipped_questions, *file.notes]
            redacted, _ = self.redact_many(texts)
            n = len(file.skipped_questions)
            files.append(replace(file, layout=redacted[0], skipped_questions=redacted[1 : 1 + n], notes=redacted[1 + n :]))
        return replace(report, files=files)

    def info(self) -> dict[str, object]:
        """What redaction used, for the run manifest (no personal data)."""
        if not self.config.enabled:
            return {"enabled": False}
        self.load()
        return {
            "enabled": True,
            "kinds": list(KINDS) if self.config.names else [k for k in KINDS if k != "name"],
            "names": self.names_source_ if self.config.names else None,
            "ner": self.ner_source_,
            # How many names the config added, never the names (the saved config leaves them out too).
            "extra_names": len(self.config.extra_names),
        }

    # ------------------------------------------------------------------ loading
    def load(self) -> "Redactor":
        """Load the name lists, the Danish lexicon and the NER pipeline now (else on first use).

        They are cached per process, so a later Redactor with the same settings starts at once.
        """
        if self._loaded:
            return self
        config = self.config
        allowed = {word.casefold() for word in config.allow_words}
        self.allow_words_ = frozenset(w for w in allowed if " " not in w)
        self.allow_phrases_ = self._phrase_pattern([w for w in config.allow_words if " " in w.strip()])
        self.extra_phrases_ = self._phrase_pattern([w for w in config.extra_names if " " in w.strip()])
        extra_first = {w.strip().title() for w in config.extra_names if w.strip() and " " not in w.strip()}
        first, last, danish_last, self.names_source_ = _name_lists()
        words = _danish_words()
        places = _PLACES | {w.title() for w in _ORGANISATION_WORDS}
        self.first_names_ = frozenset(
            n for n in (first | extra_first) if n.casefold() not in allowed and n not in places and len(n) > 1
        )
        self.last_names_ = frozenset(n for n in last if n.casefold() not in allowed and n not in places)
        # A first name that is also a Danish word needs a surname or a title to count.
        self.ambiguous_first_ = frozenset(
            n
            for n in self.first_names_
            if n not in extra_first
            and (n in _ALWAYS_WORDS or ((n.casefold() in words or n.casefold() in _stop_words()) and n not in _NAMES_DESPITE_WORD))
        )
        self.ambiguous_last_ = frozenset(n for n in self.last_names_ if n.casefold() in words)
        self.danish_last_names_ = frozenset(n for n in danish_last if n in self.last_names_ and n not in self.ambiguous_last_)
        self.words_ = words
        self.ner_, self.ner_source_ = self._load_ner()
        self._word_cache: dict[str, tuple[bool, str | None]] = {}
        self._loaded = True
        return self

    @staticmethod
    def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
        phrases = [p.strip() for p in phrases if p.strip()]
        if not phrases:
            return None
        alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def _load_ner(self):
        name = self.config.ner_pipeline
        if not name or not self.config.names:
            return None, None
        return _ner_pipeline(name)

    # ------------------------------------------------------------------ the rules
    def _redact_rules(self, text: str, counts: Counter) -> str:
        if not text:
            return text
        kept: list[str] = []
        if "/" in text or "www." in text or "WWW." in text:
            text = _URL.sub(lambda m: self._url(m, counts, kept), text)
        if "@" in text or "at]" in text or "at)" in text or "AT]" in text or "AT)" in text:
            text, n = _EMAIL.subn(PLACEHOLDERS["email"], text)
            counts["email"] += n
        if _DIGIT.search(text):
            text, n = _CPR.subn(PLACEHOLDERS["cpr"], text)
            counts["cpr"] += n
            text = _PHONE.sub(lambda m: self._phone(m, counts), text)
        if self.config.names:
            text = self._redact_names(text, counts)
        if kept:
            text = _PROTECTED.sub(lambda m: kept[int(m.group(1))], text)
        return text

    def _url(self, match: re.Match, counts: Counter, kept: list[str]) -> str:
        url = match.group()
        stripped = url.rstrip(_URL_TRAILING)
        tail = url[len(stripped) :]
        if self.config.all_urls or "?" in stripped or "#" in stripped or _URL_USERINFO.match(stripped):
            counts["url"] += 1
            return PLACEHOLDERS["url"] + tail
        kept.append(stripped)
        return f"{_PROTECT_OPEN}{len(kept) - 1}{_PROTECT_CLOSE}{tail}"

    @staticmethod
    def _phone(match: re.Match, counts: Counter) -> str:
        number = match.group()
        text = match.string
        if match.group("intl"):
            digits = sum(c.isdigit() for c in number)
            if not 8 <= digits <= 15:
                return number
        elif match.group("local"):
            # Without a country code an 8-digit number may be an amount, a date or a register number.
            if _UNIT_AFTER.match(text, match.end()) or _REGISTER_BEFORE.search(text[max(0, match.start() - 16) : match.start()]):
                return number
            if _YEARS.fullmatch(number) or _DATE.fullmatch(number):
                return number
        counts["phone"] += 1
        return PLACEHOLDERS["phone"]

    # ------------------------------------------------------------------ names
    def _redact_names(self, text: str, counts: Counter) -> str:
        spans: list[tuple[int, int]] = []
        if self.extra_phrases_ is not None:
            spans += [m.span() for m in self.extra_phrases_.finditer(text)]
        spans += self._name_spans(text)
        if not spans:
            return text
        if self.allow_phrases_ is not None:
            allowed = [m.span() for m in self.allow_phrases_.finditer(text)]
            spans = [s for s in spans if not any(s[0] < a_end and a_start < s[1] for a_start, a_end in allowed)]
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        counts["name"] += len(merged)
        parts, position = [], 0
        for start, end in merged:
            parts += [text[position:start], PLACEHOLDERS["name"]]
            position = end
        parts.append(text[position:])
        return "".join(parts)

    def _name_spans(self, text: str) -> list[tuple[int, int]]:
        tokens = list(_WORD.finditer(text))
        spans = []
        i, n = 0, len(tokens)
        cache = self._word_cache
        while i < n:
            word = tokens[i].group()
            # Most words are neither a title nor a name: one dict look-up per word keeps this fast.
            info = cache.get(word)
            if info is None:
                kind = self._first_name_kind(word) or ("surname" if self._is_lone_surname(word) else None)
                info = cache[word] = (self._is_title(word), kind)
            is_title, kind = info
            if not is_title and kind is None:
                i += 1
                continue
            following = tokens[i + 1] if i + 1 < n else None
            start = None
            if following is not None and is_title and self._adjacent(text, tokens[i], following, word):
                if self._name_after_title(following.group()):
                    start = i + 1
            if start is None:
                if kind == "sure" or kind == "surname":
                    start = i
                elif kind == "ambiguous" and following is not None and self._adjacent(text, tokens[i], following):
                    if self._is_surname(following.group(), strict=True) or self._first_name_kind(following.group()) == "sure":
                        start = i
                elif kind == "lower" and following is not None and self._adjacent(text, tokens[i], following):
                    if self._is_lower_surname(following.group()):
                        spans.append((tokens[i].start(), following.end()))
                        i += 2
                        continue
            if start is None:
                i += 1
                continue
            end = start
            shouting = tokens[start].group().isupper()  # "METTE HANSEN": the surname is in capitals too
            while end + 1 < n and end - start < 3 and self._adjacent(text, tokens[end], tokens[end + 1]):
                nxt = tokens[end + 1].group()
                if shouting and nxt.isupper() and len(nxt) > 1:
                    nxt = nxt[:1] + nxt[1:].lower()
                if not (self._first_name_kind(nxt) in ("sure", "ambiguous") or self._is_surname(nxt, strict=False)):
                    break
                end += 1
            spans.append((tokens[start].start(), tokens[end].end()))
            i = end + 1
        return spans

    @staticmethod
    def _adjacent(text: str, left: re.Match, right: re.Match, title: str | None = None) -> bool:
        gap = text[left.end() : right.start()]
        if gap == " ":
            return True
        # "hr. Hansen", "dr. Jensen"
        return title is not None and title.casefold() in _DOTTED_TITLES and gap in (". ", ".")

    @staticmethod
    def _is_title(word: str) -> bool:
        folded = word.casefold()
        return folded in _TITLES or (len(folded) > len("leder") and folded.endswith(_TITLE_ENDINGS))

    @staticmethod
    def _capitalised(word: str) -> bool:
        return all(part[:1].isupper() and (len(part) == 1 or not part[1:].isupper()) for part in re.split("[-'’]", word) if part)

    def _first_name_kind(self, word: str) -> str | None:
        """``sure``, ``ambiguous`` (also a word), ``lower`` (a first name typed in lowercase) or None."""
        if word.casefold() in self.allow_words_:
            return None
        if "-" in word:
            parts = word.split("-")
            if not (all(p.islower() for p in parts) or all(self._capitalised(p) or p.isupper() for p in parts)):
                return None
            names = [p[:1].upper() + p[1:].lower() for p in parts]
            if all(name in self.first_names_ for name in names):
                return "ambiguous" if all(name in self.ambiguous_first_ for name in names) else "sure"
            return None
        if word.islower():
            return "lower" if word.title() in self.first_names_ else None
        if self._capitalised(word) or (word.isupper() and len(word) > 2):
            name = word[:1] + word[1:].lower()
            if name in self.first_names_:
                return "ambiguous" if name in self.ambiguous_first_ else "sure"
            stem = _GENITIVE.sub("", name)
            if stem != name and stem in self.first_names_ and stem not in self.ambiguous_first_:
                return "sure"  # "Mettes forslag"
        return None

    def _is_surname(self, word: str, strict: bool) -> bool:
        """A capitalised word that continues a name: any proper noun, or with ``strict`` a known surname."""
        if not (self._capitalised(word) or (word.isupper() and len(word) > 2 and strict)):
            return False
        folded = word.casefold()
        if folded in self.allow_words_ or folded in _ORGANISATION_WORDS or folded in _stop_words() or self._is_title(word):
            return False
        if not strict:
            return len(word) > 1 and not word.isupper()
        name = word[:1] + word[1:].lower()
        stem = _GENITIVE.sub("", name)
        for candidate in {name, stem}:
            if candidate in self.last_names_ and candidate not in self.ambiguous_last_:
                return True
        parts = name.split("-")
        return any(_SURNAME_ENDING.search(part.lower()) and part.lower() not in self.words_ for part in parts)

    def _is_lone_surname(self, word: str) -> bool:
        """A Danish surname on its own ("Jensen foreslog ..."): on Faker's Danish list, or a
        patronymic of a first name ("Mortensen", "Rasmussen") that is no Danish word ("Krisen")."""
        if not (self._capitalised(word) or (word.isupper() and len(word) > 3)) or "-" in word:
            return False
        name = word[:1] + word[1:].lower()
        if name.casefold() in self.allow_words_ or name.casefold() in _ORGANISATION_WORDS:
            return False
        for candidate in {name, _GENITIVE.sub("", name)}:
            if candidate in self.danish_last_names_:
                return True
            if candidate.endswith("sen") and candidate.casefold() not in self.words_:
                if candidate[:-2] in self.first_names_ or candidate[:-3] in self.first_names_:
                    return True
        return False

    def _is_lower_surname(self, word: str) -> bool:
        """A surname typed in lowercase after a lowercase first name ("mette frederiksen")."""
        if not word.islower() or word in self.allow_words_ or word in _stop_words():
            return False
        name = word.title()
        if name in self.last_names_ and name not in self.ambiguous_last_:
            return True
        return bool(_SURNAME_ENDING.search(word)) and word not in self.words_ and word.endswith(("sen", "son", "søn"))

    def _name_after_title(self, word: str) -> bool:
        """After a title: a first name, a surname, or a proper noun that is no Danish word."""
        if self._first_name_kind(word) in ("sure", "ambiguous") or self._is_surname(word, strict=True):
            return True
        return self._is_surname(word, strict=False) and word.casefold() not in self.words_

    # ------------------------------------------------------------------ NER
    def _redact_entities(self, texts: list[str], counts: Counter) -> list[str]:
        out = list(texts)
        todo = [k for k, text in enumerate(texts) if text and any(c.isupper() for c in text)]
        docs = self.ner_.pipe((texts[k] for k in todo), batch_size=256)
        for k, doc in zip(todo, docs):
            spans = [ent for ent in doc.ents if ent.label_ in ("PER", "PERSON") and self._entity_is_name(ent)]
            if not spans:
                continue
            text = texts[k]
            for ent in sorted(spans, key=lambda e: e.start_char, reverse=True):
                text = text[: ent.start_char] + PLACEHOLDERS["name"] + text[ent.end_char :]
            counts["name"] += len(spans)
            out[k] = text
        return out

    def _entity_is_name(self, ent) -> bool:
        surface = ent.text.strip()
        if not surface or "[" in surface or "]" in surface or surface.casefold() in self.allow_words_:
            return False
        if self.allow_phrases_ is not None and self.allow_phrases_.fullmatch(surface):
            return False
        words = [t.text for t in ent if t.is_alpha]
        if not words or any(w.casefold() in _ORGANISATION_WORDS for w in words):
            return False
        if len(words) == 1:
            # One word alone: a proper noun that is not also a common word or a word-like name.
            word = words[0]
            return self._capitalised(word) and word.casefold() not in self.words_ and word not in self.ambiguous_first_
        return all(self._capitalised(w) for w in words)


def without_quoted_personal_data(read: Callable[[], T], config: RedactionConfig) -> T:
    """``read()``, with an :class:`~pipeline.errors.InputError` it raises re-raised with what it
    quotes from the input redacted, so that a bad cell's personal data reaches neither the console
    nor Prefect's logs, states, events and result store. The original is not chained to it."""
    try:
        return read()
    except InputError as error:
        if not config.enabled:
            raise
        redacted = error.redacted(Redactor(config).redact)
    raise redacted  # after the except block: the original is no __context__ (tracebacks would print it)


def benchmark(n: int = 50_000) -> float:
    """Redact ``n`` short Mentimeter-like answers (a few with personal data); print and return answers/s."""
    templates = [
        "Mere samarbejde mellem kommunerne om kompetencer nr. {k}",
        "Grøn omstilling af virksomhederne i Nordjylland, runde {k}",
        "Ring til Anne-Mette på 12 34 56 {k:02d} om robotter",
        "Digitalisering og automatisering i SMV'erne ({k} deltagere)",
        "Per år bør vi uddanne flere faglærte, skriv til hans{k}@firma.dk",
        "Bedre infrastruktur og kollektiv trafik til Hjørring",
    ]
    texts = [templates[k % len(templates)].format(k=k % 97) for k in range(n)]
    redactor = Redactor(RedactionConfig(ner_pipeline=None))
    redactor.redact("varm op")  # loading the lists is not part of the rate
    started = time.perf_counter()
    redactor.redact_many(texts)
    rate = n / (time.perf_counter() - started)
    print(f"redaction: {n} answers in {n / rate:.2f} s = {rate:,.0f} answers/s")
    return rate


if __name__ == "__main__":  # python -m pipeline.redact
    benchmark()
