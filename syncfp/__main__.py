"""`python -m syncfp` and the `syncfp` command. `--version` is answered before the CLI is imported:
typer and rich alone take about 0.2 s to load, the version needs none of it. `identify` runs with one
OpenBLAS thread unless told otherwise: a query does no linear algebra worth a thread pool, and starting
OpenBLAS's threads (which spin while they wait) made `import numpy` 0.15 → 0.23 s on the shared 2-core
machine (docs/benchmarks.md, "Start-up"); the answers are the same."""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["identify"]:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before anything imports numpy
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        print(f"syncfp {__version__}")
        return
    from .cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
