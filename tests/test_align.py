"""End-to-end alignment on real encoded media with known offsets, drift, chains, distractors, two events."""

from __future__ import annotations

import os
from fractions import Fraction

import pytest

import syncfp
from conftest import make_clip


def rel(al, path_a, path_b):
    """position(b) - position(a) in the alignment."""
    by = {c.path: c for c in al.clips}
    return by[path_b].offset_s - by[path_a].offset_s


@pytest.mark.slow
def test_formats_rates_channels_within_1ms(tmp_path, master):
    """AAC-in-MP4 (48 kHz stereo + video), MOV (44.1 kHz mono + video), WAV 44.1 kHz, MP3 48 kHz."""
    clips = {
        make_clip(tmp_path, "cam/A001.mp4", master, 0.0, 40.0, channels=2, video_fps=Fraction(30000, 1001),
                  seed=1): 0.0,
        make_clip(tmp_path, "cam2/B001.mov", master, 12.5, 35.0, rate_hz=44100, video_fps=Fraction(25),
                  seed=2): 12.5,
        make_clip(tmp_path, "rec/R001.wav", master, 5.25, 45.0, rate_hz=44100, eq="none", seed=3): 5.25,
        make_clip(tmp_path, "phone/P001.mp3", master, 20.75, 20.0, eq="phone", snr_db=10, seed=4): 20.75,
    }
    al = syncfp.align(list(clips), cache=False, workers=2)
    paths = list(clips)
    assert all(c.group == 1 for c in al.clips), [(c.path, c.error) for c in al.clips]
    for p in paths[1:]:
        err_ms = (rel(al, paths[0], p) - (clips[p] - clips[paths[0]])) * 1000
        assert abs(err_ms) < 1.0, (p, err_ms)
    assert min(c.offset_s for c in al.clips) == 0.0


@pytest.mark.slow
def test_drift_100ppm_reported_within_10ppm(tmp_path, master):
    ref = make_clip(tmp_path, "rec/long.wav", master, 0.0, 95.0, eq="none", seed=5)
    drifting = make_clip(tmp_path, "cam/drift.mp4", master, 10.0, 80.0, ppm=100.0, seed=6)
    al = syncfp.align([ref, drifting], cache=False, workers=1)
    by = {c.path: c for c in al.clips}
    assert by[ref].drift_ppm == 0.0  # the longest clip is the group's clock reference
    assert by[drifting].drift_ppm == pytest.approx(100.0, abs=10.0)
    assert abs(rel(al, ref, drifting) - 10.0) < 0.001


@pytest.mark.slow
def test_chain_is_placed_by_transitivity(tmp_path, master):
    """A and C never overlap; B bridges them. Star alignment against A would lose C."""
    a = make_clip(tmp_path, "a/A.wav", master, 0.0, 30.0, seed=7)
    b = make_clip(tmp_path, "b/B.mp4", master, 22.0, 35.0, seed=8)
    c = make_clip(tmp_path, "c/C.wav", master, 50.0, 30.0, seed=9)
    al = syncfp.align([a, b, c], cache=False, workers=1)
    assert {x.group for x in al.clips} == {1}
    assert abs(rel(al, a, c) - 50.0) < 0.001
    assert abs(rel(al, a, b) - 22.0) < 0.001


@pytest.mark.slow
def test_distractor_and_corrupt_file_unplaced(tmp_path, master, other_master):
    a = make_clip(tmp_path, "a/A.wav", master, 0.0, 30.0, seed=10)
    b = make_clip(tmp_path, "b/B.wav", master, 10.0, 30.0, seed=11)
    distractor = make_clip(tmp_path, "x/X.wav", other_master, 0.0, 30.0, seed=12)
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(open(b, "rb").read()[:3000][::-1])
    al = syncfp.align([a, str(corrupt), b, distractor], cache=False, workers=2)
    by = {c.path: c for c in al.clips}
    assert [c.path for c in al.clips] == [a, str(corrupt), b, distractor]  # input order kept
    assert by[a].group == by[b].group == 1
    assert by[distractor].group is None and by[distractor].offset_s is None
    assert "no matching audio" in by[distractor].error
    assert by[str(corrupt)].group is None and by[str(corrupt)].error


@pytest.mark.slow
def test_two_events_make_two_groups(tmp_path, master, other_master):
    e1 = [make_clip(tmp_path, "e1/a.wav", master, 0.0, 25.0, seed=13),
          make_clip(tmp_path, "e1/b.wav", master, 15.0, 25.0, seed=14)]
    e2 = [make_clip(tmp_path, "e2/a.wav", other_master, 5.0, 25.0, seed=15),
          make_clip(tmp_path, "e2/b.wav", other_master, 20.0, 25.0, seed=16)]
    al = syncfp.align(e1 + e2, cache=False, workers=2)
    by = {c.path: c for c in al.clips}
    assert by[e1[0]].group == by[e1[1]].group
    assert by[e2[0]].group == by[e2[1]].group
    assert by[e1[0]].group != by[e2[0]].group
    assert abs(rel(al, e1[0], e1[1]) - 15.0) < 0.001
    assert abs(rel(al, e2[0], e2[1]) - 15.0) < 0.001
    assert al.groups == [1, 2]


@pytest.mark.slow
def test_noisy_phone_clip_at_low_snr(tmp_path, master):
    ref = make_clip(tmp_path, "rec/R.wav", master, 0.0, 60.0, eq="none", snr_db=30, seed=17)
    phone = make_clip(tmp_path, "phone/IMG_0001.mp4", master, 30.0, 15.0, eq="phone", snr_db=0,
                      reverb_s=0.8, seed=18)
    al = syncfp.align([ref, phone], cache=False, workers=1)
    assert abs(rel(al, ref, phone) - 30.0) < 0.005


@pytest.mark.slow
def test_loop_is_reported_ambiguous_not_placed(tmp_path):
    """A 30-s loop: every multiple of 30 s fits as well as the truth, so nothing is claimed."""
    import numpy as np

    from bench import encode, synth

    loop = synth.concert(30.0, rate_hz=48000, seed=43)
    tiled = np.tile(loop, 4)
    a, b = str(tmp_path / "loop_a.wav"), str(tmp_path / "loop_b.wav")
    encode.write(a, synth.device(tiled, rate_hz=48000, seed=3, snr_db=30), rate_hz=48000)
    encode.write(b, synth.device(tiled[37 * 48000 : 97 * 48000], rate_hz=48000, seed=4, snr_db=30, eq="phone"),
                 rate_hz=48000)
    for c in syncfp.align([a, b], cache=False).clips:
        assert c.group is None and "ambiguous" in c.error


@pytest.mark.slow
def test_result_does_not_depend_on_worker_count():
    """The bundled shoot (a drifting camera, a phone, a recorder, a clip from another event): one worker
    and three give the same groups, offsets, drifts and tracks, though files finish in another order and
    refinement and rescue run on threads."""
    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "samples")
    paths = sorted(os.path.join(r, f) for r, _, fs in os.walk(here) for f in fs if not f.endswith(".json"))
    runs = [[(c.path, c.group, c.offset_s, c.drift_ppm, c.track, c.error)
             for c in syncfp.align(paths, workers=w, cache=False).clips] for w in (1, 3)]
    assert runs[0] == runs[1]
    assert sum(c[1] is not None for c in runs[0]) == 5
