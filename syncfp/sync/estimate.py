"""Paths → what an `align` run will need before it starts: files, audio-hours and peak memory, from the
containers' headers alone (nothing is decoded)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..audio.decode import probe
from ..errors import MediaError

# Peak RSS of one cold `align` (its largest process) ≈ BASE_MB + MB_PER_AUDIO_HOUR · audio-hours: a fit to
# bench/scale_align.py at 5-50 audio-hours (docs/benchmarks.md, "align at festival scale"). The base holds
# the interpreter, its imports and the bounded chunk of the pair join (`engine.stream.MAX_PAIRS`); the
# slope the fingerprints, the hash table and the join's plan, which grow with the audio.
BASE_MB = 490.0
MB_PER_AUDIO_HOUR = 27.0


@dataclass(frozen=True)
class RunEstimate:
    """What `align` will read and about how much memory it will take at its peak."""

    files: int
    unreadable: int  # files whose headers could not be read (they will be reported, not aligned)
    audio_hours: float
    peak_mb: float


def estimate(paths: Sequence[str]) -> RunEstimate:
    """Probe every path's headers (no decoding) and apply the measured memory model."""
    seconds, bad = 0.0, 0
    for p in paths:
        try:
            seconds += max(probe(str(p)).duration_s, 0.0)
        except (MediaError, OSError):
            bad += 1
    hours = seconds / 3600.0
    return RunEstimate(files=len(paths), unreadable=bad, audio_hours=hours,
                       peak_mb=BASE_MB + MB_PER_AUDIO_HOUR * hours)
