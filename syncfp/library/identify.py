"""query `Hashes` + `Library` → best tracks with offset, score and confidence; long recordings → setlist.

Every query hash is looked up once; each hit (query frame t_q, global frame g) votes for (track, offset =
g - base - t_q). Votes are counted per (track, offset) with one frame of slack either side; a track's score
is its best offset's count. The setlist of a long recording reuses the same hits, counted per window of the
recording, so nothing is decoded twice. Speed-changed audio is found by fingerprinting a few resampled
copies of the query (`IdentifyConfig.speeds`, and `fallback_speeds` when those find nothing); each copy is
one more lookup.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace

import numpy as np

from ..config import SPEED_SEARCH, FingerprintConfig, IdentifyConfig  # noqa: F401 (SPEED_SEARCH: re-exported)
from ..engine.fingerprint import as_float, fingerprint, fingerprint_blocks, signal_peaks
from ..engine.hashtable import range_positions
from ..types import Hashes
from . import levelcheck, peakcheck
from .store import Library


@dataclass(frozen=True)
class Match:
    """A library track heard in the query: the query's first sample is at ``offset_s`` in the track."""

    track: str
    offset_s: float
    score: int
    confidence: float
    track_index: int
    speed: float = 1.0
    path: str = ""  # the indexed file (display names may collide: two files with the same tags)
    id: str = ""  # the indexed file's sha256: stable across renames, moves and re-indexing
    also_at: tuple[float, ...] = ()  # other offsets in the track heard almost as well (`repeat_share`): the
    # passage repeats there (a chorus, a loop) and the clip alone cannot tell which it is
    peaks: int = 0  # query peaks found on the track's stored peaks at this offset when the match was named by
    # the peak check (`peakcheck`) or by peaks and level together (`level` set too); 0: rated by its hash votes alone
    level: float = 0.0  # the query's level at the track's stored peaks, z over chance, when the match was named
    # by the level check (`levelcheck`) or by peaks and level together (`peaks` set too); 0: not named by it


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
    path: str = ""  # as in `Match`
    id: str = ""


@dataclass(frozen=True)
class Hits:
    """Every vote of one query: hash at query frame ``t_q`` found at library global frame ``t_q + goff``."""

    t_q: np.ndarray  # int32, query frame of the hash
    goff: np.ndarray  # int32 (int64 in libraries over 2^31 frames), global frame of the query's first
    # frame if this hit is right
    n_hashes: int
    n_frames: int  # query length in frames


def query_config(lib_cfg: FingerprintConfig, cfg: IdentifyConfig) -> FingerprintConfig:
    """Fingerprint parameters for queries: the library's, with a wider fan-out (a superset of its pairs);
    with a noise floor, one more unit of level weight (the level over the floor counts too)."""
    extra = 1.0 if cfg.noise_floor_pct is not None else 0.0
    return replace(lib_cfg, fan_out=max(lib_cfg.fan_out, cfg.query_fan_out),
                   peaks_per_s=lib_cfg.peaks_per_s * max(cfg.query_density, 1.0),
                   level_weight=lib_cfg.level_weight + extra)


def bucket_cap(n_postings: int, n_keys: int, cfg: IdentifyConfig) -> float:
    """Largest bucket a query hash may hit (bigger ones are skipped); a sharded library passes its totals."""
    return max(cfg.max_bucket_factor * n_postings / max(n_keys, 1), 32)


def hits(lib: Library, hashes: Hashes, cfg: IdentifyConfig) -> Hits:
    """Look every query hash up and turn postings into votes (no per-hit track lookup: see `_tracks`)."""
    if not isinstance(lib, Library):  # a sharded library (`shards.ShardSet`): its shards' hits, merged there
        return lib.hits(hashes, cfg)
    start, stop = lib.ranges(hashes.hash)
    ok = (stop - start) <= bucket_cap(lib.n_postings, int(lib.keys.shape[0]), cfg)
    n, pos = range_positions(start[ok], stop[ok])
    t_q = np.repeat(np.asarray(hashes.frame, np.int32)[ok], n)
    vals = np.asarray(lib.postings[pos])
    if lib.next_base < (1 << 31) - (1 << 24):  # global frames fit int32 (~19,000 audio-hours): half the bytes
        goff = vals.view(np.int32) - t_q
    else:
        goff = vals.astype(np.int64) - t_q
    return Hits(t_q=t_q, goff=goff, n_hashes=len(hashes), n_frames=hashes.n_frames)


def _tracks(lib: Library, goff: np.ndarray, mid: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """(track, offset in the track) of global offsets, judged at query frame *mid*: a query that starts
    before its track (negative offset) still has its middle inside it."""
    track = lib.track_of(goff + mid)
    return track, goff - lib.bases()[track]


def _runs(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of sorted *s* and how often each occurs."""
    if s.size == 0:
        return s.astype(np.int64), np.zeros(0, np.int64)
    first = np.concatenate([[0], np.flatnonzero(s[1:] != s[:-1]) + 1])
    return s[first].astype(np.int64), np.diff(np.append(first, s.size)).astype(np.int64)


def _count(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys and their counts (a sort and run lengths: np.unique costs ~4× more here)."""
    return _runs(np.sort(key))


def _count_paired(key: np.ndarray, bits: int = 0, least: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """`_count` of the keys whose ±1-smoothed count can reach *least* (2: repeated or with a neighbour; 3:
    three votes within three frames): the rest, ~98 % of a big library's hits and never a candidate, are
    dropped before counting. Smoothed counts of *least* or more are exact. With *bits*, a key's low bits
    tag its pass (`SHIFT_BITS`) and neighbours are judged on ``key >> bits`` (its frame)."""
    if key.dtype != np.int32 and key.size and -(1 << 31) < key.min() and key.max() < (1 << 31):
        key = key.astype(np.int32)  # sorts twice as fast
    s = np.sort(key)
    fr = s >> bits if bits else s
    span = least - 1
    close = (fr[span:] - fr[:-span]) <= span  # `least` votes within `least` consecutive frames
    keep = np.zeros(s.size, bool)
    for j in range(least):
        keep[j : j + close.size] |= close
    return _runs(s[keep])


# A clip's shifted fingerprints vote together: each vote carries its pass's shift number k in its low bits,
# so the counts are per frame (all passes summed) while the offset's centre stays exact (k/n of a frame).
SHIFT_BITS = 2  # up to 4 shifts


def _tag(goff: np.ndarray, k: int, n: int, wide: bool) -> np.ndarray:
    """Votes of shift *k* of *n*: the offset in frames, rounded to the unshifted grid, tagged with *k*.
    *wide*: offsets may reach 2^28 frames (int64 then). Reuses *goff*'s memory when it can."""
    g = goff.astype(np.int64 if wide else np.int32, copy=False)
    g -= round(k / n)
    g <<= SHIFT_BITS
    g |= k
    return g


def _frames(votes: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tagged tallies → (frame offsets, summed counts, index of each frame's first tagged entry)."""
    u, c = votes
    fr = u >> SHIFT_BITS
    first = np.flatnonzero(np.concatenate([[True], fr[1:] != fr[:-1]])) if u.size else np.zeros(0, np.int64)
    return fr[first], np.add.reduceat(c, first) if u.size else c, first


def _merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sum the counts of several (keys, counts) tallies."""
    if len(parts) == 1:
        return parts[0]
    keys = np.concatenate([u for u, _ in parts])
    u, inv = np.unique(keys, return_inverse=True)
    return u, np.bincount(inv, weights=np.concatenate([c for _, c in parts]), minlength=u.size).astype(np.int64)


def _smooth(u: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Counts with ±1 slack (a peak on a frame edge lands on either side)."""
    smooth = c.copy()
    if u.size > 1:
        nxt = u[1:] == u[:-1] + 1
        smooth[:-1] += np.where(nxt, c[1:], 0)
        smooth[1:] += np.where(nxt, c[:-1], 0)
    return smooth


def _logistic(z):
    """1 / (1 + e^-z), clipped so that no z overflows."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


def confidence(score: np.ndarray | int, others: np.ndarray | list[int] | tuple[int, ...], n_hashes: int,
               cfg: IdentifyConfig = IdentifyConfig()) -> np.ndarray:
    """Probability that a match is right, from its score, the scores of the other leading tracks of the
    same look and the look's number of hashes.

    The look's chance level is the mean of its next `noise_tracks` tracks' scores (missing ones count 0),
    at least `noise_floor` + `noise_per_hash` × hashes (a library of a few tracks has no others); z is the
    score's distance above it in Poisson standard deviations, and the confidence a logistic of z around
    `confidence_mid`, fitted on unknown songs (docs/library.md). One
    runner-up alone was a noisy estimate of that level (one lucky wrong track set it), and a floor that grew
    as fast as the old one (0.002 a hash, all looks') sank the denser second look's answers under speech.
    """
    s = np.asarray(score, np.float64)
    o = np.zeros(cfg.noise_tracks)
    k = min(len(others), cfg.noise_tracks)
    o[:k] = np.asarray(others, np.float64)[:k]
    noise = max(float(o.mean()) if o.size else 0.0, cfg.noise_floor + cfg.noise_per_hash * n_hashes)
    z = (s - noise) / np.sqrt(noise + 1.0)
    return _logistic(z - cfg.confidence_mid)


def _segment_confidence(score: int, n_hits: int, cfg: IdentifyConfig) -> float:
    """A setlist segment's confidence: its score over a floor that grows with the hits it was chosen from
    (a segment has no competing tracks to set a chance level)."""
    noise = cfg.segment_floor + cfg.segment_per_hit * n_hits
    z = (score - noise) / np.sqrt(noise + 1.0) - cfg.segment_mid
    return float(_logistic(z))


def _n_distinct(x: np.ndarray) -> int:
    """``np.unique(x).size``, without the ~10 ms import of numpy.ma that np.unique makes on first use."""
    s = np.sort(x)
    return int(s.size and 1 + np.count_nonzero(s[1:] != s[:-1]))


def _candidates(
    lib: Library, votes: tuple[np.ndarray, np.ndarray], *, n_shifts: int, n_frames: int, hop_s: float,
    speed: float, n: int, share: float = 1.0
) -> list[Match]:
    """The *n* tracks with the most votes at one offset, best first, unrated (confidence 0). *votes* are
    tagged tallies (`_tag`) of *n_shifts* passes."""
    u, c, first = _frames(votes)
    smooth = _smooth(u, c)
    cand = np.flatnonzero(smooth >= 3)  # fewer is chance (and `_count_paired` keeps those counts exact)
    if cand.size > 64 * n:  # the best offsets are enough if they hold n tracks: the rest cannot be a best
        floor = np.partition(smooth[cand], cand.size - 64 * n)[cand.size - 64 * n]
        top = cand[smooth[cand] >= floor]
        if _n_distinct(lib.track_of(u[top] + n_frames // 2)) >= n:
            cand = top
    if cand.size == 0:
        return []
    trk, off = _tracks(lib, u[cand], n_frames // 2)
    order = np.lexsort((-smooth[cand], trk))
    best = order[np.concatenate([[True], trk[order][1:] != trk[order][:-1]])]  # best offset per track
    best = best[np.argsort(-smooth[cand][best], kind="stable")][:n]
    tu, tc = votes
    ends = np.append(first, tu.size)
    out = []
    for j in best:
        i = cand[j]
        lo, hi = max(i - 1, 0), min(i + 1, u.size - 1)
        lo, hi = (lo if u[i] - u[lo] <= 1 else i), (hi if u[hi] - u[i] <= 1 else i)
        sl = slice(first[lo], ends[hi + 1])  # tagged entries of frames i-1..i+1: each pass's exact position
        k = tu[sl] & ((1 << SHIFT_BITS) - 1)
        pos = (tu[sl] >> SHIFT_BITS) + np.round(k / n_shifts) - k / n_shifts
        centre = off[j] - u[i] + float(np.dot(pos, tc[sl]) / max(tc[sl].sum(), 1))
        t = int(trk[j])
        tr = lib.tracks[t]
        score = smooth[cand]
        out.append(Match(track=tr.name, offset_s=float(centre * hop_s), score=int(smooth[i]), confidence=0.0,
                         track_index=t, speed=speed, path=tr.path, id=tr.sha256,
                         also_at=_repeat_offsets(off, score, (trk == t) & (score >= share * score[j]), j, hop_s)))
    return out


def _repeat_offsets(off: np.ndarray, score: np.ndarray, close: np.ndarray, j: int, hop_s: float,
                    most: int = 3) -> tuple[float, ...]:
    """Offsets (s) of the entries *close* to the best (*j*: the same track, scoring nearly as well), 4+ frames
    from it and from each other: where the same passage is heard again. Best *score* first, at most *most*."""
    near = np.flatnonzero(close & (np.abs(off - off[j]) > 3))
    kept: list[int] = []
    for i in near[np.argsort(-score[near], kind="stable")]:
        if all(abs(int(off[i]) - int(off[q])) > 3 for q in kept) and len(kept) < most:
            kept.append(int(i))
    return tuple(float(off[i] * hop_s) for i in kept)


class _Found:
    """What the looks of one query found: per track, its most confident match (rated within its look) and
    its best score in any look."""

    def __init__(self, cfg: IdentifyConfig) -> None:
        self.cfg = cfg
        self.best: dict[int, Match] = {}
        self.score: dict[int, int] = {}

    def rate_look(self, cands: list[Match], n_hashes: int) -> None:
        """Rate one look's leading tracks (best first) against each other: a look's chance level is its
        own (`confidence`). Per track, the most confident match of any look is kept."""
        cfg = self.cfg
        scores = [m.score for m in cands]
        for m in cands:
            self.score[m.track_index] = max(self.score.get(m.track_index, 0), m.score)
        for rank, m in enumerate(cands[: max(cfg.top, 1)]):
            others = scores[:rank] + scores[rank + 1 :]
            m = replace(m, confidence=float(confidence(m.score, others, n_hashes, cfg)))
            old = self.best.get(m.track_index)
            if old is None or (m.confidence, m.score) > (old.confidence, old.score):
                self.best[m.track_index] = m

    def _final(self, m: Match) -> float:
        """*m*'s confidence, no higher than its lead over the best score any other track reached in any
        look allows: a look rated alone cannot see that another look heard a wrong track better."""
        if m.peaks or m.level:  # rated against every other track's peaks already (`_peak_check`, `_level_check`)
            return m.confidence
        rival = max((v for t, v in self.score.items() if t != m.track_index), default=0)
        lead = (m.score - rival) / np.sqrt(rival + 1.0) - self.cfg.rival_margin
        return min(m.confidence, float(_logistic(lead)))

    def offer(self, m: Match) -> None:
        """Keep *m* (rated already, as the peak check's are) for its track unless the track has a match at
        least as confident."""
        old = self.best.get(m.track_index)
        if old is None or self._final(old) < self._final(m):
            self.best[m.track_index] = m

    def reaches(self, level: float) -> bool:
        """Does a match reach confidence *level*?"""
        return any(self._final(m) >= level for m in self.best.values())

    def rated(self) -> list[Match]:
        """The `top` most confident matches, those under the thresholds dropped."""
        cfg = self.cfg
        best = sorted((replace(m, confidence=self._final(m)) for m in self.best.values()),
                      key=lambda m: (-m.confidence, -m.score, m.track_index))
        return [m for m in best[: cfg.top]
                if (m.score >= cfg.min_score or m.peaks or m.level) and m.confidence >= cfg.min_confidence]


def block_hits(lib: Library, y: np.ndarray, cfg: IdentifyConfig, *, block_s: float = 64.0) -> Iterator[Hits]:
    """`Hits` of *y* one block at a time (a 2-hour recording never holds all its hits at once).

    Each block is fingerprinted with 2 s of audio either side, whole rank windows, so its hashes are
    those of the whole recording; only anchors inside the block are kept. Query frames are global.
    """
    qcfg = query_config(lib.cfg, cfg)
    hop, unit = qcfg.hop, qcfg.hop * qcfg.rank_frames
    block = max(1, int(block_s * qcfg.rate_hz) // unit) * unit
    pad = -(-(qcfg.zone_dt + qcfg.whiten_frames) * hop // unit) * unit
    n = y.shape[0]
    for b0 in range(0, max(n, 1), block):
        a = max(0, b0 - pad)
        seg = y[a : min(n, b0 + block + pad)]
        if cfg.noise_floor_pct is None:
            hh = fingerprint_blocks(seg, qcfg)
        else:  # peaks over the block's noise floor (≤ ~70 s held at once)
            hh = fingerprint(seg, qcfg, floor_pct=cfg.noise_floor_pct)
        frame = hh.frame + (a // hop)
        keep = (frame >= b0 // hop) & (frame < (b0 + block) // hop)
        yield hits(lib, Hashes(hh.hash[keep], frame[keep].astype(np.int32), hh.n_frames), cfg)


def _one_pass(
    lib: Library, y: np.ndarray, cfg: IdentifyConfig, *, shift: tuple[int, int],
    rows: list[WindowBests] | None, win: int
) -> tuple[np.ndarray | tuple[np.ndarray, np.ndarray], int]:
    """Fingerprint and look up *y* once, as shift ``k`` of ``n``: its tagged votes (`_tag`; a clip's raw
    votes, a long recording's tallies summed over its blocks) and number of hashes (setlist rows
    appended to *rows* when given)."""
    k, n = shift
    tallies, n_hashes, last = [], 0, None
    for h in block_hits(lib, y, cfg):
        if last is not None:
            tallies.append(_count(last))
        if rows is not None:
            rows.append(_window_bests(h, cfg, win))
        last = _tag(h.goff, k, n, wide=lib.next_base + h.n_frames >= (1 << 28))
        n_hashes += h.n_hashes
    if last is None:
        return np.zeros(0, np.int32), n_hashes
    if tallies:  # several blocks: exact tallies, summed
        return _merge_counts([*tallies, _count(last)]), n_hashes
    return last, n_hashes


def _combine(parts: list) -> tuple[np.ndarray, np.ndarray]:
    """Tallies of several passes' votes (raw arrays are counted together, the votes that cannot make a
    candidate dropped first)."""
    raw = [p for p in parts if isinstance(p, np.ndarray)]
    tallies = [p for p in parts if not isinstance(p, np.ndarray)]
    if raw and not tallies:
        return _count_paired(np.concatenate(raw), SHIFT_BITS, least=3)
    return _merge_counts([*tallies, *([_count(np.concatenate(raw))] if raw else [])])


def identify_audio(
    lib: Library, x: np.ndarray, cfg: IdentifyConfig = IdentifyConfig(), *, segments: bool = False
) -> tuple[list[Match], list[Segment] | None]:
    """Matches for analysis-rate audio *x* (float or int16; a memmap is fine), trying each speed and
    shift; with *segments*, also the setlist (from the unshifted, unchanged-speed pass).

    The shifts of one speed vote together: a landmark that noise moved across a frame edge in one
    fingerprint is found in another, and their votes add up at the true offset, where chance votes do not.
    """
    rows: list[WindowBests] = []
    rate = lib.cfg.rate_hz
    if x.shape[0] <= cfg.short_s * rate:
        cfg = replace(cfg, query_density=max(cfg.query_density, cfg.short_density),
                      query_fan_out=max(cfg.query_fan_out, cfg.short_fan_out))
    found = _Found(cfg)
    win = max(1, int(round(cfg.window_s / lib.cfg.hop_s)))
    for speed, y, n_shifts in _speeds(x, cfg, rate):
        if _at_speed(lib, y, cfg, speed, n_shifts, found, rows=rows if segments and speed == 1.0 else None, win=win):
            break  # sure at the unchanged speed: more shifts or speeds would not change the answer
    else:
        votes = _dense(lib, x, cfg, found, win=win)
        if votes is not None:
            _stored_peak_checks(lib, x, cfg, found, votes)
        _fallback(lib, x, cfg, found, win=win)
    memo: dict = {}  # the query's peaks, for the checks after the search (`_query_peaks`)
    matches = _repeat_pick(lib, x, cfg, _corroborate(lib, x, cfg, found.rated(), memo), memo)
    matches = _named_repeats(lib, x, cfg, matches, memo)
    segs = _segments(lib, WindowBests.concat(rows), cfg) if segments else None
    return matches, segs


def _at_speed(
    lib: Library, y: np.ndarray, cfg: IdentifyConfig, speed: float, n_shifts: int, found: _Found,
    *, rows: list[WindowBests] | None, win: int, tallies: list | None = None
) -> bool:
    """Look *y* up shift by shift, the shifts' votes counted together, and rate the look (`_Found.rate_look`).
    Returns whether a match is sure (unchanged speed, after `sure_after` shifts or the last; setlist rows
    come from the first shift). The last tallies counted are appended to *tallies* when given."""
    parts: list = []
    n_hashes = 0
    hop = lib.cfg.hop
    for k in range(n_shifts):
        votes, nh = _one_pass(lib, y[k * hop // n_shifts:], cfg, shift=(k, n_shifts),
                              rows=rows if k == 0 else None, win=win)
        parts.append(votes)
        n_hashes += nh
        last = k == n_shifts - 1
        if not last and not (speed == 1.0 and k + 1 == cfg.sure_after):
            continue  # counting costs a sort of every vote so far: only where the answer is read
        votes = _combine(parts)
        if tallies is not None:
            tallies[:] = [votes]
        found.rate_look(_candidates(lib, votes, n_shifts=n_shifts, n_frames=y.shape[0] // hop,
                                    hop_s=lib.cfg.hop_s, speed=speed, n=_leaders(cfg), share=cfg.repeat_share),
                        n_hashes)
        if speed == 1.0 and (k + 1 >= cfg.sure_after or last) and found.reaches(cfg.sure_confidence):
            return True
    return False


def _dense(lib: Library, x: np.ndarray, cfg: IdentifyConfig, found: _Found, *, win: int
           ) -> tuple[np.ndarray, np.ndarray] | None:
    """Look *x* up once more with `cfg.dense_density`× the query peaks when nothing in *found* reaches
    `cfg.fallback_below`. Speech over the music puts sharp harmonics in the music's own band, which win
    the fixed peak budget; more query peaks keep the music's peaks in. Clean queries never pay for it.
    Returns that look's tagged tallies (None when it was not needed)."""
    if cfg.dense_density <= cfg.query_density or found.reaches(cfg.fallback_below):
        return None
    dense = replace(cfg, query_density=cfg.dense_density)
    n = min(max(cfg.dense_shifts, 1), 1 << SHIFT_BITS)  # each shift is a whole lookup (1 measured, not kept)
    tallies: list = []
    _at_speed(lib, as_float(x), dense, 1.0, n, found, rows=None, win=win, tallies=tallies)
    return tallies[0] if tallies else None


def _capped(slope: float, *rules: tuple[float, float]) -> float:
    """A check's confidence: each (value, mark) rule caps it at logistic(slope × (value − mark)), 0.5 at the mark."""
    return float(min(_logistic(slope * (value - mark)) for value, mark in rules))


def _leading(lib: Library, x: np.ndarray, cfg: IdentifyConfig, votes: tuple[np.ndarray, np.ndarray]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(offsets, smoothed votes, indices most voted first) of the dense look, which the checks by the
    library's stored peaks read (each its first `*_candidates`: one order, so a shorter list is a prefix of a
    longer one); None when no check can run: the library stores no peaks, the query is a long recording
    (over `peak_max_s`) or nothing was voted."""
    if not lib.has_peaks or x.shape[0] > cfg.peak_max_s * lib.cfg.rate_hz:
        return None
    u, c, _ = _frames(votes)
    if u.size == 0:
        return None
    smooth = _smooth(u, c)
    return u, smooth, np.argsort(-smooth, kind="stable")


def _stored_peak_checks(lib: Library, x: np.ndarray, cfg: IdentifyConfig, found: _Found,
                        votes: tuple[np.ndarray, np.ndarray]) -> None:
    """The checks of the dense look's leading offsets by the library's stored peaks, each only while nothing
    reaches `fallback_below`: peak by peak, then by level, then both together (which reuses the first two's
    scores)."""
    if found.reaches(cfg.fallback_below) or (lead := _leading(lib, x, cfg, votes)) is None:
        return
    peaks = _peak_check(lib, x, cfg, found, lead)
    level = _level_check(lib, x, cfg, found, lead)
    _joint_check(lib, x, cfg, found, lead, peaks, level)


def _peak_scores(lib: Library, x: np.ndarray, cfg: IdentifyConfig, goff: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(peaks found, their z over chance, query peak frames, bins) at global offsets *goff* (`peakcheck`)."""
    qt, qf = _check_peaks(lib, x, cfg)
    hit, chance = peakcheck.check(lib, qt, qf, goff, region=cfg.peak_region)
    return hit, peakcheck.zscore(hit, chance), qt, qf


def _level_scores(lib: Library, x: np.ndarray, cfg: IdentifyConfig, goff: np.ndarray
                  ) -> tuple[np.ndarray, levelcheck.LevelMaps, tuple] | None:
    """(level z, the query's maps, its chance level) at global offsets *goff* (`levelcheck`); None when the
    query is too short to read or the library has too few stored peaks to give a chance level."""
    maps = levelcheck.LevelMaps(x, query_config(lib.cfg, cfg))
    if maps.n_frames < 8:
        return None
    level = levelcheck.chance(lib, maps, levelcheck.null_offsets(lib.next_base, maps.n_frames, cfg.level_null))
    if level is None:
        return None
    return levelcheck.zscores(lib, maps, goff, level), maps, level


def _level_sharpness(lib: Library, maps: levelcheck.LevelMaps, level: tuple, g: int, z: float,
                     cfg: IdentifyConfig) -> float:
    """How far level z *z* at global offset *g* stands over the offsets 4-`peak_reach` frames either side, in
    sd of those: a song of the same key and beat is loud along a comb of offsets."""
    lags = np.arange(-cfg.peak_reach, cfg.peak_reach + 1)
    near = levelcheck.zscores(lib, maps, g + lags[np.abs(lags) >= 4], level)
    return (z - float(near.mean())) / max(float(near.std()), 0.5)


def _best(z: np.ndarray, trk: np.ndarray) -> tuple[int, np.ndarray, float]:
    """(index of the best offset by *z*, the z of other tracks' offsets, the best of those; 0 when none)."""
    j = int(np.argmax(z))
    others = z[trk != trk[j]]
    return j, others, float(others.max()) if others.size else 0.0


def _offer_best(lib: Library, found: _Found, smooth: np.ndarray, top: np.ndarray, trk: np.ndarray, off: np.ndarray,
                z: np.ndarray, j: int, conf: float, margin: float, **named) -> None:
    """Offer offset *j* of a check (*named*: what named it, `peaks` and/or `level`) as its track's match, the
    same track's other offsets within *margin* of its *z* as where the passage repeats (`also_at`)."""
    t = int(trk[j])
    tr = lib.tracks[t]
    also = _repeat_offsets(off, z, (trk == t) & (z >= z[j] - margin), j, lib.cfg.hop_s)
    found.offer(Match(track=tr.name, offset_s=float(off[j] * lib.cfg.hop_s), score=int(smooth[top[j]]),
                      confidence=conf, track_index=t, path=tr.path, id=tr.sha256, also_at=also, **named))


def _peak_check(lib: Library, x: np.ndarray, cfg: IdentifyConfig, found: _Found,
                lead: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple | None:
    """When even the dense look rated nothing up to `cfg.fallback_below`, check its `peak_candidates` most
    voted offsets peak by peak (`peakcheck`) and name the best one's track when it stands `peak_z` Poisson sd
    over its chance and `peak_margin` over every other track's best, holds `peak_min_hits` peaks at least,
    and is a sharp peak among its neighbouring offsets (`peak_sharp`: another song in the same key and beat
    matches along a comb of offsets). A short query (≤ `short_s`) must also stand `peak_spread_short` sd
    over the spread of the other tracks' offsets. Its other offsets within the margin are where the
    passage repeats (`also_at`). Returns the scores (`_peak_scores`) for `_joint_check` (None: not run)."""
    if not cfg.peak_check or found.reaches(cfg.fallback_below):
        return None
    u, smooth, order = lead
    top = order[: cfg.peak_candidates]
    scores = _peak_scores(lib, x, cfg, u[top])
    hit, z, qt, qf = scores
    n_frames = x.shape[0] // lib.cfg.hop
    trk, off = _tracks(lib, u[top], n_frames // 2)
    j, others, rival = _best(z, trk)
    if hit[j] < cfg.peak_min_hits:
        return scores
    sharp = peakcheck.sharpness(peakcheck.lag_profile(lib, qt, qf, int(u[top[j]]), reach=cfg.peak_reach))
    conf = _capped(cfg.peak_slope, (z[j], cfg.peak_z), (z[j] - rival, cfg.peak_margin), (sharp, cfg.peak_sharp))
    if x.shape[0] <= cfg.short_s * lib.cfg.rate_hz and others.size >= 8:  # a short clip: also above its own spread
        spread = (z[j] - others.mean()) / max(float(others.std()), 0.5)
        conf = min(conf, _capped(cfg.peak_slope, (spread, cfg.peak_spread_short)))
    _offer_best(lib, found, smooth, top, trk, off, z, j, conf, cfg.peak_margin, peaks=int(hit[j]))
    return scores


def _level_check(lib: Library, x: np.ndarray, cfg: IdentifyConfig, found: _Found,
                 lead: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple | None:
    """When the peak check named nothing up to `cfg.fallback_below` either, read the query's level at the
    stored peaks of the same leading offsets (`levelcheck`): name the best one's track when its z over the
    query's own chance level reaches `level_z`, `level_margin` more than every other track's best, and it
    stands `level_sharp` sd over the neighbouring offsets (a song of the same key and beat is loud along a
    comb of offsets). Returns the scores (`_level_scores`) for `_joint_check` (None: not run)."""
    if not cfg.level_check or found.reaches(cfg.fallback_below):
        return None
    u, smooth, order = lead
    top = order[: cfg.level_candidates]
    if (scores := _level_scores(lib, x, cfg, u[top])) is None:
        return None
    z, maps, level = scores
    trk, off = _tracks(lib, u[top], maps.n_frames // 2)
    j, _, rival = _best(z, trk)
    sharp = _level_sharpness(lib, maps, level, int(u[top[j]]), float(z[j]), cfg)
    conf = _capped(cfg.peak_slope, (z[j], cfg.level_z), (z[j] - rival, cfg.level_margin), (sharp, cfg.level_sharp))
    _offer_best(lib, found, smooth, top, trk, off, z, j, conf, cfg.level_margin, level=round(float(z[j]), 2))
    return scores


def _joint_check(lib: Library, x: np.ndarray, cfg: IdentifyConfig, found: _Found,
                 lead: tuple[np.ndarray, np.ndarray, np.ndarray], peaks: tuple | None, level: tuple | None) -> None:
    """When neither check alone named anything up to `cfg.fallback_below`, judge the same leading offsets by
    both together: (peak z + level z) / √2 must reach `joint_z`, stand `joint_margin` over every other
    track's best offset, and its two sharpnesses summed likewise `joint_sharp` over the neighbouring offsets.
    A 1-3-s clip holds too few peaks for either check's mark (z 5.5-6 over 64 candidates), but where the
    peaks fall and how loud the clip is there are partly separate evidence (docs/library.md, "Peaks and
    level together"). *peaks* and *level* are the two checks' scores when they ran (computed here if not),
    over the first `peak_candidates` and `level_candidates` of the same order: the shorter list is read."""
    if not cfg.joint_check or found.reaches(cfg.fallback_below):
        return
    u, smooth, order = lead
    top = order[: cfg.peak_candidates]
    if peaks is None:  # the peak check is off
        peaks = _peak_scores(lib, x, cfg, u[top])
    if level is None:  # the level check is off, or could not read this query (too short, no chance level)
        if cfg.level_check or (level := _level_scores(lib, x, cfg, u[order[: cfg.level_candidates]])) is None:
            return
    hit, pz, qt, qf = peaks
    lz, maps, chance = level
    k = min(hit.shape[0], lz.shape[0])
    top, hit, pz, lz = top[:k], hit[:k], pz[:k], lz[:k]
    z = (pz + lz) / np.sqrt(2.0)
    trk, off = _tracks(lib, u[top], maps.n_frames // 2)
    j, _, rival = _best(z, trk)
    g = int(u[top[j]])
    sharp = (peakcheck.sharpness(peakcheck.lag_profile(lib, qt, qf, g, reach=cfg.peak_reach))
             + _level_sharpness(lib, maps, chance, g, float(lz[j]), cfg)) / np.sqrt(2.0)
    conf = _capped(cfg.peak_slope, (z[j], cfg.joint_z), (z[j] - rival, cfg.joint_margin), (sharp, cfg.joint_sharp))
    _offer_best(lib, found, smooth, top, trk, off, z, j, conf, cfg.joint_margin, peaks=int(hit[j]),
                level=round(float(lz[j]), 2))


def _check_peaks(lib: Library, x: np.ndarray, cfg: IdentifyConfig) -> tuple[np.ndarray, np.ndarray]:
    """The query's peaks (frames, bins; int64) a peak-by-peak check counts: the dense look's
    (`dense_density`× as many, ranked over their noise floor), where speech leaves the music some."""
    qcfg = query_config(lib.cfg, replace(cfg, query_density=cfg.dense_density))
    qt, qf, _ = signal_peaks(x, qcfg, floor_pct=cfg.noise_floor_pct)
    return qt.astype(np.int64), qf.astype(np.int64)


def _query_peaks(lib: Library, x: np.ndarray, cfg: IdentifyConfig, memo: dict, speed: float = 1.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The query's peaks at *speed* (`_check_peaks`), computed once per query and kept in *memo*."""
    if speed not in memo:
        memo[speed] = _check_peaks(lib, x if speed == 1.0 else _resample(x, speed), cfg)
    return memo[speed]


def _corroborate(lib: Library, x: np.ndarray, cfg: IdentifyConfig, matches: list[Match],
                 memo: dict | None = None) -> list[Match]:
    """*matches* with each one its hash votes alone rated from `fallback_below` (found) to `corroborate_below`
    checked against the library's stored peaks at its offset: its confidence capped by how far the query's
    peaks stand over chance there (`corroborate_z`) and over the neighbouring offsets (`corroborate_sharp`),
    those then under `min_confidence` dropped. A few dozen hashes can line up by chance under noise (unknown
    songs were named at 0.5-0.9); their peaks, ten times as many, then land no better than chance. Skipped
    for long recordings (over `peak_max_s`) and libraries without stored peaks."""
    todo = [i for i, m in enumerate(matches)
            if not (m.peaks or m.level) and cfg.fallback_below <= m.confidence < cfg.corroborate_below]
    if not todo or not lib.has_peaks or x.shape[0] > cfg.peak_max_s * lib.cfg.rate_hz:
        return matches
    out, memo = list(matches), {} if memo is None else memo
    for i in todo:
        m = matches[i]
        qt, qf = _query_peaks(lib, x, cfg, memo, m.speed)
        g = int(lib.tracks[m.track_index].base + round(m.offset_s / lib.cfg.hop_s))
        hit, chance = peakcheck.check(lib, qt, qf, np.array([g], np.int64), region=cfg.peak_region)
        z = float(peakcheck.zscore(hit, chance)[0])
        sharp = peakcheck.sharpness(peakcheck.lag_profile(lib, qt, qf, g, reach=cfg.peak_reach))
        cap = _capped(cfg.peak_slope, (z, cfg.corroborate_z), (sharp, cfg.corroborate_sharp))
        out[i] = replace(m, confidence=min(m.confidence, cap))
    out.sort(key=lambda m: (-m.confidence, -m.score, m.track_index))
    return [m for m in out if m.confidence >= cfg.min_confidence]


def _repeat_pick(lib: Library, x: np.ndarray, cfg: IdentifyConfig, matches: list[Match],
                 memo: dict | None = None) -> list[Match]:
    """*matches* with each one that names repeats of its passage (`also_at`) at the one of those offsets whose
    stored peaks hold the most of the query's peaks (`peakcheck`: within ±1 frame and ±1 bin), when
    it beats the voted offset by `repeat_pick` sd (only matches the engine counts as found, `fallback_below`:
    the chance tracks of a query nothing matches name repeats too). Votes count *pairs* of peaks, a few dozen for a noisy
    clip, and tie between a verse and its repeat with other fills or harmony; single peaks are five to ten
    times as many and tell the two apart (docs/library.md, "Which repeat")."""
    todo = [bool(m.also_at) and m.speed == 1.0 and m.confidence >= cfg.fallback_below for m in matches]
    if (cfg.repeat_pick is None or not any(todo) or not lib.has_peaks
            or x.shape[0] > cfg.peak_max_s * lib.cfg.rate_hz):  # a long recording: one offset says little
        return matches
    qt, qf = _query_peaks(lib, x, cfg, {} if memo is None else memo)
    hop_s, out = lib.cfg.hop_s, []
    for m, do in zip(matches, todo):
        if not do:
            out.append(m)
            continue
        offs = (m.offset_s, *m.also_at)
        frames = np.round(np.asarray(offs) / hop_s).astype(np.int64)
        hit, chance = peakcheck.check(lib, qt, qf, lib.tracks[m.track_index].base + frames, region=cfg.peak_region)
        z = peakcheck.zscore(hit, chance)
        j = int(np.argmax(z))
        if j > 0 and z[j] >= z[0] + cfg.repeat_pick:
            m = replace(m, offset_s=offs[j], also_at=(m.offset_s, *(o for k, o in enumerate(m.also_at) if k != j - 1)))
        out.append(m)
    return out


def _named_repeats(lib: Library, x: np.ndarray, cfg: IdentifyConfig, matches: list[Match],
                   memo: dict | None = None) -> list[Match]:
    """*matches* with the places where their track's own stored peaks repeat the matched passage
    (`peakcheck.self_repeats`, `self_repeat_share`, chosen by `_repeat_offsets` as the votes' places are) and where the query's peaks hold over chance at least
    `self_repeat_hold` of what they hold at its offset added to `also_at`. Hash votes split unevenly between
    the passes of a loop (a handful of pairs decide), so an answer at one pass naming no other read as sure
    of a place it cannot tell; the library knows where its tracks repeat, whatever the query heard. With
    `self_repeat_pick`, the answer moves to such a place whose peaks hold the query's `repeat_pick` sd
    better, as `_repeat_pick` does."""
    share = cfg.self_repeat_share
    if share is None or not lib.has_peaks or x.shape[0] > cfg.peak_max_s * lib.cfg.rate_hz:
        return matches
    todo = [m.speed == 1.0 and m.confidence >= cfg.fallback_below for m in matches]
    if not any(todo):
        return matches
    memo = {} if memo is None else memo
    hop_s, n, out = lib.cfg.hop_s, max(1, x.shape[0] // lib.cfg.hop), []
    for m, do in zip(matches, todo):
        tr = lib.tracks[m.track_index]
        f0 = int(round(m.offset_s / hop_s))
        at = max(f0, 0)
        held = peakcheck.self_repeats(lib, tr, at, n) if do else np.zeros(0)
        # where the track repeats the passage, picked as the votes' places are
        found = _repeat_offsets(np.arange(held.size), held, held >= share, at, hop_s,
                                cfg.self_repeat_candidates) if at < held.size else ()
        reps = [r for r in (int(round(o / hop_s)) for o in found) if all(abs(r * hop_s - a) > 3 * hop_s
                                                                         for a in m.also_at)]
        if reps:  # the query's peaks are read only for a passage its track repeats
            qt, qf = _query_peaks(lib, x, cfg, memo)
            frames = np.asarray([f0, *reps], np.int64)
            hit, chance = peakcheck.check(lib, qt, qf, tr.base + frames, region=cfg.peak_region)
            z, over = peakcheck.zscore(hit, chance), hit - chance
            near = [j for j in range(1, frames.size) if over[0] > 0 and over[j] >= cfg.self_repeat_hold * over[0]]
            if near:
                named = tuple(float(frames[j] * hop_s) for j in near)
                j = max(near, key=lambda j: z[j])
                if cfg.self_repeat_pick and cfg.repeat_pick is not None and z[j] >= z[0] + cfg.repeat_pick:
                    m = replace(m, offset_s=float(frames[j] * hop_s),
                                also_at=(*m.also_at, m.offset_s, *(o for o in named if o != frames[j] * hop_s)))
                else:
                    m = replace(m, also_at=(*m.also_at, *named))
        out.append(m)
    return out


def _fallback(lib: Library, x: np.ndarray, cfg: IdentifyConfig, found: _Found, *, win: int) -> None:
    """Look *x* up at `cfg.fallback_speeds` when nothing in *found* reaches `cfg.fallback_below`, until a
    match is sure; their matches join *found*."""
    rest = tuple(s for s in cfg.fallback_speeds if s not in cfg.speeds)
    if not rest or found.reaches(cfg.fallback_below):
        return
    for speed, y, n_shifts in _speeds(x, replace(cfg, speeds=rest), lib.cfg.rate_hz):
        _at_speed(lib, y, cfg, speed, n_shifts, found, rows=None, win=win)
        if found.reaches(cfg.sure_confidence):
            break  # the rest could only add chance votes


def _leaders(cfg: IdentifyConfig) -> int:
    """How many tracks a look keeps: those reported and those that set its chance level."""
    return max(cfg.top, 1) + cfg.noise_tracks


def _speeds(x: np.ndarray, cfg: IdentifyConfig, rate: int) -> Iterator[tuple[float, np.ndarray, int]]:
    """(speed, audio at that speed, number of shifts) of each speed tried, the unchanged speed first;
    other speeds get one shift each (cost)."""
    for speed in cfg.speeds:
        y = x if speed == 1.0 else _resample(x, speed)
        shifts = cfg.shifts if x.shape[0] <= cfg.long_s * rate else min(cfg.shifts, cfg.shifts_long)
        yield speed, y, min(max(shifts, 1), 1 << SHIFT_BITS) if speed == 1.0 else 1


def _resample(x: np.ndarray, speed: float) -> np.ndarray:
    """Undo playback at *speed*: stretch the audio by that factor (frequencies and times back in place)."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    fr = Fraction(speed).limit_denominator(200)
    return resample_poly(as_float(x), fr.numerator, fr.denominator).astype(np.float32)


@dataclass(frozen=True)
class WindowBests:
    """Setlist evidence of a long recording: per window (of `IdentifyConfig.window_s`) with a strong enough
    offset, its best global offset. Parallel int64 arrays, one entry per window; windows with no offset
    reaching `min_score` have no entry (there is no "unusable" row)."""

    window: np.ndarray  # window number: query frame // frames per window
    offset: np.ndarray  # global library frame of the query's first frame (`Hits.goff`)
    score: np.ndarray  # votes at that offset, with ±1 frame of slack (`_smooth`)
    first_frame: np.ndarray  # query frame of the window's first hit within ±1 frame of the offset
    last_frame: np.ndarray  # … and of its last
    hits: np.ndarray  # hits within ±1 frame of the offset

    def __len__(self) -> int:
        return int(self.window.size)

    @classmethod
    def concat(cls, parts: list[WindowBests]) -> WindowBests:
        """One table of several blocks' (or none: empty)."""
        names = [f.name for f in fields(cls)]
        return cls(**{n: np.concatenate([getattr(p, n) for p in parts]) if parts else np.zeros(0, np.int64)
                      for n in names})

    def by_window(self) -> WindowBests:
        """The same entries in window order (stable: blocks' entries of one window keep their order)."""
        order = np.argsort(self.window, kind="stable")
        return WindowBests(**{f.name: getattr(self, f.name)[order] for f in fields(self)})


def _window_bests(h: Hits, cfg: IdentifyConfig, win: int) -> WindowBests:
    """Per window of the recording (*win* query frames), its best global offset (see `WindowBests`)."""
    if h.goff.size == 0:
        return WindowBests.concat([])
    w = h.t_q.astype(np.int64) // win
    key = (w << 41) + (h.goff.astype(np.int64) + (1 << 40))  # |global offset| < 2^33: library frames ± query frames
    u, c = _count(key)
    smooth = _smooth(u, c)
    uw, ug = u >> 41, (u & ((1 << 41) - 1)) - (1 << 40)
    strong = np.flatnonzero(smooth >= cfg.min_score)
    order = strong[np.lexsort((-smooth[strong], uw[strong]))]
    best = order[np.concatenate([[True], uw[order][1:] != uw[order][:-1]])] if order.size else order
    if best.size == 0:
        return WindowBests.concat([])
    bw, bg = uw[best], ug[best]  # windows ascending, each once
    row = np.minimum(np.searchsorted(bw, w), bw.size - 1)  # each hit's window's entry, if it has one
    on = (bw[row] == w) & (np.abs(h.goff.astype(np.int64) - bg[row]) <= 1)
    row, t_q = row[on], h.t_q[on].astype(np.int64)
    first = np.full(best.size, np.iinfo(np.int64).max)
    last = np.full(best.size, np.iinfo(np.int64).min)
    np.minimum.at(first, row, t_q)  # every entry has hits: its own offset's
    np.maximum.at(last, row, t_q)
    return WindowBests(window=bw, offset=bg, score=smooth[best].astype(np.int64), first_frame=first,
                       last_frame=last, hits=np.bincount(row, minlength=best.size).astype(np.int64))


def _segments(lib: Library, rows: WindowBests, cfg: IdentifyConfig) -> list[Segment]:
    """Consecutive windows with the same global offset (±2 frames, gaps of ≤ 1 window) → segments."""
    hop_s = lib.cfg.hop_s
    segs: list[list[int]] = []  # [offset, last window, score, first frame, last frame, hits, windows]
    b = rows.by_window()
    for wi, g, score, t0, t1, n in zip(b.window.tolist(), b.offset.tolist(), b.score.tolist(),
                                       b.first_frame.tolist(), b.last_frame.tolist(), b.hits.tolist()):
        last = segs[-1] if segs else None
        if last and abs(last[0] - g) <= 2 and wi - last[1] <= 2:
            last[1:] = [int(wi), last[2] + int(score), last[3], max(last[4], int(t1)), last[5] + int(n), last[6] + 1]
        else:
            segs.append([int(g), int(wi), int(score), int(t0), int(t1), int(n), 1])
    out = []
    for g, _, score, t0, t1, n, windows in segs:
        # the last anchors' partners lie up to zone_dt later: the song went on about half a zone longer
        start, end = t0, t1 + 1 + lib.cfg.zone_dt // 2
        if (end - start) * hop_s < cfg.min_segment_s and windows == 1:
            continue
        trk, off = _tracks(lib, np.array([g]), (start + end) // 2)
        tr = lib.tracks[int(trk[0])]
        out.append(Segment(track=tr.name, start_s=start * hop_s, end_s=end * hop_s,
                           offset_s=(int(off[0]) + start) * hop_s, score=score,
                           confidence=_segment_confidence(score, n, cfg), path=tr.path, id=tr.sha256))
    return out
