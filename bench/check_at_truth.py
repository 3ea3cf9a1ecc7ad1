"""Would the engine's 1-ms check accept the TRUE line? Every truly overlapping pair of a rendered hard scenario,
checked at its exact true offset and clock rate (`verify.check_hypothesis`), in the normal band or another.

    python bench/check_at_truth.py /tmp/hardbench4/hard-tune loud [--band 150,1000] [--window-s 6] [--min-overlap 10]

The per-scenario count of clips holding at least one pair confirmed at the truth is a ceiling for any
method that confirms pair by pair with this check. Separates the two ways a clip is lost: nothing proposes
its offset (the sweep, the hashes), or the check cannot vouch for it even at the truth. Per pair: whether
the check confirms, windows confirming / tried, whether only summed, the scatter, and where the confirmed
line lies from the truth (a band-limited check can lock onto an early reflection or a repeat tens of ms
away). Diagnostic only: it reads the truth. ``--max-windows``: how many windows a pair gets (the engine's
normal check 12, its clock search 24).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import metrics  # noqa: E402
from syncfp.audio.extract import fingerprint_files  # noqa: E402
from syncfp.config import FingerprintConfig, VerifyConfig  # noqa: E402
from syncfp.sync import verify  # noqa: E402
from syncfp.types import PairMatch  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="a rendered split, e.g. /tmp/hardbench4/hard-tune")
    ap.add_argument("scenarios", help="comma-separated scenario names")
    ap.add_argument("--band", help="lo,hi Hz of the windows (default: the normal check's full band)")
    ap.add_argument("--window-s", type=float, default=VerifyConfig.window_s)
    ap.add_argument("--max-windows", type=int, default=VerifyConfig.max_windows, help="windows a pair is checked by")
    ap.add_argument("--min-overlap", type=float, default=10.0, help="pairs overlapping at least this long (s)")
    ap.add_argument("--cache", default="/tmp/syncfp-inprocess-cache")
    ap.add_argument("--json")
    a = ap.parse_args()
    band = tuple(float(v) for v in a.band.split(",")) if a.band else None
    cfg = dataclasses.replace(VerifyConfig(), window_s=a.window_s, band_hz=band, max_windows=a.max_windows)
    rows = []
    work = tempfile.mkdtemp(prefix="check-at-truth-")
    for name in a.scenarios.split(","):
        media = os.path.join(a.root, name, "media")
        with open(os.path.join(media, "truth.json")) as f:
            clips = {c["file"]: c for c in json.load(f)["clips"]}
        files = sorted(metrics.placeable(list(clips.values())))
        fps, _ = fingerprint_files([os.path.join(media, f) for f in files], cfg=FingerprintConfig(),
                                   cache_dir=a.cache, work_dir=work, workers=2)
        fpd = dict(zip(files, fps))
        for i, fa in enumerate(files):
            ca = clips[fa]
            for fb in files[i + 1:]:
                cb = clips[fb]
                ov = metrics.overlap_s(ca, cb)
                if cb["event"] != ca["event"] or ov < a.min_overlap or fpd[fa] is None or fpd[fb] is None:
                    continue
                ka, kb = 1 + ca["ppm"] * 1e-6, 1 + cb["ppm"] * 1e-6  # clock rates: a's second t ↔ content t / ka
                off = (cb["start_s"] - ca["start_s"]) * ka  # position(b) − position(a), in a's clock
                # one second of b is ka / kb seconds of a, so k_a / k_b (`PairMatch.rate`) is kb / ka (until the
                # twenty-fourth session this read ka / kb: pairs were checked 2 × their drift difference off)
                h = PairMatch(a=0, b=1, offset_s=off, rate=kb / ka, support=0, z=0.0, ratio=1.0, trusted=False)
                ev = verify.check_hypothesis(h, fpd[fa], fpd[fb], cfg)
                row = {"scenario": name, "a": fa, "b": fb, "overlap_s": round(ov, 1), "ok": ev.ok,
                       "confirmed": ev.confirmed, "tried": len(ev.tried), "stacked": ev.stacked,
                       "scatter_us": None if ev.scatter != ev.scatter else round(ev.scatter * 1e6, 1),
                       "pooled_us": None if ev.edge.pooled_scatter_s is None else round(ev.edge.pooled_scatter_s * 1e6, 1),
                       "line_from_truth_ms": round((ev.edge.offset_s - off) * 1e3, 3) if ev.ok else None}
                rows.append(row)
                print(json.dumps(row), flush=True)
    for name in a.scenarios.split(","):
        sc = [r for r in rows if r["scenario"] == name]
        clips = {c for r in sc for c in (r["a"], r["b"])}
        held = {c for r in sc if r["ok"] and abs(r["line_from_truth_ms"]) <= 1.0 for c in (r["a"], r["b"])}
        print(f"{name}: {len(held)} of {len(clips)} clips with a true partner hold at least one pair the check "
              f"confirms at the truth (within 1 ms); {_ceiling(sc, a.root, name)} in the largest part of their group "
              f"that such pairs join (the most a pairwise check could place without splitting a group)")
    ok = [r for r in rows if r["ok"]]
    far = [r for r in ok if abs(r["line_from_truth_ms"]) > 1.0]
    print(f"{len(ok)} of {len(rows)} true pairs confirmed at the truth ({sum(r['stacked'] for r in ok)} only summed); "
          f"{len(far)} of those on a line more than 1 ms from the truth")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


def _ceiling(rows: list[dict], root: str, name: str) -> int:
    """Clips in the largest component, per truth group, of the pairs confirmed at the truth within 1 ms."""
    with open(os.path.join(root, name, "media", "truth.json")) as f:
        group = metrics.components(json.load(f)["clips"])
    pairs = [(r["a"], r["b"]) for r in rows if r["ok"] and abs(r["line_from_truth_ms"]) <= 1.0]
    label = metrics.linked(sorted({c for p in pairs for c in p}), pairs)
    parts = Counter((group[c], k) for c, k in label.items())
    best: dict = {}
    for (g, _), n in parts.items():
        best[g] = max(best.get(g, 0), n)
    return sum(n for n in best.values() if n > 1)


if __name__ == "__main__":
    sys.exit(main())
