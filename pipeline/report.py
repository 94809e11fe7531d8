"""The report model: what one run's reports say, in which order and in which words.

Every writer (:mod:`pipeline.writers`: CSV, XLSX, Word, Markdown, charts, HTML) and the
Prefect artifacts read a :class:`RunResult` through the functions here, so a theme's
place, its sentence, a quote's source line and a column's Danish header are decided in
one place:

* the result: :class:`RunResult` and :func:`topic_names`;
* the order: :func:`ranked_themes` (by share, ``andet`` last), :func:`in_report_order`,
  :func:`theme_order`;
* the Danish headers and value names (:data:`DANISH_HEADERS`, …);
* the prose: :func:`source` (where a quote comes from), :func:`share_basis`,
  :func:`theme_summary`, :func:`no_quotes_note`, :func:`emerging_summary`,
  :func:`check_summary`, and :func:`overview_rows`, the overview table of every report;
* numbers as Danish readers write them come from :mod:`pipeline.danish`; a 95 % interval
  is always :func:`~pipeline.danish.interval` ("18,4–28,7 %"), the one interval format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.danish import MISSING, count, interval, number, percent
from pipeline.schema import ANDET, ANDET_LABEL, EMERGING_COLUMNS, NOTE_KIND

EMERGING_INTRO = "Grupper af tekster uden for taksonomiens temaer (i 'andet'), største først."

# --- Danish names of columns and values ------------------------------------------------

DANISH_HEADERS = {
    "text_id": "Tekst-id", "text": "Tekst", "source_file": "Fil", "source_kind": "Kildetype",
    "question": "Spørgsmål/afsnit", "section_path": "Afsnit (sti)", "workshop": "Workshop",
    "topic": "Emne-nr.", "topic_label": "Emne", "theme": "Tema-id", "theme_label": "Tema", "label": "Tema",
    "theme_score": "Temascore", "weight": "Vægt", "voices": "Stemmer", "language": "Sprog", "is_danish": "Dansk",
    "language_backend": "Sprogmodel", "lemmas": "Lemmaer", "role": "Rolle", "confident": "Sikker",
    "n_texts": "Tekster", "weighted_frequency": "Vægtet hyppighed", "share": "Andel",
    "ci_low": "95 %-interval nedre", "ci_high": "95 %-interval øvre", "breakdown": "Opdeling", "group": "Gruppe",
    "grouping": "Gruppering", "rank": "Nr.", "centrality": "Centralitet", "source": "Kilde",
    "name": "Navn", "size": "Tekster", "weighted_size": "Vægtet størrelse", "words": "Ord", "mixed": "Blandet",
    "quotes": "Citater", "session": "Session",
}  # fmt: skip
SOURCE_KIND_NAMES = {"mentimeter": "Mentimeter", "note": "Opsamling", "table": "Tabel"}
BREAKDOWN_NAMES = {"total": "I alt", "workshop": "Workshop", "question": "Spørgsmål/afsnit", "source_kind": "Kildetype"}
SHEET_NAMES = {"total": "I alt", "workshop": "Pr. workshop", "question": "Pr. spørgsmål", "source_kind": "Pr. kildetype"}
GROUPING_NAMES = {"theme": "Tema", "topic": "Emne"}
VALUE_NAMES = {"source_kind": SOURCE_KIND_NAMES, "breakdown": BREAKDOWN_NAMES, "grouping": GROUPING_NAMES}
# The overall table's share of each source group on its own (pipeline.weighting.source_group_shares).
VOICE_PREFIX = "share_"


# --- the run --------------------------------------------------------------------------------


@dataclass
class RunResult:
    """Everything one run produced (see the stage contracts in README / pipeline/run.py).

    ``emerging``: emerging themes, biggest first (name, size, weighted_size, share, words,
    quotes = list of texts); empty when not given. ``figures``: plotly figure JSON by name
    (BERTopic's views for report.html); may be empty.
    """

    assignments: pd.DataFrame
    topics: pd.DataFrame
    frequencies: dict[str, pd.DataFrame]
    quotes_by_theme: pd.DataFrame
    quotes_by_topic: pd.DataFrame
    taxonomy_labels: dict[str, str]
    manifest: dict = field(default_factory=dict)
    emerging: pd.DataFrame | None = None
    figures: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.taxonomy_labels = {**self.taxonomy_labels}
        self.taxonomy_labels.setdefault(ANDET, ANDET_LABEL)
        if self.emerging is None:
            self.emerging = pd.DataFrame(columns=EMERGING_COLUMNS)


def topic_names(topics: pd.DataFrame) -> dict:
    """{topic: readable name}: the ``label`` (analyst's) or ``name`` column, else the id."""
    if "topic" not in topics.columns:
        return {}
    column = next((c for c in ("label", "name") if c in topics.columns), None)
    names = topics[column] if column else topics["topic"].astype(str)
    return dict(zip(topics["topic"], names.astype(str)))


# --- Danish wording -------------------------------------------------------------------------


_HEADING_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s+(?=\D)")  # "1 ", "2.1 ", "3. " before a heading


def readable_heading(text: str, numbered: bool = True) -> str:
    """A heading as a reader wants it in a source line: without its number ("2.1 "; only when
    ``numbered``, as a Mentimeter question may start with a number of its own) and in sentence
    case when written in capitals ("HOVEDBUDSKABER FRA WORKSHOPPEN" -> "Hovedbudskaber fra workshoppen")."""
    text = str(text).strip()
    if numbered:
        text = _HEADING_NUMBER.sub("", text)
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        text = text.lower()
        first = next((i for i, c in enumerate(text) if c.isalpha()), 0)
        text = text[:first] + text[first].upper() + text[first + 1 :]
    return text


def is_present(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and str(value).strip() != ""


def source(quote: Mapping, with_workshop: bool = True) -> str:
    """Where a quote comes from, for readers: "workshop · question/section" (no file names;
    without the workshop when ``with_workshop`` is false, e.g. in a one-workshop report)."""
    kind = quote.get("source_kind")
    question = quote.get("question")
    if is_present(question):
        question = readable_heading(question, numbered=kind == NOTE_KIND)
        if kind == "table" and _generic_text_column(question) and is_present(quote.get("source_file")):
            from pipeline.ingest.tables import table_title  # runs saved before ingestion named the question so

            question = table_title(str(quote["source_file"]))
    workshop = quote.get("workshop") if with_workshop else None
    parts = [str(workshop).strip() if is_present(workshop) else "", question if is_present(question) else ""]
    return " · ".join(part for part in parts if part)


def _generic_text_column(name: str) -> bool:
    """A table's text column named "svar", "tekst", …: says nothing about where the answer was given."""
    from pipeline.ingest.tables import TEXT_COLUMN_NAMES

    return name.casefold() in TEXT_COLUMN_NAMES


def joined_words(value, limit: int | None = None) -> str:
    """Topic or theme words as "a, b, c" (the first ``limit``; None: all), from a comma-joined
    string, a list of words or of (word, score) pairs."""
    if isinstance(value, str):
        words = [word.strip() for word in value.split(",")]
    elif isinstance(value, (list, tuple, np.ndarray)):
        words = [str(word[0] if isinstance(word, (list, tuple)) else word).strip() for word in value]
    else:
        return "" if not is_present(value) else str(value)
    return ", ".join([word for word in words if word][:limit])


def quote_texts(value) -> list[str]:
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(text) for text in value]
    return [] if not is_present(value) else [str(value)]


# --- the order and the prose ---------------------------------------------------------------


def ranked_themes(total: pd.DataFrame, themes: Sequence[str] = ()) -> list[str]:
    """The order every report shows themes in: by share in ``total`` (a frequency table), largest
    first, ``andet`` last; ``themes`` not in ``total`` or without a share follow in their order."""
    share = total.set_index("theme")["share"]
    themes = list(dict.fromkeys([*total["theme"], *themes]))
    ranked = sorted((t for t in themes if t != ANDET), key=lambda t: -share.get(t, -1.0) if pd.notna(share.get(t)) else 1.0)
    return ranked + ([ANDET] if ANDET in themes else [])


def in_report_order(table: pd.DataFrame, total: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows of a frequency table in report order: its themes as :func:`ranked_themes` ranks them in
    ``total`` (by default ``table`` itself, the overall table); a breakdown's groups (workshops, questions,
    source kinds) stay in their order, and within each the themes follow the overall table's order, so every
    sheet and CSV lists the themes as the reports do."""
    ranked = ranked_themes(table if total is None else total, table["theme"])
    rank = table["theme"].map({theme: place for place, theme in enumerate(ranked)}).to_numpy()
    groups = [pd.factorize(table[column])[0] for column in BREAKDOWN_NAMES if column in table.columns]
    return table.iloc[np.lexsort((rank, *reversed(groups)))].reset_index(drop=True)  # the last key sorts first


def theme_order(result: RunResult) -> list[str]:
    """The taxonomy's themes and any theme with quotes, in report order (:func:`ranked_themes`)."""
    total = result.frequencies["total"]
    themes = set(result.taxonomy_labels) | set(result.quotes_by_theme["theme"])
    return [theme for theme in ranked_themes(total, [*result.taxonomy_labels, *result.quotes_by_theme["theme"]]) if theme in themes]


def kind_counts(result: RunResult, theme: str) -> tuple[int, int]:
    """(participants' texts, note passages) whose theme is ``theme``."""
    texts = result.assignments
    if "theme" not in texts or "source_kind" not in texts:
        return 0, 0
    counted = texts["weight"] > 0 if "weight" in texts else True  # as the frequency table: passages weighing 0 do not count
    mine = texts["source_kind"][(texts["theme"] == theme) & counted]
    return int((mine != NOTE_KIND).sum()), int((mine == NOTE_KIND).sum())


def voice_name(column: str) -> str:
    """``share_deltagere`` -> ``Deltagere``: a source group's name as a column heading."""
    name = column.removeprefix(VOICE_PREFIX)
    return name[:1].upper() + name[1:]


def voice_columns(total: pd.DataFrame) -> list[str]:
    """The overall table's per-source-group share columns (answers, note), in their order."""
    return [column for column in total.columns if str(column).startswith(VOICE_PREFIX)]


# How each share estimator (WeightConfig.estimator) counts a text, for a reader.
_COUNTING = {
    "classify_and_count": "hver tekst tæller med sit tema",
    "probabilistic": "hver tekst tæller med sin sandsynlighed for hvert tema",
    "em": "hver tekst tæller med sin sandsynlighed for hvert tema, tilpasset kørslens egen fordeling",
}


def check_summary(check: Mapping) -> str:
    """``'Kontrolleret på 50 tilfældige tekster: 88 % enige med analytikeren.'`` from a validation's facts."""
    checked, rows = int(check["checked"]), int(check["rows"])
    sample = (f"{number(checked)} tilfældige tekster" if checked == rows
              else f"{number(checked)} af {number(rows)} udtrukne tekster (resten ikke udfyldt)")  # fmt: skip
    return f"Kontrolleret på {sample}: {number(100 * check['agreement'])} % enige med analytikeren."


def share_basis(result: RunResult) -> str:
    """What the published shares and their intervals rest on: said wherever the shares are shown."""
    check = result.manifest.get("validation")
    if check:
        return (f"{check_summary(check)} Andelene er rettet efter kontrollen, og 95 %-intervallet dækker både, hvilke "
                "tekster der blev skrevet, og usikkerheden i tildelingen af temaer.")  # fmt: skip
    estimator = ((result.manifest.get("config") or {}).get("weights") or {}).get("estimator", "classify_and_count")
    return (f"Andelen er temaets vægtede andel af alle input; {_COUNTING.get(estimator, _COUNTING['classify_and_count'])}. "
            "95 %-intervallet viser, hvor meget andelen afhænger af, hvilke tekster der blev skrevet, ikke "
            "usikkerheden i tildelingen af temaer (den måles med tematik validate).")  # fmt: skip


def theme_check(result: RunResult, theme: str) -> tuple[int, int] | None:
    """``(kept, checked)``: of the checked texts tematik gave ``theme``, how many the analyst kept there
    (None: no validation, or no text of the theme was checked)."""
    mine = (result.manifest.get("validation") or {}).get("by_theme", {}).get(theme)
    return (int(mine["kept"]), int(mine["checked"])) if mine else None


def theme_summary(result: RunResult, theme: str) -> str:
    """One short Danish paragraph: the theme's share with its interval, and what it rests on."""
    total = result.frequencies["total"].set_index("theme")
    answers, notes = kind_counts(result, theme)
    basis = f"Temaet bygger på {number(answers)} svar fra deltagerne og {number(notes)} afsnit fra opsamlingen."  # same in plural
    if theme not in total.index or pd.isna(total.loc[theme, "share"]):
        return "Ingen tekster blev knyttet til temaet."
    row = total.loc[theme]
    share = f"{percent(row['share'])} af de vægtede input (95 %-interval {interval(row['ci_low'], row['ci_high'])})"
    voices = [f"{voice_name(column).lower()} {percent(row[column])}" for column in voice_columns(total.reset_index())]
    if voices:
        share += f"; {' og '.join(voices)}"
    check = theme_check(result, theme)
    if check:
        basis += (f" Kontrol: {number(check[0])} af de {number(check[1])} kontrollerede tekster, som tematik gav "
                  f"{'andet' if theme == ANDET else 'temaet'}, lå rigtigt.")  # fmt: skip
    if theme == ANDET:
        return f"Tekster, der ikke passer i nogen af temaerne, udgør {share}. {basis.replace('Temaet', 'Det')}"
    return f"{result.taxonomy_labels.get(theme, theme)} udgør {share}. {basis}"


def no_quotes_note(result: RunResult, theme: str) -> str:
    """What a theme's section says instead of quotes: why there are none ("Ingen tekster." only
    when the theme has no texts, never under a paragraph that counts them)."""
    if not sum(kind_counts(result, theme)):
        return "Ingen tekster."
    if theme == ANDET:  # never examples of a theme: their groups are the emerging themes
        return "Tekster uden for temaerne citeres ikke som eksempler; de nye temaer samler dem i grupper."
    return "Ingen af temaets tekster kan citeres som eksempel: de er usikre på temaet eller ikke hele udsagn."


def emerging_summary(theme: Mapping) -> str:
    size = int(theme["size"]) if is_present(theme.get("size")) else None
    parts = [f"{count(size, 'tekst', 'tekster')}" if size is not None else ""]
    if is_present(theme.get("share")):
        parts.append(f"{percent(theme['share'])} af de vægtede input")
    sentence = ", ".join(part for part in parts if part)
    words = joined_words(theme.get("words"))
    return (f"{sentence[:1].upper()}{sentence[1:]}. " if sentence else "") + (f"Nøgleord: {words}." if words else "")


def quote_parts(quotes: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Participants' answers, then apart the note's excerpts ("Fra opsamlingen"): the parts
    that hold quotes, with their titles. A note condenses a discussion, an answer is one voice."""
    from_note = quotes["source_kind"].eq(NOTE_KIND) if "source_kind" in quotes.columns else pd.Series(False, index=quotes.index)
    parts = (("Deltagernes svar", quotes[~from_note]), ("Fra opsamlingen", quotes[from_note]))
    return [(title, part) for title, part in parts if not part.empty]


# --- the emerging themes' quotes and the overview table ----------------------------------------


def quoted_rows(emerging: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``assignments`` that an emerging theme quotes (by id or by text), in their order.

    :func:`emerging_quotes` runs per theme and file; a run may hold 100,000 texts.
    """
    quoted = pd.Series(False, index=assignments.index)
    for key, column in (("text_id", "quote_ids"), ("text", "quotes")):
        if key in assignments.columns and column in emerging.columns:
            keys = {value for values in emerging[column] for value in quote_texts(values)}
            quoted |= assignments[key].astype(str).isin(keys)
    return assignments[quoted]


def emerging_quotes(theme: Mapping, assignments: pd.DataFrame) -> pd.DataFrame:
    """An emerging theme's quotes with their provenance, found by ``quote_ids`` (by text for a
    table without them: the first text that reads so)."""
    columns = ["text", "workshop", "question", "source_file", "source_kind"]
    texts, ids = quote_texts(theme.get("quotes")), quote_texts(theme.get("quote_ids"))
    key, keys = ("text_id", ids) if len(ids) == len(texts) and "text_id" in assignments.columns else ("text", texts)
    rows = assignments.loc[assignments[key].astype(str).isin(keys), [c for c in {key, *columns} if c in assignments.columns]]
    known = rows.drop_duplicates(key).set_index(rows.drop_duplicates(key)[key].astype(str))
    known = known[[c for c in columns if c in known.columns]]
    rows = [{**(known.loc[k].to_dict() if k in known.index else {}), "text": text} for k, text in zip(keys, texts)]
    return pd.DataFrame(rows, columns=columns)


def kept_of_checked(check: tuple[int, int] | None) -> str:
    return f"{number(check[0])} af {number(check[1])}" if check else MISSING


# The column of a theme's check (:func:`theme_check`, "7 af 8") in every report's overview of the themes.
CHECK_HEADER = "Kontrol"


def check_cells(result: RunResult, themes: Sequence[str]) -> list[str] | None:
    """Per theme of ``themes`` its check as the overviews show it ("7 af 8"; None: the run was not validated)."""
    if not result.manifest.get("validation"):
        return None
    return [kept_of_checked(theme_check(result, theme)) for theme in themes]


def overview_rows(result: RunResult) -> tuple[tuple[str, ...], list[tuple[str, tuple[str, ...]]]]:
    """The overview table of every report (Word, HTML): header and ``(theme id, cells)`` per theme in report order.

    Tema, Andel, 95 %-interval, each source group's own share (when there are several:
    the participants' and the note's), Tekster, and with a validation the check per theme.
    """
    total = result.frequencies["total"]
    voices = voice_columns(total)
    themes = theme_order(result)
    checks = check_cells(result, themes)
    header = ("Tema", "Andel", "95 %-interval", *[voice_name(column) for column in voices], "Tekster",
              *((CHECK_HEADER,) if checks is not None else ()))  # fmt: skip
    indexed = total.set_index("theme")
    rows = []
    for position, theme in enumerate(themes):
        row = indexed.loc[theme] if theme in indexed.index else None
        rows.append((theme, (
            result.taxonomy_labels.get(theme, theme),
            percent(row["share"]) if row is not None else "–",
            interval(row["ci_low"], row["ci_high"]) if row is not None else "–",
            *[percent(row[column]) if row is not None else "–" for column in voices],
            number(row["n_texts"]) if row is not None and is_present(row.get("n_texts")) else "–",
            *((checks[position],) if checks is not None else ()),
        )))  # fmt: skip
    return header, rows
