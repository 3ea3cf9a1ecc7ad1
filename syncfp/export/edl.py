"""`Timeline` → CMX 3600 EDLs, one per device track (an EDL holds one video track): cameras as ``AA/V``
events, recorders as audio-only ``AA``/``A`` events. Resolve imports each with "Import › Timeline › EDL to
new track"; Premiere with File › Import.

Record times start at 01:00:00:00 plus the clip's offset; the source in-point is the file's own start
timecode. Reel names are 8 characters, unique in the file; the full file name follows in
``* FROM CLIP NAME:``. The ``premiere`` style keeps only that comment (Premiere misreads the others).
Songs go to a separate ``.markers.edl`` in Resolve's marker-EDL form.
"""

from __future__ import annotations

import os
import re

from ..fsutil import atomic_write_text
from ..timeline import GroupTimeline, Timeline, TimelineClip, Track


def reel_name(path: str) -> str:
    """Eight characters from the file name: letters and digits, upper case."""
    stem = os.path.splitext(os.path.basename(path))[0]
    clean = re.sub(r"[^A-Za-z0-9]", "", stem).upper()
    return (clean or "AX")[:8]


def reel_names(clips: list[TimelineClip]) -> dict[str, str]:
    """Path → reel, made unique by replacing the tail with a counter where 8 characters collide."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for tc in clips:
        if tc.clip.path in out:
            continue
        reel, n = reel_name(tc.clip.path), 1
        while reel in used:
            n += 1
            reel = reel_name(tc.clip.path)[: 8 - len(str(n))] + str(n)
        used.add(reel)
        out[tc.clip.path] = reel
    return out


def channels(tc: TimelineClip) -> str:
    """CMX channel field: AA/V (stereo + picture), B (mono + picture), AA, A."""
    n = tc.clip.info.channels if tc.clip.info is not None else 2
    if tc.has_video:
        return "AA/V" if n >= 2 else "B"
    return "AA" if n >= 2 else "A"


def drift_note(tc: TimelineClip) -> str | None:
    d = tc.clip.drift_ppm
    if d is None or abs(d) < 1:
        return None
    if tc.speed == 1.0:
        return f"* SYNCFP: DRIFT {d:+.1f} PPM NOT CORRECTED"
    return f"* SYNCFP: DRIFT {d:+.1f} PPM, PLAY AT {tc.speed * 100:.4f}% SPEED TO STAY IN SYNC"


def track_to_edl(tl: Timeline, track: Track, *, title: str, style: str = "cmx", unplaced: list | None = None) -> str:
    """One track as CMX 3600 text."""
    start = tl.record_start_frame
    reels = reel_names(track.clips)
    lines = [f"TITLE: {title}", f"FCM: {'DROP FRAME' if tl.drop_frame else 'NON-DROP FRAME'}", ""]
    for n, tc in enumerate(track.clips, start=1):
        src_in = tc.source_in_frame
        src_out = src_in + tc.source_out_frames
        rec_in = start + tc.record_frame
        lines.append(
            f"{n:03d}  {reels[tc.clip.path]:<8} {channels(tc):<5} C        "
            f"{tl.tc(src_in)} {tl.tc(src_out)} {tl.tc(rec_in)} {tl.tc(rec_in + tc.duration_frames)}"
        )
        lines.append(f"* FROM CLIP NAME: {tc.name}")
        if style != "premiere":
            lines.append(f"* SOURCE FILE: {os.path.abspath(tc.clip.path)}")
            lines.append(f"* SYNCFP: OFFSET {tc.clip.offset_s:.6f} S")
            note = drift_note(tc)
            if note:
                lines.append(note)
        lines.append("")
    if style != "premiere":
        for c in unplaced or []:
            lines.append(f"* SYNCFP UNPLACED: {os.path.basename(c.path)} ({c.error or 'not placed'})")
    return "\n".join(lines).rstrip("\n") + "\n"


def markers_to_edl(tl: Timeline, group: GroupTimeline, *, title: str) -> str:
    """Songs as Resolve's timeline-marker EDL (Timeline › Import › Timeline Markers from EDL)."""
    start = tl.record_start_frame
    lines = [f"TITLE: {title} markers", f"FCM: {'DROP FRAME' if tl.drop_frame else 'NON-DROP FRAME'}", ""]
    for n, m in enumerate(group.markers, start=1):
        rec = start + m.start_frame
        lines.append(f"{n:03d}  001      V     C        {tl.tc(rec)} {tl.tc(rec + 1)} {tl.tc(rec)} {tl.tc(rec + 1)}  ")
        lines.append(f" |C:ResolveColorGreen |M:{m.marker.title} |D:{max(1, m.duration_frames)}")
        lines.append("")
    return "\n".join(lines)


def file_names(path: str, tl: Timeline) -> list[tuple[str, GroupTimeline, Track]]:
    """``x.edl`` for a single track; ``x.<track>.edl`` (and ``.g<N>``) when there are more."""
    stem, ext = os.path.splitext(path)
    ext = ext or ".edl"
    many_groups = len(tl.groups) > 1
    out = []
    for g in tl.groups:
        for t in g.tracks:
            parts = [stem]
            if many_groups:
                parts.append(f"g{g.group}")
            if len(g.tracks) > 1 or many_groups:
                parts.append(re.sub(r"[^A-Za-z0-9_-]", "_", t.name))
            out.append((".".join(parts) + ext, g, t))
    return out


def write(tl: Timeline, path: str, *, options=None) -> list[str]:
    style = getattr(options, "edl_style", "cmx")
    base = getattr(options, "title", "syncfp")
    written: list[str] = []
    for i, (name, g, t) in enumerate(file_names(path, tl)):
        title = f"{base} {t.name}" if len(tl.groups) <= 1 else f"{base} group {g.group} {t.name}"
        atomic_write_text(name, track_to_edl(tl, t, title=title, style=style, unplaced=tl.unplaced if i == 0 else None))
        written.append(name)
    stem, ext = os.path.splitext(path)
    for g in tl.groups:
        if g.markers and style != "premiere":
            name = f"{stem}{'.g%d' % g.group if len(tl.groups) > 1 else ''}.markers{ext or '.edl'}"
            atomic_write_text(name, markers_to_edl(tl, g, title=base))
            written.append(name)
    return written
