"""Peak resident memory of `syncfp align` and `syncfp index` on a 3-hour file against a 30-second one.

The long file is made here, cheaply: a few minutes of synthesized band tiled with fresh noise on top (so no
two stretches are identical), streamed into an AAC `.m4a` block by block (the whole signal is never held).
Each command runs in its own process with one worker; its peak RSS comes from `wait4` (the maximum over
the process and any children it waited for).

    python -m bench.memory --hours 3 --out /tmp/syncfp-mem
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from fractions import Fraction

import numpy as np

import av
from bench import encode, synth

RATE = 16000


def write_long(path: str, seconds: float, *, tile_s: float = 180.0, seed: int = 0) -> None:
    """Stream *seconds* of tiled band + noise into an AAC file, one tile at a time."""
    tile = synth.concert(tile_s, rate_hz=RATE, seed=seed)
    rng = np.random.default_rng(seed)
    with av.open(path, "w") as out:
        stream = out.add_stream("aac", rate=RATE, layout="mono")
        step = stream.codec_context.frame_size or 1024
        pts, done = 0, 0
        total = int(seconds * RATE)
        while done < total:
            block = tile[: min(tile.size, total - done)] + 0.02 * rng.standard_normal(min(tile.size, total - done))
            block = np.clip(block, -1, 1).astype(np.float32)
            for s in range(0, block.size, step):
                frame = av.AudioFrame.from_ndarray(block[None, s : s + step], format="fltp", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = RATE, pts, Fraction(1, RATE)
                pts += frame.samples
                for p in stream.encode(frame):
                    out.mux(p)
            done += block.size
        for p in stream.encode(None):
            out.mux(p)


# A fork inherits its parent's RSS high-water mark (it survives exec), so the command is started by a
# small, fresh launcher rather than by this process, which holds the synthesized tile.
# wait4's usage covers the command and every descendant it waited for: ru_maxrss is the largest of them
# (the main process or one worker), the CPU times are their sum.
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "print(usage.ru_maxrss, os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime)\n"
)


def measure(cmd: list[str], env: dict, cwd: str | None = None) -> dict:
    """Peak RSS (MB, the largest process), wall and CPU seconds (all processes) and exit code of *cmd*."""
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", _LAUNCHER, *cmd], capture_output=True, text=True, env=env,
                         check=True, cwd=cwd).stdout.split()
    return {"peak_rss_mb": int(out[0]) / 1024.0, "wall_s": time.monotonic() - t0, "cpu_s": float(out[2]),
            "exit": int(out[1])}


def peak_rss(cmd: list[str], env: dict) -> tuple[float, float, int]:
    """(peak RSS in MB, wall seconds, exit code) of *cmd*."""
    m = measure(cmd, env)
    return m["peak_rss_mb"], m["wall_s"], m["exit"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=3.0)
    ap.add_argument("--out", default="/tmp/syncfp-mem")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    files = {"30s": os.path.join(a.out, "short.m4a"), f"{a.hours:g}h": os.path.join(a.out, "long.m4a")}
    seconds = {"30s": 30.0, f"{a.hours:g}h": a.hours * 3600}
    clip = os.path.join(a.out, "clip.wav")  # 20 s heard in both: the tile's start recurs in the long file
    encode.write(clip, synth.concert(30.0, rate_hz=RATE, seed=0)[5 * RATE : 25 * RATE], rate_hz=RATE)
    results = {}
    env = {**os.environ, "SYNCFP_CACHE": os.path.join(a.out, "cache")}
    for label, path in files.items():
        if not os.path.exists(path):
            t0 = time.monotonic()
            write_long(path, seconds[label])
            results[f"generate {label} s"] = round(time.monotonic() - t0, 1)
        lib = os.path.join(a.out, f"lib-{label}.sfp")
        for f in (lib, lib + ".lock"):
            if os.path.exists(f):
                os.remove(f)
        runs = {
            "align": [sys.executable, "-m", "syncfp", "align", "-q", "--no-cache", "-j", "1", "-f", "json", path, clip],
            "index": [sys.executable, "-m", "syncfp", "index", "-q", "-j", "1", "--library", lib, path],
        }
        for name, cmd in runs.items():
            mb, wall, rc = peak_rss(cmd, env)
            results[f"{name} {label}"] = {"peak_rss_mb": round(mb, 1), "wall_s": round(wall, 1), "exit": rc,
                                          "file_mb": round(os.path.getsize(path) / 1e6, 1)}
    baseline = peak_rss([sys.executable, "-c", "import syncfp.cli, syncfp.library.build"], env)[0]
    results["python + imports"] = {"peak_rss_mb": round(baseline, 1)}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
