"""A place where the music fits only a few windows of a clip, too few to show whether they line up as one
moment, does not tie with the clip's own line in the strict repeat check (`rescue.repeat_rivals`, as swept
lines and edges that alone hold a clip are asked) when the own line lines up as one moment and explains a
larger share of the windows (`RescueConfig.rival_few`): fresh28 lost a right 7-s memo (5 of 5 windows, 7 µs)
to a loop's pass fitting 2 of 4, and a right 96-s recorder clip (half its windows, 17 µs) to a passage 48 s
later fitting a quarter. A repeat of the whole clip, which lines up window after window, still ties. Real
encoded media, known offsets."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bench import synth
from repeat_media import line, recorder_and_phone
from syncfp.config import RescueConfig
from syncfp.sync.rescue import repeat_rivals

RATE = 16000
AGAIN_S = 30.0  # the passage 10-30 s is heard again, sample for sample, from 40 s


def _fps(tmp_path, at_s: float, len_s: float) -> list:
    song = synth.concert(90.0, rate_hz=RATE, seed=43, tempo_bpm=104).astype(np.float64)
    master = np.concatenate([song[: int(40 * RATE)], song[int(10 * RATE): int(30 * RATE)], song[int(60 * RATE):]])
    return recorder_and_phone(tmp_path, master, RATE, at_s, len_s, ("ZOOM0002.WAV", "IMG_0002.MOV"))


def test_a_place_fitting_three_windows_of_nine_does_not_tie(tmp_path):
    # 18-38 s: all 8 windows fit here; the synthetic band's riff fits 3 of 9 windows 11.5 s earlier
    fps = _fps(tmp_path, at_s=18.0, len_s=20.0)
    assert repeat_rivals([line(18.0)], fps, strict=True) == [()]
    loose = replace(RescueConfig(), rival_few=False)
    got = repeat_rivals([line(18.0)], fps, cfg=loose, strict=True)[0]
    assert len(got) == 2 and 18.0 in got and abs(got[1] - got[0] - 11.54) < 0.05, got


def test_a_repeat_of_the_whole_clip_still_ties(tmp_path):
    fps = _fps(tmp_path, at_s=12.0, len_s=15.0)  # 12-27 s, all of it heard again at 42-57 s
    got = repeat_rivals([line(12.0)], fps, strict=True)[0]
    assert len(got) == 2 and abs(got[1] - got[0] - AGAIN_S) < 0.01, got
