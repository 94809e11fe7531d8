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
whatever else a workshop needs (the name rules: :mod:`pipeline.person_names`). Counts per
kind (never the values) are returned for the run manifest.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

import pandas as pd

from pipeline.config import RedactionConfig
from pipeline.errors import InputError
from pipeline.person_names import NameFinder
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

class Redactor:
    """Replace personal data in texts by placeholders; see the module docstring for the kinds.

    Parameters live in :class:`~pipeline.config.RedactionConfig`. The name lists, the Danish
    lexicon and the optional spaCy NER pipeline are loaded on first use and kept on the
    instance (``names_``, a :class:`~pipeline.person_names.NameFinder`); :meth:`info` says
    which were used.
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
            "names": self.names_.source_ if self.config.names else None,
            "ner": self.names_.ner_source_,
            # How many names the config added, never the names (the saved config leaves them out too).
            "extra_names": len(self.config.extra_names),
        }

    def load(self) -> "Redactor":
        """Load the name lists, the Danish lexicon and the NER pipeline now (else on first use).

        They are cached per process, so a later Redactor with the same settings starts at once.
        """
        if not self._loaded:
            self.names_ = NameFinder(self.config)
            self._loaded = True
        return self

    @property
    def ner_(self):
        """The spaCy NER pipeline in use, or None (:mod:`pipeline.person_names`)."""
        return self.load().names_.ner_

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
        merged = self.names_.spans(text)
        if not merged:
            return text
        counts["name"] += len(merged)
        parts, position = [], 0
        for start, end in merged:
            parts += [text[position:start], PLACEHOLDERS["name"]]
            position = end
        parts.append(text[position:])
        return "".join(parts)

    # ------------------------------------------------------------------ NER
    def _redact_entities(self, texts: list[str], counts: Counter) -> list[str]:
        out = list(texts)
        todo = [k for k, text in enumerate(texts) if text and any(c.isupper() for c in text)]
        docs = self.ner_.pipe((texts[k] for k in todo), batch_size=256)
        for k, doc in zip(todo, docs):
            spans = [ent for ent in doc.ents if ent.label_ in ("PER", "PERSON") and self.names_.is_entity_name(ent)]
            if not spans:
                continue
            text = texts[k]
            for ent in sorted(spans, key=lambda e: e.start_char, reverse=True):
                text = text[: ent.start_char] + PLACEHOLDERS["name"] + text[ent.end_char :]
            counts["name"] += len(spans)
            out[k] = text
        return out

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
