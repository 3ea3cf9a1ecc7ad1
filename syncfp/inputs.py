"""Command-line inputs → media paths: folders are searched recursively, globs expanded, order kept."""

from __future__ import annotations

import fnmatch
import glob
import os

from .errors import UsageError
from .types import StreamChoice, StreamRules

MEDIA_SUFFIXES = {
    ".mp4", ".mov", ".m4v", ".mts", ".m2ts", ".mkv", ".avi", ".mxf", ".webm", ".3gp", ".mpg", ".mpeg", ".ts",
    ".wav", ".bwf", ".aif", ".aiff", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wma", ".caf",
}


def expand(inputs: list[str]) -> list[str]:
    """Files as given; folders → their media files (sorted); unmatched globs and missing paths kept as
    given so they are reported per file instead of silently dropped."""
    out: list[str] = []
    seen: set[str] = set()
    for item in inputs:
        if os.path.isdir(item) and os.path.splitext(item)[1].lower() not in MEDIA_SUFFIXES:
            found = []
            for root, dirs, files in os.walk(item):
                dirs.sort()
                for f in sorted(files):
                    if os.path.splitext(f)[1].lower() in MEDIA_SUFFIXES and not f.startswith("."):
                        found.append(os.path.join(root, f))
            paths = found
        elif not os.path.exists(item) and any(ch in item for ch in "*?["):
            paths = sorted(glob.glob(item, recursive=True)) or [item]
        else:
            paths = [item]
        for p in paths:
            if p not in seen:
                seen.add(p)
                out.append(p)
    return out


def parse_stream_rules(values: list[str]) -> StreamRules | None:
    """``--stream`` values → rules: ``N`` (0 = first audio stream) for every file that has it, ``GLOB=N``
    for the files whose name matches; None when none was given (the automatic choice for every file)."""
    patterns: list[tuple[str, int]] = []
    default: int | None = None
    for value in values:
        glob_, sep, number = value.rpartition("=")
        try:
            index = int(number)
        except ValueError:
            index = -1
        if index < 0 or (sep and not glob_):
            raise UsageError(f"--stream {value!r}: expected N or PATTERN=N, N an audio stream number (0 = the first)")
        if sep:
            patterns.append((glob_, index))
        elif default is not None and default != index:
            raise UsageError(f"--stream given twice ({default} and {index}); use PATTERN=N for per-file streams")
        else:
            default = index
    return StreamRules(tuple(patterns), default) if values else None


def stream_for(spec: int | StreamChoice | StreamRules | None, path: str) -> int | StreamChoice | None:
    """The stream choice for one file: *spec* as given, or the rule of `StreamRules` that matches *path*."""
    if not isinstance(spec, StreamRules):
        return spec
    name = os.path.basename(path)
    for pattern, index in spec.patterns:
        # case-insensitive: cameras name files C0001.MP4, users type *.mp4
        if fnmatch.fnmatchcase((path if "/" in pattern else name).lower(), pattern.lower()):
            return StreamChoice(index, strict=True)
    return StreamChoice(spec.default, strict=False) if spec.default is not None else None
