"""Clips timed only by windows summed along a line: their group's other clips asked at the place they sit.

A far phone whose every window is too weak alone is joined by summing its windows along a line
(`verify._stacked`). The sum is searched ±`VerifyConfig.search_s` about a fingerprint offset, and a
reverberant phone's landmarks can miss the direct sound by more: two far devices with no direct sound in
common then sum to the highest of several chance bumps inside the search while the truth lies outside
(fresh32's festival60: a phone 44 m out held by one summed edge to a camera 29 m out, 62 ms off, stated 5 ms).
Its group often holds a nearer device that hears it plainly, but no fingerprint line joined them and a
placed clip is never swept. Here each summed-only clip is checked against up to `RescueConfig.summed_ask`
other clips of its group that overlap it, where the solve puts it (`verify.check_near`: out to
±`recentre_search_s`, each line found read again just about itself). A line whose windows stand alone there,
the only one in the range that does, is stronger evidence than any sum (`verify_pair` ranks them so): where it
puts the clip elsewhere, measured by as many windows as a swept line needs lined up as one moment, the clip's
summed edges give way to it. Where it agrees, nothing changes: a far clip's sum and a group-mate can sit on
the same early reflection (fresh28's two_concerts: an iPhone 31 ms off, whose stated 5 ms would have become
0.05 ms), so agreement does not make a summed-only clip surer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from ..config import RescueConfig, VerifyConfig
from ..engine.solve import Solution
from ..types import Fingerprint, PairMatch
from .arrivals import arrival_peaks
from .sweep import lag_hypothesis
from .verify import check_near


def summed_only(sol: Solution) -> set[int]:
    """Placed clips every inlier edge of which was timed only by windows summed along its line
    (`PairMatch.stacked`): no window of theirs stood alone anywhere, so their stated error is held to
    `SolveConfig.stacked_error_s`. On the hard bench's four read draws 78 of 82 such clips stated within 1 ms
    were right and the 4 others were 9-26 ms off (a reflection, or the wrong group), against 367 of 367 for every
    other clip."""
    touched: dict[int, bool] = {}
    for e in sol.inliers:
        for j in (e.a, e.b):
            touched[j] = touched.get(j, True) and bool(e.stacked)
    return {j for j, only in touched.items() if only and sol.group[j] >= 0}


def _asked(sol: Solution, q: int, durations: list[float], cfg: RescueConfig, skip: set[int]) -> list[int]:
    """Up to `summed_ask` clips of *q*'s group outside *skip* that overlap it by `summed_ask_min_overlap_s` on
    the solved timeline, longest overlap first."""
    g = sol.group[q]
    lo, hi = float(sol.position_s[q]), float(sol.position_s[q] + sol.k[q] * durations[q])
    shared = []
    for w in range(len(durations)):
        if w == q or w in skip or sol.group[w] != g:
            continue
        ov = min(hi, float(sol.position_s[w] + sol.k[w] * durations[w])) - max(lo, float(sol.position_s[w]))
        if ov >= cfg.summed_ask_min_overlap_s:
            shared.append((-ov, w))
    return [w for _, w in sorted(shared)[: cfg.summed_ask]]


def _place(sol: Solution, q: int, e: PairMatch) -> float:
    """Where edge *e* puts clip *q* on its group's timeline, its other end where the solve has it."""
    w = e.b if e.a == q else e.a
    return float(sol.position_s[w] + sol.k[w] * (e.offset_s if e.a == w else -e.offset_s * e.rate))


def ask_groupmates(sol: Solution, edges: list[PairMatch], fps: list[Fingerprint], durations: list[float],
                   cfg: RescueConfig, vcfg: VerifyConfig, workers: int = 1) -> bool:
    """Check every summed-only clip against the group-mates `_asked` picks (not its partners, not summed-only
    clips themselves) at the place the solve gives it; where a line standing alone puts it more than
    `VerifyConfig.same_offset_s` elsewhere, change *edges* in place: that line added, the clip's summed edges
    removed. Whether anything changed (the caller solves again)."""
    if cfg.summed_ask <= 0:
        return False
    only = summed_only(sol)
    if not only:
        return False
    partners: dict[int, set[int]] = {}
    for e in sol.inliers:
        partners.setdefault(e.a, set()).add(e.b)
        partners.setdefault(e.b, set()).add(e.a)
    jobs = [(q, w) for q in sorted(only) for w in _asked(sol, q, durations, cfg, only | partners.get(q, set()))]
    if not jobs:
        return False

    def one(job: tuple[int, int]) -> PairMatch | None:
        q, w = job
        o = float((sol.position_s[q] - sol.position_s[w]) / sol.k[w])  # q's first sample in w's time
        h = lag_hypothesis(q, w, o, float(sol.k[q] / sol.k[w]))
        ev = check_near(h, fps[h.a], fps[h.b], vcfg)
        if not ev.ok or ev.stacked or ev.edge.rivals:
            return None  # windows standing alone, at one line only (a reflection standing as well: unsure)
        e = replace(ev.edge, trusted=True)
        if abs(_place(sol, q, e) - float(sol.position_s[q])) <= vcfg.same_offset_s:
            return None  # it agrees: the clip keeps its edges and the error they state (a group-mate confirmed
            # fresh28's iPhone on the same 31-ms reflection its sum was on; counted, it would state 0.05 ms)
        if ev.confirmed < cfg.sweep_min_windows or not ev.scatter <= vcfg.coherent_s:
            return None  # to move a clip, as many windows as a swept line needs, measured as one moment
        return e

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        found = [(q, e) for (q, _), e in zip(jobs, pool.map(one, jobs)) if e is not None]
    if not found:
        return False
    moved = {q for q, _ in found}
    edges[:] = [e for e in edges if not (e.stacked and (e.a in moved or e.b in moved))] + [e for _, e in found]
    return True


def early_rivals(sol: Solution, fps: list[Fingerprint], vcfg: VerifyConfig, workers: int = 1) -> dict[int, float]:
    """Summed-only clips (`summed_only`) whose edges' summed windows peak at least `summed_rival` as high as
    their line within `summed_rival_reach_s`, on the side where the clip's own audio would arrive earlier:
    clip → the farthest such peak's lag (s), the error its placement states at least. A far phone's sum can
    settle on its own early reflection, which puts it 10-45 ms off on its timeline while its line fits to
    0.1 ms; the direct sound then stands beside the line, a little lower, where its audio comes earlier. On
    the hard bench's six read draws, of 10 summed-only clips placed 9-46 ms off (6 of them stated 5 ms) such a
    peak reached as far as the truth for 8 (5 of the 6), against a peak at all for 15 of 98 placed within 1 ms:
    a sum cannot tell the two apart, so the error says so.
    The clip stays where its line puts it (`SolveConfig.stacked_error_s` covers the rest)."""
    reach = vcfg.summed_rival_reach_s
    only = summed_only(sol) if reach > 0 else set()
    if not only:
        return {}
    wide = replace(vcfg, arrival_reach_s=reach, search_s=reach + 0.01, arrival_listed=vcfg.summed_rival)
    jobs = [(q, e) for q in sorted(only) for e in sol.inliers if q in (e.a, e.b)]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        arrs = list(pool.map(lambda job: arrival_peaks(job[1], fps[job[1].a], fps[job[1].b], wide), jobs))
    out: dict[int, float] = {}
    for (q, e), arr in zip(jobs, arrs):
        # lag > 0: b's audio arrives later than the line says; q's own comes earlier when q is a and lag > 0,
        # or q is b and lag < 0
        early = [abs(lag) for lag, _ in (arr.peaks if arr is not None else ()) if (lag > 0) == (e.a == q)]
        if early:
            out[q] = max(out.get(q, 0.0), max(early))
    return out
