"""audalign (PyPI) on one scenario: `target_align` against one reference → JSON positions.

Runs inside the tool's own venv and never imports syncfp. audalign reads through pydub, which needs an
ffmpeg binary for anything but WAV; the benchmark hands it 16-bit WAV transcodes of the same clips.
Default fingerprint recognizer and settings, as a user would run it. audalign returns, per file it could
align, the seconds of silence to put before it; files it could not align are absent.
Usage: ``python audalign_adapter.py JOB.json OUT.json``; JOB holds reference, clip_dir.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import audalign


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the tool's worker pool)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_rss_mb() -> float:
    """This process's own peak RSS. getrusage's ru_maxrss survives exec, so it would report the parent's."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(job_path: str, out_path: str) -> None:
    with open(job_path) as f:
        job = json.load(f)
    cpu0 = _cpu()
    t0 = time.perf_counter()
    res = audalign.target_align(job["reference"], job["clip_dir"])
    wall = time.perf_counter() - t0
    clips = {}
    for name in sorted(os.listdir(job["clip_dir"])):
        shift = (res or {}).get(name)
        ok = isinstance(shift, (int, float))
        clips[name] = {"group": 1 if ok else None, "offset_s": float(shift) if ok else None,
                       "error": None if ok else "not aligned"}
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out_path, "w") as f:
        json.dump({"tool": "audalign", "wall_s": wall, "cpu_s": _cpu() - cpu0, "rss_self_mb": _peak_rss_mb(),
                   "rss_child_mb": kids.ru_maxrss / 1024,
                   "clips": clips}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
