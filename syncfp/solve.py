"""`PairMatch` edges → groups, clock rates and positions: a consistency-checked spanning tree, then weighted
least squares over every consistent edge, with rejection of edges that break their cycles.

Unlike star alignment against one reference, a clip that overlaps only its neighbours is placed through
the chain, and separate events fall apart into separate groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import SolveConfig
from .types import PairMatch


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


def _consensus_tree(n: int, edges: list[PairMatch], durations_s: list[float], cfg: SolveConfig) -> list[PairMatch]:
    """The spanning forest whose solution agrees with the most edge weight.

    Kruskal alone trusts its strongest edges blindly; one strong wrong edge would then misplace a clip
    and reject the right edges around it. Dropping each tree edge in turn and keeping a forest that more
    of the evidence agrees with fixes that, at the cost of one extra solve per tree edge.
    """
    best = _tree(n, edges)
    best_score = _agreement(n, best, edges, durations_s, cfg)
    for _ in range(len(edges)):
        for e in sorted(best, key=lambda x: (x.weight, x.a, x.b)):
            cand = _tree(n, [x for x in edges if x is not e])
            if len(cand) < len(best):
                continue  # e was a bridge: nothing else can place that side
            score = _agreement(n, cand, edges, durations_s, cfg)
            if score > best_score * (1 + 1e-9) + 1e-12:
                best, best_score = cand, score
                break
        else:
            break
    return best


def _agreement(n: int, tree: list[PairMatch], edges: list[PairMatch], durations_s, cfg: SolveConfig) -> float:
    """Total weight of the edges consistent with the positions that *tree* implies."""
    total = 0.0
    for nodes in _components(n, tree):
        members = set(nodes)
        ref = max(nodes, key=lambda i: (durations_s[i], -i))
        k, x, _, _ = _solve_component(nodes, ref, [e for e in tree if e.a in members])
        comp = [e for e in edges if e.a in members and e.b in members]
        res = _residuals(comp, k, x)
        total += sum(_score(e) for e, r in zip(comp, res) if abs(r) <= _tolerance(e, cfg))
    return total


def _score(e: PairMatch) -> float:
    """Evidence of an edge for voting: its hit support (error-based weights would let one edge dominate)."""
    return float(e.support)


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


def _lstsq(nodes: list[int], ref: int, edges: list[PairMatch], values: np.ndarray, weights: np.ndarray):
    """Solve x_b - x_a = value per edge with x_ref = 0; returns (x by node, std by node)."""
    col = {v: i for i, v in enumerate(n for n in nodes if n != ref)}
    m = np.zeros((len(edges), len(col)))
    for r, e in enumerate(edges):
        if e.b in col:
            m[r, col[e.b]] += 1.0
        if e.a in col:
            m[r, col[e.a]] -= 1.0
    sw = np.sqrt(weights)
    x, *_ = np.linalg.lstsq(m * sw[:, None], values * sw, rcond=None)
    try:
        cov = np.linalg.inv((m * weights[:, None]).T @ m)
        std = np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        std = np.full(len(col), np.nan)
    out = {ref: 0.0}
    out_std = {ref: 0.0}
    for v, i in col.items():
        out[v], out_std[v] = float(x[i]), float(std[i])
    return out, out_std


def _solve_component(nodes: list[int], ref: int, edges: list[PairMatch]):
    """Rates (log k) then positions by weighted least squares over *edges* inside one component."""
    w = np.array([e.weight for e in edges], float)
    wr = 1.0 / np.array([max(e.rate_error, 1e-7) for e in edges]) ** 2
    logk, logk_std = _lstsq(nodes, ref, edges, -np.log([e.rate for e in edges]), wr)
    k = {v: float(np.exp(lk)) for v, lk in logk.items()}
    meas = np.array([e.offset_s * k[e.a] for e in edges])
    x, std = _lstsq(nodes, ref, edges, meas, w)
    return k, x, std, logk_std


def _residuals(edges: list[PairMatch], k: dict, x: dict) -> np.ndarray:
    return np.array([x[e.b] - x[e.a] - e.offset_s * k[e.a] for e in edges])


def solve(n: int, edges: list[PairMatch], durations_s: list[float], cfg: SolveConfig = SolveConfig()) -> Solution:
    """Place *n* clips from trusted *edges*; clips in no component of two or more stay unplaced."""
    edges = [e for e in edges if e.trusted]
    rejected: list[PairMatch] = []
    kept = list(edges)
    for _ in range(6):
        tree = _consensus_tree(n, kept, durations_s, cfg)
        comps = _components(n, tree)
        changed = False
        new_kept = []
        for nodes in comps:
            members = set(nodes)
            comp_edges = [e for e in kept if e.a in members]
            ref = max(nodes, key=lambda i: (durations_s[i], -i))
            comp_tree = [e for e in tree if e.a in members]
            k, x, _, _ = _solve_component(nodes, ref, comp_tree)
            res = _residuals(comp_edges, k, x)
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
        k, x, s, ks = _solve_component(nodes, ref, comp_edges)
        start = min(x.values())
        for v in nodes:
            group[v], pos[v], kk[v], std[v], refs[v], kstd[v] = g, x[v] - start, k[v], s[v], ref, ks[v]
    return Solution(group, pos, kk, std, refs, kept, rejected, kstd)


def _tolerance(e: PairMatch, cfg: SolveConfig) -> float:
    if e.error_s is not None:
        return max(6.0 * e.error_s, 0.003)
    return cfg.max_residual_s
