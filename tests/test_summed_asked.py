"""A clip held only by a summed edge is checked against its group's other clips where it sits (`sync.summed`).

Real encoded media: a board, a camera near the stage, and a phone in the crowd. The phone's one edge to the
board is given as a sum of weak windows (`PairMatch.stacked`) 70 ms off its truth — beyond the normal check's
±60 ms, as on fresh32's festival60, where a far phone's summed edge sat on a chance bump 62 ms off while a near
iPhone heard it plainly. The camera, asked where the solve puts the phone, confirms it by windows standing alone
at the truth: the sum gives way. The edges are given, so the test is of that reading alone.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bench import encode
from syncfp.audio.extract import extract
from syncfp.config import FingerprintConfig, RescueConfig, SolveConfig, VerifyConfig
from syncfp.engine.solve import solve
from syncfp.sync.summed import ask_groupmates, summed_only
from syncfp.sync.verify import check_hypothesis, check_near
from syncfp.types import PairMatch

from conftest import MASTER_RATE

STARTS = {"ZOOM0001.WAV": 20.0, "C0001.MP4": 30.0, "IMG_0001.MOV": 35.0}
LENGTHS = {"ZOOM0001.WAV": 60.0, "C0001.MP4": 40.0, "IMG_0001.MOV": 30.0}
BOARD, CAMERA, PHONE = 0, 1, 2
OFF_S = 0.070


def _recording(master: np.ndarray, start_s: float, length_s: float, snr_db: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = master[int(start_s * MASTER_RATE): int((start_s + length_s) * MASTER_RATE)].astype(np.float64)
    x = x + rng.standard_normal(x.size) * np.sqrt(float(np.mean(x**2)) * 10 ** (-snr_db / 10))
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


@pytest.fixture()
def fps(tmp_path, master):
    out = []
    for seed, name in enumerate(STARTS):
        path = str(tmp_path / name)
        snr = 3.0 if name.startswith("IMG") else 30.0
        encode.write(path, _recording(master, STARTS[name], LENGTHS[name], snr, seed), rate_hz=MASTER_RATE)
        out.append(extract(path, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path)))
    return out


def _truth(a: int, b: int) -> float:
    names = list(STARTS)
    return STARTS[names[b]] - STARTS[names[a]]


def _edge(a: int, b: int, offset_s: float, *, stacked: bool = False) -> PairMatch:
    return PairMatch(a=a, b=b, offset_s=offset_s, rate=1.0, support=40, z=12.0, ratio=3.0, trusted=True,
                     refined=True, error_s=5e-5, windows=10, tried=11, stacked=stacked)


def _placed(fps, edges):
    return solve(len(fps), edges, [f.duration_s for f in fps], SolveConfig())


def test_a_line_past_the_normal_search_is_found_and_read_where_it_stands(fps):
    """70 ms from the hypothesis the normal check cannot reach the camera ↔ phone line; `check_near` finds it
    and reads it with windows standing alone there, to 0.1 ms."""
    h = replace(_edge(CAMERA, PHONE, _truth(CAMERA, PHONE) + OFF_S), refined=False, error_s=None, support=0)
    first = check_hypothesis(h, fps[CAMERA], fps[PHONE], VerifyConfig())
    assert not first.ok or abs(first.edge.offset_s - _truth(CAMERA, PHONE)) > 1e-3
    ev = check_near(h, fps[CAMERA], fps[PHONE], VerifyConfig())
    assert ev.ok and not ev.stacked and ev.confirmed >= 4
    assert abs(ev.edge.offset_s - _truth(CAMERA, PHONE)) < 1e-4


def test_a_summed_edge_off_the_truth_gives_way_to_a_groupmate_that_hears_the_clip(fps):
    edges = [_edge(BOARD, CAMERA, _truth(BOARD, CAMERA)),
             _edge(BOARD, PHONE, _truth(BOARD, PHONE) + OFF_S, stacked=True)]
    sol = _placed(fps, edges)
    assert summed_only(sol) == {PHONE}
    durations = [f.duration_s for f in fps]
    assert ask_groupmates(sol, edges, fps, durations, RescueConfig(), VerifyConfig())
    assert not any(e.stacked for e in edges)  # the sum is gone, the camera's line took its place
    sol = _placed(fps, edges)
    assert abs(float(sol.position_s[PHONE] - sol.position_s[BOARD]) - _truth(BOARD, PHONE)) < 0.5e-3
    assert summed_only(sol) == set()


def test_a_summed_edge_a_groupmate_confirms_is_left_as_it_is(fps):
    """Agreement changes nothing: a group-mate can sit on the same early reflection as the sum (fresh28)."""
    edges = [_edge(BOARD, CAMERA, _truth(BOARD, CAMERA)), _edge(BOARD, PHONE, _truth(BOARD, PHONE), stacked=True)]
    before = list(edges)
    sol = _placed(fps, edges)
    assert not ask_groupmates(sol, edges, fps, [f.duration_s for f in fps], RescueConfig(), VerifyConfig())
    assert edges == before and summed_only(sol) == {PHONE}


def test_switched_off(fps):
    edges = [_edge(BOARD, CAMERA, _truth(BOARD, CAMERA)),
             _edge(BOARD, PHONE, _truth(BOARD, PHONE) + OFF_S, stacked=True)]
    before = list(edges)
    sol = _placed(fps, edges)
    assert not ask_groupmates(sol, edges, fps, [f.duration_s for f in fps], RescueConfig(summed_ask=0), VerifyConfig())
    assert edges == before
