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
import sys
import time

import audalign

from childstats import cpu_s, write_result  # beside this file; stdlib only


def main(job_path: str, out_path: str) -> None:
    with open(job_path) as f:
        job = json.load(f)
    cpu0 = cpu_s()
    t0 = time.perf_counter()
    res = audalign.target_align(job["reference"], job["clip_dir"])
    wall = time.perf_counter() - t0
    clips = {}
    for name in sorted(os.listdir(job["clip_dir"])):
        shift = (res or {}).get(name)
        ok = isinstance(shift, (int, float))
        clips[name] = {"group": 1 if ok else None, "offset_s": float(shift) if ok else None,
                       "error": None if ok else "not aligned"}
    write_result(out_path, "audalign", wall_s=wall, cpu0=cpu0, clips=clips)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
