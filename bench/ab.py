"""Two or more engines (git revisions) on the same rendered hard draws, in process: a per-scenario table.

    python bench/ab.py --rev 2286cbd --rev HEAD --splits tune,fresh4 --workdir /tmp/hardbench4 [--jobs 2]

Each revision is checked out once into a worktree under ``--trees`` (default /tmp/syncfp-ab); each
(revision, split) runs `bench/hard_inprocess.py` of that worktree over all nine scenarios, with the split's
fingerprint cache shared (the fingerprint front end must be the same in the revisions compared). Output per
scenario: within 1 ms / placeable, misplaced (m), split (s) and clips stated within 1 ms but wrong (L), then
the totals. Renders differ between machines: compare revisions on one machine's renders only. Read only
draws you may tune on (tune, fresh4-fresh7); a clean draw is run once, officially, by `bench/align.py`.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

SCENARIOS = "set15,chain6,junk,board20,loud,two_concerts,short15,festival60,loop5"
LINE = re.compile(r"^(\w+) (\{.*?\}) stated ≤ 1 ms but not: (\[.*?\]), right but stated > 5 ms: (\d+) (\d+) s")


def _tree(rev: str, root: str, repo: str) -> str:
    """A worktree of *rev* under *root* (made once, detached)."""
    sha = subprocess.run(["git", "-C", repo, "rev-parse", rev], capture_output=True, text=True, check=True).stdout.strip()
    path = os.path.join(root, sha[:10])
    if not os.path.isdir(path):
        os.makedirs(root, exist_ok=True)
        subprocess.run(["git", "-C", repo, "worktree", "add", "--detach", path, sha], check=True, capture_output=True)
    return path


def _run(tree: str, split: str, workdir: str) -> dict[str, dict]:
    """{scenario: counts} of one in-process run of *tree*'s engine on a rendered split."""
    out = subprocess.run([sys.executable, os.path.join(tree, "bench", "hard_inprocess.py"),
                          os.path.join(workdir, f"hard-{split}"), SCENARIOS], capture_output=True, text=True,
                         cwd=tree)
    res = {}
    for line in out.stdout.splitlines():
        m = LINE.match(line)
        if m:
            d = ast.literal_eval(m.group(2))
            d["lies"], d["wall_s"] = len(ast.literal_eval(m.group(3))), int(m.group(5))
            res[m.group(1)] = d
    if not res:
        sys.exit(f"{tree} on {split}: no results\n{out.stderr[-2000:]}")
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", action="append", required=True, help="a git revision (repeat: two or more)")
    ap.add_argument("--splits", default="tune,fresh4,fresh5,fresh6,fresh7")
    ap.add_argument("--workdir", default="/tmp/hardbench4", help="where `bench/align.py --hard` rendered the draws")
    ap.add_argument("--trees", default="/tmp/syncfp-ab", help="where the revisions' worktrees go")
    ap.add_argument("--jobs", type=int, default=1, help="runs at once (each uses 2 worker threads)")
    a = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    trees = [_tree(r, a.trees, repo) for r in a.rev]
    splits = a.splits.split(",")
    jobs = [(t, s) for s in splits for t in trees]
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        results = dict(zip(jobs, pool.map(lambda j: _run(j[0], j[1], a.workdir), jobs)))
    totals = {t: [0, 0, 0, 0, 0] for t in trees}
    print("| draw | scenario | " + " | ".join(a.rev) + " |")
    print("| --- | --- |" + " --- |" * len(trees))
    for s in splits:
        for sc in SCENARIOS.split(","):
            cells = []
            for t in trees:
                d = results[(t, s)][sc]
                cells.append(f"{d['within_1ms']}/{d['placeable']} m{d['misplaced']} s{d['split']} L{d['lies']}")
                for i, k in enumerate(("within_1ms", "placeable", "misplaced", "split", "lies")):
                    totals[t][i] += d[k]
            mark = " *" if len(set(cells)) > 1 else ""
            print(f"| {s} | {sc}{mark} | " + " | ".join(cells) + " |")
    for r, t in zip(a.rev, trees):
        w, p, m, sp, lies = totals[t]
        print(f"{r}: within 1 ms {w}/{p}, misplaced {m}, split {sp}, stated ≤ 1 ms but wrong {lies}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
