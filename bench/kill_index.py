"""Interrupted indexing: SIGKILL `syncfp index` at random moments, then check what it left behind.

Each run starts a fresh library and kills `index` up to three times in a row at random points of its
work (uniform over the measured length of an uninterrupted run), then lets a last run finish. After every
kill: the library opens (or does not exist yet), it holds every track it held after the previous kill, and
no temp file is left beside it. At the end: every track exactly once, and the hash table is identical,
array for array, to the one an uninterrupted run builds.

    python -m bench.kill_index --runs 100
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

from bench import encode, synth
from syncfp.library.store import LibraryError, open_library


def make_songs(directory: str, n: int = 8, seconds: float = 8.0) -> list[str]:
    out = []
    for i in range(n):
        p = os.path.join(directory, f"song{i:02d}.wav")
        encode.write(p, synth.concert(seconds, rate_hz=16000, seed=500 + i), rate_hz=16000)
        out.append(p)
    return out


def index_cmd(lib: str, songs: list[str]) -> list[str]:
    return [sys.executable, "-m", "syncfp", "index", "-q", "--library", lib, *songs]


def snapshot(lib: str) -> list[str]:
    """sha256 of every track in the library file ([] when absent); raises if it does not open."""
    if not os.path.exists(lib):
        return []
    return [t.sha256 for t in open_library(lib).tracks]


def leftovers(lib: str) -> list[str]:
    d = os.path.dirname(lib)
    return sorted(f for f in os.listdir(d) if f.endswith(".part"))


def one_run(songs: list[str], reference: str, full_s: float, rng, work: str, kills: int = 3) -> dict:
    lib = os.path.join(work, "lib", "songs.sfp")
    os.makedirs(os.path.dirname(lib), exist_ok=True)
    held: list[str] = []
    log = []
    for _ in range(kills):
        delay = float(rng.uniform(0.0, full_s))
        p = subprocess.Popen(index_cmd(lib, songs), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        try:
            now = snapshot(lib)
        except LibraryError as exc:
            return {"ok": False, "why": f"library does not open after a kill at {delay:.2f} s: {exc}"}
        if not set(held) <= set(now):
            return {"ok": False, "why": f"tracks lost by a kill at {delay:.2f} s"}
        log.append((round(delay, 3), len(now)))
        held = now
    r = subprocess.run(index_cmd(lib, songs), capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        return {"ok": False, "why": f"re-run failed: {r.stderr.strip()[-300:]}"}
    a, b = open_library(lib), open_library(reference)
    if sorted(t.sha256 for t in a.tracks) != sorted(t.sha256 for t in b.tracks) or \
            len({t.sha256 for t in a.tracks}) != len(a.tracks):
        return {"ok": False, "why": "tracks missing or duplicated after the re-run"}
    if a.n_postings != sum(t.n_hashes for t in a.tracks) or not np.array_equal(a.keys, b.keys):
        return {"ok": False, "why": "hash table differs from an uninterrupted build"}
    left = leftovers(lib)
    pending = os.listdir(lib + ".pending") if os.path.isdir(lib + ".pending") else []
    out = {"ok": not left and not pending, "kills": log, "leftover": left, "pending": pending}
    if left or pending:
        out["why"] = f"files left behind: {left + pending}"
    shutil.rmtree(os.path.dirname(lib))
    return out


def run(*, runs: int, seed: int = 0, kills: int = 3, songs: list[str] | None = None) -> dict:
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="syncfp-kill-") as d:
        songs = songs or make_songs(d)
        reference = os.path.join(d, "ref", "songs.sfp")
        t0 = time.monotonic()
        subprocess.run(index_cmd(reference, songs), check=True, capture_output=True, timeout=300)
        full_s = time.monotonic() - t0
        results = [one_run(songs, reference, full_s, rng, d, kills) for _ in range(runs)]
    bad = [r for r in results if not r["ok"]]
    return {"runs": runs, "kills": runs * kills, "full_run_s": round(full_s, 2), "failures": bad,
            "tracks_after_kills": [k[1] for r in results if r["ok"] for k in r["kills"]]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    res = run(runs=a.runs, seed=a.seed)
    res["tracks_after_kills"] = {str(k): res["tracks_after_kills"].count(k) for k in sorted(set(res["tracks_after_kills"]))}
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
