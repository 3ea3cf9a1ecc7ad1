"""ground truth + one tool's placements → accuracy counts (1/5/40 ms, misplaced, missed, false placements).

Positions are compared *relatively*, so group numbering and each group's zero do not matter. A tool reports
positions in the clock of its group's reference clip, whose device ran ``ppm_ref`` fast, so clip *i* is
expected at ``start_i · (1 + ppm_ref·1e-6) + c`` with one free constant ``c`` per group (taken as the
median over the group, robust to a few misplaced clips), and with relative drift
``((1 + ppm_i·1e-6) / (1 + ppm_ref·1e-6) − 1)·1e6``.

An event's clips fall into overlap components (>= MIN_OVERLAP_S of shared audio, transitively; see
`components`); clips of one event that share no audio can only form separate groups. Per component, the
group holding most of its clips is its 'main' group. An event clip is
* within 1/5/40 ms: in a main group of its event and that close to the truth;
* misplaced: placed but > 40 ms off (from the truth, or, in a split-off group, from its own group-mates),
  or in a group whose clips mostly come from another event;
* split: placed in a group of its own event that is no component's main group, and right among its
  group-mates (the editor gets two timelines where the sound would have given one);
* missed: placeable (in a component of two or more clips) but unplaced.
A distractor placed anywhere is a false placement.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

MIN_OVERLAP_S = 3.0  # the rule: groups = components of >= 3 s overlap
DRIFT_MIN_DUR_S = 60.0  # drift of shorter clips is barely observable; scored only above this


def overlap_s(a: dict, b: dict) -> float:
    """How long two truth clips play at once (content seconds; negative: the gap between them)."""
    return min(a["start_s"] + a["dur_s"], b["start_s"] + b["dur_s"]) - max(a["start_s"], b["start_s"])


def components(clips: list[dict]) -> dict[str, tuple[int, int]]:
    """Event clips that overlap another clip of their event by >= MIN_OVERLAP_S (transitively) → (event,
    component): each component is one group a tool can find by sound; clips of one event in two components
    share no audio, so placing them as two groups is right, not a split."""
    out: dict[str, tuple[int, int]] = {}
    by_event: dict[int, list[dict]] = defaultdict(list)
    for c in clips:
        if c["event"] is not None:
            by_event[c["event"]].append(c)
    for e, members in by_event.items():
        names = [m["file"] for m in members]
        pairs = [(a["file"], b["file"]) for i, a in enumerate(members) for b in members[i + 1 :]
                 if overlap_s(a, b) >= MIN_OVERLAP_S]
        label = linked(names, pairs)
        size = Counter(label.values())
        out.update({n: (e, label[n]) for n in names if size[label[n]] > 1})
    return out


def linked(names: Sequence[str], pairs: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Each of *names* → the label of its connected component, *pairs* as the links."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    idx = {n: k for k, n in enumerate(names)}
    ij = np.array([(idx[a], idx[b]) for a, b in pairs], np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(ij.shape[0]), (ij[:, 0], ij[:, 1])), shape=(len(names), len(names)))
    return dict(zip(names, connected_components(graph, directed=False)[1].tolist()))


def placeable(clips: list[dict]) -> set[str]:
    """Event clips in an overlap component of two or more clips (see `components`)."""
    return set(components(clips))


def _ref_ppm(files: list[str], preds: dict, truth: dict[str, dict], reference: str | None) -> float:
    """Clock error of the clip whose clock the group's positions are in."""
    if reference is not None and reference in truth:
        return truth[reference]["ppm"]
    zero = [f for f in files if preds[f].get("drift_ppm") is not None and abs(preds[f]["drift_ppm"]) < 1e-6]
    if zero:
        return truth[max(zero, key=lambda f: truth[f]["dur_s"])]["ppm"]
    est = [truth[f]["ppm"] - preds[f]["drift_ppm"] for f in files if preds[f].get("drift_ppm") is not None]
    return float(np.median(est)) if est else 0.0


def _errors(groups: dict, major: dict, preds: dict, truth: dict[str, dict], reference: str | None):
    """Per placed clip of its group's majority event: position error (ms) and drift error (ppm)."""
    err_ms: dict[str, float] = {}
    drift_err: dict[str, float] = {}
    for g, fs in groups.items():
        e = major[g]
        if e is None:
            continue
        p_ref = _ref_ppm(fs, preds, truth, reference)
        own = [f for f in fs if truth[f]["event"] == e]
        raw = {f: preds[f]["offset_s"] - truth[f]["start_s"] * (1 + p_ref * 1e-6) for f in own}
        c0 = float(np.median(list(raw.values())))
        for f in own:
            err_ms[f] = (raw[f] - c0) * 1000.0
            d = preds[f].get("drift_ppm")
            if d is not None and truth[f]["dur_s"] >= DRIFT_MIN_DUR_S:
                expect = ((1 + truth[f]["ppm"] * 1e-6) / (1 + p_ref * 1e-6) - 1) * 1e6
                drift_err[f] = d - expect
    return err_ms, drift_err


def score(truth_doc: dict, preds: dict[str, dict], *, reference: str | None = None) -> dict:
    """Count how well *preds* ({file: {group, offset_s, drift_ppm}}) matches *truth_doc* (see module doc)."""
    clips = truth_doc["clips"]
    truth = {c["file"]: c for c in clips}
    comp = components(clips)
    can = set(comp)
    groups: dict[object, list[str]] = defaultdict(list)
    for f, p in preds.items():
        if f in truth and p.get("group") is not None and p.get("offset_s") is not None:
            groups[p["group"]].append(f)
    major = {g: Counter(truth[f]["event"] for f in fs).most_common(1)[0][0] for g, fs in groups.items()}
    main: dict[tuple[int, int], object] = {}  # overlap component → the group holding most of its clips
    for u in set(comp.values()):
        counts = {g: sum(1 for f in fs if comp.get(f) == u) for g, fs in groups.items()}
        best = max(counts, key=counts.get, default=None)
        if best is not None and counts[best] > 0 and major[best] == u[0]:
            main[u] = best
    mains = defaultdict(set)  # event → its components' main groups
    for u, g in main.items():
        mains[u[0]].add(g)
    err_ms, drift_err = _errors(groups, major, preds, truth, reference)
    res = Counter()
    failures: list[dict] = []
    calib: list[dict] = []  # every placed clip: the tool's stated error and confidence vs what it got
    for c in clips:
        f, e = c["file"], c["event"]
        p = preds.get(f, {})
        g = p.get("group") if p.get("offset_s") is not None else None
        if g is not None:
            ok_group = e is not None and major[g] == e and g in mains[e]
            m = err_ms.get(f) if ok_group else None
            # within its own group: a clip of a split-off group can still sit right among its group-mates
            r = err_ms.get(f) if e is not None and major[g] == e else None
            calib.append({"file": f, "stated_ms": p.get("error_ms"), "confidence": p.get("confidence"),
                          "err_ms": m, "correct": m is not None and abs(m) <= 1.0,
                          "right_in_group": r is not None and abs(r) <= 1.0})
        stated = {"stated_ms": p.get("error_ms"), "conf": p.get("confidence")} if g is not None else {}
        if e is None:
            res["distractors"] += 1
            if g is not None:
                res["false_placements"] += 1
                failures.append({"file": f, "what": "distractor placed", "group": g, **stated})
            continue
        res["event_clips"] += 1
        is_p = f in can
        res["placeable"] += is_p
        if g is None:
            if is_p:
                res["missed"] += 1
                failures.append({"file": f, "what": "missed", "reason": p.get("error"), "dur_s": c["dur_s"]})
            continue
        if major[g] != e:
            res["misplaced"] += 1
            failures.append({"file": f, "what": "placed with another event's clips", "group": g, **stated})
        elif g not in mains[e]:
            r = err_ms.get(f)
            if r is not None and abs(r) > 40:  # off its own group-mates: joined where it does not overlap
                res["misplaced"] += 1
                failures.append({"file": f, "what": "misplaced (> 40 ms) in a group split off its event",
                                 "group": g, "err_ms": round(r, 3), "dur_s": c["dur_s"], **stated})
            else:
                res["split"] += 1
                failures.append({"file": f, "what": "split into a second group of its event", "group": g,
                                 **stated})
        else:
            err = abs(err_ms[f])
            for tol in (1, 5, 40):
                if is_p and err <= tol:
                    res[f"within_{tol}ms"] += 1
            if err > 40:
                res["misplaced"] += 1
            if err > 1:
                failures.append({"file": f, "what": "off" if err <= 40 else "misplaced (> 40 ms)",
                                 "err_ms": round(err_ms[f], 3), "dur_s": c["dur_s"], "device": c["device"], **stated})
    ok_drift = [abs(v) for f, v in drift_err.items() if abs(err_ms.get(f, 1e9)) <= 40]
    out = {k: int(res[k]) for k in ("event_clips", "placeable", "distractors", "within_1ms", "within_5ms",
                                    "within_40ms", "misplaced", "split", "missed", "false_placements")}
    errs = [abs(v) for f, v in err_ms.items() if f in can and abs(v) <= 40]
    out["err_ms_median"] = float(np.median(errs)) if errs else None
    out["err_ms_p95"] = float(np.percentile(errs, 95)) if errs else None
    out["drift_err_ppm_median"] = float(np.median(ok_drift)) if ok_drift else None
    out["drift_err_ppm_max"] = float(np.max(ok_drift)) if ok_drift else None
    out["failures"] = failures
    out["calib"] = calib
    return out


def _members(truth: dict[str, dict], preds: dict[str, dict]) -> dict[object, list[str]]:
    """Group → its placed clips (of the truth's files)."""
    members: dict[object, list[str]] = defaultdict(list)
    for f, p in preds.items():
        if f in truth and p.get("group") is not None and p.get("offset_s") is not None:
            members[p["group"]].append(f)
    return members


def hints(truth_doc: dict, preds: dict[str, dict]) -> list[dict]:
    """Every unplaced clip that carries a clock hint (*preds*[f]["hint"] = (group, offset_s), the group
    numbered as placed clips' are): its error in seconds against the truth, read through the hinted group's
    placed clips of its event (median over them), or None when the clip belongs to no event or to another
    event than the group's (a hint that points an editor to the wrong concert)."""
    truth = {c["file"]: c for c in truth_doc["clips"]}
    members = _members(truth, preds)
    out = []
    for f, p in preds.items():
        h = p.get("hint")
        if f not in truth or p.get("group") is not None or h is None:
            continue
        g, at = h
        tq = truth[f]
        mates = [m for m in members.get(g, []) if truth[m]["event"] == tq["event"]]
        if tq["event"] is None or not mates or Counter(truth[m]["event"] for m in members[g]).most_common(1)[0][0] != tq["event"]:
            out.append({"file": f, "err_s": None})
            continue
        errs = [(at - preds[m]["offset_s"]) - (tq["start_s"] - truth[m]["start_s"]) for m in mates]
        out.append({"file": f, "err_s": float(np.median(errs))})
    return out


def group_hints(truth_doc: dict, preds: dict[str, dict], hints: dict) -> list[dict]:
    """Every group with a clock hint (*hints*: group → (group it names, where its zero lies there)): the
    hint's error in seconds against the truth, over pairs of the two groups' clips of one event (median), or
    None when the two groups hold different events."""
    truth = {c["file"]: c for c in truth_doc["clips"]}
    members = _members(truth, preds)
    out = []
    for g, (m, shift) in hints.items():
        g = int(g)
        ev = {k: Counter(truth[f]["event"] for f in members.get(k, [])).most_common(1) for k in (g, m)}
        if not ev[g] or not ev[m] or ev[g][0][0] != ev[m][0][0] or ev[g][0][0] is None:
            out.append({"group": g, "clips": len(members.get(g, [])), "err_s": None})
            continue
        e = ev[g][0][0]
        errs = [(preds[a]["offset_s"] + shift - preds[b]["offset_s"]) - (truth[a]["start_s"] - truth[b]["start_s"])
                for a in members[g] if truth[a]["event"] == e for b in members[m] if truth[b]["event"] == e]
        out.append({"group": g, "clips": len(members[g]), "err_s": float(np.median(errs))})
    return out


STATED_BINS = [(0.1, "≤ 0.1 ms"), (0.5, "≤ 0.5 ms"), (1.0, "≤ 1 ms"), (5.0, "≤ 5 ms"), (float("inf"), "> 5 ms")]
CONF_BINS = [(0.5, "< 0.5"), (0.8, "0.5-0.8"), (0.95, "0.8-0.95"), (float("inf"), "≥ 0.95")]


def calibration(calib: list[dict]) -> dict:
    """Placed clips binned by stated error (measured |err| median/p95/max, share ≤ 1 ms; clips in a wrong
    group count as not within 1 ms and have no measured error) and by confidence (share correct)."""
    def stats(rows: list[dict]) -> dict:
        errs = [abs(r["err_ms"]) for r in rows if r["err_ms"] is not None]
        return {"n": len(rows), "wrong_group": sum(r["err_ms"] is None for r in rows),
                "err_median": float(np.median(errs)) if errs else None,
                "err_p95": float(np.percentile(errs, 95)) if errs else None,
                "err_max": float(np.max(errs)) if errs else None,
                "share_correct": sum(r["correct"] for r in rows) / len(rows) if rows else None,
                "share_right_in_group": (sum(r.get("right_in_group", r["correct"]) for r in rows) / len(rows)
                                         if rows else None)}
    by_err: dict[str, list[dict]] = {lab: [] for _, lab in STATED_BINS + [(None, "none stated")]}
    by_conf: dict[str, list[dict]] = {lab: [] for _, lab in CONF_BINS + [(None, "none stated")]}
    for r in calib:
        s = r.get("stated_ms")
        lab = "none stated" if s is None else next(lb for hi, lb in STATED_BINS if s <= hi)
        by_err[lab].append(r)
        c = r.get("confidence")
        lab = "none stated" if c is None else next(lb for hi, lb in CONF_BINS if c < hi)
        by_conf[lab].append(r)
    return {"by_stated_error": {k: stats(v) for k, v in by_err.items() if v},
            "by_confidence": {k: stats(v) for k, v in by_conf.items() if v}}


def total(per_scenario: list[dict]) -> dict:
    """Sum the counts over scenarios (medians are not summed; failures are concatenated)."""
    keys = ("event_clips", "placeable", "distractors", "within_1ms", "within_5ms", "within_40ms", "misplaced",
            "split", "missed", "false_placements")
    out = {k: sum(s[k] for s in per_scenario) for k in keys}
    drift = [s["drift_err_ppm_max"] for s in per_scenario if s.get("drift_err_ppm_max") is not None]
    out["drift_err_ppm_max"] = max(drift) if drift else None
    return out
