"""Fingerprint-line recall on a rendered hard split: of the truly overlapping clip pairs (≥ 3 s, same event),
how many get a fingerprint hypothesis within 0.15 s of the truth, per front-end variant and for unions of two.

    python bench/fp_recall.py /tmp/hardbench4/hard-tune [--variants 8k,16k,16kHF,8k64] [--cache DIR]

Measures only the first stage (fingerprints + offset histograms, `sync.api.match_hypotheses`): what the
verification, rescue and sweep then do with the lines is `bench/hard_inprocess.py`'s job. Variants:
8k (the default), 16k (the same bins in Hz at 16 kHz, 94 Hz-7.5 kHz), 16kHF (2-7.5 kHz only: above the
band speech babble and reverberant bass fill), 8k64 (the default band, twice the peaks).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.metrics import MIN_OVERLAP_S, overlap_s  # noqa: E402
from syncfp.audio.extract import fingerprint_files  # noqa: E402
from syncfp.config import FingerprintConfig, MatchConfig, VerifyConfig  # noqa: E402
from syncfp.sync.api import match_hypotheses  # noqa: E402

_WIDE = dict(rate_hz=16000, n_fft=1024, hop=512, fmin_bin=12, fmax_bin=480, peak_df=24, zone_df=96)
VARIANTS = {
    "8k": FingerprintConfig(),
    "16k": FingerprintConfig(**_WIDE),
    "16kHF": FingerprintConfig(**{**_WIDE, "fmin_bin": 128}),
    "8k64": FingerprintConfig(peaks_per_s=64.0),
}
SCENARIOS = ["set15", "chain6", "junk", "board20", "loud", "two_concerts", "short15", "festival60", "loop5"]
TOL_S = 0.15  # a fingerprint line's offset is coarse (32-ms frames) and drift moves it over minutes


def true_pairs(truth: dict) -> dict[tuple[str, str], float]:
    """(file a, file b) → start_b − start_a for clips of one event overlapping by ≥ MIN_OVERLAP_S."""
    out = {}
    for a, b in itertools.combinations(truth["clips"], 2):
        if a["event"] is None or a["event"] != b["event"]:
            continue
        if overlap_s(a, b) >= MIN_OVERLAP_S:
            out[(a["file"], b["file"])] = b["start_s"] - a["start_s"]
    return out


def found_pairs(media: str, cfg: FingerprintConfig, cache: str) -> tuple[set, int]:
    """Truly overlapping pairs with a hypothesis near the truth, and the number of such pairs."""
    with open(os.path.join(media, "truth.json")) as f:
        truth = json.load(f)
    files = sorted(c["file"] for c in truth["clips"])
    with tempfile.TemporaryDirectory() as work:
        fps, _ = fingerprint_files([os.path.join(media, f) for f in files], cfg=cfg, cache_dir=cache,
                                   work_dir=work, workers=2)
    good = [k for k, f in enumerate(fps) if f is not None]
    pos = {files[k]: p for p, k in enumerate(good)}
    hyps = match_hypotheses([fps[k] for k in good], fcfg=cfg, mcfg=MatchConfig(), vcfg=VerifyConfig())
    found, n = set(), 0
    for (fa, fb), off in true_pairs(truth).items():
        if fa not in pos or fb not in pos:
            continue
        n += 1
        a, b = sorted((pos[fa], pos[fb]))
        sign = 1.0 if pos[fa] == a else -1.0
        if any(abs(h.offset_s - sign * off) < TOL_S for h in hyps.get((a, b), [])):
            found.add((fa, fb))
    return found, n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="a rendered split, e.g. /tmp/hardbench4/hard-tune")
    ap.add_argument("--variants", default="8k,16k,16kHF,8k64")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "syncfp-fp-recall-cache"))
    a = ap.parse_args()
    names = a.variants.split(",")
    found: dict[str, set] = {v: set() for v in names}
    total = 0
    for sc in a.scenarios.split(","):
        row = []
        for v in names:
            f, n = found_pairs(os.path.join(a.root, sc, "media"), VARIANTS[v], a.cache)
            found[v] |= {(sc, *p) for p in f}
            row.append(f"{v} {len(f)}")
        total += n
        print(f"{sc}: {n} pairs; " + ", ".join(row), flush=True)
    print(f"all: {total} pairs; " + ", ".join(f"{v} {len(found[v])}" for v in names))
    for u, w in itertools.combinations(names, 2):
        print(f"  {u} ∪ {w}: {len(found[u] | found[w])} ({len(found[w] - found[u])} only {w})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
