"""`Alignment` → the same with every unplaced clip that has a clock hint laid on the timeline at that hint,
and every group with one moved onto the group it names, on lanes of their own (`syncfp align
--place-by-clock`): opt-in, never the default.

A clip the audio could not confirm stays unplaced by default, and a part of a concert no clip bridged stays
a group of its own. An editor with 80 phone clips may still want them dropped roughly where their recording
clocks say (`stamps.clock_hints`, `stamps.group_hints`: within about a second on the hard bench), to nudge
by ear, rather than hunt for them. They go on lanes named ``clock …`` with confidence 0 and a stated error
of the clock search's reach, so no reader takes them for sound sync.
"""

from __future__ import annotations

from dataclasses import replace

from ..types import Alignment, ClipResult
from .tracks import assign

WARNING = "placed by its recording clock alone (±{:g} s): no audio confirmed it; nudge it into place by ear"
GROUP_WARNING = ("its group ({} clips, synced among themselves by their audio) laid here by the recording clocks "
                 "alone (±{:g} s): no audio joins it to this timeline; nudge the group into place by ear")


def placed_by_clock(al: Alignment) -> Alignment:
    """*al* with each unplaced clip that carries a `clock_hint` placed at it (group, offset), drift unknown,
    confidence 0, `error_ms` = the hint's reach, a warning saying so, on ``clock <device>`` lanes (one
    device's hinted clips overlap nowhere; two devices' may, so lanes are per device as for placed clips);
    and each group with a hint (`Alignment.group_hints`) moved onto the group it names, shifted by it, its
    clips on ``clock …`` lanes likewise (their offsets among themselves unchanged)."""
    moved = dict(al.group_hints)
    al = _groups_moved(al)
    clips: list[ClipResult] = list(al.clips)
    hints = {}
    for i, c in enumerate(clips):
        if c.group is None and (h := c.clock_hint) is not None:
            to = moved.get(h.group)  # a hint into a group just moved: onto the group it went to
            hints[i] = h if to is None else replace(h, group=to.group, offset_s=h.offset_s + to.offset_s)
    if not hints:
        return al
    tag = lambda c: c.info.device if c.info else None  # noqa: E731
    lanes = assign([(i, clips[i].path, tag(clips[i]), h.group, h.offset_s, h.offset_s + clips[i].duration_s)
                    for i, h in hints.items()], others=[(c.path, tag(c)) for c in clips if c.group is not None])
    for i, h in hints.items():
        c = clips[i]
        warning = "; ".join(x for x in (WARNING.format(h.within_s), c.warning) if x)
        clips[i] = replace(c, group=h.group, track=f"clock {lanes[i]}", offset_s=h.offset_s, drift_ppm=None,
                           confidence=0.0, error_ms=h.within_s * 1000.0, error=None, clock_hint=h, warning=warning)
    return replace(al, clips=clips)


def _groups_moved(al: Alignment) -> Alignment:
    """*al* with every hinted group's clips moved onto the group its hint names (see `placed_by_clock`)."""
    if not al.group_hints:
        return al
    sizes = {g: sum(c.group == g for c in al.clips) for g in al.group_hints}
    clips = list(al.clips)
    for i, c in enumerate(al.clips):
        h = al.group_hints.get(c.group) if c.group is not None else None
        if h is None:
            continue
        warning = "; ".join(x for x in (GROUP_WARNING.format(sizes[c.group], h.within_s), c.warning) if x)
        clips[i] = replace(c, group=h.group, track=f"clock {c.track}", offset_s=c.offset_s + h.offset_s,
                           confidence=0.0, error_ms=h.within_s * 1000.0, warning=warning)
    return replace(al, clips=clips, group_hints={})


def markers_moved(markers: dict, group_hints: dict) -> dict:
    """Song markers (group → `export.timeline.Marker`s on its timeline) with those of each hinted group moved
    onto the group its hint names, shifted by it, as `placed_by_clock` moves the group's clips."""
    out = {g: list(ms) for g, ms in markers.items()}
    for g, h in group_hints.items():
        for m in out.pop(g, []):
            out.setdefault(h.group, []).append(replace(m, start_s=m.start_s + h.offset_s, end_s=m.end_s + h.offset_s))
    return out
