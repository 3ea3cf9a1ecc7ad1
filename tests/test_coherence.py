"""A clip inside a repeated section: the repeat played again is told from the moment itself by how tightly the
windows line up; a sample-identical repeat stays ambiguous.

The wander here reaches 1.5 ms but changes slowly, so over the clip's 14 s the repeat's windows still agree
on one line to `agree_s` (7 of 7 confirm it, as many as the truth): only their scatter tells, ~0.14 ms
against the moment's ~0.001 ms. A wander half as large leaves the repeat within `incoherent_s`: ambiguous."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bench import encode, synth
from syncfp.audio.extract import extract
from syncfp.config import FingerprintConfig, VerifyConfig
from syncfp.sync.arrivals import incoherent, measure
from syncfp.sync.contest import settle_contested
from syncfp.sync.verify import verify_pair
from syncfp.types import PairMatch

RATE = 48000
SECTION_S = 30.0
CLIP_AT_S, CLIP_S = 37.0, 14.0  # inside the second playing of the section


def _wander(x: np.ndarray, max_s: float, seed: int) -> np.ndarray:
    """*x* read through a smoothly wandering delay of at most *max_s* (changing over seconds)."""
    rng = np.random.default_rng(seed)
    knots = np.cumsum(rng.standard_normal(int(x.size / RATE) + 2))
    knots = (knots - knots.mean()) / (np.abs(knots - knots.mean()).max() + 1e-12) * max_s * RATE
    n = np.arange(x.size, dtype=np.float64)
    return np.interp(n - np.interp(n, np.arange(knots.size) * RATE, knots), n, x).astype(np.float32)


def _pair(tmp_path, wobble: bool):
    section = synth.concert(SECTION_S, rate_hz=RATE, seed=5)
    prog = np.concatenate([section, section])  # the chorus twice, as copied in the studio
    if wobble:  # played live: the same notes, timing wandering by up to 1.5 ms
        prog = _wander(prog, 1.5e-3, seed=3)
    rng = np.random.default_rng(4)
    clip = prog[int(CLIP_AT_S * RATE): int((CLIP_AT_S + CLIP_S) * RATE)].astype(np.float64)
    clip += rng.standard_normal(clip.size) * np.sqrt(np.mean(clip**2)) * 10 ** (-15 / 20)
    fps = []
    for name, x in (("board.wav", prog), ("IMG_0001.MOV", clip.astype(np.float32))):
        path = str(tmp_path / name)
        encode.write(path, (0.3 * x / np.abs(x).max()).astype(np.float32), rate_hz=RATE)
        fps.append(extract(path, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path)))
    hyps = [PairMatch(a=0, b=1, offset_s=off, rate=1.0, support=30, z=10.0, ratio=1.0, trusted=True, hypothesis=k)
            for k, off in enumerate((CLIP_AT_S - SECTION_S, CLIP_AT_S))]
    return verify_pair(hyps, fps[0], fps[1]), fps


def test_a_repeat_played_again_is_not_the_moment(tmp_path):
    v, _ = _pair(tmp_path, wobble=True)
    assert v.edge is not None and abs(v.edge.offset_s - CLIP_AT_S) < 0.5e-3
    both = {round(ev.edge.offset_s): ev for ev in v.evidence}
    moment, repeat = both[round(CLIP_AT_S)], both[round(CLIP_AT_S - SECTION_S)]
    assert repeat.ok and not repeat.stacked and repeat.confirmed == moment.confirmed  # equal by the windows
    assert moment.scatter < 6e-5 < 1e-4 < repeat.scatter


def test_a_sample_identical_repeat_stays_ambiguous(tmp_path):
    v, _ = _pair(tmp_path, wobble=False)
    assert v.edge is None
    assert sorted(round(o) for o in v.ambiguous) == [round(CLIP_AT_S - SECTION_S), round(CLIP_AT_S)]


def test_an_edge_at_a_repeat_played_again_is_dropped_after_the_solve(tmp_path):
    """Read again at its own refined line, the repeat's windows still scatter like a repeat: the edge goes;
    the moment's edge stays (`sync.arrivals.incoherent`, run on the solved graph's edges)."""
    v, fps = _pair(tmp_path, wobble=True)
    edges = [ev.edge for ev in sorted(v.evidence, key=lambda ev: ev.edge.offset_s)]  # repeat, then moment
    assert not edges[0].stacked  # its windows confirmed it standing alone
    arrs = measure(edges, fps)
    assert arrs[0].scatter > 1e-4 > 6e-5 > arrs[1].scatter
    assert incoherent(edges, arrs) == [0]


def test_a_summed_edge_whose_groups_scatter_like_a_repeat_is_dropped():
    """A line confirmed only summed has no windows standing alone to read; its groups of summed windows do
    (`pooled_scatter_s`): 110 of 114 right summed edges pool under 200 µs on the read hard draws, repeats
    played again to 355-426 µs (fresh7's festival: a camera joined to a memo 16.7 s off at 0.36 ms, which took
    four clips with it)."""
    from dataclasses import replace

    from syncfp.config import VerifyConfig

    def summed(pooled):
        return PairMatch(a=0, b=1, offset_s=1.0, rate=1.0, support=30, z=5.0, ratio=2.0, trusted=True,
                         windows=8, stacked=True, pooled_scatter_s=pooled)
    edges = [summed(3.6e-4), summed(2.3e-4), summed(None)]
    assert incoherent(edges, [None] * 3) == [0]
    assert incoherent(edges, [None] * 3, replace(VerifyConfig(), incoherent_pooled_s=0.0)) == []


def test_two_stages_joining_one_pair_at_a_repeat_and_the_moment_keep_the_moment(tmp_path):
    """Two stages each verified their own edge for one pair (a fingerprint line at the repeat, a rescue at
    the moment): checked together (`sync.contest`), the moment's edge stays and the repeat's goes."""
    v, fps = _pair(tmp_path, wobble=True)
    edges = [ev.edge for ev in sorted(v.evidence, key=lambda ev: ev.edge.offset_s)]  # repeat, then moment
    assert all(e.trusted for e in edges)
    why = settle_contested(edges, fps, VerifyConfig(), 0.25)
    assert why == {} and len(edges) == 1 and abs(edges[0].offset_s - CLIP_AT_S) < 0.5e-3


def test_two_stages_joining_one_pair_at_a_sample_identical_repeat_use_neither(tmp_path):
    """Neither place explains audio the other cannot: both edges are set aside, and the clip inside the
    repeat (the shorter) says why."""
    v, fps = _pair(tmp_path, wobble=False)
    edges = [ev.edge for ev in v.evidence]
    assert len(edges) == 2 and all(ev.ok for ev in v.evidence)
    edges = [replace(e, trusted=True) for e in edges]
    why = settle_contested(edges, fps, VerifyConfig(), 0.25)
    assert edges == [] and list(why) == [1] and "30.00 s apart" in why[1] and "board.wav" in why[1]


def test_one_pairs_edges_at_two_clock_rates_are_one_place(tmp_path):
    """Two edges of one place whose rates differ by 200 ppm (their offsets, at b's first sample, 5 ms apart
    over a 14-s clip: well under the contest's reach) are not rivals."""
    v, fps = _pair(tmp_path, wobble=True)
    moment = next(ev.edge for ev in v.evidence if abs(ev.edge.offset_s - CLIP_AT_S) < 0.01)
    edges = [moment, replace(moment, offset_s=moment.offset_s + 0.005, rate=moment.rate * (1 + 2e-4))]
    assert settle_contested(edges, fps, VerifyConfig(), 0.25) == {} and len(edges) == 2
