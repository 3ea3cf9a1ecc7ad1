"""One device's takes share one clock: the final solve ties their rates (`engine.solve`, `ties`), so a take
whose only rate comes from a few summed windows is held by its sibling's rate, measured elsewhere."""

from __future__ import annotations

import pytest

from syncfp.config import SolveConfig
from syncfp.engine.solve import solve
from syncfp.types import PairMatch

DUR = [300.0, 136.0, 198.0]  # 0: a long recorder; 1, 2: two takes of one camera, 40 ppm slow


def _edge(a: int, b: int, off: float, rate: float, rate_error: float) -> PairMatch:
    return PairMatch(a=a, b=b, offset_s=off, rate=rate, support=40, z=12.0, ratio=3.0, trusted=True,
                     rate_error=rate_error, refined=True, error_s=4e-5, windows=8, tried=10)


def _edges() -> list[PairMatch]:
    true = 1.0 / (1.0 - 40e-6)  # k_recorder / k_camera: the recorder's seconds per camera second
    return [_edge(0, 2, 150.0, true, 1e-6),  # the second take: many windows, its rate well measured
            _edge(0, 1, 5.0, true + 16e-6, 6.5e-6)]  # the first: a few summed windows, 16 ppm off


def test_the_takes_rates_are_tied():
    loose = solve(3, _edges(), DUR, SolveConfig())
    tied = solve(3, _edges(), DUR, SolveConfig(), ties=[(1, 2)])
    assert abs(loose.k[1] / loose.k[2] - 1.0) == pytest.approx(16e-6, abs=1e-6)  # what the edges alone say
    assert abs(tied.k[1] / tied.k[2] - 1.0) < 3e-6
    assert list(tied.group) == list(loose.group)  # a tie joins nothing and moves no group


def test_a_tie_joins_nothing():
    sol = solve(3, _edges()[:1], DUR, SolveConfig(), ties=[(1, 2)])
    assert sol.group[1] == -1 and sol.group[0] == sol.group[2] >= 0


def test_switched_off():
    a = solve(3, _edges(), DUR, SolveConfig(take_rate_tie=0.0), ties=[(1, 2)])
    b = solve(3, _edges(), DUR, SolveConfig())
    assert list(a.k) == list(b.k)
