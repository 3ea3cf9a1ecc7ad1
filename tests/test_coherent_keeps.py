"""A clip inside a section the board plays twice, sample for sample, is ambiguous against the board; a camera
that recorded only the second playing places it as one moment (a coherent edge), so it is not left out."""

from __future__ import annotations

import numpy as np

import syncfp
from bench import encode, synth
from syncfp.config import RescueConfig

RATE = 48000
INTRO_S, SECTION_S, OUTRO_S = 20.0, 30.0, 20.0  # the board: intro, the section twice, outro (100 s)
CAMERA_AT_S, CAMERA_S = 45.0, 55.0  # 5 s of the first playing's end, the second playing, the outro
CLIP_AT_S, CLIP_S = 55.0, 18.0  # inside the second playing; its twin (25-43 s) is before the camera started


def _files(tmp_path) -> list[str]:
    section = synth.concert(SECTION_S, rate_hz=RATE, seed=11)
    prog = np.concatenate([synth.concert(INTRO_S, rate_hz=RATE, seed=12), section, section,
                           synth.concert(OUTRO_S, rate_hz=RATE, seed=13)]).astype(np.float64)
    rng = np.random.default_rng(14)
    paths = []
    for name, at, dur, snr in (("ZOOM0001.WAV", 0.0, 100.0, 30.0), ("C0001.MP4", CAMERA_AT_S, CAMERA_S, 20.0),
                               ("IMG_0001.MOV", CLIP_AT_S, CLIP_S, 12.0)):
        x = prog[int(at * RATE): int((at + dur) * RATE)].copy()
        x += rng.standard_normal(x.size) * np.sqrt(np.mean(x**2)) * 10 ** (-snr / 20)
        paths.append(str(tmp_path / name))
        encode.write(paths[-1], (0.3 * x / np.abs(x).max()).astype(np.float32), rate_hz=RATE)
    return paths


def test_a_clip_ambiguous_against_one_partner_is_placed_by_a_coherent_edge(tmp_path):
    paths = _files(tmp_path)
    al = syncfp.align(paths, workers=2, cache=False)
    board, camera, clip = al.clips
    assert board.group is not None and board.group == camera.group == clip.group
    assert abs((clip.offset_s - board.offset_s) - CLIP_AT_S) < 1e-3
    assert abs((camera.offset_s - board.offset_s) - CAMERA_AT_S) < 1e-3

    # without the rule, the same clip is left out as repeat-ambiguous (what the rule changes)
    off = syncfp.align(paths, workers=2, cache=False, rescue_cfg=RescueConfig(coherent_keeps=False))
    assert off.clips[2].group is None and "ambiguous" in (off.clips[2].error or "")
