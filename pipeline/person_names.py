"""Which words of a text are person names: the name rules of redaction (:mod:`pipeline.redact`).

First names come from Faker's Danish, Norwegian and Swedish person providers, surnames from
the same lists and by their ending ("-sen", "-gaard"); the Danish lexicon (spacy-lookups-data's
Danish lemma table) and spaCy's stop words tell which names are also words ("Per", "Bo",
"Mark"), and those count only before a surname or after a title. Places and organisation
words are never names. An installed spaCy pipeline with NER adds its PER entities.
:class:`NameFinder` holds what one :class:`~pipeline.config.RedactionConfig` needs.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from pipeline.config import RedactionConfig

log = logging.getLogger(__name__)

NAME_LOCALES: tuple[str, ...] = ("da_DK", "no_NO", "sv_SE")

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
    from pipeline.lexicon import danish_lemma_table

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


class NameFinder:
    """The person names in a text under one redaction config (``allow_words``, ``extra_names``,
    ``ner_pipeline``): :meth:`spans` by the rules, :attr:`ner_` and :meth:`is_entity_name` for
    the NER pipeline's entities. Building one reads the lists (cached per process) and
    derives the config's own sets from them.
    """

    def __init__(self, config: RedactionConfig):
        self.config = config
        allowed = {word.casefold() for word in config.allow_words}
        self.allow_words_ = frozenset(w for w in allowed if " " not in w)
        self.allow_phrases_ = self._phrase_pattern([w for w in config.allow_words if " " in w.strip()])
        self.extra_phrases_ = self._phrase_pattern([w for w in config.extra_names if " " in w.strip()])
        extra_first = {w.strip().title() for w in config.extra_names if w.strip() and " " not in w.strip()}
        first, last, danish_last, self.source_ = _name_lists()
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

    def spans(self, text: str) -> list[list[int]]:
        """``[start, end]`` of each name in ``text``, overlapping ones merged, in order: the rules'
        names and ``extra_names`` phrases, less those inside an ``allow_words`` phrase."""
        spans: list[tuple[int, int]] = []
        if self.extra_phrases_ is not None:
            spans += [m.span() for m in self.extra_phrases_.finditer(text)]
        spans += self._name_spans(text)
        if not spans:
            return []
        if self.allow_phrases_ is not None:
            allowed = [m.span() for m in self.allow_phrases_.finditer(text)]
            spans = [s for s in spans if not any(s[0] < a_end and a_start < s[1] for a_start, a_end in allowed)]
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return merged

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

    def is_entity_name(self, ent) -> bool:
        """Whether an NER entity is a person's name by the same rules (no place, no common word alone)."""
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
