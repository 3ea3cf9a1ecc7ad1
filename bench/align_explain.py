"""scenario folder + clip names → syncfp's candidate edges for those clips next to the true offsets.

A diagnostic for a clip the benchmark reports as missed or off: was the right offset among the candidates
(and only below a threshold), or never found? Uses the engine's stages directly (`extract`, `match_all`),
so it shows the edges before the solve. Only the named clips and the event clips within 200 s of them are
fingerprinted.

    python bench/align_explain.py /tmp/syncfp-bench-align/full-s3/media IMG_p4_4847.mp4
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from syncfp import api  # noqa: E402
from syncfp.config import FingerprintConfig, MatchConfig  # noqa: E402
from syncfp.extract import extract  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("media_dir", help="a scenario's media folder (holds truth.json)")
    ap.add_argument("clips", nargs="+", help="file names to explain")
    a = ap.parse_args(argv)
    with open(os.path.join(a.media_dir, "truth.json")) as f:
        truth = {c["file"]: c for c in json.load(f)["clips"]}
    want = set(a.clips)
    near = [c["file"] for c in truth.values()
            if c["file"] in want or (c["event"] is not None and any(
                truth[w]["event"] == c["event"] and abs(c["start_s"] - truth[w]["start_s"]) < 200 for w in want))]
    fcfg, mcfg = FingerprintConfig(), MatchConfig()
    with tempfile.TemporaryDirectory() as work:
        fps = [extract(os.path.join(a.media_dir, n), cfg=fcfg, cache_dir=None, work_dir=work) for n in near]
        edges = api.match_all(fps, fcfg=fcfg, mcfg=mcfg)
    for fp, n in zip(fps, near):
        if n in want:
            print(f"{n}: {len(fp.hashes)} hashes over {fp.duration_s:.1f} s; truth {truth[n]}")
    print(f"thresholds: min_support {mcfg.min_support}, min_z {mcfg.min_z}, min_ratio {mcfg.min_ratio}")
    for e in edges:
        a_, b_ = near[e.a], near[e.b]
        if a_ not in want and b_ not in want:
            continue
        ta, tb = truth[a_], truth[b_]
        true = tb["start_s"] - ta["start_s"] if ta["event"] == tb["event"] else float("nan")
        print(f"{a_:22s} {b_:22s} found {e.offset_s:9.3f} s true {true:9.3f} s support {e.support:4d} "
              f"z {e.z:6.1f} ratio {e.ratio:5.2f} trusted {e.trusted}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
