"""A chorus the band plays again fits a clip nearly as tightly as the moment itself; the strict repeat check
(`rescue.repeat_rivals`, as swept lines are asked) lets the clip's own line stand when its windows line up
several times tighter than the repeat's (`RescueConfig.rival_tighter`): fresh27's two_concerts had a phone
clip's true line at 6.6 µs and 80 % of its windows, a chorus 91 s later at 32 µs and 75 %, and the clip was
left out. A sample-identical repeat (a loop) lines up as tightly as the moment and still ties. Real encoded
media, known offsets."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bench import synth
from repeat_media import line, recorder_and_phone
from syncfp.config import RescueConfig
from syncfp.sync.rescue import repeat_rivals

RATE = 16000
AT_S, LEN_S, AGAIN_S = 12.0, 15.0, 30.0  # the chorus (10-30 s) is played again from 40 s


def _played_again(x: np.ndarray, wobble_s: float, seed: int) -> np.ndarray:
    """*x* as a band plays it again: its timing wanders slowly by up to *wobble_s* (a 6-s sway); 0: sample
    for sample."""
    if wobble_s <= 0:
        return x.copy()
    t = np.arange(x.size, dtype=np.float64)
    phase = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    warp = t + wobble_s * RATE * np.sin(2 * np.pi * t / (6.0 * RATE) + phase)
    return np.interp(warp, t, x)


def _fps(tmp_path, wobble_s: float) -> list:
    song = synth.concert(90.0, rate_hz=RATE, seed=41, tempo_bpm=112).astype(np.float64)
    chorus = song[int(10 * RATE): int(30 * RATE)]
    master = np.concatenate([song[: int(40 * RATE)], _played_again(chorus, wobble_s, 3), song[int(60 * RATE):]])
    return recorder_and_phone(tmp_path, master, RATE, AT_S, LEN_S, ("ZOOM0001.WAV", "IMG_0001.MOV"))


def test_a_chorus_played_again_does_not_tie_with_the_moment(tmp_path):
    fps = _fps(tmp_path, wobble_s=60e-6)
    assert repeat_rivals([line(AT_S)], fps, strict=True) == [()]
    loose = replace(RescueConfig(), rival_tighter=0.0)
    got = repeat_rivals([line(AT_S)], fps, cfg=loose, strict=True)[0]
    assert len(got) == 2 and abs(got[1] - got[0] - AGAIN_S) < 0.01, got


def test_a_sample_identical_repeat_still_ties(tmp_path):
    fps = _fps(tmp_path, wobble_s=0.0)
    got = repeat_rivals([line(AT_S)], fps, strict=True)[0]
    assert len(got) == 2 and abs(got[1] - got[0] - AGAIN_S) < 0.01, got
