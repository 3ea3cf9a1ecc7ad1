"""Timestamp gaps (issue 14): an AAC recording with a 1-s dropout keeps its timeline — the gap is decoded
as silence — so it and the clip it overlaps are placed at their true offsets with no false drift."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import av
from conftest import cut, make_clip
from syncfp.audio.decode import stream_audio

RATE = 48000


def write_with_dropout(path: str, x: np.ndarray, *, drop_s: tuple[float, float]) -> None:
    """AAC in MP4/MKV with every packet inside *drop_s* left out and the rest at their true timestamps
    (what a camera's or phone's dropped audio looks like)."""
    with av.open(path, "w") as out:
        st = out.add_stream("aac", rate=RATE, layout="mono")
        size = st.codec_context.frame_size or 1024

        def mux(packets) -> None:
            for p in packets:
                if p.pts is not None and drop_s[0] <= float(p.pts * p.time_base) < drop_s[1]:
                    continue
                out.mux(p)

        for s in range(0, x.size, size):
            frame = av.AudioFrame.from_ndarray(np.clip(x[None, s : s + size], -1, 1).astype(np.float32),
                                               format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = RATE, s, Fraction(1, RATE)
            mux(st.encode(frame))
        mux(st.encode(None))


@pytest.fixture(scope="module")
def gappy(tmp_path_factory, master):
    d = tmp_path_factory.mktemp("gaps")
    cam = make_clip(d, "cam.m4a", master, 0.0, 40.0, seed=61)
    out = {}
    for ext in (".mp4", ".mkv"):
        p = str(d / f"phone{ext}")
        write_with_dropout(p, cut(master, 6.0, 24.0, seed=62, eq="phone"), drop_s=(10.0, 11.0))
        out[ext] = p
    return cam, out


@pytest.mark.slow
@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_dropout_is_decoded_as_silence(gappy, ext):
    _, files = gappy
    info, chunks = stream_audio(files[ext], rate_hz=8000)
    y = np.concatenate(list(chunks))
    assert abs(y.size / 8000 - 24.0) < 0.05  # the second lost is still there, in time
    gap = np.abs(y[int(10.1 * 8000) : int(10.9 * 8000)]).max()
    assert gap < 1e-3 < np.abs(y[int(12 * 8000) : int(13 * 8000)]).max()


@pytest.mark.slow
def test_clip_with_dropout_placed_without_false_drift(gappy):
    cam, files = gappy
    r = subprocess.run([sys.executable, "-m", "syncfp", "align", "-q", "-f", "json", "--no-cache", cam,
                        *files.values()], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    clips = {os.path.basename(c["path"]): c for c in json.loads(r.stdout)["clips"]}
    base = clips["cam.m4a"]["offset"]
    for name in ("phone.mp4", "phone.mkv"):
        c = clips[name]
        assert c["group"] is not None, c
        assert abs(c["offset"] - base - 6.0) < 0.002, c
        assert c["drift_ppm"] is None or abs(c["drift_ppm"]) < 10, c
