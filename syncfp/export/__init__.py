"""Exporters: one module per format, each with ``write(alignment, path, *, options) -> list[str]``.

The format comes from ``--format`` or the output's suffix; a writer returns every file it wrote (an EDL
holds one video track, so the EDL writer may write one file per track).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

from ..errors import UsageError
from ..types import Alignment
from . import edl, jsonout


@dataclass(frozen=True)
class ExportOptions:
    fps: Fraction | None = None
    drop_frame: bool | None = None
    edl_style: str = "cmx"  # or "premiere": no comment lines Premiere misreads


WRITERS = {"edl": edl.write, "json": jsonout.write}
SUFFIXES = {".edl": "edl", ".json": "json"}


def format_for(path: str, fmt: str | None) -> str:
    """The format to write *path* in: --format if given, else by suffix."""
    if fmt:
        if fmt not in WRITERS:
            raise UsageError(f"unknown format {fmt!r} (known: {', '.join(sorted(WRITERS))})")
        return fmt
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise UsageError(f"{path}: cannot tell the format from the suffix; use --format ({', '.join(sorted(WRITERS))})")
    return SUFFIXES[suffix]


def write(alignment: Alignment, path: str, *, fmt: str | None = None, options: ExportOptions = ExportOptions()) -> list[str]:
    """Write *alignment* to *path* in the chosen format; returns the files written."""
    return WRITERS[format_for(path, fmt)](alignment, path, options=options)
