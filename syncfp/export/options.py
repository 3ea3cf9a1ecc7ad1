"""`ExportOptions`: what a user chooses about an export, and the timeline built from those choices.

Its own module so every writer can import it at the top (the package imports the writers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from ..types import Alignment
from .timeline import Marker, Timeline, build


@dataclass(frozen=True)
class ExportOptions:
    fps: Fraction | None = None
    drop_frame: bool | None = None
    edl_style: str = "cmx"  # or "premiere": no comment lines Premiere misreads
    drift_correction: bool = True
    fcpx_multicam: bool = False
    markers: Mapping[int, Sequence[Marker]] | None = None  # group → songs, seconds on its timeline
    title: str = "syncfp"


DEFAULT_OPTIONS = ExportOptions()


def timeline_for(alignment: Alignment, options: ExportOptions = DEFAULT_OPTIONS) -> Timeline:
    """The timeline every writer draws from, built with the export options."""
    return build(alignment, fps=options.fps, drop_frame=options.drop_frame,
                 drift_correction=options.drift_correction, markers=options.markers)
