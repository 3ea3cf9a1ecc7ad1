"""Short phone clips of loop music, each alone as often at a repeat of the loop as at its truth, placed by the
clock reading their network-timed names agree on (`api._lag_voted`): real encoded media, known offsets."""

from __future__ import annotations

import numpy as np
import pytest

import syncfp
from bench import concert, encode, synth
from syncfp.config import RescueConfig

RATE = 48000


@pytest.fixture(scope="module")
def loop_song() -> np.ndarray:
    """A 6-s loop played 15 times by a live band: each pass a few ms early or late, never sample-identical."""
    loop = synth.concert(6.0, rate_hz=RATE, seed=91, tempo_bpm=120)
    return concert.live_timing(np.tile(loop, 15), np.random.default_rng(5), rate_hz=RATE)


def _write(tmp_path, name: str, master: np.ndarray, start_s: float, dur_s: float, **kw) -> str:
    seg = master[int(start_s * RATE): int((start_s + dur_s) * RATE)]
    path = str(tmp_path / name)
    encode.write(path, synth.device(seg, rate_hz=RATE, **kw), rate_hz=RATE)
    return path


@pytest.mark.slow
def test_short_loop_clips_placed_where_their_clocks_agree(tmp_path, loop_song):
    """A camera with no clock films the whole loop; six 5-s phone clips are named by the second they started
    (network time). Each one's lag fits every pass of the loop, but their names agree on the camera's clock
    at one reading only: there all six are searched, and placed to 1 ms. Without those votes none is placed."""
    cam = _write(tmp_path, "GX010001.MP4", loop_song, 2.0, 86.0, eq="camera", snr_db=15, reverb_s=0.5, seed=1)
    starts = [9.3, 21.6, 33.1, 47.8, 58.2, 71.5]
    phones = {_write(tmp_path, f"VID_20260612_2100{int(s):02d}.mp4", loop_song, s, 5.0, eq="phone", snr_db=10,
                     reverb_s=0.3, seed=10 + k): s for k, s in enumerate(starts)}
    paths = [cam, *phones]

    al = syncfp.align(paths, cache=False, workers=2)
    by = {c.path: c for c in al.clips}
    placed = [p for p in phones if by[p].group is not None]
    assert len(placed) >= 4, [(p, by[p].error) for p in phones]
    for p in placed:
        assert by[p].group == by[cam].group
        assert abs(by[p].offset_s - by[cam].offset_s - (phones[p] - 2.0)) < 0.001, p

    without = syncfp.align(paths, cache=False, workers=2, rescue_cfg=RescueConfig(lag_vote_candidates=0))
    assert all(c.group is None for c in without.clips if c.path in phones)
