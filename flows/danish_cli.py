"""tematik's command line in Danish: typer's and click's messages and help screens.

typer's panel titles are module settings; its own messages go through gettext (``_``), but
the messages of the click it vendors (``typer._click``: "Missing option", "No such
option", ...) are f-strings, which no gettext catalogue can reach. So they are translated
where typer prints them, by the patterns below; click's "Usage:" and the --help text are
set on the command classes :class:`DanishGroup` and :class:`DanishCommand`. Importing this
module switches the messages to Danish, once, for the whole process.
"""

from __future__ import annotations

import re

from typer import rich_utils
from typer.core import TyperCommand, TyperGroup

from pipeline.errors import PYDANTIC_DANISH

# The help screens in Danish: typer's panel titles are module settings; click's "Usage:"
# and the --help text are set on the command classes below.
rich_utils.ARGUMENTS_PANEL_TITLE = "Argumenter"
rich_utils.OPTIONS_PANEL_TITLE = "Indstillinger"
rich_utils.COMMANDS_PANEL_TITLE = "Kommandoer"
rich_utils.ERRORS_PANEL_TITLE = "Fejl"
rich_utils.ABORTED_TEXT = "Afbrudt."
rich_utils.DEFAULT_STRING = "[standard: {}]"
rich_utils.REQUIRED_LONG_STRING = "[påkrævet]"
rich_utils.RICH_HELP = "Prøv [blue]'{command_path} {help_option}'[/] for hjælp."

# Messages of typer's (vendored) click: typer.core's go through gettext (``_``); click's are
# f-strings, translated where typer prints them. These are the ones a tematik user can meet.
GETTEXT_DANISH = {
    "Missing command.": "Mangler en kommando.",
    "No such command {name!r}.": "Kommandoen {name!r} findes ikke.",
}
CLICK_DANISH = [
    (r"Missing option (.+)\.", r"Mangler indstillingen \1."),
    (r"Missing argument (.+)\.", r"Mangler argumentet \1."),
    (r"Missing (.+)\.", r"Mangler \1."),
    (r"No such option: (\S+) \(Possible options: (.+)\)", r"Indstillingen \1 findes ikke (mulige: \2)."),
    (r"No such option: (\S+)", r"Indstillingen \1 findes ikke."),
    (r"Option (.+) requires an argument\.", r"Indstillingen \1 skal have en værdi."),
    (r"Option (.+) requires (\d+) arguments\.", r"Indstillingen \1 skal have \2 værdier."),
    (r"Option (.+) does not take a value\.", r"Indstillingen \1 tager ingen værdi."),
    (r"Got unexpected extra argument\(s\) \((.+)\)", r"Uventet ekstra argument: \1"),
    (r"Invalid value for (.+?): (.+)", r"Ugyldig værdi for \1: \2"),
]  # fmt: skip
# typer's type column ("<path>") in Danish; a flag needs no type.
TYPE_LABELS = {"<str>": "<tekst>", "<path>": "<sti>", "<list[Path]>": "<stier>", "<list[str]>": "<tekst>",
               "<int>": "<heltal>", "<float>": "<tal>", "<bool>": None,
               "<int range>": "<heltal>", "<float range>": "<tal>"}  # fmt: skip


# Why a value is invalid: typer checks an option's type and bounds with pydantic and passes on
# only its English message. Each is matched to pydantic's error type and said with the Danish
# words of a bad setting (pipeline.errors.PYDANTIC_DANISH): "Ugyldig værdi for '--sample': skal være mindst 1".
VALUE_ERROR_TYPES = [
    (r"Input should be greater than or equal to (?P<ge>\S+)", "greater_than_equal"),
    (r"Input should be greater than (?P<gt>\S+)", "greater_than"),
    (r"Input should be less than or equal to (?P<le>\S+)", "less_than_equal"),
    (r"Input should be less than (?P<lt>\S+)", "less_than"),
    (r"Input should be a valid integer.*", "int_parsing"),
    (r"Input should be a valid number.*", "float_parsing"),
]  # fmt: skip


def danish_click_message(message: str) -> str:
    """A click usage error in Danish (unchanged when it is not one of :data:`CLICK_DANISH`)."""
    for english, danish in CLICK_DANISH:
        if re.fullmatch(english, message, flags=re.DOTALL):
            message = re.sub(english, danish, message, count=1, flags=re.DOTALL)
            break
    for english, error_type in VALUE_ERROR_TYPES:
        message = re.sub(english, lambda match: PYDANTIC_DANISH[error_type].format(**match.groupdict()), message, flags=re.DOTALL)
    return message


def _speak_danish() -> None:
    import typer.core

    for module in (typer.core, rich_utils):
        module._ = lambda message: GETTEXT_DANISH.get(message, message)
    english_error = rich_utils.rich_format_error

    def rich_format_error(error) -> None:
        english = error.format_message
        error.format_message = lambda: danish_click_message(english())
        english_error(error)

    rich_utils.rich_format_error = rich_format_error
    for cls in (typer.core.TyperArgument, typer.core.TyperOption):
        english_type = cls.display_type_rich

        def display_type_rich(self, ctx, english_type=english_type):
            label = english_type(self, ctx)
            if not isinstance(label, str):
                return label
            head, space, bounds = label.partition(" [")  # a range carries its bounds: "<int range> [x>=1]"
            danish = TYPE_LABELS.get(head, head)
            return danish + space + bounds if danish else danish

        cls.display_type_rich = display_type_rich


_speak_danish()


class _Danish:
    def format_usage(self, ctx, formatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix="Brug: ")

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = "Vis denne hjælp og afslut."
        return option


class DanishGroup(_Danish, TyperGroup):
    pass


class DanishCommand(_Danish, TyperCommand):
    pass
