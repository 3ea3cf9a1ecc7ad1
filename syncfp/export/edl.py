"""`Alignment` → CMX 3600 EDLs, one per (group, track): an EDL holds one video track, so each camera gets
its own file, imported in Resolve with "Import › Timeline › EDL to new track" or in Premiere one by one.

Record times start at 01:00:00:00 plus the clip's offset; the source in-point is the file's own start
timecode. Reel names are 8 characters; the full file name follows in ``* FROM CLIP NAME:``.
"""

from __future__ import annotations

import os
import re

from ..fsutil import atomic_write_text
from ..timeline import GroupTimeline, Timeline, Track, build, frames_to_tc
from ..types import Alignment

RECORD_START_S = 3600  # 01:00:00:00, the editors' convention for a programme's first frame


def reel_name(path: str) -> str:
    """Eight characters from the file name: letters and digits, upper case."""
    stem = os.path.splitext(os.path.basename(path))[0]
    clean = re.sub(r"[^A-Za-z0-9]", "", stem).upper()
    return (clean or "AX")[:8]


def track_to_edl(tl: Timeline, group: GroupTimeline, track: Track, *, title: str, style: str = "cmx") -> str:
    """One track as CMX 3600 text."""
    rate, drop = tl.rate, tl.drop_frame
    start = round(RECORD_START_S * rate)
    lines = [f"TITLE: {title}", f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}", ""]
    for n, tc in enumerate(track.clips, start=1):
        has_video = tc.clip.info is not None and tc.clip.info.has_video
        channel = "AA/V" if has_video else "AA"
        src_in, src_out = tc.source_in_frame, tc.source_in_frame + tc.duration_frames
        rec_in = start + tc.record_frame
        rec_out = rec_in + tc.duration_frames
        lines.append(
            f"{n:03d}  {reel_name(tc.clip.path):<8} {channel:<5} C        "
            f"{frames_to_tc(src_in, rate, drop=drop)} {frames_to_tc(src_out, rate, drop=drop)} "
            f"{frames_to_tc(rec_in, rate, drop=drop)} {frames_to_tc(rec_out, rate, drop=drop)}"
        )
        lines.append(f"* FROM CLIP NAME: {os.path.basename(tc.clip.path)}")
        if style != "premiere":
            lines.append(f"* SOURCE FILE: {os.path.abspath(tc.clip.path)}")
            note = f"* SYNCFP: OFFSET {tc.clip.offset_s:.6f} S"
            if tc.clip.drift_ppm is not None and abs(tc.clip.drift_ppm) >= 1:
                note += f", DRIFT {tc.clip.drift_ppm:+.1f} PPM (SPEED {1 / (1 + tc.clip.drift_ppm * 1e-6) * 100:.4f}%)"
            lines.append(note)
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
            name = ".".join(parts) + ext if len(parts) > 1 else stem + ext
            out.append((name, g, t))
    return out


def write(alignment: Alignment, path: str, *, options=None) -> list[str]:
    tl = build(alignment, fps=getattr(options, "fps", None), drop_frame=getattr(options, "drop_frame", None))
    style = getattr(options, "edl_style", "cmx")
    written = []
    for name, g, t in file_names(path, tl):
        title = f"syncfp group {g.group} {t.name}"
        atomic_write_text(name, track_to_edl(tl, g, t, title=title, style=style))
        written.append(name)
    return written
