"""`Timeline` → Audacity label track (``start<TAB>end<TAB>label`` in seconds): one label per placed clip,
one per song; unplaced clips as zero-length labels at 0. Import with File › Import › Labels."""

from __future__ import annotations

from .common import one_line, only_group, write_per_group
from .options import DEFAULT_OPTIONS, ExportOptions
from .timeline import GroupTimeline, Timeline


def to_labels(tl: Timeline, group: GroupTimeline | None, *, with_unplaced: bool = True) -> str:
    rows: list[tuple[float, float, str]] = []
    for t in group.tracks if group else []:
        for tc in t.clips:
            start = tc.clip.offset_s
            rows.append((start, start + tc.clip.duration_s / tc.speed, f"{t.name}: {tc.name}"))
    for m in group.markers if group else []:
        rows.append((m.marker.start_s, m.marker.end_s, f"song: {m.marker.title}"))
    if with_unplaced:
        rows += [(0.0, 0.0, f"unplaced: {c.path} ({c.error or 'not placed'})") for c in tl.unplaced]
    rows.sort(key=lambda r: (r[0], r[2]))
    return "".join(f"{a:.6f}\t{b:.6f}\t{one_line(label)}\n" for a, b, label in rows)  # one label a line


def write_to_string(tl: Timeline, *, options: ExportOptions = DEFAULT_OPTIONS) -> str:
    """The label track of a one-group timeline (`common.only_group`)."""
    return to_labels(tl, only_group(tl, "audacity"))


def write_to_file(tl: Timeline, path: str, *, options: ExportOptions = DEFAULT_OPTIONS) -> list[str]:
    return write_per_group(path, tl, lambda group, first: to_labels(tl, group, with_unplaced=first))
