"""Which of align's drops throw away right answers: every line or edge a stage drops, and every lost clip's
sweep, logged against a rendered split's truth (the fifteenth session's audit, docs/benchmarks.md).

    python bench/drop_audit.py /tmp/hardbench4/hard-tune [scenario,...] [--cache DIR] [--jsonl F]

Runs `syncfp.align` in this process with the stages wrapped (their results are passed on unchanged, so
the placements are the normal ones) and prints two tables: per drop mechanism, how many dropped edges were
right (within 2 ms of the truth) and how many wrong; and per lost clip the sweep searched, where it ended
(found right, a wrong line, the true lag searched but not confirmed, a candidate not searched, no candidate
near the truth). Read only draws you may tune on: a draw read this way is no longer a clean confirmation.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import syncfp  # noqa: E402
from syncfp.sync import api, stamps, sweep  # noqa: E402

SCENARIOS = "set15,chain6,junk,board20,loud,two_concerts,short15,festival60,loop5"


class Audit:
    """The truth of the scenario being aligned and what the wrapped stages reported."""

    def __init__(self) -> None:
        self.clips: dict[str, dict] = {}
        self.scenario = ""
        self.fps: list = []
        self.drops: list[dict] = []
        self.sweeps: list[dict] = []
        self._checks: list | None = None

    def true_offset(self, fa, fb) -> float | None:
        """Where b's first sample lies in a's clock by the truth, or None (another event, junk)."""
        a, b = self.clips[os.path.basename(fa.path)], self.clips[os.path.basename(fb.path)]
        if a.get("event") is None or a["event"] != b.get("event"):
            return None
        return (b["start_s"] - a["start_s"]) * (1 + a["ppm"] * 1e-6)

    def right(self, e, tol: float = 0.002) -> bool:
        t = self.true_offset(self.fps[e.a], self.fps[e.b])
        return t is not None and abs(e.offset_s - t) < tol

    def drop(self, kind: str, e) -> None:
        self.drops.append({"scenario": self.scenario, "kind": kind, "a": os.path.basename(self.fps[e.a].path),
                           "b": os.path.basename(self.fps[e.b].path), "right": self.right(e)})

    def wrap(self) -> None:
        """Wrap the dropping stages and the sweep's search (results passed on unchanged)."""
        audit = self
        veto, inc, lone, con, meas = api._veto_repeats, api.incoherent, api._lone_pairs, api.contradicted, api.measure

        def veto_w(verdicts, gfps, *a, **k):
            out = veto(verdicts, gfps, *a, **k)
            audit.fps = gfps
            for v0, v1 in zip(verdicts, out):
                if v0.edge is not None and v1.edge is None:
                    audit.drop("repeat veto of fingerprint edges", v0.edge)
            return out

        def inc_w(edges, arrs, vcfg):
            out = inc(edges, arrs, vcfg)
            for i in out:
                audit.drop("windows scatter like a repeat played again", edges[i])
            return out

        def lone_w(sol, edges, arrs, vcfg):
            out = lone(sol, edges, arrs, vcfg)
            for i in out:
                audit.drop("two-clip group without a coherent edge", edges[i])
            return out

        def con_w(sol, edges, weak, gfps, *a, **k):
            audit.fps = gfps
            out = con(sol, edges, weak, gfps, *a, **k)
            for i in out:
                audit.drop("recording clock contradicts a weak edge", edges[i])
            return out

        def meas_w(edges, gfps, *a, **k):
            audit.fps = gfps
            return meas(edges, gfps, *a, **k)

        api._veto_repeats, api.incoherent, api._lone_pairs, api.contradicted, api.measure = (
            veto_w, inc_w, lone_w, con_w, meas_w)
        for mod, where in ((sweep, "sweep"), (stamps, "clock search")):
            self._wrap_strict(mod, where)
        self._wrap_sweep()

    def _wrap_strict(self, mod, where: str) -> None:
        rivals = mod.repeat_rivals
        audit = self

        def rivals_w(found, fps, **kw):
            out = rivals(found, fps, **kw)
            audit.fps = fps
            for e, r in zip(found, out):
                if r and kw.get("strict"):
                    audit.drop(f"strict repeat veto ({where} lines)", e)
            return out

        mod.repeat_rivals = rivals_w

    def _wrap_sweep(self) -> None:
        search, coherent = sweep._search, sweep.coherent
        audit = self

        def coherent_w(ev, vcfg, cfg, *, pooled=False):
            ok = coherent(ev, vcfg, cfg, pooled=pooled)
            if ev is not None and audit._checks is not None:
                audit._checks.append((ok, audit.right(ev.edge)))
            return ok

        def search_w(q, lags, fps, cfg, vcfg, where):
            audit.fps, audit._checks = fps, []
            near = [(a, o) for _, a, o, _ in lags
                    if (t := audit.true_offset(fps[a], fps[q])) is not None and abs(o - t) < 0.05]
            tried: list[tuple[int, float]] = []
            for _, a, o, _ in sorted(lags, reverse=True):
                if len(tried) == cfg.sweep_searches:
                    break
                if not any(a == a2 and abs(o - o2) < 0.05 for a2, o2 in tried):
                    tried.append((a, o))
            edge = search(q, lags, fps, cfg, vcfg, where)
            if audit.clips[os.path.basename(fps[q].path)].get("event") is not None:
                audit.sweeps.append({
                    "scenario": audit.scenario, "clip": os.path.basename(fps[q].path),
                    "found": None if edge is None else audit.right(edge),
                    "true_coherent": any(ok and r for ok, r in audit._checks),
                    "true_searched": any(p in tried for p in near), "true_candidate": bool(near)})
            audit._checks = None
            return edge

        sweep._search, sweep.coherent = search_w, coherent_w


def sweep_outcome(rows: list[dict]) -> str:
    """The best a clip's sweeps got to (a clip is swept in several rounds)."""
    if any(r["found"] is True for r in rows):
        return "found at the truth"
    if any(r["found"] is False for r in rows):
        return "found a wrong line"
    if any(r["true_coherent"] for r in rows):
        return "true line confirmed, not returned"
    if any(r["true_searched"] for r in rows):
        return "true lag searched, not confirmed"
    if any(r["true_candidate"] for r in rows):
        return "true lag a candidate, not searched"
    return "no candidate near the truth"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="a rendered split, e.g. /tmp/hardbench4/hard-tune")
    ap.add_argument("scenarios", nargs="?", default=SCENARIOS, help="comma-separated scenario names")
    ap.add_argument("--cache", default="/tmp/syncfp-inprocess-cache", help="fingerprint cache folder")
    ap.add_argument("--jsonl", help="also write every logged decision here")
    a = ap.parse_args()
    audit = Audit()
    audit.wrap()
    for name in a.scenarios.split(","):
        media = os.path.join(a.root, name, "media")
        with open(os.path.join(media, "truth.json")) as f:
            truth = json.load(f)
        audit.scenario, audit.clips = name, {c["file"]: c for c in truth["clips"]}
        syncfp.align([os.path.join(media, c["file"]) for c in truth["clips"]], workers=1, cache=True,
                     cache_dir=a.cache)
    seen, drops = set(), Counter()
    for d in audit.drops:  # an edge dropped again in a later pass counts once
        key = (d["scenario"], d["kind"], d["a"], d["b"])
        if key not in seen:
            seen.add(key)
            drops[(d["kind"], d["right"])] += 1
    print("| mechanism | wrong edges dropped | right edges dropped |\n| --- | --- | --- |")
    for kind in sorted({k for k, _ in drops}):
        print(f"| {kind} | {drops[(kind, False)]} | {drops[(kind, True)]} |")
    by_clip: dict[tuple[str, str], list[dict]] = {}
    for r in audit.sweeps:
        by_clip.setdefault((r["scenario"], r["clip"]), []).append(r)
    outcomes = Counter(sweep_outcome(rows) for rows in by_clip.values())
    print(f"\nlost clips swept: {len(by_clip)}")
    for what, n in outcomes.most_common():
        print(f"  {n:4d}  {what}")
    if a.jsonl:
        with open(a.jsonl, "w") as f:
            for d in audit.drops:
                f.write(json.dumps({"drop": d}) + "\n")
            for r in audit.sweeps:
                f.write(json.dumps({"sweep": r}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
