"""spans (start, end) in order → lane numbers and unique lane names: the one first-fit allocator.

Both `sync.tracks` (a device's clips in seconds, named in the `Alignment`) and `export.timeline` (a
track's clips in frames, split again only where frame rounding or picture lengths make them overlap)
use it, so the two can never disagree on how lanes are filled or name two lanes alike.
"""

from __future__ import annotations

from collections.abc import Iterable


def first_fit(spans: Iterable[tuple[float, float]], *, tolerance: float = 0.0) -> list[int]:
    """Lane number (0, 1, …) of each (start, end) span, taken in the order given: the first lane whose
    last span ends at or before ``start + tolerance``, else a new lane."""
    ends: list[float] = []  # per lane: end of the span placed last
    out: list[int] = []
    for start, end in spans:
        for i, last in enumerate(ends):
            if last <= start + tolerance:
                ends[i] = end
                break
        else:
            ends.append(end)
            i = len(ends) - 1
        out.append(i)
    return out


def lane_names(base: str, count: int, *, taken: set[str]) -> list[str]:
    """Names of *count* lanes: *base*, then ``base-2``, ``base-3``, … skipping every name already in
    *taken* (lane 0 keeps *base* even when taken: it is the name the lanes split). *taken* grows by the
    names given, so successive calls sharing it never repeat a name."""
    names = [base][:count]
    n = 1
    while len(names) < count:
        n += 1
        name = f"{base}-{n}"
        if name not in taken:
            names.append(name)
    taken.update(names)
    return names

