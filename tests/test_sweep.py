"""A phone clip buried in noise, found by the whole-clip low-band sweep and kept only as a coherent line."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.fft

from bench import encode, synth
from syncfp.audio.extract import extract
from syncfp.config import FingerprintConfig, RescueConfig, VerifyConfig
from syncfp.engine.solve import Solution
from syncfp.sync.sweep import SweepAnchor, SweepMemo, _searched, candidates, fft_size, sweep_rescue

RATE = 48000
AT_S, LEN_S = 41.3, 30.0  # the board runs 80 s


def _encoded(tmp_path, name: str, x: np.ndarray):
    """*x* normalised, encoded to *name* (codec from the suffix) and extracted."""
    path = str(tmp_path / name)
    encode.write(path, (0.3 * x / np.abs(x).max()).astype(np.float32), rate_hz=RATE)
    return extract(path, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path))


def _fps(tmp_path, master):
    rng = np.random.default_rng(9)
    clip = master[int(AT_S * RATE): int((AT_S + LEN_S) * RATE)].astype(np.float64)
    clip += rng.standard_normal(clip.size) * np.sqrt(np.mean(clip**2)) * 10 ** (3 / 20)  # −3 dB SNR
    return [_encoded(tmp_path, "ZOOM0001.WAV", master[: int(80 * RATE)]), _encoded(tmp_path, "IMG_0001.MOV", clip)]


def _board_placed() -> Solution:
    """The board placed (group 0, at 0 s), the phone lost: what the solve says before the sweep."""
    return Solution(group=np.array([0, -1], np.int32), position_s=np.array([0.0, np.nan]), k=np.ones(2),
                    position_std_s=np.array([0.0, np.nan]), reference=np.array([0, -1], np.int32), inliers=[],
                    rejected=[], k_std=np.array([0.0, np.nan]))


def test_the_sweep_finds_a_buried_clip_and_places_it_to_a_millisecond(tmp_path, master):
    fps = _fps(tmp_path, master)
    cfg = RescueConfig()
    best = candidates(fps[1], 0.0, SweepAnchor(fps[0], cfg.max_query_s, cfg.sweep_band_hz), cfg, 4)
    assert abs(best[0][0] - AT_S) < 0.01 and best[0][1] >= cfg.sweep_min_z
    edges = sweep_rescue([1], fps, _board_placed(), cfg=cfg, verify_cfg=VerifyConfig())
    assert len(edges) == 1 and (edges[0].a, edges[0].b) == (0, 1)
    assert abs(edges[0].offset_s - AT_S) < 1e-3 and not edges[0].stacked


def test_a_second_sweep_of_the_run_reuses_the_first_ones_work(tmp_path, master, monkeypatch):
    """A clip swept again in a later round (same run, same `SweepMemo`) gets the same edge, and neither the
    anchor's spectrum nor its lags nor its windows are computed again; a sweep with a memo of its own does all."""
    from syncfp.sync import sweep
    fps, cfg, memo = _fps(tmp_path, master), RescueConfig(), SweepMemo()
    first = sweep_rescue([1], fps, _board_placed(), cfg=cfg, verify_cfg=VerifyConfig(), memo=memo)
    calls = []
    for name in ("candidates", "search_near"):
        monkeypatch.setattr(sweep, name, lambda *a, _f=getattr(sweep, name), _n=name, **k: calls.append(_n) or _f(*a, **k))
    init = sweep.SweepAnchor.__init__
    monkeypatch.setattr(sweep.SweepAnchor, "__init__", lambda *a, **k: calls.append("anchor") or init(*a, **k))
    again = sweep_rescue([1], fps, _board_placed(), cfg=cfg, verify_cfg=VerifyConfig(), memo=memo)
    assert again == first and len(first) == 1 and calls == []
    fresh = sweep_rescue([1], fps, _board_placed(), cfg=cfg, verify_cfg=VerifyConfig())  # its own memo: all again
    assert fresh == first and {"candidates", "search_near", "anchor"} <= set(calls)


def test_switched_off(tmp_path, master):
    fps = _fps(tmp_path, master)
    assert sweep_rescue([1], fps, _board_placed(), cfg=RescueConfig(sweep_anchors=0)) == []


def test_a_clip_inside_a_copied_section_is_left_alone(tmp_path):
    """The board plays one section twice, sample for sample: the clip's two places are both coherent."""
    section = synth.concert(40.0, rate_hz=RATE, seed=6)
    twice = np.concatenate([section, section]).astype(np.float32)
    fps = _fps(tmp_path, twice)  # the clip is cut at 41.3 s: inside the second copy, 40 s after the first
    assert sweep_rescue([1], fps, _board_placed(), cfg=RescueConfig(), verify_cfg=VerifyConfig()) == []


def test_a_line_at_a_sample_identical_repeat_is_vetoed_even_when_its_twin_was_not_searched(tmp_path):
    """Searched at one lag only, the sweep cannot see the clip's second coherent place; the strict repeat check
    (`rescue.repeat_rivals`) finds that the board repeats the matched stretch and the clip fits there too."""
    section = synth.concert(40.0, rate_hz=RATE, seed=6)
    twice = np.concatenate([section, section]).astype(np.float32)
    fps = _fps(tmp_path, twice)
    one = RescueConfig(sweep_searches=1)
    assert len(sweep_rescue([1], fps, _board_placed(), cfg=replace(one, sweep_repeat_veto=False))) == 1
    assert sweep_rescue([1], fps, _board_placed(), cfg=one) == []


def _buried(tmp_path, master, at_s: float, len_s: float, ppm: float, snr_db: float, seed: int, name: str):
    """A phone's drifting clip of master[at : at + len] under white noise at *snr_db*, encoded and extracted."""
    rng = np.random.default_rng(seed)
    clip = synth.drift(master[int(at_s * RATE): int((at_s + len_s) * RATE)], ppm).astype(np.float64)
    clip += rng.standard_normal(clip.size) * np.sqrt(np.mean(clip**2)) * 10 ** (-snr_db / 20)
    return _encoded(tmp_path, name, clip)


def test_a_drifting_phone_is_found_at_its_clock_rate(tmp_path, master):
    """150 ppm smears a 70-s query's correlation over 10 ms: read at rate 1 the lag sinks under the sweep's
    threshold; read at the phone's clock rate (one of `sweep_rates_ppm`) it stands far out and is placed."""
    board = _encoded(tmp_path, "ZOOM0001.WAV", master)
    phone = _buried(tmp_path, master, 21.3, 70.0, ppm=150.0, snr_db=-12.0, seed=9, name="IMG_0002.MOV")
    fps, cfg = [board, phone], RescueConfig()
    anchor = SweepAnchor(board, cfg.max_query_s, cfg.sweep_band_hz)
    plain = candidates(phone, 0.0, anchor, cfg, 1)
    rho = 1.0 - 150e-6  # the phone's second lasts 1 / (1 + 150 ppm) of the board's
    rated = candidates(phone, 0.0, anchor, cfg, 1, rho=rho)
    assert plain[0][1] < cfg.sweep_min_z and rated[0][1] > 5 * cfg.sweep_min_z
    assert sweep_rescue([1], fps, _board_placed(), cfg=replace(cfg, sweep_rates_ppm=(0.0,))) == []
    edges = sweep_rescue([1], fps, _board_placed(), cfg=cfg, verify_cfg=VerifyConfig())
    assert len(edges) == 1 and (edges[0].a, edges[0].b) == (0, 1)
    assert abs(edges[0].offset_s - 21.3) < 1e-3 and abs(edges[0].rate - (1 + 150e-6)) < 20e-6


def test_two_lost_clips_find_each_other(tmp_path, master):
    """Two far phones nothing placed: each is an anchor for the other (`sweep_lost_anchors`)."""
    a = _buried(tmp_path, master, 10.0, 60.0, ppm=0.0, snr_db=-3.0, seed=3, name="IMG_0003.MOV")
    b = _buried(tmp_path, master, 40.0, 55.0, ppm=0.0, snr_db=-3.0, seed=4, name="VID_20260612_210040.mp4")
    none = Solution(group=np.array([-1, -1], np.int32), position_s=np.full(2, np.nan), k=np.ones(2),
                    position_std_s=np.full(2, np.nan), reference=np.array([-1, -1], np.int32), inliers=[],
                    rejected=[], k_std=np.full(2, np.nan))
    cfg = RescueConfig()
    assert sweep_rescue([0, 1], [a, b], none, cfg=replace(cfg, sweep_lost_anchors=0)) == []
    edges = sweep_rescue([0, 1], [a, b], none, cfg=cfg, verify_cfg=VerifyConfig())
    assert len(edges) == 1 and (edges[0].a, edges[0].b) == (0, 1)
    assert abs(edges[0].offset_s - 30.0) < 1e-3


def test_two_lost_clips_behind_four_longer_lost_ones_find_each_other(tmp_path, master):
    """A festival's far stage: four longer lost clips of another song come first among the lost anchors; the
    two phones that hear each other are the fifth and sixth longest (`sweep_lost_anchors` = 8 reaches them)."""
    other = synth.concert(80.0, rate_hz=RATE, seed=21)
    decoys = [_buried(tmp_path, other, 2.0 + k, 70.0 + k, ppm=0.0, snr_db=-3.0, seed=30 + k, name=f"C00{k}.MP4")
              for k in range(4)]
    a = _buried(tmp_path, master, 10.0, 60.0, ppm=0.0, snr_db=-3.0, seed=3, name="IMG_0003.MOV")
    b = _buried(tmp_path, master, 40.0, 55.0, ppm=0.0, snr_db=-3.0, seed=4, name="VID_20260612_210040.mp4")
    n = 6
    none = Solution(group=np.full(n, -1, np.int32), position_s=np.full(n, np.nan), k=np.ones(n),
                    position_std_s=np.full(n, np.nan), reference=np.full(n, -1, np.int32), inliers=[],
                    rejected=[], k_std=np.full(n, np.nan))
    fps, cfg = [*decoys, a, b], RescueConfig()
    assert cfg.sweep_lost_anchors >= 6
    four = sweep_rescue(list(range(n)), fps, none, cfg=replace(cfg, sweep_lost_anchors=4))
    assert not any({e.a, e.b} == {4, 5} for e in four)
    edges = [e for e in sweep_rescue(list(range(n)), fps, none, cfg=cfg) if {e.a, e.b} == {4, 5}]
    assert len(edges) == 1 and abs(edges[0].offset_s - 30.0) < 1e-3


def test_a_lost_anchors_lags_add_searches_rather_than_take_a_placed_partners():
    """Lags (z, anchor, offset, rho): anchors 7 and 8 are lost clips, 1-3 placed. The four strongest are
    searched (one lag read at two rates once); for each lost anchor's among them one more placed lag is."""
    lags = [(30.0, 7, 5.0, 1.0), (29.0, 7, 5.0075, 1.000075), (25.0, 8, 1.0, 1.0), (20.0, 1, 2.0, 1.0),
            (15.0, 2, 3.0, 1.0), (12.0, 3, 4.0, 1.0), (11.0, 1, 9.0, 1.0), (10.0, 2, 8.0, 1.0)]
    picked = [(a, o) for _, a, o, _ in _searched(lags, 4, frozenset({1, 2, 3}))]
    assert picked == [(7, 5.0), (8, 1.0), (1, 2.0), (2, 3.0), (3, 4.0), (1, 9.0)]
    assert [(a, o) for _, a, o, _ in _searched(lags, 4, frozenset())] == picked[:4]


def test_a_drifting_match_keeps_its_energy_for_the_rate_screen(tmp_path, master, other_master):
    """Read at rate 1, the drifting phone's peak is smeared but its 24-ms blocks of energy stand out
    against an anchor it is not in; with the screen on it is still found."""
    phone = _buried(tmp_path, master, 21.3, 70.0, ppm=150.0, snr_db=-12.0, seed=9, name="IMG_0002.MOV")
    cfg, stats = RescueConfig(), []
    board, other = _encoded(tmp_path, "ZOOM0001.WAV", master), _encoded(tmp_path, "ZOOM0002.WAV", other_master)
    for fp in (board, other):
        candidates(phone, 0.0, SweepAnchor(fp, cfg.max_query_s, cfg.sweep_band_hz), cfg, 1, smear=stats)
    assert stats[0] > 8.0 > 6.0 > stats[1]
    edges = sweep_rescue([1], [board, phone], _board_placed(), cfg=replace(cfg, sweep_rate_screen=6.0))
    assert len(edges) == 1 and abs(edges[0].offset_s - 21.3) < 1e-3



def _two_groups() -> Solution:
    """Clips 0-1 placed as group 0, clips 2-3 as group 1 (in their own clock): what a solve leaves when no
    fingerprint line joined the two halves of one concert."""
    return Solution(group=np.array([0, 0, 1, 1], np.int32), position_s=np.array([0.0, 5.0, 0.0, 18.7]),
                    k=np.ones(4), position_std_s=np.zeros(4), reference=np.array([0, 0, 2, 2], np.int32),
                    inliers=[], rejected=[], k_std=np.zeros(4))


def test_two_groups_of_one_concert_are_joined_by_their_envoys(tmp_path, master, other_master):
    """A board and a close phone (group 0); two far phones that only found each other (group 1): the longest
    clips of the smaller group are swept against the other group's and join it at the truth; far phones of
    another concert are left apart. (The synthetic concert repeats bars sample for sample, which the strict
    repeat veto, tested above, rightly distrusts; it is off here so that only the join is tested.)"""
    from syncfp.config import SolveConfig
    from syncfp.sync.api import _joined

    board = _encoded(tmp_path, "ZOOM0001.WAV", master)
    close = _buried(tmp_path, master, 5.0, 40.0, ppm=0.0, snr_db=20.0, seed=1, name="IMG_0001.MOV")
    cfg = RescueConfig(sweep_repeat_veto=False)
    truth = {0: 0.0, 1: 5.0, 2: 41.3, 3: 60.0}
    for src, tag in ((master, "0"), (other_master, "1")):
        far = [_buried(tmp_path, src, 1.3 if tag == "1" else 41.3, 30.0, ppm=0.0, snr_db=-3.0, seed=3,
                       name=f"IMG_010{tag}.MOV"),
               _buried(tmp_path, src, 20.0 if tag == "1" else 60.0, 38.0, ppm=0.0, snr_db=-3.0, seed=4,
                       name=f"VID_20260612_21005{tag}.mp4")]
        fps = [board, close, *far]
        durations = [f.duration_s for f in fps]
        edges: list = []
        _, found = _joined(_two_groups(), edges, fps, durations, SolveConfig(), cfg, VerifyConfig(), 1)
        if tag == "1":
            assert not found and edges == []
            continue
        assert found and len(edges) == 2
        for e in edges:  # each envoy joins the board, at the truth
            assert (e.a, e.b) in ((0, 2), (0, 3)) and abs(e.offset_s - (truth[e.b] - truth[e.a])) < 1e-3
        assert not _joined(_two_groups(), [], fps, durations, SolveConfig(), replace(cfg, sweep_envoys=0),
                           VerifyConfig(), 1)[1]


def test_anchors_span_the_timeline_after_the_longest():
    """The longest clips first; then, of the rest, those holding time no chosen anchor holds (a festival's
    later concerts), passing over a clip that lies inside the anchors already chosen."""
    from types import SimpleNamespace

    from syncfp.sync.sweep import _covering

    durs = [300.0, 250.0, 100.0, 60.0, 50.0]  # clip 2 lies inside clip 0; clip 3 is a later concert
    fps = [SimpleNamespace(duration_s=d) for d in durs]
    sol = Solution(group=np.array([0, 0, 0, 1, 0], np.int32), position_s=np.array([0.0, 20.0, 100.0, 0.0, 290.0]),
                   k=np.ones(5), position_std_s=np.zeros(5), reference=np.zeros(5, np.int32), inliers=[],
                   rejected=[], k_std=np.zeros(5))
    cfg = RescueConfig(sweep_anchors=1, sweep_cover_anchors=2, sweep_cover_s=20.0)
    assert _covering([0, 1, 2, 3, 4], fps, sol, cfg) == [0, 3, 4]  # clip 4 adds 40 s past clip 0's end
    assert _covering([0, 1, 2, 3, 4], fps, sol, replace(cfg, sweep_cover_anchors=0)) == [0]
    assert _covering([0, 1, 2, 3, 4], fps, sol, replace(cfg, sweep_anchors=2, sweep_cover_anchors=1)) == [0, 1, 3]


def test_one_place_read_through_a_drifting_anchor_is_one_place(tmp_path, master):
    """The clip (index 0) is found from its own side against two boards, one running 150 ppm fast: its start
    in that board's clock must be turned with the edge's rate before the two places are compared. Unturned,
    they lay 6 ms apart here (49 ms over 326 s on the kind bench, where the clip was left out as a loop)."""
    phone = _buried(tmp_path, master, 41.3, 30.0, ppm=0.0, snr_db=-3.0, seed=9, name="IMG_0001.MOV")
    board = _encoded(tmp_path, "ZOOM0001.WAV", master[: int(80 * RATE)])
    fast = _encoded(tmp_path, "ZOOM0002.WAV", synth.drift(master[: int(80 * RATE)], 150.0))
    k_fast = 1.0 / (1.0 + 150e-6)  # timeline seconds per second of the fast board
    sol = Solution(group=np.array([-1, 0, 0], np.int32), position_s=np.array([np.nan, 0.0, 0.0]),
                   k=np.array([1.0, 1.0, k_fast]), position_std_s=np.array([np.nan, 0.0, 0.0]),
                   reference=np.array([-1, 1, 1], np.int32), inliers=[], rejected=[],
                   k_std=np.array([np.nan, 0.0, 0.0]))
    cfg = RescueConfig(sweep_same_s=0.003, sweep_repeat_veto=False)  # the synthetic bars repeat (see above)
    edges = sweep_rescue([0], [phone, board, fast], sol, cfg=cfg, verify_cfg=VerifyConfig())
    assert len(edges) == 1 and edges[0].a == 0
    at = -edges[0].offset_s * edges[0].rate * (k_fast if edges[0].b == 2 else 1.0)
    assert abs(at - 41.3) < 1e-3


def test_a_clip_heard_only_by_its_windows_summed_is_placed_when_their_groups_agree(tmp_path, master):
    """At −30 dB no 6-s window stands out alone, so the line is confirmed only summed (stacked), and a summed
    line cannot show its scatter: left out before. Groups of three windows, each summed, agree on one lag to
    a few µs (`verify._pooled_scatter`), as one moment heard twice does; the clip is placed to a millisecond."""
    board = _encoded(tmp_path, "ZOOM0001.WAV", master)
    phone = _buried(tmp_path, master, 21.3, 50.0, ppm=0.0, snr_db=-30.0, seed=9, name="IMG_0002.MOV")
    cfg = RescueConfig()
    assert sweep_rescue([1], [board, phone], _board_placed(), cfg=replace(cfg, sweep_pooled=False)) == []
    edges = sweep_rescue([1], [board, phone], _board_placed(), cfg=cfg, verify_cfg=VerifyConfig())
    assert len(edges) == 1 and edges[0].stacked and abs(edges[0].offset_s - 21.3) < 1e-3


def test_a_far_phone_between_the_sweeps_rates_is_found_at_its_own(tmp_path, master):
    """A phone running 25 ppm slow lies a third of the way between the sweep's rates (0 and −75 ppm): at −28 dB
    its 6-s windows line up as one moment only near its own rate. Searched again at the lag's rate ±25 ppm
    (`sweep_search_rates_ppm`) it is placed to 0.1 ms; searched at the sweep's rates alone it is not."""
    board = _encoded(tmp_path, "ZOOM0001.WAV", master)
    cfg = RescueConfig()
    for seed in (10, 11):
        phone = _buried(tmp_path, master, 21.3, 50.0, ppm=-25.0, snr_db=-28.0, seed=seed, name=f"IMG_{seed:04d}.MOV")
        assert sweep_rescue([1], [board, phone], _board_placed(), cfg=replace(cfg, sweep_search_rates_ppm=())) == []
        edges = sweep_rescue([1], [board, phone], _board_placed(), cfg=cfg, verify_cfg=VerifyConfig())
        assert len(edges) == 1 and abs(edges[0].offset_s - 21.3) < 1e-4


def _played_again(x: np.ndarray, wander_s: float, period_s: float) -> np.ndarray:
    """*x* as players play it a second time: the same notes, their timing wandering by ±*wander_s*."""
    t = np.arange(x.size, dtype=np.float64)
    warp = t + wander_s * RATE * np.sin(2 * np.pi * t / (period_s * RATE))
    return np.interp(warp, t, x).astype(np.float32)


def test_a_line_is_kept_over_a_repeat_played_again(tmp_path):
    """The board plays one section twice, the second time with its timing wandering by ±0.3 ms (a band's
    repeat, not a copy). The clip cut from the second time lines up there as one moment heard twice; at
    the first time its windows confirm too, but scatter like a repeat played again: that ties with nothing,
    where the strict check without that rule (`rival_alone`) left the clip out."""
    section = synth.concert(40.0, rate_hz=RATE, seed=6)
    board = np.concatenate([section, _played_again(section, 3e-4, 7.0)]).astype(np.float32)
    fps = _fps(tmp_path, board)  # the clip is cut at 41.3 s: from the second time
    cfg = RescueConfig()
    edges = sweep_rescue([1], fps, _board_placed(), cfg=cfg, verify_cfg=VerifyConfig())
    assert len(edges) == 1 and abs(edges[0].offset_s - AT_S) < 1e-3
    assert sweep_rescue([1], fps, _board_placed(), cfg=replace(cfg, rival_alone=False)) == []


def test_a_clip_found_by_the_sweep_is_swept_against_in_the_next_round(tmp_path, master):
    """The board holds the first 50 s; phone A (35-95 s) overlaps it, phone B (62-100 s) only A. With no lost
    clip as an anchor, B can only be found against A once A is placed: the sweep's second round."""
    from syncfp.config import SolveConfig
    from syncfp.sync.api import _swept

    board = _encoded(tmp_path, "ZOOM0001.WAV", master[: int(50 * RATE)])
    a = _buried(tmp_path, master, 35.0, 60.0, ppm=0.0, snr_db=-3.0, seed=3, name="IMG_0003.MOV")
    b = _buried(tmp_path, master, 62.0, 38.0, ppm=0.0, snr_db=-3.0, seed=4, name="VID_20260612_210040.mp4")
    fps = [board, a, b]
    sol = Solution(group=np.array([0, -1, -1], np.int32), position_s=np.array([0.0, np.nan, np.nan]), k=np.ones(3),
                   position_std_s=np.array([0.0, np.nan, np.nan]), reference=np.array([0, -1, -1], np.int32),
                   inliers=[], rejected=[], k_std=np.array([0.0, np.nan, np.nan]))
    cfg = replace(RescueConfig(), sweep_lost_anchors=0)
    durations = [f.duration_s for f in fps]
    for rounds, placed in ((1, [0, 1]), (3, [0, 1, 2])):
        edges: list = []
        out, found = _swept([1, 2], sol, edges, fps, durations, SolveConfig(), replace(cfg, sweep_rounds=rounds),
                            VerifyConfig(), 1)
        assert found and list(np.flatnonzero(out.group >= 0)) == placed
    assert abs(out.position_s[2] - out.position_s[0] - 62.0) < 1e-3


def test_two_groups_meeting_at_a_long_clips_start_are_joined_by_its_first_seconds(tmp_path):
    """A board heard 0-60 s and a close phone (group 0); a camera rolling 40-200 s and a phone 120-180 s
    (group 1): the groups share only the camera's first 20 s, which the middle two minutes the sweep reads of
    a long clip leave out. Swept by its first `sweep_join_query_s`, the camera joins the board at the truth.
    Without it nothing joins: not even the board and the phone at a section the song plays again 104 s later,
    whose windows a rate 25 ppm off draws tighter but no more of them agree (`sweep_rate_share_gain`)."""
    from syncfp.config import SolveConfig
    from syncfp.sync.api import _joined

    song = synth.concert(200.0, rate_hz=RATE, seed=11)
    board = _encoded(tmp_path, "ZOOM0001.WAV", song[: 60 * RATE])
    close = _buried(tmp_path, song, 10.0, 40.0, ppm=0.0, snr_db=20.0, seed=7, name="IMG_0001.MOV")
    camera = _buried(tmp_path, song, 40.0, 160.0, ppm=0.0, snr_db=0.0, seed=5, name="C0001.MP4")
    phone = _buried(tmp_path, song, 120.0, 60.0, ppm=0.0, snr_db=0.0, seed=6, name="IMG_0002.MOV")
    fps = [board, close, camera, phone]
    durations = [f.duration_s for f in fps]
    two = Solution(group=np.array([0, 0, 1, 1], np.int32), position_s=np.array([0.0, 10.0, 0.0, 80.0]),
                   k=np.ones(4), position_std_s=np.zeros(4), reference=np.array([0, 0, 2, 2], np.int32),
                   inliers=[], rejected=[], k_std=np.zeros(4))
    edges: list = []
    assert not _joined(two, edges, fps, durations, SolveConfig(), RescueConfig(sweep_join_query_s=0.0),
                       VerifyConfig(), 1)[1] and edges == []
    found = _joined(two, edges, fps, durations, SolveConfig(), RescueConfig(), VerifyConfig(), 1)[1]
    assert found and [(e.a, e.b) for e in edges] == [(0, 2)] and abs(edges[0].offset_s - 40.0) < 1e-3


def test_the_sweeps_fft_holds_anchor_and_query_with_at_most_a_fifth_of_padding():
    """Sizes are 5, 6, 7 or 8 times a power of two: every lag of the query over the anchor fits (the circular
    correlation is the linear one), padding stays under a fifth, and lengths a few percent apart share a size."""
    for length in (1, 999, 30_000, 240_001, 500_000, 1_200_000, 7_200_000):
        n = fft_size(length, 120.0, 2000.0)
        need = length + 240_001
        assert need <= n and (n - need) / n <= 0.2
        assert n == scipy.fft.next_fast_len(n)
    assert fft_size(1_200_000, 120.0, 2000.0) == fft_size(1_220_000, 120.0, 2000.0)


def test_a_clip_summed_in_under_nine_windows_is_placed_when_three_groups_of_them_agree(tmp_path, master):
    """A 28-s phone at −30 dB gets seven 6-s windows, none standing alone: too few for three groups of three,
    so its summed line showed no scatter and it was left out. Three groups of two or three
    (`VerifyConfig.pool_min_windows`) agree to tens of µs, and it is placed to a millisecond."""
    board = _encoded(tmp_path, "ZOOM0001.WAV", master)
    phone = _buried(tmp_path, master, 21.3, 28.0, ppm=0.0, snr_db=-30.0, seed=9, name="IMG_0002.MOV")
    fps, cfg = [board, phone], RescueConfig()
    assert sweep_rescue([1], fps, _board_placed(), cfg=cfg, verify_cfg=VerifyConfig(pool_min_windows=9)) == []
    edges = sweep_rescue([1], fps, _board_placed(), cfg=cfg, verify_cfg=VerifyConfig())
    assert len(edges) == 1 and edges[0].stacked and edges[0].windows < 9
    assert abs(edges[0].offset_s - 21.3) < 1e-3 and edges[0].pooled_scatter_s < VerifyConfig().coherent_s


def test_a_clip_summed_in_few_windows_is_placed_at_its_own_time_not_at_the_repeat_played_again(tmp_path):
    """The board plays a section twice, the second time with its timing wandering by ±0.3 ms; a 28-s phone at
    −30 dB cut from the first time is confirmed only summed, in seven windows. Placed at its own time (three
    groups of its windows agree there), not at the repeat 40 s on, and not left out as a loop."""
    section = synth.concert(40.0, rate_hz=RATE, seed=6)
    board_x = np.concatenate([section, _played_again(section, 3e-4, 7.0)]).astype(np.float32)
    board = _encoded(tmp_path, "ZOOM0001.WAV", board_x)
    phone = _buried(tmp_path, board_x, 1.3, 28.0, ppm=0.0, snr_db=-30.0, seed=9, name="IMG_0002.MOV")
    edges = sweep_rescue([1], [board, phone], _board_placed(), cfg=RescueConfig(), verify_cfg=VerifyConfig())
    assert len(edges) == 1 and edges[0].stacked and abs(edges[0].offset_s - 1.3) < 1e-3
