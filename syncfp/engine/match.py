"""`Index` of all clips → `PairMatch` per clip pair, from offset histograms that tolerate clock drift.

Each posting of the shared hash table is paired with the later postings of its bucket, giving hits (pair,
t_a, t_b); `engine.stream` runs this join a bounded chunk of postings at a time. Hits are
counted per (pair, segment of a's time, t_b - t_a); a line t_b - t_a = offset + rate·t_a is then found per
pair by a Hough search over rates within ±max_drift_ppm. Counting per segment keeps a 1000 ppm drift
inside one bin; the line fit turns the segments' evidence back into one offset and one rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import MatchConfig
from .hashtable import Index


@dataclass(frozen=True)
class Cells:
    """Hit counts per (pair, segment, dt) cell, sorted by pair then segment then dt."""

    a: np.ndarray  # int32[c]
    b: np.ndarray  # int32[c]
    seg: np.ndarray  # int32[c]
    dt: np.ndarray  # int32[c], t_b - t_a in frames
    count: np.ndarray  # int64[c]


@dataclass(frozen=True)
class Line:
    """A fitted line for one pair, in frames: t_b = t_a + offset + slope * (t_a - t_ref)."""

    offset: float
    slope: float
    t_ref: float
    slope_step: float  # resolution of the rate search
    support: int
    second: int
    hits: int
    z: float
    alternatives: tuple[tuple[float, float, int], ...] = ()  # (offset, slope, support) of other lines


def usable_postings(index: Index, cfg: MatchConfig) -> np.ndarray:
    """Positions of the postings a join pairs: those of buckets holding 2 to `max_bucket` postings (bigger
    buckets are hum, silence and clicks, judged over the whole batch so a chunked join filters the same)."""
    sizes = index.bucket_sizes()
    return np.flatnonzero(np.repeat((sizes >= 2) & (sizes <= cfg.max_bucket), sizes))


def later_in_bucket(index: Index, pos: np.ndarray) -> np.ndarray:
    """How many postings follow each of *pos* in its bucket: the candidate hits it anchors."""
    pos = np.asarray(pos, np.int64)
    return index.starts[np.searchsorted(index.starts, pos, side="right")] - pos - 1


def _first_item_at_least(items: np.ndarray, lo: np.ndarray, hi: np.ndarray, value: int) -> np.ndarray:
    """Per range [lo, hi) of item-sorted postings (inside one bucket), the first position whose item is
    >= *value* (hi when none): a vectorized bisection, log2(bucket size) numpy passes."""
    lo, hi = lo.copy(), hi.copy()
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        right = active & (items[np.minimum(mid, items.size - 1)] < value)
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)


def join_anchors(
    index: Index, anchors: np.ndarray, *, n_items: int, max_frames: int, seg_frames: int, row0: int = 0,
    n_rows: int | None = None, partners: tuple[int, int] | None = None,
) -> Cells:
    """Pair each posting in *anchors* with every later posting of its bucket (items a < b), or only those of
    items in *partners* = [lo, hi), counting hits per (pair, segment of a's time, dt) cell. Every hit has
    exactly one anchor (its earlier posting) and one partner item, so joins over disjoint anchor sets or
    partner ranges give disjoint hits; the anchors' items lie in [row0, row0 + n_rows)."""
    n_rows = n_items - row0 if n_rows is None else n_rows
    n_seg = max_frames // seg_frames + 1
    n_dt = 2 * max_frames + 1
    if float(n_rows) * n_items * n_seg * n_dt >= 2**62:
        raise ValueError("too many or too long clips for one pairwise join")
    idx = np.asarray(anchors, np.int64)
    start = idx + 1
    stop = start + later_in_bucket(index, idx)
    if partners is not None:  # a bucket's postings are sorted by item: its partners in range are contiguous
        start, stop = (_first_item_at_least(index.items, start, stop, v) for v in partners)
    remaining = stop - start  # idx pairs with start, start + 1, ... start + remaining - 1
    keys_parts, count_parts = [], []
    k = 0
    while idx.size:
        live = remaining > k
        idx, start, remaining = idx[live], start[live], remaining[live]
        if not idx.size:
            break
        j = start + k
        ia, ib = index.items[idx], index.items[j]
        diff = ia != ib  # sorted by item inside a bucket, so ia <= ib
        if diff.any():
            ia, ib = ia[diff].astype(np.int64) - row0, ib[diff].astype(np.int64)
            ta, tb = index.frames[idx[diff]].astype(np.int64), index.frames[j[diff]].astype(np.int64)
            key = ((ia * n_items + ib) * n_seg + ta // seg_frames) * n_dt + (tb - ta + max_frames)
            u, c = np.unique(key, return_counts=True)
            keys_parts.append(u)
            count_parts.append(c)
        k += 1
    if not keys_parts:
        z = np.zeros(0, np.int32)
        return Cells(z, z, z, z, np.zeros(0, np.int64))
    keys = np.concatenate(keys_parts)
    counts = np.concatenate(count_parts)
    del keys_parts, count_parts
    order = np.argsort(keys, kind="stable")
    keys, counts = keys[order], counts[order]
    del order
    first = np.concatenate([[True], keys[1:] != keys[:-1]])
    starts = np.flatnonzero(first)
    keys, counts = keys[starts], np.add.reduceat(counts, starts)
    dt = keys % n_dt - max_frames
    rest = keys // n_dt
    seg = rest % n_seg
    pair = rest // n_seg
    return Cells(
        a=(pair // n_items + row0).astype(np.int32), b=(pair % n_items).astype(np.int32),
        seg=seg.astype(np.int32), dt=dt.astype(np.int32), count=counts,
    )


def fit_line(
    seg: np.ndarray, dt: np.ndarray, count: np.ndarray, *, seg_frames: int, span_frames: int, cfg: MatchConfig
) -> Line | None:
    """Best line through one pair's cells: a few candidate offsets, then a Hough search over (rate, offset)
    in a window around each; None when there are no cells.

    Any line with |rate| within the drift range keeps its hits inside a box of ±(rate · half-span) around
    its offset at the overlap's centre, so a box-filtered rate-0 histogram finds the candidates, and the
    Hough then only spans that box — memory stays small even for two 3-hour recordings.
    """
    if count.size == 0:
        return None
    hits = int(count.sum())
    if count.size > 20000:  # huge pairs: single hits are noise, the line is in the multi-hit cells
        m = count >= 2
        seg, dt, count = seg[m], dt[m], count[m]
        if count.size == 0:
            return None
    tc = (seg.astype(np.float64) + 0.5) * seg_frames
    t_ref = 0.5 * (tc.min() + tc.max())
    t = tc - t_ref
    half_span = max(0.5 * (tc.max() - tc.min()) + seg_frames, 1.0)
    max_rate = cfg.max_drift_ppm * 1e-6
    step = 0.5 / half_span  # at most half a bin of error at either end
    n_rates = int(np.floor(max_rate / step))
    # zero first, then growing |rate|: on a tie (short overlaps cannot tell rates apart) argmax keeps 0
    order = np.argsort(np.abs(np.arange(-n_rates, n_rates + 1)), kind="stable")
    rates = (np.arange(-n_rates, n_rates + 1) * step)[order]
    reach = int(np.ceil(max_rate * half_span)) + 2
    found = []
    for centre in _candidates(dt, count, reach):
        sel = np.abs(dt - centre) <= 2 * reach
        if sel.any():
            found.append(_hough(t[sel], dt[sel], count[sel], rates, centre - 2 * reach, 4 * reach + 1))
    if not found:
        return None
    found.sort(key=lambda f: -f[2])
    offset, slope, support, second = found[0]
    alts: list[tuple[float, float, int]] = []
    for other in found[1:]:  # a candidate elsewhere counts as a competing line only if it is elsewhere
        if abs(other[0] - offset) > 4 and all(abs(other[0] - o[0]) > 4 for o in alts):
            second = max(second, other[2])
            alts.append((float(other[0]), float(other[1]), int(other[2])))
    chance = hits * 3.0 / max(span_frames, 1)
    z = (support - chance) / np.sqrt(chance + 1.0)
    if n_rates > 0:  # the overlap is long enough to see drift at all
        offset, slope = _polish(seg_dt=(t, dt, count), offset=offset, slope=slope)
    return Line(
        offset=offset, slope=slope, t_ref=t_ref, slope_step=step, support=support, second=second,
        hits=hits, z=float(z), alternatives=tuple(alts),
    )


def _candidates(dt: np.ndarray, count: np.ndarray, reach: int, n_max: int = 5) -> list[int]:
    """Offsets (rate 0, at the overlap's centre) of the strongest boxes of width 2·reach + 1."""
    lo = int(dt.min())
    hist = np.bincount(dt - lo, weights=count).astype(np.float64)
    width = 2 * reach + 1
    csum = np.concatenate([[0.0], np.cumsum(hist)])
    idx = np.arange(hist.size)
    box = csum[np.minimum(idx + reach + 1, hist.size)] - csum[np.maximum(idx - reach, 0)]
    out: list[int] = []
    top = None
    for _ in range(n_max):
        i = int(np.argmax(box))
        if box[i] <= 0 or (top is not None and box[i] < 0.2 * top):
            break
        top = box[i] if top is None else top
        out.append(i + lo)
        box[max(0, i - width) : i + width + 1] = 0
    return out


def _hough(t, dt, count, rates, lo: int, n_off: int) -> tuple[float, float, int, int]:
    """(offset, rate, support, best support at another offset) of the best line among *rates*."""
    shifted = np.rint(dt[None, :] - rates[:, None] * t[None, :]).astype(np.int64) - lo
    np.clip(shifted, 0, n_off - 1, out=shifted)
    flat = (np.arange(rates.size)[:, None] * n_off + shifted).ravel()
    hist = np.bincount(flat, weights=np.broadcast_to(count, shifted.shape).ravel(), minlength=rates.size * n_off)
    hist = hist.reshape(rates.size, n_off)
    hist[:, 0] = hist[:, -1] = 0  # clipped strays
    smooth = hist.copy()
    smooth[:, 1:] += hist[:, :-1]
    smooth[:, :-1] += hist[:, 1:]
    r_best, o_best = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
    w = hist[r_best, max(o_best - 1, 0) : o_best + 2]
    pos = np.arange(max(o_best - 1, 0), max(o_best - 1, 0) + w.size)
    centre = float((w * pos).sum() / max(w.sum(), 1e-9))  # count-weighted centre of the three bins
    masked = smooth[r_best].copy()
    masked[max(o_best - 4, 0) : o_best + 5] = 0  # other offsets, not the best line's shoulders
    return centre + lo, float(rates[r_best]), int(round(smooth[r_best, o_best])), int(round(masked.max()))


def _polish(*, seg_dt, offset: float, slope: float) -> tuple[float, float]:
    """Weighted least-squares line through the cells near the Hough winner: finer than the rate grid."""
    t, dt, count = seg_dt
    near = np.abs(dt - (offset + slope * t)) <= 1.5
    if near.sum() < 3 or np.ptp(t[near]) <= 0:
        return offset, slope
    w = count[near].astype(np.float64)
    tn, yn = t[near], dt[near].astype(np.float64)
    tm = np.average(tn, weights=w)
    den = np.sum(w * (tn - tm) ** 2)
    new_slope = float(np.sum(w * (tn - tm) * (yn - np.average(yn, weights=w))) / den)
    if abs(new_slope - slope) > 2 * abs(slope) + 1e-3:  # keep the grid's answer if the fit ran away
        return offset, slope
    return float(np.average(yn, weights=w) - new_slope * tm), new_slope


def pair_lines(
    cells: Cells, n_frames: list[int], cfg: MatchConfig, seg_frames: int, *, screen: bool = True
) -> dict[tuple[int, int], Line]:
    """Fit a line for each pair whose hits could possibly reach `min_support` (*screen* False: every pair
    with a few aligned hits, for diagnostics)."""
    if cells.count.size == 0:
        return {}
    n_items = len(n_frames)
    pair = cells.a.astype(np.int64) * n_items + cells.b
    bounds = np.flatnonzero(np.concatenate([[True], pair[1:] != pair[:-1], [True]]))
    totals = np.add.reduceat(cells.count, bounds[:-1])
    # rate-0 histogram of each pair in 4-frame bins (sorted by pair, then bin)
    coarse = pair * (1 << 24) + ((cells.dt.astype(np.int64) >> 2) + (1 << 23))
    u, inv = np.unique(coarse, return_inverse=True)
    csum = np.bincount(inv, weights=cells.count)
    nf = np.asarray(n_frames, np.float64)
    need = np.full(bounds.size - 1, float(cfg.min_support))
    if screen:
        # Every hit a fitted line can count lies within ±reach of its offset at rate 0 (reach as in
        # `fit_line`, bounded by the anchor clip's length), so the most hits in any window of that width
        # bounds its support. Pairs whose bound is under `min_support`, or under what `min_z` asks above
        # the pair's chance level, cannot give a usable edge (neither trusted nor ambiguous) and skip the
        # fit, which most pairs of a large batch are.
        reach = np.ceil(cfg.max_drift_ppm * 1e-6 * (0.5 * nf[(u >> 24) // n_items] + seg_frames)) + 2
        span_bins = np.ceil((2 * reach + 4) / 4).astype(np.int64)  # 4-frame bins a window can touch, minus one
        cum = np.concatenate([[0.0], np.cumsum(csum)])
        window = cum[np.searchsorted(u, u + span_bins, side="right")] - cum[:-1]
        first = bounds[:-1]
        chance = totals * 3.0 / np.maximum(nf[cells.a[first]] + nf[cells.b[first]], 1.0)
        need = np.maximum(need, chance + cfg.min_z * np.sqrt(chance + 1.0))
    else:  # diagnostics: a drifting line still puts >= support/4 hits into some 4-frame bin
        window = csum * 4.0
    best = np.zeros(bounds.size - 1)
    np.maximum.at(best, np.searchsorted(pair[bounds[:-1]], u >> 24), window)
    out: dict[tuple[int, int], Line] = {}
    for p in np.flatnonzero((totals >= cfg.min_support) & (best >= need)):
        s, e = bounds[p], bounds[p + 1]
        a, b = int(cells.a[s]), int(cells.b[s])
        span = n_frames[a] + n_frames[b]
        line = fit_line(
            cells.seg[s:e], cells.dt[s:e], cells.count[s:e], seg_frames=seg_frames, span_frames=span, cfg=cfg
        )
        if line is not None:
            out[(a, b)] = line
    return out


def to_pair_match(a: int, b: int, line: Line, hop_s: float, cfg: MatchConfig):
    """A fitted line in frames → `PairMatch` in seconds, trusted when it clears the match thresholds."""
    from ..types import PairMatch

    beta = 1.0 + line.slope
    alpha_s = (line.offset - line.slope * line.t_ref) * hop_s  # t_b = alpha + beta * t_a, b's seconds
    ratio = line.support / max(line.second, 1)
    trusted = line.support >= cfg.min_support and line.z >= cfg.min_z and ratio >= cfg.min_ratio
    return PairMatch(
        a=a, b=b, offset_s=-alpha_s / beta, rate=beta, support=line.support, z=line.z, ratio=ratio,
        trusted=bool(trusted), rate_error=max(line.slope_step, 1e-6),
    )


def alternatives(a: int, b: int, line: Line, hop_s: float, *, min_share: float) -> list:
    """The pair's other candidate lines (a repeat of the music, or chance) with at least *min_share* of the
    best line's support, as untrusted `PairMatch` hypotheses numbered from 1."""
    from ..types import PairMatch

    out = []
    for offset, slope, support in sorted(line.alternatives, key=lambda o: -o[2]):
        if support < min_share * line.support:
            continue
        beta = 1.0 + slope
        alpha_s = (offset - slope * line.t_ref) * hop_s
        out.append(PairMatch(a=a, b=b, offset_s=-alpha_s / beta, rate=beta, support=support, z=line.z,
                             ratio=support / max(line.support, 1), trusted=False,
                             rate_error=max(line.slope_step, 1e-6), hypothesis=len(out) + 1))
    return out
