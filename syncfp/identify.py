"""query `Hashes` + `Library` → best tracks with offset, score and confidence; long recordings → setlist.

Every query hash is looked up once; each hit (query frame t_q, global frame g) votes for (track, offset =
g - base - t_q). Votes are counted per (track, offset) with one frame of slack either side; a track's score
is its best offset's count. The setlist of a long recording reuses the same hits, counted per window of the
recording, so nothing is decoded twice. Speed-changed audio is found by fingerprinting a few resampled
copies of the query (`IdentifyConfig.speeds`); each copy is one more lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .config import FingerprintConfig
from .fingerprint import fingerprint_blocks
from .index import expand_ranges
from .library import Library
from .types import Hashes



@dataclass(frozen=True)
class IdentifyConfig:
    """Query-side parameters (the library fixes the fingerprint parameters)."""

    query_fan_out: int = 12  # a superset of the library's pairs (fan-out 5): more chances per peak to agree
    query_density: float = 1.0  # query peaks per second, as a multiple of the library's
    max_bucket_factor: float = 2.0  # skip hashes with more postings than this × the mean (or 32): the
    # most frequent ~10 % of hashes hold ~40 % of the postings and say little (halves a large library's work)
    min_score: int = 7  # aligned hits a match needs (chance alone rarely reaches this; see docs/library.md)
    min_confidence: float = 0.5  # matches below this are not reported
    top: int = 5
    speeds: tuple[float, ...] = (1.0,)  # playback speeds to try (1.03 = played 3 % fast)
    shifts: int = 2  # also fingerprint the query from hop/shifts, 2·hop/shifts, ... samples in: a peak near
    # a frame edge then lands in the library's frame in one of them (more hits, and the right one of two
    # repeated passages more often)
    window_s: float = 8.0  # setlist: the recording is scored per window of this length
    min_segment_s: float = 8.0  # setlist: shorter runs are dropped


@dataclass(frozen=True)
class Match:
    """A library track heard in the query: the query's first sample is at ``offset_s`` in the track."""

    track: str
    offset_s: float
    score: int
    confidence: float
    track_index: int
    speed: float = 1.0


@dataclass(frozen=True)
class Segment:
    """A stretch ``[start_s, end_s)`` of a long recording in which a track was heard; the recording's
    ``start_s`` is the track's ``offset_s``."""

    track: str
    start_s: float
    end_s: float
    offset_s: float
    score: int
    confidence: float


@dataclass(frozen=True)
class Hits:
    """Every vote of one query: hash at query frame ``t_q`` found at library global frame ``t_q + goff``."""

    t_q: np.ndarray  # int32, query frame of the hash
    goff: np.ndarray  # int64, global frame of the query's first frame if this hit is right
    n_hashes: int
    n_frames: int  # query length in frames


def query_config(lib_cfg: FingerprintConfig, cfg: IdentifyConfig) -> FingerprintConfig:
    """Fingerprint parameters for queries: the library's, with a wider fan-out (a superset of its pairs)."""
    return replace(lib_cfg, fan_out=max(lib_cfg.fan_out, cfg.query_fan_out),
                   peaks_per_s=lib_cfg.peaks_per_s * max(cfg.query_density, 1.0))


def hits(lib: Library, hashes: Hashes, cfg: IdentifyConfig) -> Hits:
    """Look every query hash up and turn postings into votes (no per-hit track lookup: see `_tracks`)."""
    start, stop = lib.ranges(hashes.hash)
    mean = lib.n_postings / max(lib.keys.shape[0], 1)
    ok = (stop - start) <= max(cfg.max_bucket_factor * mean, 32)
    which, pos = expand_ranges(start[ok], stop[ok])
    t_q = hashes.frame[ok][which]
    goff = np.asarray(lib.postings[pos], np.int64) - t_q
    return Hits(t_q=t_q.astype(np.int32), goff=goff, n_hashes=len(hashes), n_frames=hashes.n_frames)


def _tracks(lib: Library, goff: np.ndarray, mid: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """(track, offset in the track) of global offsets, judged at query frame *mid*: a query that starts
    before its track (negative offset) still has its middle inside it."""
    track = lib.track_of(goff + mid)
    return track, goff - lib.bases()[track]


def _vote(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct keys, their counts, and counts with ±1 slack (a peak on a frame edge lands either side)."""
    u, c = np.unique(key, return_counts=True)
    smooth = c.copy()
    if u.size > 1:
        nxt = u[1:] == u[:-1] + 1
        smooth[:-1] += np.where(nxt, c[1:], 0)
        smooth[1:] += np.where(nxt, c[:-1], 0)
    return u, c, smooth


def confidence(score: np.ndarray | int, runner_up: np.ndarray | int, n_hashes: int) -> np.ndarray:
    """Probability that a match is right, from its score, the best other track's score and the query size.

    A logistic model of (score - runner-up) over the noise level of wrong tracks, fitted on the
    benchmark's positive and negative queries (docs/library.md, 'Confidence').
    """
    s = np.asarray(score, np.float64)
    r = np.asarray(runner_up, np.float64)
    noise = np.maximum(r, 2.0 + 0.002 * n_hashes)
    z = (s - noise) / np.sqrt(noise + 1.0)
    return 1.0 / (1.0 + np.exp(-(1.65 * z - 2.7)))


def best_matches(lib: Library, h: Hits, cfg: IdentifyConfig, *, hop_s: float, speed: float = 1.0) -> list[Match]:
    """Tracks ranked by their best offset's votes, best first; only those that clear the thresholds."""
    if h.goff.size == 0:
        return []
    u, c, smooth = _vote(h.goff)
    cand = np.flatnonzero(smooth >= 2)  # single votes are chance; the rest are few, so tracks are cheap
    if cand.size == 0:
        return []
    trk, off = _tracks(lib, u[cand], h.n_frames // 2)
    order = np.lexsort((-smooth[cand], trk))
    first = order[np.concatenate([[True], trk[order][1:] != trk[order][:-1]])]  # best offset per track
    first = first[np.argsort(-smooth[cand][first], kind="stable")][: cfg.top + 1]
    scores = smooth[cand][first]
    out = []
    for rank, j in enumerate(first[: cfg.top]):
        runner = scores[1] if rank == 0 and scores.size > 1 else (scores[0] if rank > 0 else 0)
        conf = float(confidence(scores[rank], runner, h.n_hashes))
        if scores[rank] < cfg.min_score or conf < cfg.min_confidence:
            continue
        i = cand[j]
        nb = [(d, c[k]) for d, k in ((-1, i - 1), (0, i), (1, i + 1)) if 0 <= k < u.size and u[k] == u[i] + d]
        centre = off[j] + sum(d * n for d, n in nb) / max(sum(n for _, n in nb), 1)
        t = int(trk[j])
        out.append(Match(track=lib.tracks[t].name, offset_s=float(centre * hop_s), score=int(scores[rank]),
                         confidence=conf, track_index=t, speed=speed))
    return out


def identify_audio(
    lib: Library, x: np.ndarray, cfg: IdentifyConfig = IdentifyConfig()
) -> tuple[list[Match], list[Hits]]:
    """Matches for analysis-rate audio *x* (float or int16; a memmap is fine), trying each speed."""
    qcfg = query_config(lib.cfg, cfg)
    found: dict[int, Match] = {}
    all_hits = []
    hop = lib.cfg.hop
    n_shifts = max(cfg.shifts, 1)
    for speed in cfg.speeds:
        y = x if speed == 1.0 else _resample(x, speed)
        for k in range(n_shifts):
            skip = k * hop // n_shifts
            hh = hits(lib, fingerprint_blocks(y[skip:], qcfg), cfg)
            if k == 0:
                all_hits.append(hh)
            for m in best_matches(lib, hh, cfg, hop_s=lib.cfg.hop_s, speed=speed):
                m = replace(m, offset_s=m.offset_s - skip / lib.cfg.rate_hz)
                if m.track_index not in found or m.score > found[m.track_index].score:
                    found[m.track_index] = m
    ranked = sorted(found.values(), key=lambda m: (-m.score, m.track_index))
    return ranked[: cfg.top], all_hits


def _resample(x: np.ndarray, speed: float) -> np.ndarray:
    """Undo playback at *speed*: stretch the audio by that factor (frequencies and times back in place)."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    fr = Fraction(speed).limit_denominator(200)
    y = np.asarray(x, np.float32)
    if np.issubdtype(np.asarray(x[:0]).dtype, np.integer):
        y = y / 32768.0
    return resample_poly(y, fr.numerator, fr.denominator).astype(np.float32)


def setlist(lib: Library, h: Hits, cfg: IdentifyConfig, *, hop_s: float) -> list[Segment]:
    """Every track heard in a long recording, with start and end in the recording, from one query's hits."""
    if h.goff.size == 0:
        return []
    win = max(1, int(round(cfg.window_s / hop_s)))
    w = h.t_q.astype(np.int64) // win
    key = (w << 41) + (h.goff + (1 << 40))  # |global offset| < 2^33: library frames ± query frames
    u, c, smooth = _vote(key)
    uw, ug = u >> 41, (u & ((1 << 41) - 1)) - (1 << 40)
    strong = np.flatnonzero(smooth >= cfg.min_score)
    order = strong[np.lexsort((-smooth[strong], uw[strong]))]
    best = order[np.concatenate([[True], uw[order][1:] != uw[order][:-1]])] if order.size else order
    segs: list[list[int]] = []  # [global offset, first window, last window, score]
    for i in best:
        wi, g = int(uw[i]), int(ug[i])
        last = segs[-1] if segs else None
        if last and abs(last[0] - g) <= 2 and wi - last[2] <= 2:
            last[2], last[3] = wi, last[3] + int(smooth[i])
        else:
            segs.append([g, wi, wi, int(smooth[i])])
    out = []
    for g, w0, w1, score in segs:
        on = (np.abs(h.goff - g) <= 1) & (w >= w0) & (w <= w1)
        # the last anchors' partners lie up to zone_dt later: the song went on about half a zone longer
        start, end = int(h.t_q[on].min()), int(h.t_q[on].max()) + 1 + lib.cfg.zone_dt // 2
        if (end - start) * hop_s < cfg.min_segment_s and w1 == w0:
            continue
        trk, off = _tracks(lib, np.array([g]), (start + end) // 2)
        out.append(Segment(track=lib.tracks[int(trk[0])].name, start_s=start * hop_s, end_s=end * hop_s,
                           offset_s=(int(off[0]) + start) * hop_s, score=score,
                           confidence=float(confidence(score, 0, int(on.sum())))))
    return out
