"""Shared fixtures: synthesized masters and real encoded clips cut from them with known offsets."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from fractions import Fraction

import numpy as np
import pytest
from scipy.signal import resample_poly

from bench import encode, synth

MASTER_RATE = 48000
FAST_NOISE = True  # `cut`'s crowd noise drawn the cheap way (`synth.crowd_noise`): the suite's media are most of its time


@pytest.fixture(scope="session", autouse=True)
def _encode_once(tmp_path_factory):
    """Identical fixtures are encoded once per test process: the encoders are deterministic, so a file
    asked for again with the same audio and options is a copy of the first (tests share boards and clips: about one
    file in five is asked for again, ~45 CPU-s of the suite's ~200 s of encoding)."""
    store = tmp_path_factory.mktemp("encoded")
    real = encode.write

    def write(path: str, x: np.ndarray, **kw) -> None:
        ext = os.path.splitext(path)[1].lower()
        arr = np.ascontiguousarray(x)
        head = repr((ext, sorted(kw.items(), key=lambda kv: kv[0]), arr.shape, str(arr.dtype))).encode()
        kept = store / (hashlib.sha1(head + arr.tobytes()).hexdigest() + ext)
        if not kept.exists():
            real(str(kept), x, **kw)
        shutil.copyfile(kept, path)

    encode.write = write
    _clips_made["store"] = store
    yield
    _clips_made.pop("store", None)
    encode.write = real


_clips_made: dict = {}  # "store": the folder `_encode_once` keeps its files in, while it runs


@pytest.fixture(scope="session")
def master() -> np.ndarray:
    return synth.concert(100.0, rate_hz=MASTER_RATE, seed=1)


@pytest.fixture(scope="session")
def other_master() -> np.ndarray:
    return synth.concert(60.0, rate_hz=MASTER_RATE, seed=2, tempo_bpm=92)


def cut(
    master: np.ndarray, start_s: float, length_s: float, *, ppm: float = 0.0, snr_db: float | None = 25.0,
    eq: str = "camera", reverb_s: float = 0.3, seed: int = 0, rate_hz: int = 48000, channels: int = 1,
    fast_noise: bool = FAST_NOISE,
) -> np.ndarray:
    """A device's recording of master[start : start + length] (drift, EQ, room, noise), at *rate_hz*.
    *fast_noise* False: the benchmarks' exact noise draws (for tests that sit in a narrow band of SNR)."""
    seg = master[int(start_s * MASTER_RATE) : int((start_s + length_s) * MASTER_RATE)]
    y = synth.device(synth.drift(seg, ppm), rate_hz=MASTER_RATE, seed=seed, snr_db=snr_db, eq=eq,
                     reverb_s=reverb_s, fast_noise=fast_noise)
    if rate_hz != MASTER_RATE:
        g = np.gcd(rate_hz, MASTER_RATE)
        y = resample_poly(y, rate_hz // g, MASTER_RATE // g).astype(np.float32)
    return np.stack([y, 0.8 * y], axis=1) if channels == 2 else y


def write_songs(directory, audio: dict, seeds, *, stem: str, title: str, rate_hz: int) -> list[str]:
    """One AAC file per seed (``{stem}{seed}.m4a``, titled ``{title} {seed}``): a small song library."""
    paths = []
    for s in seeds:
        p = str(directory / f"{stem}{s}.m4a")
        encode.write(p, audio[s], rate_hz=rate_hz, metadata={"title": f"{title} {s}"})
        paths.append(p)
    return paths


def make_clip(directory, name: str, master: np.ndarray, start_s: float, length_s: float, *,
              video_fps: Fraction | None = None, timecode: str | None = None, **kw) -> str:
    """Encode a cut to *directory*/*name* (codec from the suffix) and return its path."""
    rate = kw.get("rate_hz", 48000)
    path = os.path.join(str(directory), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    store = _clips_made.get("store")
    kept = None
    if store is not None:  # the same cut of the same audio asked for again: its file, without synthesizing it again
        seg = np.ascontiguousarray(master[int(start_s * MASTER_RATE) : int((start_s + length_s) * MASTER_RATE)])
        head = repr(("clip", os.path.splitext(name)[1].lower(), start_s, length_s, sorted(kw.items()),
                     str(video_fps), timecode, seg.shape, str(seg.dtype))).encode()
        kept = store / (hashlib.sha1(head + seg.tobytes()).hexdigest() + os.path.splitext(name)[1].lower())
        if kept.exists():
            shutil.copyfile(kept, path)
            return path
    encode.write(path, cut(master, start_s, length_s, **kw), rate_hz=rate, video_fps=video_fps, timecode=timecode)
    if kept is not None:
        shutil.copyfile(path, kept)
    return path


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("SYNCFP_CACHE", str(d))
    return d


def mount_tmpfs(path: str, size: str, *, read_only: bool = False) -> bool:
    """Mount a small tmpfs at *path* when allowed (root in a container usually is); False otherwise."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    os.makedirs(path, exist_ok=True)
    opts = f"size={size}" + (",ro" if read_only else "")
    return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path], capture_output=True).returncode == 0
