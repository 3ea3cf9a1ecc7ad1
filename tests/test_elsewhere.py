"""A clip joined through one partner at a repeated section is checked against the rest of its group: where
its audio fits another place of the group too, it is left out with the reason (`sync.elsewhere`); a clip
whose audio is heard once stays placed.

The programme: intro, a 30-s section, a middle, the same section again (copied, sample for sample), an
outro. Camera C1 holds the first playing, camera C2 the second; a recorder overlaps C2's end. A phone clip
from the second playing is joined to C1 at the first (a repeat no pair alone can tell), another from the
unique middle to C2. The songs around the section are at other tempos: the synth plays one drum pattern at a
tempo, which a check confirms wherever the bars line up, as it would a real drum loop."""

from __future__ import annotations

import numpy as np
import pytest

from bench import encode, synth
from syncfp.audio.extract import extract
from syncfp.config import FingerprintConfig, RescueConfig, SolveConfig, VerifyConfig
from syncfp.engine.solve import solve
from syncfp.sync.elsewhere import leaves, second_places
from syncfp.types import PairMatch

RATE = 48000
SPANS = {"C1.MP4": (0.0, 60.0), "C2.MP4": (45.0, 120.0), "ZOOM0001.WAV": (102.0, 118.0),
         "IMG_0001.MOV": (75.0, 95.0), "IMG_0002.MOV": (52.0, 64.0)}


def _programme() -> np.ndarray:
    """Intro, the section, a middle, the section again, an outro: 0-20, 20-50, 50-70, 70-100, 100-120 s."""
    section = synth.concert(30.0, rate_hz=RATE, seed=5)
    # other songs between: other tempos (the synth's drum pattern is the same at one tempo, a loop everywhere)
    parts = [synth.concert(20.0, rate_hz=RATE, seed=s, tempo_bpm=bpm) for s, bpm in ((6, 97.0), (7, 131.0), (8, 143.0))]
    return np.concatenate([parts[0], section, parts[1], section, parts[2]])


def _encode(tmp_path, prog: np.ndarray, spans: dict[str, tuple[float, float]]) -> list:
    """Each span of *prog* as a file (20 dB SNR), fingerprinted, in the order given."""
    rng = np.random.default_rng(9)
    fps = []
    for name, (t0, t1) in spans.items():
        x = prog[int(t0 * RATE): int(t1 * RATE)].astype(np.float64)
        x += rng.standard_normal(x.size) * np.sqrt(np.mean(x**2)) * 10 ** (-20 / 20)
        path = str(tmp_path / name)
        encode.write(path, (0.3 * x / np.abs(x).max()).astype(np.float32), rate_hz=RATE)
        fps.append(extract(path, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path)))
    return fps


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """The five clips of `SPANS`, encoded and fingerprinted once for the tests that share them."""
    return _encode(tmp_path_factory.mktemp("elsewhere"), _programme(), SPANS)


def _edge(a: int, b: int, offset_s: float) -> PairMatch:
    return PairMatch(a=a, b=b, offset_s=offset_s, rate=1.0, support=40, z=12.0, ratio=2.0, trusted=True,
                     refined=True, error_s=2e-5, windows=8, tried=8)


def test_a_clip_joined_at_a_repeat_through_one_partner_is_left_out(clips):
    fps = clips  # 0 C1, 1 C2, 2 ZOOM, 3 IMG_0001 (second playing), 4 IMG_0002 (middle)
    edges = [_edge(0, 1, 45.0), _edge(1, 2, 57.0),
             _edge(0, 3, 25.0),  # IMG_0001 put at the first playing (truth: 75 s, 50 s later)
             _edge(1, 4, 7.0)]   # IMG_0002 at its truth, 52 s
    durations = [f.duration_s for f in fps]
    sol = solve(len(fps), edges, durations, SolveConfig())
    assert (sol.group >= 0).all()
    assert leaves(sol) == {2: 1, 3: 0, 4: 1}
    why = second_places(sol, fps, cfg=RescueConfig(), vcfg=VerifyConfig())
    assert list(why) == [3], why
    assert "50.00 s apart" in why[3] and "C1.MP4" in why[3] and "C2.MP4" in why[3]


def test_nothing_is_searched_when_the_check_is_off(clips):
    from dataclasses import replace

    fps = clips
    edges = [_edge(0, 1, 45.0), _edge(1, 2, 57.0), _edge(0, 3, 25.0)]
    sol = solve(len(fps), edges, [f.duration_s for f in fps], SolveConfig())
    assert list(second_places(sol, fps, cfg=RescueConfig(), vcfg=VerifyConfig())) == [3]  # on: found
    assert second_places(sol, fps, cfg=replace(RescueConfig(), elsewhere_anchors=0),
                         vcfg=VerifyConfig()) == {}


def test_a_repeat_played_live_is_told_by_a_partner_that_heard_both(tmp_path):
    """A board holds both playings, played live (timing wandering by up to 1.5 ms): asked about both places
    of the clip as one pair's rivals, it hears the moment, not the repeat, so the clip at its truth stays,
    and the same clip joined at the repeat is left out."""
    from tests.test_coherence import _wander  # reads RATE-sampled audio, as here

    prog = _wander(_programme(), 1.5e-3, seed=3)
    fps = _encode(tmp_path, prog, {"ZOOM0001.WAV": (0.0, 120.0), "C2.MP4": (45.0, 120.0), "IMG_0001.MOV": (75.0, 95.0)})
    durations = [f.duration_s for f in fps]
    for at, left_out in ((75.0, False), (25.0, True)):
        edges = [_edge(0, 1, 45.0), _edge(0, 2, at)]
        sol = solve(len(fps), edges, durations, SolveConfig())
        why = second_places(sol, fps, cfg=RescueConfig(), vcfg=VerifyConfig())
        assert (2 in why) == left_out, (at, why)


def test_a_clip_whose_moment_another_group_holds_is_left_out(tmp_path):
    """The second playing is held by a group of its own (camera C2 and a recorder, never joined to C1's
    group): the clip joined to C1 at the first playing fits that group too, where its own clock and C2's
    are not on one timeline, so it is searched there at every rate devices drift by; ambiguous, left out.
    A clip of the intro, heard once, stays."""
    spans = {"C1.MP4": (0.0, 60.0), "IMG_0003.MOV": (2.0, 18.0), "IMG_0001.MOV": (75.0, 95.0),
             "C2.MP4": (65.0, 120.0), "ZOOM0001.WAV": (102.0, 118.0)}
    fps = _encode(tmp_path, _programme(), spans)
    # group of C1: C1, the intro clip, the clip at the first playing (truth: the second, 50 s later)
    edges = [_edge(0, 1, 2.0), _edge(0, 2, 25.0), _edge(3, 4, 37.0)]  # and C2's group: C2, the recorder
    sol = solve(len(fps), edges, [f.duration_s for f in fps], SolveConfig())
    assert sol.group[0] == sol.group[1] == sol.group[2] != sol.group[3] == sol.group[4]
    why = second_places(sol, fps, cfg=RescueConfig(), vcfg=VerifyConfig())
    assert list(why) == [2], why
    assert "two groups" in why[2] and "C2.MP4" in why[2]
