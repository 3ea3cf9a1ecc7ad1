"""Alignment benchmark: realistic multi-device scenarios → accuracy and speed of syncfp and of peer tools.

Builds scenarios from real music (see `bench.scenario`), runs a cold ``syncfp.align`` on each in a child
process, scores it against the ground truth (`bench.metrics`), measures bare PyAV decoding of the same
files as the speed floor, and runs audalign and audio-offset-finder (each in its own venv) side by side.

    python bench/align.py --quick                  # one small scenario, no peers, < 2 min
    python bench/align.py --json /tmp/align.json   # default: 3 scenarios, peers on the first one
    python bench/align.py --hard --quick           # hard concert bench (bench/hard.py), 3 small scenarios
    python bench/align.py --hard --split tune      # all hard scenarios of a split (tune | heldout | fresh | fresh2 … fresh34)

Generated media go to ``--workdir`` (default: a folder in the system temp dir), never into the repo; a
finished scenario is reused by the next run with the same seed and size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

if __package__ in (None, ""):  # run as a script: make `bench` and `syncfp` importable from the repo
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import metrics  # noqa: E402
from bench.music import Source  # noqa: E402
from bench.peers.runner import PEERS, default_cache_dir, ensure_venv, run_peer  # noqa: E402
from bench.report import print_report  # noqa: E402
from bench.scenario import MASTER_RATE_HZ, plan, render  # noqa: E402

# (event seconds, phones, cameras, distractors, second event): cycled over the scenarios
SIZES = [(360.0, 3, 1, 3, False), (600.0, 4, 2, 4, True), (900.0, 4, 2, 3, False)]
QUICK = (180.0, 2, 1, 2, False)
CORES = os.cpu_count() or 1


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_child(args: list[str], job: dict, out_name: str, work: str) -> dict:
    job_path, out_path = os.path.join(work, out_name + "-job.json"), os.path.join(work, out_name + ".json")
    with open(job_path, "w") as f:
        json.dump(job, f)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "-m", *args, job_path, out_path], check=True, cwd=repo)
    with open(out_path) as f:
        return json.load(f)


def speed(audio_s: float, res: dict, cores: int) -> dict:
    wall, cpu = res.get("wall_s") or 0.0, res.get("cpu_s") or 0.0
    return {
        "audio_h": audio_s / 3600, "wall_s": wall, "cpu_s": cpu, "cores": cores,
        "audio_h_per_wall_s": audio_s / 3600 / wall if wall else None,
        "xrt_wall": audio_s / wall if wall else None,
        "xrt_per_core": audio_s / wall / cores if wall else None,
        "xrt_per_cpu_s": audio_s / cpu if cpu else None,
        "peak_rss_mb": max(res.get("rss_self_mb", 0.0), res.get("rss_child_mb", 0.0)),
        "rss_self_mb": res.get("rss_self_mb"), "rss_child_mb": res.get("rss_child_mb"),
    }


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one small scenario, no peers (< 2 min)")
    ap.add_argument("--scenarios", type=int, default=None, help="number of scenarios (default 3, quick 1)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the first scenario; others follow")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "syncfp-bench-align"))
    ap.add_argument("--json", help="write all results here")
    ap.add_argument("--workers", type=int, default=CORES, help="syncfp worker processes")
    ap.add_argument("--peer-scenarios", type=int, default=None,
                    help="run peers on this many scenarios (default 1, quick 0)")
    ap.add_argument("--peer-budget", type=float, default=600.0, help="seconds per peer and scenario")
    ap.add_argument("--venv-dir", default=default_cache_dir(), help="where the peers' venvs live")
    ap.add_argument("--synth", action="store_true", help="use synthesized music even if real music is present")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run syncfp and the decode floor this many times and report the best times "
                         "(best of N, as timeit does: on a shared machine the least disturbed run)")
    ap.add_argument("--hard", action="store_true", help="the hard concert scenarios of bench/hard.py")
    ap.add_argument("--split", default="tune", help="hard: seeds and tracks (tune | heldout | fresh | fresh2 … fresh34)")
    ap.add_argument("--only", default=None, help="hard: comma-separated scenario names")
    return ap.parse_args(argv)


def run_scenario(k: int, a: argparse.Namespace, source: Source, *, with_peers: bool) -> tuple[dict, list[str]]:
    """Render (or reuse) scenario *k*, run syncfp and maybe the peers on it; returns its entry and files."""
    size = QUICK if a.quick else SIZES[k % len(SIZES)]
    seed = a.seed + k
    sc = plan(seed, event_s=size[0], phones=size[1], cameras=size[2], distractors=size[3],
              second_event=size[4], n_tracks=len(source))
    sdir = os.path.join(a.workdir, f"{'quick' if a.quick else 'full'}-s{seed}")
    t0 = time.perf_counter()
    truth = render(sc, source, os.path.join(sdir, "media"), workers=CORES)
    log(f"scenario {sc.name}: {len(sc.clips)} clips rendered/reused in {time.perf_counter() - t0:.0f} s")
    paths = [os.path.join(sdir, "media", c["file"]) for c in truth["clips"]]
    audio_s = sum(c["dur_s"] for c in truth["clips"])
    entry = {"name": sc.name, "seed": seed, "event_s": sc.event_s, "clips": len(paths),
             "audio_h": audio_s / 3600, "devices": [d.__dict__ for d in sc.devices], "tools": {}}
    runs = [run_child(["bench.run_syncfp"], {"paths": paths, "workers": a.workers}, "syncfp", sdir)
            for _ in range(max(1, a.repeat))]
    res = _best(runs)
    entry["tools"]["syncfp"] = {**metrics.score(truth, res["clips"]), "hints": metrics.hints(truth, res["clips"]),
                                **speed(audio_s, res, min(a.workers, CORES))}
    if len(runs) > 1:
        entry["tools"]["syncfp"]["runs"] = [{"wall_s": r["wall_s"], "cpu_s": r["cpu_s"]} for r in runs]
        if any(r["clips"] != runs[0]["clips"] for r in runs):
            log(f"warning: syncfp placed {sc.name}'s clips differently across runs")
    log(f"syncfp on {sc.name}: {res['wall_s']:.1f} s")
    if with_peers:
        entry["tools"].update(run_peers(truth, paths, sdir, audio_s, a))
    return entry, paths


def run_peers(truth: dict, paths: list[str], sdir: str, audio_s: float, a: argparse.Namespace, *,
              media: str | None = None) -> dict:
    """Every peer against the longest clip of the first event; a peer that cannot run gets an error."""
    ref = max(truth["clips"], key=lambda c: c["dur_s"] if c["event"] == 0 else -1)
    ref_path = os.path.join(media or os.path.join(sdir, "media"), ref["file"])
    out: dict = {}
    for peer in PEERS:
        py, err = ensure_venv(peer, a.venv_dir, log)
        if py is None:
            out[peer.name] = {"error": err}
            log(f"{peer.name}: {err}")
            continue
        log(f"{peer.name} on {truth['name']} (budget {a.peer_budget:.0f} s)")
        pres = run_peer(peer, py, paths, ref_path, os.path.join(sdir, peer.name), budget_s=a.peer_budget)
        if pres.get("error"):
            out[peer.name] = {"error": pres["error"], "wall_s": pres.get("wall_s")}
            log(f"{peer.name}: {pres['error']}")
            continue
        out[peer.name] = {**metrics.score(truth, pres["clips"], reference=ref["file"]), **speed(audio_s, pres, 1),
                          "timed_out": pres.get("timed_out", 0)}
    return out


def run_hard(a: argparse.Namespace) -> int:
    """The hard concert bench: render/reuse, check the truth, run syncfp (and peers), report."""
    from bench import hard, metrics as m  # noqa: F401

    if a.split not in hard.SPLIT_SEED:
        log(f"error: unknown --split {a.split!r}; known: {', '.join(hard.SPLIT_SEED)}")
        return 2
    names = hard.QUICK if a.quick else hard.SHAPES
    if a.only:
        names = [n for n in a.only.split(",") if n]
    n_peer = a.peer_scenarios if a.peer_scenarios is not None else (0 if a.quick else 1)
    t_all = time.perf_counter()
    results: dict = {"command": " ".join([os.path.basename(sys.executable), *sys.argv]), "music": "", "cores": CORES,
                     "engine": _engine_version(), "split": a.split, "scenarios": []}
    truths, all_files, kinds = [], [], set()
    for k, name in enumerate(names):
        t0 = time.perf_counter()
        truth, media = hard.render(name, a.split, a.workdir, quick=a.quick, workers=CORES)
        log(f"hard {name}: {len(truth['clips'])} files ready in {time.perf_counter() - t0:.0f} s "
            f"(first render {truth['render_s']:.0f} s + check {truth['check_s']:.0f} s)")
        truths.append(truth)
        for e in truth["source"]["events"].values():
            kinds.add(f"{e['package']} ({e['music']})")
        if truth["source"]["babble"] != "espeak-ng":
            log(f"babble: {truth['source']['babble']}")
        paths = [os.path.join(media, c["file"]) for c in truth["clips"]]
        audio_s = sum(c["dur_s"] for c in truth["clips"])
        entry = {"name": name, "seed": truth["seed"], "clips": len(paths), "audio_h": audio_s / 3600,
                 "render_s": truth["render_s"], "check": hard.check_summary(truth), "tools": {}}
        res = run_child(["bench.run_syncfp"], {"paths": paths, "workers": a.workers}, "syncfp",
                        os.path.dirname(media))
        entry["tools"]["syncfp"] = {**metrics.score(truth, res["clips"]), "hints": metrics.hints(truth, res["clips"]),
                                    "group_hints": metrics.group_hints(truth, res["clips"], res.get("group_hints", {})),
                                    **speed(audio_s, res, min(a.workers, CORES))}
        log(f"syncfp on {name}: {res['wall_s']:.1f} s")
        if k < n_peer:
            entry["tools"].update(run_peers(truth, paths, os.path.dirname(media), audio_s, a, media=media))
        results["scenarios"].append(entry)
        all_files += [os.path.join(media, c["file"]) for c in truth["clips"] if not c.get("junk")]
    results["music"] = ", ".join(sorted(kinds)) + f"; babble: {truths[0]['source']['babble'] if truths else '-'}"
    log("bare PyAV decode of the same files (one process)")
    results["decode_floor"] = _floor(all_files, a.workdir)
    results["total_wall_s"] = time.perf_counter() - t_all
    print_report(results)
    hard.print_check(truths)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    if a.hard:
        return run_hard(a)
    n = a.scenarios or (1 if a.quick else 3)
    n_peer = a.peer_scenarios if a.peer_scenarios is not None else (0 if a.quick else 1)
    source = Source(rate_hz=MASTER_RATE_HZ, force_synth=a.synth)
    log(f"music: {source.kind} ({len(source)} tracks); workdir {a.workdir}")
    t_all = time.perf_counter()
    results: dict = {"command": " ".join([os.path.basename(sys.executable), *sys.argv]), "music": source.kind,
                     "cores": CORES, "engine": _engine_version(), "scenarios": []}
    all_files: list[str] = []
    for k in range(n):
        entry, paths = run_scenario(k, a, source, with_peers=k < n_peer)
        results["scenarios"].append(entry)
        all_files += paths
    log("bare PyAV decode of the same files (one process)")
    results["decode_floor"] = _floor(all_files, a.workdir, a.repeat)
    results["total_wall_s"] = time.perf_counter() - t_all
    print_report(results)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


def _engine_version() -> str:
    """Commit of the work tree, with '+dirty' when syncfp/ has uncommitted changes (engines move fast)."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "syncfp"], cwd=repo, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head:
        return "unknown (not a git work tree)"
    return head + ("+dirty" if dirty else "")


def _best(runs: list[dict]) -> dict:
    """The first run's placements with the best wall and CPU time of all runs and the largest memory."""
    best = dict(runs[0])
    best["wall_s"] = min(r["wall_s"] for r in runs)
    best["cpu_s"] = min(r["cpu_s"] for r in runs)
    best["rss_self_mb"] = max(r.get("rss_self_mb", 0.0) for r in runs)
    best["rss_child_mb"] = max(r.get("rss_child_mb", 0.0) for r in runs)
    return best


def _floor(paths: list[str], work: str, repeat: int = 1) -> dict:
    out = os.path.join(work, "decode-floor.json")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    kinds: dict = {}
    for _ in range(max(1, repeat)):
        subprocess.run([sys.executable, "-m", "bench.decode_floor", out, *paths], check=True, cwd=repo)
        with open(out) as f:
            for kind, k in json.load(f).items():  # best CPU time of the runs, per codec
                if kind not in kinds or k["cpu_s"] < kinds[kind]["cpu_s"]:
                    kinds[kind] = k
    for k in kinds.values():
        k["xrt_per_core"] = k["audio_s"] / k["cpu_s"] if k["cpu_s"] else None
    return kinds


if __name__ == "__main__":
    sys.exit(main())
