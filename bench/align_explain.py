"""scenario folder + clip names → syncfp's candidate edges for those clips next to the true offsets.

A diagnostic for a clip the benchmark reports as missed or off: was the right offset among the candidates
(and only below a threshold), or never found? Uses the engine's stages directly (`extract`, `match_all`),
so it shows the edges before the solve, then the rescue's envelope candidates against the three longest
other clips (z, whether the GCC-PHAT probe lit up, windows verified of those tried). Only the named clips
and the event clips within 200 s of them are fingerprinted.

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

from syncfp.sync import api, rescue  # noqa: E402
from syncfp.config import FingerprintConfig, MatchConfig, VerifyConfig  # noqa: E402
from syncfp.audio.extract import extract  # noqa: E402
from syncfp.types import PairMatch  # noqa: E402
from syncfp.sync.verify import check_hypothesis, verify_pair  # noqa: E402


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
        edges = api.match_all(fps, fcfg=fcfg, mcfg=mcfg, screen=False)
        hyps = api.match_hypotheses(fps, fcfg=fcfg, mcfg=mcfg, vcfg=VerifyConfig())
        for fp, n in zip(fps, near):
            if n in want:
                print(f"{n}: {len(fp.hashes)} hashes over {fp.duration_s:.1f} s; truth {truth[n]}")
        print(f"thresholds: min_support {mcfg.min_support}, min_z {mcfg.min_z}")
        for e in edges:
            a_, b_ = near[e.a], near[e.b]
            if a_ not in want and b_ not in want:
                continue
            ta, tb = truth[a_], truth[b_]
            true = tb["start_s"] - ta["start_s"] if ta["event"] == tb["event"] else float("nan")
            print(f"{a_:22s} {b_:22s} found {e.offset_s:9.3f} s true {true:9.3f} s support {e.support:4d} "
                  f"z {e.z:6.1f} ratio {e.ratio:5.2f}")
            if (e.a, e.b) in hyps:
                v = verify_pair(hyps[(e.a, e.b)], fps[e.a], fps[e.b])
                verdict = "ambiguous" if v.ambiguous else ("edge" if v.edge else "not confirmed")
                print(f"    verification: {verdict}")
                for ev in v.evidence:
                    print(f"    hypothesis {ev.edge.offset_s:9.4f} s: {ev.confirmed}/{len(ev.tried)} windows "
                          f"confirm {''.join('1' if c else '0' for _, c in sorted(ev.tried.items()))}")
        _explain_rescue(fps, near, want, truth)
    return 0


def _explain_rescue(fps: list, near: list[str], want: set[str], truth: dict) -> None:
    """The rescue's candidates for each wanted clip against the three longest other clips."""
    rcfg, vcfg = rescue.RescueConfig(), VerifyConfig()
    for q, name in enumerate(near):
        if name not in want:
            continue
        fq = fps[q]
        q_start = max(0.0, (fq.duration_s - rcfg.max_query_s) / 2)
        envq = rescue.onset_envelope(fq, start_s=q_start, dur_s=rcfg.max_query_s)
        anchors = sorted((j for j in range(len(near)) if near[j] not in want), key=lambda j: -fps[j].duration_s)
        for a in anchors[: rcfg.anchors]:
            ta, tq = truth[near[a]], truth[name]
            true = (tq["start_s"] - ta["start_s"]) * (1 + ta["ppm"] * 1e-6) if ta["event"] == tq["event"] else None
            anchor = rescue._Anchor(rescue.onset_envelope(fps[a]), envq.shape[1])
            c, lag0 = rescue._xcorr(envq, anchor, rcfg.min_overlap_frames)
            print(f"rescue {name} in {near[a]}: true {'-' if true is None else f'{true:.3f} s'}")
            for i, z in rescue._peaks(c, 2 * rcfg.candidates, guard=100):
                off = (i + lag0) * rescue.ENV_HOP / fq.rate_hz - q_start
                lit = rescue._probe(fps[a], fq, off, rcfg, vcfg)
                lo, hi = (a, q) if a < q else (q, a)
                cand = PairMatch(a=lo, b=hi, offset_s=off if a < q else -off, rate=1.0, support=0, z=z,
                                 ratio=1.0, trusted=False)
                ev = check_hypothesis(cand, fps[lo], fps[hi], vcfg)
                mark = "TRUE" if true is not None and abs(off - true) < 0.06 else "    "
                print(f"  {off:9.3f} s z {z:5.2f} {mark} probe {'lit' if lit else '-  '} windows "
                      f"{ev.confirmed}/{len(ev.tried)} {'confirmed' if ev.ok else ''}"
                      f"{'' if z >= rcfg.min_z else '  (below min_z)'}")


if __name__ == "__main__":
    sys.exit(main())
