"""An edge timed on a far phone's early reflection moves to the direct sound; one on the direct sound stays.

Real encoded media: a board, three cameras near the stage and a phone whose room adds a floor bounce 25 ms after
the direct sound, louder than it (it correlates better than the direct sound, as on the hard bench's far
phones). The edges are given, so the test is of the graph's reading alone (`sync.arrivals`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bench import encode
from syncfp.audio.extract import extract
from syncfp.config import FingerprintConfig, SolveConfig, VerifyConfig
from syncfp.engine.solve import solve
from syncfp.sync.arrivals import (Arrivals, _first_arrival, arrival_peaks, first_arrivals, lowered_moves, measure, torn,
                                  towered, towering, unsure_timing)
from syncfp.sync.summed import early_rivals, summed_only
from syncfp.types import PairMatch

from conftest import MASTER_RATE

BOUNCE_S = 0.025
STARTS = {"ZOOM0001.WAV": 20.0, "C0001.MP4": 30.0, "C0002.MP4": 25.0, "C0003.MP4": 42.0, "IMG_0001.MOV": 35.0}
LENGTHS = {"ZOOM0001.WAV": 60.0, "C0001.MP4": 40.0, "C0002.MP4": 30.0, "C0003.MP4": 30.0, "IMG_0001.MOV": 30.0}
PHONE = 4


def _recording(master: np.ndarray, start_s: float, length_s: float, far: bool, seed: int) -> np.ndarray:
    """master[start : start + length] as a device hears it: a far phone gets a bounce 25 ms after the direct
    sound, louder than it, and a noisy cheap mic; the rest are clean."""
    rng = np.random.default_rng(seed)
    i0, n = int(start_s * MASTER_RATE), int(length_s * MASTER_RATE)
    x = master[i0: i0 + n].astype(np.float64)
    if far:
        d = int(BOUNCE_S * MASTER_RATE)
        x = x + 1.3 * master[i0 - d: i0 + n - d]
        snr_db = 6.0
    else:
        snr_db = 30.0
    p = float(np.mean(x**2))
    x = x + rng.standard_normal(x.size) * np.sqrt(p * 10 ** (-snr_db / 10))
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def _files(tmp_path, master, clips: dict[str, tuple[float, float]]) -> list:
    """Fingerprints of *clips* (name → start, length), encoded; phones (`IMG_…`) far, the rest near."""
    out = []
    for seed, (name, (start, length)) in enumerate(clips.items()):
        path = str(tmp_path / name)
        encode.write(path, _recording(master, start, length, name.startswith("IMG"), seed), rate_hz=MASTER_RATE)
        out.append(extract(path, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path)))
    return out


@pytest.fixture(scope="module")
def _stage(tmp_path_factory, master):
    """The five clips encoded and fingerprinted once for the module (fingerprints are frozen; each test gets
    its own list of them)."""
    d = tmp_path_factory.mktemp("arrivals")
    return _files(d, master, {name: (STARTS[name], LENGTHS[name]) for name in STARTS})


@pytest.fixture()
def fps(_stage):
    return list(_stage)


def _edge(a: int, b: int, offset_s: float) -> PairMatch:
    return PairMatch(a=a, b=b, offset_s=offset_s, rate=1.0, support=40, z=12.0, ratio=3.0, trusted=True,
                     refined=True, error_s=5e-5, windows=10, tried=11)


def _truth(a: int, b: int) -> float:
    names = list(STARTS)
    return STARTS[names[b]] - STARTS[names[a]]


def _cameras() -> list[PairMatch]:
    return [_edge(0, k, _truth(0, k)) for k in (1, 2, 3)]


def test_the_phone_hears_its_bounce_as_a_rival(fps):
    """On the direct sound, the board ↔ phone edge sees the bounce 25 ms later on the phone's side, as high."""
    arr = arrival_peaks(_edge(0, PHONE, _truth(0, PHONE)), fps[0], fps[PHONE], VerifyConfig())
    assert arr is not None and arr.own > 8
    bounce = [q for lag, q in arr.peaks if abs(lag - BOUNCE_S) < 5e-4]
    assert bounce and bounce[0] >= 0.6


def test_an_edge_on_the_reflection_moves_to_the_direct_sound(fps):
    """The board's edges to the near cameras show no reflection of the board's: the line the phone's edge is
    on would need one, so the edge moves 25 ms, to the direct sound."""
    edges = [*_cameras(), _edge(0, PHONE, _truth(0, PHONE) - BOUNCE_S)]
    moved = first_arrivals(edges, fps, VerifyConfig())
    assert moved == [3]
    assert abs(edges[3].offset_s - _truth(0, PHONE)) < 0.5e-3
    assert edges[:3] == _cameras()


def test_two_edges_cannot_deny_a_reflection(fps):
    """With only two other edges to ask, the board's lack of a reflection is not taken as known."""
    edges = [*_cameras()[:2], _edge(0, PHONE, _truth(0, PHONE) - BOUNCE_S)]
    assert first_arrivals(edges, fps, VerifyConfig()) == []


def test_an_edge_on_the_direct_sound_stays(fps):
    edges = [*_cameras(), _edge(0, PHONE, _truth(0, PHONE))]
    before = list(edges)
    assert first_arrivals(edges, fps, VerifyConfig()) == []
    assert edges == before


def test_switched_off(fps):
    edges = [*_cameras(), _edge(0, PHONE, _truth(0, PHONE) - BOUNCE_S)]
    assert first_arrivals(edges, fps, VerifyConfig(arrival_reach_s=0.0)) == []


def test_a_rival_the_graph_cannot_settle_widens_the_stated_error(fps):
    """On the direct sound, the phone's bounce is louder still, and with too few other edges nothing says which
    is which: the edge keeps its line, but its timing is only known to the bounce's 25 ms, which it states."""
    edges = [*_cameras()[:1], _edge(0, PHONE, _truth(0, PHONE))]
    arrs = measure(edges, fps)
    assert first_arrivals(edges, fps, arrs=arrs) == []
    unsure = unsure_timing(edges, arrs)
    assert list(unsure) == [1] and abs(max(map(abs, unsure[1])) - BOUNCE_S) < 1e-3


def test_a_summed_edge_beside_a_towering_peak_moves_to_it_and_the_check_refines_it(fps):
    """A summed edge (its windows confirm only together) 110 ms off the board ↔ camera truth: its windows,
    summed over ±150 ms, peak far higher at the truth, and the normal check confirms the line there. The
    same edge on the truth, an edge whose windows stand alone, and the phone's bounce (1.3 times the direct
    sound, no more) move nothing."""
    off = replace(_edge(0, 1, _truth(0, 1) + 0.11), stacked=True)
    tower = towering([off, _edge(0, 1, _truth(0, 1) + 0.11), replace(_edge(0, 1, _truth(0, 1)), stacked=True),
                      replace(_edge(0, PHONE, _truth(0, PHONE)), stacked=True)], fps, VerifyConfig())
    assert list(tower) == [0] and abs(abs(tower[0]) - 0.11) < 2e-3
    got = towered(off, tower[0], fps[0], fps[1], VerifyConfig())
    assert abs(got.offset_s - _truth(0, 1)) < 0.2e-3 and got.error_s < 1e-3
    assert towering([off], fps, VerifyConfig(arrival_tower=0.0)) == {}


def test_a_towering_peak_the_check_cannot_confirm_only_widens_the_stated_error(fps):
    """Where the normal check finds nothing at the towering peak (here the board's edge to one camera read
    against another, whose audio is not at that lag at all), the edge keeps its line and states an error
    reaching the peak."""
    e = replace(_edge(0, 1, _truth(0, 1)), stacked=True)
    got = towered(e, 0.12, fps[0], fps[2], VerifyConfig())
    assert got.offset_s == e.offset_s and abs(got.error_s - 0.12) < 1e-9


# N (a camera near the stage), the board, a second camera, and three phones far out whose rooms add a floor
# bounce 25 ms after the direct sound, louder than it
CLIPS = {"C0001.MP4": (30.0, 40.0), "ZOOM0001.WAV": (20.0, 60.0), "C0002.MP4": (28.0, 30.0),
         "IMG_0001.MOV": (35.0, 30.0), "IMG_0002.MOV": (40.0, 25.0), "IMG_0003.MOV": (33.0, 30.0)}
N, BOARD, CAM, L, B, E = range(6)


def _scene_truth(a: int, b: int) -> float:
    names = list(CLIPS)
    return CLIPS[names[b]][0] - CLIPS[names[a]][0]


def _scene() -> list[PairMatch]:
    """N's edges to L and E sit on L's and E's bounce (their lines need N to hear an echo 25 ms later; the
    board's edges to L and E show that L and E are the ones that do); N's edge to B is right, with B's own
    bounce as a rival; N's edges to the board and the camera are clean."""
    t = _scene_truth
    return [_edge(N, L, t(N, L) - BOUNCE_S), _edge(N, B, t(N, B)), _edge(N, E, t(N, E) - BOUNCE_S),
            _edge(N, BOARD, t(N, BOARD)), _edge(N, CAM, t(N, CAM)), _edge(BOARD, L, t(BOARD, L)),
            _edge(BOARD, E, t(BOARD, E))]


@pytest.fixture(scope="module")
def scene_fps(tmp_path_factory, master):
    """The six clips of `CLIPS` encoded and fingerprinted once for both round counts."""
    return _files(tmp_path_factory.mktemp("scene"), master, CLIPS)


@pytest.mark.parametrize("rounds", [1, 2])
def test_a_false_echo_left_by_an_edge_about_to_move_does_not_move_a_right_one(scene_fps, rounds):
    """A near clip's edges to two far phones sit on their bounces, which puts a false echo on its side; read
    before those edges move (one round), it moves the clip's right edge to a third far phone onto that phone's
    bounce. The moves the other clips settle outright go first (two rounds), and the rest are decided after."""
    fps = list(scene_fps)
    edges = _scene()
    first_arrivals(edges, fps, replace(VerifyConfig(), arrival_rounds=rounds))
    off = {(e.a, e.b): (e.offset_s - _scene_truth(e.a, e.b)) * 1e3 for e in edges}
    assert abs(off[(N, L)]) < 0.5 and abs(off[(N, E)]) < 0.5  # both moved to the direct sound
    if rounds == 2:
        assert abs(off[(N, B)]) < 0.5  # decided after them: N shows no echo, B's rival is B's own
    else:
        assert abs(abs(off[(N, B)]) - BOUNCE_S * 1e3) < 0.5  # decided on the false echoes: onto B's bounce


def test_a_clip_held_off_every_reading_of_its_unsure_edge_states_the_gap():
    """fresh21's festival: a recorder R (with two more partners) and an iPhone X joined on the direct sound by
    an edge that a rival 16.8 ms away leaves unsure (stated 16.8 ms), and X joined by a sure edge to a camera M
    on a bounce 32 ms away. The solve follows the sure edge and stated X to 0.08 ms; X sits neither on the
    unsure edge's line nor on its rival, so its error must reach the 32 ms (R, better joined, is not blamed).
    Held at the line, or at the rival, nothing is torn."""
    R, X, M, A, B = range(5)
    durations = [300.0, 60.0, 200.0, 100.0, 100.0]

    def edges(x_to_m: float) -> list[PairMatch]:
        return [replace(_edge(R, X, 10.0), error_s=0.0168, unsure_at=(0.0168,)), _edge(X, M, x_to_m),
                _edge(R, M, 5.0), _edge(R, A, 20.0), _edge(R, B, 40.0)]

    got = torn(solve(5, edges(-5.0 + 0.032), durations))
    assert list(got) == [X] and abs(got[X] - 0.032) < 1e-3
    assert torn(solve(5, edges(-5.0), durations)) == {}
    assert torn(solve(5, edges(-5.0 + 0.0168), durations)) == {}  # at the rival: b's audio 16.8 ms later
    assert torn(solve(5, edges(-5.0 + 0.032), durations), VerifyConfig(arrival_torn_s=0.0)) == {}


ECHOED = {"ZOOM0002.WAV": (10.0, 60.0, 0.0), "IMG_0002.MOV": (20.0, 30.0, 0.0026), "VID_0002.mp4": (25.0, 30.0, 0.0024)}


def _echoed(master: np.ndarray, start_s: float, length_s: float, echo_s: float, seed: int) -> np.ndarray:
    """master[start : start + length] heard with one echo *echo_s* later at the direct sound's level (none: 0)."""
    rng = np.random.default_rng(seed)
    i0, n = int(start_s * MASTER_RATE), int(length_s * MASTER_RATE)
    x = master[i0: i0 + n].astype(np.float64)
    if echo_s:
        d = int(round(echo_s * MASTER_RATE))
        x = x + master[i0 - d: i0 + n - d]
    x = x + rng.standard_normal(x.size) * np.sqrt(float(np.mean(x**2)) * 10 ** (-2.5))
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def test_an_edge_whose_clip_echoes_on_both_sides_of_its_line_stays(tmp_path, master):
    """fresh25's festival: an iPhone P echoed 2.6 ms later, joined on the direct sound to a recorder R and to a
    phone Q that is itself echoed 2.4 ms later. On the P-Q edge, Q's echo (+2.4 ms) is a rival that P's edge to
    R seems to explain as P's echo — as if the P-Q line were P's echo — but P's echo shows on the line's other
    side too (−2.6 ms), as it does when the line is P's direct sound: the edge stays. Without that check it
    moved 2.4 ms, onto a line stated to 0.04 ms."""
    fps = []
    for seed, (name, (start, length, echo)) in enumerate(ECHOED.items()):
        path = str(tmp_path / name)
        encode.write(path, _echoed(master, start, length, echo, seed), rate_hz=MASTER_RATE)
        fps.append(extract(path, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path)))
    R, P, Q = range(3)
    t = lambda a, b: list(ECHOED.values())[b][0] - list(ECHOED.values())[a][0]  # noqa: E731
    right = [_edge(R, P, t(R, P)), _edge(P, Q, t(P, Q))]
    arr = arrival_peaks(right[1], fps[P], fps[Q], VerifyConfig())
    assert arr is not None
    assert any(abs(lag - 0.0024) < 5e-4 and q >= VerifyConfig().arrival_rival for lag, q in arr.peaks)  # Q's echo
    assert any(abs(lag + 0.0026) < 5e-4 for lag, _ in arr.peaks)  # P's echo, on the other side
    edges = list(right)
    assert first_arrivals(edges, fps, VerifyConfig()) == [] and edges == right
    edges = list(right)
    assert first_arrivals(edges, fps, replace(VerifyConfig(), arrival_mirror=False)) == [1]
    assert abs((edges[1].offset_s - t(P, Q)) * 1e3 + 2.4) < 0.5  # b's side moved later: the line 2.4 ms early


def _junk_scene(tower: bool) -> tuple[list[PairMatch], list[Arrivals]]:
    """fresh26's junk, as its windows read: a far iPhone F (44 m) joined to a near camera V on the direct sound,
    a rival 9.1 ms earlier on F's side (F's own echo, which no other edge of F can show); V's edge to F's other
    take T shows T's echo at -9.07 ms (0.62) and its faint mirror image on V's side (+9.12 ms, 0.43); V's summed
    edge to a GoPro G sits beside a peak 1.88 times higher (*tower*: `towering` moves it after), one of its
    peaks 9.38 ms on V's side by chance."""
    F, V, T, G = range(4)
    edges = [_edge(F, V, -53.2), _edge(T, V, 14.8), replace(_edge(G, V, 5.37), stacked=True)]
    arrs = [Arrivals(14.0, ((-0.03812, 0.5), (-0.02266, 0.48), (-0.00911, 0.82))),
            Arrivals(20.0, ((-0.02266, 0.73), (-0.00907, 0.62), (0.00912, 0.43))),
            Arrivals(12.0, ((0.02975, 1.88 if tower else 0.9), (0.00938, 0.48), (-0.00762, 0.62)))]
    return edges, arrs


def test_a_partners_echo_seen_faintly_on_the_other_side_does_not_move_a_right_edge():
    """The rival on F's edge is F's echo or the line is V's: V's other edges decide. The T-V peak on V's side is
    the mirror image of T's echo (lower than it), and the G-V line is not its windows' peak: neither shows V
    echoed, so the edge stays (its error then reaches the rival, `unsure_timing`). Counting them moved it 9.1 ms
    onto a line stated 0.06 ms."""
    edges, arrs = _junk_scene(tower=True)
    of_clip = {0: [0], 1: [0, 1, 2], 2: [1], 3: [2]}
    assert _first_arrival(0, edges, arrs, of_clip, VerifyConfig()) is None
    assert unsure_timing(edges, arrs, VerifyConfig())[0] == (-0.00911,)
    old = replace(VerifyConfig(), arrival_mirror_vote=False)
    assert _first_arrival(0, edges, arrs, of_clip, old) == (-0.00911, False)
    edges, arrs = _junk_scene(tower=False)  # a G-V line at its own peak is asked: one of two edges shows it
    assert _first_arrival(0, edges, arrs, of_clip, VerifyConfig()) == (-0.00911, False)


def test_a_move_to_a_lower_peak_states_an_error_reaching_the_line_it_left(fps):
    """The phone's bounce is louder than its direct sound: the edge on the bounce moves to the direct sound,
    a peak lower than the line it leaves. The other clips chose it, not the windows, so its stated error
    reaches the bounce's line, 25 ms away (`arrivals.lowered_moves`); off, nothing is added."""
    edges = [*_cameras(), _edge(0, PHONE, _truth(0, PHONE) - BOUNCE_S)]
    moves: dict = {}
    moved = first_arrivals(edges, fps, VerifyConfig(), moves=moves)
    assert moved == [3] and abs(edges[3].offset_s - _truth(0, PHONE)) < 0.5e-3
    lowered = lowered_moves(moves, edges, VerifyConfig())
    assert list(lowered) == [3] and abs(abs(lowered[3][0]) - BOUNCE_S) < 1e-3
    # signed as `Arrivals.peaks` about the new line: the line it left lies there
    back = arrival_peaks(edges[3], fps[0], fps[PHONE], VerifyConfig())
    assert any(abs(lag - lowered[3][0]) < 1e-3 for lag, _ in back.peaks)
    assert lowered_moves(moves, edges, VerifyConfig(arrival_moved_unsure=False)) == {}


def test_a_summed_only_clip_on_its_own_bounce_states_an_error_reaching_the_direct_sound(fps):
    """The phone hangs on the board by one summed edge, on its bounce: its line fits, but the direct sound
    stands beside it where the phone's audio comes earlier, so the phone states at least those 25 ms
    (`summed.early_rivals`). On the direct sound its bounce lies the other way: nothing to state."""
    durations = [f.duration_s for f in fps]
    for line, want in ((_truth(0, PHONE) - BOUNCE_S, BOUNCE_S), (_truth(0, PHONE), None)):
        edges = [*_cameras(), replace(_edge(0, PHONE, line), stacked=True)]
        sol = solve(len(fps), edges, durations, SolveConfig())
        assert summed_only(sol) == {PHONE}
        got = early_rivals(sol, fps, VerifyConfig())
        if want is None:
            assert got == {}
        else:
            assert list(got) == [PHONE] and abs(got[PHONE] - want) < 1e-3
        assert early_rivals(sol, fps, VerifyConfig(summed_rival_reach_s=0.0)) == {}
