"""Usage errors for the command line: ours and typer's (its own click or a vendored copy) → exit 2 with
the command's usage line, never "internal error"."""

from __future__ import annotations

import importlib

from typer.core import TyperCommand

from ..errors import UsageError


def click_exception_types() -> tuple[type, ...]:
    """The `ClickException` classes typer may raise: recent typer vendors click as `typer._click`, older
    ones use the click package; whichever are importable (an isinstance check on only one never matches
    the other)."""
    found = []
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            found.append(importlib.import_module(name).ClickException)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def is_click_exception(exc: BaseException) -> bool:
    """True for any click/typer usage or parameter error, by class or, failing that, by class name."""
    types = click_exception_types()
    if types and isinstance(exc, types):
        return True
    return any(c.__name__ == "ClickException" for c in type(exc).__mro__) and hasattr(exc, "show")


class Command(TyperCommand):
    """A typer command whose `UsageError`s (unknown format, no inputs, an output that is an input…) are
    shown like typer's own: usage line, help hint, one-line reason, exit 2."""

    def invoke(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            exceptions = importlib.import_module(type(ctx).__module__.rsplit(".", 1)[0] + ".exceptions")
            raise exceptions.UsageError(str(exc), ctx=ctx) from None
