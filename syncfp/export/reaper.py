"""`Timeline` → REAPER project ``.rpp``: a track per device with items at their exact (sub-frame) positions,
drift as the item's playrate (pitch preserved), songs as regions, unplaced clips on a muted track."""

from __future__ import annotations

import os

from .common import one_line, only_group, write_per_group
from .options import DEFAULT_OPTIONS, ExportOptions
from .timeline import GroupTimeline, Timeline, TimelineClip, media_length_s, media_offset_s

_SOURCE_TYPES = {".wav": "WAVE", ".bwf": "WAVE", ".flac": "FLAC", ".mp3": "MP3", ".ogg": "VORBIS",
                 ".opus": "OPUS"}


def q(text: str) -> str:
    """A display string (name, title) as one REAPER token: control characters escaped, then quoted with
    whichever of " ' ` it does not contain (REAPER's rule; with all three, as REAPER does, ` becomes ')."""
    text = one_line(text)
    for ch in ('"', "'", "`"):
        if ch not in text:
            return f"{ch}{text}{ch}"
    return "`" + text.replace("`", "'") + "`"


def exact(text: str) -> str | None:
    """*text* as a token REAPER reads back unchanged (a file path), or None when none exists: a line
    break, or all three quote characters, cannot be written in a project file."""
    if one_line(text) != text or all(ch in text for ch in ('"', "'", "`")):
        return None
    return q(text)


def _item(tc: TimelineClip, position_s: float, *, lines: list[str]) -> None:
    path = os.path.abspath(tc.clip.path)
    kind = _SOURCE_TYPES.get(os.path.splitext(path)[1].lower(), "VIDEO")
    file_token = exact(path)
    # a path REAPER cannot be told must not name another file: an empty item, placed and named, instead
    name = tc.name if file_token else f"{tc.name} (name cannot be written in a REAPER project; add the file by hand)"
    source = [f"      <SOURCE {kind}", f"        FILE {file_token}", "      >"] if file_token else \
        ["      <SOURCE EMPTY", "      >"]
    lines += [
        "    <ITEM",
        f"      POSITION {position_s:.9f}",
        f"      LENGTH {media_length_s(tc.clip) / tc.speed:.9f}",
        "      LOOP 0",  # an item never repeats its source past the media's end
        f"      NAME {q(name)}",
        "      SOFFS 0",
        f"      PLAYRATE {tc.speed:.9f} 1 0 -1 0 0.0025",
        *source,
        "    >",
    ]


def to_rpp(tl: Timeline, group: GroupTimeline | None, *, with_unplaced: bool = True) -> str:
    lines = ["<REAPER_PROJECT 0.1 \"6.0\" 0", "  SAMPLERATE 48000 0 0",
             "  VIDEO_CONFIG 0 0 256", "  PROJOFFS 0 0 0"]
    for n, m in enumerate(group.markers if group else [], start=1):
        lines.append(f"  MARKER {n} {m.marker.start_s:.6f} {q(m.marker.title)} 1 0 1 B")
        lines.append(f"  MARKER {n} {m.marker.end_s:.6f} \"\" 1")
    for t in group.tracks if group else []:
        lines += ["  <TRACK", f"    NAME {q(t.name)}"]
        for tc in t.clips:
            _item(tc, media_offset_s(tc.clip), lines=lines)
        lines.append("  >")
    if with_unplaced and tl.unplaced_clips:
        lines += ["  <TRACK", f"    NAME {q('Unplaced (not synced)')}", "    MUTESOLO 1 0 0"]
        for tc in tl.unplaced_clips:
            _item(tc, float(tc.record_frame / tl.rate), lines=lines)
        lines.append("  >")
    lines.append(">")
    return "\n".join(lines) + "\n"


def write_to_string(tl: Timeline, *, options: ExportOptions = DEFAULT_OPTIONS) -> str:
    """The REAPER project of a one-group timeline (`common.only_group`)."""
    return to_rpp(tl, only_group(tl, "rpp"))


def write_to_file(tl: Timeline, path: str, *, options: ExportOptions = DEFAULT_OPTIONS) -> list[str]:
    return write_per_group(path, tl, lambda group, first: to_rpp(tl, group, with_unplaced=first))
