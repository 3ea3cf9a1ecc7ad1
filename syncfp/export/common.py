"""Helpers the writers share: file URLs, one output file per group, rates as editors spell them."""

from __future__ import annotations

import os
import pathlib
from fractions import Fraction
from urllib.parse import quote

from ..fsutil import atomic_write_text
from ..timeline import GroupTimeline, Timeline


def file_url(path: str, *, localhost: bool = False) -> str:
    """Absolute, percent-encoded ``file:///`` URL (``file://localhost/`` for FCP7 XML)."""
    posix = pathlib.Path(os.path.abspath(path)).as_posix()
    if not posix.startswith("/"):
        posix = "/" + posix  # C:/... on Windows
    return ("file://localhost" if localhost else "file://") + quote(posix, safe="/:")


def per_group(path: str, tl: Timeline) -> list[tuple[str, GroupTimeline | None]]:
    """``x.ext`` for one group; ``x.g1.ext``, ``x.g2.ext`` … for several; unplaced clips ride in the first."""
    if len(tl.groups) <= 1:
        return [(path, tl.groups[0] if tl.groups else None)]
    stem, ext = os.path.splitext(path)
    return [(f"{stem}.g{g.group}{ext}", g) for g in tl.groups]


def sequence_name(tl: Timeline, group: GroupTimeline | None, title: str = "syncfp") -> str:
    if group is None:
        return f"{title} unplaced"
    return title if len(tl.groups) <= 1 else f"{title} group {group.group}"


def ntsc(rate: Fraction) -> tuple[int, bool]:
    """(timebase, ntsc) as FCP7 XML spells a rate: 30000/1001 → (30, True)."""
    nominal = round(rate)
    return nominal, rate != nominal


def write_per_group(path: str, tl: Timeline, render) -> list[str]:
    """Write ``render(group, with_unplaced)`` for each group's file (see `per_group`); the files written."""
    written = []
    for i, (name, group) in enumerate(per_group(path, tl)):
        atomic_write_text(name, render(group, i == 0))
        written.append(name)
    return written
