"""The rescue stage on real encoded media: a 0 dB SNR phone clip over a quiet intro, and a distractor."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import MASTER_RATE, make_clip
from syncfp.config import FingerprintConfig
from syncfp.audio.extract import extract
from syncfp.sync.rescue import _Anchor, _xcorr, rescue


def test_envelope_correlation_is_a_coefficient_per_lag():
    """`_xcorr` equals the centred correlation coefficient over each lag's overlap × sqrt(overlap)."""
    rng = np.random.default_rng(0)
    for lq, la in ((30, 80), (80, 30), (50, 50)):
        q = rng.standard_normal((3, lq)).astype(np.float32)
        a = rng.standard_normal((3, la)).astype(np.float32) * np.linspace(0.1, 3, la, dtype=np.float32)
        c, lag0 = _xcorr(q, _Anchor(a, lq + 3), 10)
        assert lag0 == -(lq - 1) and c.size == lq + la - 1
        for i in range(c.size):
            lag = i + lag0
            a0, a1 = max(0, lag), min(la, lag + lq)
            if a1 - a0 < min(lq, 10):
                assert c[i] == 0.0
                continue
            x = q[:, a0 - lag : a1 - lag].astype(float)
            y = a[:, a0:a1].astype(float)
            x -= x.mean(axis=1, keepdims=True)
            y -= y.mean(axis=1, keepdims=True)
            want = (x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()) * np.sqrt(a1 - a0)
            assert abs(c[i] - want) < 1e-5


@pytest.mark.slow
def test_noisy_clip_over_a_quiet_intro_is_rescued_and_a_distractor_is_not(tmp_path, master, other_master):
    """The intro is 12 dB below the rest: unnormalised envelope correlation preferred the loud part."""
    quiet = master.copy()
    quiet[: 30 * MASTER_RATE] *= 0.25
    rec = make_clip(tmp_path, "rec/ZOOM0001.wav", quiet, 0.0, 100.0, eq="none", snr_db=25, seed=5)
    phone = make_clip(tmp_path, "phone/IMG_0001.mp4", quiet, 8.0, 14.0, eq="phone", snr_db=0, reverb_s=1.2,
                      ppm=60, seed=6)
    other = make_clip(tmp_path, "phone/IMG_0002.mp4", other_master, 20.0, 14.0, eq="phone", snr_db=0,
                      reverb_s=1.2, seed=7)
    fps = [extract(p, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path)) for p in (rec, phone, other)]
    found = rescue([1, 2], [0], fps)
    assert [(e.a, e.b) for e in found] == [(0, 1)]
    assert abs(found[0].offset_s - 8.0) < 0.001
    assert found[0].trusted and found[0].windows >= 5


def test_peak_z_is_measured_over_the_scored_lags_only():
    """Two short clips leave most lags unscored (zero): z must come from the scored ones, not be enormous."""
    from syncfp.sync.rescue import _peaks

    rng = np.random.default_rng(0)
    c = np.zeros(5000)
    c[2000:2400] = rng.normal(0.0, 1.0, 400)
    c[2200] = 8.0
    peaks = _peaks(c, 3, guard=50)
    assert peaks[0][0] == 2200
    assert 5.0 < peaks[0][1] < 12.0  # about 8 robust spreads, not 1e12
    assert all(2000 <= i < 2400 for i, _ in peaks)  # never an unscored lag
    assert _peaks(np.zeros(5000), 3, guard=50) == []


def test_align_passes_its_rescue_config_through(tmp_path, master, other_master, monkeypatch):
    """`align(rescue_cfg=...)` reaches the rescue stage (it used to run on rescue's own defaults)."""
    import syncfp
    from syncfp.config import RescueConfig
    from syncfp.sync import api

    rec = make_clip(tmp_path, "rec/ZOOM0001.wav", master, 0.0, 40.0, eq="none", snr_db=25, seed=5)
    cam = make_clip(tmp_path, "cam/C0001.wav", master, 10.0, 20.0, snr_db=25, seed=6)
    other = make_clip(tmp_path, "phone/IMG_0002.wav", other_master, 20.0, 10.0, snr_db=25, seed=7)
    seen = []

    def spy(lost, anchors, fps, *, cfg, verify_cfg, workers, may_pair=None):
        seen.append(cfg)
        return []

    monkeypatch.setattr(api, "rescue", spy)
    custom = RescueConfig(anchors=2, min_z=5.0)
    syncfp.align([rec, cam, other], rescue_cfg=custom, cache=False, workers=1)
    assert seen == [custom]
    assert syncfp.RescueConfig is RescueConfig
