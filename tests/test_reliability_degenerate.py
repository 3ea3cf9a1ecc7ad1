"""Degenerate alignment inputs and order independence, with the behaviour documented in docs/reliability.md."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import syncfp
from bench import encode, synth

R = 16000  # cheap to synthesize; the engine analyses at 8 kHz anyway


def _w(d, name: str, x: np.ndarray) -> str:
    p = os.path.join(str(d), name)
    encode.write(p, x, rate_hz=R)
    return p


def _dev(x: np.ndarray, seed: int, **kw) -> np.ndarray:
    return synth.device(x, rate_hz=R, seed=seed, **{"snr_db": 25.0, "eq": "camera", **kw})


@pytest.fixture(scope="module")
def music() -> np.ndarray:
    return synth.concert(70.0, rate_hz=R, seed=41)


def test_one_file_is_unplaced_with_a_reason(tmp_path, music):
    a = _w(tmp_path, "a.wav", _dev(music[: 30 * R], 1))
    (c,) = syncfp.align([a], cache=False).clips
    assert c.group is None and c.error == "no matching audio in any other clip" and c.duration_s > 29


def test_identical_copies_and_a_contained_clip(tmp_path, music):
    long = _w(tmp_path, "long.wav", _dev(music[: 60 * R], 2))
    copy = str(tmp_path / "long copy.wav")
    shutil.copy(long, copy)
    x = np.asarray(_dev(music[: 60 * R], 2))
    inner = _w(tmp_path, "inner.wav", x[int(21.5 * R) : int(41.5 * R)])  # cut from the same recording
    al = syncfp.align([long, copy, inner], cache=False)
    by = {os.path.basename(c.path): c for c in al.clips}
    assert {c.group for c in al.clips} == {1}
    assert abs(by["long.wav"].offset_s - by["long copy.wav"].offset_s) < 1e-6  # the same samples
    assert abs(by["inner.wav"].offset_s - 21.5) < 2e-4  # same samples: well under a sample at 8 kHz
    assert min(c.confidence for c in al.clips) > 0.9


@pytest.mark.slow
def test_periodic_loop_is_never_placed_with_certainty(tmp_path):
    loop = synth.concert(30.0, rate_hz=R, seed=43)
    tiled = np.tile(loop, 4)  # 2 minutes of a 30-s loop: every offset k·30 s fits equally well
    a = _w(tmp_path, "loop_a.wav", _dev(tiled, 3, snr_db=30.0))
    b = _w(tmp_path, "loop_b.wav", _dev(tiled[37 * R : 97 * R], 4, snr_db=30.0, eq="phone"))
    for c in syncfp.align([a, b], cache=False).clips:
        assert c.group is None or c.confidence < 0.5, c


def test_same_song_from_speakers_belongs_together(tmp_path):
    """Two unrelated recordings, each hearing one song played back: the concert case, placed by the song."""
    song = synth.concert(40.0, rate_hz=R, seed=44, tempo_bpm=100)
    room1 = np.concatenate([_dev(synth.pink_noise(3 * R, seed=1), 5) * 0.05, song])
    room2 = np.concatenate([np.zeros(10 * R, np.float32), song[: 30 * R]])
    a = _w(tmp_path, "speaker_a.wav", _dev(room1, 11, snr_db=15.0, eq="phone", reverb_s=0.5))
    b = _w(tmp_path, "speaker_b.wav", _dev(room2, 12, snr_db=15.0, reverb_s=0.8))
    ca, cb = syncfp.align([a, b], cache=False).clips
    assert ca.group == cb.group == 1
    assert abs((cb.offset_s - ca.offset_s) - (3.0 - 10.0)) < 0.005  # song starts line up


def test_speech_aligns_and_unrelated_speech_and_noise_do_not(tmp_path):
    talk = synth.babble(40 * R, rate_hz=R, seed=20, voices=1) * 0.2  # one formant-filtered voice
    s1 = _w(tmp_path, "speech_a.wav", _dev(talk, 21, eq="phone"))
    s2 = _w(tmp_path, "speech_b.wav", _dev(talk[12 * R :], 22))
    s3 = _w(tmp_path, "speech_other.wav", _dev(synth.babble(30 * R, rate_hz=R, seed=30, voices=1) * 0.2, 23))
    rng = np.random.default_rng(0)
    n1 = _w(tmp_path, "noise_white.wav", (0.1 * rng.standard_normal(30 * R)).astype(np.float32))
    n2 = _w(tmp_path, "noise_pink.wav", (0.1 * synth.pink_noise(30 * R, seed=3)).astype(np.float32))
    by = {os.path.basename(c.path): c for c in syncfp.align([s1, s2, s3, n1, n2], cache=False).clips}
    assert by["speech_a.wav"].group == by["speech_b.wav"].group == 1
    assert abs(by["speech_b.wav"].offset_s - by["speech_a.wav"].offset_s - 12.0) < 0.005
    for name in ("speech_other.wav", "noise_white.wav", "noise_pink.wav"):
        assert by[name].group is None and by[name].error == "no matching audio in any other clip"


@pytest.mark.slow
def test_any_input_order_gives_the_same_result(tmp_path, music):
    """Equal-length copies tie for the reference clip; the answer must not depend on which came first."""
    a = _w(tmp_path, "a.wav", _dev(music[: 40 * R], 5))
    shutil.copy(a, tmp_path / "c.wav")
    b = _w(tmp_path, "b.wav", _dev(music[15 * R : 55 * R], 6))
    d = _w(tmp_path, "d.wav", _dev(music[30 * R : 70 * R], 7, eq="phone"))
    bad = str(tmp_path / "e.wav")
    paths = [a, b, str(tmp_path / "c.wav"), d, bad]
    results = []
    for perm in list(itertools.permutations(paths))[::29]:  # 5 orders of 120
        al = syncfp.align(list(perm), cache=False, workers=1)
        assert [c.path for c in al.clips] == list(perm)
        results.append(sorted(al.clips, key=lambda c: c.path))
    assert all(r == results[0] for r in results[1:])
    outs = [subprocess.run([sys.executable, "-m", "syncfp", "align", "-q", "-f", "json", "--no-cache", *p],
                           capture_output=True, text=True).stdout for p in (paths, paths[::-1])]
    assert outs[0] == outs[1]
    clips = json.loads(outs[0])["clips"]
    assert [c["path"] for c in clips] == sorted(paths)  # the CLI lists clips by path
