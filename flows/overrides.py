"""The overrides a run takes from the command line or the Prefect form, declared once.

The command line's options (:mod:`flows.cli`) and the flows' parameters
(:mod:`flows.workshop`, :mod:`flows.series`) are made from :data:`OVERRIDES` by
:func:`with_overrides`; :func:`run_overrides` turns their values into the
:class:`~pipeline.config.RunOverrides` applied to the config. Light to import: the command
line reads it before anything heavy (``tematik --help`` starts at once).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class Override:
    """A setting a run takes from the command line or the Prefect form, on top of its config file."""

    type: Any  # the parameter's type (the form refines some: flows.parameters.FORM_TYPES)
    help: str  # Danish: the command line's --help line and the form's description
    flags: tuple[str, ...]  # the command line's
    default: Any = None


OVERRIDES: dict[str, Override] = {
    "taxonomy": Override(
        Optional[str], "Taksonomi: navnet på en medfølgende (se `tematik taxonomies`) eller stien til en YAML-fil; "
        "tom = konfigurationens (deb-2020-2023).", ("--taxonomy", "-t")),
    "workshop": Override(Optional[str], "Workshoppens navn; tom = inputmappens navn.", ("--workshop",)),
    "text_column": Override(Optional[str], "Kolonnen med teksten i CSV/Excel-tabeller; tom = gættes.", ("--text-column",)),
    "embedder": Override(
        Optional[str], "'e5' (standard), 'lsa' (hurtig, ingen model) eller 'sentence-transformers:<lokal sti>'.", ("--embedder",)),
    "normalise_workshops": Override(bool, "Giv hver workshop samme samlede vægt.", ("--normalise/--no-normalise",), True),
    "behold_persondata": Override(
        bool, "Fjern ikke navne, CPR-numre, e-mails og telefonnumre (registreres i manifestet).", ("--behold-persondata",), False),
}  # fmt: skip


def run_overrides(**values: Any):
    """The :class:`~pipeline.config.RunOverrides` of override values by name; one not given, or
    None, leaves the config's value (keeping personal data is the one flag that switches a setting off)."""
    from pipeline.config import RunOverrides

    keep_personal_data = values.pop("behold_persondata", False)
    return RunOverrides(**values, redact=False if keep_personal_data else None)


def with_overrides(*names: str, annotate: Callable[[str, Override], Any] = lambda name, override: override.type):
    """Add the overrides ``names`` to a function that takes them as ``**overrides``: to its signature,
    after its first parameter (all but the first become keyword-only), and to its docstring's ``Args:``
    (the form's descriptions). ``annotate(name, override)`` gives each one's annotation (the command
    line adds its option, the flows the form's type)."""

    def add(function: Callable) -> Callable:
        signature = inspect.signature(function, eval_str=True)
        first, *rest = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        keyword = inspect.Parameter.KEYWORD_ONLY
        added = [inspect.Parameter(name, keyword, default=OVERRIDES[name].default, annotation=annotate(name, OVERRIDES[name]))
                 for name in names]  # fmt: skip
        function.__signature__ = signature.replace(parameters=[first, *added, *(p.replace(kind=keyword) for p in rest)])
        if function.__doc__ and "Args:" in function.__doc__:
            function.__doc__ = function.__doc__.rstrip() + "".join(f"\n        {name}: {OVERRIDES[name].help}" for name in names) + "\n"
        return function

    return add
