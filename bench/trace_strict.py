"""Every strict repeat check a run makes (`rescue.repeat_rivals(strict=True)`: swept lines, clock-search lines,
edges that alone hold a clip), labelled against the truth: the edge's line right or wrong, how its own windows
line up (scatter, share), whether it stood or tied, and every repeat place the windows confirm there, before the
filters that decide which of them tie (`RescueConfig.rival_alone` and after). Diagnostic only: it reads the truth.

    python bench/trace_strict.py /tmp/hardbench4/hard-fresh28 set15,loop5 [--cache DIR] > trace.txt

Lines: ``STRICT scenario RIGHT|WRONG a ~ b off … win … own ok … sc …us sh … -> stand|TIE``, each followed by
``rival RIGHT|wrong offset ok … sc …us sh … stk …``. A rule for the check can be tried on a trace offline:
the decisions are a function of the numbers printed (thirty-fifth session: 245 of 245 reproduced).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import syncfp  # noqa: E402
from syncfp.sync import rescue  # noqa: E402
from syncfp.sync.verify import check_hypothesis  # noqa: E402

_TRUTH: dict = {}


def _traced(orig):
    def wrapped(edge, a, q, anchor, q_frames, q_start, fps, cfg, vcfg, strict=False, seen=None):
        r = orig(edge, a, q, anchor, q_frames, q_start, fps, cfg, vcfg, strict, seen)
        if not strict:
            return r
        clips, scen = _TRUTH["clips"], _TRUTH["scenario"]
        na, nb = os.path.basename(fps[edge.a].path), os.path.basename(fps[edge.b].path)
        ta, tb = clips.get(na), clips.get(nb)
        true = tb["start_s"] - ta["start_s"] if ta and tb and ta.get("event") == tb.get("event") else None
        base = replace(edge, refined=False, error_s=None, trusted=False, windows=0, tried=0, hypothesis=0)
        own = check_hypothesis(base, fps[edge.a], fps[edge.b], vcfg)
        label = "?" if true is None else ("RIGHT" if abs(edge.offset_s - true) < 0.5 else "WRONG")
        out = [f"STRICT {scen} {label} {na} ~ {nb} off {edge.offset_s:.3f} true "
               f"{None if true is None else round(true, 3)} win {edge.windows} stk {edge.stacked} own ok {own.ok} "
               f"sc {own.scatter * 1e6:.1f}us sh {own.share:.2f} -> {'TIE' if r else 'stand'}"]
        every = orig(edge, a, q, anchor, q_frames, q_start, fps, replace(cfg, rival_alone=False), vcfg, strict, None)
        for o in every:
            if abs(o - edge.offset_s) > 0.5:
                ev = check_hypothesis(replace(base, offset_s=o), fps[edge.a], fps[edge.b], vcfg)
                rl = "?" if true is None else ("RIGHT" if abs(o - true) < 0.5 else "wrong")
                out.append(f"    rival {rl} {o:.3f} ok {ev.ok} sc {ev.scatter * 1e6:.1f}us sh {ev.share:.2f} "
                           f"stk {ev.stacked}")
        print("\n".join(out), flush=True)  # one print: the checks run on several threads
        return r
    return wrapped


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="a rendered split, e.g. /tmp/hardbench4/hard-tune")
    ap.add_argument("scenarios", help="comma-separated scenario names")
    ap.add_argument("--cache", default="/tmp/syncfp-inprocess-cache", help="fingerprint cache folder")
    a = ap.parse_args()
    rescue._repeated = _traced(rescue._repeated)
    for name in a.scenarios.split(","):
        media = os.path.join(a.root, name, "media")
        with open(os.path.join(media, "truth.json")) as f:
            truth = json.load(f)
        _TRUTH.update(clips={c["file"]: c for c in truth["clips"]}, scenario=name)
        syncfp.align([os.path.join(media, c["file"]) for c in truth["clips"]], workers=2, cache=True,
                     cache_dir=a.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
