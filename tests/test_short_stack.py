"""A clip too short for its windows to measure a clock rate (`VerifyConfig.min_rate_span_s`) is checked by its
windows summed only over the rates devices drift by (`short_stack_drift` about the hypothesis's rate), not
the whole ±`max_drift`: over seconds, a repeat's wandering timing fits some slope of that range (a 7-s loop
clip 162 s off at −406 ppm, stated 0.35 ms, on the hard bench). A fingerprint line that measured a larger
rate (a mislabelled 29.97/30 device) carries it into the search."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bench import encode, synth
from syncfp.audio.extract import extract
from syncfp.config import FingerprintConfig, VerifyConfig
from syncfp.sync.verify import check_hypothesis
from syncfp.types import PairMatch

RATE = 48000
AT_S, LEN_S = 41.3, 7.0


def _encoded(tmp_path, name: str, x: np.ndarray):
    path = str(tmp_path / name)
    encode.write(path, (0.3 * x / np.abs(x).max()).astype(np.float32), rate_hz=RATE)
    return extract(path, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path))


@pytest.fixture(scope="module")
def board(tmp_path_factory, master):
    return _encoded(tmp_path_factory.mktemp("board"), "ZOOM0001.WAV", master)


def _short(tmp_path, master, ppm: float, snr_db: float):
    rng = np.random.default_rng(9)
    clip = synth.drift(master[int(AT_S * RATE): int((AT_S + LEN_S) * RATE)], ppm).astype(np.float64)
    clip += rng.standard_normal(clip.size) * np.sqrt(np.mean(clip**2)) * 10 ** (-snr_db / 20)
    return _encoded(tmp_path, "IMG_0001.MOV", clip)


def _at(rate: float) -> PairMatch:
    return PairMatch(a=0, b=1, offset_s=AT_S, rate=rate, support=0, z=0.0, ratio=1.0, trusted=False)


def test_a_short_clip_drifting_like_a_device_is_confirmed_summed(tmp_path, master, board):
    phone = _short(tmp_path, master, ppm=150.0, snr_db=-22.0)
    ev = check_hypothesis(_at(1.0), board, phone, VerifyConfig())
    assert ev.ok and ev.stacked and abs(ev.edge.offset_s - AT_S) < 1e-4


def test_a_short_clip_is_not_summed_along_a_slope_no_device_drifts_by(tmp_path, master, board):
    phone = _short(tmp_path, master, ppm=800.0, snr_db=-20.0)
    whole = replace(VerifyConfig(), short_stack_drift=VerifyConfig().max_drift)  # the rule off
    assert check_hypothesis(_at(1.0), board, phone, whole).stacked  # found at ~800 ppm by the whole search
    assert not check_hypothesis(_at(1.0), board, phone, VerifyConfig()).ok
    ev = check_hypothesis(_at(1.0 + 800e-6), board, phone, VerifyConfig())  # a line that measured the rate
    assert ev.ok and abs(ev.edge.offset_s - AT_S) < 1e-3
