"""benchmark results dict → Markdown tables on stdout (pasted as-is into docs/benchmarks.md)."""

from __future__ import annotations

import numpy as np

from bench import metrics

_HEAD = ("| scenario | tool | placeable / distractors | ≤ 1 ms | ≤ 5 ms | ≤ 40 ms | misplaced | split "
         "| missed | false pl. | drift err max (ppm) | wall (s) | audio-h / wall-s | × RT per core "
         "| × RT per CPU-s | peak RSS (MB) |")


def _pct(k: int, n: int) -> str:
    return f"{k} ({100.0 * k / n:.1f} %)" if n else "-"


def _f(x, fmt: str = "{:.1f}") -> str:
    return "-" if x is None else fmt.format(x)


def _row(name: str, tool: str, r: dict) -> str:
    if "error" in r and "placeable" not in r:
        return f"| {name} | {tool} | could not run: {r['error']} |" + " |" * 13
    n = r["placeable"]
    return (f"| {name} | {tool} | {n} / {r['distractors']} | {_pct(r['within_1ms'], n)} "
            f"| {_pct(r['within_5ms'], n)} | {_pct(r['within_40ms'], n)} | {r['misplaced']} | {r['split']} | {r['missed']} "
            f"| {r['false_placements']} | {_f(r.get('drift_err_ppm_max'))} | {_f(r.get('wall_s'))} "
            f"| {_f(r.get('audio_h_per_wall_s'), '{:.3f}')} | {_f(r.get('xrt_per_core'), '{:.0f}')} "
            f"| {_f(r.get('xrt_per_cpu_s'), '{:.0f}')} | {_f(r.get('peak_rss_mb'), '{:.0f}')} |")


def print_report(results: dict) -> None:
    print(f"\nengine: {results.get('engine')}; music: {results['music']}; cores: {results['cores']}; "
          f"total wall {results['total_wall_s']:.0f} s\n")
    print(_HEAD)
    print("|" + " --- |" * 16)
    per_tool: dict[str, list[dict]] = {}
    for s in results["scenarios"]:
        label = f"{s['name']} ({s['clips']} files, {s['audio_h']:.2f} h)"
        for tool, r in s["tools"].items():
            print(_row(label, tool, r))
            if "placeable" in r:
                per_tool.setdefault(tool, []).append({**r, "scenario": s["name"]})
    for tool, rs in per_tool.items():
        tot = metrics.total(rs)
        audio_h = sum(r["audio_h"] for r in rs)
        wall = sum(r["wall_s"] for r in rs)
        cpu = sum(r.get("cpu_s") or 0 for r in rs)
        tot.update(wall_s=wall, audio_h_per_wall_s=audio_h / wall,
                   xrt_per_core=audio_h * 3600 / wall / rs[0]["cores"],
                   xrt_per_cpu_s=audio_h * 3600 / cpu if cpu else None,
                   peak_rss_mb=max(r["peak_rss_mb"] for r in rs))
        print(_row(f"**all {len(rs)}**", f"**{tool}**", tot))
    print("\nBare PyAV decode of the same files, one process (the floor):\n")
    print("| codec | files | audio (h) | × RT per core (CPU time) |\n| --- | --- | --- | --- |")
    for kind, k in sorted(results["decode_floor"].items()):
        print(f"| {kind} | {k['files']} | {k['audio_s'] / 3600:.2f} | {_f(k['xrt_per_core'], '{:.0f}')} |")
    a = sum(k["audio_s"] for k in results["decode_floor"].values())
    c = sum(k["cpu_s"] for k in results["decode_floor"].values())
    print(f"| all | {sum(k['files'] for k in results['decode_floor'].values())} | {a / 3600:.2f} | {a / c:.0f} |")
    ours = [r for s in results["scenarios"] for t, r in s["tools"].items() if t == "syncfp"]
    cpu = sum(r.get("cpu_s") or 0 for r in ours)
    if cpu and c:
        print(f"\nsyncfp end to end per CPU-second ÷ bare decode per CPU-second: "
              f"{sum(r['audio_h'] for r in ours) * 3600 / cpu / (a / c):.2f}")
    calib = [r for s in results["scenarios"] for r in s["tools"].get("syncfp", {}).get("calib", [])]
    if calib:
        print_calibration(metrics.calibration(calib))
    print_hints(results["scenarios"])
    print("\nsyncfp clips not within 1 ms:\n")
    for s in results["scenarios"]:
        for f in s["tools"].get("syncfp", {}).get("failures", []):
            extra = ", ".join(f"{k}={_short(v)}" for k, v in f.items() if k not in ("file", "what"))
            print(f"- {s['name']}: `{f['file']}` {f['what']} ({extra})")


def _short(v):
    return f"{v:.3g}" if isinstance(v, float) else ("-" if v is None else str(v)[:60])


def print_hints(scenarios: list[dict]) -> None:
    """Unplaced clips' clock hints (`ClipResult.clock_hint`) against the truth, per scenario: how many
    unplaced clips got one, their error in seconds, and hints pointing into another event's group."""
    rows = [(s["name"], s["tools"]["syncfp"]) for s in scenarios if "hints" in s["tools"].get("syncfp", {})]
    if not rows:
        return
    print("\nsyncfp clock hints for unplaced clips (not placements; error against the truth):\n")
    print("| scenario | missed (placeable) | unplaced clips with a hint | error median (s) | max (s) | in another event's group |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, r in rows:
        errs = [abs(h["err_s"]) for h in r["hints"] if h["err_s"] is not None]
        print(f"| {name} | {r['missed']} | {len(r['hints'])} | {_f(float(np.median(errs)) if errs else None, '{:.2f}')} "
              f"| {_f(max(errs) if errs else None, '{:.2f}')} | {sum(h['err_s'] is None for h in r['hints'])} |")
    ghs = [(name, h) for name, r in rows for h in r.get("group_hints", [])]
    if ghs:
        print("\nGroups the audio left apart, placed by the clocks (`groups[].clock_hint`; error against the truth):\n")
        print("| scenario | group | clips | error (s) |\n| --- | --- | --- | --- |")
        for name, h in ghs:
            err = "another event" if h["err_s"] is None else f"{h['err_s']:+.2f}"
            print(f"| {name} | {h['group']} | {h['clips']} | {err} |")


def print_calibration(cal: dict) -> None:
    """Is the stated error / confidence worth anything? Placed clips of syncfp, all scenarios."""
    print("\nsyncfp calibration, placed clips by stated error (measured |err| over clips in the right group):\n")
    print("| stated error | clips | wrong group | measured median (ms) | p95 (ms) | max (ms) | share ≤ 1 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for lab, r in cal["by_stated_error"].items():
        print(f"| {lab} | {r['n']} | {r['wrong_group']} | {_f(r['err_median'], '{:.3f}')} | {_f(r['err_p95'], '{:.3f}')} "
              f"| {_f(r['err_max'], '{:.3f}')} | {_f(100 * r['share_correct'], '{:.0f} %')} |")
    print("\nby confidence (correct = right group and ≤ 1 ms; right in its group = ≤ 1 ms from its own group-mates,"
          " so a clip of a group split off its event still counts):\n")
    print("| confidence | clips | wrong group | share correct | share right in its group |\n| --- | --- | --- | --- | --- |")
    for lab, r in cal["by_confidence"].items():
        rig = r.get("share_right_in_group")
        print(f"| {lab} | {r['n']} | {r['wrong_group']} | {_f(100 * r['share_correct'], '{:.0f} %')} "
              f"| {_f(None if rig is None else 100 * rig, '{:.0f} %')} |")
