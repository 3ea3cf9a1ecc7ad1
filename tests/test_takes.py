"""Two takes of one device never overlap on the timeline, and two clips one clock times stay where it puts them:
the weak edge that lays them otherwise goes."""

from __future__ import annotations

import numpy as np

from syncfp.config import SolveConfig
from syncfp.engine.solve import solve
from syncfp.sync.api import _edge_confidence
from syncfp.sync.stamps import clocks_of
from syncfp.sync.takes import clashing_pendants, separate_clocks, separate_takes
from syncfp.types import Fingerprint, Hashes, MediaInfo, PairMatch

NAMES = ["f/MVI_2279.MOV", "f/MVI_2280.MOV", "f/PXL_20260612_230349679.mp4", "f/PXL_20260612_230454388.mp4"]
DURATIONS = [65.0, 200.0, 30.0, 106.0]


def _fp(path: str, dur: float) -> Fingerprint:
    empty = Hashes(hash=np.zeros(0, np.uint32), frame=np.zeros(0, np.int32), n_frames=0)
    info = MediaInfo(path=path, duration_s=dur, sample_rate_hz=48000, channels=1, codec="aac")
    return Fingerprint(path=path, info=info, hashes=empty, duration_s=dur, pcm_path="", rate_hz=8000,
                       rms_db=-20.0)


def _edge(a: int, b: int, off: float, windows: int, tried: int) -> PairMatch:
    return PairMatch(a=a, b=b, offset_s=off, rate=1.0, support=4 * windows, z=9.0, ratio=2.0, trusted=True,
                     refined=True, error_s=1e-4, windows=windows, tried=tried)


def _run(bridge: PairMatch):
    """Camera takes MVI_2279, MVI_2280; phone 0454 inside take 2280 (sure), phone 0349 inside take 2279
    (sure), and *bridge* between phone 0454 and take 2279."""
    fps = [_fp(p, d) for p, d in zip(NAMES, DURATIONS)]
    edges = [_edge(1, 3, 60.0, 11, 11), _edge(0, 2, 10.0, 10, 10), bridge]
    cfg = SolveConfig()
    sol = solve(4, edges, DURATIONS, cfg)
    assert len(set(sol.group.tolist())) == 1  # one group before
    out = separate_takes(sol, edges, fps, DURATIONS, cfg, lambda e: _edge_confidence(e, DURATIONS, cfg))
    return out, edges


def test_a_weak_bridge_that_lays_a_take_over_the_next_one_is_dropped():
    """The bridge (a partial overlap, 8 of 11 windows: a repeat 90 s away) puts take 2279 at 25-90 s, over
    take 2280 (0-200 s): the take and the phone hanging on it become their own group, placed right within it."""
    out, edges = _run(_edge(0, 3, 34.86, 8, 11))
    assert out.group[1] == out.group[3] and out.group[0] == out.group[2] and out.group[0] != out.group[1]
    assert abs((out.position_s[2] - out.position_s[0]) - 10.0) < 1e-6
    assert len(edges) == 2 and all(not (e.a == 0 and e.b == 3) for e in edges)


def test_the_same_bridge_where_the_takes_do_not_overlap_stays():
    out, edges = _run(_edge(0, 3, 125.0, 8, 11))  # take 2279 at -65..0 s: just before take 2280
    assert len(set(out.group.tolist())) == 1 and len(edges) == 3


def test_a_sure_bridge_is_never_dropped():
    """A sure edge (every window, most of the shorter clip) is not second-guessed: the clash stays for the
    confidences to show."""
    out, edges = _run(_edge(0, 3, 20.0, 11, 11))  # 2279 at 40-105 s, phone 0454 inside it from 20 s
    assert len(set(out.group.tolist())) == 1 and len(edges) == 3


def test_an_edge_only_summed_windows_confirm_is_never_sure():
    """Windows summed along a line (none standing alone) can settle on a far phone's early reflection with
    most of them agreeing (hard bench fresh2, board20: 44 ms off, stated 0.1 ms at 0.99): such an edge says
    at most `part_share_confidence`, however many windows it names; the same edge from windows that stand
    alone is sure."""
    cfg = SolveConfig()
    plain = _edge(1, 3, 60.0, 10, 10)
    assert _edge_confidence(plain, [65.0, 200.0, 30.0, 100.0], cfg) > 0.99
    stacked = PairMatch(**{**plain.__dict__, "stacked": True})
    assert _edge_confidence(stacked, [65.0, 200.0, 30.0, 100.0], cfg) == cfg.part_share_confidence


def test_takes_joined_only_over_an_unmeasured_rate_share_their_clock():
    """Camera takes 2279 and 2280 and phone takes 0349 and 0454: each camera take is timed to a phone take with
    its clock rate measured (the camera runs 110 ppm fast of the phone), but the two halves meet only where take
    2279 ends as phone 0454 begins, over 5 s: a rate there is unmeasured (1.0 ± 1000 ppm), so the first solve puts
    the halves 110 ppm apart and a 25-ppm gate would not tie the takes (fresh21's loud: clips 4-25 ms off).
    The edges do not say the takes' rates differ, so they tie (`SolveConfig.take_rate_sigmas`); where the edges
    do measure the difference (a rate known to 1 ppm), they do not."""
    from dataclasses import replace

    from syncfp.sync.takes import one_clock

    rho = 1.0 + 110e-6  # k_camera / k_phone (`PairMatch.rate` is k_a / k_b)
    fps = [_fp(p, d) for p, d in zip(NAMES, DURATIONS)]

    def edge(a: int, b: int, off: float, rate: float, rate_error: float) -> PairMatch:
        return replace(_edge(a, b, off, 10, 10), rate=rate, rate_error=rate_error)

    def run(bridge_rate_error: float):
        edges = [edge(1, 3, -60.0, rho, 1e-6), edge(0, 2, 10.0, rho, 1e-6), edge(0, 3, 60.0, 1.0, bridge_rate_error)]
        sol = solve(4, edges, DURATIONS, SolveConfig())
        return sol, edges

    sol, edges = run(1e-3)
    assert len(set(sol.group.tolist())) == 1
    assert abs(sol.k[0] / sol.k[1] - 1.0) > 100e-6  # the halves' rates from nothing
    assert one_clock(sol, fps, 2.5e-5) == []  # the gate alone ties nothing
    ties = one_clock(sol, fps, 2.5e-5, 3.0)
    assert (0, 1) in ties  # the camera's takes (the phone's are 50 s apart on the timeline, 65 s by their names)
    tied = solve(4, edges, DURATIONS, SolveConfig(), ties=ties)
    assert abs(tied.k[0] / tied.k[1] - 1.0) < 5e-6
    measured, _ = run(1e-6)  # the same bridge with its rate measured: the edges say the clocks differ
    assert one_clock(measured, fps, 2.5e-5, 3.0) == []


def test_two_takes_a_clock_puts_apart_are_not_held_elsewhere_through_a_third_clip():
    """fresh23's chain6: an OBS laptop's takes named 21:02:31 (52 s) and 21:04:31 (101 s), an iPhone clip between
    them in time joined to the first by windows standing alone (6 of 10) and to the second by a summed edge at
    a repeat, 164 s off. No edge joins the two takes and their two readings agree on no clock, so no edge was
    judged; read together, the laptop's clock puts them 120 s apart and the solve 44. The summed edge goes (the
    windows' share alone would pick the right 6-of-10 one), and the first take stays placed."""
    names = ["f/2026-06-12 21-02-31.mkv", "f/IMG_2187.MOV", "f/2026-06-12 21-04-31.mkv"]
    durations = [52.4, 120.0, 101.3]
    fps = [_fp(p, d) for p, d in zip(names, durations)]
    cfg = SolveConfig()
    conf = lambda e: _edge_confidence(e, durations, cfg)  # noqa: E731

    def run(second: float):
        edges = [_edge(0, 1, 36.17, 6, 10), PairMatch(a=1, b=2, offset_s=second, rate=1.0, support=28, z=9.0,
                                                       ratio=2.0, trusted=True, refined=True, error_s=7e-5,
                                                       windows=7, tried=9, stacked=True)]
        sol = solve(3, edges, durations, cfg)
        out, cut = separate_clocks(sol, edges, fps, durations, cfg, conf, clocks_of(fps), 4.0)
        return out, edges, cut

    out, edges, cut = run(-79.82)  # the repeat: the second take at 43.65 - 79.82 + 36.17 s before the first
    assert out.group[0] == out.group[1] >= 0 and out.group[2] < 0 and cut == {1, 2}
    assert len(edges) == 1 and not edges[0].stacked
    out, edges, cut = run(120.0 - 36.17 + 1.5)  # where the names put it, give or take their seconds: kept
    assert (out.group >= 0).all() and out.group[0] == out.group[2] and len(edges) == 2 and not cut


def test_a_take_one_sure_edge_lays_over_its_sibling_is_named_for_leaving_out():
    """Take 2279 hangs on phone 0454 by one sure edge (every window) that lays it over take 2280: the separation
    keeps sure edges, so the clash is judged here (fresh37's festival: a voice memo 59.5 s off at a loop's pass,
    stated 0.05 ms at 0.996). The pendant take is named; held by a second edge too, it is not. Where two
    takes each hang by one edge on one camera, both are named: nothing says which is at the repeat."""
    fps = [_fp(p, d) for p, d in zip(NAMES, DURATIONS)]
    cfg = SolveConfig()
    clocks = clocks_of(fps)
    # both phones inside take 2280 (0349 at 70 s, 0454 at 60 s), all three edges sure
    base = [_edge(1, 3, 60.0, 11, 11), _edge(1, 2, 70.0, 10, 10), _edge(3, 2, 10.0, 10, 10)]
    edges = [*base, _edge(0, 3, 20.0, 11, 11)]  # 2279 at 40-105 s, over 2280 (0-200 s)
    sol = solve(4, edges, DURATIONS, cfg)
    assert sol.group[0] == sol.group[1] >= 0
    assert clashing_pendants(sol, fps, DURATIONS, cfg, clocks, 4.0, 1.5) == {0}
    held = solve(4, [*edges, _edge(0, 2, 30.0, 10, 10)], DURATIONS, cfg)
    assert clashing_pendants(held, fps, DURATIONS, cfg, clocks, 4.0, 1.5) == set()
    apart = solve(4, [*base, _edge(0, 3, 20.0 - 400.0, 11, 11)], DURATIONS, cfg)
    assert clashing_pendants(apart, fps, DURATIONS, cfg, clocks, 4.0, 1.5) == set()  # 2279 long before 2280: no clash
    star = solve(4, [_edge(3, 0, -20.0, 11, 11), _edge(3, 1, -60.0, 11, 11)], DURATIONS, cfg)
    assert clashing_pendants(star, fps, DURATIONS, cfg, clocks, 4.0, 1.5) == {0, 1}
