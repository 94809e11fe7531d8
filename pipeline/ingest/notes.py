"""Summary notes (Word, Markdown, plain text, text PDF) as passages under their section heading.

Every non-empty paragraph, list item and table cell is one passage, but for a number or a
date alone (a table's row numbers and dates, "12", "14-03-2026"); headings are not
passages but set the ``question`` of the passages below them. Which heading: the nearest
one of level ``config.note_heading_level`` or higher (default 2), so in a note organised
as "2 Opsamling > 2.1 Tema 1 > Potentialer" the passages belong to "2.1 Tema 1"; the
full path of headings goes to the extra column ``section_path``. Passages before any
heading get the document title (Word "Title" style) or the file stem.

Headings are recognised by style in Word (Heading N / Overskrift N, also via a custom
style based on one), by ``#`` in Markdown. Plain text and PDF have no markup, so a line
is a heading when it is

* numbered like a section, "2 Opsamling" or "2.1 Tema 1: ..." (level = depth of the
  number), short and without final punctuation; or
* a short line (at most 10 words) on its own between blank lines, not ending in
  punctuation (level = one below the last numbered heading, else 1).

PDF text is taken with pypdf's layout mode, so vertical gaps become blank lines; page
numbers and running headers and footers (the first or last line of every page, alike
but for numbers: "Notat 14.3.2025 · Side 2 af 8") are dropped; paragraphs are reassembled from their lines, a paragraph also ends at a short line
ending a sentence, and words hyphenated at a line break are rejoined ("digitali- /
sering" -> "digitalisering") except after a capital or digit ("EU-projekter",
"CO2-udledning"). A real hyphen that falls at a line break ("it- / sikkerhed") cannot be
told from hyphenation and is removed too.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pypdf
from docx.table import Table
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt

from pipeline.config import IngestConfig
from pipeline.errors import InputError
from pipeline.danish import count, number
from pipeline.ingest.files import check_file, open_document, read_text, reason
from pipeline.ingest.normalise import MAX_TEXT_CHARS, is_number_or_date, split_text
from pipeline.ingest.report import Extract

_HEADING_STYLE = re.compile(r"^(?:heading|overskrift)\s*(\d)\b", re.IGNORECASE)
_TITLE_STYLES = {"title", "titel"}
_SECTION_NUMBER = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)(\.?)\s+(\S.*)$")  # not years: "2023 var ..."
_BULLET = re.compile(r"^(?:[-*•–·▪◦●■]|\d+[.)])\s+")
_FINAL_PUNCTUATION = tuple(".!?;,:…")
_PAGE_NUMBER = re.compile(r"^(?:side\s+|page\s+)?\d+(?:\s*(?:/|af|of)\s*\d+)?$", re.IGNORECASE)
_LINE_END_HYPHEN = re.compile(r"(\w+)[-\u2010]$")
# Each page's streams are capped by pypdf (75 MB decompressed); many pages sharing one big
# stream would still take hours, and no summary note has anywhere near this many pages.
MAX_PDF_PAGES = 2000
# Running headers and footers of up to this many lines are removed (see _without_running_lines).
RUNNING_ROUNDS = 2


class _Outline:
    """Headings seen so far, and the passages collected under them."""

    def __init__(self, stem: str, config: IngestConfig):
        self.stem, self.level = stem, config.note_heading_level
        self.title: str | None = None
        self.headings: dict[int, str] = {}
        self.rows: list[dict] = []
        self.sections: set[str] = set()
        self.split: list[str] = []  # ids of the first part of each passage split for its length

    def heading(self, level: int, text: str) -> None:
        text = " ".join(text.split())
        if not text:
            return
        if level == 0:
            self.title = self.title or text
            return
        self.headings = {k: v for k, v in self.headings.items() if k < level}
        self.headings[level] = text

    def question(self) -> str:
        upper = [k for k in self.headings if k <= self.level]
        if upper:
            return self.headings[max(upper)]
        if self.headings:
            return self.headings[min(self.headings)]
        return self.title or self.stem

    def passage(self, text: str) -> None:
        if not text.strip() or is_number_or_date(text):  # a table's row number or date column: no passage
            return
        question = self.question()
        self.sections.add(question)
        parts = split_text(text)  # a passage over MAX_TEXT_CHARS (a PDF without paragraph breaks) becomes several
        if len(parts) > 1:
            self.split.append(f"{self.stem}:p{len(self.rows) + 1}")
        for part in parts:
            self.rows.append({
                "text_id": f"{self.stem}:p{len(self.rows) + 1}",
                "text": part,
                "question": question,
                "weight": 1.0,
                "section_path": " > ".join(self.headings[k] for k in sorted(self.headings)),
            })

    def extract(self, layout: str) -> Extract:
        notes = []
        if self.split:
            shown = ", ".join(self.split[:5]) + (f" og {number(len(self.split) - 5)} flere" if len(self.split) > 5 else "")
            notes.append(f"advarsel: {count(len(self.split), 'afsnit', 'afsnit')} over {number(MAX_TEXT_CHARS)} tegn "
                         f"delt i flere (fra {shown})")
        return Extract(self.rows, layout, notes=notes, n_questions=len(self.sections))


# --- Word -------------------------------------------------------------------------------

def docx_extract(path: Path, config: IngestConfig) -> Extract:
    document = open_document(path)
    outline = _Outline(path.stem, config)
    try:
        blocks = [
            (_heading_level(block), block.text) if isinstance(block, Paragraph) else (None, _cell_texts(block))
            for block in document.iter_inner_content()
            if isinstance(block, (Paragraph, Table))
        ]
    except Exception as exc:  # well-formed XML that is not WordprocessingML: python-docx fails while walking it
        raise InputError(path, f"filen kan ikke læses som Word-dokument (beskadiget indhold: {reason(exc)})") from None
    for level, content in blocks:
        if isinstance(content, list):  # a table's cell paragraphs
            for text in content:
                outline.passage(text)
        elif level is None:
            outline.passage(content)
        else:
            outline.heading(level, content)
    return outline.extract("Word-dokument")


def _heading_level(paragraph: Paragraph) -> int | None:
    """0 for a title, N for Heading N (also through a custom style based on one), else None."""
    style, depth = paragraph.style, 0
    while style is not None and depth < 5:
        name = (style.name or "").strip()
        if name.casefold() in _TITLE_STYLES:
            return 0
        match = _HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        style, depth = style.base_style, depth + 1
    return None


def _cell_texts(table: Table) -> list[str]:
    """Paragraphs of each cell once (merged cells repeat), without a header row of short labels."""
    seen: set = set()  # the cell elements themselves: ids of lxml proxies are reused
    rows = []
    for row in table.rows:
        cells = []
        for cell in row.cells:
            if cell._tc not in seen:
                seen.add(cell._tc)
                cells.append([p.text for p in cell.paragraphs if p.text.strip()])
        rows.append(cells)
    if len(rows) > 1 and all(_is_label(" ".join(cell)) for cell in rows[0]):
        rows = rows[1:]
    return [text for cells in rows for cell in cells for text in cell]


def _is_label(text: str) -> bool:
    return len(text.split()) <= 4 and not text.rstrip().endswith(_FINAL_PUNCTUATION)


# --- Markdown ---------------------------------------------------------------------------

# "#Opsamling" at a line's start: a heading typed without its space (CommonMark reads a paragraph);
# a capital after the marks, so a "#hashtag" and a ranking "#1 prioritet: ..." stay text, and a
# line a heading could be: a few words, no sentence in it ("#Aalborg2030 var deltagernes eget
# slogan." stays a passage).
_HEADING_WITHOUT_SPACE = re.compile(r"^( {0,3}#{1,6})(?=[A-ZÆØÅ])(\S.*)$", re.MULTILINE)
_HEADING_WORDS = 10


def _heading_with_space(match: re.Match) -> str:
    marks, line = match.group(1), match.group(2)
    sentence = line.rstrip().endswith((".", "!", "?", "…")) or re.search(r"[.!?]\s", line)
    return match.group(0) if sentence or len(line.split()) > _HEADING_WORDS else f"{marks} {line}"


def markdown_extract(path: Path, config: IngestConfig) -> Extract:
    text, encoding = read_text(path)
    outline = _Outline(path.stem, config)
    tokens = MarkdownIt("commonmark").enable("table").parse(_HEADING_WITHOUT_SPACE.sub(_heading_with_space, text))
    for before, token in zip(tokens, tokens[1:]):
        if token.type != "inline":
            continue
        content = _inline_text(token)
        if before.type == "heading_open":
            outline.heading(int(before.tag[1:]), content)
        elif before.type in ("paragraph_open", "td_open"):
            outline.passage(content)
    return outline.extract(f"Markdown, {encoding}")


def _inline_text(token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


# --- plain text and PDF -----------------------------------------------------------------

def text_extract(path: Path, config: IngestConfig) -> Extract:
    text, encoding = read_text(path)
    return plain_text_outline(text, path.stem, config).extract(f"ren tekst, {encoding}")


def pdf_extract(path: Path, config: IngestConfig) -> Extract:
    text = pdf_text(path)
    return plain_text_outline(text, path.stem, config).extract("PDF")


def plain_text_outline(text: str, stem: str, config: IngestConfig) -> _Outline:
    """Blocks between blank lines become headings (see module doc), list items or paragraphs."""
    outline = _Outline(stem, config)
    blocks = [[line.strip() for line in block.splitlines() if line.strip()] for block in re.split(r"\n\s*\n", text)]
    blocks = [block for block in blocks if block]
    numbered_level = 0
    for index, lines in enumerate(blocks):
        while lines and _numbered_heading_level(lines[0]):
            numbered_level = _numbered_heading_level(lines[0])
            outline.heading(numbered_level, lines[0])
            lines = lines[1:]
        if len(lines) == 1 and index < len(blocks) - 1 and _is_short_heading(lines[0]):
            outline.heading(numbered_level + 1, lines[0])
            continue
        for item in _items(lines):
            outline.passage(join_lines(item))
    return outline


def _numbered_heading_level(line: str) -> int:
    """Depth of a section number ("2" -> 1, "2.1" -> 2) when the line is a numbered heading, else 0.

    "1. Text" and "1) Text" are list items, not headings: a single number needs no dot.
    """
    match = _SECTION_NUMBER.match(line)
    if not match or (match.group(2) and "." not in match.group(1)) or not _is_short_heading(match.group(3)):
        return 0
    return match.group(1).count(".") + 1


def _is_short_heading(line: str) -> bool:
    return (
        len(line) <= 100
        and len(line.split()) <= 10
        and not line.endswith(_FINAL_PUNCTUATION)
        and (line[0].isupper() or line[0].isdigit())
    )


def _items(lines: list[str]) -> list[list[str]]:
    """Lines grouped into paragraphs/list items: a bullet or "1." / "1)" starts a new item."""
    items: list[list[str]] = []
    for line in lines:
        bullet = _BULLET.match(line)
        if bullet or not items:
            items.append([line[bullet.end() :] if bullet else line])
        else:
            items[-1].append(line)
    return items


def join_lines(lines: list[str]) -> str:
    """Lines of one paragraph as one string, with words hyphenated at a line break rejoined."""
    # Pieces joined once at the end, and the hyphen test on the last line only: a paragraph of
    # thousands of lines (a text file without blank lines) stays linear in its length.
    pieces = [lines[0]]
    for line in lines[1:]:
        previous = pieces[-1]
        hyphenated = _LINE_END_HYPHEN.search(previous[-100:])
        if previous.endswith("\u00ad"):  # soft hyphen: a hyphenation point by definition
            pieces[-1] = previous[:-1]
        elif hyphenated and line[:1].islower():
            fragment = hyphenated.group(1)
            keep = fragment[-1].isupper() or fragment[-1].isdigit()  # "EU-", "CO2-": real hyphens
            pieces[-1] = previous if keep else previous[:-1]
        else:
            pieces.append(" ")
        pieces.append(line)
    return "".join(pieces)


def pdf_text(path: Path) -> str:
    """The PDF's text as lines with blank lines between paragraphs, page numbers dropped."""
    check_file(path)
    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(path, "filen er beskyttet med adgangskode (krypteret); gem en kopi uden adgangskode")
        if len(reader.pages) > MAX_PDF_PAGES:
            count = f"{number(len(reader.pages))} sider (højst {number(MAX_PDF_PAGES)})"
            raise InputError(path, f"PDF-filen har {count}: ikke et workshopnotat")
        pages = [page.extract_text(extraction_mode="layout") or "" for page in reader.pages]
    except InputError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files (and LimitReachedError on bombs)
        raise InputError(path, f"filen kan ikke læses som PDF (beskadiget eller krypteret: {reason(exc)})") from None
    lines: list[str] = []
    page_lines = [[line.strip() for line in page.splitlines() if not _PAGE_NUMBER.match(line.strip())] for page in pages]
    for page in _without_running_lines(page_lines):
        lines += _mark_paragraph_ends(page)
    if not any(lines):
        raise InputError(path, "ingen tekst i PDF-filen (er den scannet? kør først tekstgenkendelse, OCR)")
    return "\n".join(lines)


# A page marker in a running line: "Side 3", "Side 3 af 8", "Page 3 of 8", "s. 3".
_PAGE_MARKER = re.compile(r"\b(?:side|page|s\.)\s*\d+(?:\s*(?:af|of|/)\s*\d+)?")
_BARE_NUMBER = re.compile(r"[\W_]*\d+[\W_]*")  # "3", "- 3 -"
# A number at the start or the end of a line, apart from its words ("3 | Rapport 2024",
# "Erhvervshus Vest   3", "Notat · 3/8"): a page number if it runs with the pages.
_SEPARATOR = r"\s*[|·•–—-]?\s+"
_LEADING_NUMBER = re.compile(rf"(\d+)(?:\s*(?:af|of|/)\s*\d+)?{_SEPARATOR}(\D.*)")
_TRAILING_NUMBER = re.compile(rf"(.*\D){_SEPARATOR}(\d+)(?:\s*(?:af|of|/)\s*\d+)?")


def _running_keys(line: str, page: int) -> set[str]:
    """How ``line`` on page ``page`` (0-based) may repeat from page to page: as it is, with a
    page marker ("Side 3 af 8") blanked, or with an edge number that runs with the pages.

    Other numbers count: "Gruppe 1" and "Gruppe 2" at the top of pages 1 and 3 are headings,
    not a running header (their numbers do not follow the pages); "Rapport 2024" runs.
    """
    key = " ".join(line.casefold().split())
    keys = {key, _PAGE_MARKER.sub("#", key)}
    if _BARE_NUMBER.fullmatch(key):
        keys.add("#")
    for pattern, number_group, words_group in ((_LEADING_NUMBER, 1, 2), (_TRAILING_NUMBER, 2, 1)):
        if edge := pattern.fullmatch(key):
            keys.add(f"{edge.group(words_group)} #{int(edge.group(number_group)) - page}")
    return keys


def _without_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Pages without their running headers and footers.

    A running line is the first or the last non-empty line of every page with text (the
    title page may lack it), alike but for its page number (:func:`_running_keys`); a
    header of two lines goes in a second round. Lines inside a page are never removed,
    and a note of one page with text keeps all of its lines: nothing tells a header apart there.
    """
    for _ in range(RUNNING_ROUNDS):
        ends = []  # {row: the keys of its line} for the first and last non-empty line of each page
        for page_number, page in enumerate(pages):
            filled = [index for index, line in enumerate(page) if line]
            ends.append({row: _running_keys(page[row], page_number) for row in {filled[0], filled[-1]}} if filled else {})
        pages_with_text = sum(1 for rows in ends if rows)  # a blank (scanned, image-only) page has no header to count
        if pages_with_text < 2:
            break
        seen = Counter(key for rows in ends for key in set().union(*rows.values()))
        running = {key for key, n in seen.items() if n >= max(2, pages_with_text - 1)}
        if not running:
            break
        pages = [
            [line for index, line in enumerate(page) if index not in rows or rows[index].isdisjoint(running)]
            for page, rows in zip(pages, ends)
        ]
    return pages


def _mark_paragraph_ends(lines: list[str]) -> list[str]:
    """A blank line after a line that ends a sentence well short of the page's typical line width."""
    lengths = sorted(len(line) for line in lines if line)
    if not lengths:
        return []
    typical = lengths[int(0.9 * (len(lengths) - 1))]
    out: list[str] = []
    for line in lines:
        out.append(line)
        if line.endswith((".", "!", "?", ":")) and len(line) < 0.8 * typical:
            out.append("")
    return out
