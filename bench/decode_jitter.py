"""Installed game music → per package: files whose audio timestamps jitter, and decoded length vs samples.

    python bench/decode_jitter.py [--json out.json]

For every track of the five Debian music packages of the hard bench (`bench.concert.PACKAGES`, read where
installed), the decoded frames' timestamps are scanned for jumps of at least `DecodeConfig.min_gap_s` forward
and back, PyAV's sample count is taken as the true length (it is what `ffmpeg` writes), and `stream_audio`'s
length at 8 kHz is compared with it. "old rule" is what the decoder before the jitter fix inserted: every
forward jump between `min_gap_s` and `max_gap_s`, as silence, with the backward jumps ignored.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

import av

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.concert import PACKAGES  # noqa: E402
from syncfp.audio.decode import stream_audio  # noqa: E402
from syncfp.config import DecodeConfig  # noqa: E402

RATE = 8000
DECODE = DecodeConfig()


def scan(path: str) -> dict:
    """Samples, forward and backward jumps, and the old rule's inserted seconds, straight from PyAV."""
    fwd = back = samples = 0
    old_s, end, rate = 0.0, None, 1
    with av.open(path) as c:
        st = c.streams.audio[0]
        tb = float(st.time_base)
        try:
            for f in c.decode(st):
                rate, samples = f.sample_rate, samples + f.samples
                if f.pts is None:
                    end = None
                    continue
                start = f.pts * tb
                jump = 0.0 if end is None else start - end
                fwd, back = fwd + (jump >= DECODE.min_gap_s), back + (jump <= -DECODE.min_gap_s)
                old_s += jump if DECODE.min_gap_s <= jump <= DECODE.max_gap_s else 0.0
                end = start + f.samples / f.sample_rate
        except av.error.FFmpegError:  # a damaged track: what decoded so far, as syncfp keeps it
            pass
    _, chunks = stream_audio(path, rate_hz=RATE)
    decoded = sum(x.size for x in chunks)
    return {"path": path, "samples_s": samples / rate, "decoded_s": decoded / RATE, "forward": fwd,
            "backward": back, "old_rule_extra_s": old_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write every file's row here")
    args = ap.parse_args()
    rows = []
    print(f"{'package':22} {'files':>5} {'jitter':>6} {'jumps':>6} {'old rule: long':>14} {'max s':>6} "
          f"{'max %':>5} {'now: |decoded - samples| max':>29}")
    for package, patterns in PACKAGES.items():
        paths = sorted({p for pat in patterns for p in glob.glob(pat, recursive=True)})
        if not paths:
            continue
        got = [scan(p) for p in paths]
        rows += got
        extra = [r["old_rule_extra_s"] for r in got]
        pct = [100 * r["old_rule_extra_s"] / r["samples_s"] for r in got if r["samples_s"]]
        now = max(abs(r["decoded_s"] - r["samples_s"]) for r in got)
        print(f"{package:22} {len(got):5d} {sum(r['forward'] > 0 for r in got):6d} "
              f"{sum(r['forward'] + r['backward'] for r in got):6d} {sum(e > 0.005 for e in extra):14d} "
              f"{max(extra):6.2f} {max(pct):5.1f} {now:29.4f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
