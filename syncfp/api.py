"""Composition of the stages: `align(paths)` → `Alignment`. No printing; progress goes to a callback."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import replace
import multiprocessing as mp

import numpy as np

from . import cache as cache_mod
from . import index as index_mod
from . import match as match_mod
from .config import FingerprintConfig, MatchConfig, RefineConfig, SolveConfig
from .errors import MediaError
from .extract import extract
from .refine import refine_edge
from .rescue import rescue
from .solve import select_for_refinement, solve
from .tracks import assign
from .types import Alignment, ClipResult, Fingerprint, PairMatch

Progress = Callable[[str, int, int], None]


def _noop(stage: str, done: int, total: int) -> None:
    pass


def _extract_one(args) -> tuple[int, Fingerprint | None, str | None]:
    i, path, cfg, cache_dir, work_dir, stream_index = args
    try:
        return i, extract(path, cfg=cfg, cache_dir=cache_dir, work_dir=work_dir, stream_index=stream_index), None
    except MediaError as exc:
        return i, None, exc.reason
    except MemoryError:
        return i, None, "out of memory while decoding"
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return i, None, f"internal error ({type(exc).__name__}: {str(exc)[:100]})"


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _mp_context():
    """fork where the platform has it (no re-import of the caller's script), spawn elsewhere."""
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


def fingerprint_files(
    paths: Sequence[str],
    *,
    cfg: FingerprintConfig,
    cache_dir: str | None,
    work_dir: str,
    workers: int = 1,
    stream_index: int | None = None,
    progress: Progress = _noop,
) -> tuple[list[Fingerprint | None], list[str | None]]:
    """Decode and fingerprint every path (in worker processes when workers > 1); errors per file."""
    fps: list[Fingerprint | None] = [None] * len(paths)
    errors: list[str | None] = [None] * len(paths)
    jobs = [(i, str(p), cfg, cache_dir, work_dir, stream_index) for i, p in enumerate(paths)]
    progress("decode", 0, len(jobs))
    done = 0
    if workers <= 1 or len(jobs) <= 1:
        results = map(_extract_one, jobs)
        for i, fp, err in results:
            fps[i], errors[i] = fp, err
            done += 1
            progress("decode", done, len(jobs))
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context()) as pool:
            # largest files first: a long take started last would leave the other workers idle at the end
            futures = [pool.submit(_extract_one, j) for j in sorted(jobs, key=lambda j: -_size(j[1]))]
            for fut in as_completed(futures):
                i, fp, err = fut.result()
                fps[i], errors[i] = fp, err
                done += 1
                progress("decode", done, len(jobs))
    return fps, errors


def match_all(
    fps: list[Fingerprint], *, fcfg: FingerprintConfig, mcfg: MatchConfig, screen: bool = True
) -> list[PairMatch]:
    """Every clip pair's best line from one shared hash table (*screen*: only pairs that could give a
    usable edge; False keeps weak candidates for diagnostics)."""
    if len(fps) < 2:
        return []
    idx = index_mod.build([f.hashes for f in fps])
    n_frames = [f.hashes.n_frames for f in fps]
    seg_frames = max(1, int(round(mcfg.segment_s / fcfg.hop_s)))
    cells = match_mod.join_all_pairs(idx, len(fps), max(n_frames) + 1, mcfg, seg_frames)
    lines = match_mod.pair_lines(cells, n_frames, mcfg, seg_frames, screen=screen)
    return [match_mod.to_pair_match(a, b, ln, fcfg.hop_s, mcfg) for (a, b), ln in sorted(lines.items())]


def _edge_confidence(e: PairMatch) -> float:
    """0..1 from how far the edge stands above chance and above the next-best offset."""
    sep = 1.0 - 1.0 / max(e.ratio, 1.0)
    strength = 1.0 - np.exp(-max(e.z, 0.0) / 15.0)
    return float(np.clip(sep * strength * 1.25, 0.0, 1.0))


def align(
    paths: Sequence[str],
    *,
    fingerprint: FingerprintConfig = FingerprintConfig(),
    match: MatchConfig = MatchConfig(),
    refine: RefineConfig = RefineConfig(),
    solve_cfg: SolveConfig = SolveConfig(),
    workers: int | None = None,
    cache: bool = True,
    cache_dir: str | None = None,
    stream_index: int | None = None,
    progress: Progress | None = None,
    fingerprinter: Callable | None = None,
) -> Alignment:
    """Place every recording in *paths* on a common timeline (see `syncfp.types` for the conventions).

    Files that cannot be used, and clips that match nothing, come back unplaced with a reason.
    *fingerprinter*: a drop-in for `fingerprint_files` (`cluster.ClusterFingerprinter` decodes on Dask workers).
    """
    progress = progress or _noop
    given = [str(p) for p in paths]
    # Work in path order and map back: the match signs, the reference-clip tie-break and the solve's edge
    # order then depend only on the set of inputs, so any order of the same files gives the same result.
    order = sorted(range(len(given)), key=lambda i: (given[i], i))
    paths = [given[i] for i in order]
    workers = workers or max(1, min(os.cpu_count() or 1, len(paths)))
    cdir = None
    if cache:
        cdir = cache_dir or cache_mod.default_dir()
        try:
            os.makedirs(cdir, exist_ok=True)
        except OSError:
            cdir = None
    with tempfile.TemporaryDirectory(prefix="syncfp-") as work:
        fps, errors = (fingerprinter or fingerprint_files)(
            paths, cfg=fingerprint, cache_dir=cdir, work_dir=work, workers=workers,
            stream_index=stream_index, progress=progress,
        )
        good = [i for i, f in enumerate(fps) if f is not None]
        gfps = [fps[i] for i in good]
        progress("match", 0, 1)
        edges = match_all(gfps, fcfg=fingerprint, mcfg=match)
        progress("match", 1, 1)
        durations = [f.duration_s for f in gfps]
        coarse = solve(len(gfps), edges, durations, solve_cfg)
        used = select_for_refinement(len(gfps), coarse.inliers)
        lost, anchors = _rescue_plan(gfps, coarse, _ambiguous(edges, match))
        with ThreadPoolExecutor(max_workers=1) as side:
            # the rescue's search does not depend on the refinement: both run at once, so neither's last
            # straggler leaves a core idle
            found = side.submit(rescue, lost, anchors, gfps, workers=workers) if lost and anchors else None
            refined = _refine_all(used, gfps, refine, workers, progress)
            if found is not None:
                progress("rescue", 0, 1)
                refined += found.result()
                progress("rescue", 1, 1)
        sol = solve(len(gfps), refined, durations, solve_cfg)
    return _in_input_order(_results(paths, fps, errors, good, edges, sol, match), order)


def _refine_all(used: list[PairMatch], gfps: list[Fingerprint], cfg: RefineConfig, workers: int,
                progress: Progress) -> list[PairMatch]:
    """`refine_edge` for every edge, on *workers* threads: its FFTs and file reads release the GIL, and
    threads share the fingerprints without copying them to other processes."""
    progress("refine", 0, len(used))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(refine_edge, e, gfps[e.a], gfps[e.b], cfg) for e in used]
        for j, fut in enumerate(futures):
            fut.result()
            progress("refine", j + 1, len(used))
    return [f.result() for f in futures]


def _ambiguous(edges: list[PairMatch], mcfg: MatchConfig) -> set[int]:
    """Clips with strong matches refused only because another offset matched nearly as well (a loop)."""
    return {x for e in edges if not e.trusted and e.support >= mcfg.min_support and e.z >= mcfg.min_z
            and e.ratio < mcfg.min_ratio for x in (e.a, e.b)}


def _rescue_plan(gfps: list[Fingerprint], coarse, ambiguous: set[int]) -> tuple[list[int], list[int]]:
    """The clips the hashes could not place (except those whose audio is ambiguous, i.e. repeating: left
    alone rather than guessed) and the placed clips to search them against, longest first."""
    lost = [j for j in range(len(gfps)) if coarse.group[j] < 0 and j not in ambiguous]
    anchors = sorted((j for j in range(len(gfps)) if coarse.group[j] >= 0),
                     key=lambda j: (-gfps[j].duration_s, gfps[j].path))
    return lost, anchors


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
    return Alignment(clips=clips, edges=sorted(edges, key=lambda e: (e.a, e.b)), fps=al.fps)


MAX_DRIFT_STD = 25e-6  # report a clip's drift only when its clock rate is known to about 25 ppm


def _drift(sol, j: int) -> float | None:
    """Clock rate against the group's reference in ppm, or None when the overlaps were too short to tell."""
    if not np.isfinite(sol.k_std[j]) or sol.k_std[j] > MAX_DRIFT_STD:
        return None
    return float((1.0 / sol.k[j] - 1.0) * 1e6)


def _results(paths, fps, errors, good, edges, sol, mcfg: MatchConfig = MatchConfig()) -> Alignment:
    n = len(good)
    conf = np.zeros(n)
    for e in sol.inliers:
        c = _edge_confidence(e)
        conf[e.a] = 1 - (1 - conf[e.a]) * (1 - c)
        conf[e.b] = 1 - (1 - conf[e.b]) * (1 - c)
    # stable group ids from 1: ordered by the smallest path in each group
    gmembers: dict[int, list[str]] = {}
    for j in range(n):
        if sol.group[j] >= 0:
            gmembers.setdefault(int(sol.group[j]), []).append(paths[good[j]])
    gorder = {g: r + 1 for r, g in enumerate(sorted(gmembers, key=lambda g: min(gmembers[g])))}
    placed = [
        (j, paths[good[j]], fps[good[j]].info.device, gorder[int(sol.group[j])], float(sol.position_s[j]),
         float(sol.position_s[j] + fps[good[j]].duration_s * sol.k[j]))
        for j in range(n) if sol.group[j] >= 0
    ]
    track = assign(placed)
    any_edge = {e.a for e in edges if e.trusted} | {e.b for e in edges if e.trusted}
    ambiguous = _ambiguous(edges, mcfg)
    clips: list[ClipResult] = []
    gpos = {i: j for j, i in enumerate(good)}
    for i, p in enumerate(paths):
        if i not in gpos:
            clips.append(ClipResult(path=p, duration_s=0.0, error=errors[i]))
            continue
        j = gpos[i]
        fp = fps[i]
        if sol.group[j] < 0:
            if j in any_edge:
                reason = "matches were inconsistent with the other clips"
            elif j in ambiguous:
                reason = "ambiguous: its audio matches at several offsets (repeating music or a loop)"
            else:
                reason = "no matching audio in any other clip"
            clips.append(ClipResult(path=p, duration_s=fp.duration_s, error=reason, warning=fp.warning,
                                    info=fp.info))
            continue
        std = sol.position_std_s[j]
        clips.append(ClipResult(
            path=p, duration_s=fp.duration_s, group=gorder[int(sol.group[j])], track=track[j],
            offset_s=float(sol.position_s[j]), drift_ppm=_drift(sol, j),
            confidence=float(conf[j]), error_ms=None if not np.isfinite(std) else float(std * 1000),
            warning=fp.warning, info=fp.info,
        ))
    fps_counter = Counter(f.info.fps for f in fps if f is not None and f.info.fps)
    fps_common = fps_counter.most_common(1)[0][0] if fps_counter else None
    mapped = [replace(e, a=good[e.a], b=good[e.b]) for e in sol.inliers]
    return Alignment(clips=clips, edges=mapped, fps=fps_common)
