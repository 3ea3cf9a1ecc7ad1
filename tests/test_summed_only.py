"""A clip every edge of which was timed only by summed windows (`sync.summed.summed_only`) states at least
`SolveConfig.stacked_error_s`: such sums can settle on an early reflection tens of ms from the direct sound
while their own fit says 0.1 ms. A clip with one edge whose windows stood alone keeps its fitted error."""

from __future__ import annotations

from syncfp.config import SolveConfig
from syncfp.engine.solve import solve
from syncfp.sync.summed import summed_only
from syncfp.types import PairMatch

DUR = [60.0, 40.0, 50.0, 30.0, 45.0]


def _edge(a: int, b: int, off: float, *, stacked: bool = False) -> PairMatch:
    return PairMatch(a=a, b=b, offset_s=off, rate=1.0, support=40, z=12.0, ratio=3.0, trusted=True, rate_error=1e-6,
                     refined=True, error_s=5e-5, windows=8, tried=10, stacked=stacked)


def test_only_clips_with_no_edge_of_standing_windows_are_summed_only():
    # 0-1 and 1-2 stand alone; 3 hangs on 2 by a summed line only; 4 has a summed and a standing edge
    edges = [_edge(0, 1, 10.0), _edge(1, 2, 5.0), _edge(2, 3, 4.0, stacked=True), _edge(0, 4, 1.0, stacked=True),
             _edge(2, 4, -14.0)]
    sol = solve(5, edges, DUR, SolveConfig())
    assert set(sol.group.tolist()) == {0}
    assert summed_only(sol) == {3}
    assert sol.position_std_s[3] < SolveConfig().stacked_error_s  # the fit alone would state well under 1 ms


def test_a_group_on_summed_lines_alone_is_summed_only_throughout():
    edges = [_edge(0, 1, 10.0, stacked=True), _edge(0, 2, 5.0, stacked=True), _edge(3, 4, 2.0)]
    sol = solve(5, edges, DUR, SolveConfig())
    assert summed_only(sol) == {0, 1, 2}
