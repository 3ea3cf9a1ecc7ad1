"""`Alignment` + options → files: one module per format in the shape of an OpenTimelineIO adapter, each
``write_to_file(timeline, path, *, options) -> list[str]`` and (but AAF) ``write_to_string(timeline, *,
options) -> str`` for an export of one file.

The format comes from ``--format`` or the output's suffix; the timeline is built once per output from the
options (rate, drop-frame, drift correction, markers). A writer returns every file it wrote: an EDL holds
one video track, so the EDL writer writes one file per track.
"""

from __future__ import annotations

import os
from typing import Protocol

from ..errors import UsageError
from ..types import Alignment
from . import audacity, csvout, edl, fcp7, fcpxml, jsonout, otio, reaper, report
from .options import DEFAULT_OPTIONS, ExportOptions, timeline_for
from .timeline import Timeline


class Writer(Protocol):
    def __call__(self, tl: Timeline, path: str, *, options: ExportOptions = ...) -> list[str]: ...


WRITERS: dict[str, Writer] = {
    "otio": otio.write_to_file, "fcp7": fcp7.write_to_file, "fcpxml": fcpxml.write_to_file, "edl": edl.write_to_file,
    "json": jsonout.write_to_file, "csv": csvout.write_to_file, "audacity": audacity.write_to_file,
    "rpp": reaper.write_to_file, "html": report.write_to_file,
}
SUFFIXES = {
    ".otio": "otio", ".xml": "fcp7", ".fcpxml": "fcpxml", ".edl": "edl", ".json": "json", ".csv": "csv",
    ".txt": "audacity", ".rpp": "rpp", ".html": "html", ".htm": "html",
}
try:  # experimental: only when the optional AAF adapter is installed
    from . import aaf

    if aaf.available():
        WRITERS["aaf"] = aaf.write_to_file
        SUFFIXES[".aaf"] = "aaf"
except ImportError:  # pragma: no cover
    pass


AAF_HINT = "writing AAF needs OpenTimelineIO's AAF adapter: pip install 'syncfp[aaf]' (or: pip install otio-aaf-adapter)"


_SAME_KIND = {(".xml", "fcpxml")}  # suffix → --format pairs that hold the same kind of file


def format_for(path: str, fmt: str | None) -> str:
    """The format to write *path* in: --format if given, else by suffix."""
    suffix = os.path.splitext(path)[1].lower()
    if (fmt == "aaf" or (not fmt and suffix == ".aaf")) and "aaf" not in WRITERS:
        raise UsageError(f"{path}: {AAF_HINT}")
    if fmt:
        if fmt not in WRITERS:
            raise UsageError(f"unknown format {fmt!r} (known: {', '.join(sorted(WRITERS))})")
        # `-f json -o t.edl` would put JSON inside an .edl: every reader (and the user) would be misled
        if suffix in SUFFIXES and SUFFIXES[suffix] != fmt and (suffix, fmt) not in _SAME_KIND:
            raise UsageError(f"{path}: --format {fmt} would write {fmt} into a {suffix} file (read as "
                             f"{SUFFIXES[suffix]}); drop --format or change the suffix")
        return fmt
    if suffix not in SUFFIXES:
        raise UsageError(f"{path}: cannot tell the format from the suffix; use --format ({', '.join(sorted(WRITERS))})")
    return SUFFIXES[suffix]


def write(alignment: Alignment, path: str, *, fmt: str | None = None, options: ExportOptions = DEFAULT_OPTIONS) -> list[str]:
    """Write *alignment* to *path* in the chosen format; returns the files written."""
    return WRITERS[format_for(path, fmt)](timeline_for(alignment, options), path, options=options)
