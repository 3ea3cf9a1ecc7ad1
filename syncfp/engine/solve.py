"""`PairMatch` edges → groups, clock rates and positions: a consistency-checked spanning tree, then weighted
least squares over every consistent edge, with rejection of edges that break their cycles.

Unlike star alignment against one reference, a clip that overlaps only its neighbours is placed through
the chain, and separate events fall apart into separate groups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..config import SolveConfig
from ..types import PairMatch


@dataclass(frozen=True)
class Solution:
    """Per clip: group id (-1 = unplaced), position (s, group's earliest clip at 0), clock factor k, std."""

    group: np.ndarray  # int32[n]
    position_s: np.ndarray  # float64[n], NaN for unplaced
    k: np.ndarray  # float64[n]: clip seconds → timeline seconds; 1 for each group's reference
    position_std_s: np.ndarray  # float64[n]
    reference: np.ndarray  # int32[n]: index of the group's reference clip, -1 for unplaced
    inliers: list[PairMatch]
    rejected: list[PairMatch]
    k_std: np.ndarray  # float64[n]: standard error of log k (≈ relative rate), NaN for unplaced


def group_sizes(sol: Solution) -> dict[int, int]:
    """Placed clips per group id."""
    g = sol.group[sol.group >= 0]
    return {int(k): int(n) for k, n in zip(*np.unique(g, return_counts=True))} if g.size else {}


def inlier_degrees(sol: Solution) -> Counter:
    """Inlier edges per clip: which clips one edge alone holds (the pendant and arrival checks ask those)."""
    return Counter(j for e in sol.inliers for j in (e.a, e.b))


def overlap_span(offset_s: float, dur_a: float, dur_b: float, rate: float = 1.0) -> tuple[float, float]:
    """(start, end) in a's clock of what two clips share when b starts *offset_s* after a (end < start: none)."""
    return max(0.0, offset_s), min(dur_a, offset_s + dur_b / rate)


def _mid(e: PairMatch, durations_s: list[float]) -> float:
    """The middle of edge *e*'s overlap in a's clock: where its offset was measured.

    Offsets are stated at b's first sample, which may lie minutes from the overlap; a clock-rate error
    there becomes a position error. Residuals and position equations are taken at the overlap's middle,
    so a long recording's edge is judged where its audio actually lined up."""
    lo, hi = overlap_span(e.offset_s, durations_s[e.a], durations_s[e.b], e.rate)
    return 0.5 * (lo + hi) if hi > lo else lo


def _predicted_gap(e: PairMatch, k_a: float, k_b: float, m: float) -> float:
    """x_b - x_a that edge *e* implies at a's clip time *m*: a's sample there sits at x_a + k_a·m on the
    timeline, and the sample of b that the edge pairs with it, (m - offset)·rate, at x_b + k_b·(m - offset)·rate.
    Where k_b·rate = k_a (the clocks agree with the edge) this is offset·k_a for any m."""
    return k_a * m - k_b * e.rate * (m - e.offset_s)


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _tree(n: int, edges: list[PairMatch]) -> list[PairMatch]:
    """Maximum-weight spanning forest (Kruskal), strongest evidence first."""
    parent = list(range(n))
    tree = []
    for e in sorted(edges, key=lambda e: (-e.weight, e.a, e.b)):
        ra, rb = _find(parent, e.a), _find(parent, e.b)
        if ra != rb:
            parent[rb] = ra
            tree.append(e)
    return tree


def _propagate(nodes: list[int], ref: int, tree: list[PairMatch]) -> tuple[dict, dict]:
    """Clock factors k and positions x along a spanning tree from *ref* (exact for a tree, O(n))."""
    adj: dict[int, list[PairMatch]] = {v: [] for v in nodes}
    for e in tree:
        adj[e.a].append(e)
        adj[e.b].append(e)
    k, x = {ref: 1.0}, {ref: 0.0}
    stack = [ref]
    while stack:
        u = stack.pop()
        for e in adj[u]:
            if e.a == u and e.b not in k:
                k[e.b] = k[u] / e.rate
                x[e.b] = x[u] + e.offset_s * k[u]
                stack.append(e.b)
            elif e.b == u and e.a not in k:
                k[e.a] = k[u] * e.rate
                x[e.a] = x[u] - e.offset_s * k[e.a]
                stack.append(e.a)
    return k, x


def _consensus_tree(n: int, edges: list[PairMatch], durations_s: list[float], cfg: SolveConfig) -> list[PairMatch]:
    """A spanning forest grown by merging components on the vote of every edge between them.

    Kruskal alone trusts its strongest edge blindly: one strong wrong match would misplace a whole side.
    Here, when two components first meet, each edge of the bundle between them proposes a placement and
    the placement that the most bundle evidence agrees with wins (weighted by hit support).
    """
    parent = list(range(n))
    members = {i: [i] for i in range(n)}
    k = [1.0] * n  # clock factor relative to the component's root
    x = [0.0] * n  # position relative to the component's root
    adj: dict[int, list[PairMatch]] = {i: [] for i in range(n)}
    for e in edges:
        adj[e.a].append(e)
        adj[e.b].append(e)
    tree: list[PairMatch] = []
    for e in sorted(edges, key=lambda e: (-e.weight, e.a, e.b)):
        ra, rb = _find(parent, e.a), _find(parent, e.b)
        if ra == rb:
            continue
        if len(members[ra]) < len(members[rb]):
            ra, rb = rb, ra  # merge the smaller side (rb) into the larger (ra)
        side_b = set(members[rb])
        bundle = [f for v in members[rb] for f in adj[v] if _find(parent, f.a if f.b in side_b else f.b) == ra
                  and (f.a in side_b) != (f.b in side_b)]
        best, best_vote = None, -1.0
        for f in bundle:
            s_f, c_f = _transform(f, side_b, k, x)
            vote = sum(_score(g) for g in bundle if abs(_predict_residual(g, s_f, c_f, side_b, k, x, durations_s)) <= _merge_tol(
                g, f, side_b, x, cfg))
            if vote > best_vote + 1e-12:
                best, best_vote = f, vote
        s_b, c_b = _transform(best, side_b, k, x)
        for v in members[rb]:
            k[v], x[v] = s_b * k[v], c_b + s_b * x[v]
            parent[v] = ra
        parent[rb] = ra
        members[ra].extend(members.pop(rb))
        tree.append(best)
    return tree


def _triangle_filter(edges: list[PairMatch], cfg: SolveConfig) -> tuple[list[PairMatch], list[PairMatch]]:
    """Drop edges that more triangles contradict than confirm (a wrong match rarely closes a cycle).

    Rates are ignored here (k ≈ 1): the tolerance grows by 1200 ppm of the offsets around the triangle.
    """
    meas: dict[tuple[int, int], tuple[float, PairMatch]] = {}
    nbr: dict[int, set[int]] = {}
    for e in edges:
        meas[(e.a, e.b)] = (e.offset_s, e)
        meas[(e.b, e.a)] = (-e.offset_s, e)
        nbr.setdefault(e.a, set()).add(e.b)
        nbr.setdefault(e.b, set()).add(e.a)
    keep, drop = [], []
    for e in edges:
        cons = incons = 0
        for c in nbr[e.a] & nbr[e.b]:
            d_ac, e_ac = meas[(e.a, c)]
            d_cb, e_cb = meas[(c, e.b)]
            tol = _tolerance(e, cfg) + _tolerance(e_ac, cfg) + _tolerance(e_cb, cfg)
            tol += 1.2e-3 * (abs(d_ac) + abs(d_cb))
            if abs(d_ac + d_cb - e.offset_s) <= tol:
                cons += 1
            else:
                incons += 1
        (drop if incons > cons else keep).append(e)
    return keep, drop


def _transform(f: PairMatch, side_b: set, k: list, x: list) -> tuple[float, float]:
    """(scale, shift) taking side-b coordinates to side-a coordinates according to edge *f*."""
    if f.b in side_b:  # f.a on the kept side
        kb = k[f.a] / f.rate
        xb = x[f.a] + f.offset_s * k[f.a]
        node = f.b
    else:
        ka = None
        node = f.a
        # x_b = x_a + offset * k_a with k_a = k_b * rate
        ka = k[f.b] * f.rate
        kb, xb = ka, x[f.b] - f.offset_s * ka
    s = kb / k[node]
    return s, xb - s * x[node]


def _predict_residual(g: PairMatch, s: float, c: float, side_b: set, k: list, x: list,
                      durations_s: list[float]) -> float:
    """How far g's own measurement is from the placement (s, c) of side b, at g's overlap."""
    ka = s * k[g.a] if g.a in side_b else k[g.a]
    kb = s * k[g.b] if g.b in side_b else k[g.b]
    xa = c + s * x[g.a] if g.a in side_b else x[g.a]
    xb = c + s * x[g.b] if g.b in side_b else x[g.b]
    return xb - xa - _predicted_gap(g, ka, kb, _mid(g, durations_s))


def _merge_tol(g: PairMatch, f: PairMatch, side_b: set, x: list, cfg: SolveConfig) -> float:
    """g's tolerance, widened by f's rate uncertainty over the distance between their ends on side b."""
    gb = g.a if g.a in side_b else g.b
    fb = f.a if f.a in side_b else f.b
    return _tolerance(g, cfg) + f.rate_error * abs(x[gb] - x[fb])


def _agreement(n: int, tree: list[PairMatch], edges: list[PairMatch], durations_s, cfg: SolveConfig):
    """(support of the edges consistent with *tree*'s positions, the inconsistent edges)."""
    total = 0.0
    bad: list[PairMatch] = []
    for nodes in _components(n, tree):
        members = set(nodes)
        ref = max(nodes, key=lambda i: (durations_s[i], -i))
        k, x = _propagate(nodes, ref, [e for e in tree if e.a in members])
        comp = [e for e in edges if e.a in members and e.b in members]
        for e, r in zip(comp, _residuals(comp, k, x, durations_s)):
            if abs(r) <= _tolerance(e, cfg):
                total += _score(e)
            else:
                bad.append(e)
    return total, bad


def _score(e: PairMatch) -> float:
    """Evidence of an edge for voting: its hit support (error-based weights would let one edge dominate)."""
    return float(e.support)


def select_for_refinement(n: int, edges: list[PairMatch], *, per_clip: int = 3) -> list[PairMatch]:
    """The edges worth refining: a maximum spanning forest (every clip stays connected) plus each clip's
    strongest few, so cycles still check each other while the cost grows with clips, not with pairs."""
    chosen = {(e.a, e.b): e for e in _tree(n, edges)}
    degree = [0] * n
    for e in chosen.values():
        degree[e.a] += 1
        degree[e.b] += 1
    for e in sorted(edges, key=lambda e: (-e.weight, e.a, e.b)):
        if (e.a, e.b) not in chosen and (degree[e.a] < per_clip or degree[e.b] < per_clip):
            chosen[(e.a, e.b)] = e
            degree[e.a] += 1
            degree[e.b] += 1
    return sorted(chosen.values(), key=lambda e: (e.a, e.b))


def _components(n: int, edges: list[PairMatch]) -> list[list[int]]:
    parent = list(range(n))
    for e in edges:
        ra, rb = _find(parent, e.a), _find(parent, e.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    comps: dict[int, list[int]] = {}
    for i in range(n):
        comps.setdefault(_find(parent, i), []).append(i)
    return [c for c in comps.values() if len(c) > 1]


def _incidence(pairs: Sequence[tuple[int, int]], col: dict[int, int]) -> np.ndarray:
    """One row per (a, b): +1 in b's column, −1 in a's (the frame clip has none): b's unknown minus a's."""
    m = np.zeros((len(pairs), len(col)))
    for r, (a, b) in enumerate(pairs):
        if b in col:
            m[r, col[b]] += 1.0
        if a in col:
            m[r, col[a]] -= 1.0
    return m


def _lstsq(nodes: list[int], ref: int, edges: list[PairMatch], values: np.ndarray, weights: np.ndarray,
           with_std: bool = True):
    """Solve x_b - x_a = value per edge with x_ref = 0; returns (x by node, std by node: NaN without *with_std*,
    which saves inverting the normal matrix where the caller reads its errors elsewhere)."""
    col = {v: i for i, v in enumerate(n for n in nodes if n != ref)}
    m = _incidence([(e.a, e.b) for e in edges], col)
    sw = np.sqrt(weights)
    x, *_ = np.linalg.lstsq(m * sw[:, None], values * sw, rcond=None)
    std = np.full(len(col), np.nan)
    if with_std:
        try:
            std = np.sqrt(np.clip(np.diag(np.linalg.inv((m * weights[:, None]).T @ m)), 0, None))
        except np.linalg.LinAlgError:
            pass
    out = {ref: 0.0}
    out_std = {ref: 0.0}
    for v, i in col.items():
        out[v], out_std[v] = float(x[i]), float(std[i])
    return out, out_std


class _Tie(NamedTuple):
    """Two clips known to share one clock rate (takes of one device): a rate equation with no offset."""

    a: int
    b: int


def _solve_component(nodes: list[int], ref: int, edges: list[PairMatch], durations_s: list[float],
                     rate_prior: float = SolveConfig.rate_prior, ties: Sequence[tuple[int, int]] = (),
                     tie_error: float = SolveConfig.take_rate_tie):
    """Rates (log k) then positions by weighted least squares over *edges* inside one component; each
    position equation holds at its edge's overlap (`_mid`), with the solved rates carrying it to b's start.
    *ties*: clips whose rates agree to *tie_error* (one device's takes), extra equations of the rate solve."""
    w = np.array([e.weight for e in edges], float)
    rows: list = [*edges, *(_Tie(a, b) for a, b in ties)]
    wr = 1.0 / np.array([max(e.rate_error, 1e-7) for e in edges] + [tie_error] * len(ties)) ** 2
    logk, logk_std = _lstsq(nodes, ref, rows, np.concatenate([-np.log([e.rate for e in edges]), np.zeros(len(ties))]), wr)
    k = {v: float(np.exp(lk)) for v, lk in logk.items()}
    mids = [_mid(e, durations_s) for e in edges]
    meas = np.array([_predicted_gap(e, k[e.a], k[e.b], m) for e, m in zip(edges, mids)])
    x, _ = _lstsq(nodes, ref, edges, meas, w, with_std=False)  # errors: `_with_rate_error`, rates and positions as one
    return k, x, _with_rate_error(nodes, ref, edges, w, wr, ties, k, mids, rate_prior), logk_std


def relative_rate_stds(sol: Solution, u: int) -> dict[int, float]:
    """{clip of *u*'s group: standard error of log(k_v / k_u)} that *sol*'s inlier edges give, from the rate
    equations alone (each edge's `rate_error`): tiny where measured edges link the two, about 1e-3 where the only
    link is an edge over an overlap too short to measure a rate. {} for an unplaced clip."""
    g = sol.group[u]
    edges = [e for e in sol.inliers if sol.group[e.a] == g] if g >= 0 else []
    nodes = sorted({x for e in edges for x in (e.a, e.b)})
    if u not in nodes:
        return {}
    w = 1.0 / np.array([max(e.rate_error, 1e-7) for e in edges]) ** 2
    _, std = _lstsq(nodes, u, edges, -np.log([e.rate for e in edges]), w)  # u as the frame
    return {v: s if np.isfinite(s) else float("inf") for v, s in std.items()}


def _with_rate_error(nodes: list[int], ref: int, edges: list[PairMatch], w: np.ndarray, wr: np.ndarray,
                     ties: Sequence[tuple[int, int]], k: dict, mids: list[float],
                     rate_prior: float = SolveConfig.rate_prior) -> dict:
    """Positions' standard errors with the clock rates' part in them: positions and rates (log k) linearised
    about the solution and solved as one least squares, whose covariance gives each clip's position at its
    first sample. Each edge fixes its two clips at its overlap's middle (`_mid`); an error δ in a clip's rate
    moves its first sample by δ·t from there, and, in a chain, moves every clip joined beyond it by δ times the
    span between that clip's two overlaps. Solving positions with the rates taken as known leaves both out (a
    clip joined 140 s from its start by an edge whose rate was 12 ppm off was 1.65 ms off with 0.04 ms stated;
    a clip at the end of a chain of two short overlaps 80 s apart, 1.45 ms off with 0.42 stated). Every rate is
    also known to *rate_prior* before any edge (a consumer clock), so a rate no edge measures stays bounded."""
    col = {v: i for i, v in enumerate(v for v in nodes if v != ref)}
    n = len(col)
    if n == 0:
        return {ref: 0.0}
    m_rows = len(edges) + len(wr)
    a = np.zeros((m_rows + n, 2 * n))
    pairs = [(e.a, e.b) for e in edges]
    a[:len(edges), :n] = _incidence(pairs, col)
    for r, (e, m) in enumerate(zip(edges, mids)):  # x_b − x_a = k_a·m − k_b·rate·(m − offset), linear in log k
        if e.b in col:
            a[r, n + col[e.b]] = k[e.b] * e.rate * (m - e.offset_s)
        if e.a in col:
            a[r, n + col[e.a]] = -k[e.a] * m
    a[len(edges):m_rows, n:] = _incidence(pairs + list(ties), col)  # log k_b − log k_a, as the rate solve reads it
    a[m_rows + np.arange(n), n + np.arange(n)] = 1.0  # the prior: each rate within rate_prior of the reference's
    weights = np.concatenate([w, wr, np.full(n, 1.0 / rate_prior**2)])
    normal = (a * weights[:, None]).T @ a
    try:
        cov = np.linalg.inv(normal)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(normal)
    # stated against the group's centre, not its longest clip: the clip u whose gaps to all the others are known
    # best (least Σ_v var(x_v − x_u)); a few clips hung on the rest by one unsure edge state its error, the rest
    # do not, whichever side the longest clip is on (fresh39: five clips 30 ms off, the longest among them, stated
    # 0.04 ms while the 30 others stated 30)
    p = np.zeros((n + 1, n + 1))  # positions' covariance, the reference last (known exactly: zero)
    p[:n, :n] = cov[:n, :n]
    d = np.diag(p)
    u = int(np.argmin((n + 1) * d - 2.0 * p.sum(axis=1)))
    var = np.clip(d + d[u] - 2.0 * p[:, u], 0.0, None)
    out = {ref: float(np.sqrt(var[n]))}
    for v, i in col.items():
        out[v] = float(np.sqrt(var[i]))
    return out


def _residuals(edges: list[PairMatch], k: dict, x: dict, durations_s: list[float]) -> np.ndarray:
    """Each edge's disagreement with positions *x* and clock factors *k*, at its overlap (`_mid`)."""
    return np.array([x[e.b] - x[e.a] - _predicted_gap(e, k[e.a], k[e.b], _mid(e, durations_s)) for e in edges])


def solve(n: int, edges: list[PairMatch], durations_s: list[float], cfg: SolveConfig = SolveConfig(),
          ties: Sequence[tuple[int, int]] = ()) -> Solution:
    """Place *n* clips from trusted *edges*; clips in no component of two or more stay unplaced. *ties*:
    pairs of clips sharing one clock rate (takes of one device), used in the rate solve of a component that
    holds both; they join nothing."""
    edges = [e for e in edges if e.trusted]
    kept, rejected = _triangle_filter(edges, cfg)
    for _ in range(6):
        tree = _consensus_tree(n, kept, durations_s, cfg)
        comps = _components(n, tree)
        changed = False
        new_kept = []
        for nodes in comps:
            members = set(nodes)
            comp_edges = [e for e in kept if e.a in members]
            ref = max(nodes, key=lambda i: (durations_s[i], -i))
            k, x = _propagate(nodes, ref, [e for e in tree if e.a in members])
            res = _residuals(comp_edges, k, x, durations_s)
            good = [e for e, r in zip(comp_edges, res) if abs(r) <= _tolerance(e, cfg)]
            bad = [e for e, r in zip(comp_edges, res) if abs(r) > _tolerance(e, cfg)]
            if bad:
                changed = True
                rejected.extend(bad)
            new_kept.extend(good)
        kept = new_kept
        if not changed:
            break
    group = np.full(n, -1, np.int32)
    pos = np.full(n, np.nan)
    kk = np.ones(n)
    std = np.full(n, np.nan)
    refs = np.full(n, -1, np.int32)
    kstd = np.full(n, np.nan)
    comps = sorted(_components(n, kept), key=lambda c: min(c))
    for g, nodes in enumerate(comps):
        members = set(nodes)
        comp_edges = [e for e in kept if e.a in members]
        ref = max(nodes, key=lambda i: (durations_s[i], -i))
        comp_ties = [(a, b) for a, b in ties if a in members and b in members] if cfg.take_rate_tie > 0 else []
        k, x, s, ks = _solve_component(nodes, ref, comp_edges, durations_s, cfg.rate_prior, comp_ties, cfg.take_rate_tie)
        if len(nodes) > 1:  # the centre the errors are stated from is known no better than its surest
            # group-mate is to it: the rest of a group tied to it by one unsure edge states that edge's error, and
            # so must the centre, which may be the one off (fresh9: a reference 38.9 ms off stated 0.0, its 10
            # group-mates 43.8 ms)
            centre = min(nodes, key=lambda v: (s[v], v != ref))
            s[centre] = min(s[v] for v in nodes if v != centre)
        start = min(x.values())
        for v in nodes:
            group[v], pos[v], kk[v], std[v], refs[v], kstd[v] = g, x[v] - start, k[v], s[v], ref, ks[v]
    return Solution(group, pos, kk, std, refs, kept, rejected, kstd)


def _tolerance(e: PairMatch, cfg: SolveConfig) -> float:
    if e.error_s is not None:
        return max(6.0 * e.error_s, 0.003)
    return cfg.max_residual_s
