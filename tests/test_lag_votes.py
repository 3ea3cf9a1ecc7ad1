"""Short phone clips of loop music, each alone as often at a repeat of the loop as at its truth, placed by the
clock reading their network-timed names agree on (`api._lag_voted`): real encoded media, known offsets."""

from __future__ import annotations

import numpy as np
import pytest

import syncfp
from bench import concert, encode, synth
from syncfp.config import RescueConfig

RATE = 16000  # the engine reads 8 kHz; a lower rate keeps the encoded fixtures quick to make
LEAD = 0.2  # the non-repeating part's level against the loop's


@pytest.fixture(scope="module")
def loop_song() -> np.ndarray:
    """A 6-s loop played 25 times by a live band: each pass a few ms early or late, never sample-identical,
    and a quieter part over it that does not repeat (a singer, a lead)."""
    loop = synth.concert(6.0, rate_hz=RATE, seed=91, tempo_bpm=120)
    over = synth.concert(150.0, rate_hz=RATE, seed=92, tempo_bpm=120)
    return concert.live_timing(np.tile(loop, 25) + LEAD * over, np.random.default_rng(5), rate_hz=RATE)


def _write(tmp_path, name: str, master: np.ndarray, start_s: float, dur_s: float, tag: str | None = None,
           **kw) -> str:
    seg = master[int(start_s * RATE): int((start_s + dur_s) * RATE)]
    path = str(tmp_path / name)
    encode.write(path, synth.device(seg, rate_hz=RATE, **kw), rate_hz=RATE,
                 metadata={"creation_time": tag} if tag else None)
    return path


@pytest.mark.slow
def test_short_loop_clips_placed_where_their_clocks_agree(tmp_path, loop_song):
    """A camera with no clock films the whole loop; six 5-s phone clips are named by the second they started
    (network time). Each one's lag fits every pass of the loop, but their names agree on the camera's clock
    at one reading only: there all six are searched, and placed to 1 ms. An iPhone's four clips carry only a
    UTC tag (names keep local time, UTC+2): their device's clock is voted apart, and its clips placed too.
    Without the votes none of the named six is placed."""
    cam = _write(tmp_path, "GX010001.MP4", loop_song, 2.0, 140.0, eq="camera", snr_db=15, reverb_s=0.5, seed=1)
    starts = [9.3, 31.6, 53.1, 77.8, 98.2, 121.5]
    phones = {_write(tmp_path, f"VID_20260612_21{int(s) // 60:02d}{int(s) % 60:02d}.mp4", loop_song, s, 5.0,
                     eq="phone", snr_db=10,
                     reverb_s=0.3, seed=10 + k): s for k, s in enumerate(starts)}
    for k, s in enumerate([20.4, 60.2, 88.7, 131.9]):
        phones[_write(tmp_path, f"IMG_{301 + k:04d}.MOV", loop_song, s, 5.0, eq="phone", snr_db=10, reverb_s=0.3,
                      seed=20 + k, tag=f"2026-06-12T19:{int(s) // 60:02d}:{int(s) % 60:02d}.000000Z")] = s
    paths = [cam, *phones]

    al = syncfp.align(paths, cache=False, workers=2)
    by = {c.path: c for c in al.clips}
    placed = [p for p in phones if by[p].group is not None]
    assert len([p for p in placed if "VID_" in p]) >= 4, [(p, by[p].error) for p in phones]
    assert len([p for p in placed if "IMG_" in p]) >= 3, [(p, by[p].error) for p in phones]
    for p in placed:
        assert by[p].group == by[cam].group
        assert abs(by[p].offset_s - by[cam].offset_s - (phones[p] - 2.0)) < 0.001, p

    named = [cam, *(p for p in phones if "VID_" in p)]  # the named ones suffice to show it (and cost less)
    # where the windows cannot tell the passes apart (any repeat lining up under 60 µs ties), only the votes
    # place them
    without = syncfp.align(named, cache=False, workers=2,
                           rescue_cfg=RescueConfig(lag_vote_candidates=0, rival_tighter=0.0))
    assert all(c.group is None for c in without.clips if c.path in phones)
    # a live band's passes line up several times looser than the moment itself (`rival_tighter`): the audio
    # alone may place a clip, and then only at its truth
    alone = syncfp.align(named, cache=False, workers=2, rescue_cfg=RescueConfig(lag_vote_candidates=0))
    by = {c.path: c for c in alone.clips}
    for p in (p for p in named if p in phones and by[p].group is not None):
        assert by[p].group == by[cam].group
        assert abs(by[p].offset_s - by[cam].offset_s - (phones[p] - 2.0)) < 0.001, p


def _clocks(kinds: list[tuple[float | None, str, str]]):
    """Clocks of clips given as (stamp, source, device)."""
    from syncfp.sync.stamps import Clocks, Stamp
    return Clocks([None if t is None else Stamp(t=t, source=src) for t, src, _ in kinds], [d for _, _, d in kinds],
                  [None] * len(kinds))


def test_a_phones_utc_tags_read_the_names_reading_in_a_zone():
    """Votes (`stamps.voted_origins` with given lags) for a camera's clock: four phones named in local time
    agree on reading 1000 s; an iPhone's three tagged clips agree two hours (a zone) earlier, but two of its
    clips' lags sit one 34-s loop pass away, too close a second for the twice-as-many rule — the zone decides.
    The same three at 5 min and 0.8 s off every zone are not taken; nor is a named anchor's own clock voted."""
    from syncfp.sync.stamps import voted_origins

    named = [(100.0 + 10 * k, "name", "media/VID") for k in range(4)]

    def run(tag_lags: list[float], anchor_stamp: float | None = None):
        tags = [(50.0 + 10 * k, "tag", "media/IMG") for k in range(len(tag_lags))]
        clocks = _clocks([(anchor_stamp, "name", "media/CAM"), *named, *tags])
        lags = {(0, 1 + k): [(t - 1000.0 + 0.3 * (k % 2), 9.0), (t - 1000.0 + 40.0 + 17.0 * k, 6.0)]
                for k, (t, _, _) in enumerate(named)}
        for k, ((t, _, _), reading) in enumerate(zip(tags, tag_lags)):
            lags[(0, 5 + k)] = [(t - reading, 9.0)]
        n = 1 + len(named) + len(tags)
        return voted_origins(list(range(1, n)), [0], [None] * n, RescueConfig(), clocks=clocks,
                             lags=lambda clips, anchors: lags)

    utc = [1000.0 - 7200.0 + d for d in (0.4, 0.9, -0.2)] + [1000.0 - 7200.0 + 34.5] * 2
    votes = run(utc)
    assert votes[(0, "source:name")] == pytest.approx(999.85, abs=0.01)
    assert votes[(0, "device:media/IMG")] == pytest.approx(1000.0 - 7200.0 + 0.4, abs=0.6)
    assert (0, "device:media/IMG") not in run([r + 300.8 for r in utc])  # 5 min 0.8 s: no zone's
    assert (0, "source:name") not in run(utc, anchor_stamp=999.0)  # a named camera reads its own clock


def test_votes_weighed_by_how_far_each_lag_stands_over_chance():
    """Three named clips put a camera's clock at 1000 s with lags at z 12, two put it one loop pass (34 s) later
    at z 6: counted, 3 to 2 is not twice; weighed by z over 5 (`lag_vote_z_floor`), 21 to 2 is. Where all five
    stand at z 6 the weights are 3 to 2 again, and nothing is voted."""
    from syncfp.sync.stamps import voted_origins

    clocks = _clocks([(None, "name", "media/CAM"), *[(100.0 + 10 * k, "name", "media/VID") for k in range(5)]])

    def run(z_right: float, z_floor: float | None):
        lags = {(0, 1 + k): [(100.0 + 10 * k - (1000.0 if k < 3 else 1034.0), z_right if k < 3 else 6.0)]
                for k in range(5)}
        return voted_origins(list(range(1, 6)), [0], [None] * 6, RescueConfig(), clocks=clocks,
                             lags=lambda clips, anchors: lags, z_floor=z_floor)

    assert run(12.0, None) == {}
    assert run(12.0, 5.0) == {(0, "source:name"): pytest.approx(1000.0)}
    assert run(6.0, 5.0) == {}
