"""The flows' parameters: the overrides a run takes (declared once, for the flows and the
command line), and the types that make the Prefect UI's "Custom run" form readable.

The form is drawn from each flow's parameter schema (``flow.parameters``):

- a parameter's *description* is its line in the flow docstring's ``Args:`` section
  (Prefect reads Google-style docstrings; a ``Field(description=...)`` inside ``Annotated``
  is overwritten by Prefect's own ``Field`` and does not reach the form);
- a ``Literal`` becomes a ``{"type": "string", "enum": [...]}`` schema, which the UI shows as
  a searchable drop-down; a union becomes ``anyOf``, shown as buttons (labelled with each
  alternative's ``title``) that switch between the alternatives' inputs.

So a flow's taxonomy parameter is declared ``taxonomy: TaxonomyParam = None``: the form
offers "Medfølgende taksonomi" (a drop-down of the shipped ones), "Egen YAML-fil" (a text
field) and "Konfigurationens" (none: the config file's or the default taxonomy).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Optional

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from pipeline.config import RunOverrides
from pipeline.stages import LocalStages
from pipeline.taxonomy import shipped_taxonomies

#: One of the shipped taxonomies, by name; the UI shows a drop-down.
ShippedTaxonomy = Literal[shipped_taxonomies()]  # type: ignore[valid-type]  # built from the files
#: A shipped taxonomy (drop-down) or the path of an own YAML file (text field).
TaxonomyChoice = Annotated[ShippedTaxonomy, Field(title="Medfølgende taksonomi")] | Annotated[
    str, Field(title="Egen YAML-fil")
]
#: The flows' ``taxonomy`` parameter: as TaxonomyChoice, or none (the config's taxonomy).
TaxonomyParam = TaxonomyChoice | Annotated[None, Field(title="Konfigurationens")]
#: The flows' ``stages`` parameter: stages already built (the command line's, warmed up while
#: the server boots; a test's, kept warm across runs). Python only: left out of the UI form.
StagesParam = SkipJsonSchema[LocalStages | None]


@dataclass(frozen=True)
class Override:
    """A setting a run takes from the command line or the Prefect form, on top of its config file."""

    type: Any  # the flow parameter's type (the form's field)
    help: str  # Danish: the command line's --help line and the form's description
    flags: tuple[str, ...]  # the command line's
    default: Any = None
    cli_type: Any = None  # when the command line's type differs (a free text for a drop-down)


#: The overrides, declared once: the flows' parameters and the command line's options are
#: made from these (:func:`with_overrides`), and :func:`run_overrides` turns their values into
#: the :class:`~pipeline.config.RunOverrides` applied to the config.
OVERRIDES: dict[str, Override] = {
    "taxonomy": Override(
        TaxonomyParam, "Taksonomi: navnet på en medfølgende (se `tematik taxonomies`) eller stien til en YAML-fil; "
        "tom = konfigurationens (deb-2020-2023).", ("--taxonomy", "-t"), cli_type=Optional[str]),
    "workshop": Override(Optional[str], "Workshoppens navn; tom = inputmappens navn.", ("--workshop",)),
    "text_column": Override(Optional[str], "Kolonnen med teksten i CSV/Excel-tabeller; tom = gættes.", ("--text-column",)),
    "embedder": Override(
        Optional[str], "'e5' (standard), 'lsa' (hurtig, ingen model) eller 'sentence-transformers:<lokal sti>'.", ("--embedder",)),
    "normalise_workshops": Override(bool, "Giv hver workshop samme samlede vægt.", ("--normalise/--no-normalise",), True),
    "behold_persondata": Override(
        bool, "Fjern ikke navne, CPR-numre, e-mails og telefonnumre (registreres i manifestet).", ("--behold-persondata",), False),
}  # fmt: skip


def run_overrides(**values: Any) -> RunOverrides:
    """The :class:`~pipeline.config.RunOverrides` of override values by name; one not given, or
    None, leaves the config's value (keeping personal data is the one flag that switches a setting off)."""
    keep_personal_data = values.pop("behold_persondata", False)
    return RunOverrides(**values, redact=False if keep_personal_data else None)


def with_overrides(*names: str, annotate: Callable[[Override], Any] = lambda override: override.type):
    """Add the overrides ``names`` to a function that takes them as ``**overrides``: to its signature,
    after its first parameter (all but the first become keyword-only), and to its docstring's ``Args:``
    (the form's descriptions). ``annotate`` gives each one's annotation (the command line adds its option)."""

    def add(function: Callable) -> Callable:
        signature = inspect.signature(function, eval_str=True)
        first, *rest = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        keyword = inspect.Parameter.KEYWORD_ONLY
        added = [inspect.Parameter(name, keyword, default=OVERRIDES[name].default, annotation=annotate(OVERRIDES[name]))
                 for name in names]  # fmt: skip
        function.__signature__ = signature.replace(parameters=[first, *added, *(p.replace(kind=keyword) for p in rest)])
        if function.__doc__ and "Args:" in function.__doc__:
            function.__doc__ = function.__doc__.rstrip() + "".join(f"\n        {name}: {OVERRIDES[name].help}" for name in names) + "\n"
        return function

    return add
