"""A clip joined to its group through one partner only: does its audio also fit somewhere else?

Band and game music repeats whole sections, so a clip can confirm, window by window, against a partner it
never overlapped, at a passage the band plays again a minute later; with one partner nothing in the graph
contradicts the place (fresh4's festival60: a 13-s memo joined to a laptop 108 s before its truth, 9 of 9
windows standing alone, stated 0.29 ms; the clips around its truth had been left as a group of their own).
Here each such leaf clip (up to `elsewhere_max_s`) is swept (`sweep.candidates`, the low band) against the
longest clips that two or more partners hold, in its group at the rate the solve measured, in other groups
(on clocks of their own) at each of the sweep's rates; every lag more than `VerifyConfig.contest_apart_s`
from its place is checked (`verify.check_hypothesis`). Only a place confirmed as one moment heard twice
(`sweep.coherent`: windows standing alone, lined up to tens of µs over `sweep_min_span_s`, the bar a swept
edge must pass) counts: repeats played again by the band confirm too, loosely, and counted they cost right
placements by the dozen on the read draws. In another group such a place leaves the clip out. In its own,
the partner and the rival anchor are first asked, where they hear both places, which one is the moment
(`_prefers`): one that keeps the clip where it is, or finds both the same (a sample-identical repeat, where the
clip's own edge chose, as `RescueConfig.coherent_keeps` allows), keeps it unless another prefers the rival.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..config import RescueConfig, VerifyConfig
from ..engine.solve import Solution, group_sizes
from ..types import Fingerprint
from .sweep import SweepAnchor, SweepMemo, coherent, lag_hypothesis, lowrate
from .verify import check_hypothesis, verify_pair


def leaves(sol: Solution) -> dict[int, int]:
    """Placed clip → its one partner, for clips whose trusted inlier edges reach a single other clip of a
    group of three or more (in a group of two there is nowhere else to look)."""
    partners: dict[int, set[int]] = {}
    for e in sol.inliers:
        if e.trusted and sol.group[e.a] >= 0 and sol.group[e.a] == sol.group[e.b]:
            partners.setdefault(e.a, set()).add(e.b)
            partners.setdefault(e.b, set()).add(e.a)
    sizes = group_sizes(sol)
    return {j: next(iter(p)) for j, p in partners.items() if len(p) == 1 and sizes[int(sol.group[j])] >= 3}


def _prefers(q: int, w: int, here: float, there: float, sol: Solution, fps: list[Fingerprint],
             vcfg: VerifyConfig, min_overlap_s: float) -> str | None:
    """Which of two timeline places of clip *q* clip *w*'s windows confirm ("here", "there"), checked as one
    pair's rival hypotheses (`verify_pair`); "tie" when both pass and neither explains more (a sample-identical
    repeat); None when *w* does not overlap both, or neither passes."""
    rho = float(sol.k[q] / sol.k[w])
    lo_w, hi_w = float(sol.position_s[w]), float(sol.position_s[w] + sol.k[w] * fps[w].duration_s)
    hyps, names = [], []
    for name, at in (("here", here), ("there", there)):
        shared = min(hi_w, at + sol.k[q] * fps[q].duration_s) - max(lo_w, at)
        if shared >= min_overlap_s:
            hyps.append(lag_hypothesis(q, w, (at - lo_w) / float(sol.k[w]), rho, k=len(hyps)))
            names.append((name, at))
    if len(hyps) < 2:
        return None
    v = verify_pair(hyps, fps[hyps[0].a], fps[hyps[0].b], vcfg)
    if v.edge is None:
        return "tie" if v.ambiguous else None
    e = v.edge  # back to q's place on the timeline
    o = e.offset_s if e.b == q else -e.offset_s * e.rate
    at = lo_w + float(sol.k[w]) * o
    name, best = min(names, key=lambda n: abs(n[1] - at))
    return name if abs(best - at) <= vcfg.contest_apart_s else None


def _pair(q: int, a: int, fps: list[Fingerprint]) -> tuple[Fingerprint, Fingerprint]:
    """The fingerprints of *q* and *a* in `lag_hypothesis`'s order (a < b)."""
    return (fps[a], fps[q]) if a < q else (fps[q], fps[a])


def second_places(sol: Solution, fps: list[Fingerprint], *, cfg: RescueConfig,
                  vcfg: VerifyConfig, workers: int = 1,
                  may_pair: Callable[[int, int], bool] | None = None,
                  memo: SweepMemo | None = None) -> dict[int, str]:
    """Leaf clips (`leaves`) whose audio the windows confirm, as one moment (`sweep.coherent`), at another place
    of their group (one their partner and that anchor, each hearing both places, do not reject), or with
    `elsewhere_other_groups` in another group → why. *memo*: the run's `sweep.SweepMemo` (lags the sweeps found
    already)."""
    if cfg.elsewhere_anchors <= 0:
        return {}
    memo = SweepMemo() if memo is None else memo
    leaf = {q: p for q, p in leaves(sol).items() if fps[q].duration_s <= cfg.elsewhere_max_s}
    if not leaf:
        return {}
    longest = lambda j: (-fps[j].duration_s, fps[j].path)  # noqa: E731
    by_group: dict[int, list[int]] = {}
    for j in sorted((j for j in range(len(fps)) if sol.group[j] >= 0 and j not in leaf), key=longest):
        by_group.setdefault(int(sol.group[j]), []).append(j)  # a leaf's own place is what is in question
    used = {g: members[: cfg.elsewhere_anchors] for g, members in by_group.items()}
    groups = {int(sol.group[q]) for q in leaf}
    # only the anchors some leaf is swept against: all `used` of a leaf's group, the first few of the others
    others = cfg.elsewhere_other_anchors if cfg.elsewhere_other_groups else 0
    anchor_ids = {a for g, members in used.items() for a in (members if g in groups else members[:others])}
    anchor_ids = sorted(anchor_ids | set(leaf.values()))

    def one(q: int) -> str | None:
        g = int(sol.group[q])
        here = float(sol.position_s[q])
        min_overlap = min(0.8 * fps[q].duration_s, cfg.sweep_min_overlap_s)
        start = max(0.0, fps[q].duration_s - cfg.max_query_s) / 2
        order = [leaf[q], *(a for a in used.get(g, []) if a != leaf[q])]  # its partner may repeat it too
        lows = {}
        if cfg.elsewhere_other_groups:
            order += [a for h, members in used.items() if h != g for a in members[: cfg.elsewhere_other_anchors]]
            lows = {rho: lowrate(fps[q], start, cfg.max_query_s, rho=rho)  # read once for every other group
                    for rho in (1.0 + p * 1e-6 for p in cfg.sweep_rates_ppm)}
        for a in order:
            if a == q or (may_pair is not None and not may_pair(min(a, q), max(a, q))):
                continue
            same = int(sol.group[a]) == g
            # the anchor hears the clip's second t at o + rho·t: measured within a group; between two groups
            # (each on its own reference clock) any rate devices drift by, at the sweep's rates
            rhos = [float(sol.k[q] / sol.k[a])] if same else list(lows)
            lags = [(o, z, rho) for rho in rhos
                    for o, z in memo.lags(fps[q], start, fps[a], lambda: anchors[a], cfg, cfg.elsewhere_candidates,
                                          q=lows.get(rho), rho=rho)[0]]
            for o, z, rho in sorted(lags, key=lambda t: -t[1]):
                if z < cfg.elsewhere_min_z:
                    continue
                at = float(sol.position_s[a] + sol.k[a] * o)  # where this lag puts the clip on a's timeline
                if same and abs(at - here) <= vcfg.contest_apart_s:
                    continue
                ev = check_hypothesis(lag_hypothesis(q, a, o, rho, z), *_pair(q, a, fps), vcfg)
                if not ev.ok or ev.stacked or not coherent(ev, vcfg, cfg):
                    continue  # a repeat played again, or a line too weak to stand beside the clip's own
                if same:
                    # the partner and the rival anchor, each where it hears both places, asked which is the moment
                    votes = {_prefers(q, w, here, at, sol, fps, vcfg, min_overlap) for w in {leaf[q], a}}
                    if votes & {"here", "tie"} and "there" not in votes:
                        continue  # a tie: the audio is the same at both, and the clip's own edge chose (as
                        # `RescueConfig.coherent_keeps` does for a coherent edge to a partner without the repeat)
                    where = f"at two places {abs(at - here):.2f} s apart"
                else:
                    where = "in two groups"
                return (f"ambiguous: its audio fits {where} (against {os.path.basename(fps[leaf[q]].path)} and "
                        f"{os.path.basename(fps[a].path)}; repeating music); left out rather than placed at what "
                        "may be the repeat")
        return None

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        anchors = dict(zip(anchor_ids, pool.map(lambda a: SweepAnchor(fps[a], cfg.max_query_s, cfg.sweep_band_hz),
                                               anchor_ids)))
        found = dict(zip(leaf, pool.map(one, list(leaf))))
    return {q: why for q, why in found.items() if why is not None}
