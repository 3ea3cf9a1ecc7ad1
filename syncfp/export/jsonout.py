"""`Timeline` → JSON for scripts: ``{"clips": [...], "groups": [...], ...}`` (schema in docs/formats.md)."""

from __future__ import annotations

import json
from typing import Any

from ..fsutil import atomic_write_text
from ..types import Alignment, ClockHint
from .options import DEFAULT_OPTIONS, ExportOptions, timeline_for
from .timeline import Timeline, TimelineClip, picture_offset_s, picture_shift_s, source_start_s

SCHEMA_VERSION = 1


def _r(x: float | None, nd: int) -> float | None:
    return None if x is None else round(float(x), nd)


def _hint(h: ClockHint | None) -> dict[str, Any] | None:
    """A clip's or a group's `ClockHint` as JSON (ms-rounded: a clock reads no finer)."""
    return None if h is None else {"group": h.group, "offset": _r(h.offset_s, 3), "within": _r(h.within_s, 3)}


def _timeline(obj: Alignment | Timeline, options: ExportOptions) -> Timeline:
    return obj if isinstance(obj, Timeline) else timeline_for(obj, options)


def placed_by_path(tl: Timeline) -> dict[str, TimelineClip]:
    return {tc.clip.path: tc for g in tl.groups for t in g.tracks for tc in t.clips}


def source_timecode(c, tl: Timeline) -> str | None:
    """The file's timecode tag, else its BWF time reference as a label at the timeline's rate."""
    if c.info is not None and c.info.timecode:
        return c.info.timecode
    start = source_start_s(c.info, tl.rate)
    return None if start is None else tl.tc(round(start * tl.rate))


def to_dict(obj: Alignment | Timeline, *, options: ExportOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """Plain dict; clips in input order, numbers rounded to what is meaningful (µs, 0.01 ppm)."""
    tl = _timeline(obj, options)
    placed = placed_by_path(tl)
    clips = []
    source = tl.alignment.clips if tl.alignment is not None else [tc.clip for tc in placed.values()] + tl.unplaced
    for c in source:
        tc = placed.get(c.path) if c.group is not None else None
        clips.append({
            "path": c.path,
            "group": c.group,
            "track": c.track,
            "offset": _r(c.offset_s, 6),
            "picture_offset": _r(picture_offset_s(c), 6),
            "picture_shift": _r(picture_shift_s(c.info), 6) if c.info is not None and c.info.has_video else None,
            "duration": _r(c.duration_s, 6),
            "drift_ppm": _r(c.drift_ppm, 2),
            "speed": None if tc is None else round(tc.speed, 9),
            "confidence": round(float(c.confidence), 4),
            "error": c.error,
            "offset_error_ms": _r(c.error_ms, 4),
            "record_frame": None if tc is None else tc.record_frame,
            "record_timecode": None if tc is None else tl.tc(tc.record_frame),
            "subframe": None if tc is None else round(tc.subframe_s, 6),
            "duration_frames": None if tc is None else tc.duration_frames,
            "source_timecode": source_timecode(c, tl),
            "source_in_frame": None if tc is None else tc.source_in_frame,
            "vfr": bool(c.info is not None and c.info.vfr),
            "audio_stream": None if c.info is None else c.info.audio_stream,
            "audio_streams": None if c.info is None else c.info.audio_streams,
            "stream_choice": None if c.info is None else c.info.stream_choice,
            "downmix": None if c.info is None else c.info.downmix,
            "warning": c.warning,
            "clock_hint": _hint(c.clock_hint),
        })
    groups = []
    for g in tl.groups:
        members = [tc.clip for t in g.tracks for tc in t.clips]
        end = max(c.offset_s + c.duration_s / (1 + (c.drift_ppm or 0) * 1e-6) for c in members)
        gh = tl.alignment.group_hints.get(g.group) if tl.alignment is not None else None
        groups.append({
            "group": g.group, "clips": len(members), "duration": round(end, 6),
            "clock_hint": _hint(gh),
            "tracks": [t.name for t in g.tracks],
            "markers": [{"start": round(m.marker.start_s, 6), "end": round(m.marker.end_s, 6),
                         "title": m.marker.title, "start_frame": m.start_frame} for m in g.markers],
        })
    return {
        "version": SCHEMA_VERSION,
        "fps": f"{tl.rate.numerator}/{tl.rate.denominator}",
        "drop_frame": tl.drop_frame,
        "drift_correction": tl.drift_correction,
        "clips": clips,
        "groups": groups,
    }


def dumps(obj: Alignment | Timeline, *, options: ExportOptions = DEFAULT_OPTIONS) -> str:
    return json.dumps(to_dict(obj, options=options), indent=2, ensure_ascii=False) + "\n"


def write_to_string(tl: Timeline, *, options: ExportOptions = DEFAULT_OPTIONS) -> str:
    return dumps(tl, options=options)


def write_to_file(tl: Timeline, path: str, *, options: ExportOptions = DEFAULT_OPTIONS) -> list[str]:
    atomic_write_text(path, write_to_string(tl, options=options))
    return [path]
