"""A group of two clips stands only on a coherent edge between them (`sync.api._lone_pairs`): with no third
clip to close a cycle, a summed (stacked) line or windows scattering like a repeat played again cannot be
told from a repeat of the music, so such a pair is left out; bigger groups are not touched."""

from __future__ import annotations

from syncfp.config import SolveConfig, VerifyConfig
from syncfp.engine.solve import solve
from syncfp.sync.api import _lone_pairs
from syncfp.sync.arrivals import Arrivals
from syncfp.types import PairMatch

DUR = [60.0, 40.0, 50.0, 30.0, 45.0]


def _edge(a: int, b: int, off: float, *, stacked: bool = False, scatter_s: float | None = None) -> PairMatch:
    return PairMatch(a=a, b=b, offset_s=off, rate=1.0, support=40, z=12.0, ratio=3.0, trusted=True, rate_error=1e-6,
                     refined=True, error_s=5e-5, windows=8, tried=10, stacked=stacked, scatter_s=scatter_s)


def _arr(scatter_s: float) -> Arrivals:
    return Arrivals(own=10.0, peaks=(), scatter=scatter_s)


def test_a_pair_on_a_summed_line_is_left_out_a_coherent_one_stays():
    edges = [_edge(0, 1, 10.0, stacked=True), _edge(2, 3, 5.0)]  # two groups of two
    arrs = [_arr(float("nan")), _arr(1e-5)]
    sol = solve(5, edges, DUR, SolveConfig())
    assert _lone_pairs(sol, edges, arrs, VerifyConfig()) == {0}


def test_a_pair_whose_windows_scatter_like_a_repeat_is_left_out():
    edges = [_edge(0, 1, 10.0)]
    sol = solve(5, edges, DUR, SolveConfig())
    assert _lone_pairs(sol, edges, [_arr(8.6e-5)], VerifyConfig()) == {0}  # above coherent_s (60 µs)
    assert _lone_pairs(sol, edges, [None], VerifyConfig()) == {0}  # not measured (moved): not known coherent


def test_bigger_groups_and_pairs_with_one_coherent_edge_are_kept():
    edges = [_edge(0, 1, 10.0, stacked=True), _edge(1, 2, 5.0, stacked=True),  # a group of three
             _edge(3, 4, 2.0, stacked=True), _edge(3, 4, 2.0)]  # two lines between one pair, one coherent
    arrs = [_arr(float("nan")), _arr(float("nan")), _arr(float("nan")), _arr(2e-5)]
    sol = solve(5, edges, DUR, SolveConfig())
    assert _lone_pairs(sol, edges, arrs, VerifyConfig()) == set()


def test_a_pair_the_re_reading_cannot_judge_stands_on_its_own_checks_scatter():
    """`arrivals` re-reads a pair on its own grid; where it keeps too few windows to give a scatter (NaN), the
    scatter the confirming check measured decides (fresh39's short15: nine windows at 33 µs, re-read with fewer
    than four). A repeat-like scatter there still leaves the pair out, and so does an edge moved off the line its
    check read (no re-reading: None)."""
    sol = solve(5, [_edge(0, 1, 10.0)], DUR, SolveConfig())
    nan = _arr(float("nan"))
    assert _lone_pairs(sol, [_edge(0, 1, 10.0, scatter_s=3.3e-5)], [nan], VerifyConfig()) == set()
    assert _lone_pairs(sol, [_edge(0, 1, 10.0, scatter_s=9e-5)], [nan], VerifyConfig()) == {0}
    assert _lone_pairs(sol, [_edge(0, 1, 10.0, scatter_s=3.3e-5)], [None], VerifyConfig()) == {0}
    assert _lone_pairs(sol, [_edge(0, 1, 10.0, scatter_s=3.3e-5)], [_arr(8.6e-5)], VerifyConfig()) == {0}
