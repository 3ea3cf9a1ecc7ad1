"""two `syncfp` executables → wall time of whole cold processes, alternated, medians (docs/benchmarks.md, "Start-up").

Each round runs every measured command once with the old executable and once with the new one, in
turn, so both see the same minutes of a shared, noisy machine; the load average is printed before and
after. Every run of a command must print the same thing, and identify the same answers old and new (whether
the other outputs differ is reported: the help text changed on purpose).

    python bench/cold_start.py --old OLD_VENV/bin/syncfp --new NEW_VENV/bin/syncfp \
        --library lib100.sfp --clip clip.wav --runs 9
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def commands(library: str, clip: str) -> dict[str, list[str]]:
    return {
        "identify": ["identify", clip, "--library", library, "-f", "json"],
        "--help": ["--help"],
        "--version": ["--version"],
        "python -c pass": [],  # the interpreter of that venv, nothing imported: the floor
    }


def run(exe: str, args: list[str]) -> tuple[float, float, str]:
    """Wall seconds and CPU seconds (user + system, all threads) of one whole process, and its stdout.

    CPU time is roughly what a quiet machine's wall time would be (the process runs on one core and its
    files are in the page cache); on a shared machine the wall time also holds the waits for a core."""
    argv = [str(Path(exe).with_name("python")), "-c", "pass"] if not args else [exe, *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode != 0:
        sys.exit(f"{' '.join(argv)}: exit {out.returncode}\n{out.stderr}")
    return wall, cpu, out.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--library", required=True)
    ap.add_argument("--clip", required=True)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--only", nargs="*", help="measure only these commands")
    args = ap.parse_args()
    cmds = {k: v for k, v in commands(args.library, args.clip).items() if not args.only or k in args.only}
    times: dict[tuple[str, str], list[float]] = {}
    cpus: dict[tuple[str, str], list[float]] = {}
    outputs: dict[tuple[str, str], set[str]] = {}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, argv in cmds.items():  # one untimed run each: page cache warm
        for exe in (args.old, args.new):
            run(exe, argv)
    for r in range(args.runs):
        for name, argv in cmds.items():
            for label, exe in (("old", args.old), ("new", args.new)) if r % 2 == 0 else (("new", args.new), ("old", args.old)):
                wall, cpu, out = run(exe, argv)
                times.setdefault((name, label), []).append(wall)
                cpus.setdefault((name, label), []).append(cpu)
                outputs.setdefault((name, label), set()).add(out)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'command':16} {'wall old':>8} {'wall new':>8} {'cpu old':>8} {'cpu new':>8}   (medians, s)   "
          "wall: old runs / new runs")
    med = statistics.median
    for name in cmds:
        key_o, key_n = (name, "old"), (name, "new")
        print(f"{name:16} {med(times[key_o]):8.3f} {med(times[key_n]):8.3f} {med(cpus[key_o]):8.3f} "
              f"{med(cpus[key_n]):8.3f}   {' '.join(f'{t:.3f}' for t in sorted(times[key_o]))} / "
              f"{' '.join(f'{t:.3f}' for t in sorted(times[key_n]))}")
    same = {name: outputs[(name, "old")] == outputs[(name, "new")] for name in cmds}
    steady = all(len(v) == 1 for v in outputs.values())
    print(f"output identical old vs new: {', '.join(f'{k} {v}' for k, v in same.items())}; "
          f"every run printed the same: {steady}")
    return 0 if same.get("identify", True) and steady else 1


if __name__ == "__main__":
    sys.exit(main())
