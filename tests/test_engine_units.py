"""Stage-level tests: hash layout, block/whole equivalence, index, matching sign and drift, graph solve."""

from __future__ import annotations

import numpy as np
import pytest

from syncfp.engine import hashtable as index_mod
from syncfp.engine import match as match_mod
from syncfp.sync.api import match_all
from syncfp.config import FingerprintConfig, MatchConfig
from syncfp.engine.fingerprint import fingerprint, fingerprint_blocks, pack, unpack
from syncfp.engine.solve import solve
from bench.synth import concert, drift
from syncfp.types import Fingerprint, Hashes, MediaInfo, PairMatch

CFG = FingerprintConfig()


@pytest.fixture(scope="module")
def music8k():
    return concert(150.0, rate_hz=8000, seed=3)


def test_pack_unpack_roundtrip():
    rng = np.random.default_rng(0)
    f1, f2, dt = rng.integers(0, 256, 1000), rng.integers(0, 256, 1000), rng.integers(1, 64, 1000)
    h = pack(f1, f2, dt)
    assert h.dtype == np.uint32
    g1, g2, gdt = unpack(h)
    assert np.array_equal(g1, f1) and np.array_equal(g2, f2) and np.array_equal(gdt, dt)


def test_blockwise_equals_whole(music8k):
    whole = fingerprint(music8k, CFG)
    blocks = fingerprint_blocks(music8k, CFG, block_windows=7)  # odd block size: many boundaries
    assert np.array_equal(whole.hash, blocks.hash) and np.array_equal(whole.frame, blocks.frame)
    density = len(whole) / (music8k.size / 8000)
    assert 60 < density < 400, density


def test_int16_memmap_input_matches_float(music8k, tmp_path):
    q = np.clip(music8k * 32767, -32768, 32767).astype(np.int16)
    p = tmp_path / "x.pcm"
    q.tofile(p)
    mm = np.memmap(p, dtype=np.int16, mode="r")
    a = fingerprint_blocks(mm, CFG)
    b = fingerprint(q.astype(np.float32) / 32768.0, CFG)
    assert np.array_equal(a.hash, b.hash)


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_spectral_rfft_is_scipys_bit_for_bit(dtype):
    """`spectral.rfft` (SciPy's pocketfft loaded without scipy.fft) gives scipy.fft.rfft's every bit; numpy.fft
    would not (it transforms float32 in float64)."""
    import scipy.fft

    from syncfp.engine import spectral

    rng = np.random.default_rng(5)
    for shape in [(1, 512), (300, 512), (17, 256), (9, 1000), (512,)]:
        x = (rng.standard_normal(shape) * 10 ** rng.uniform(-3, 3)).astype(dtype)
        ours, theirs = spectral.rfft(x, axis=-1), scipy.fft.rfft(x, axis=-1)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape and _bits(ours) == _bits(theirs)
    y = rng.standard_normal((512, 40)).astype(dtype)
    assert _bits(spectral.rfft(y, axis=0)) == _bits(scipy.fft.rfft(y, axis=0))


def test_spectral_running_mean_is_ndimages_bit_for_bit():
    """`spectral.running_mean` follows ndimage's uniform_filter1d operation for operation: equal bits for
    any size, either axis, float32 and float64, values far apart in magnitude (where a different order of
    additions would round differently)."""
    from scipy.ndimage import uniform_filter1d

    from syncfp.engine import spectral

    rng = np.random.default_rng(6)
    cases = [((2100, 245), 31, 0), ((2100, 245), 93, 0), ((245, 400), 31, 1), ((5, 245), 31, 0), ((1, 7), 31, 0),
             ((40, 3), 4, 0), ((40, 3), 1, 0), ((3, 7), 200, 0), ((1000,), 12, 0)]
    for dtype in (np.float32, np.float64):
        for shape, size, axis in cases:
            x = (rng.standard_normal(shape) * 10 ** rng.uniform(-3, 5)).astype(dtype)
            x[rng.random(shape) < 0.02] *= 1e7
            ours = spectral.running_mean(x, size, axis=axis)
            theirs = uniform_filter1d(x, size=size, axis=axis, mode="nearest")
            assert ours.dtype == theirs.dtype and ours.shape == theirs.shape and _bits(ours) == _bits(theirs), \
                (dtype, shape, size, axis)


def test_index_lookup():
    h1 = Hashes(np.array([5, 3, 5], np.uint32), np.array([0, 1, 2], np.int32), 3)
    h2 = Hashes(np.array([3, 9], np.uint32), np.array([7, 8], np.int32), 9)
    idx = index_mod.build([h1, h2])
    start, stop = idx.lookup(np.array([3, 4, 5, 9], np.uint32))
    assert list(stop - start) == [2, 0, 2, 1]
    s, e = start[0], stop[0]
    assert sorted(zip(idx.items[s:e], idx.frames[s:e])) == [(0, 1), (1, 7)]


def _fp(x, name):
    h = fingerprint(x, CFG)
    info = MediaInfo(path=name, duration_s=x.size / 8000, sample_rate_hz=8000, channels=1, codec="pcm")
    return Fingerprint(name, info, h, x.size / 8000, "", 8000, -20.0)


def test_pair_offset_sign_and_drift(music8k):
    """b starts 20 s after a: offset_s = position(b) - position(a) = +20; b's clock 1000 ppm fast (a
    mislabelled 29.97/30 rate), which smears a plain histogram over 4 hops across the overlap."""
    a = music8k[: 8000 * 150]
    b = drift(music8k[8000 * 20 : 8000 * 150], 1000.0)
    edges = match_all([_fp(a, "a"), _fp(b, "b")], fcfg=CFG, mcfg=MatchConfig())
    assert len(edges) == 1 and edges[0].trusted
    e = edges[0]
    assert e.offset_s == pytest.approx(20.0, abs=CFG.hop_s)
    # k_a / k_b where k converts clip seconds to real seconds: k_b = 1 / (1 + 1000e-6); the coarse
    # search resolves the rate to one step of its grid
    assert (e.rate - 1) * 1e6 == pytest.approx(1000.0, abs=e.rate_error * 1e6 + 1)
    assert e.rate_error < 300e-6


def test_unrelated_audio_gives_no_trusted_edge(music8k):
    other = concert(60.0, rate_hz=8000, seed=11)
    edges = match_all([_fp(music8k[: 8000 * 60], "a"), _fp(other, "b")], fcfg=CFG, mcfg=MatchConfig())
    assert not any(e.trusted for e in edges)


def _edge(a, b, off, w=100.0, rate=1.0):
    return PairMatch(a=a, b=b, offset_s=off, rate=rate, support=int(w), z=50.0, ratio=10.0, trusted=True,
                     refined=True, error_s=1e-4, rate_error=1e-6)


def test_solve_chain_groups_and_rejects_inconsistent_edge():
    # 0-1-2 chain (+10, +10) with 6 bridging 1 and 2; 3-4 a separate event; 5 alone.
    # A wrong 0-2 edge (+35 instead of +20), stronger than any single other edge, is outvoted by the
    # two edges of clip 0 that agree with the rest.
    edges = [_edge(0, 1, 10.0), _edge(1, 2, 10.0), _edge(0, 2, 35.0, w=150.0), _edge(3, 4, -5.0),
             _edge(1, 6, 5.0), _edge(2, 6, -5.0), _edge(0, 6, 15.0)]
    sol = solve(7, edges, [30.0, 40.0, 30.0, 20.0, 10.0, 5.0, 10.0])
    assert sol.group[0] == sol.group[1] == sol.group[2] == sol.group[6] != sol.group[3]
    assert sol.group[3] == sol.group[4] and sol.group[5] == -1
    assert sol.position_s[:3] == pytest.approx([0.0, 10.0, 20.0], abs=1e-9)
    assert sol.position_s[3] == pytest.approx(5.0) and sol.position_s[4] == pytest.approx(0.0)
    assert [(e.a, e.b) for e in sol.rejected] == [(0, 2)]


def test_solve_rates_put_reference_clock_at_one():
    # clip 1 (longest) is the reference; clip 0's clock is 100 ppm slow against it
    edges = [_edge(0, 1, 5.0, rate=1 / (1 - 100e-6))]
    sol = solve(2, edges, [10.0, 60.0])
    assert sol.k[1] == 1.0
    assert (1 / sol.k[0] - 1) * 1e6 == pytest.approx(-100.0, abs=1e-6)


def test_a_clips_stated_error_includes_its_rate_error_carried_to_its_first_sample():
    """Clip 0 (200 s) is joined to the reference where it overlaps, 140 s after its first sample; its
    rate is known to 10 ppm, so its first sample is known to about 1.4 ms, not to the 0.04 ms the
    windows' spread gives. A clip joined near its own start, or with a well-measured rate, keeps its
    small error; a rate no edge measured counts as known to 100 ppm."""
    from dataclasses import replace

    def joined(offset: float, rate_error: float) -> float:
        e = replace(_edge(1, 0, offset), error_s=4e-5, rate_error=rate_error, refined=True)
        return float(solve(2, [e], [200.0, 400.0]).position_std_s[0])

    # clip 0 starts 80 s before the reference: they overlap over its 80-200 s, middle 140 s after its start
    assert joined(-80.0, 10e-6) == pytest.approx(np.hypot(4e-5, 10e-6 * 140.0), rel=0.05)
    assert joined(390.0, 10e-6) < 1e-4  # overlap over its first 10 s: its middle 5 s after the start
    assert joined(-80.0, 1e-7) < 1e-4  # a rate measured to 0.1 ppm
    assert joined(-80.0, 1e-3) == pytest.approx(np.hypot(4e-5, 1e-4 * 140.0), rel=0.05)  # unmeasured



def test_a_chain_carries_the_rate_error_of_the_clip_between():
    """Clips 1 and 2 each overlap the one before only at its end or start, 80 s apart along clip 1: the reference
    (0) meets clip 1 over clip 1's first 8 s, clip 1 meets clip 2 over clip 1's 80-88 s (clip 2's first 8 s).
    Each clip is fixed near its own first sample, so its own rate carries nothing there; but clip 2 sits where
    clip 1's rate carries it over those 80 s, known only as well as clip 1's rate (the fresh19 chain6 clip: 1.45 ms
    off with 0.42 ms stated). Clip 1's rate measured to 10 ppm → clip 2 known to ~0.8 ms, not the windows' 0.04;
    measured to 0.1 ppm → it keeps the small error."""
    from dataclasses import replace

    def chain(rate_error: float) -> np.ndarray:
        e01 = replace(_edge(0, 1, 292.0), error_s=4e-5, rate_error=rate_error, refined=True)  # clip 0: 300 s
        e12 = replace(_edge(1, 2, 80.0), error_s=4e-5, rate_error=rate_error, refined=True)
        return solve(3, [e01, e12], [300.0, 88.0, 60.0]).position_std_s

    std = chain(10e-6)
    assert std[1] < 1e-4  # fixed 4 s after its first sample
    assert std[2] == pytest.approx(np.hypot(std[1], 10e-6 * 80.0), rel=0.15)
    assert chain(1e-7)[2] < 1e-4

def test_errors_are_stated_from_the_groups_centre_not_its_longest_clip():
    """A recorder (the reference: longest) tied to two phones only by an edge whose timing is unsure to 40 ms
    (a reflection as high as the direct sound), the phones tied to each other to 0.1 ms: the errors are stated
    from the group's centre, the clip whose gaps to the others are known best (a phone), so the recorder states
    ~40 ms and the phones no more than their own link's error, whichever clip is longest (fresh39: five clips
    hung by one summed edge, the longest among them, stated 0.04 ms while 30 ms off the other thirty). With a
    sure edge every clip states a small error, the centre that of its surest link."""
    from dataclasses import replace

    unsure = replace(_edge(0, 1, 10.0), error_s=0.04)
    sol = solve(3, [unsure, _edge(1, 2, 5.0)], [300.0, 60.0, 60.0])
    assert sol.reference[0] == 0 and sol.group[0] == sol.group[1] == sol.group[2] == 0
    assert sol.position_std_s[0] > 0.03
    assert 0 < max(sol.position_std_s[1:]) < 1e-3
    assert min(sol.position_std_s[1:]) == pytest.approx(max(sol.position_std_s[1:]), rel=1e-9)  # the centre: its link's
    sure = solve(3, [_edge(0, 1, 10.0), _edge(1, 2, 5.0)], [300.0, 60.0, 60.0])
    assert 0 < max(sure.position_std_s) < 1e-3


def test_fit_line_finds_drifting_line():
    rng = np.random.default_rng(1)
    seg_frames = 312
    segs = np.arange(100)
    true_off, slope = 40.0, 500e-6
    tc = (segs + 0.5) * seg_frames
    dt = np.rint(true_off + slope * (tc - tc.mean())).astype(np.int32)
    noise_seg = rng.integers(0, 100, 3000)
    noise_dt = rng.integers(-30000, 30000, 3000).astype(np.int32)
    seg = np.concatenate([segs, noise_seg]).astype(np.int32)
    dts = np.concatenate([dt, noise_dt])
    cnt = np.concatenate([np.full(100, 5), np.ones(3000, np.int64)])
    line = match_mod.fit_line(seg, dts, cnt, seg_frames=seg_frames, span_frames=60000, cfg=MatchConfig())
    assert line.slope == pytest.approx(slope, abs=30e-6)
    assert line.offset == pytest.approx(true_off, abs=1.0)
    assert line.support >= 480


def test_solve_200_clips_with_strong_wrong_edges_never_misplaces():
    """A two-hour event, 200 clips, every overlap an edge; 3 % of edges are wrong by up to ±50 s and as
    strong as the right ones. No clip may be misplaced; splitting a group is the allowed failure."""
    rng = np.random.default_rng(0)
    n = 200
    pos = np.sort(rng.uniform(0, 7200, n))
    dur = rng.uniform(30, 300, n)
    edges = []
    for a in range(n):
        for b in range(a + 1, n):
            overlap = min(pos[a] + dur[a], pos[b] + dur[b]) - max(pos[a], pos[b])
            if overlap > 5:
                off = pos[b] - pos[a] + rng.normal(0, 1e-4)
                if rng.random() < 0.03:
                    off += rng.uniform(-50, 50)
                edges.append(_edge(a, b, off, w=int(overlap * 3)))
    sol = solve(n, edges, list(dur))
    placed = 0
    for g in set(sol.group) - {-1}:
        m = np.flatnonzero(sol.group == g)
        err = (sol.position_s[m] - sol.position_s[m[0]]) - (pos[m] - pos[m[0]])
        assert np.abs(err - np.median(err)).max() < 0.001
        placed += m.size
    assert placed >= 0.95 * n


def test_pair_screen_keeps_every_usable_edge(music8k):
    """The screen before the line fits skips only pairs that could not reach min_support and min_z: the
    edges that can be trusted or flag a loop are the same with and without it (how many fits it saves on a
    large batch: docs/algorithm.md)."""
    other = concert(90.0, rate_hz=8000, seed=12)
    d = drift(music8k[: 8000 * 100], 300.0)
    clips = [music8k[: 8000 * 50], music8k[8000 * 40 : 8000 * 95], d[8000 * 30 : 8000 * 90], music8k[8000 * 100 :],
             other[: 8000 * 45], other[8000 * 40 :], concert(40.0, rate_hz=8000, seed=13)]
    fps = [_fp(c, f"c{i}") for i, c in enumerate(clips)]
    mc = MatchConfig()
    usable = {}
    for screen in (False, True):
        edges = match_all(fps, fcfg=CFG, mcfg=mc, screen=screen)
        usable[screen] = {(e.a, e.b, round(e.offset_s, 6), e.trusted) for e in edges
                          if e.support >= mc.min_support and e.z >= mc.min_z}
    assert usable[True] == usable[False]
    assert sum(t for *_, t in usable[True]) >= 4  # the overlapping music clips, and the two halves of other


def _fp_on_disk(x, name, tmp_path):
    """A Fingerprint whose analysis audio is on disk (int16), as verification reads it."""
    p = tmp_path / f"{name}.pcm"
    np.clip(x * 32767, -32768, 32767).astype(np.int16).tofile(p)
    fp = _fp(x, name)
    return Fingerprint(fp.path, fp.info, fp.hashes, fp.duration_s, str(p), 8000, -20.0)


def test_verify_recentres_a_fingerprint_offset_far_from_the_direct_sound(music8k, tmp_path):
    """A reverberant phone's landmarks build up late: its fingerprint line can sit 150 ms from the true
    lag, outside the normal ±60 ms search. The check alone fails there; verify_pair finds the line
    that windows searched more widely agree on and confirms it to well under a millisecond."""
    from syncfp.config import VerifyConfig
    from syncfp.sync.verify import check_hypothesis, verify_pair

    rng = np.random.default_rng(5)
    a = music8k[: 8000 * 60]
    b = music8k[8000 * 20 : 8000 * 50] + 0.05 * rng.standard_normal(8000 * 30).astype(np.float32)
    fa, fb = _fp_on_disk(a, "a", tmp_path), _fp_on_disk(b, "b", tmp_path)
    h = PairMatch(a=0, b=1, offset_s=20.15, rate=1.0, support=20, z=10.0, ratio=2.0, trusted=False)
    assert not check_hypothesis(h, fa, fb, VerifyConfig()).ok
    v = verify_pair([h], fa, fb, VerifyConfig())
    assert v.edge is not None and v.edge.offset_s == pytest.approx(20.0, abs=0.001)


@pytest.mark.parametrize("hyp_ppm", [0.0, 200.0, 445.0, -800.0])
def test_a_line_found_at_a_wrong_rate_is_timed_again_at_its_own(music8k, tmp_path, hyp_ppm):
    """A landmark line over a 24-s overlap can be hundreds of ppm off in rate (445 ppm on a clean phone
    clip). Windows read at that rate smear their peaks by ~1 ms and the line came out 0.17 ms and 7 ppm
    off the truth; timed again at the rate it found, it is within 5 µs and 0.5 ppm of a clip that does not
    drift. Without the second reading (`remeasure=False`) the error is there."""
    from syncfp.config import VerifyConfig
    from syncfp.sync.verify import check_hypothesis

    rng = np.random.default_rng(7)
    a = music8k[: 8000 * 40]
    b = music8k[8000 * 6 : 8000 * 30] + 0.02 * rng.standard_normal(8000 * 24).astype(np.float32)
    fa, fb = _fp_on_disk(a, "a", tmp_path), _fp_on_disk(b, "b", tmp_path)
    h = PairMatch(a=0, b=1, offset_s=6.012, rate=1.0 + hyp_ppm * 1e-6, support=50, z=20.0, ratio=3.0,
                  trusted=False)
    ev = check_hypothesis(h, fa, fb, VerifyConfig())
    assert ev.ok and abs(ev.edge.offset_s - 6.0) < 5e-6 and abs(ev.edge.rate - 1.0) < 0.5e-6
    once = check_hypothesis(h, fa, fb, VerifyConfig(), remeasure=False)
    if abs(hyp_ppm) >= 400:
        assert once.ok and abs(once.edge.offset_s - 6.0) > 2e-5  # the smeared reading


def test_windows_read_at_the_clocks_rate_can_confirm_a_line_standing_alone(music8k, tmp_path):
    """Deep in noise, a hypothesis at the right offset but 800 ppm off in rate: read on that clock the
    windows' smeared peaks confirm only when summed (a summed edge: capped confidence, 5-ms floor); read on
    the clocks' prior, rate 1, they stand alone as they do for a hypothesis at the right rate."""
    from syncfp.config import VerifyConfig
    from syncfp.sync.verify import check_hypothesis

    rng = np.random.default_rng(11)
    a = music8k[: 8000 * 60]
    b = music8k[8000 * 20 : 8000 * 50] + 8.0 * np.std(music8k) * rng.standard_normal(8000 * 30).astype(np.float32)
    fa, fb = _fp_on_disk(a, "a", tmp_path), _fp_on_disk(b, "b", tmp_path)

    def check(ppm: float, alone: bool):
        h = PairMatch(a=0, b=1, offset_s=20.0, rate=1 + ppm * 1e-6, support=20, z=10.0, ratio=2.0, trusted=False)
        return check_hypothesis(h, fa, fb, VerifyConfig(prior_rate_alone=alone))

    right = check(0.0, True)
    assert right.ok and not right.stacked
    for alone in (True, False):
        ev = check(800.0, alone)
        assert ev.ok and ev.stacked != alone and abs(ev.edge.offset_s - 20.0) < 1e-4
    assert check(800.0, True).edge.windows == right.edge.windows


def test_solve_judges_an_edge_at_its_overlap_not_at_the_far_clip_start():
    """A 20-s clip (0) against a 1000-s recording (1) that started 900 s earlier: the overlap is too short
    to measure the clock rate, so the edge's rate is 100 ppm off. Its offset is right where the audio
    lined up, but extrapolated to the long clip's start it is 90 ms off; judged there, the edge would be
    thrown out as inconsistent with clip 2, which overlaps both."""
    e01 = PairMatch(a=0, b=1, offset_s=10 - 910 / 1.0001, rate=1.0001, support=40, z=20.0, ratio=3.0,
                    trusted=True, refined=True, error_s=1e-4, rate_error=1e-3)
    e02 = PairMatch(a=0, b=2, offset_s=5.0, rate=1.0, support=40, z=20.0, ratio=3.0, trusted=True,
                    refined=True, error_s=1e-4, rate_error=1e-5)
    e12 = PairMatch(a=1, b=2, offset_s=905.0, rate=1.0, support=400, z=50.0, ratio=9.0, trusted=True,
                    refined=True, error_s=1e-4, rate_error=1e-6)
    sol = solve(3, [e01, e02, e12], [20.0, 1000.0, 30.0])
    assert not sol.rejected
    assert sol.position_s == pytest.approx([900.0, 0.0, 905.0], abs=5e-4)


def test_clip_status_names_the_three_outcomes():
    """Placed (a group), unplaced (read, no usable match) and unusable (no audio read) — one property, so
    no caller tests ``duration_s == 0.0`` itself; the JSON keeps its fields (no status key added)."""
    from syncfp.types import ClipResult, ClipStatus

    assert ClipResult("a.wav", 10.0, 1, "rec", 0.0).status is ClipStatus.PLACED
    assert ClipResult("b.wav", 10.0, error="no matching audio in any other clip").status is ClipStatus.UNPLACED
    assert ClipResult("c.txt", 0.0, error="not a media file").status is ClipStatus.UNUSABLE
    assert ClipStatus.UNUSABLE == "unusable"


def test_refine_median_is_numpys_bit_for_bit():
    from syncfp.engine.refine import _median

    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 960, 961, 4000, 4001):
        for _ in range(10):
            x = rng.standard_normal(n)
            assert _median(x) == float(np.median(x))


def test_gcc_phat_band_keeps_only_its_bins():
    """A lag heard only in 150-1000 Hz (broadband noise above, different on each side) stands out when the
    windows are read in that band, and the default (every bin above ~100 Hz) is what it always was."""
    from scipy.signal import butter, sosfilt

    from syncfp.engine.refine import gcc_phat_z

    rng = np.random.default_rng(11)
    n, lag = 16000, 123
    low = sosfilt(butter(4, (150, 1000), "bandpass", fs=8000, output="sos"), rng.standard_normal(n + 400))
    high = lambda: sosfilt(butter(4, 1200, "highpass", fs=8000, output="sos"), rng.standard_normal(n + 400))  # noqa: E731
    b = (low + 3 * high()).astype(np.float32)
    a = (low[lag: lag + n] + 3 * high()[:n]).astype(np.float32)
    found, _, z_band = gcc_phat_z(a, b, 400, band=(150.0, 1000.0), rate=8000.0)
    _, _, z_full = gcc_phat_z(a, b, 400)
    assert abs(found - lag) < 0.2 and z_band > 1.5 * z_full
    assert gcc_phat_z(a, b, 400) == gcc_phat_z(a, b, 400, band=None)
