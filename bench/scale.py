"""Scale benchmark: index throughput and query latency, local process pool vs 1 and 2 Dask workers; query
latency vs number of shards.

    python bench/scale.py [--tracks 16] [--queries 30] [--out scale.json]

Music: the Debian `wesnoth-1.16-music` OGGs where installed (read in place, never copied), else synthesized
songs. Every figure comes from this one run on this machine, so the ratios between rows are comparable.
Dask workers are a `distributed.LocalCluster` on loopback (processes, one thread each).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import encode, synth  # noqa: E402
from syncfp.audio.extract import extract  # noqa: E402
from syncfp.library.identify import IdentifyConfig, identify_audio  # noqa: E402
from syncfp.library.build import index_files  # noqa: E402
from syncfp.library.store import LIBRARY_FINGERPRINT, open_library  # noqa: E402
from syncfp.library.shards import as_shards, compact, index_shards, open_shards  # noqa: E402

MUSIC = "/usr/share/games/wesnoth/*/data/core/music/*.ogg"


def sources(work: str, n: int) -> list[str]:
    paths = sorted(glob.glob(MUSIC))[:n]
    if len(paths) >= n:
        return paths
    out = []
    for i in range(n):  # no Debian music here: synthesized 2-minute songs
        p = os.path.join(work, f"synth{i}.ogg")
        encode.write(p, synth.concert(120.0, rate_hz=22050, seed=900 + i), rate_hz=22050)
        out.append(p)
    return out


def queries(paths: list[str], n: int, work: str, *, seconds: float = 10.0, seed: int = 0) -> list[np.ndarray]:
    """10 s clips cut at random from the decoded tracks, with white noise at 10 dB SNR."""
    rng = np.random.default_rng(seed)
    pcm = []
    for p in paths:
        fp = extract(p, cfg=LIBRARY_FINGERPRINT, cache_dir=None, work_dir=work)
        pcm.append(np.fromfile(fp.pcm_path, np.int16).astype(np.float32) / 32768)
        os.remove(fp.pcm_path)
    out = []
    n_s = int(seconds * LIBRARY_FINGERPRINT.rate_hz)
    for _ in range(n):
        x = pcm[rng.integers(len(pcm))]
        a = int(rng.integers(0, max(1, x.size - n_s)))
        y = x[a : a + n_s]
        out.append((y + rng.normal(0, np.std(y) / np.sqrt(10), y.size)).astype(np.float32))
    return out


def timed_index(target: str, paths: list[str], **kw) -> dict:
    t0 = time.perf_counter()
    rep = index_files(target, paths, batch=len(paths), **kw)
    dt = time.perf_counter() - t0
    hours = rep.library.audio_hours
    return {"seconds": round(dt, 2), "audio_hours": round(hours, 3), "x_realtime": round(hours * 3600 / dt, 1)}


def latency(lib, qs: list[np.ndarray]) -> dict:
    cfg = IdentifyConfig()
    identify_audio(lib, qs[0], cfg)  # warm: page cache, worker-side shard maps
    times, right = [], 0
    for q in qs:
        t0 = time.perf_counter()
        m, _ = identify_audio(lib, q, cfg)
        times.append(time.perf_counter() - t0)
        right += bool(m)
    ms = np.array(times) * 1000
    return {"median_ms": round(float(np.median(ms)), 1), "p90_ms": round(float(np.percentile(ms, 90)), 1),
            "matched": f"{right}/{len(qs)}"}


def split(src_dir: str, dst: str, k: int) -> int:
    """A copy of the sharded library *src_dir* compacted to about *k* shards; their actual number."""
    shutil.copytree(src_dir, dst)
    total = sum(s.file_bytes for s in open_shards(dst).shards)
    return compact(dst, target_bytes=int(total / k * 1.05) + 1)[1] if k < len(open_shards(dst).shards) else \
        len(open_shards(dst).shards)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tracks", type=int, default=16)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    from distributed import Client, LocalCluster

    from syncfp.runners.cluster import ClusterFingerprinter, ClusterLookup

    res: dict = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="syncfp-scale-") as work:
        paths = sources(work, args.tracks)
        res["tracks"] = len(paths)
        idx = res["index"] = {}
        for w in (1, 2):
            idx[f"process pool, {w} worker(s)"] = timed_index(os.path.join(work, f"pool{w}.sfp"), paths, workers=w)
        lib_one = open_library(os.path.join(work, "pool2.sfp"))
        res["audio_hours"] = round(lib_one.audio_hours, 3)
        res["library_bytes"] = lib_one.file_bytes
        qs = queries(paths, args.queries, work)
        lat = res["query"] = {"single file, local": latency(lib_one, qs)}
        # eight shards (one index run per two tracks), then compacted copies with fewer
        eight = os.path.join(work, "s8")
        for lo in range(0, len(paths), max(1, len(paths) // 8)):
            index_shards(eight, paths[lo : lo + max(1, len(paths) // 8)], workers=2)
        sets = {len(open_shards(eight).shards): eight}
        for k in (4, 2, 1):
            d = os.path.join(work, f"s{k}")
            sets[split(eight, d, k)] = d
        for n in sorted(sets):
            lat[f"{n} shard(s), local"] = latency(open_shards(sets[n]), qs)
        for w in (1, 2):
            with LocalCluster(n_workers=w, threads_per_worker=1, processes=True, host="127.0.0.1",
                              dashboard_address=":0", silence_logs=50) as cluster, Client(cluster) as client:
                idx[f"Dask, {w} worker(s)"] = timed_index(os.path.join(work, f"dask{w}.sfp"), paths,
                                                         fingerprinter=ClusterFingerprinter(client))
                for n in (1, 2):
                    if n in sets:
                        s = open_shards(sets[n])
                        lib = as_shards(s, parts_fn=ClusterLookup(client, [x.path for x in s.shards]))
                        lat[f"{n} shard(s), Dask {w} worker(s)"] = latency(lib, qs)
    text = json.dumps(res, indent=1)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
