"""Bad and unusual inputs: each gets a one-line reason, the rest of the batch is still aligned; the cache."""

from __future__ import annotations

import os

import numpy as np
import pytest

import av
import syncfp
from conftest import cut, make_clip
from bench import encode


def _video_only(path):
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=25)
        v.width = v.height = 64
        v.pix_fmt = "yuv420p"
        for i in range(25):
            f = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            f.pts = i
            for p in v.encode(f):
                out.mux(p)
        for p in v.encode(None):
            out.mux(p)


@pytest.mark.slow
def test_bad_inputs_reported_and_good_ones_aligned(tmp_path, master):
    a = make_clip(tmp_path, "good/a.wav", master, 0.0, 30.0, seed=31)
    b = make_clip(tmp_path, "good/b.mp4", master, 12.0, 30.0, seed=32)
    bad = {}
    bad["video_only.mp4"] = tmp_path / "video_only.mp4"
    _video_only(bad["video_only.mp4"])
    bad["silent.wav"] = tmp_path / "silent.wav"
    encode.write(str(bad["silent.wav"]), np.zeros(48000 * 5, np.float32), rate_hz=48000)
    bad["short.wav"] = tmp_path / "short.wav"
    encode.write(str(bad["short.wav"]), cut(master, 3.0, 0.4), rate_hz=48000)
    bad["empty.mp3"] = tmp_path / "empty.mp3"
    bad["empty.mp3"].write_bytes(b"")
    bad["dir.mp4"] = tmp_path / "dir.mp4"
    bad["dir.mp4"].mkdir()
    bad["truncated.mp4"] = tmp_path / "truncated.mp4"
    data = open(b, "rb").read()
    bad["truncated.mp4"].write_bytes(data[: len(data) // 2])
    bad["random.mov"] = tmp_path / "random.mov"
    bad["random.mov"].write_bytes(np.random.default_rng(0).bytes(5000))
    paths = [a, *map(str, bad.values()), b]
    al = syncfp.align(paths, cache=False, workers=2)
    by = {c.path: c for c in al.clips}
    assert by[a].group == by[b].group == 1
    assert abs(by[b].offset_s - by[a].offset_s - 12.0) < 0.001
    reasons = {name: by[str(p)].error for name, p in bad.items()}
    assert all(by[str(p)].group is None for p in bad.values())
    assert "no audio stream" in reasons["video_only.mp4"]
    assert "silent" in reasons["silent.wav"]
    assert "too short" in reasons["short.wav"]
    assert "empty" in reasons["empty.mp3"]
    assert "directory" in reasons["dir.mp4"]
    assert reasons["truncated.mp4"] and reasons["random.mov"]
    assert all("\n" not in r for r in reasons.values())
    # the good clips land exactly where they land without the bad ones
    clean = syncfp.align([a, b], cache=False, workers=1)
    assert clean.clips[1].offset_s == pytest.approx(by[b].offset_s, abs=1e-9)


@pytest.mark.slow
def test_odd_rates_and_layouts(tmp_path, master):
    ref = make_clip(tmp_path, "r/ref.wav", master, 0.0, 40.0, seed=33)
    low = make_clip(tmp_path, "r/low.wav", master, 10.0, 20.0, rate_hz=8000, seed=34)
    x = cut(master, 5.0, 20.0, rate_hz=96000, seed=35)
    multi = os.path.join(tmp_path, "r/six.wav")
    encode.write(multi, np.stack([x * g for g in (1.0, 0.5, 0.7, 0.2, 0.9, 0.4)], axis=1), rate_hz=96000)
    al = syncfp.align([ref, low, multi], cache=False, workers=1)
    by = {c.path: c for c in al.clips}
    assert abs(by[low].offset_s - by[ref].offset_s - 10.0) < 0.001
    assert abs(by[multi].offset_s - by[ref].offset_s - 5.0) < 0.001


@pytest.mark.slow
def test_cache_only_decodes_new_files(tmp_path, master, cache_dir):
    a = make_clip(tmp_path, "c/a.wav", master, 0.0, 30.0, seed=36)
    b = make_clip(tmp_path, "c/b.wav", master, 10.0, 30.0, seed=37)
    first = syncfp.align([a, b])
    entries = {p: os.path.getmtime(p) for p in cache_dir.glob("*.npy")}
    assert len(entries) == 2
    c = make_clip(tmp_path, "c/c.wav", master, 20.0, 30.0, seed=38)
    second = syncfp.align([a, b, c])
    after = {p: os.path.getmtime(p) for p in cache_dir.glob("*.npy")}
    assert len(after) == 3
    assert all(after[p] == t for p, t in entries.items())  # a and b were not fingerprinted again
    assert second.clips[1].offset_s - second.clips[0].offset_s == pytest.approx(
        first.clips[1].offset_s - first.clips[0].offset_s, abs=1e-4)  # c adds edges: the same within its error
    # an edited file is a new entry, not a stale hit
    os.utime(a, (1, 1))
    syncfp.align([a, b])
    assert len(list(cache_dir.glob("*.npy"))) == 4
