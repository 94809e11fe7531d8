"""Passage roles: which note passages carry the workshop's content, and which only frame it.

A summary note holds more than what participants said: a title and introduction about the
workshop itself, lead-ins that only announce a list, and often an opening summary that
restates the theme sections below it. Counted as content they inflate the note's weight
(the summary counts every point twice) and end up quoted as "what participants said".
:func:`passage_roles` gives every row of the texts table one role id (Danish, stored in
the ``role`` column); every role but ``indhold`` is kept in ``assignments.csv`` with
weight 0 and is never quoted (:mod:`pipeline.weighting`, :mod:`pipeline.quotes`).

=================  ==========================================================================
role id            meaning
=================  ==========================================================================
``indhold``        content: what was said. Every participant answer (``mentimeter``,
                   ``table``) and every note passage that has no other role.
``om_workshoppen`` about the workshop or the note itself: title, purpose, programme, method,
                   participants, next steps. Passages before the note's first heading (when
                   it has headings; a title heading over the whole note does not count), passages under an introduction-like heading
                   (:data:`ABOUT_HEADINGS`, e.g. "Indledning", "Formål", "Program",
                   "Deltagere", "Næste skridt"), and passages whose first sentence has the
                   event or the note as subject and a framing verb ("Workshoppen er én af …",
                   "I workshoppen deltog 154 …", "Nedenfor gengives …").
``listeindledning`` a one-sentence passage ending in ``:`` that only introduces the list
                   after it ("Deltagerne pegede på følgende elementer:").
``opsummering``    a summary section that restates the note's other sections: its heading
                   names a summary (:data:`SUMMARY_HEADINGS`: "Hovedbudskaber", "Resumé",
                   "Sammenfatning", …), the note has at least as many content passages
                   outside it, and — when embeddings are given — its passages are on
                   average closer to the other sections than those sections' passages are
                   to each other (on the real North Jutland note: 0.922 against 0.898).
=================  ==========================================================================

Rules, not a model: every decision can be read off the heading path (``section_path``) and
the wording, and the rules only ever take passages *out* of the count, never answers.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

CONTENT_ROLE = "indhold"
ABOUT_WORKSHOP_ROLE = "om_workshoppen"
LIST_LEAD_IN_ROLE = "listeindledning"
SUMMARY_ROLE = "opsummering"
ROLES: dict[str, str] = {
    CONTENT_ROLE: "Indhold: hvad der blev sagt (tælles og citeres)",
    ABOUT_WORKSHOP_ROLE: "Om workshoppen eller notatet: titel, formål, program, metode, deltagere, næste skridt",
    LIST_LEAD_IN_ROLE: "Indledning til en liste (\"… følgende elementer:\")",
    SUMMARY_ROLE: "Opsummering, der gentager notatets øvrige afsnit",
}

_SEPARATOR = " > "
# Heading numbering and labels stripped before matching: "2.1", "1.", "IV.", "Tema 3:", "Kapitel 2".
_NUMBERING = re.compile(r"^\s*(?:(?:\d+(?:\.\d+)*\.?|[ivx]+\.|(?:tema|kapitel|afsnit|del)\s+\d+\s*[:.\-–]?)\s*)+", re.I)
ABOUT_HEADINGS = re.compile(
    r"(?:indledning|introduktion|intro|baggrund|baggrund og formål|formål(?:et)?(?: med \w+)?|"
    r"om (?:workshoppen|dagen|notatet|mødet|arrangementet)|(?:dagens )?program(?:met)?|dagsorden|"
    r"metode|proces(?:sen)?|deltagere|deltagerliste|praktisk(?:e)? (?:information|oplysninger)|"
    r"næste skridt|det videre (?:forløb|arbejde)|videre proces|opfølgning|kontakt(?:oplysninger)?|tak)",
    re.I,
)
SUMMARY_HEADINGS = re.compile(
    r"\b(?:hovedbudskaber|hovedpointer|hovedkonklusioner|konklusion(?:er)?|resum[eé]|sammenfatning|"
    r"opsummering|sammendrag|executive summary|de vigtigste (?:pointer|budskaber)|kort fortalt|"
    r"tværgående (?:pointer|budskaber))\b",
    re.I,
)
# First sentence with the event or the note as subject ...
_META_SUBJECT = re.compile(
    r"^(?:(?:i|på|ved|under|med) )?(?:dette |denne |nærværende )?(?:strategi)?(?:workshop(?:pen|pens|s)?|notat(?:et|s)?|"
    r"opsamling(?:en)?|dagen|dagens|arrangement(?:et)?|seminar(?:et)?|mødet|formål(?:et)?|nedenfor|herunder|"
    r"i det følgende|dette afsnit)\b",
    re.I,
)
# ... and a framing verb or noun: about how the day was organised, not about its findings.
_META_WORDS = re.compile(
    r"\b(?:afholdt|afholdes|afholder|deltog|samlede|bidrage|indspil|formål(?:et)?|program(?:met)?|dagsorden|"
    r"facilit\w*|plenum|oplæg|indledt|indledes|fordelte|samler op|opsamling|gengive[rs]?|opsummere[rs]|"
    r"beskrive[rs]|rækkefølge|[ée]n af|bygget op|struktur\w*)\b",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?…]\s+(?=[A-ZÆØÅ\"«(])")


def _note_keys(texts: pd.DataFrame) -> list[pd.Series]:
    """The columns that tell one note from another: its file and, in a series, its workshop."""
    return [texts[column].astype(str) for column in ("workshop", "source_file") if column in texts.columns]


def _headings(section_path: object) -> list[str]:
    if not isinstance(section_path, str) or not section_path.strip():
        return []
    return [heading.strip() for heading in section_path.split(_SEPARATOR) if heading.strip()]


def _bare_heading(heading: str) -> str:
    return _NUMBERING.sub("", heading).strip().rstrip(":").strip()


def is_about_heading(heading: str) -> bool:
    """True for an introduction-like heading ("1. Indledning", "Dagens program", "3 Næste skridt")."""
    return ABOUT_HEADINGS.fullmatch(_bare_heading(heading)) is not None


def first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0]


def is_about_workshop(text: str) -> bool:
    """True when the first sentence has the event or note as subject and a framing word."""
    sentence = first_sentence(text)
    return bool(_META_SUBJECT.search(sentence)) and bool(_META_WORDS.search(sentence))


def is_list_lead_in(text: str) -> bool:
    """True for one sentence ending in ':' — it only announces what follows."""
    stripped = text.strip()
    return stripped.endswith(":") and len(_SENTENCE_END.split(stripped)) == 1


def _without_title(paths: pd.Series) -> pd.Series:
    """Heading paths without the document title: a first heading every passage sits under (Markdown's ``# Title``)."""
    firsts = {path[0] if path else None for path in paths}
    if len(firsts) == 1 and None not in firsts and any(len(path) > 1 for path in paths):
        return paths.map(lambda path: path[1:])
    return paths


def _summary_sections(paths: pd.Series, roles: pd.Series, embeddings: np.ndarray | None) -> list[np.ndarray]:
    """Row positions (within the note) of each summary section that restates the note's other sections."""
    paths = paths.reset_index(drop=True)
    content = (roles == CONTENT_ROLE).to_numpy()
    found: list[np.ndarray] = []
    covered = np.zeros(len(paths), dtype=bool)
    for depth in range(max((len(path) for path in paths), default=0)):
        prefixes = paths.map(lambda path, depth=depth: tuple(path[: depth + 1]) if len(path) > depth else None)
        for prefix in dict.fromkeys(p for p in prefixes if p is not None and SUMMARY_HEADINGS.search(p[-1])):
            inside = np.array([p == prefix for p in prefixes], dtype=bool)
            if (inside & covered).any():
                continue  # a sub-heading of a summary already found
            outside = content & ~inside
            if (inside & content).sum() == 0 or outside.sum() < (inside & content).sum():
                continue  # a note that is all summary: the summary is its content
            if embeddings is not None and not _restates(embeddings, inside & content, outside, paths):
                continue
            found.append(np.flatnonzero(inside))
            covered |= inside
    return found


def _restates(embeddings: np.ndarray, inside: np.ndarray, outside: np.ndarray, paths: pd.Series) -> bool:
    """Are the summary's passages closer to the other sections than those are to each other?

    Each summary passage's best cosine to a passage outside the summary, averaged, against
    the median over the other passages of their best cosine to a passage of another
    section (first two heading levels; their own section excluded, so a section's internal
    likeness does not count). e5 cosines are compressed, so only this relative comparison is meaningful.
    """
    vectors = embeddings / np.clip(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12, None)
    out_rows = np.flatnonzero(outside)
    if len(out_rows) < 2:
        return True
    summary_best = (vectors[inside] @ vectors[out_rows].T).max(axis=1).mean()
    sections = np.array([_SEPARATOR.join(path[:2]) for path in paths], dtype=str)[out_rows]
    similarity = vectors[out_rows] @ vectors[out_rows].T
    other = sections[:, None] != sections[None, :]
    if not other.any():
        return True
    baseline = np.median(np.where(other, similarity, -np.inf).max(axis=1)[other.any(axis=1)])
    return bool(summary_best >= baseline)


def passage_roles(texts: pd.DataFrame, embeddings: np.ndarray | None = None) -> pd.Series:
    """The role of every row of ``texts`` (a :data:`ROLES` id), aligned with ``texts.index``.

    ``texts`` is the ingested table (``source_kind``, ``source_file``, ``text`` and, for
    notes, ``section_path``), in ingestion order: a note's passages in document order.
    ``embeddings``, row-aligned with ``texts``, let a summary section be confirmed as a
    restatement of the other sections; without them its heading decides. Participant
    answers are always ``indhold``.
    """
    roles = pd.Series(CONTENT_ROLE, index=texts.index, name="role", dtype=object)
    if embeddings is not None and len(embeddings) != len(texts):
        raise ValueError(f"{len(embeddings)} embeddings for {len(texts)} texts")
    is_note = texts["source_kind"].astype(str).eq("note").to_numpy()
    # One note = one file of one workshop: in a series two workshops' notes may share a file name.
    for _, rows in texts[is_note].groupby(_note_keys(texts[is_note]), sort=False).indices.items():
        positions = np.flatnonzero(is_note)[rows]
        note = texts.iloc[positions]
        paths = _without_title(note["section_path"].map(_headings) if "section_path" in note.columns else pd.Series([[]] * len(note)))
        has_headings = any(len(path) for path in paths)
        note_roles = pd.Series(CONTENT_ROLE, index=note.index, dtype=object)
        for index, text, path in zip(note.index, note["text"].astype(str), paths):
            if (has_headings and not path) or any(is_about_heading(h) for h in path) or is_about_workshop(text):
                note_roles[index] = ABOUT_WORKSHOP_ROLE
            elif is_list_lead_in(text):
                note_roles[index] = LIST_LEAD_IN_ROLE
        vectors = None if embeddings is None else np.asarray(embeddings)[positions]
        for section in _summary_sections(paths, note_roles.reset_index(drop=True), vectors):
            in_summary = note.index[section]
            note_roles[in_summary] = note_roles[in_summary].where(note_roles[in_summary] != CONTENT_ROLE, SUMMARY_ROLE)
        roles[note.index] = note_roles
    return roles
