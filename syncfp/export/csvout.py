"""`Timeline` → CSV sidecar: one row per input clip (placed or not), in input order, for spreadsheets."""

from __future__ import annotations

import csv
import io

from ..fsutil import atomic_write_text
from .jsonout import to_dict
from .options import DEFAULT_OPTIONS, ExportOptions
from .timeline import Timeline

COLUMNS = ("path", "group", "track", "offset", "subframe", "record_frame", "record_timecode", "duration",
           "duration_frames", "source_timecode", "source_in_frame", "drift_ppm", "speed", "confidence",
           "offset_error_ms", "error", "warning", "clock_hint_group", "clock_hint_offset", "clock_hint_within")


def to_csv(tl: Timeline) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in to_dict(tl)["clips"]:
        hint = row.pop("clock_hint") or {}  # flat columns: a spreadsheet has no nested cells
        row.update({f"clock_hint_{k}": v for k, v in hint.items()})
        w.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def write_to_string(tl: Timeline, *, options: ExportOptions = DEFAULT_OPTIONS) -> str:
    return to_csv(tl)


def write_to_file(tl: Timeline, path: str, *, options: ExportOptions = DEFAULT_OPTIONS) -> list[str]:
    atomic_write_text(path, write_to_string(tl, options=options))
    return [path]
