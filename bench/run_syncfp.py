"""One cold `syncfp.align` run in its own process → JSON placements, wall/CPU time and peak memory.

Run as a child of the benchmark so that its peak RSS and CPU time (``getrusage`` of itself and of its
decode workers) belong to this alignment alone. Usage: ``python -m bench.run_syncfp JOB.json OUT.json``
where JOB holds ``{"paths": [...], "workers": 2}``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time


def _cpu() -> float:
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
    import syncfp  # imported here so the import cost is not timed twice

    cpu0 = _cpu()
    with tempfile.TemporaryDirectory(prefix="syncfp-bench-cache-") as cache_dir:
        t0 = time.perf_counter()
        al = syncfp.align(job["paths"], workers=job.get("workers", 2), cache=job.get("cache", False),
                          cache_dir=cache_dir)
        wall = time.perf_counter() - t0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    clips = {
        os.path.basename(c.path): {"group": c.group, "offset_s": c.offset_s, "drift_ppm": c.drift_ppm,
                                   "confidence": c.confidence, "error": c.error, "duration_s": c.duration_s}
        for c in al.clips
    }
    out = {
        "tool": "syncfp", "wall_s": wall, "cpu_s": _cpu() - cpu0,
        "rss_self_mb": _peak_rss_mb(), "rss_child_mb": kids.ru_maxrss / 1024, "clips": clips,
    }
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
