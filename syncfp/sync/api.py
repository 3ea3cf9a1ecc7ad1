"""Composition of the stages: `align(paths)` → `Alignment`. No printing; progress goes to a callback."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from ..audio import cache as cache_mod
from ..audio.extract import Progress, fingerprint_files
from ..config import DecodeConfig, FingerprintConfig, MatchConfig, RescueConfig, SolveConfig, VerifyConfig
from ..engine import hashtable as index_mod
from ..engine import match as match_mod
from ..engine.solve import group_sizes, inlier_degrees, overlap_span, select_for_refinement, solve
from ..engine.stream import stream_lines
from ..errors import CacheWarning
from ..types import Alignment, ClipResult, ClockHint, Fingerprint, PairMatch, StreamRules
from .contest import settle_contested
from .arrivals import (checked_at, first_arrivals, incoherent, lowered_moves, measure, torn, towered, towering,
                       unsure_timing)
from .elsewhere import second_places
from .rescue import repeat_rivals, rescue
from .summed import ask_groupmates, early_rivals, summed_only
from .stamps import (Clocks, clock_apart, clock_choices, clock_hints, clocks_of, group_hints, network_torn,
                     one_device_takes, timed_search, voted_origins)
from .sweep import SweepMemo, coherent, swept_lags, sweep_rescue
from .takes import clashing_pendants, one_clock, separate_clocks, separate_takes
from .tracks import assign
from .verify import PairVerdict, verify_pair

def _noop(stage: str, done: int, total: int) -> None:
    pass


class _Edges(list):
    """The run's trusted and untrusted edges, and why clips of pairs whose rival edges were set aside
    (`contest.settle_contested`) may end unplaced."""

    contested: dict[int, str]

    def __init__(self, edges: Sequence[PairMatch] = ()):
        super().__init__(edges)
        self.contested = {}


def _add(edges: list[PairMatch], found: Sequence[PairMatch], gfps: list[Fingerprint], vcfg: VerifyConfig) -> None:
    """*found* added to *edges*, and pairs that two stages now join at different places settled (an
    `_Edges` keeps why)."""
    edges += found
    if vcfg.contest_apart_s > 0:
        why = settle_contested(edges, gfps, vcfg, vcfg.contest_apart_s)
        if isinstance(edges, _Edges):
            edges.contested.update(why)


def _lines(fps: list[Fingerprint], fcfg: FingerprintConfig, mcfg: MatchConfig, screen: bool,
           progress: Progress = _noop, matcher: Callable | None = None) -> dict:
    """Every clip pair's fitted lines (best and alternatives) from one shared hash table, joined in bounded
    chunks (progress: "match", chunks done, chunks) here or by *matcher* (`runners.cluster.ClusterMatcher`)."""
    idx = index_mod.build([f.hashes for f in fps])
    n_frames = [f.hashes.n_frames for f in fps]
    seg_frames = max(1, int(round(mcfg.segment_s / fcfg.hop_s)))
    return (matcher or stream_lines)(idx, n_frames, mcfg, seg_frames, screen=screen,
                        progress=lambda done, total: progress("match", done, total),
                        pairs=lambda n: progress("pairs", n, 0))


def match_all(
    fps: list[Fingerprint], *, fcfg: FingerprintConfig, mcfg: MatchConfig, screen: bool = True
) -> list[PairMatch]:
    """Every clip pair's best line from one shared hash table (*screen*: only pairs that could give a
    usable edge; False keeps weak candidates for diagnostics)."""
    if len(fps) < 2:
        return []
    lines = _lines(fps, fcfg, mcfg, screen)
    return [match_mod.to_pair_match(a, b, ln, fcfg.hop_s, mcfg) for (a, b), ln in sorted(lines.items())]


def match_hypotheses(
    fps: list[Fingerprint], *, fcfg: FingerprintConfig, mcfg: MatchConfig, vcfg: VerifyConfig,
    progress: Progress = _noop, matcher: Callable | None = None,
) -> dict[tuple[int, int], list[PairMatch]]:
    """Per clip pair whose best line stands above chance: that line and the pair's other candidate lines
    (musical repeats), all of them hypotheses for `verify` to test. The best-vs-second ratio no longer
    decides anything here: which of several lines is right is the correlation's call, not the hashes'."""
    if len(fps) < 2:
        return {}
    out: dict[tuple[int, int], list[PairMatch]] = {}
    for (a, b), ln in sorted(_lines(fps, fcfg, mcfg, True, progress, matcher).items()):
        best = match_mod.to_pair_match(a, b, ln, fcfg.hop_s, mcfg)
        if best.support >= mcfg.min_support and best.z >= mcfg.min_z:
            out[(a, b)] = [best, *match_mod.alternatives(a, b, ln, fcfg.hop_s, min_share=vcfg.alt_support)]
    return out


def _overlap_s(offset_s: float, dur_a: float, dur_b: float, rate: float = 1.0) -> float:
    """Seconds (a's clock) two clips share when b starts *offset_s* after a (negative: none)."""
    lo, hi = overlap_span(offset_s, dur_a, dur_b, rate)
    return hi - lo


def _cover(e: PairMatch, durations: list[float]) -> float:
    """Share of the shorter clip of edge *e* that lies inside the pair's overlap."""
    overlap = _overlap_s(e.offset_s, durations[e.a], durations[e.b], e.rate)
    return max(0.0, overlap) / max(min(durations[e.a], durations[e.b]), 1e-9)


def _edge_confidence(e: PairMatch, durations: list[float], cfg: SolveConfig) -> float:
    """0..1: how sure the edge is not chance and not a musical repeat.

    Three confirming windows are rarely chance and each further one halves the doubt; but an overlap at
    the clips' ends (under half of the shorter clip) is where a repeated passage fits as well as the
    truth, since nothing outside it can contradict it, so such an edge says at most 0.5. An edge that most
    of its windows do not confirm (a repeat matched in part of the overlap looks like that, and so does a
    noisy true edge) says at most 0.75: on the hard bench's tune split, clips whose best edge confirmed
    under 80 % of its windows were right 9 times in 13, against 35 in 36 above. So does an edge timed only
    by windows summed along a line (`verify._stacked`): on the hard bench's fresh2 draw such sums settled on
    far phones' early reflections 21-45 ms from the direct sound, stated 0.1 ms at 0.99."""
    c = 1.0 - 0.5 ** max(e.windows - 2, 0)
    if (e.tried and e.windows < cfg.full_share * e.tried) or e.stacked:
        c = min(c, cfg.part_share_confidence)
    return float(min(c, cfg.partial_confidence) if _cover(e, durations) < cfg.partial_cover else c)


def align(
    paths: Sequence[str],
    *,
    decode: DecodeConfig = DecodeConfig(),
    fingerprint: FingerprintConfig = FingerprintConfig(),
    match: MatchConfig = MatchConfig(),
    verify: VerifyConfig = VerifyConfig(),
    solve_cfg: SolveConfig = SolveConfig(),
    rescue_cfg: RescueConfig = RescueConfig(),
    workers: int | None = None,
    cache: bool = True,
    cache_dir: str | None = None,
    stream_index: int | StreamRules | None = None,
    progress: Progress | None = None,
    fingerprinter: Callable | None = None,
    matcher: Callable | None = None,
    min_confidence: float = 0.0,
    max_error_ms: float | None = None,
) -> Alignment:
    """Place every recording in *paths* on a common timeline (see `syncfp.types` for the conventions).

    Files that cannot be used, and clips that match nothing, come back unplaced with a reason.
    *fingerprinter*: a drop-in for `fingerprint_files` (`runners.cluster.ClusterFingerprinter` decodes on Dask workers),
    *matcher* one for `engine.stream.stream_lines` (`runners.cluster.ClusterMatcher` joins pairs on them).
    *stream_index*: the audio stream of every file (0 = the first), per-file rules (`inputs.parse_stream_rules`),
    or None to choose each multi-stream file's stream by level. *min_confidence*: clips placed less surely are
    left out with the reason (and a group that keeps one clip goes with them): an editor who would rather
    sync a few clips by hand than find one a verse off asks for 0.8 (docs/benchmarks.md, calibration).
    *max_error_ms*: clips whose stated error is larger are left out likewise (1 for audio replacement; a
    clip stated over half a frame is placed by default, as most such clips are right to 1 ms).
    """
    progress = progress or _noop
    given = [str(p) for p in paths]
    # Work in path order and map back: the match signs, the reference-clip tie-break and the solve's edge
    # order then depend only on the set of inputs, so any order of the same files gives the same result.
    order = sorted(range(len(given)), key=lambda i: (given[i], i))
    paths = [given[i] for i in order]
    workers = workers or max(1, min(os.cpu_count() or 1, len(paths)))
    cdir = _usable_cache_dir(cache, cache_dir)
    with tempfile.TemporaryDirectory(prefix="syncfp-") as work:
        fps, errors = (fingerprinter or fingerprint_files)(
            paths, cfg=fingerprint, cache_dir=cdir, work_dir=work, workers=workers,
            stream_index=stream_index, progress=progress, decode=decode,
        )
        _warn_cache_fallback(cdir, fps)
        good = [i for i, f in enumerate(fps) if f is not None]
        gfps = [fps[i] for i in good]
        progress("match", 0, 1)
        hyps = match_hypotheses(gfps, fcfg=fingerprint, mcfg=match, vcfg=verify, progress=progress,
                                matcher=matcher)
        progress("match", 1, 1)
        may_pair = _may_pair(gfps)
        hyps = {k: h for k, h in hyps.items() if may_pair(*k)}
        durations = [f.duration_s for f in gfps]
        verdicts, repeats, found = _verified(hyps, gfps, durations, verify, rescue_cfg, workers, progress)
        edges = _Edges(found)
        anchors = _rescued(edges, gfps, durations, repeats, solve_cfg, rescue_cfg, verify, workers, progress)
        sol = solve(len(gfps), edges, durations, solve_cfg)
        # before any clock is read from where a clip sits: a clip at a loop's pass lends its device's other
        # takes a reading one pass off, and they agree with it wherever the loop recurs
        stood: set = set()  # pendant edges asked and kept: the second check does not ask them again
        sol, early = _pendant_repeats(sol, edges, gfps, durations, solve_cfg, rescue_cfg, verify, workers,
                                      stood) if rescue_cfg.pendant_first else (sol, {})
        clocks = clocks_of(gfps)  # every clip's stamp and device, read once for every clock stage
        memo = SweepMemo()  # the sweeps' lags and searched lines, for every sweep and check after them
        sol = _timed_rounds(sol, edges, gfps, durations, anchors, solve_cfg, rescue_cfg, verify, workers, progress,
                            clocks)
        sol, _ = _swept([j for j in range(len(gfps)) if sol.group[j] < 0], sol, edges, gfps, durations, solve_cfg,
                        rescue_cfg, verify, workers, clocks=clocks, memo=memo)
        sol, _ = _lag_voted(sol, edges, gfps, durations, solve_cfg, rescue_cfg, verify, workers, clocks, memo)
        before = sol.group.copy()
        sol, scattered = _settled(sol, edges, gfps, durations, verify, solve_cfg, workers)
        scattered.update(early)
        sol, hung = _pendant_repeats(sol, edges, gfps, durations, solve_cfg, rescue_cfg, verify, workers, stood)
        scattered.update(hung)
        # clips whose only edges the settling dropped (a repeat) were never swept: their true lag may be there
        sol, found = _swept([j for j in range(len(gfps)) if sol.group[j] < 0 <= before[j]], sol, edges, gfps,
                            durations, solve_cfg, rescue_cfg, verify, workers, clocks=clocks, memo=memo)
        if found:
            sol, more = _settled(sol, edges, gfps, durations, verify, solve_cfg, workers)
            scattered.update(more)
        sol, found = _joined(sol, edges, gfps, durations, solve_cfg, rescue_cfg, verify, workers, clocks, memo)
        if found:
            sol, more = _settled(sol, edges, gfps, durations, verify, solve_cfg, workers)
            scattered.update(more)
        sol, found = _clock_joined(sol, edges, gfps, durations, solve_cfg, rescue_cfg, verify, workers, clocks)
        if found:
            sol, more = _settled(sol, edges, gfps, durations, verify, solve_cfg, workers)
            scattered.update(more)
        sure = lambda e: _edge_confidence(e, durations, solve_cfg)  # noqa: E731
        sol = separate_takes(sol, edges, gfps, durations, solve_cfg, sure)
        sol, cut = (separate_clocks(sol, edges, gfps, durations, solve_cfg, sure, clocks, rescue_cfg.timed_contradicts_s)
                    if rescue_cfg.clock_clashes else (sol, set()))
        sol, clashed = _clock_checked(sol, edges, gfps, durations, solve_cfg, rescue_cfg, clocks, verify)
        clashed = {**{j: _CLOCK_REASON for j in cut}, **clashed}
        if clashed and rescue_cfg.timed_research:
            sol, found = _researched(sol, edges, clashed, gfps, durations, solve_cfg, rescue_cfg, verify, workers,
                                     clocks)
            if found:
                sol, more = _settled(sol, edges, gfps, durations, verify, solve_cfg, workers)
                scattered.update(more)
        if rescue_cfg.timed_final:
            explained = {**edges.contested, **scattered, **repeats, **clashed}
            explained.update({x: "verified" for v in verdicts if v.edge is not None for x in (v.a, v.b)})
            sol, found = _clock_final(sol, edges, explained, gfps, durations, solve_cfg, rescue_cfg, verify,
                                      workers, clocks)
            if found:
                sol, more = _settled(sol, edges, gfps, durations, verify, solve_cfg, workers)
                scattered.update(more)
        sol, tied = _pendant_ties(sol, edges, durations, solve_cfg, rescue_cfg)
        scattered.update(tied)
        sol, twice = _elsewhere(sol, edges, gfps, durations, solve_cfg, rescue_cfg, verify, workers, memo)
        if ask_groupmates(sol, edges, gfps, durations, rescue_cfg, verify, workers):
            sol = solve(len(gfps), edges, durations, solve_cfg)
        if rescue_cfg.clash_pendants and (gone := clashing_pendants(sol, gfps, durations, solve_cfg, clocks,
                                                                     rescue_cfg.timed_contradicts_s,
                                                                     rescue_cfg.timed_agree_s)):
            edges[:] = [e for e in edges if e.a not in gone and e.b not in gone]
            sol = solve(len(gfps), edges, durations, solve_cfg)
            scattered.update({j: _TAKES_REASON for j in gone})
        if solve_cfg.take_rate_tie > 0 and (ties := one_clock(sol, gfps, solve_cfg.take_rate_gate, solve_cfg.take_rate_sigmas)):
            sol = solve(len(gfps), edges, durations, solve_cfg, ties=ties)
        hints = clock_hints(sol, gfps, durations, rescue_cfg, clocks)
        ghints = group_hints(sol, gfps, durations, rescue_cfg, clocks)
        floors = _floors(torn(sol, verify),
                         early_rivals(sol, gfps, verify, workers),  # a summed-only clip's sum beside its direct sound
                         # two phones' network clocks that disagree: a clip sits at a repeat
                         network_torn(sol, clocks, rescue_cfg.timed_agree_s, rescue_cfg.timed_contradicts_s)
                         if rescue_cfg.network_clash else {})
    reasons = {**edges.contested, **scattered, **repeats, **clashed, **twice}
    return _in_input_order(_results(paths, fps, errors, good, verdicts, reasons, sol, solve_cfg, min_confidence,
                                    hints, rescue_cfg.timed_search_s, ghints, floors, max_error_ms),
                           order)


def _floors(*parts: dict[int, float]) -> dict[int, float]:
    """Per clip, the largest of the error floors (s) *parts* give it."""
    out: dict[int, float] = {}
    for part in parts:
        for j, f in part.items():
            out[j] = max(out.get(j, 0.0), f)
    return out


def _usable_cache_dir(cache: bool, cache_dir: str | None) -> str | None:
    """The fingerprint cache folder to use, or None (off, or not writable: one warning, then no cache)."""
    cdir = (cache_dir or cache_mod.default_dir()) if cache else None
    if cdir is not None and (reason := cache_mod.unusable_reason(cdir)) is not None:
        warnings.warn(f"fingerprint cache {cdir} cannot be written ({reason}); continuing without it",
                      CacheWarning, stacklevel=3)
        cdir = None
    return cdir


def _verified(hyps: dict[tuple[int, int], list[PairMatch]], gfps: list[Fingerprint], durations: list[float],
              verify: VerifyConfig, rescue_cfg: RescueConfig, workers: int, progress: Progress):
    """(verdicts, repeat-ambiguous clips with reasons, edges): the pairs worth refining verified, ties with
    a place where the longer clip repeats the matched stretch vetoed, and the edges of the rest."""
    pairs = select_for_refinement(len(gfps), [h[0] for h in hyps.values()], per_clip=3)
    verdicts = _verify_all([hyps[(e.a, e.b)] for e in pairs], gfps, verify, workers, progress)
    progress("repeats", 0, 1)
    verdicts = _veto_repeats(verdicts, gfps, rescue_cfg, verify, workers)
    progress("repeats", 1, 1)
    repeats = _repeat_ambiguous(verdicts, durations)
    if rescue_cfg.coherent_keeps:
        for j in _coherently_placed(verdicts, set(repeats), verify, rescue_cfg):
            repeats.pop(j, None)
    edges = [v.edge for v in verdicts if v.edge is not None and v.a not in repeats and v.b not in repeats]
    return verdicts, repeats, edges


def _rescued(edges: list[PairMatch], gfps: list[Fingerprint], durations: list[float], repeats: dict[int, str],
             solve_cfg: SolveConfig, rescue_cfg: RescueConfig, verify: VerifyConfig, workers: int,
             progress: Progress) -> list[int]:
    """Adds to *edges* the rescue's edges for clips the verified edges leave unplaced; returns the anchors
    (clips to search lost ones against): placed clips first, longest first, then the longest unplaced ones
    (a board recording no fingerprint match placed is still the best thing to search a far phone against)."""
    coarse = solve(len(gfps), edges, durations, solve_cfg)
    lost = [j for j in range(len(gfps)) if coarse.group[j] < 0 and j not in repeats]
    anchors = sorted((j for j in range(len(gfps)) if j not in repeats),
                     key=lambda j: (coarse.group[j] < 0, -gfps[j].duration_s, gfps[j].path))
    if lost and len(anchors) > 1:
        progress("rescue", 0, 1)
        _add(edges, rescue(lost, anchors, gfps, cfg=rescue_cfg, workers=workers, verify_cfg=verify,
                           may_pair=_may_pair(gfps)), gfps, verify)
        progress("rescue", 1, 1)
    return anchors


def _timed_rounds(sol, edges: list[PairMatch], gfps: list[Fingerprint], durations: list[float], anchors: list[int],
                  solve_cfg: SolveConfig, rcfg: RescueConfig, vcfg: VerifyConfig, workers: int, progress: Progress,
                  clocks: Clocks):
    """Recording clocks (file names, tags; `sync.stamps`): weak edges that put a clip where its clock says
    it cannot be are dropped; unplaced clips vote for what the *anchors*' clocks read (`voted_origins`);
    then clips still unplaced (repeat-ambiguous ones too: a clock seconds off cannot confuse a repeat a
    verse away) and clips of smaller groups are searched near where their clock puts them; a clip placed
    this way can be the partner of another in the next round."""
    sol, _ = _clock_checked(sol, edges, gfps, durations, solve_cfg, rcfg, clocks, vcfg)
    unplaced = [j for j in range(len(gfps)) if sol.group[j] < 0]
    voted = voted_origins(unplaced, anchors, gfps, rcfg, workers, clocks) if unplaced else {}
    sol, _ = _timed_loop(sol, edges, gfps, durations, solve_cfg, rcfg, vcfg, workers, clocks, voted, progress)
    progress("clocks", rcfg.timed_rounds, rcfg.timed_rounds)
    return sol


def _timed_loop(sol, edges: list[PairMatch], gfps: list[Fingerprint], durations: list[float], solve_cfg: SolveConfig,
                rcfg: RescueConfig, vcfg: VerifyConfig, workers: int, clocks: Clocks,
                voted: dict[tuple[int, str], float], progress: Progress = _noop, voted_sure: bool = False):
    """(solution, whether anything was found): up to `timed_rounds` rounds of `timed_search` for the clips
    unplaced or in a smaller group, the edges found added to *edges* and the solve run again after each."""
    failed: set[tuple[int, int, float]] = set()  # searches that found nothing are not repeated next round
    any_found = False
    for r in range(rcfg.timed_rounds):
        sizes = group_sizes(sol)
        top = max(sizes.values(), default=0)
        movable = [j for j in range(len(gfps)) if sol.group[j] < 0 or sizes[int(sol.group[j])] < top]
        if not movable:
            break
        progress("clocks", r, rcfg.timed_rounds)
        found = timed_search(movable, gfps, sol, durations, cfg=rcfg, verify_cfg=vcfg, workers=workers,
                             voted=voted, clocks=clocks, may_pair=_may_pair(gfps), failed=failed,
                             voted_sure=voted_sure)
        if not found:
            break
        _add(edges, found, gfps, vcfg)
        sol, any_found = solve(len(gfps), edges, durations, solve_cfg), True
    return sol, any_found


def _lag_voted(sol, edges: list[PairMatch], gfps: list[Fingerprint], durations: list[float], solve_cfg: SolveConfig,
               rcfg: RescueConfig, vcfg: VerifyConfig, workers: int, clocks: Clocks, memo: SweepMemo):
    """(solution, whether anything was found): clips still unplaced vote with their low-band sweep lags
    (`sweep.swept_lags`; short clips read whole) for the clock readings of the `anchors` longest clips
    (`voted_origins`), then are searched near where those readings put them (`_timed_loop`). In loop music
    a 5-s phone clip's best lag is as often a repeat as the truth and no window check can tell them apart,
    but the takes of phones that keep network time agree on one reading only at the truth."""
    lost = [j for j in range(len(gfps)) if sol.group[j] < 0]
    if rcfg.lag_vote_candidates <= 0 or len(lost) < rcfg.vote_min_clips:
        return sol, False
    longest = [j for j in sorted(range(len(gfps)), key=lambda j: (-durations[j], gfps[j].path))[: rcfg.anchors]
               if durations[j] >= rcfg.lag_vote_anchor_s]  # in a short anchor's few lags, chance agrees too
    may = _may_pair(gfps)
    lags = lambda clips, anchors: swept_lags(clips, anchors, rcfg.lag_vote_candidates, gfps,  # noqa: E731
                                            cfg=rcfg, memo=memo, workers=workers, may_pair=may)
    voted = voted_origins(lost, longest, gfps, rcfg, workers, clocks, lags=lags,
                          z_floor=rcfg.lag_vote_z_floor) if longest else {}
    if not voted:
        return sol, False
    return _timed_loop(sol, edges, gfps, durations, solve_cfg, rcfg, vcfg, workers, clocks, voted,
                       voted_sure=rcfg.lag_vote_sure)


def _swept(lost: list[int], sol, edges: list[PairMatch], gfps: list[Fingerprint], durations: list[float],
           solve_cfg: SolveConfig, rcfg: RescueConfig, vcfg: VerifyConfig, workers: int,
           may_pair: Callable[[int, int], bool] | None = None, clocks: Clocks | None = None,
           memo: SweepMemo | None = None):
    """(solution, whether anything was found): the low-band sweep (`sync.sweep`) for the clips in *lost*
    against partners *may_pair* allows (default `_may_pair`) and, given *clocks*, that the recording clocks
    do not put hours away (`stamps.clock_apart`: another concert's anchors), its edges added to *edges* and
    the solve run again when it found any. Clips it placed are swept against by the clips still lost, for up
    to `sweep_rounds` rounds in all: a far phone's only good partner may be another far phone found just now."""
    any_found, anchors, base = False, None, may_pair or _may_pair(gfps)
    for _ in range(max(1, rcfg.sweep_rounds)):
        apart = clock_apart(sol, gfps, durations, rcfg, clocks) if (
            lost and clocks is not None and rcfg.sweep_clock_apart) else None
        pair = base if apart is None else (lambda a, q: base(a, q) and not apart(a, q))  # noqa: E731
        found = sweep_rescue(lost, gfps, sol, cfg=rcfg, verify_cfg=vcfg, workers=workers, may_pair=pair,
                             anchors=anchors, memo=memo) if lost else []
        if not found:
            break
        _add(edges, found, gfps, vcfg)
        before = sol.group
        sol, any_found = solve(len(gfps), edges, durations, solve_cfg), True
        anchors = [j for j in range(len(gfps)) if sol.group[j] >= 0 > before[j]]
        lost = [j for j in lost if sol.group[j] < 0]
        if not anchors:
            break
    return sol, any_found


def _joined(sol, edges: list[PairMatch], gfps: list[Fingerprint], durations: list[float], solve_cfg: SolveConfig,
            rcfg: RescueConfig, vcfg: VerifyConfig, workers: int, clocks: Clocks | None = None,
            memo: SweepMemo | None = None):
    """`_swept` for the `sweep_envoys` longest clips of every group but the largest, against clips of other
    groups only: two groups of one concert that no fingerprint line joined. Then, with `sweep_join_query_s`,
    the groups' earliest-starting clips by their first seconds and latest-ending ones by their last: groups
    meet at their edges, and a clip that overlaps the other group by 20 s at its start has a middle that
    does not (a 2-minute middle buries those 20 s)."""
    found, pair, whole = False, _may_pair(gfps), set()
    for at in ("middle", "head", "tail"):
        if at != "middle" and rcfg.sweep_join_query_s <= 0:
            break
        sizes = group_sizes(sol)
        if len(sizes) < 2 or rcfg.sweep_envoys <= 0:
            break
        top = max(sizes, key=lambda g: (sizes[g], -g))
        key = {"middle": lambda j: -durations[j], "head": lambda j: sol.position_s[j],
               "tail": lambda j: -(sol.position_s[j] + sol.k[j] * durations[j])}[at]
        envoys = [j for g in sizes if g != top for j in sorted(
            (j for j in range(len(gfps)) if sol.group[j] == g), key=key)[: rcfg.sweep_envoys]]
        cfg = replace(rcfg, sweep_lost_anchors=0) if at == "middle" else replace(
            rcfg, sweep_lost_anchors=0, sweep_query_at=at, max_query_s=rcfg.sweep_join_query_s,
            sweep_pooled=rcfg.sweep_join_pooled)
        envoys = [j for j in envoys if j not in whole]  # its whole audio was read already: the same query
        whole.update(j for j in envoys if durations[j] <= cfg.max_query_s)
        apart = lambda a, q: sol.group[a] != sol.group[q] and pair(a, q)  # noqa: E731
        sol, more = _swept(envoys, sol, edges, gfps, durations, solve_cfg, cfg, vcfg, workers, may_pair=apart,
                           clocks=clocks, memo=memo)
        found = found or more
    return sol, found


_TAKES_REASON = ("its one match puts it over another take of its own device, or where that take's clock says it "
                 "cannot be; left out rather than placed at what may be a repeated passage")
_CLOCK_REASON = ("its only matches put it where its recording clock (file name or tags) says it cannot be; left out "
                 "rather than placed at what may be a repeated passage")


def _clock_checked(sol, edges: list[PairMatch], gfps: list[Fingerprint], durations: list[float],
                   solve_cfg: SolveConfig, rcfg: RescueConfig, clocks=None, vcfg: VerifyConfig = VerifyConfig()):
    """(solution, reasons): weak edges that put a clip where its recording clock says it cannot be
    (`stamps.clock_choices`) dropped from *edges*, edges tying with a repeat moved to the rival the clocks
    accept, and the solve run again; again while edges move (a moved edge can give its device a clock
    reading that judges the next). Run before the clock rounds and once more on the final groups, since
    edges found later (clock searches near a group that was then split, sweeps) were never held to it."""
    reason = _CLOCK_REASON
    why: dict[int, str] = {}
    for _ in range(rcfg.clock_check_rounds):
        weak = [_edge_confidence(e, durations, solve_cfg) < solve_cfg.core_confidence for e in edges]
        drop, swap = clock_choices(sol, edges, weak, gfps, rcfg, clocks)
        for i, off in swap.items():
            got = _at_rival(edges[i], off, gfps, vcfg)
            if got is None:
                drop.append(i)
            else:
                edges[i] = got
        if not drop and not swap:
            break
        gone = set(drop)
        why.update({j: reason for i in gone for j in (edges[i].a, edges[i].b)})
        edges[:] = [e for i, e in enumerate(edges) if i not in gone]
        sol = solve(len(gfps), edges, durations, solve_cfg)
        if not swap:
            break
    return sol, why


def _at_rival(e: PairMatch, offset_s: float, gfps: list[Fingerprint], vcfg: VerifyConfig) -> PairMatch | None:
    """Edge *e* moved to its rival *offset_s* as the normal check confirms and refines it there, windows
    standing alone (its other places, the old line among them, kept as rivals), or None when it does not."""
    moved, got = checked_at(replace(e, refined=False, error_s=None, windows=0, tried=0),
                            (e.offset_s - offset_s) * e.rate, gfps[e.a], gfps[e.b], vcfg)
    if got is None or got.stacked or abs(got.offset_s - moved.offset_s) > 1e-3:
        return None
    rest = tuple(sorted({r for r in e.rivals if r != offset_s} | {e.offset_s}))
    return replace(got, ratio=e.ratio, rivals=rest)


def _clock_joined(sol, edges: list[PairMatch], gfps: list[Fingerprint], durations: list[float],
                  solve_cfg: SolveConfig, rcfg: RescueConfig, vcfg: VerifyConfig, workers: int, clocks: Clocks):
    """(solution, whether anything was found): once the sweeps have made their groups, the clips of every
    group but the largest searched near where the clocks put them on a larger one (`stamps.timed_search`):
    two parts of a set that met only where a camera with no clock in the other part overlaps a phone. With
    `timed_late`, the clips still unplaced too: the sweeps' clips gave their devices readings the clock
    rounds did not have."""
    sizes = group_sizes(sol)
    if not sizes:
        return sol, False
    top = max(sizes, key=lambda g: (sizes[g], -g))
    movable = [j for j in range(len(gfps)) if sol.group[j] != top and (
        (sol.group[j] >= 0 and rcfg.timed_group_shift) or (sol.group[j] < 0 and rcfg.timed_late))]
    sol, found = _searched_near_clocks(movable, sol, edges, gfps, durations, solve_cfg, rcfg, vcfg, workers, clocks)
    return sol, bool(found)


def _searched_near_clocks(clips: list[int], sol, edges: list[PairMatch], gfps: list[Fingerprint],
                          durations: list[float], solve_cfg: SolveConfig, rcfg: RescueConfig, vcfg: VerifyConfig,
                          workers: int, clocks: Clocks):
    """(solution, the edges found): *clips* searched once near where their clocks put them
    (`stamps.timed_search`), the edges added to *edges* and the solve run again when any was found."""
    found = timed_search(clips, gfps, sol, durations, cfg=rcfg, verify_cfg=vcfg, workers=workers, clocks=clocks,
                         may_pair=_may_pair(gfps)) if clips else []
    if not found:
        return sol, []
    _add(edges, found, gfps, vcfg)
    return solve(len(gfps), edges, durations, solve_cfg), found


def _researched(sol, edges: list[PairMatch], clashed: dict[int, str], gfps: list[Fingerprint],
                durations: list[float], solve_cfg: SolveConfig, rcfg: RescueConfig, vcfg: VerifyConfig,
                workers: int, clocks: Clocks):
    """(solution, whether anything was found): clips the final clock check left unplaced searched once more
    near where their clock now puts them (`stamps.timed_search`). A take held at a repeat gave its device a
    wrong clock reading while the clock rounds ran; once dropped, its device's other takes read it right."""
    lost = [j for j in sorted(clashed) if sol.group[j] < 0]
    sol, found = _searched_near_clocks(lost, sol, edges, gfps, durations, solve_cfg, rcfg, vcfg, workers, clocks)
    for e in found:
        clashed.pop(e.a, None)
        clashed.pop(e.b, None)
    return sol, bool(found)


def _clock_final(sol, edges: list[PairMatch], explained: dict[int, str], gfps: list[Fingerprint],
                 durations: list[float], solve_cfg: SolveConfig, rcfg: RescueConfig, vcfg: VerifyConfig,
                 workers: int, clocks: Clocks):
    """(solution, whether anything was found): clips still unplaced for no stated reason searched once more
    near where their clocks put them, on the groups the final clock check left (`stamps.timed_search`). The
    late search (`_clock_joined`) ran while one concert could still be two groups, or a group hold a take at a
    repeat, so a device's reading put the clip beside no clip at all. Clips in *explained* (left out with a
    reason, or holding a confirmed match the solve did not keep) stay out: fresh28's iPhone whose matches were
    inconsistent was placed 31 ms off by this search, on a reflection."""
    lost = [j for j in range(len(gfps)) if sol.group[j] < 0 and j not in explained]
    sol, found = _searched_near_clocks(lost, sol, edges, gfps, durations, solve_cfg, rcfg, vcfg, workers, clocks)
    return sol, bool(found)


def _settled(sol, edges: list[PairMatch], gfps: list[Fingerprint], durations: list[float], vcfg: VerifyConfig,
             solve_cfg: SolveConfig, workers: int):
    """Every edge's windows read once more at its own line (`sync.arrivals`): edges whose windows scatter
    like a repeat played again are dropped, edges on a far phone's early reflection move to the direct
    sound, and an edge with a rival nearly as high that neither settles states an error reaching it; the
    solve runs again when anything changed. Returns (solution, the reason for the clips of
    dropped edges, should they end up unplaced)."""
    arrs = measure(edges, gfps, vcfg, workers)
    drop = set(incoherent(edges, arrs, vcfg))
    kept = [None if i in drop else a for i, a in enumerate(arrs)]
    moves: dict[int, tuple[float, float]] = {}
    moved = first_arrivals(edges, gfps, vcfg, workers, arrs=kept, moves=moves)
    lowered = lowered_moves(moves, edges, vcfg)
    tower = towering(edges, gfps, vcfg, workers, skip=drop | set(moved))
    for i, lag in tower.items():
        edges[i] = towered(edges[i], lag, gfps[edges[i].a], gfps[edges[i].b], vcfg)
    moved = sorted(set(moved) | set(tower))
    unsure = unsure_timing(edges, [None if i in moved else a for i, a in enumerate(kept)], vcfg)
    unsure.update(lowered)
    for i, lags in unsure.items():  # the line stays, its error spans the rivals it could not rule out
        edges[i] = replace(edges[i], error_s=max(edges[i].error_s, *map(abs, lags)), unsure_at=lags)
    why = {}
    for i in sorted(drop):
        e = edges[i]
        ms = (e.pooled_scatter_s if e.stacked or arrs[i] is None else arrs[i].scatter) * 1e3
        for j in (edges[i].a, edges[i].b):
            why[j] = (f"its match lines up like a repeated passage played again (windows scatter by {ms:.2f} ms, "
                      "one moment heard twice agrees to ~0.01 ms); left out rather than placed at a repeat")
    if drop:
        edges[:] = [e for i, e in enumerate(edges) if i not in drop]
        arrs = [a for i, a in enumerate(arrs) if i not in drop]
    if drop or moved or unsure:
        sol = solve(len(gfps), edges, durations, solve_cfg)
    if vcfg.lone_pairs_coherent:
        lone = _lone_pairs(sol, edges, [None if i in moved else a for i, a in enumerate(arrs)], vcfg)
        for i in lone:
            for j in (edges[i].a, edges[i].b):
                why[j] = ("joined to one other clip only, by a match whose windows do not line up as one moment "
                          "heard twice (summed, or scattering like a repeat played again); left out rather than "
                          "placed at what may be a repeated passage")
        if lone:
            edges[:] = [e for i, e in enumerate(edges) if i not in lone]
            sol = solve(len(gfps), edges, durations, solve_cfg)
    return sol, why


def _elsewhere(sol, edges: list[PairMatch], gfps: list[Fingerprint], durations: list[float], solve_cfg: SolveConfig,
               rcfg: RescueConfig, vcfg: VerifyConfig, workers: int, memo: SweepMemo | None = None):
    """(solution, reasons): clips joined through one partner whose audio the windows confirm at a second
    place of their group too (`elsewhere.second_places`) lose their edges, and the solve runs again."""
    why = second_places(sol, gfps, cfg=rcfg, vcfg=vcfg, workers=workers, may_pair=_may_pair(gfps), memo=memo)
    if not why:
        return sol, why
    edges[:] = [e for e in edges if e.a not in why and e.b not in why]
    return solve(len(gfps), edges, durations, solve_cfg), why


def _pendant_repeats(sol, edges: list[PairMatch], gfps: list[Fingerprint], durations: list[float],
                     solve_cfg: SolveConfig, rcfg: RescueConfig, vcfg: VerifyConfig, workers: int,
                     stood: set | None = None):
    """(solution, reasons): summed edges that alone hold a clip in its group are asked, as swept lines are,
    whether the windows confirm the clip where the longer clip repeats the matched stretch (`rescue.
    repeat_rivals`, strict); those that tie are dropped and the solve runs again. A summed line is no surer
    of a loop's pass than of its place, and no other edge of the clip can say which (fresh25's loop5: a 5-s
    recorder clip 160 s off at a pass, stated 5 ms). So is an edge of `pendant_windows` windows or fewer: three of
    five standing alone held fresh28's 7-s iPhone clip a loop's pass (99 s) off, stated 0.2 ms. *stood*: edges
    (pair, line, windows) an earlier call asked and kept; they are not asked again, and those kept now join it."""
    if not rcfg.pendant_repeats:
        return sol, {}
    degree = inlier_degrees(sol)
    held = {(e.a, e.b) for e in sol.inliers if (e.stacked or e.windows <= rcfg.pendant_windows)
            and (degree[e.a] == 1 or degree[e.b] == 1)}
    key = lambda e: (e.a, e.b, e.offset_s, e.windows)  # noqa: E731  (an edge the settling moved is asked anew)
    stood = set() if stood is None else stood
    known = _known_ties(sol, edges, rcfg, degree)
    idx = [i for i, e in enumerate(edges) if (e.a, e.b) in held and key(e) not in stood and i not in known]
    if not idx and not known:
        return sol, {}
    rivals = repeat_rivals([edges[i] for i in idx], gfps, cfg=rcfg, verify_cfg=vcfg, workers=workers,
                           strict=True) if idx else []
    idx, rivals = idx + list(known), list(rivals) + list(known.values())
    return _drop_ties(sol, edges, idx, rivals, degree, durations, solve_cfg, stood, key)


def _known_ties(sol, edges: list[PairMatch], rcfg: RescueConfig, degree=None) -> dict[int, tuple[float, ...]]:
    """Edges that alone hold a clip in its group and already know a tie nearer than any clock can tell apart
    (`PairMatch.rivals` within `timed_contradicts_s` of the line, kept for the clocks to choose between):
    index → those offsets. However many windows chose the line, the clip is unsure (fresh34's loop5: a 6.5-s
    phone clip on 10 windows at a loop's half-pass, 1.455 s off, its ties 2.91 and 5.82 s away, stated
    0.33 ms at 0.996)."""
    if not rcfg.pendant_rivals:
        return {}
    degree = inlier_degrees(sol) if degree is None else degree
    ends = {(e.a, e.b) for e in sol.inliers if degree[e.a] == 1 or degree[e.b] == 1}
    near = lambda e: tuple(r for r in e.rivals if abs(r - e.offset_s) <= rcfg.timed_contradicts_s)  # noqa: E731
    return {i: near(e) for i, e in enumerate(edges) if (e.a, e.b) in ends and near(e)}


def _pendant_ties(sol, edges: list[PairMatch], durations: list[float], solve_cfg: SolveConfig, rcfg: RescueConfig):
    """(solution, reasons): `_known_ties` dropped, once every stage that adds edges has run (a clock search
    late in the run finds the same line again, ties and all)."""
    known = _known_ties(sol, edges, rcfg)
    if not known:
        return sol, {}
    return _drop_ties(sol, edges, list(known), list(known.values()), inlier_degrees(sol), durations, solve_cfg,
                      set(), lambda e: e)


def _drop_ties(sol, edges: list[PairMatch], idx: list[int], rivals: list, degree, durations: list[float],
               solve_cfg: SolveConfig, stood: set, key):
    """Edges *idx* with ties (*rivals*, per edge) dropped, the others recorded in *stood*; the solve runs again."""
    drop: set[int] = set()
    why: dict[int, str] = {}
    for i, offs in zip(idx, rivals):
        if not offs:
            stood.add(key(edges[i]))
            continue
        drop.add(i)
        for j in (edges[i].a, edges[i].b):
            if degree[j] == 1:
                why[j] = ("its only match fits equally well where the other clip repeats the passage "
                          f"(offsets {', '.join(f'{o:+.2f}' for o in offs)} s); left out rather than placed at a repeat")
    if drop:
        edges[:] = [e for i, e in enumerate(edges) if i not in drop]
        sol = solve(len(sol.group), edges, durations, solve_cfg)
    return sol, why


def _lone_pairs(sol, edges: list[PairMatch], arrs: list, vcfg: VerifyConfig) -> set[int]:
    """Edges that alone make a group of two clips although no edge between them is coherent (windows
    standing alone, read at the edge's own line, scattering within `coherent_s`): with no third clip to
    close a cycle, nothing else tells such a line from a repeat of the music (on the hard bench's four
    draws every wrong two-clip group was of this kind, every right one but two coherent)."""
    sizes = group_sizes(sol)
    by_group: dict[int, list[int]] = {}
    for i, e in enumerate(edges):
        g = int(sol.group[e.a])
        if g >= 0 and g == int(sol.group[e.b]) and sizes.get(g) == 2:
            by_group.setdefault(g, []).append(i)
    out: set[int] = set()
    for idx in by_group.values():
        if not any(not edges[i].stacked and _scatter_of(edges[i], arrs[i]) <= vcfg.coherent_s for i in idx):
            out.update(idx)
    return out


def _scatter_of(e: PairMatch, arr) -> float:
    """A standing edge's scatter about its line: as `arrivals` read it on its own grid, or, where that grid kept
    too few windows to say (NaN), as the check that confirmed the edge read them (fresh39's short15: a camera and a
    memo right to 0.01 ms over 68 s, nine windows standing alone, re-read with fewer than four and dropped as a
    lone pair, and every short clip of the scenario with them)."""
    if arr is None:  # not measured (an edge moved off the line its check read): not known coherent
        return float("inf")
    s = arr.scatter if np.isfinite(arr.scatter) or e.scatter_s is None else e.scatter_s
    return s if np.isfinite(s) else float("inf")


def _may_pair(gfps: list[Fingerprint]) -> Callable[[int, int], bool]:
    """Whether two clips may be joined at all: not two takes of one device (`stamps.one_device_takes`),
    which cannot overlap. Hypotheses, the rescue and the clock search all ask it before verifying."""
    return lambda a, b: not one_device_takes(gfps[a], gfps[b])


def _warn_cache_fallback(cdir: str | None, fps: list[Fingerprint | None]) -> None:
    """One warning when the cache filled up or turned read-only midway (see `cache.fallback_note`)."""
    note = None if cdir is None else cache_mod.fallback_note(cdir, [f.pcm_path for f in fps if f is not None])
    if note:
        warnings.warn(note, CacheWarning, stacklevel=3)


def _verify_all(pairs: list[list[PairMatch]], gfps: list[Fingerprint], cfg: VerifyConfig, workers: int,
                progress: Progress) -> list[PairVerdict]:
    """`verify_pair` for every pair's hypotheses, on *workers* threads: its FFTs and file reads release the
    GIL, and threads share the fingerprints without copying them to other processes."""
    progress("refine", 0, len(pairs))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(verify_pair, h, gfps[h[0].a], gfps[h[0].b], cfg) for h in pairs]
        for j, fut in enumerate(futures):
            fut.result()
            progress("refine", j + 1, len(pairs))
    return [f.result() for f in futures]


def _veto_repeats(verdicts: list[PairVerdict], gfps: list[Fingerprint], rcfg: RescueConfig, vcfg: VerifyConfig,
                  workers: int) -> list[PairVerdict]:
    """Verdicts whose edge ties with a place where the longer clip repeats the matched stretch (a loop, a
    chorus) become ambiguous: the hashes often propose only one of the repeat's places."""
    idx = [k for k, v in enumerate(verdicts) if v.edge is not None]
    rivals = repeat_rivals([verdicts[k].edge for k in idx], gfps, cfg=rcfg, verify_cfg=vcfg, workers=workers)
    out = list(verdicts)
    for k, offs in zip(idx, rivals):
        if offs:
            out[k] = replace(verdicts[k], edge=None, ambiguous=offs)
    return out


def _coherently_placed(verdicts: list[PairVerdict], among: set[int], vcfg: VerifyConfig,
                       rcfg: RescueConfig) -> set[int]:
    """Clips of *among* (repeat-ambiguous) with an edge whose windows, standing alone, agree as one moment
    heard twice over a long stretch (`sweep.coherent`): a repeat played again cannot do that, so such a clip
    is placed by its edges even where its audio fits another clip at several offsets (that pair alone stays
    out). The scatter is the one verification measured, at the hypothesis's rate: a true line read at a
    fingerprint rate hundreds of ppm off smears and does not pass, which errs on the side of leaving out.
    Keeping only the coherent edges of such a clip, or reading them again at their refined rate, placed
    fewer clips on the hard bench (docs/benchmarks.md, ninth session)."""
    out: set[int] = set()
    for v in verdicts:
        if v.edge is None or not ({v.a, v.b} & among):
            continue
        ev = next((ev for ev in v.evidence if ev.ok and abs(ev.edge.offset_s - v.edge.offset_s) < 1e-9), None)
        if coherent(ev, vcfg, rcfg):
            out.update({v.a, v.b} & among)
    return out


def _repeat_ambiguous(verdicts: list[PairVerdict], durations: list[float]) -> dict[int, str]:
    """Clips whose audio fits another clip at several offsets equally well, with the reason.

    The clip that lies (mostly) inside the pair's overlap is the one whose audio repeats (a short phone
    clip of a chorus inside a long recording); it cannot be placed by its sound, and any other edge of it
    may join it to a repeat that no clip happened to show twice, so it is left out altogether.
    """
    out: dict[int, str] = {}
    for v in verdicts:
        if not v.ambiguous:
            continue
        off = v.ambiguous[0]  # position(b) - position(a) under one of the equal hypotheses
        overlap = _overlap_s(off, durations[v.a], durations[v.b])
        inside = [j for j in (v.a, v.b) if overlap >= 0.8 * durations[j]] or [v.a, v.b]
        shifts = ", ".join(f"{o - off:+.2f}" for o in v.ambiguous[1:])
        for j in inside:
            out.setdefault(j, f"ambiguous: its audio fits another clip equally well at offsets {shifts} s "
                              "apart (repeating music or a loop)")
    return out


def _in_input_order(al: Alignment, order: list[int]) -> Alignment:
    """*al* computed over inputs permuted by *order* (position r held input order[r]) → input order."""
    clips: list[ClipResult | None] = [None] * len(order)
    for r, c in enumerate(al.clips):
        clips[order[r]] = c
    edges = []
    for e in al.edges:
        a, b = order[e.a], order[e.b]
        if a < b:
            edges.append(replace(e, a=a, b=b))
        else:  # keep a < b: the same edge seen from the other clip (offset in its clock, inverse rate)
            edges.append(replace(e, a=b, b=a, offset_s=-e.offset_s * e.rate, rate=1.0 / e.rate,
                                 rate_error=e.rate_error / e.rate**2))
    return replace(al, clips=clips, edges=sorted(edges, key=lambda e: (e.a, e.b)))


def _drift(sol, j: int, cfg: SolveConfig) -> float | None:
    """Clock rate against the group's reference in ppm, or None when the overlaps were too short to tell."""
    if not np.isfinite(sol.k_std[j]) or sol.k_std[j] > cfg.max_drift_std:
        return None
    return float((1.0 / sol.k[j] - 1.0) * 1e6)


def _clip_confidence(n: int, sol, durations: list[float], cfg: SolveConfig) -> np.ndarray:
    """0..1 per clip: its surest edge, but no surer than the weakest link on its best path to its group's
    core (the largest set of clips joined by edges of at least `core_confidence`).

    Two clips tied to each other by many windows are sure of each other, not of where their pair sits in
    the group when one partial edge is all that joins them to it (a repeat fits such an edge as well)."""
    edges = [(e.a, e.b, _edge_confidence(e, durations, cfg)) for e in sol.inliers]
    own = np.zeros(n)
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, c in edges:
        own[a], own[b] = max(own[a], c), max(own[b], c)
        if c >= cfg.core_confidence:
            parent[root(a)] = root(b)
    cores: dict[tuple[int, int], list[int]] = {}
    for j in range(n):
        if sol.group[j] >= 0:
            cores.setdefault((int(sol.group[j]), root(j)), []).append(j)
    main: dict[int, list[int]] = {}
    for (g, _), members in cores.items():  # the biggest core of each group, longest audio on a tie
        if g not in main or (len(members), sum(durations[j] for j in members)) > (
                len(main[g]), sum(durations[j] for j in main[g])):
            main[g] = members
    path = np.zeros(n)
    for members in main.values():
        path[members] = own[members]
    for _ in range(n):  # widest path from the core: relax until nothing improves
        changed = False
        for a, b, c in edges:
            for u, v in ((a, b), (b, a)):
                w = min(path[u], c)
                if w > path[v]:
                    path[v], changed = w, True
        if not changed:
            break
    return np.minimum(own, path)


def _unsure(group: np.ndarray, conf: np.ndarray, min_confidence: float, std_s: np.ndarray | None = None,
            max_error_ms: float | None = None) -> dict[int, str]:
    """Clips to leave out below *min_confidence* or stated less precisely than *max_error_ms* (*std_s*: the
    errors stated, in s), with the reason; *group* is updated (-1 for them)."""
    out: dict[int, str] = {}
    for j in np.flatnonzero((group >= 0) & (conf < min_confidence)):
        out[int(j)] = (f"unsure: placed at confidence {conf[j]:.2f}, under the {min_confidence:g} asked for "
                       "(a partial or two-clip match that a repeat could also explain)")
        group[j] = -1
    if max_error_ms is not None and std_s is not None:
        ms = np.where(np.isfinite(std_s), std_s * 1000.0, np.inf)
        for j in np.flatnonzero((group >= 0) & (ms > max_error_ms)):
            stated = f"only to ±{ms[j]:.1f} ms" if np.isfinite(ms[j]) else "with no error measured"
            out[int(j)] = (f"unsure: its offset is confirmed {stated}, over the {max_error_ms:g} ms asked for "
                           "(a reflection or a rival reading it could not rule out)")
            group[j] = -1
    left = Counter(int(g) for g in group if g >= 0)
    for j in np.flatnonzero(group >= 0):
        if left[int(group[j])] < 2:
            out[int(j)] = ("unsure: the other clips of its group were left out as unsure "
                           "(--min-confidence, --max-error)")
            group[j] = -1
    return out


def _stated_std(sol, j: int, summed: set[int], floors: dict[int, float] | None, cfg: SolveConfig) -> float:
    """The error stated for placed clip *j* (s): the solve's, at least `stacked_error_s` where only summed
    windows time it, and at least the gap to an unsure edge's readings it is held off (`arrivals.torn`)."""
    std = float(sol.position_std_s[j])
    if j in summed:
        std = max(std, cfg.stacked_error_s)
    return max(std, (floors or {}).get(j, 0.0))


def _results(paths, fps, errors, good, verdicts: list[PairVerdict], repeats: dict[int, str], sol,
             cfg: SolveConfig, min_confidence: float = 0.0, hints: dict[int, tuple[int, float]] | None = None,
             hint_within_s: float = 0.0, ghints: dict[int, tuple[int, float]] | None = None,
             floors: dict[int, float] | None = None, max_error_ms: float | None = None) -> Alignment:
    n = len(good)
    durations = [fps[i].duration_s for i in good]
    conf = _clip_confidence(n, sol, durations, cfg)
    # a group of two has no cycle to confirm its one edge; on the hard bench none of 12 such clips was
    # right (a repeat, a split, another concert), against 55 % in larger groups
    sizes = group_sizes(sol)
    for j in range(n):
        if sol.group[j] >= 0 and sizes[int(sol.group[j])] == 2:
            conf[j] = min(conf[j], cfg.pair_group_confidence)
    group = np.array(sol.group, copy=True)
    summed = summed_only(sol)
    std_s = np.array([_stated_std(sol, j, summed, floors, cfg) for j in range(n)], dtype=float)
    asked = min_confidence > 0 or max_error_ms is not None
    unsure = _unsure(group, conf, min_confidence, std_s, max_error_ms) if asked else {}
    # stable group ids from 1: ordered by the smallest path in each group
    gmembers: dict[int, list[str]] = {}
    for j in range(n):
        if group[j] >= 0:
            gmembers.setdefault(int(group[j]), []).append(paths[good[j]])
    gorder = {g: r + 1 for r, g in enumerate(sorted(gmembers, key=lambda g: min(gmembers[g])))}
    placed = [
        (j, paths[good[j]], fps[good[j]].info.device, gorder[int(group[j])], float(sol.position_s[j]),
         float(sol.position_s[j] + fps[good[j]].duration_s * sol.k[j]))
        for j in range(n) if group[j] >= 0
    ]
    track = assign(placed)
    verified = {x for v in verdicts if v.edge is not None for x in (v.a, v.b)}
    tested = {x for v in verdicts for x in (v.a, v.b)}
    in_ambiguous = {x for v in verdicts if v.ambiguous for x in (v.a, v.b)}
    clips: list[ClipResult] = []
    gpos = {i: j for j, i in enumerate(good)}
    for i, p in enumerate(paths):
        if i not in gpos:
            clips.append(ClipResult(path=p, duration_s=0.0, error=errors[i]))
            continue
        j = gpos[i]
        fp = fps[i]
        if group[j] < 0:
            if j in unsure:
                reason = unsure[j]
            elif j in repeats:
                reason = repeats[j]
            elif j in verified:
                reason = "matches were inconsistent with the other clips"
            elif j in in_ambiguous:
                reason = ("ambiguous: its matches fit equally well at several offsets (repeating music or a "
                          "loop), and no other clip settles which")
            elif j in tested:
                reason = ("its fingerprint matches could not be confirmed by cross-correlation to well under "
                          "a frame (too noisy or reverberant); left out rather than placed roughly")
            else:
                reason = "no matching audio in any other clip"
            g_hint, at = (hints or {}).get(j, (None, 0.0))
            hint = ClockHint(gorder[g_hint], at, hint_within_s) if g_hint in gorder else None
            clips.append(ClipResult(path=p, duration_s=fp.duration_s, error=reason, warning=fp.warning,
                                    info=fp.info, clock_hint=hint))
            continue
        std = std_s[j]
        clips.append(ClipResult(
            path=p, duration_s=fp.duration_s, group=gorder[int(group[j])], track=track[j],
            offset_s=float(sol.position_s[j]), drift_ppm=_drift(sol, j, cfg),
            confidence=float(conf[j]), error_ms=None if not np.isfinite(std) else float(std * 1000),
            warning=fp.warning, info=fp.info,
        ))
    fps_counter = Counter(f.info.fps for f in fps if f is not None and f.info.fps)
    fps_common = fps_counter.most_common(1)[0][0] if fps_counter else None
    mapped = [replace(e, a=good[e.a], b=good[e.b]) for e in sol.inliers if group[e.a] >= 0 and group[e.b] >= 0]
    group_hint = {gorder[g]: ClockHint(gorder[m], at, hint_within_s) for g, (m, at) in (ghints or {}).items()
                  if g in gorder and m in gorder}  # (a group `--min-confidence` emptied has no number)
    return Alignment(clips=clips, edges=mapped, fps=fps_common, group_hints=group_hint)
