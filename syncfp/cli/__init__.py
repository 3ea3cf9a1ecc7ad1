"""Command line: parse → one API call → rich rendering. The only package that prints.

One module per command group: `align` (multi-camera sync), `library` (index, identify, library …);
`usage` turns usage errors into typer's own messages.

Exit codes: 0 done; 2 usage error (before any work); 3 done, but some inputs could not be used (each
reported); 4 an output could not be written (the others still are); 5 the song library is unusable;
1 unexpected internal error. When several apply, the worst: 4 over 3.
"""

from __future__ import annotations

import sys

import typer

from ..errors import SyncfpError
from . import align as align_cmd
from . import library as library_cmd
from .console import LazyConsole, escape
from .usage import Group, is_click_exception

# Plain-text help (click's layout, as wide as the terminal up to 120 columns): typer's rich renderer (rich.markdown,
# markdown_it, pygments) doubled the time of `syncfp --help` (docs/benchmarks.md, "Start-up").
app = typer.Typer(add_completion=False, no_args_is_help=True, help="Sync multi-camera footage by sound.", cls=Group,
                  rich_markup_mode=None, context_settings={"max_content_width": 120})
err = LazyConsole(stderr=True)


def _version(value: bool) -> None:
    """`--version`: print the version and stop before any command (eager, so nothing else loads)."""
    if value:
        from .. import __version__

        typer.echo(f"syncfp {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Sync multi-camera footage by sound."""


align_cmd.register(app)
library_cmd.register(app)  # song library commands (issue 3)


def main() -> None:
    """Entry point: user errors become one line on stderr and an exit code, never a traceback."""
    try:
        rc = app(standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except SyncfpError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # click usage errors (bad option, missing argument, bad value) and the unexpected
        if is_click_exception(exc):
            exc.show()
            sys.exit(exc.exit_code)
        err.print(f"[red]internal error:[/red] {type(exc).__name__}: {escape(str(exc))}", highlight=False)
        sys.exit(1)
