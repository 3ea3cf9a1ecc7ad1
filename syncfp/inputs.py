"""Command-line inputs → media paths: folders are searched recursively, globs expanded, order kept."""

from __future__ import annotations

import glob
import os

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
