"""audio-offset-finder (BBC, PyPI) on one scenario: every clip against one reference → JSON positions.

Runs inside the tool's own venv (numpy, librosa, PyAV), never imports syncfp. The tool finds the offset
of one recording inside another by cross-correlating MFCCs, so it is driven star-wise, as its CLI would
be: each clip against the reference, with the tool's own advice that a standard score above 10 means a
probable match. Usage: ``python aof_adapter.py JOB.json OUT.json``; JOB holds reference, clips, budget_s.
"""

from __future__ import annotations

import json
import os
import sys
import time

import av
import numpy as np

from audio_offset_finder.audio_offset_finder import InsufficientAudioException, find_offset_between_buffers
from childstats import cpu_s, write_result  # beside this file; stdlib only

RATE_HZ = 8000  # the tool's default analysis rate
MIN_SCORE = 10.0  # the tool's documented threshold for a good match


def load(path: str) -> np.ndarray:
    """Mono float64 at the tool's rate (the tool itself shells out to an ffmpeg binary for this)."""
    out = []
    with av.open(path) as c:
        res = av.AudioResampler(format="flt", layout="mono", rate=RATE_HZ)
        for frame in c.decode(c.streams.audio[0]):
            frame.pts = None
            out += [o.to_ndarray().reshape(-1) for o in res.resample(frame)]
    return np.concatenate(out).astype(np.float64)


def main(job_path: str, out_path: str) -> None:
    with open(job_path) as f:
        job = json.load(f)
    # first call compiles librosa's numba kernels: keep that out of the timing
    warm = np.random.default_rng(0).standard_normal(RATE_HZ * 20)
    find_offset_between_buffers(warm, warm[RATE_HZ * 5 :], RATE_HZ)
    cpu0 = cpu_s()
    t0 = time.perf_counter()
    ref = load(job["reference"])
    clips = {os.path.basename(job["reference"]): {"group": 1, "offset_s": 0.0, "score": None}}
    timed_out = 0
    for p in job["clips"]:
        if p == job["reference"]:
            continue
        name = os.path.basename(p)
        if time.perf_counter() - t0 > job["budget_s"]:
            clips[name] = {"group": None, "offset_s": None, "error": "time budget exhausted"}
            timed_out += 1
            continue
        try:
            r = find_offset_between_buffers(ref, load(p), RATE_HZ)
        except InsufficientAudioException as exc:
            clips[name] = {"group": None, "offset_s": None, "error": str(exc)[:80]}
            continue
        ok = bool(np.isfinite(r["standard_score"]) and r["standard_score"] >= MIN_SCORE)
        clips[name] = {"group": 1 if ok else None, "offset_s": float(r["time_offset"]) if ok else None,
                       "score": float(r["standard_score"]), "raw_offset_s": float(r["time_offset"]),
                       "error": None if ok else "score below 10"}
    wall = time.perf_counter() - t0
    write_result(out_path, "audio-offset-finder", wall_s=wall, cpu0=cpu0, clips=clips, timed_out=timed_out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
