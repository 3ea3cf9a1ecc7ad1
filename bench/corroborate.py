"""Clips one inlier edge holds (in groups of three or more): do the group-mates that overlap them at the placed
position confirm them there (the normal check, `verify.check_hypothesis`)? Labelled right/wrong by the truth,
against the one partner. Diagnostic only: it reads the truth.

    python bench/corroborate.py /tmp/hardbench4/hard-fresh27 festival60,set15 [--cache DIR] [--min-overlap 10]

One line per such clip: ``LEAF scenario RIGHT|WRONG file dur … err (stated ms) via partner mates [...]``, each mate
``ok`` (windows standing alone), ``sum`` (only summed) or ``no``. Thirty-fifth session: on tune and fresh27 "no
mate confirms" holds for wrong and right clips alike (far clips are deaf to most mates; docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import syncfp  # noqa: E402
from syncfp.audio.extract import fingerprint_files  # noqa: E402
from syncfp.config import FingerprintConfig, VerifyConfig  # noqa: E402
from syncfp.sync.verify import check_hypothesis  # noqa: E402
from syncfp.types import PairMatch  # noqa: E402


def _scenario(media: str, cache: str, work: str, min_overlap: float, name: str) -> None:
    with open(os.path.join(media, "truth.json")) as f:
        truth = {c["file"]: c for c in json.load(f)["clips"]}
    paths = [os.path.join(media, n) for n in truth]
    al = syncfp.align(paths, workers=2, cache=True, cache_dir=cache)
    degree = Counter(j for e in al.edges for j in (e.a, e.b))
    partner = {j: (e.b if j == e.a else e.a) for e in al.edges for j in (e.a, e.b)}
    size = Counter(c.group for c in al.clips if c.group is not None)
    leaves = [i for i, c in enumerate(al.clips) if c.group is not None and degree[i] == 1 and size[c.group] >= 3]
    need = sorted({i for q in leaves for i, c in enumerate(al.clips) if c.group == al.clips[q].group})
    fps, _ = fingerprint_files([paths[i] for i in need], cfg=FingerprintConfig(), cache_dir=cache, work_dir=work,
                               workers=2)
    fp = dict(zip(need, fps))
    for q in leaves:
        cq, p = al.clips[q], partner[q]
        cp = al.clips[p]
        tq, tp = truth[os.path.basename(paths[q])], truth[os.path.basename(paths[p])]
        right = tq.get("event") == tp.get("event") and abs(
            (cq.offset_s - cp.offset_s) - (tq["start_s"] - tp["start_s"])) < 0.04
        mates = []
        for w in need:
            cw = al.clips[w]
            if w in (q, p) or cw.group != cq.group or fp[q] is None or fp[w] is None:
                continue
            shared = min(cq.offset_s + cq.duration_s, cw.offset_s + cw.duration_s) - max(cq.offset_s, cw.offset_s)
            if shared < min_overlap:
                continue
            h = PairMatch(a=0, b=1, offset_s=cw.offset_s - cq.offset_s, rate=1.0, support=0, z=0.0, ratio=1.0,
                          trusted=False)
            ev = check_hypothesis(h, fp[q], fp[w], VerifyConfig())
            mates.append("ok" if ev.ok and not ev.stacked else "sum" if ev.ok else "no")
        print(f"LEAF {name} {'RIGHT' if right else 'WRONG'} {os.path.basename(paths[q])} dur {cq.duration_s:.0f} "
              f"err {cq.error_ms} via {os.path.basename(paths[p])} mates {mates}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="a rendered split, e.g. /tmp/hardbench4/hard-tune")
    ap.add_argument("scenarios", help="comma-separated scenario names")
    ap.add_argument("--cache", default="/tmp/syncfp-inprocess-cache", help="fingerprint cache folder")
    ap.add_argument("--min-overlap", type=float, default=10.0, help="mates overlapping at least this long (s)")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="corroborate-")
    for name in a.scenarios.split(","):
        _scenario(os.path.join(a.root, name, "media"), a.cache, work, a.min_overlap, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
