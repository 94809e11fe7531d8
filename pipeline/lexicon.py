"""tematik's Danish lexicon: the lookup lemma table and its fixes, the fixed expressions
topic words keep whole, the domain stop words and the English words of Danish texts.

Read by :mod:`pipeline.language` (lemmas), :mod:`pipeline.naming` (names and topic words)
and :mod:`pipeline.redact` (its word list); :func:`pipeline.language.lemma_fingerprint`
follows :data:`LOOKUP_FIXES`, :data:`LEMMA_RULES` and the domain stop words.
"""

from __future__ import annotations

import functools
from importlib import resources

# spacy-lookups-data's Danish table is keyed by word form without context, so a form that is
# both a noun and a verb gets one lemma. These are the wrong ones met in workshop texts where
# the right lemma matters for a theme (singular "iværksætter" -> verb "iværksætte" while the
# plural gives the noun) or the wrong one is another word ("viden" -> "vide", "have" -> "hav",
# "både" -> "båd", "godt" -> "godte").
LOOKUP_FIXES = {
    "have": "have",
    "godt": "god",
    "gode": "god",
    "både": "både",
    "iværksætter": "iværksætter",
    "forsker": "forsker",
    "ansatte": "ansat",
    "deltager": "deltager",
    "viden": "viden",
    "skabe": "skabe",
    "skabes": "skabe",
    "øget": "øge",
    "pres": "pres",
    "potentialer": "potentiale",
    "potentialet": "potentiale",
    "potentialerne": "potentiale",
    "svært": "svær",  # not the verb "sværte"
    "let": "let",  # the adjective, not the verb "le"
    "mange": "mange",  # not "mangen"
    "lang": "lang",  # the adjective, not the verb "lange" (the table gives "længere" -> "lang")
    "lange": "lang",
    "iværksætterier": "iværksætteri",  # a plural the table lacks
    "smver": "smv",  # SMV plurals written without an apostrophe
    "smvere": "smv",
    "smverne": "smv",
}

# Fixed expressions that a topic's words keep whole when its texts use them: cut into lemmas
# they lose their sense ("højt til loftet" -> "loft"; "de lange seje træk" -> "lang", "træk").
FIXED_EXPRESSIONS = (
    "på tværs",
    "højt til loftet",
    "lange seje træk",
    "hånd i hånd",
    "i øjenhøjde",
    "på sigt",
    "ud over rampen",
    "vind i sejlene",
    "first mover",
    "life science",
    "triple helix",
)

# The table's rules besides the fixes, by name (a change changes the lemma caches' key).
LEMMA_RULES = ("present participles kept whole",)


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Lowercase English words that are not Danish words: English stop words ("and", "the") and the
    forms of spacy-lookups-data's English lemma table missing from the Danish one ("attract")."""
    import srsly
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # spaCy's English module takes seconds to import
    from spacy.lang.da.stop_words import STOP_WORDS as DANISH_STOP_WORDS

    table = srsly.read_gzip_json(resources.files("spacy_lookups_data") / "data" / "en_lemma_lookup.json.gz")
    danish = set(danish_lemma_table()) | {lemma for lemma in danish_lemma_table().values() if isinstance(lemma, str)}
    english = {form for pair in table.items() for form in pair if isinstance(form, str)} | set(ENGLISH_STOP_WORDS)
    # "and" and "the" are Danish forms too (a duck; an old spelling of tea) but read as English.
    return frozenset(english - danish - set(DANISH_STOP_WORDS)) | {"and", "the"}


def domain_stop_words() -> frozenset[str]:
    """tematik's documented domain stop words (``pipeline/resources/domain_stop_words.txt``)."""
    text = resources.files("pipeline").joinpath("resources/domain_stop_words.txt").read_text(encoding="utf-8")
    return frozenset(word for line in text.splitlines() if (word := line.split("#", 1)[0].strip().lower()))


@functools.lru_cache(maxsize=1)
def danish_lemma_table() -> dict[str, str]:
    """spacy-lookups-data's Danish lemma table (lowercase word form -> lemma) with its present
    participles kept whole (:data:`LEMMA_RULES`) and :data:`LOOKUP_FIXES`.

    Read once per process and shared by the lookup lemmatiser and redaction's lexicon. A
    plain dict gives exactly what spaCy's lookup lemmatizer gives (``table.get(form, form)``)
    without building spaCy's ``Table`` of 553k forms, which took ~1.5 s per process.
    """
    import srsly  # spaCy's own JSON reader, installed with it

    table = srsly.read_gzip_json(resources.files("spacy_lookups_data") / "data" / "da_lemma_lookup.json.gz")
    # A present participle is its own lemma: "udfordrende infrastruktur", "manglende
    # arbejdskraft", "vedvarende energi" are adjectives in workshop texts, and the table's
    # verbs ("udfordre", "vedvare") read as other words. Theme mapping is unchanged by it on
    # every labelled set of `make benchmark`.
    table.update({form: form for form, lemma in table.items() if form.endswith("ende") and lemma == form[:-3] and lemma.endswith("e")})
    table.update(LOOKUP_FIXES)
    return table
