"""`Alignment` → JSON for scripts: ``{"clips": [...], "groups": [...], ...}`` (schema in docs/formats.md)."""

from __future__ import annotations

import json
from typing import Any

from ..fsutil import atomic_write_text
from ..timeline import build, frames_to_tc
from ..types import Alignment

SCHEMA_VERSION = 1


def _r(x: float | None, nd: int) -> float | None:
    return None if x is None else round(float(x), nd)


def to_dict(alignment: Alignment, *, options=None) -> dict[str, Any]:
    """Plain dict; clips in input order, numbers rounded to what is meaningful (µs, 0.01 ppm)."""
    tl = build(alignment, fps=getattr(options, "fps", None), drop_frame=getattr(options, "drop_frame", None))
    clips = []
    for c in alignment.clips:
        rec = None
        if c.offset_s is not None:
            rec = round(c.offset_s * tl.rate)
        clips.append({
            "path": c.path,
            "group": c.group,
            "track": c.track,
            "offset": _r(c.offset_s, 6),
            "duration": _r(c.duration_s, 6),
            "drift_ppm": _r(c.drift_ppm, 2),
            "confidence": round(float(c.confidence), 4),
            "error": c.error,
            "offset_error_ms": _r(c.error_ms, 4),
            "record_frame": rec,
            "record_timecode": None if rec is None else frames_to_tc(rec, tl.rate, drop=tl.drop_frame),
            "source_timecode": None if c.info is None else c.info.timecode,
            "warning": c.warning,
        })
    groups = []
    for g in tl.groups:
        members = [c for c in alignment.clips if c.group == g.group]
        end = max(c.offset_s + c.duration_s for c in members)
        groups.append({"group": g.group, "clips": len(members), "duration": round(end, 6),
                       "tracks": [t.name for t in g.tracks]})
    return {
        "version": SCHEMA_VERSION,
        "fps": f"{tl.rate.numerator}/{tl.rate.denominator}",
        "drop_frame": tl.drop_frame,
        "clips": clips,
        "groups": groups,
    }


def dumps(alignment: Alignment, *, options=None) -> str:
    return json.dumps(to_dict(alignment, options=options), indent=2, ensure_ascii=False) + "\n"


def write(alignment: Alignment, path: str, *, options=None) -> list[str]:
    atomic_write_text(path, dumps(alignment, options=options))
    return [path]
