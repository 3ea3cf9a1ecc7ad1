"""Helpers the writers share: file URLs, one output file per group, rates as editors spell them, names
made safe for line-based formats."""

from __future__ import annotations

import os
import pathlib
import unicodedata
from fractions import Fraction
from urllib.parse import quote

from ..fsutil import atomic_write_text
from .timeline import GroupTimeline, Timeline


def file_url(path: str, *, localhost: bool = False) -> str:
    """Absolute, percent-encoded ``file:///`` URL (``file://localhost/`` for FCP7 XML)."""
    posix = pathlib.Path(os.path.abspath(path)).as_posix()
    if not posix.startswith("/"):
        posix = "/" + posix  # C:/... on Windows
    return ("file://localhost" if localhost else "file://") + quote(posix, safe="/:")


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """*text* with control and line-separator characters written as visible escapes (``\\n``, ``\\t``,
    ``\\x1b``, ``\\u2028``): a file or song name can then never add lines, events or fields to a
    line-based format (EDL, Audacity labels, REAPER)."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def only_group(tl: Timeline, fmt: str) -> GroupTimeline | None:
    """The one group a single document holds (None without any), for `write_to_string`: a timeline of
    several groups is several files of *fmt*, which only `write_to_file` writes."""
    if len(tl.groups) > 1:
        raise ValueError(f"{len(tl.groups)} groups make {len(tl.groups)} {fmt} files: use write_to_file")
    return tl.groups[0] if tl.groups else None


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
