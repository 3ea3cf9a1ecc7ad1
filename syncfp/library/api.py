"""query paths + library → `QueryResult` per path (and the setlist); an `Alignment` → song markers per group.

Composition only, like `api.align`: the library is opened once for a whole batch of queries.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..audio.extract import extract
from ..config import DecodeConfig, IdentifyConfig
from ..errors import MediaError
from ..fsutil import remove_quietly
from .identify import Match, Segment, identify_audio
from .store import Library

if TYPE_CHECKING:
    from ..export.timeline import Marker
    from ..types import Alignment


@dataclass(frozen=True)
class QueryResult:
    """What one query file matched; ``error`` is set (and the rest empty) when it could not be decoded."""

    query: str
    matches: list[Match]
    duration_s: float = 0.0
    segments: list[Segment] | None = None
    error: str | None = None


def identify_paths(
    lib: Library, paths: Sequence[str], *, cfg: IdentifyConfig = IdentifyConfig(), segments: bool = False,
    decode: DecodeConfig = DecodeConfig(),
) -> Iterator[QueryResult]:
    """One result per path, in order, as each is done (so callers can stream JSON Lines); *decode*: how
    each query is decoded (the library fixes the fingerprint parameters)."""
    with tempfile.TemporaryDirectory(prefix="syncfp-query-") as work:
        for path in paths:
            try:
                fp = extract(path, cfg=lib.cfg, cache_dir=None, work_dir=work, hashes=False,  # fingerprinted below
                             decode=decode)
            except MediaError as exc:
                yield QueryResult(query=path, matches=[], error=exc.reason)
                continue
            try:
                pcm = np.memmap(fp.pcm_path, dtype=np.int16, mode="r")
                matches, segs = identify_audio(lib, pcm, cfg, segments=segments)
                del pcm
            finally:
                remove_quietly(fp.pcm_path)
            yield QueryResult(query=path, matches=matches, duration_s=fp.duration_s, segments=segs)


def song_markers(
    al: "Alignment", lib: Library, *, cfg: IdentifyConfig = IdentifyConfig(), merge_gap_s: float = 2.0,
    decode: DecodeConfig = DecodeConfig(),
) -> dict[int, list["Marker"]]:
    """group → songs heard on its timeline: each placed clip's setlist, moved to the clip's position
    (drift applied) and merged where clips overlap (same file, gaps under *merge_gap_s*)."""
    from ..export.timeline import Marker

    spans: dict[int, list[tuple[str, str, float, float]]] = {}
    placed = [c for c in al.clips if c.group is not None and c.offset_s is not None]
    results = identify_paths(lib, [c.path for c in placed], cfg=cfg, segments=True, decode=decode)
    for clip, res in zip(placed, results):
        k = 1.0 / (1.0 + (clip.drift_ppm or 0.0) * 1e-6)  # clip seconds → timeline seconds
        for s in res.segments or []:
            spans.setdefault(clip.group, []).append((s.id, s.track, clip.offset_s + s.start_s * k,
                                                     clip.offset_s + s.end_s * k))
    out: dict[int, list[Marker]] = {}
    for group, items in spans.items():
        merged: list[list] = []  # merged by file (id), not title: two files may share their tags
        for tid, title, a, b in sorted(items, key=lambda x: (x[0], x[2])):
            if merged and merged[-1][0] == tid and a <= merged[-1][3] + merge_gap_s:
                merged[-1][3] = max(merged[-1][3], b)
            else:
                merged.append([tid, title, a, b])
        out[group] = [Marker(start_s=a, end_s=b, title=t) for _, t, a, b in sorted(merged, key=lambda m: m[2])]
    return out
