"""Option plumbing Typer lacks: one command taking another's option declarations, and options whose
value may be left out. Imports nothing heavy, and nothing of the package."""

from __future__ import annotations

import copy
import inspect
from typing import Annotated, Callable

OPTIONAL_VALUES = ("--warm-start",)  # options whose value may be left out: alone, they mean ''


def optional_values(args: list[str]) -> list[str]:
    """`--warm-start` followed by nothing or by another option becomes `--warm-start=` (Typer has no
    options with an optional value); `--warm-start DIR` and `--warm-start=DIR` stay as they are."""
    if "--" in args:
        cut = args.index("--")
        return optional_values(args[:cut]) + args[cut:]
    return [f"{arg}=" if arg in OPTIONAL_VALUES and (i + 1 == len(args) or args[i + 1].startswith("-")) else arg
            for i, arg in enumerate(args)]


def with_options_of(command: Callable, donor: Callable, leave_out: tuple[str, ...],
                    helps: dict[str, str] | None = None) -> Callable:
    """Give `command` (whose `**options` receives them) the parameters of `donor` not in `leave_out`: the
    same declarations, so both commands always take the same options. Its own first parameter (the data
    argument) and the donor's first kept one lead; `helps` rewords an option's help for this command."""
    own = [p.replace(kind=p.KEYWORD_ONLY) for p in inspect.signature(command, eval_str=True).parameters.values()
           if p.kind != p.VAR_KEYWORD]
    shared = []
    for parameter in inspect.signature(donor, eval_str=True).parameters.values():
        if parameter.name in leave_out:
            continue
        if parameter.name in (helps or {}):
            info = copy.copy(parameter.annotation.__metadata__[0])
            info.help = helps[parameter.name]
            parameter = parameter.replace(annotation=Annotated[parameter.annotation.__origin__, info])
        shared.append(parameter.replace(kind=parameter.KEYWORD_ONLY))
    command.__signature__ = inspect.Signature(own[:1] + shared[:1] + own[1:] + shared[1:])
    command.__annotations__ = {p.name: p.annotation for p in command.__signature__.parameters.values()}
    return command
