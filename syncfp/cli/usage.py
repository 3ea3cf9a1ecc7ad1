"""Usage errors for the command line: ours and typer's (its own click or a vendored copy) → exit 2 with
the command's usage line, never "internal error"; plain str/int/bool/list[str] option values converted
without typer's pydantic layer."""

from __future__ import annotations

import importlib
import re
from functools import lru_cache

from typer.core import TyperCommand, TyperGroup

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


_PLAIN_INT = re.compile(r"[+-]?[0-9]+")


@lru_cache(maxsize=1)
def _plain_class() -> type | None:
    """typer's `RuntimeParam` subclass that converts plain values itself; None for a typer without one."""
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
    except ImportError:
        return None

    class Plain(RuntimeParam):
        def _coerce_value(self, value, param, ctx):  # noqa: ANN001, ANN202 - typer's signature
            ann = self.annotation
            if ann is str and isinstance(value, str):
                return str(value)
            if ann in (int, bool) and type(value) is ann:
                return value
            if ann is int and isinstance(value, str) and _PLAIN_INT.fullmatch(value):
                return int(value)
            if ann == list[str] and isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                return [str(v) for v in value]
            return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)  # typer's

    return Plain


def plain_coercion(param) -> bool:  # noqa: ANN001 - a typer parameter
    """Give a typer parameter of type str, int, bool or list[str] (no parser, bounds or file type) a
    converter that needs no pydantic; True when it did.

    Recent typer converts every value through a pydantic TypeAdapter built on first use: importing pydantic
    and building the adapters costs ~0.1 s, a third of a cold `identify`. Values that are already of the
    type (defaults), command-line strings for str and list[str], and plain decimal strings for int come out
    exactly as pydantic gives them (tests/test_cli_defaults.py compares both); any other value goes to
    typer's own converter, so its results and error messages stay typer's. A typer without this machinery
    (older, or changed) is left alone."""
    desc = getattr(param, "type_descriptor", None)
    plain = _plain_class()
    if desc is None or plain is None or getattr(param, "_runtime_param", False) is not None:
        return False
    info = desc.parameter_info
    if desc.file_annotation is not None or getattr(info, "parser", None) is not None or any(
            getattr(info, k, None) is not None for k in ("min", "max")) or desc.annotation not in (str, int, bool, list[str]):
        return False
    param._runtime_param = plain(parameter_info=info, annotation=desc.annotation)
    return True


def _plain_params(command, ctx) -> None:  # noqa: ANN001 - a typer command or group and its context
    for param in command.get_params(ctx):  # with the --help option click adds
        plain_coercion(param)


class Group(TyperGroup):
    """The root and `library` command groups: options converted without pydantic (`plain_coercion`)."""

    def parse_args(self, ctx, args):  # noqa: ANN001, ANN201 - click's signature
        _plain_params(self, ctx)
        return super().parse_args(ctx, args)


class Command(TyperCommand):
    """A typer command whose `UsageError`s (unknown format, no inputs, an output that is an input…) are
    shown like typer's own: usage line, help hint, one-line reason, exit 2; its str, int, bool and
    list[str] values are converted without importing pydantic (`plain_coercion`)."""

    def parse_args(self, ctx, args):  # noqa: ANN001, ANN201 - click's signature
        _plain_params(self, ctx)
        return super().parse_args(ctx, args)

    def invoke(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            exceptions = importlib.import_module(type(ctx).__module__.rsplit(".", 1)[0] + ".exceptions")
            raise exceptions.UsageError(str(exc), ctx=ctx) from None
