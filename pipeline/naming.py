"""Names for topics and emerging themes: Danish phrases taken from their own texts.

A reader meets a topic by its name, so the name is something the participants wrote:
"Samarbejde på tværs", "Grøn omstilling", "Vi tænker for småt" — not BERTopic's id
form (``3_samarbejde_tværs_aktør``) nor a list of lemmas. For each group of texts (a
topic, an emerging theme):

1. **Candidates** are the phrases of its texts: 1–4 consecutive words within a clause
   (punctuation ends a clause), in their surface form, not starting or ending with a stop
   word (spaCy's Danish list, less the adjectives of :data:`PHRASE_WORDS`), with a content
   word (not a stop word or one of tematik's domain stop words,
   :func:`pipeline.lexicon.domain_stop_words`) or two words that are not stop words
   ("mindre virksomheder"), in the same surface form in at least two of the group's texts,
   and not a piece of a longer phrase (every text that writes it goes on, or opens, with the
   same word that is not a stop word: "brintstrategi på lang" + "sigt");
   phrases are counted by their lemmas ("grøn omstilling" = "grønne omstilling").
2. **Scores** (each scaled to 0–1 among the group's candidates, then weighted by
   :attr:`PhraseNamer.weights`): class-based TF-IDF over phrases (BERTopic's
   ``ClassTfidfTransformer``, the groups as classes: what is typical of this group and
   not of the others), the similarity of the phrase's embedding to the group's centroid
   (with an embedder; without one, the centroid of the texts that use the phrase), and
   coverage (the share of the group's texts that use it).
3. **Choice** with maximal marginal relevance: each phrase first gives way to a longer one
   that ``expand_share`` of its texts write ("samarbejde" -> "samarbejde på tværs"), then a
   ranked list of phrases, each scored minus ``diversity`` × its word overlap with those
   already chosen; a phrase that names a bigger group already is skipped, so two topics
   never share a name. The name is the first, written as Danish writes it: a capital first
   letter, the other words as the texts write them ("SMV", "Nordjylland"), lower case
   otherwise. A word that says nothing alone — a place (:func:`proper_nouns`), an
   adjective (:func:`is_adjective`), a verb (:func:`is_verb`) — gives way to the phrase
   its texts say it in most ("Stærkt" -> "Stærkt samarbejde"), else to the most central
   short text that uses it ("Maritime" -> "Maritime erhverv"); an adjective most of the
   group's texts use names it alone only when no short text uses it.
4. **Fallback**: a group whose texts share no phrase is named by its most central short
   text (at most :attr:`PhraseNamer.fallback_words` words; else the first words of its
   most central text); when that is a single word, by up to three of the group's
   single-word texts ("Tålmodighed, stædighed og ordentlighed").

:class:`pipeline.representation.PhraseRepresentation` is the same namer as a BERTopic
representation model, used as the ``"Navn"`` aspect; any other BERTopic representation can
take its place (:class:`pipeline.topics.TopicModeler`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.sparse import csr_matrix

from pipeline.danish import listing
from pipeline.numba_cache import import_bertopic

import_bertopic()  # bertopic without torch, with numba's cache (a saved run's re-export names emerging themes)
from bertopic.vectorizers import ClassTfidfTransformer  # noqa: E402

# A word: letters and digits, with inner hyphens or apostrophes ("it-sikkerhed", "SMV'er").
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
# Where a phrase cannot run on: sentence and clause punctuation, brackets, quotes, dashes between spaces.
_CLAUSE_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”„«»…/|•·\n\r\t]+|\s[-–—]+\s")
# A name shown as it was written keeps at most this many characters.
MAX_NAME_CHARS = 80
NO_NAME = "Uden fælles ord"


# Words of spaCy's Danish stop list that say something in a phrase ("mindre virksomheder",
# "nye markeder", "god dialog"): they may open or close a name, though not be one alone.
PHRASE_WORDS = frozenset({"god", "lille", "mindre", "mindst", "ny", "nyt", "hel", "egen", "mange", "flere", "lav", "lave"})


@lru_cache(maxsize=1)
def name_stop_words() -> tuple[frozenset[str], frozenset[str]]:
    """(words a phrase may not start or end with, lemmas that are not content)."""
    from spacy.lang.da.stop_words import STOP_WORDS

    from pipeline.lexicon import domain_stop_words

    return frozenset(STOP_WORDS) - PHRASE_WORDS, frozenset(STOP_WORDS) | domain_stop_words()


@lru_cache(maxsize=1)
def _lemma_table() -> dict[str, str]:
    from pipeline.lexicon import danish_lemma_table

    return danish_lemma_table()


def lemma_of(word: str, table: dict | None = None) -> str:
    """A lowercase word's lemma in the lookup table (the key phrases are counted by)."""
    lemma = (table or _lemma_table()).get(word, word)
    return lemma if isinstance(lemma, str) else lemma[0]


# Adjectives with no -t/-e forms, which :func:`is_adjective` cannot tell by inflection
# ("Fælles" named a demo topic of "fælles testcenter", "fælles messestand", ...: shared what?).
UNINFLECTED_ADJECTIVES = frozenset({"fælles", "gratis", "moderne", "ekstra", "diverse", "stille"})


def is_adjective(lemma: str) -> bool:
    """An adjective by its inflection in the lookup table: its -t and -e forms lead back to
    it ("stærkt", "stærke" -> "stærk"; "maritimt", "maritime" -> "maritim"), as no noun's do;
    or one of the few that do not inflect (:data:`UNINFLECTED_ADJECTIVES`)."""
    if lemma in UNINFLECTED_ADJECTIVES:
        return True
    table = _lemma_table()
    return lemma.isalpha() and all(lemma_of(lemma + ending, table) == lemma and lemma + ending in table for ending in ("t", "e"))


def is_verb(word: str, lemma: str) -> bool:
    """``word`` is a verb's infinitive or present tense by the lookup table: the lemma has a
    present (-r) and a past (-de/-te) form, and ``word`` is the present ("mangler") or the
    infinitive of a verb that is no noun too ("tænke"; "samarbejde" has "samarbejdet")."""
    table = _lemma_table()

    def leads_back(form: str) -> bool:
        return form in table and lemma_of(form, table) == lemma

    if not (lemma.endswith("e") and leads_back(lemma + "r") and (leads_back(lemma + "de") or leads_back(lemma[:-1] + "te"))):
        return False
    return word == lemma + "r" or (word == lemma and not leads_back(lemma + "t") and not leads_back(lemma + "rne"))


def clauses(text: str) -> list[list[str]]:
    """The words of each clause of ``text``, in their surface form."""
    return [words for part in _CLAUSE_BREAK.split(str(text)) if (words := _WORD.findall(part))]


def phrases(text: str, max_words: int = 4) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Candidate phrases of ``text``: their lemmas (the key: "grønne omstilling" and "grøn
    omstilling" are one phrase) -> their lowercase surface words (see the module docstring)."""
    return {key: surface for key, (surface, _) in phrases_in_context(text, max_words).items()}


def phrases_in_context(text: str, max_words: int = 4) -> dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, str]]]:
    """:func:`phrases` with the words around each: lemmas -> (lowercase surface words, (the
    word before, the word after) in its clause, "" at a clause edge)."""
    boundary, not_content = name_stop_words()
    table = _lemma_table()
    found = {}
    for words in clauses(text):
        lower = [word.lower() for word in words]
        lemmas = [lemma_of(word, table) for word in lower]
        usable = [len(word) > 1 and any(char.isalpha() for char in word) for word in lower]
        edge = [ok and word not in boundary for word, ok in zip(lower, usable)]
        content = [ok and word not in not_content and lemma not in not_content for word, lemma, ok in zip(lower, lemmas, usable)]
        for start in range(len(lower)):
            if not edge[start]:
                continue
            for end in range(start + 1, min(start + max_words, len(lower)) + 1):
                # A content word, or two words that are not function words ("mindre virksomheder").
                if edge[end - 1] and (any(content[start:end]) or sum(edge[start:end]) >= 2):
                    around = (lower[start - 1] if start else "", lower[end] if end < len(lower) else "")
                    found.setdefault(tuple(lemmas[start:end]), (tuple(lower[start:end]), around))
    return found


def written_forms(texts: Sequence[str]) -> dict[str, str]:
    """How the texts write each word when it does not open a sentence: "SMV", "Nordjylland", "grøn"."""
    seen: dict[str, Counter] = {}
    for text in texts:
        for sentence in re.split(r"[.!?\n]+", str(text)):
            for position, word in enumerate(_WORD.findall(sentence)):
                if position or word.isupper():  # an opening capital says nothing; "SMV" does
                    seen.setdefault(word.lower(), Counter())[word] += 1
    return {lower: min(forms.items(), key=lambda item: (-item[1], item[0]))[0] for lower, forms in seen.items()}


def proper_nouns(texts: Sequence[str]) -> frozenset[str]:
    """Lowercase words the texts always write with a capital first letter, and lower case
    after it, where a sentence does not open with them: "Nordjylland", "Aalborg" (not "SMV")."""
    forms: dict[str, set[bool]] = defaultdict(set)
    for text in texts:
        for sentence in re.split(r"[.!?\n]+", str(text)):
            for word in _WORD.findall(sentence)[1:]:
                forms[word.lower()].add(word[:1].isupper() and word[1:2].islower())
    return frozenset(word for word, titled in forms.items() if titled == {True})


def as_name(words: Sequence[str], forms: dict[str, str]) -> str:
    """Danish name form: the written form of each word, a capital first letter."""
    name = " ".join(forms.get(word, word) for word in words)
    return name[:1].upper() + name[1:]


@dataclass
class PhraseNamer:
    """Names groups of texts with phrases of their own texts (see the module docstring).

    ``weights``: of c-TF-IDF, embedding similarity and coverage (read on the demo and the
    real workshop: c-TF-IDF alone picks rare, odd phrases; coverage alone picks the group's
    most common word; similarity keeps the phrase on the group's subject); ``length_weight``
    adds to longer phrases and ``expand_share`` lets a phrase give way to a longer one that
    contains it ("samarbejde" -> "samarbejde på tværs") when that many of its texts use it
    (0.3 turned "produktion", in six texts, into a phrase of two of them).
    ``max_texts``: a group is read in a seeded sample of at most this many texts (at
    100,000 texts, the phrases of every text would take ~30 s).
    """

    max_words: int = 4
    n_candidates: int = 10
    n_phrases: int = 5
    diversity: float = 0.5
    weights: tuple[float, float, float] = (0.4, 0.3, 0.3)
    fallback_words: int = 8
    expand_share: float = 0.5
    length_weight: float = 0.15
    max_texts: int = 50

    def name_groups(
        self,
        texts: Sequence[str],
        groups: Sequence[Hashable],
        embeddings: np.ndarray,
        embed: Callable[[list[str]], np.ndarray] | None = None,
        order: Sequence[Hashable] | None = None,
    ) -> dict[Hashable, list[tuple[str, float]]]:
        """Ranked ``(phrase, score)`` per group; the first phrase is the group's name.

        ``texts``, ``groups`` (one label per text; ``None``/-1 texts count as a class of
        their own for c-TF-IDF but are never named) and ``embeddings`` are row-aligned;
        ``embed`` embeds candidate phrases (without it, see the module docstring);
        ``order``: the groups to name, biggest first (default: by size), which decides who
        keeps a phrase two groups would share.
        """
        named = list(order) if order is not None else [g for g, _ in Counter(groups).most_common() if g is not None and g != -1]
        if not named:
            return {}
        # Large groups are read in a seeded sample: a phrase most of a topic's texts share is in it too.
        labels = np.array([str(group) for group in groups], dtype=object)
        by_label: dict[str, list[int]] = defaultdict(list)
        for i, label in enumerate(labels):
            by_label[label].append(i)
        keep = np.sort(np.concatenate([seeded_sample(np.asarray(rows), self.max_texts) for rows in by_label.values()]))
        texts, labels = [str(texts[i]) for i in keep], labels[keep]
        vectors = _unit(np.asarray(embeddings, dtype=np.float32)[keep])
        text_phrases = [phrases_in_context(text, self.max_words) for text in texts]
        vocabulary = sorted({phrase for found in text_phrases for phrase in found})
        index = {phrase: j for j, phrase in enumerate(vocabulary)}
        classes = sorted(set(labels.tolist()))
        rows = {label: k for k, label in enumerate(classes)}
        # Binary text x phrase counts, summed per class: a text counts a phrase once.
        cells: Counter = Counter()
        members_of: dict[str, list[int]] = {label: [] for label in classes}
        surfaces: dict[tuple[str, tuple[str, ...]], Counter] = defaultdict(Counter)
        neighbours: dict[tuple[str, tuple[str, ...]], tuple[set, set]] = defaultdict(lambda: (set(), set()))
        for i, (label, found) in enumerate(zip(labels, text_phrases)):
            members_of[label].append(i)
            row = rows[label]
            for phrase, (surface, (before, after)) in found.items():
                cells[row, index[phrase]] += 1
                surfaces[label, phrase][surface] += 1
                neighbours[label, phrase][0].add(before)
                neighbours[label, phrase][1].add(after)
        counts = csr_matrix(
            (list(cells.values()), ([r for r, _ in cells], [c for _, c in cells])), shape=(len(classes), len(vocabulary))
        )
        # A phrase is shown in the surface form most of the group's texts use ("grøn omstilling"),
        # and is a candidate only when that very form is shared: the name is read in the texts.
        shown = _MostUsed(surfaces)
        # BERTopic's c-TF-IDF fails on a single phrase (its idf becomes a scalar); one phrase needs no weighing.
        ctfidf = ClassTfidfTransformer().fit_transform(counts).tocsr() if len(vocabulary) > 1 else counts
        forms = written_forms(texts)
        proper = proper_nouns(texts)
        boundary, _ = name_stop_words()

        def whole(label: str, phrase: tuple[str, ...]) -> bool:
            """Not a piece of a longer phrase: every text that uses "brintstrategi på lang" goes on
            with "sigt", every "omstilling" follows "grøn" (a stop word around it is no cut)."""
            return not any(len(words) == 1 and (word := next(iter(words))) and word not in boundary for words in neighbours[label, phrase])

        def alone(label: str, phrase: tuple[str, ...]) -> bool:
            """A name on its own: not a lone proper noun ("Nordjylland" says where, not what),
            adjective ("Stærkt", "Lang": strong what?) or verb ("Tænke", "Mangler")."""
            word = shown[label, phrase][0][0]
            return len(phrase) > 1 or not (word in proper or is_adjective(phrase[0]) or is_verb(word, phrase[0]))
        row_counts = {label: counts.getrow(rows[label]).toarray().ravel() for label in map(str, named) if label in rows}

        chosen: dict[str, list[tuple[tuple[str, ...], float]]] = {}
        shared: dict[str, list[tuple[str, ...]]] = {}
        for group in named:
            label = str(group)
            members = members_of.get(label, [])
            if not members:
                continue
            row = rows[label]
            least = min(2, len(members))
            eligible = [
                j for j in np.flatnonzero(row_counts[label] >= least)
                if shown[label, vocabulary[j]][1] >= least and whole(label, vocabulary[j])
            ]  # fmt: skip
            relevance = ctfidf.getrow(row).toarray().ravel()
            ranked = sorted(eligible, key=lambda j: (-relevance[j], vocabulary[j]))[: self.n_candidates]
            chosen[label] = [(vocabulary[j], 0.0) for j in ranked]  # scored below, all groups' phrases embedded at once
            shared[label] = [vocabulary[j] for j in eligible]
        candidates = sorted({" ".join(shown[label, phrase][0]) for label, ranked in chosen.items() for phrase, _ in ranked})
        phrase_vectors = _unit(np.asarray(embed(candidates), dtype=np.float32)) if embed and candidates else None
        where = {phrase: k for k, phrase in enumerate(candidates)}

        result: dict[Hashable, list[tuple[str, float]]] = {}
        taken: set[tuple[str, ...]] = set()
        for group in named:
            label = str(group)
            members = members_of.get(label, [])
            if not members:
                continue
            centroid = _unit(vectors[members].mean(axis=0, keepdims=True))[0]
            ranked = [phrase for phrase, _ in chosen[label]]
            if not ranked:
                result[group] = [(self._fallback([texts[i] for i in members], vectors[members], centroid), 0.0)]
                continue
            row = rows[label]
            columns = [index[phrase] for phrase in ranked]
            relevance = _scaled(ctfidf.getrow(row).toarray().ravel()[columns])
            coverage = row_counts[label][columns] / len(members)
            if phrase_vectors is not None:
                similarity = phrase_vectors[[where[" ".join(shown[label, p][0])] for p in ranked]] @ centroid
            else:  # the centroid of the texts that use the phrase
                users = [[i for i in members if phrase in text_phrases[i]] for phrase in ranked]
                similarity = _unit(np.vstack([vectors[u].mean(axis=0) for u in users])) @ centroid
            w_ctfidf, w_similarity, w_coverage = self.weights
            length = np.array([len(phrase) - 1 for phrase in ranked], dtype=float) / max(self.max_words - 1, 1)
            score = (
                w_ctfidf * relevance + w_similarity * _scaled(similarity) + w_coverage * _scaled(coverage)
                + self.length_weight * length
            )
            # Each phrase gives way to the longer one its texts write ("samarbejde" -> "samarbejde
            # på tværs") before the choice, so a phrase another group took may still lead here.
            best: dict[tuple[str, ...], float] = {}
            for phrase, value in zip(ranked, score):
                longer = self._expand(phrase, shared[label], row_counts[label], index, taken)
                best[longer] = max(best.get(longer, -np.inf), float(value))
            picked = self._mmr(list(best), np.array(list(best.values())), taken)
            if picked:
                taken.add(picked[0][0])
            names = []
            for phrase, value in picked:
                if not alone(label, phrase):  # "Stærkt" -> the phrase its texts say it in most: "Stærkt samarbejde"
                    longer = [other for other in shared[label] if len(other) > len(phrase) and other not in taken and _contains(other, phrase)]
                    phrase = max(longer, key=lambda other: (row_counts[label][index[other]], -len(other), other), default=phrase)
                # An adjective most of the group's texts use says what the group is about ("Maritime" over
                # maritime answers), but a reader still asks "maritime what?": a short answer that uses it
                # ("Maritime erhverv") names the group better, and the adjective alone only without one.
                defining = len(phrase) == 1 and is_adjective(phrase[0]) and 2 * row_counts[label][index[phrase]] >= len(members)
                standalone = alone(label, phrase)
                said = None if standalone else self._in_context(shown[label, phrase][0], [texts[i] for i in members], vectors[members], centroid)
                if said:
                    names.append((said, float(value)))
                elif standalone or defining:
                    names.append((as_name(shown[label, phrase][0], forms)[:MAX_NAME_CHARS], float(value)))
            result[group] = list(dict(names).items()) or [(self._fallback([texts[i] for i in members], vectors[members], centroid), 0.0)]
        return result

    def _mmr(self, ranked: list[tuple[str, ...]], score: np.ndarray, taken: set) -> list[tuple[tuple[str, ...], float]]:
        """Up to ``n_phrases`` phrases by maximal marginal relevance (word overlap as redundancy);
        a phrase already naming another group never comes first."""
        remaining = [k for k in range(len(ranked)) if ranked[k] not in taken] or list(range(len(ranked)))
        picked: list[int] = []
        while remaining and len(picked) < self.n_phrases:
            def marginal(k: int) -> tuple[float, tuple[str, ...]]:
                overlap = max((_overlap(ranked[k], ranked[j]) for j in picked), default=0.0)
                return (-(score[k] - self.diversity * overlap), ranked[k])

            best = min(remaining, key=marginal)
            picked.append(best)
            remaining.remove(best)
        return [(ranked[k], float(score[k])) for k in picked]

    def _expand(self, phrase: tuple[str, ...], shared: list[tuple[str, ...]], counts: np.ndarray, index: dict, taken: set):
        """The longest phrase that contains ``phrase`` and is used by at least ``expand_share`` of
        the texts that use it ("samarbejde" -> "samarbejde på tværs"): a reader understands the
        phrase the participants wrote better than its head word."""
        best = phrase
        for longer in shared:
            if (
                len(longer) > len(best)
                and longer not in taken
                and _contains(longer, phrase)
                and counts[index[longer]] >= max(2, self.expand_share * counts[index[phrase]])
            ):
                if len(longer) > len(best) or counts[index[longer]] > counts[index[best]]:
                    best = longer
        return best

    def _in_context(self, words: Sequence[str], texts: list[str], vectors: np.ndarray, centroid: np.ndarray) -> str | None:
        """A word that cannot name a group alone (an adjective, a verb, a place: "Maritime",
        "Nordjylland") in the most central short text that uses it ("Maritime erhverv")."""
        pattern = re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)")
        order = np.lexsort((np.arange(len(texts)), -(vectors @ centroid)))
        for k in order:
            if len(_WORD.findall(texts[k])) <= self.fallback_words and pattern.search(texts[k].casefold()):
                return _as_sentence(texts[k])
        return None

    def _fallback(self, texts: list[str], vectors: np.ndarray, centroid: np.ndarray) -> str:
        """The most central short text, else the opening words of the most central text. When
        the most central short texts are single words ("Tålmodighed", "Ordentlighed",
        "Stædighed"), up to three of them, as a Dane lists them: "Tålmodighed, ordentlighed og
        stædighed" — one of them alone would name a part of the group."""
        order = np.lexsort((np.arange(len(texts)), -(vectors @ centroid)))
        short = [k for k in order if 0 < len(_WORD.findall(texts[k])) <= self.fallback_words]
        keywords = list(dict.fromkeys(_as_sentence(texts[k]) for k in short if len(_WORD.findall(texts[k])) == 1))
        if short and len(keywords) >= 2 and len(_WORD.findall(texts[short[0]])) == 1:
            listed = [keywords[0]] + [_lower_first(word) for word in keywords[1:3]]
            return listing(listed)
        if short:
            return _as_sentence(texts[short[0]])
        words = clauses(texts[order[0]]) if len(texts) else []
        opening = " ".join((words[0] if words else [])[: self.fallback_words])
        return _as_sentence(opening + " …") if opening else NO_NAME


class _MostUsed(dict):
    """``(group, phrase) -> (its most used surface form, how many texts use it)``, worked out on first use."""

    def __init__(self, surfaces: dict[tuple, Counter]):
        super().__init__()
        self.surfaces = surfaces

    def __missing__(self, key):
        self[key] = value = min(self.surfaces[key].items(), key=lambda item: (-item[1], item[0]))
        return value


def seeded_sample(rows: np.ndarray, limit: int) -> np.ndarray:
    """``rows``, or a seeded sample of ``limit`` of them (the same on every run)."""
    if len(rows) <= limit:
        return rows
    return np.sort(np.random.default_rng(0).choice(rows, size=limit, replace=False))


def _as_sentence(text: str) -> str:
    text = " ".join(str(text).split()).strip(" -–—.,;:")
    text = text[: MAX_NAME_CHARS - 1].rstrip() + "…" if len(text) > MAX_NAME_CHARS else text
    return text[:1].upper() + text[1:] if text else NO_NAME


def _lower_first(text: str) -> str:
    """"Ordentlighed" -> "ordentlighed" inside a list; "SMV'er", "CCUS" stay as written."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _contains(longer: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    return any(longer[k : k + len(phrase)] == phrase for k in range(len(longer) - len(phrase) + 1))


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    return len(set(a) & set(b)) / len(set(a) | set(b))


def _scaled(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    spread = values.max() - values.min() if len(values) else 0.0
    return (values - values.min()) / spread if spread > 0 else np.ones_like(values)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)
