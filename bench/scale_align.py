"""Align a festival in one run: up to 10 events / ~500 clips / ~50 audio-hours, rendered cheaply; wall, CPU,
peak RSS and accuracy of `syncfp align` at several batch sizes.

    python bench/scale_align.py --hours 5,12 [--workdir DIR] [--src DIR] [--cluster 2] [--json OUT] [--plot PNG]

(--plot needs matplotlib: `pip install -e ".[bench]"`.)

**Events.** Every track of the five Debian game-music packages of the hard bench (`bench.concert.PACKAGES`,
read in place, never copied) is dealt to one of 10 events (longest first, to the shortest programme), so
no song is heard in two events (a second copy of one recording, such as supertux's `cave.ogg` and
`cave_old.ogg`, is dropped first); each event's programme strings its songs with 4-8 s of crowd noise
between them (~45-50 min). Seeded synthesized songs stand in when the packages are absent.
**Devices per event** (each with its own clock, ±50 ppm recorder, ±100 ppm others):
a recorder (the whole programme, FLAC, 25 dB SNR); 3 cameras (takes of 4-20 min, FLAC, room reverb RT60
0.4-1 s, 5-15 dB SNR); 8 phones (5 clips of 20 s-6 min, Opus 24 kbit/s or AAC 32 kbit/s, reverb RT60
0.6-1.5 s at DRR -3…+3 dB, phone EQ, pink + babble crowd at 0-10 dB SNR, hard clipping on a third);
2 distractors (synthesized songs heard nowhere else, must stay unplaced). Everything at 16 kHz mono:
~5 audio-hours and ~55 files per event. A batch of *H* hours is the first events whose audio reaches *H*,
so the sizes are nested and each event is rendered once (`--workdir`, reused by later runs).

**Measured.** `python -m syncfp align <event folders> -f json --no-cache -j 2` in its own process (cold:
decoding included), started by `bench.memory.measure`: wall, CPU-s of the process and its workers, peak
RSS of the largest of them. Scored with `bench.metrics.score` against the rendered truth. `--src DIR` runs
the syncfp of another checkout (e.g. the commit before a change) on the same media. `--cluster 2` starts a
fresh `distributed.LocalCluster` of 2 worker processes per size and passes `--cluster` to align: decoding
and the pair join run on the workers; peak RSS is then the largest of the client and the workers, CPU-s
includes the workers'.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import av
import numpy as np
from scipy.signal import butter, oaconvolve, sosfiltfilt

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import encode, metrics, synth  # noqa: E402
from bench.concert import MIN_TRACK_S, PACKAGES  # noqa: E402
from bench.memory import measure  # noqa: E402
from bench.music import decode_mono, track_duration_s  # noqa: E402

RATE = 16000
N_EVENTS = 10
RENDER_VERSION = 1


def programmes(n_events: int) -> list[list[str]]:
    """Every installed track dealt to *n_events* programmes of about equal length (longest track first)."""
    paths: set[str] = set()
    for globs in PACKAGES.values():
        for g in globs:
            paths.update(glob.glob(g, recursive=True))
    tracks = [(track_duration_s(p), p) for p in sorted(paths)]
    tracks = _distinct(sorted(((d, p) for d, p in tracks if d >= MIN_TRACK_S), reverse=True))
    if not tracks:  # no packages: 12 synthesized 4-minute songs per event
        return [[f"synth:{7000 + 20 * e + i}" for i in range(12)] for e in range(n_events)]
    out: list[list[str]] = [[] for _ in range(n_events)]
    total = np.zeros(n_events)
    for d, p in tracks:
        e = int(np.argmin(total))
        out[e].append(p)
        total[e] += d
    return [sorted(o) for o in out]


def _head(path: str, seconds: float = 30.0, rate_hz: int = 8000) -> np.ndarray:
    """The first *seconds* of a track, mono float32 at *rate_hz* (decoding stops there)."""
    chunks, need = [], int(seconds * rate_hz)
    with av.open(path) as c:
        res = av.AudioResampler(format="flt", layout="mono", rate=rate_hz)
        for frame in c.decode(c.streams.audio[0]):
            frame.pts = None
            chunks.extend(o.to_ndarray().reshape(-1) for o in res.resample(frame))
            if sum(x.size for x in chunks) >= need:
                break
    return np.concatenate(chunks)[:need] if chunks else np.zeros(0, np.float32)


def _same_music(a: str, b: str) -> bool:
    """Do two files hold the same music (supertux's `antarctic/cave.ogg` and `retro/cave_old.ogg`: another
    mix, but its clips match the other's)? 20 s of *a* found in the first 26 s of *b* by GCC-PHAT above
    chance (z 8.6 for that pair; unrelated music stays under ~6)."""
    from syncfp.engine.refine import gcc_phat_z  # noqa: PLC0415 - only when durations coincide

    x, y = _head(a), _head(b)
    if x.size < 24 * 8000 or y.size < 26 * 8000:
        return False
    return float(gcc_phat_z(x[2 * 8000: 22 * 8000], y[: 26 * 8000], 6 * 8000)[2]) > 8.0


def _distinct(tracks: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """*tracks* (duration, path), longest first, without the second copy of a recording: a song in two
    events would make their clips truly share audio, and the bench would call joining them an error."""
    out: list[tuple[float, str]] = []
    for d, p in tracks:
        if not any(abs(d - d2) < 1.0 and _same_music(p2, p) for d2, p2 in out[-8:]):
            out.append((d, p))
    return out


def _song(src: str) -> np.ndarray:
    """One song at RATE, from a track or a seeded synthesized stand-in."""
    if src.startswith("synth:"):
        return synth.concert(240.0, rate_hz=RATE, seed=int(src[6:]))
    try:
        return decode_mono(src, rate_hz=RATE)
    except av.error.FFmpegError:  # one packaged track has a packet FFmpeg refuses: left out of its event
        return np.zeros(0, np.float32)


def _bed(seed: int, seconds: float = 20.0) -> np.ndarray:
    """A crowd noise bed (pink + babble), unit std, tiled per device with a random roll."""
    n = int(seconds * RATE)
    x = 0.5 * synth.pink_noise(n, seed=seed) + synth.babble(n, rate_hz=RATE, seed=seed + 1)
    return (x / (np.std(x) + 1e-12)).astype(np.float32)


def _noise(bed: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return np.resize(np.roll(bed, int(rng.integers(bed.size))), n)


def _plan(event: int, dur_s: float) -> list[dict]:
    """The devices and clips of one event (seeded): start in the programme, length, device chain, format."""
    rng = np.random.default_rng(1000 + event)
    clips: list[dict] = []

    def dev(name: str, kind: str, ppm: float, **chain) -> dict:
        return {"device": f"e{event:02d}-{name}", "kind": kind, "ppm": round(ppm, 1), "seed": int(rng.integers(1 << 30)),
                **chain}

    rec = dev("rec", "recorder", rng.uniform(-50, 50), snr_db=25.0, rt60=0.0, eq="camera", ext=".flac")
    clips.append({**rec, "file": f"e{event:02d}/ZOOM{event:04d}.flac", "start_s": 0.0, "dur_s": dur_s - 1.0})
    for c in range(3):
        cam = dev(f"cam{c}", "camera", rng.uniform(-100, 100), snr_db=rng.uniform(5, 15), rt60=rng.uniform(0.4, 1.0),
                  drr_db=rng.uniform(0, 6), eq="camera", ext=".flac")
        t, k = rng.uniform(0, 120), 0
        while t < dur_s - 60:
            length = min(rng.uniform(240, 1200), dur_s - t - 1)
            clips.append({**cam, "file": f"e{event:02d}/C{c}{k:03d}.flac", "start_s": t, "dur_s": length})
            t += length + rng.uniform(5, 60)
            k += 1
    for ph in range(8):
        phone = dev(f"phone{ph}", "phone", rng.uniform(-100, 100), snr_db=rng.uniform(0, 10),
                    rt60=rng.uniform(0.6, 1.5), drr_db=rng.uniform(-3, 3), eq="phone", clip=bool(rng.random() < 0.33),
                    ext=".opus" if rng.random() < 0.7 else ".m4a")
        starts = np.sort(rng.uniform(0, dur_s - 30, 5))
        for k, s in enumerate(starts):
            end = starts[k + 1] - 2 if k + 1 < starts.size else dur_s - 1
            length = min(rng.uniform(20, 360), end - s)
            if length >= 10:
                clips.append({**phone, "file": f"e{event:02d}/VID_{ph}{k:03d}{phone['ext']}", "start_s": float(s),
                              "dur_s": float(length)})
    for d in range(2):
        clips.append({**dev(f"other{d}", "phone", 0.0, snr_db=5.0, rt60=0.8, drr_db=0.0, eq="phone", ext=".opus"),
                      "file": f"e{event:02d}/OTHER_{d}.opus", "start_s": 0.0, "dur_s": rng.uniform(30, 90),
                      "distractor": 7000 + 20 * event + 15 + d})
    return clips


def _render_clip(x: np.ndarray, c: dict, bed: np.ndarray) -> np.ndarray:
    """Drift, zero-phase EQ, room (direct sound first), crowd noise, level and clipping of one clip."""
    rng = np.random.default_rng(c["seed"] + int(c["start_s"] * 1000))
    n = int(c["dur_s"] * RATE)
    i0 = int(round(c["start_s"] * RATE))
    seg = x[i0 : i0 + int(n * (1 + abs(c["ppm"]) * 1e-6)) + 2]
    y = synth.drift(seg, c["ppm"])[:n].astype(np.float64)
    band = [250, 6000] if c["eq"] == "phone" else [120, 7500]
    y = sosfiltfilt(butter(2, band, "bandpass", fs=RATE, output="sos"), y)
    if c["rt60"] > 0:
        y = oaconvolve(y, synth.room_ir(c["rt60"], rate_hz=RATE, seed=c["seed"], drr_db=c["drr_db"]))[:n]
    y += _noise(bed, y.size, rng) * np.std(y) * 10 ** (-c["snr_db"] / 20)
    y = 0.3 * y / (np.max(np.abs(y)) + 1e-9)
    if c.get("clip"):
        y = np.clip(3.0 * y, -0.5, 0.5)
    return y.astype(np.float32)


def render_event(job: tuple[str, int, list[str]]) -> str:
    """Render one event's clips and truth into *workdir* (skipped when its truth is already there)."""
    workdir, event, songs = job
    truth_path = os.path.join(workdir, "truth", f"e{event:02d}.json")
    if os.path.exists(truth_path):
        old = json.load(open(truth_path))
        if old.get("render_version") == RENDER_VERSION and old.get("songs") == songs:
            return truth_path
    t0 = time.monotonic()
    rng = np.random.default_rng(event)
    parts = []
    for s in songs:
        parts.append(_song(s))
        gap = _bed(event * 7 + len(parts), 6.0)[: int(rng.uniform(4, 8) * RATE)]
        parts.append(0.05 * gap)
    x = np.concatenate(parts).astype(np.float32)
    clips = _plan(event, x.size / RATE)
    os.makedirs(os.path.join(workdir, "media", f"e{event:02d}"), exist_ok=True)
    beds: dict[str, np.ndarray] = {}
    for c in clips:
        src = synth.concert(c["dur_s"] + 1, rate_hz=RATE, seed=c["distractor"]) if "distractor" in c else x
        bed = beds.setdefault(c["device"], _bed(c["seed"]))
        y = _render_clip(src, c, bed)
        encode.write(os.path.join(workdir, "media", c["file"]), y, rate_hz=RATE,
                     bitrate={".opus": 24000, ".m4a": 32000}.get(c["ext"]))
        c["event"] = None if "distractor" in c else event
    keep = {os.path.basename(c["file"]) for c in clips}
    folder = os.path.join(workdir, "media", f"e{event:02d}")
    for name in set(os.listdir(folder)) - keep:  # an earlier render's clips that this plan does not have
        os.remove(os.path.join(folder, name))
    doc = {"render_version": RENDER_VERSION, "event": event, "songs": songs, "programme_s": x.size / RATE,
           "clips": clips, "render_s": round(time.monotonic() - t0, 1)}
    os.makedirs(os.path.dirname(truth_path), exist_ok=True)
    with open(truth_path + ".tmp", "w") as f:
        json.dump(doc, f)
    os.replace(truth_path + ".tmp", truth_path)
    return truth_path


def batch(workdir: str, hours: float, events: list[dict]) -> tuple[list[dict], float]:
    """The first events whose audio reaches *hours*, and their audio-hours."""
    out, total = [], 0.0
    for ev in events:
        if total >= hours * 3600 * 0.98:
            break
        out.append(ev)
        total += sum(c["dur_s"] for c in ev["clips"])
    return out, total / 3600


def _worker_usage(client) -> tuple[float, float]:
    """(largest peak RSS in MB, summed CPU-s) of the cluster's worker processes so far."""
    import resource

    def usage() -> tuple[float, float]:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_maxrss / 1024.0, r.ru_utime + r.ru_stime

    got = list(client.run(usage).values())
    return max(g[0] for g in got), sum(g[1] for g in got)


def run(workdir: str, evs: list[dict], *, src: str | None, workers: int, label: str, cluster: int = 0) -> dict:
    """Align the events' folders in one cold `syncfp align` process (with *cluster* > 0: a fresh LocalCluster
    of that many one-thread worker processes does the decoding and the pair join); measurements, accuracy."""
    out_json = os.path.join(workdir, f"out-{label}.json")
    src = src or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": src}
    dirs = [os.path.join(workdir, "media", f"e{ev['event']:02d}") for ev in evs]
    cmd = [sys.executable, "-m", "syncfp", "align", *dirs, "-o", out_json, "-q", "--no-cache", "-j", str(workers)]
    if cluster:
        import distributed

        with distributed.LocalCluster(n_workers=cluster, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=":0", silence_logs=50) as lc, distributed.Client(lc) as client:
            cpu0 = _worker_usage(client)[1]
            m = measure([*cmd, "--cluster", lc.scheduler_address], env, cwd=src)
            rss, cpu1 = _worker_usage(client)
        m = {**m, "client_rss_mb": m["peak_rss_mb"], "peak_rss_mb": max(m["peak_rss_mb"], rss),
             "cpu_s": m["cpu_s"] + cpu1 - cpu0}
    else:
        m = measure(cmd, env, cwd=src)  # `-m` puts the working folder first on the path
    got = json.load(open(out_json))
    media = os.path.join(workdir, "media")
    preds = {os.path.relpath(c["path"], media): {"group": c["group"], "offset_s": c["offset"],
                                                 "drift_ppm": c["drift_ppm"], "error": c.get("error")}
             for c in got["clips"]}
    truth = {"clips": [c for ev in evs for c in ev["clips"]]}
    s = metrics.score(truth, preds)
    return {**{k: round(v, 1) if isinstance(v, float) else v for k, v in m.items()},
            **{k: s[k] for k in ("event_clips", "placeable", "within_1ms", "within_5ms", "misplaced", "split",
                                 "missed", "false_placements")}}


def plot(rows: list[dict], path: str) -> None:
    """Wall, CPU and peak RSS against audio-hours, one line per label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for i, label in enumerate(dict.fromkeys(r["label"] for r in rows)):
        rs = sorted((r for r in rows if r["label"] == label), key=lambda r: r["hours"])
        h, c = [r["hours"] for r in rs], f"C{i}"
        ax[0].plot(h, [r["wall_s"] for r in rs], "o-", color=c, label=f"{label}: wall")
        ax[0].plot(h, [r["cpu_s"] for r in rs], "s--", color=c, label=f"{label}: CPU")
        ax[1].plot(h, [r["peak_rss_mb"] / 1024 for r in rs], "o-", color=c, label=label)
    first = sorted((r for r in rows if r["label"] == rows[0]["label"]), key=lambda r: r["hours"])
    if len(first) > 1:  # n·log n through the first label's smallest CPU point: the bound on growth
        h0, c0 = first[0]["hours"], first[0]["cpu_s"]
        hs = np.linspace(h0, first[-1]["hours"], 50)
        ax[0].plot(hs, c0 * hs * np.log(hs) / (h0 * np.log(h0)), ":", color="grey", label="n·log n from the first CPU point")
    ax[0].set(xlabel="audio-hours in the batch", ylabel="seconds", title="time")
    ax[1].set(xlabel="audio-hours in the batch", ylabel="GB", title="peak RSS (largest process)")
    ax[1].axhline(4.0, color="grey", lw=0.8, ls=":")
    for a in ax:
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", default="5,12", help="batch sizes in audio-hours, comma-separated")
    ap.add_argument("--workdir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "syncfp-bench-scale-align"))
    ap.add_argument("--src", help="run the syncfp of this checkout (PYTHONPATH) instead of this one")
    ap.add_argument("--label", default="local")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cluster", type=int, default=0, help="run on a LocalCluster of this many workers")
    ap.add_argument("--render-workers", type=int, default=2)
    ap.add_argument("--json", help="append the rows to this JSON file")
    ap.add_argument("--plot", help="plot every row of --json into this PNG")
    ap.add_argument("--render-only", action="store_true", help="render the events the sizes need, align nothing")
    a = ap.parse_args()
    sizes = [float(h) for h in a.hours.split(",")]
    progs = programmes(N_EVENTS)
    need = min(N_EVENTS, max(1, int(np.ceil(max(sizes) / 4.5)) + 1))
    with ProcessPoolExecutor(a.render_workers) as pool:
        paths = list(pool.map(render_event, [(a.workdir, e, progs[e]) for e in range(need)]))
    events = [json.load(open(p)) for p in paths]
    if a.render_only:
        return
    rows = json.load(open(a.json)) if a.json and os.path.exists(a.json) else []
    for h in sizes:
        evs, hours = batch(a.workdir, h, events)
        r = {"label": a.label, "target_h": h, "hours": round(hours, 2), "events": len(evs),
             "files": sum(len(ev["clips"]) for ev in evs),
             **run(a.workdir, evs, src=a.src, workers=a.workers, label=f"{a.label}-{h:g}", cluster=a.cluster)}
        print(json.dumps(r), flush=True)
        rows.append(r)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(rows, f, indent=1)
    if a.plot and rows:
        plot(rows, a.plot)


if __name__ == "__main__":
    main()
