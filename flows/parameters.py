"""The flows' parameters: the overrides (:mod:`flows.overrides`) with the types that make the
Prefect UI's "Custom run" form readable, and the stages a flow can be handed.

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

from typing import Annotated, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from flows.overrides import with_overrides
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
#: The form's types where they say more than the command line's: the taxonomy as a drop-down.
FORM_TYPES = {"taxonomy": TaxonomyParam}


def flow_parameters(*names: str):
    """The overrides ``names`` as a flow's parameters (:func:`flows.overrides.with_overrides`), with the form's types."""
    return with_overrides(*names, annotate=lambda name, override: FORM_TYPES.get(name, override.type))
