"""syncfp identify and audfprint on the same clips: the identify bench's music and degradations, a subset.

    python bench/identify_peer.py --audfprint /path/to/venv/bin/audfprint [--seed 33] [--per-cell 10]
        [--conditions clean,pink0,speech+5,speech0,crowd0,room] [--durations 5,10] [--density 20]

audfprint (`pip install audfprint2` in a separate venv: the PyPI package of Dan Ellis's audfprint) indexes
the same tracks and matches the same clips, written as 8 kHz WAV files (the rate the bench cuts its clips
at; audfprint resamples them to its 11,025 Hz). A clip is right when the top match is its track with the
offset within 0.1 s (audfprint reports offsets to its 23 ms hop; syncfp's are finer); unknown songs' clips
count as false positives when anything is reported. audfprint's own default threshold (`--min-count` 5) is
kept; `--density` is its hashes per second (20 default, 100 the "dense" setting its docs suggest for noise).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.identify import RATE, decode, draw_clips, split_known  # noqa: E402
from bench.identify_conditions import Degrader, sources  # noqa: E402
from syncfp.library.build import index_files  # noqa: E402
from syncfp.library.identify import IdentifyConfig, identify_audio  # noqa: E402
from syncfp.library.store import open_library  # noqa: E402

MATCH = re.compile(r"Matched (.+?) \S+ sec .* as (.+?) at\s+(-?[\d.]+) s with\s+(\d+) of")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--audfprint", required=True, help="the audfprint executable (audfprint2's CLI)")
    ap.add_argument("--seed", type=int, default=33)
    ap.add_argument("--per-cell", type=int, default=10, help="positive clips per cell and kind of music")
    ap.add_argument("--conditions", default="clean,pink0,speech+5,speech0,crowd0,room")
    ap.add_argument("--durations", default="5,10")
    ap.add_argument("--density", type=float, default=20.0, help="audfprint hashes per second")
    ap.add_argument("--max-hours-per-package", type=float, default=1.0)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="syncfp-identify-peer-")
    tracks, _ = sources(work, max_hours_per_package=a.max_hours_per_package)
    paths = [p for p, _ in tracks]
    kinds = {i: k for i, (_, k) in enumerate(tracks)}
    pos_ids, neg_ids = split_known(kinds)  # as bench/identify.py
    lib_path = os.path.join(work, "lib.sfp")
    index_files(lib_path, [paths[i] for i in pos_ids], workers=2)
    lib = open_library(lib_path)
    db = os.path.join(work, "afp.pklz")
    t0 = time.perf_counter()
    subprocess.run([a.audfprint, "-d", db, "-n", str(a.density), "-H", "2", "new",
                    *[paths[i] for i in pos_ids]], check=True, capture_output=True)
    afp_index_s = time.perf_counter() - t0
    audio = {i: decode(p) for i, p in enumerate(paths)}
    rng = np.random.default_rng(a.seed)
    qs = [(f"{dur}|{cond}", kind, i if kind == "pos" else None, start, q)
          for kind, dur, cond, _, i, start, q in draw_clips(
              audio, pos_ids, neg_ids, kinds, a.per_cell, rng, Degrader(work, rate_hz=RATE),
              conditions=a.conditions.split(","), durations=[int(d) for d in a.durations.split(",")])]
    qdir = os.path.join(work, "q")
    os.makedirs(qdir)
    names = []
    for k, (_, _, _, _, q) in enumerate(qs):
        names.append(os.path.join(qdir, f"q{k:05d}.wav"))
        sf.write(names[-1], q, RATE)
    raw = IdentifyConfig(min_score=0, min_confidence=0.0)
    ours = []
    t0 = time.perf_counter()
    for cell, kind, truth, start, q in qs:
        ms, _ = identify_audio(lib, q, raw)
        top = ms[0] if ms else None
        rep = top is not None and top.confidence >= 0.5 and (top.score >= IdentifyConfig().min_score or top.peaks > 0)
        track = rep and truth is not None and os.path.abspath(paths[truth]) == top.path
        ours.append((rep, track and abs(top.offset_s - start) <= 0.1, track))
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()  # its matches are log lines, shown with -v
    run = subprocess.run([a.audfprint, "-d", db, "-H", "2", "-n", str(a.density), "-v", "match", *names],
                         check=True, capture_output=True, text=True, errors="replace")
    afp_s = time.perf_counter() - t0
    found = {}
    for line in (run.stdout + run.stderr).splitlines():
        mt = MATCH.search(line)
        if mt and mt.group(1) not in found:  # the first (best) match of each query
            found[mt.group(1)] = (mt.group(2), float(mt.group(3)))
    theirs = []
    for name, (cell, kind, truth, start, _) in zip(names, qs):
        hit = found.get(name)
        track = hit is not None and truth is not None and os.path.abspath(hit[0]) == os.path.abspath(paths[truth])
        theirs.append((hit is not None, track and abs(hit[1] - start) <= 0.1, track))
    cells = sorted({c for c, *_ in qs}, key=lambda c: (int(c.split("|")[0]), c))
    print(f"seed {a.seed}, {len(qs)} clips; audfprint density {a.density:g}: index {afp_index_s:.0f} s, "
          f"match {afp_s:.0f} s; syncfp queries {ours_s:.0f} s (library {lib.audio_hours:.2f} h)")
    print("| clips | syncfp top-1 (right track, any offset) | audfprint top-1 (right track, any offset) |")
    print("| --- | ---: | ---: |")
    for c in cells:
        sel = [j for j, q in enumerate(qs) if q[0] == c and q[1] == "pos"]
        cols = [f"{100 * np.mean([r[j][1] for j in sel]):.0f} % ({100 * np.mean([r[j][2] for j in sel]):.0f} %)"
                for r in (ours, theirs)]
        print(f"| {c.split('|')[1]} {c.split('|')[0]} s | {cols[0]} | {cols[1]} |")
    neg = [j for j, q in enumerate(qs) if q[1] == "neg"]
    print(f"| unknown songs reported | {sum(ours[j][0] for j in neg)} of {len(neg)} "
          f"| {sum(theirs[j][0] for j in neg)} of {len(neg)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
