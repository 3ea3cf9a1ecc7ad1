"""`python -m syncfp` and the `syncfp` command. `--version` is answered before the CLI is imported:
typer and rich alone take about 0.2 s to load, the version needs none of it."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        print(f"syncfp {__version__}")
        return
    from .cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
