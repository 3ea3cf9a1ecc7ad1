"""query paths + library → `QueryResult` per path: decode, fingerprint, identify (and the setlist).

Composition only, like `api.align`: the library is opened once for a whole batch of queries.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import MediaError
from .extract import extract
from .identify import IdentifyConfig, Match, Segment, identify_audio, setlist
from .library import Library


@dataclass(frozen=True)
class QueryResult:
    """What one query file matched; ``error`` is set (and the rest empty) when it could not be decoded."""

    query: str
    matches: list[Match]
    duration_s: float = 0.0
    segments: list[Segment] | None = None
    error: str | None = None


def identify_paths(
    lib: Library, paths: Sequence[str], *, cfg: IdentifyConfig = IdentifyConfig(), segments: bool = False
) -> Iterator[QueryResult]:
    """One result per path, in order, as each is done (so callers can stream JSON Lines)."""
    with tempfile.TemporaryDirectory(prefix="syncfp-query-") as work:
        for path in paths:
            try:
                fp = extract(path, cfg=lib.cfg, cache_dir=None, work_dir=work)
            except MediaError as exc:
                yield QueryResult(query=path, matches=[], error=exc.reason)
                continue
            try:
                pcm = np.memmap(fp.pcm_path, dtype=np.int16, mode="r")
                matches, hits = identify_audio(lib, pcm, cfg)
                segs = setlist(lib, hits[cfg.speeds.index(1.0) if 1.0 in cfg.speeds else 0], cfg,
                               hop_s=lib.cfg.hop_s) if segments else None
                del pcm
            finally:
                try:
                    os.remove(fp.pcm_path)
                except OSError:
                    pass
            yield QueryResult(query=path, matches=matches, duration_s=fp.duration_s, segments=segs)
