"""rich consoles and markup escaping, imported on first use: `identify -f json` prints nothing through rich.

rich.console and rich.markup take ~30 ms to import (more on a busy machine), a tenth of a cold `identify`
that writes JSON and never shows a table, a bar or an error. Everything printed still goes through rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def make_console(**kwargs: Any) -> Console:
    """A rich Console; with no terminal (pipes, CI logs) one wide enough for the tables."""
    from rich.console import Console

    c = Console(**kwargs)
    return c if c.is_terminal else Console(**kwargs, width=160)


class LazyConsole:
    """Stands for ``rich.console.Console(**kwargs)``, made (and rich imported) when first used."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        """The real Console (for rich classes that take one, such as Progress)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._kwargs)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


def escape(text: str) -> str:
    """rich.markup.escape: a file called "[b]x.mp4" is a name, not markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)
