"""One cold `syncfp.align` run in its own process → JSON placements, wall/CPU time and peak memory.

Run as a child of the benchmark so that its peak RSS and CPU time (``getrusage`` of itself and of its
decode workers) belong to this alignment alone. Usage: ``python -m bench.run_syncfp JOB.json OUT.json``
where JOB holds ``{"paths": [...], "workers": 2}``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from bench.peers.childstats import cpu_s, write_result


def main(job_path: str, out_path: str) -> None:
    with open(job_path) as f:
        job = json.load(f)
    import syncfp  # imported here so the import cost is not timed twice

    cpu0 = cpu_s()
    with tempfile.TemporaryDirectory(prefix="syncfp-bench-cache-") as cache_dir:
        t0 = time.perf_counter()
        al = syncfp.align(job["paths"], workers=job.get("workers", 2), cache=job.get("cache", False),
                          cache_dir=cache_dir)
        wall = time.perf_counter() - t0
    clips = {
        os.path.basename(c.path): {"group": c.group, "offset_s": c.offset_s, "drift_ppm": c.drift_ppm,
                                   "confidence": c.confidence, "error_ms": c.error_ms, "error": c.error, "duration_s": c.duration_s,
                                   "hint": None if c.clock_hint is None else (c.clock_hint.group, c.clock_hint.offset_s)}
        for c in al.clips
    }
    write_result(out_path, "syncfp", wall_s=wall, cpu0=cpu0, clips=clips,
                 group_hints={str(g): (h.group, h.offset_s) for g, h in al.group_hints.items()})

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
