"""Verified edges → the same edges, each timed on the direct sound rather than on an early reflection.

A phone far from the stage hears the direct sound and, 2-45 ms later, reflections off the floor and walls.
Where the direct-to-reverberant ratio is far below 0 dB, a reflection can correlate as well as the direct
sound, and an edge's windows may agree on the reflection: the clip then lands 20-45 ms early with a stated
error of a tenth of a millisecond (the hard bench's far phones did). The two lines are told apart by the
rest of the graph. For an edge (a, b) whose windows, summed along its line, peak as high nearby (a
*rival*), either the rival is a reflection of the clip that hears it later, or the edge's own line is a
reflection of the other clip. A recording's reflections sit at the same delays in every edge it has, so the
clip's *other* edges say whether it has a reflection at that delay: a board or a camera near the stage
shows none in its edges. When the edge's own line needs a reflection that its clip's other edges show
nowhere, and the rival's reading needs none they deny, the edge moves to the rival: the first arrival.

The same re-reading of each edge's windows at its own line also shows how tightly they agree: one moment
heard twice lines up to tens of µs, a repeat played again only to tenths of a ms (`verify._coherent_one`).
An edge confirmed by windows standing alone that scatter like that is dropped (`incoherent`): measured at
the edge's refined rate, a true line's windows do not (a hypothesis's, read at a fingerprint rate hundreds
of ppm off, can, which is why verification only uses the scatter to choose between hypotheses).
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from ..config import VerifyConfig
from ..engine.solve import inlier_degrees
from ..types import Fingerprint, PairMatch
from .verify import (_consensus, _curves, _flip, _geometry, _grid, _scatter, _stack_at, _stride, _vertex, _windows,
                     check_hypothesis)


@dataclass(frozen=True)
class Arrivals:
    """The peaks near one edge's line: its own height (windows' z summed along the line, over √windows) and
    every nearby local maximum as (lag in seconds, height / own); lag > 0: clip b's audio arrives later."""

    own: float
    peaks: tuple[tuple[float, float], ...]
    scatter: float = float("nan")  # rms (s) of the windows agreeing on the line about it (`verify._scatter`)


def arrival_peaks(e: PairMatch, fa: Fingerprint, fb: Fingerprint, cfg: VerifyConfig) -> Arrivals | None:
    """The stacked correlation around edge *e*'s line, laid on the shorter clip as `verify_pair` lays its
    windows; None when no window has audio on both sides."""
    if fb.duration_s < fa.duration_s:
        got = arrival_peaks(_flip(e), fb, fa, cfg)
        return None if got is None else Arrivals(got.own, tuple((-lag, q) for lag, q in got.peaks), got.scatter)
    idx, w = _grid(e, fa.duration_s, fb.duration_s, cfg, _stride([e], fa.duration_s, fb.duration_s, cfg))
    wins = _windows(fa, fb, e, idx, cfg.short_window_s / 2, w, cfg)
    if wins is None:
        return None
    rate = fa.rate_hz
    keep, alpha, beta, _ = _consensus(wins.ta, wins.tb, wins.z, cfg)
    scatter = float("nan")
    if keep.sum() >= cfg.coherent_windows:
        n_par = 2 if float(np.ptp(wins.ta[keep])) >= 2.0 else 1
        scatter = _scatter((wins.tb - (alpha + beta * wins.ta))[keep], n_par)
    base, dt, u, _, _ = _geometry(e, wins, rate, cfg, cfg.search_s)
    row = _stack_at(_curves(wins), base, dt, u, 0.0) / np.sqrt(len(wins.geoms))
    mid, near = (u.size - 1) // 2, max(1, int(0.001 * rate))
    own = float(row[mid - near: mid + near + 1].max())
    if not own > 0:
        return Arrivals(0.0, (), scatter)
    reach = int(cfg.arrival_reach_s * rate)
    found = _local_maxima(row, max(1, int(0.0015 * rate)))
    peaks = tuple(((int(p) - mid + _vertex(row, int(p))) / rate, float(row[p] / own)) for p in found
                  if near < abs(int(p) - mid) <= reach and row[p] >= cfg.arrival_listed * own)
    return Arrivals(own, peaks, scatter)


def _local_maxima(row: np.ndarray, half: int) -> np.ndarray:
    """Indices of *row* that are the highest within *half* samples either side (the first of a flat top)."""
    padded = np.pad(row, half, constant_values=-np.inf)
    top = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1).max(axis=1)
    i = np.flatnonzero(row >= top)
    return i[np.concatenate(([True], np.diff(i) > half))] if i.size else i


def _later_side(arr: Arrivals, clip_is_b: bool, mirror_tol_s: float = 0.0) -> list[float]:
    """Delays (s) at which one clip of an edge hears the matched audio again, later: its reflections. With
    *mirror_tol_s*, not a peak whose mirror image across the line (within that) stands higher: that is the
    other clip's echo, seen faintly on this side too (fresh26's junk: a far iPhone echoed 9.1 ms later at 0.62
    of the line and 0.43 on the camera's side; the camera, thought echoed, moved the iPhone's other take 9 ms)."""
    out = []
    for lag, q in arr.peaks:
        if (lag > 0) != clip_is_b:
            continue
        if mirror_tol_s > 0 and any((other > 0) != (lag > 0) and abs(abs(other) - abs(lag)) <= mirror_tol_s
                                    and h > q for other, h in arr.peaks):
            continue
        out.append(abs(lag))
    return out


def _reflection_vote(clip: int, delay: float, skip: int, edges: list[PairMatch], arrs: list[Arrivals | None],
                     of_clip: dict[int, list[int]], cfg: VerifyConfig) -> int:
    """Do *clip*'s other edges show a reflection *delay* later? +1 half of them or more, -1 under a third
    (`arrival_denied`) of at least `arrival_min_asked`, 0 otherwise (between, or too few edges to ask). With
    `arrival_mirror_vote`, an edge whose line is not its windows' peak (one `arrival_tower` times higher
    nearby: `towering` will move it) is not asked: its peaks are read about the wrong moment."""
    asked = hits = 0
    tower = cfg.arrival_tower if cfg.arrival_mirror_vote and cfg.arrival_tower > 0 else np.inf
    for k in of_clip[clip]:
        if k == skip or arrs[k] is None or any(q >= tower for _, q in arrs[k].peaks):
            continue
        asked += 1
        side = _later_side(arrs[k], edges[k].b == clip, cfg.arrival_tol_s if cfg.arrival_mirror_vote else 0.0)
        hits += any(abs(d - delay) <= cfg.arrival_tol_s for d in side)
    if not asked:
        return 0
    share = hits / asked
    if share >= 0.5:
        return 1
    return -1 if share < cfg.arrival_denied and asked >= cfg.arrival_min_asked else 0


def _first_arrival(i: int, edges: list[PairMatch], arrs: list[Arrivals | None], of_clip: dict[int, list[int]],
                   cfg: VerifyConfig) -> tuple[float, bool] | None:
    """(the lag (s) edge *i* should move by, whether the other clips deny the rival's reading outright), or
    None: among rivals as high as `arrival_rival` of its own line (and `arrival_min_z` in absolute terms), those
    whose reading the graph favours over the edge's own; of them, the one furthest from the line (the direct
    sound precedes every reflection of the far clip)."""
    e, arr = edges[i], arrs[i]
    if arr is None:
        return None
    moves = []
    for lag, q in arr.peaks:
        if q < cfg.arrival_rival or q * arr.own < cfg.arrival_min_z:
            continue
        if cfg.arrival_mirror and _mirrored(arr, lag, cfg):
            continue
        later, earlier = (e.b, e.a) if lag > 0 else (e.a, e.b)
        keep = _reflection_vote(later, abs(lag), i, edges, arrs, of_clip, cfg)  # the rival is `later`'s echo
        move = _reflection_vote(earlier, abs(lag), i, edges, arrs, of_clip, cfg)  # the line is `earlier`'s
        if move > keep:
            moves.append((lag, keep < 0))
    return max(moves, key=lambda m: abs(m[0])) if moves else None


def _mirrored(arr: Arrivals, lag: float, cfg: VerifyConfig) -> bool:
    """Whether the edge also peaks *lag* away on the line's other side: the clip a move to *lag* would call
    echoed (its audio heard again |lag| later) shows that echo after the line as well, as it does when the line
    is its direct sound. fresh25's festival: an iPhone 25 m out echoed 2.4-2.6 ms later in both its edges; the
    edge to a phone was moved by its echo's mirror image onto a line 2.4 ms early, stated 0.27 ms."""
    return any((other > 0) != (lag > 0) and abs(abs(other) - abs(lag)) <= cfg.arrival_tol_s for other, _ in arr.peaks)


def checked_at(e: PairMatch, lag: float, fa: Fingerprint, fb: Fingerprint,
               cfg: VerifyConfig) -> tuple[PairMatch, PairMatch | None]:
    """(edge *e* with b's side shifted by *lag*, the normal check's refined line near there or None)."""
    moved = replace(e, offset_s=e.offset_s - lag / e.rate)
    flip = fb.duration_s < fa.duration_s
    ev = check_hypothesis(_flip(moved) if flip else moved, *((fb, fa) if flip else (fa, fb)), cfg)
    got = _flip(ev.edge) if flip else ev.edge
    return moved, (replace(got, hypothesis=e.hypothesis, support=e.support) if ev.ok else None)


def _moved(e: PairMatch, lag: float, fa: Fingerprint, fb: Fingerprint, cfg: VerifyConfig) -> PairMatch:
    """Edge *e* with b's side shifted by *lag*, refined by the normal check when that confirms it there."""
    moved, got = checked_at(e, lag, fa, fb, cfg)
    return got if got is not None and abs(got.offset_s - moved.offset_s) <= 1e-3 else moved


def towered(e: PairMatch, lag: float, fa: Fingerprint, fb: Fingerprint, cfg: VerifyConfig) -> PairMatch:
    """Edge *e* moved to the peak *lag* away that towers over its line (`towering`), as the normal check
    confirms and refines it there (summed along the old line's rate, the peak can sit a few ms off); when
    the check lands nearer the old line than the new, or confirms nothing, *e* stays with its stated error
    reaching the peak: which of the two is right, the windows cannot say."""
    moved, got = checked_at(e, lag, fa, fb, cfg)
    if got is not None and abs(got.offset_s - moved.offset_s) < abs(lag) / 2:
        return got
    return replace(e, error_s=max(e.error_s or 0.0, abs(lag)))


def measure(edges: list[PairMatch], fps: list[Fingerprint], cfg: VerifyConfig = VerifyConfig(),
            workers: int = 1) -> list[Arrivals | None]:
    """`arrival_peaks` of every edge, on *workers* threads."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(lambda e: arrival_peaks(e, fps[e.a], fps[e.b], cfg), edges))


def incoherent(edges: list[PairMatch], arrs: list[Arrivals | None], cfg: VerifyConfig = VerifyConfig()) -> list[int]:
    """Indices of edges confirmed by windows standing alone (not stacked) whose windows, read at the edge's
    own line, scatter about it beyond `incoherent_s`: a repeat played again, not one moment; and summed edges
    whose groups of summed windows scatter beyond `incoherent_pooled_s` (`pooled_scatter_s`: a sum blurs the
    scatter, so the mark is higher)."""
    pooled = cfg.incoherent_pooled_s
    return [i for i, (e, arr) in enumerate(zip(edges, arrs))
            if (arr is not None and not e.stacked and arr.scatter > cfg.incoherent_s)
            or (pooled > 0 and e.stacked and e.pooled_scatter_s is not None and e.pooled_scatter_s > pooled)]


def unsure_timing(edges: list[PairMatch], arrs: list[Arrivals | None],
                  cfg: VerifyConfig = VerifyConfig()) -> dict[int, tuple[float, ...]]:
    """Edges whose line has rivals nearly as high (`arrival_unsure` of it) within `arrival_reach_s` that the
    graph did not settle: index → those rivals' lags (s, signed as `Arrivals.peaks`). The edge keeps its line,
    but its timing is only known to the farthest of them: direct sound or reflection, the windows cannot say."""
    out = {}
    for i, arr in enumerate(arrs):
        lags = tuple(lag for lag, q in (arr.peaks if arr is not None else ()) if q >= cfg.arrival_unsure)
        if lags and edges[i].error_s is not None:
            out[i] = lags
    return out


def torn(sol, cfg: VerifyConfig = VerifyConfig()) -> dict[int, float]:
    """Clips the solve holds where an unsure edge of theirs (`PairMatch.unsure_at`) says they cannot be: clip →
    how far off (s). Such an edge is right at its line or at one of its rivals; a position more than
    `arrival_torn_s` from all of them means a surer edge pulled the clip elsewhere — onto a reflection, on
    fresh21's festival (an iPhone 32 ms off, stated 0.08 ms, held by a summed edge on a camera's bounce
    against an unsure edge to a recorder on the direct sound). Blamed on the end with fewer edges (both when
    they have as many): its stated error must reach the gap. Summed edges (`PairMatch.stacked`) are not
    asked: their lines are the ones that settle on bounces (fresh4's set15: a summed edge 30 ms off between
    two clips that edges standing alone hold right), so a solve overriding one is no conflict."""
    if cfg.arrival_torn_s <= 0:
        return {}
    degree = inlier_degrees(sol)
    out: dict[int, float] = {}
    for e in sol.inliers:
        if not e.unsure_at or e.stacked or sol.group[e.a] < 0 or sol.group[e.a] != sol.group[e.b]:
            continue
        r = float(sol.position_s[e.b] - sol.position_s[e.a] - sol.k[e.a] * e.offset_s)
        if min(abs(r + lag) for lag in (0.0, *e.unsure_at)) <= cfg.arrival_torn_s:
            continue
        for j in (e.a, e.b):
            if degree[j] <= min(degree[e.a], degree[e.b]):
                out[j] = max(out.get(j, 0.0), abs(r))
    return out


def towering(edges: list[PairMatch], fps: list[Fingerprint], cfg: VerifyConfig = VerifyConfig(),
             workers: int = 1, skip: set[int] | frozenset[int] = frozenset()) -> dict[int, float]:
    """Summed edges (`PairMatch.stacked`) whose windows, summed over ±`arrival_tower_reach_s`, peak elsewhere
    at least `arrival_tower` times as high as on the edge's own line: index → that peak's lag (s). Such a line
    is a local bump the narrow check settled on beside the true one (a hypothesis from landmarks 120 ms off,
    searched ±60 ms); no reflection or repeat stands several times above the direct sound of the same
    windows. Edges in *skip* are not read."""
    if cfg.arrival_tower <= 0:
        return {}
    wide = replace(cfg, arrival_reach_s=cfg.arrival_tower_reach_s, search_s=cfg.arrival_tower_reach_s + 0.01,
                   arrival_listed=cfg.arrival_tower)
    todo = [i for i, e in enumerate(edges) if e.stacked and i not in skip]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        arrs = list(pool.map(lambda i: arrival_peaks(edges[i], fps[edges[i].a], fps[edges[i].b], wide), todo))
    out = {}
    for i, arr in zip(todo, arrs):
        tall = [(q, lag) for lag, q in (arr.peaks if arr is not None else ()) if q * arr.own >= cfg.arrival_min_z]
        if tall:
            out[i] = max(tall)[1]
    return out


def first_arrivals(edges: list[PairMatch], fps: list[Fingerprint], cfg: VerifyConfig = VerifyConfig(),
                   workers: int = 1, arrs: list[Arrivals | None] | None = None,
                   moves: dict[int, tuple[float, float]] | None = None) -> list[int]:
    """Move, in place, each edge of *edges* that is timed on a reflection to the direct sound (see the
    module's docstring); returns the indices moved. *arrs*: the edges' peaks (`measure`), measured here
    when not given; an edge whose entry is None neither moves nor speaks for its clips. *moves*, when given,
    gets each move's (lag, the peak's height as a share of the line it left), as decided (`lowered_moves`)."""
    if not cfg.arrival_reach_s or len(edges) < 2:
        return []
    if arrs is None:
        arrs = measure(edges, fps, cfg, workers)
    of_clip: dict[int, list[int]] = defaultdict(list)
    for k, e in enumerate(edges):
        of_clip[e.a].append(k)
        of_clip[e.b].append(k)
    found = {i: m for i in range(len(edges)) if (m := _first_arrival(i, edges, arrs, of_clip, cfg)) is not None}
    # with `arrival_rounds` > 1 the moves whose rival the other clips deny go first and the rest are decided again
    # on peaks read after them: an edge still on a far clip's reflection shows a false echo on its partner's side,
    # which can move that partner's right edges onto a reflection (fresh21: an iPhone's edge to a laptop 54 m out)
    first = {i: lag for i, (lag, denied) in found.items() if denied or cfg.arrival_rounds < 2}
    moves = {} if moves is None else moves
    height = lambda arr, lag: max(q for p, q in arr.peaks if p == lag)  # noqa: E731  (a lag is one of its peaks)
    for i, lag in first.items():
        moves[i] = (lag, height(arrs[i], lag))
        edges[i] = _moved(edges[i], lag, fps[edges[i].a], fps[edges[i].b], cfg)
    rest = {i: lag for i, (lag, _) in found.items() if i not in first}
    if rest and first:
        near = {k for i in first for c in (edges[i].a, edges[i].b) for k in of_clip[c]}
        arrs = [arrival_peaks(edges[k], fps[edges[k].a], fps[edges[k].b], cfg) if k in near and a is not None
                else a for k, a in enumerate(arrs)]
        rest = {i: m[0] for i in rest if (m := _first_arrival(i, edges, arrs, of_clip, cfg))}
    for i, lag in rest.items():
        moves[i] = (lag, height(arrs[i], lag))
        edges[i] = _moved(edges[i], lag, fps[edges[i].a], fps[edges[i].b], cfg)
    return sorted(first.keys() | rest.keys())


def lowered_moves(moves: dict[int, tuple[float, float]], edges: list[PairMatch],
                  cfg: VerifyConfig = VerifyConfig()) -> dict[int, tuple[float]]:
    """Edges `first_arrivals` moved to a peak lower than the line they left (*moves*: its record): index → (that
    line's lag from the new one, signed as `Arrivals.peaks`). The windows favoured the old line; the other clips'
    echoes chose the move, and of 13 moves traced on five hard draws 2 went onto a reflection (a phone 27 ms off,
    stated 0.05 ms): direct sound or reflection, the edge states an error reaching both, as `unsure_timing`'s
    do. Moves to a higher peak state their own."""
    if not cfg.arrival_moved_unsure:
        return {}
    return {i: (-lag,) for i, (lag, q) in moves.items() if q < 1.0 and edges[i].error_s is not None}
