"""`Timeline` → REAPER project ``.rpp``: a track per device with items at their exact (sub-frame) positions,
drift as the item's playrate (pitch preserved), songs as regions, unplaced clips on a muted track."""

from __future__ import annotations

import os

from ..timeline import GroupTimeline, Timeline, TimelineClip, media_length_s, media_offset_s
from .common import write_per_group

_SOURCE_TYPES = {".wav": "WAVE", ".bwf": "WAVE", ".flac": "FLAC", ".mp3": "MP3", ".ogg": "VORBIS",
                 ".opus": "OPUS"}


def q(text: str) -> str:
    """REAPER quotes a string with whichever of " ' ` it does not contain."""
    for ch in ('"', "'", "`"):
        if ch not in text:
            return f"{ch}{text}{ch}"
    return '"' + text.replace('"', "'") + '"'


def _item(tc: TimelineClip, position_s: float, *, lines: list[str]) -> None:
    path = os.path.abspath(tc.clip.path)
    kind = _SOURCE_TYPES.get(os.path.splitext(path)[1].lower(), "VIDEO")
    lines += [
        "    <ITEM",
        f"      POSITION {position_s:.9f}",
        f"      LENGTH {media_length_s(tc.clip) / tc.speed:.9f}",
        "      LOOP 0",  # an item never repeats its source past the media's end
        f"      NAME {q(tc.name)}",
        "      SOFFS 0",
        f"      PLAYRATE {tc.speed:.9f} 1 0 -1 0 0.0025",
        f"      <SOURCE {kind}",
        f"        FILE {q(path)}",
        "      >",
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


def write(tl: Timeline, path: str, *, options=None) -> list[str]:
    return write_per_group(path, tl, lambda group, first: to_rpp(tl, group, with_unplaced=first))
