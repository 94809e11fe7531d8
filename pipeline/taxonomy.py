"""Theme taxonomies: the list of themes that texts are mapped to.

A taxonomy is a small YAML file the user can replace (``--taxonomy my-themes.yaml``)::

    name: Erhvervsfremme i Danmark 2020-2023
    version: "2020.1"            # optional; "" when absent
    themes:
      - id: digitalisering
        label: Digitalisering og automatisering
        description: En eller flere danske sætninger om, hvad temaet dækker.
        keywords: [digitalisering, automatisering, robot, data, it-sikkerhed]

Keywords are lemmas (lowercase); a keyword of several words matches those lemmas in
sequence. Texts that fit no theme get :data:`pipeline.schema.ANDET`, so that id is reserved.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.danish import number
from pipeline.errors import FOLDER_NOT_FILE, PYDANTIC_DANISH, InputError, read_yaml, short, unreadable
from pipeline.schema import ANDET

TAXONOMY_DIR = Path(__file__).with_name("taxonomies")
DEFAULT_TAXONOMY = "deb-2020-2023"
MAX_TAXONOMY_BYTES = 2 * 1024**2


class Theme(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9]+(_[a-z0-9]+)*$", description="Slug: lowercase ascii words joined by '_'.")
    label: str = Field(min_length=1)
    description: str = Field(min_length=1)
    keywords: list[str] = Field(min_length=1, description="Lemmas (lowercase); several words match in sequence.")

    @field_validator("id")
    @classmethod
    def _not_andet(cls, value: str) -> str:
        if value == ANDET:
            raise ValueError(f"tema-id'et '{ANDET}' er reserveret til tekster, der ikke passer til noget tema")
        return value

    @field_validator("keywords")
    @classmethod
    def _normalise_keywords(cls, keywords: list[str]) -> list[str]:
        cleaned = [" ".join(str(keyword).lower().split()) for keyword in keywords]
        if any(not keyword for keyword in cleaned):
            raise ValueError("tomt nøgleord")
        return list(dict.fromkeys(cleaned))  # drop repeats, keep order

    @property
    def prototype_text(self) -> str:
        """The text embedded as the theme's prototype: label, description and keywords."""
        return f"{self.label}. {self.description} Nøgleord: {', '.join(self.keywords)}."


class Taxonomy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    version: str = Field("", description="Optional label of the taxonomy's edition; '' when the file has none.")
    themes: list[Theme] = Field(min_length=2)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        # YAML reads `version: 2023.1` as a float; the version is a label, not a number.
        # `version:` with nothing after it is YAML null: no version, like leaving it out.
        if value is None:
            return ""
        return str(value).strip() if isinstance(value, (int, float, str)) and not isinstance(value, bool) else value

    @property
    def title(self) -> str:
        """Name and version for people: ``Erhvervsfremme i Danmark 2020-2023 (2020.1)``, or the name alone."""
        return f"{self.name} ({self.version})" if self.version else self.name

    @model_validator(mode="after")
    def _unique_ids(self) -> "Taxonomy":
        seen: set[str] = set()
        duplicates = [theme.id for theme in self.themes if theme.id in seen or seen.add(theme.id)]
        if duplicates:
            raise ValueError(f"tema-id står flere gange: {', '.join(sorted(set(duplicates)))}")
        # An analyst names a theme by its id or its label (theme_names): each name must mean one theme.
        taken = {as_typed(theme.id): theme.id for theme in self.themes} | {ANDET: ANDET}
        for theme in self.themes:
            other = taken.setdefault(as_typed(theme.label), theme.id)
            if other != theme.id:
                named = "andet" if other == ANDET else f"tema {other}"
                raise ValueError(f"tema {theme.id} har label '{theme.label}', som også er navnet på {named}; giv det en anden label")
        return self

    @property
    def ids(self) -> list[str]:
        return [theme.id for theme in self.themes]

    def __getitem__(self, theme_id: str) -> Theme:
        for theme in self.themes:
            if theme.id == theme_id:
                return theme
        raise KeyError(theme_id)


# pydantic's words for the mistakes people make in a taxonomy file, in Danish (by pydantic's error type):
# a config's (pipeline.config) and these, which only a taxonomy's fields give or which say more here.
_PROBLEMS = {
    "string_too_short": "må ikke være tom",
    "string_pattern_mismatch": "skal være små bogstaver a-z og tal, ord forbundet med _ (fx groen_omstilling)",
    "list_type": "skal være en liste, fx [ord1, ord2]",
    "too_short": "skal have mindst {min_length} (har {actual_length})",
    "model_type": "skal være et tema med id, label, description og keywords",
    "dict_type": "skal være et tema med id, label, description og keywords",
}
_KEYS = {Theme: "et tema har id, label, description og keywords", Taxonomy: "en taksonomi har name, version og themes"}


def as_typed(value: object) -> str:
    """A theme name, header or answer as a person meant it: any case, spaces (also no-break) collapsed."""
    return " ".join(str(value).split()).casefold() if value is not None else ""


def theme_names(labels: Mapping[str, str]) -> dict[str, str]:
    """{theme id or label as typed (:func:`as_typed`): theme id}; ``labels`` is {theme id: label}.

    An analyst names a theme either way, in a check sheet or ``tematik edit --theme``:
    "digitalisering" and "Digitalisering og automatisering" are the same theme."""
    names = {as_typed(label): theme for theme, label in labels.items()}
    names.update({as_typed(theme): theme for theme in labels})  # an id always means its own theme
    return names


def _validation_message(error: ValidationError, data: dict) -> str:
    """The first problem of a pydantic error as one Danish line, the place named as people count
    (``ugyldig taksonomi: tema 2 (sport), description: mangler``); a message of a validator of
    ours (already Danish) as it is, and pydantic's English for a kind of mistake not foreseen."""
    first = error.errors()[0]
    loc = list(first["loc"])
    place = []
    if len(loc) >= 2 and loc[0] == "themes" and isinstance(loc[1], int):
        themes = data.get("themes")
        theme = themes[loc[1]] if isinstance(themes, list) and loc[1] < len(themes) else None
        theme_id = theme.get("id") if isinstance(theme, dict) else None
        place.append(f"tema {loc[1] + 1}" + (f" ({short(theme_id)})" if isinstance(theme_id, (str, int)) else ""))
        loc = loc[2:]
    # Counted from 1 like the themes: the second keyword is "keywords nr. 2".
    place += [short(" ".join(f"nr. {part + 1}" if isinstance(part, int) else str(part) for part in loc), 80)] if loc else []
    kind = first["type"]
    if kind == "extra_forbidden":
        problem = f"ukendt nøgle ({_KEYS[Theme] if place and place[0].startswith('tema ') else _KEYS[Taxonomy]})"
    elif kind in _PROBLEMS or kind in PYDANTIC_DANISH:
        problem = _PROBLEMS.get(kind, PYDANTIC_DANISH.get(kind)).format(**first.get("ctx") or {})
    else:
        problem = short(first["msg"].removeprefix("Value error, "), 200)
    more = f" (og {error.error_count() - 1} fejl mere)" if error.error_count() > 1 else ""
    return f"ugyldig taksonomi: {', '.join(place) + ': ' if place else ''}{problem}{more}"


def taxonomy_path(name_or_path: str | Path) -> Path:
    """The YAML file for a shipped taxonomy name or a path to one."""
    candidate = TAXONOMY_DIR / f"{name_or_path}.yaml"
    if isinstance(name_or_path, str) and "/" not in name_or_path and candidate.exists():
        return candidate
    return Path(name_or_path)


def load_taxonomy(name_or_path: str | Path = DEFAULT_TAXONOMY) -> Taxonomy:
    """Read and validate a taxonomy; any problem is an :class:`InputError` naming the file."""
    path = taxonomy_path(name_or_path)
    try:
        is_folder, is_file = path.is_dir(), path.is_file()
        size = path.stat().st_size if is_file else 0
    except OSError as error:  # a path the system will not show (under /proc): one Danish line naming it
        raise unreadable(error, path) from None
    if is_folder:
        raise InputError(path, FOLDER_NOT_FILE)
    if not is_file:
        shipped = ", ".join(shipped_taxonomies())
        raise InputError(path, f"taksonomien findes ikke (medfølgende taksonomier: {shipped})")
    if size > MAX_TAXONOMY_BYTES:
        raise InputError(path, f"ikke en taksonomi: {number(size)} byte (en taksonomi fylder få kilobyte)")
    data = read_yaml(path, "ikke gyldig YAML")
    if not isinstance(data, dict):
        raise InputError(path, "ugyldig taksonomi: forventede nøglerne name, themes og evt. version")
    try:
        return Taxonomy.model_validate(data)
    except ValidationError as exc:
        raise InputError(path, _validation_message(exc, data)) from None


def shipped_taxonomies() -> tuple[str, ...]:
    """Names of the taxonomies shipped with tematik (``pipeline/taxonomies/*.yaml``), sorted."""
    return tuple(sorted(path.stem for path in TAXONOMY_DIR.glob("*.yaml")))


def list_taxonomies() -> list[dict[str, object]]:
    """Summaries of the shipped taxonomies: name (to pass to load_taxonomy), title, version, themes."""
    summaries = []
    for name in shipped_taxonomies():
        taxonomy = load_taxonomy(name)
        summaries.append({"name": name, "title": taxonomy.name, "version": taxonomy.version, "themes": taxonomy.ids})
    return summaries
