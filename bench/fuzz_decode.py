"""Fuzz the decode path: mutated real encodes (WAV, FLAC, MP3, AAC in MP4/MOV/M4A/MKV, Opus) → `extract`.

Every input must end in a fingerprint or a one-line `MediaError`; a crash, a hang past the per-file time
limit, a giant allocation or any other exception is a failure (the input is saved for replay).

    python -m bench.fuzz_decode --seconds 600 --out /tmp/fuzz-decode
"""

from __future__ import annotations

import os
import tempfile
from fractions import Fraction

import numpy as np

from bench.fuzzkit import Tally, arg_parser, mutate, run_isolated
from bench import encode, synth
from syncfp.config import FingerprintConfig
from syncfp.errors import MediaError
from syncfp.audio.extract import extract

SEED_SUFFIXES = (".wav", ".flac", ".mp3", ".mp4", ".mov", ".m4a", ".mkv", ".opus")


def make_seeds(directory: str, seconds: float = 4.0) -> dict[str, bytes]:
    """Small real encodes of a synthesized band, one per container/codec; the fuzzer damages these."""
    x = synth.concert(seconds, rate_hz=48000, seed=7)
    out = {}
    for ext in SEED_SUFFIXES:
        p = os.path.join(directory, "seed" + ext)
        video = Fraction(25) if ext in (".mp4", ".mov") else None
        encode.write(p, np.stack([x, 0.7 * x], axis=1), rate_hz=48000, video_fps=video)
        out[ext] = open(p, "rb").read()
    return out


def decode_case(path: str, work: str):
    """The case: decode and fingerprint, as `align` and `index` do."""
    def case() -> None:
        extract(path, cfg=FingerprintConfig(), cache_dir=None, work_dir=work)
    return case


def run(*, cases: int | None, seconds: float | None, seed: int, out: str | None, timeout_s: float) -> dict:
    rng = np.random.default_rng(seed)
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="syncfp-fuzz-") as d:
        seeds = make_seeds(d)
        exts = sorted(seeds)
        while tally.more(cases, seconds):
            ext = exts[int(rng.integers(len(exts)))]
            data = seeds[ext]
            kind = "none"
            for _ in range(int(rng.integers(1, 4))):  # 1-3 damages stacked
                kind, data = mutate(data, rng)
            path = os.path.join(d, f"case{ext}")
            with open(path, "wb") as fh:
                fh.write(data)
            res = run_isolated(decode_case(path, d), expected=MediaError, timeout_s=timeout_s)
            if tally.add(res, ext, ext=ext, kind=kind) and out:
                os.makedirs(out, exist_ok=True)
                with open(os.path.join(out, f"fail{len(tally.failures):04d}{ext}"), "wb") as fh:
                    fh.write(data)
            for f in os.listdir(d):
                if f.endswith((".pcm", ".part")):
                    os.remove(os.path.join(d, f))
    return tally.summary()


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--timeout", type=float, default=20.0, help="per-file time limit (s)")
    ap.add_argument("--out", help="save failing inputs here")
    a = ap.parse_args()
    res = run(cases=a.cases, seconds=None if a.cases else a.seconds, seed=a.seed, out=a.out, timeout_s=a.timeout)
    import json

    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
