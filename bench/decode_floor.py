"""media paths → how fast bare PyAV decodes them: the floor under any end-to-end sync throughput.

Decodes every audio frame of the first audio stream (no resampling, no downmix, video packets skipped)
in one process, so the result is real time per core. Usage: ``python -m bench.decode_floor OUT.json F...``
"""

from __future__ import annotations

import json
import os
import sys
import time

import av


def decode_seconds(path: str) -> float:
    """Decode the whole first audio stream; returns the audio seconds it held."""
    samples = 0
    rate = 1
    with av.open(path) as c:
        stream = c.streams.audio[0]
        rate = stream.codec_context.sample_rate or 1
        for packet in c.demux(stream):
            for frame in packet.decode():
                samples += frame.samples
    return samples / rate


def main(out_path: str, paths: list[str]) -> None:
    by_kind: dict[str, dict[str, float]] = {}
    for p in paths:
        kind = {".mov": "aac", ".mp4": "aac", ".m4a": "aac"}.get(os.path.splitext(p)[1].lower(),
                                                                 os.path.splitext(p)[1].lower().lstrip("."))
        t0 = time.process_time()
        audio_s = decode_seconds(p)
        cpu = time.process_time() - t0
        k = by_kind.setdefault(kind, {"audio_s": 0.0, "cpu_s": 0.0, "files": 0})
        k["audio_s"] += audio_s
        k["cpu_s"] += cpu
        k["files"] += 1
    with open(out_path, "w") as f:
        json.dump(by_kind, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
