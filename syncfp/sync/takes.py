"""solved timeline + its edges → the weak edges that make it impossible: two takes of one device overlapping.

A camera or phone records one take at a time (`stamps.one_device_takes`); pairs of such takes are never
matched directly, but a chain of edges can still lay two of them over each other. That happens when a
clip is joined at a musical repeat through one weak edge and drags the clips hanging on it along: on the
hard bench, 7 of the 12 misplaced clips of the sixth session landed on another take of their own device.
On the path between the two takes, the edge the smallest share of its windows confirmed is the likeliest
wrong one; it is dropped and the solve runs again, so the part behind it becomes its own group (a split,
which an editor sees, instead of a misplacement, which they do not). Edges at least `core_confidence`
sure are never dropped there; a clash still left after the last stages leaves out the clip one edge alone
holds (`clashing_pendants`): a loop played again confirms as surely as the truth.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable

import numpy as np

from ..config import SolveConfig
from ..engine.solve import Solution, inlier_degrees, relative_rate_stds, solve
from ..types import Fingerprint, PairMatch
from .stamps import Clocks, _clock_origins, one_device_takes, stamp_gap, take_number


def grouped_takes(sol: Solution, fps: list[Fingerprint]) -> list[tuple[int, int]]:
    """Pairs (u < v) of one device's takes (`stamps.one_device_takes`) that *sol* placed in one group. Clips
    are bucketed by folder, name prefix and extension first, so a festival's hundreds of clips cost one name
    parse each, not one per pair."""
    buckets: dict[tuple[str, str, str], list[tuple[int, int]]] = defaultdict(list)
    for j in range(len(fps)):
        if sol.group[j] >= 0 and (t := take_number(fps[j].path)) is not None:
            buckets[t[0]].append((t[1], j))
    out = []
    for takes in buckets.values():
        for i, (nu, u) in enumerate(takes):
            for nv, v in takes[i + 1:]:
                if sol.group[u] == sol.group[v] and one_device_takes(fps[u], fps[v]):
                    out.append((min(u, v), max(u, v)))
    return sorted(out)


def _clashes(sol: Solution, fps: list[Fingerprint], durations: list[float], min_s: float) -> list[tuple[int, int]]:
    """Pairs of one device's takes that the solution lays over each other by more than *min_s*."""
    out = []
    for u, v in grouped_takes(sol, fps):
        lo = max(sol.position_s[u], sol.position_s[v])
        hi = min(sol.position_s[u] + sol.k[u] * durations[u], sol.position_s[v] + sol.k[v] * durations[v])
        if hi - lo > min_s:
            out.append((u, v))
    return out


def one_clock(sol: Solution, fps: list[Fingerprint], gate: float, sigmas: float = 0.0) -> list[tuple[int, int]]:
    """Pairs of one device's takes placed in one group whose solved rates already agree to *gate*: one crystal
    clocks both, so the final solve ties their rates (`SolveConfig.take_rate_tie`). A rate measured over a
    few windows can be 15-20 ppm off (fresh3's junk: a GoPro take 16 ppm from its sibling, its start 2.7 ms
    off at 0.2-1 ms stated); the sibling's rate, measured elsewhere, holds it. The gate keeps a take placed at
    a repeat, whose rate may be anything, from pulling its sibling along. With *sigmas*, takes whose rates
    differ by more also tie when the edges between them measure that difference no better than *sigmas* times
    it (`solve.relative_rate_stds`): two parts of a group joined only over an overlap too short to measure a
    rate get their relative rate from nothing (fresh21's loud: 110 ppm off, so the first part lay 4-25 ms
    off the truth), and their devices' takes on both sides know it."""
    out, spread = [], {}
    for u, v in grouped_takes(sol, fps):
        d = abs(sol.k[u] / sol.k[v] - 1.0)
        if d > gate and sigmas > 0 and u not in spread:
            spread[u] = relative_rate_stds(sol, u)  # one solve per take, for all its siblings
        if d <= gate or (sigmas > 0 and d <= sigmas * spread[u].get(v, float("inf"))):
            out.append((u, v))
    return out


def _path(edges: list[PairMatch], u: int, v: int) -> list[PairMatch]:
    """The edges of a shortest path from *u* to *v* over *edges* (breadth first), or []."""
    adj: dict[int, list[tuple[int, PairMatch]]] = {}
    for e in edges:
        adj.setdefault(e.a, []).append((e.b, e))
        adj.setdefault(e.b, []).append((e.a, e))
    back: dict[int, tuple[int, PairMatch] | None] = {u: None}
    todo = deque([u])
    while todo:
        x = todo.popleft()
        if x == v:
            break
        for y, e in adj.get(x, []):
            if y not in back:
                back[y] = (x, e)
                todo.append(y)
    if v not in back:
        return []
    out = []
    while back[v] is not None:
        v, e = back[v]
        out.append(e)
    return out


def _separated(sol: Solution, edges: list[PairMatch], fps: list[Fingerprint], durations: list[float],
               cfg: SolveConfig, confidence: Callable[[PairMatch], float],
               clashes: Callable[[Solution], list[tuple[int, int]]],
               weakness: Callable[[PairMatch], tuple]) -> tuple[Solution, set[int]]:
    """*sol* with, for each pair *clashes* names, the weakest edge (*weakness*) on the path between them dropped
    from *edges* (in place) and the solve run again, while that edge is weaker than `core_confidence`; and the
    clips of the edges dropped."""
    cut: set[int] = set()
    for _ in range(len(fps)):
        dropped = False
        for u, v in clashes(sol):
            path = _path(sol.inliers, u, v)
            if not path:
                continue
            weakest = min(path, key=weakness)
            if confidence(weakest) >= cfg.core_confidence:
                continue
            edges[:] = [e for e in edges if not (e.a == weakest.a and e.b == weakest.b)]
            cut.update((weakest.a, weakest.b))
            sol = solve(len(fps), edges, durations, cfg)
            dropped = True
            break
        if not dropped:
            break
    return sol, cut


def separate_takes(sol: Solution, edges: list[PairMatch], fps: list[Fingerprint], durations: list[float],
                   cfg: SolveConfig, confidence: Callable[[PairMatch], float]) -> Solution:
    """*sol* with, for each pair of one device's takes laid over each other, the edge on the path between
    them that the smallest share of its windows confirmed dropped from *edges* (in place) and the solve run
    again, while that edge is weaker than `core_confidence`; *confidence* rates an edge
    (`sync.api._edge_confidence`)."""
    # the edge the smallest share of its windows confirmed: a repeat of varied music confirms fewer than the
    # truth does, however much of the shorter clip it covers (a true edge at a partial overlap says only 0.5,
    # and was the one dropped when confidence decided)
    return _separated(sol, edges, fps, durations, cfg, confidence,
                      lambda s: _clashes(s, fps, durations, cfg.take_clash_s),
                      lambda e: (e.windows / max(e.tried, 1), confidence(e), e.windows))[0]


def clock_clashes(sol: Solution, clocks: Clocks, durations: list[float], tol: float) -> list[tuple[int, int]]:
    """Pairs (u < v) in one group whose stamps come from one clock — network-timed names, or one device's
    own — and whose solved distance differs from the stamps' by more than *tol*, read at starts or (for
    devices that stamp the end) at ends. `stamps.clock_choices` judges an edge against its group's agreed
    reading, which two disagreeing clips do not give, or against the two ends of one edge; a repeat can
    still lay two takes of one laptop 76 s from where their names put them through a third clip (fresh23's
    chain6: the second take held 164 s off by one summed edge to an iPhone, the first right)."""
    have = [j for j, st in enumerate(clocks.stamps) if st is not None and sol.group[j] >= 0]
    if len(have) < 2:
        return []
    j = np.array(have)
    g = np.asarray(sol.group)[j]
    t = np.array([clocks.stamps[k].t for k in have])
    named = np.array([clocks.stamps[k].source == "name" for k in have])
    _, dev = np.unique([clocks.devices[k] for k in have], return_inverse=True)
    pos = np.asarray(sol.position_s, float)[j]
    dur = np.asarray(durations, float)[j]
    one = (named[:, None] & named[None, :]) | (dev[:, None] == dev[None, :])  # [u, v]: v after u
    gap = stamp_gap(pos[None, :] - pos[:, None], t[None, :] - t[:, None], dur[:, None], dur[None, :])
    bad = (g[:, None] == g[None, :]) & one & (gap > tol)
    u, v = np.nonzero(np.triu(bad, 1))
    return sorted((int(min(a, b)), int(max(a, b))) for a, b in zip(j[u], j[v]))


def separate_clocks(sol: Solution, edges: list[PairMatch], fps: list[Fingerprint], durations: list[float],
                    cfg: SolveConfig, confidence: Callable[[PairMatch], float], clocks: Clocks,
                    tol: float) -> tuple[Solution, set[int]]:
    """`separate_takes` for `clock_clashes`: on the path between two clips one clock puts further apart (or
    nearer) than the solve does, a summed edge goes first (its line is the likelier repeat: windows standing
    alone confirmed the other), then the least sure. Returns the solution and the dropped edges' clips."""
    return _separated(sol, edges, fps, durations, cfg, confidence,
                      lambda s: clock_clashes(s, clocks, durations, tol),
                      lambda e: (not e.stacked, confidence(e), e.windows / max(e.tried, 1), e.windows))


def clashing_pendants(sol: Solution, fps: list[Fingerprint], durations: list[float], cfg: SolveConfig,
                      clocks: Clocks, tol: float, agree_s: float) -> set[int]:
    """Clips one edge alone holds (a pendant) that the solve lays over another take of their device
    (`_clashes`) or where their own clock says they cannot be against another take's (`clock_clashes`,
    *tol*). `separate_takes` and `separate_clocks` drop the weakest edge on the path between the two, but never
    an edge `core_confidence` sure, and a loop played again can confirm ten windows standing alone: fresh37's
    festival, a 12-s voice memo placed 59.5 s off by one such edge to a camera, laid over the memo's previous
    take and 59.6 s from where the two takes' tags put it apart, stated 0.05 ms at confidence 0.996. One of the
    two is wrong, and the one a single edge holds is the likelier. Where both are pendants (that memo's previous
    take, right, hung on the same camera by one edge too), the one whose clock reads the group's zero as its
    device's agreed reading does (`stamps._clock_origins`, zoned: a phone's network clock matching the group's
    named files to whole quarter hours, within *agree_s*) stays when the other's does not; otherwise both go."""
    pairs = {*_clashes(sol, fps, durations, cfg.take_clash_s), *clock_clashes(sol, clocks, durations, tol)}
    if not pairs:
        return set()
    degree = inlier_degrees(sol)
    origins: dict | None = None

    def agrees(j: int) -> bool:
        nonlocal origins
        if origins is None:  # read only when two pendants clash
            origins = _clock_origins(sol, clocks.stamps, clocks.devices, agree_s, zoned=True)
        st, o = clocks.stamps[j], origins.get((int(sol.group[j]), "device:" + clocks.devices[j]))
        return st is not None and o is not None and abs(st.t - float(sol.position_s[j]) - o) <= agree_s

    out: set[int] = set()
    for u, v in pairs:
        hung = [p for p in (u, v) if degree[p] == 1]
        if len(hung) == 2 and agrees(u) != agrees(v):
            hung = [p for p in hung if not agrees(p)]
        out.update(hung)
    return out
