"""`Timeline` → CMX 3600 EDLs, one per device track (an EDL holds one video track): cameras as ``AA/V``
events, recorders as audio-only ``AA``/``A`` events. Resolve imports each with "Import › Timeline › EDL to
new track"; Premiere with File › Import.

Record times start at 01:00:00:00 plus the clip's offset; the source in-point is the file's own start
timecode. Reel names are 8 characters, unique across all the EDLs written; the file name follows in
``* FROM CLIP NAME:`` and its full path in ``* FROM FILE:`` (and Resolve's ``* SOURCE FILE:``). The
``premiere`` style keeps only the clip name comment (Premiere misreads the others).
Songs go to a separate ``.markers.edl`` in Resolve's marker-EDL form.
"""

from __future__ import annotations

import hashlib
import os
import re

from ..fsutil import atomic_write_text
from .common import one_line
from .options import DEFAULT_OPTIONS, ExportOptions
from .timeline import GroupTimeline, Timeline, TimelineClip, Track, snap_rate, tc_to_frames


def reel_name(path: str) -> str:
    """Eight characters from the file name: letters, digits and ``_``, upper case (``IMG_0001``), so that
    readers which find media by reel name still match the file."""
    stem = os.path.splitext(os.path.basename(path))[0]
    clean = re.sub(r"[^A-Za-z0-9_]", "", stem).upper()
    return (clean or "AX")[:8]


def reel_names(tl: Timeline) -> dict[str, str]:
    """Path → reel, unique across every EDL of the export (all groups and devices), so two cameras' equal
    file names (``GOPR0001.MP4``) never share a reel. The first path keeps its plain reel; a later one
    with the same reel gets four characters of it and four of a hash of its full path."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for g in tl.groups:
        for t in g.tracks:
            for tc in t.clips:
                path = tc.clip.path
                if path in out:
                    continue
                reel, salt = reel_name(path), 0
                while reel in used:
                    digest = hashlib.sha1(f"{salt}|{os.path.abspath(path)}".encode()).hexdigest().upper()
                    reel, salt = reel_name(path)[:4] + digest[:4], salt + 1
                used.add(reel)
                out[path] = reel
    return out


def source_in_frame(tl: Timeline, tc: TimelineClip) -> int:
    """The event's source in-point at the EDL's rate. A file whose own rate differs (25p on a 29.97 DF
    timeline) keeps its timecode label's hours, minutes and seconds, frames scaled: 10:00:00:00 stays
    10:00:00;00 rather than the 10:00:00;01 that converting its time would give."""
    info = tc.clip.info
    own = snap_rate(info.fps) if info is not None and info.fps else tl.rate
    if info is None or not info.timecode or own == tl.rate:
        return tc.source_in_frame
    try:
        hh, mm, ss, ff = (int(p) for p in re.split(r"[:;.]", info.timecode.strip()))
    except ValueError:
        return tc.source_in_frame
    ff = min(round(tl.rate) - 1, ff * round(tl.rate) // round(own))
    if tl.drop_frame and ss == 0 and mm % 10:
        ff = max(ff, 2 * (round(tl.rate) // 30))  # a label drop-frame counting skips
    sep = ";" if tl.drop_frame else ":"
    return tc_to_frames(f"{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}", tl.rate)


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


def track_to_edl(tl: Timeline, track: Track, *, title: str, style: str = "cmx", unplaced: list | None = None,
                 reels: dict[str, str] | None = None) -> str:
    """One track as CMX 3600 text; *reels* are the export-wide reel names (`reel_names`)."""
    start = tl.record_start_frame
    reels = reels or reel_names(tl)
    lines = [f"TITLE: {one_line(title)}", f"FCM: {'DROP FRAME' if tl.drop_frame else 'NON-DROP FRAME'}", ""]
    for n, tc in enumerate(track.clips, start=1):
        src_in = source_in_frame(tl, tc)
        # CMX 3600 cannot hold a 100.02 % speed (M2 has 0.1 fps steps): source and record lengths are equal,
        # as readers insist, and the drift is a comment
        length = min(tc.duration_frames, tc.source_frames)
        rec_in = start + tc.record_frame
        lines.append(
            f"{n:03d}  {reels[tc.clip.path]:<8} {channels(tc):<5} C        "
            f"{tl.tc(src_in)} {tl.tc(src_in + length)} {tl.tc(rec_in)} {tl.tc(rec_in + length)}"
        )
        lines.append(f"* FROM CLIP NAME: {one_line(tc.name)}")  # a name never adds an event
        if style != "premiere":
            # FROM FILE is what OpenTimelineIO (and the tools built on it), Avid and Nucoda link media by;
            # SOURCE FILE is Resolve's own comment
            lines.append(f"* FROM FILE: {one_line(os.path.abspath(tc.clip.path))}")
            lines.append(f"* SOURCE FILE: {one_line(os.path.abspath(tc.clip.path))}")
            lines.append(f"* SYNCFP: OFFSET {tc.clip.offset_s:.6f} S")
            note = drift_note(tc)
            if note:
                lines.append(note)
        lines.append("")
    if style != "premiere":
        for c in unplaced or []:
            lines.append(f"* SYNCFP UNPLACED: {one_line(os.path.basename(c.path))} ({one_line(c.error or 'not placed')})")
    return "\n".join(lines).rstrip("\n") + "\n"


def markers_to_edl(tl: Timeline, group: GroupTimeline, *, title: str) -> str:
    """Songs as Resolve's timeline-marker EDL (Timeline › Import › Timeline Markers from EDL)."""
    start = tl.record_start_frame
    lines = [f"TITLE: {one_line(title)} markers", f"FCM: {'DROP FRAME' if tl.drop_frame else 'NON-DROP FRAME'}", ""]
    for n, m in enumerate(group.markers, start=1):
        rec = start + m.start_frame
        lines.append(f"{n:03d}  001      V     C        {tl.tc(rec)} {tl.tc(rec + 1)} {tl.tc(rec)} {tl.tc(rec + 1)}  ")
        lines.append(f" |C:ResolveColorGreen |M:{one_line(m.marker.title)} |D:{max(1, m.duration_frames)}")
        lines.append("")
    return "\n".join(lines)


def file_names(path: str, tl: Timeline) -> list[tuple[str, GroupTimeline, Track]]:
    """``x.edl`` for a single track; ``x.<track>.edl`` (and ``.g<N>``) when there are more. Track names keep
    letters of any script (``前``); names that still come out equal get ``-2``, ``-3``, … so none is overwritten."""
    stem, ext = os.path.splitext(path)
    ext = ext or ".edl"
    many_groups = len(tl.groups) > 1
    out, taken = [], set()
    for g in tl.groups:
        for t in g.tracks:
            parts = [stem]
            if many_groups:
                parts.append(f"g{g.group}")
            if len(g.tracks) > 1 or many_groups:
                parts.append(re.sub(r"[^\w-]", "_", t.name))
            name, n = ".".join(parts) + ext, 1
            while name.casefold() in taken:  # case-insensitive file systems too
                n += 1
                name = ".".join(parts) + f"-{n}" + ext
            taken.add(name.casefold())
            out.append((name, g, t))
    return out


def write_to_string(tl: Timeline, *, options: ExportOptions = DEFAULT_OPTIONS) -> str:
    """The EDL of a timeline that fits one file: one group of one track (a CMX 3600 list holds one video
    track; more tracks, groups or song markers are several files, which only `write_to_file` writes)."""
    files = file_names("x.edl", tl)
    if len(files) != 1 or (options.edl_style != "premiere" and any(g.markers for g in tl.groups)):
        raise ValueError(f"this timeline is {len(files)} EDL files and maybe a marker list: use write_to_file")
    _, _, t = files[0]
    title = f"{options.title} {t.name}"
    return track_to_edl(tl, t, title=title, style=options.edl_style, unplaced=tl.unplaced, reels=reel_names(tl))


def write_to_file(tl: Timeline, path: str, *, options: ExportOptions = DEFAULT_OPTIONS) -> list[str]:
    style = options.edl_style
    base = options.title
    written: list[str] = []
    reels = reel_names(tl)
    for i, (name, g, t) in enumerate(file_names(path, tl)):
        title = f"{base} {t.name}" if len(tl.groups) <= 1 else f"{base} group {g.group} {t.name}"
        atomic_write_text(name, track_to_edl(tl, t, title=title, style=style, unplaced=tl.unplaced if i == 0 else None,
                                             reels=reels))
        written.append(name)
    _remove_stale(path, written)
    stem, ext = os.path.splitext(path)
    for g in tl.groups:
        if g.markers and style != "premiere":
            name = f"{stem}{'.g%d' % g.group if len(tl.groups) > 1 else ''}.markers{ext or '.edl'}"
            atomic_write_text(name, markers_to_edl(tl, g, title=base))
            written.append(name)
    return written


def _remove_stale(path: str, written: list[str]) -> None:
    """When the EDL is split per track, an ``x.edl`` an earlier one-track run left at the very path asked
    for would sit beside ``x.<track>.edl`` and be imported as current: it is removed — only if it is an
    EDL (starts ``TITLE:``), as overwriting it would have replaced it."""
    if path in written or not os.path.isfile(path):
        return
    try:
        with open(path, "rb") as fh:
            if not fh.read(7) == b"TITLE: ":
                return
        os.remove(path)
    except OSError:
        pass
