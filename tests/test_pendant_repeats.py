"""A clip held in its group by one summed edge alone is asked, as a swept line is, whether its audio also fits
where the longer clip repeats the matched stretch (`sync.api._pendant_repeats`): a loop's pass is confirmed by
summed windows as surely as its place, and no other edge of the clip can say which (fresh25's loop5 had a 5-s
recorder clip 160 s off at a pass, stated 5 ms). Real encoded media; the edges are given, so the test is of the
check alone."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

from bench import encode, synth
from syncfp.audio.extract import extract
from syncfp.config import FingerprintConfig, RescueConfig, SolveConfig, VerifyConfig
from syncfp.engine.solve import solve
from syncfp.sync.api import _pendant_repeats, _pendant_ties
from syncfp.types import PairMatch

RATE = 48000
LOOP_S = 8.0


def _edge(a: int, b: int, off: float, *, stacked: bool) -> PairMatch:
    return PairMatch(a=a, b=b, offset_s=off, rate=1.0, support=30, z=10.0, ratio=2.0, trusted=True, rate_error=1e-6,
                     refined=True, error_s=7.2e-5, windows=7, tried=8, stacked=stacked)


def _clips(tmp_path, master: np.ndarray, name: str) -> list:
    """A recorder over the whole master, a camera over 30-50 s, a phone over 21-26 s."""
    out = []
    for seed, (kind, start, dur, kw) in enumerate((("ZOOM", 0.0, master.size / RATE, {"eq": "none", "snr_db": 30}),
                                                   ("C", 30.0, 20.0, {"eq": "none", "snr_db": 25}),
                                                   ("IMG", 21.0, 5.0, {"eq": "phone", "snr_db": 12}))):
        seg = master[int(start * RATE): int((start + dur) * RATE)]
        path = os.path.join(str(tmp_path), f"{kind}_{name}.wav")
        encode.write(path, synth.device(seg, rate_hz=RATE, seed=seed, **kw), rate_hz=RATE)
        out.append(extract(path, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path)))
    return out


@pytest.mark.parametrize("passes", [0, 1])
def test_a_clip_hung_on_one_summed_edge_in_a_loop_is_left_out(tmp_path, passes):
    """An 8-s loop tiled over 64 s: the phone's summed edge to the recorder, at its place or a pass later, ties
    with the loop's other passes, so it goes and the phone is left out with the reason; the camera's edge
    (standing windows, a second edge of the recorder's) is not asked."""
    master = np.tile(synth.concert(LOOP_S, rate_hz=RATE, seed=81, tempo_bpm=120), 8)
    fps = _clips(tmp_path, master, "loop")
    edges = [_edge(0, 1, 30.0, stacked=False), _edge(0, 2, 21.0 + passes * LOOP_S, stacked=True)]
    durations = [f.duration_s for f in fps]
    sol = solve(3, edges, durations, SolveConfig())
    assert sol.group[2] == sol.group[0] >= 0
    got, why = _pendant_repeats(sol, edges, fps, durations, SolveConfig(), RescueConfig(), VerifyConfig(), 1)
    assert got.group[2] < 0 and got.group[1] == got.group[0] >= 0
    assert list(why) == [2] and "repeats the passage" in why[2]
    assert [(e.a, e.b) for e in edges] == [(0, 1)]


def test_music_that_does_not_repeat_keeps_the_edge_and_the_check_can_be_switched_off(tmp_path):
    """Eight different 8-s passages: nothing repeats the phone's stretch, the summed edge stays; and with the
    check off, the loop's summed edge stays too."""
    master = np.concatenate([synth.concert(LOOP_S, rate_hz=RATE, seed=100 + k, tempo_bpm=120) for k in range(8)])
    fps = _clips(tmp_path, master, "song")
    durations = [f.duration_s for f in fps]
    edges = [_edge(0, 1, 30.0, stacked=False), _edge(0, 2, 21.0, stacked=True)]
    sol = solve(3, edges, durations, SolveConfig())
    got, why = _pendant_repeats(sol, edges, fps, durations, SolveConfig(), RescueConfig(), VerifyConfig(), 1)
    assert why == {} and got.group[2] == got.group[0] >= 0 and len(edges) == 2
    loop = np.tile(synth.concert(LOOP_S, rate_hz=RATE, seed=81, tempo_bpm=120), 8)
    fps = _clips(tmp_path, loop, "loop")
    edges = [_edge(0, 1, 30.0, stacked=False), _edge(0, 2, 29.0, stacked=True)]
    sol = solve(3, edges, durations, SolveConfig())
    off = replace(RescueConfig(), pendant_repeats=False)
    got, why = _pendant_repeats(sol, edges, fps, durations, SolveConfig(), off, VerifyConfig(), 1)
    assert why == {} and got.group[2] == got.group[0] >= 0 and len(edges) == 2


def test_a_clip_hung_on_an_edge_of_few_standing_windows_in_a_loop_is_left_out(tmp_path):
    """fresh28's loop5: a 7-s iPhone clip held a loop's pass off by one edge of 3 of 5 windows standing alone
    (not summed), stated 0.2 ms. An edge of `pendant_windows` windows or fewer is asked like a summed one; with
    the bound at 0, only summed edges are, and it stays."""
    master = np.tile(synth.concert(LOOP_S, rate_hz=RATE, seed=81, tempo_bpm=120), 8)
    fps = _clips(tmp_path, master, "few")
    durations = [f.duration_s for f in fps]
    few = replace(_edge(0, 2, 21.0 + LOOP_S, stacked=False), windows=3, tried=5)
    edges = [_edge(0, 1, 30.0, stacked=False), few]
    sol = solve(3, edges, durations, SolveConfig())
    off = replace(RescueConfig(), pendant_windows=0)
    got, why = _pendant_repeats(sol, list(edges), fps, durations, SolveConfig(), off, VerifyConfig(), 1)
    assert why == {} and got.group[2] == got.group[0] >= 0
    got, why = _pendant_repeats(sol, edges, fps, durations, SolveConfig(), RescueConfig(), VerifyConfig(), 1)
    assert got.group[2] < 0 and list(why) == [2]


@pytest.mark.parametrize("late", [False, True])
def test_a_clip_hung_on_an_edge_that_knows_a_near_tie_is_left_out(late):
    """fresh34's loop5: a 6.5-s phone clip held by one clock-search edge of 10 windows at a loop's half-pass,
    1.455 s off, stated 0.33 ms at 0.996 — the edge itself carried its ties (`PairMatch.rivals`, 2.91 and 5.82 s
    on), which no clock 4 s wide can tell apart. Such an edge goes however many windows chose it (both when
    the pendant edges are asked and in the late pass after the last clock search), the clip left out with the
    reason; a tie further than the clocks' reach, a clip a second edge holds, or the switch off keep it."""
    durations = [300.0, 20.0, 6.5]
    held = replace(_edge(0, 2, 168.46, stacked=False), windows=10, tried=10, rivals=(171.37, 174.28))
    run = ((lambda sol, edges, cfg: _pendant_ties(sol, edges, durations, SolveConfig(), cfg)) if late else
           (lambda sol, edges, cfg: _pendant_repeats(sol, edges, [None] * 3, durations, SolveConfig(), cfg,
                                                     VerifyConfig(), 1)))

    def outcome(pendant: PairMatch, cfg: RescueConfig = RescueConfig(), *more: PairMatch):
        edges = [_edge(0, 1, 30.0, stacked=False), pendant, *more]
        return run(solve(3, edges, durations, SolveConfig()), edges, cfg)

    got, why = outcome(held)
    assert got.group[2] < 0 and got.group[1] == got.group[0] >= 0
    assert list(why) == [2] and "+171.37" in why[2] and "174.28" not in why[2]
    for kept in ((replace(held, rivals=(178.5,)),), (held, replace(RescueConfig(), pendant_rivals=False)),
                 (held, RescueConfig(), _edge(1, 2, 138.46, stacked=False))):
        got, why = outcome(*kept)
        assert why == {} and got.group[2] == got.group[0] >= 0
