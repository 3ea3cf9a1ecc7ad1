"""CPU time, peak memory and the result file of one benchmarked tool run in a child process.

Standard library only: the peer adapters import it from their own folder while running inside the
peers' venvs (which have no syncfp), and `bench/run_syncfp.py` imports it as `bench.peers.childstats`.
"""

from __future__ import annotations

import json
import resource


def cpu_s() -> float:
    """CPU seconds of this process and its finished children (a tool's worker pool)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def peak_rss_mb() -> float:
    """This process's own peak RSS. getrusage's ru_maxrss survives exec, so it would report the parent's."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_result(out_path: str, tool: str, *, wall_s: float, cpu0: float, clips: dict, **extra) -> None:
    """The JSON the benchmark reads back: times since *cpu0*, own and largest child's peak RSS, placements."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out_path, "w") as f:
        json.dump({"tool": tool, "wall_s": wall_s, "cpu_s": cpu_s() - cpu0, "rss_self_mb": peak_rss_mb(),
                   "rss_child_mb": kids.ru_maxrss / 1024, **extra, "clips": clips}, f)
