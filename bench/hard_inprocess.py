"""Align rendered hard scenarios in this process and score them: quick A/B runs while tuning.

    python bench/hard_inprocess.py /tmp/hardbench/hard-tune set15,chain6,junk [-v] [--cache DIR] [--set rescue_cfg.timed_stack_z=7.5]
        [--min-confidence 0.8]

Same placements as `bench/align.py --hard` (which runs each scenario in a fresh child process and also
measures speed and memory); this one reuses a fingerprint cache across runs and prints each scenario's
counts, its failures by kind and, with ``-v``, every failure. ``--set SECTION.FIELD=VALUE`` overrides one
config field (sections: fingerprint, match, verify, solve_cfg, rescue_cfg); repeatable.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import syncfp  # noqa: E402
from bench import metrics  # noqa: E402
from syncfp.config import FingerprintConfig, MatchConfig, RescueConfig, SolveConfig, VerifyConfig  # noqa: E402

KEYS = ("placeable", "within_1ms", "within_5ms", "misplaced", "split", "missed", "false_placements", "drift_err_ppm_max")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="a rendered split, e.g. /tmp/hardbench/hard-tune")
    ap.add_argument("scenarios", help="comma-separated scenario names")
    ap.add_argument("-v", action="store_true", help="print every failure")
    ap.add_argument("--cache", default="/tmp/syncfp-inprocess-cache", help="fingerprint cache folder")
    ap.add_argument("--set", action="append", default=[], help="SECTION.FIELD=VALUE (a number or true/false)")
    ap.add_argument("--min-confidence", type=float, default=0.0, help="as `syncfp align --min-confidence`")
    ap.add_argument("--calib", help="write every placed clip's stated and measured error here (JSON lines)")
    a = ap.parse_args()
    cfgs = {"fingerprint": FingerprintConfig(), "match": MatchConfig(), "verify": VerifyConfig(),
            "solve_cfg": SolveConfig(), "rescue_cfg": RescueConfig()}
    for item in a.set:
        key, value = item.split("=", 1)
        section, field = key.split(".", 1)
        cfgs[section] = dataclasses.replace(cfgs[section], **{field: json.loads(value)})
    total: Counter = Counter()
    drift = 0.0
    for name in a.scenarios.split(","):
        media = os.path.join(a.root, name, "media")
        with open(os.path.join(media, "truth.json")) as f:
            truth = json.load(f)
        paths = [os.path.join(media, c["file"]) for c in truth["clips"]]
        t0 = time.perf_counter()
        al = syncfp.align(paths, workers=2, cache=True, cache_dir=a.cache, min_confidence=a.min_confidence, **cfgs)
        preds = {os.path.basename(c.path): {"group": c.group, "offset_s": c.offset_s, "drift_ppm": c.drift_ppm,
                                            "confidence": c.confidence, "error_ms": c.error_ms, "error": c.error,
                                            "duration_s": c.duration_s} for c in al.clips}
        s = metrics.score(truth, preds)
        # honesty: clips stated within 1 ms that are not (> 1 ms from their group-mates, or in a wrong event), and right ones stated > 5 ms
        lies = [r["file"] for r in s["calib"] if (r["stated_ms"] or 0.0) <= 1.0 and not r["right_in_group"]]
        timid = sum(1 for r in s["calib"] if r["correct"] and (r["stated_ms"] or 0.0) > 5.0)
        print(name, {k: s[k] for k in KEYS}, f"stated ≤ 1 ms but not: {lies}, right but stated > 5 ms: {timid}",
              f"{time.perf_counter() - t0:.0f} s", flush=True)
        total.update({"stated_le_1ms_but_not": len(lies), "right_but_stated_gt_5ms": timid})
        if a.calib:
            with open(a.calib, "a") as f:
                for r in s["calib"]:
                    f.write(json.dumps({"scenario": name, **r}) + "\n")
        kinds = Counter(f["what"] + (": " + str(f.get("reason"))[:30] if f["what"] == "missed" else "")
                        for f in s["failures"])
        print("   failures:", dict(kinds))
        if a.v:
            for fl in s["failures"]:
                print("    ", fl)
        total.update({k: s[k] for k in KEYS if k != "drift_err_ppm_max"})
        drift = max(drift, s["drift_err_ppm_max"] or 0.0)
    print("TOTAL", dict(total), f"drift error max {drift:.1f} ppm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
