"""The hard alignment bench (issue 11): scenario plans as hard as real concert footage, rendered and checked.

Scenario shapes (`SHAPES`): set15, chain6, junk, board20, loud, two_concerts, short15, festival60, loop5.
Every one gets all of `bench.concert`: real game music of one package per 'band' (loops repeated as the
game loops them), songs with applause in the gaps, per-device rooms (early reflections, 3-band tail,
DRR +10…-12 dB by distance), espeak-ng babble / loud neighbours / claps / murmur at -5…+15 dB SNR, phone
AGC, limiters and clipping, zero-phase device EQ, clock drift up to ±100 ppm and real formats and names.

Two disjoint splits: ``tune`` (seeds 1.., even tracks of each package's sorted list) and ``heldout`` (seeds
101.., odd tracks); ``fresh`` (seeds 201.., odd tracks) is a second held-out draw, made once the first had been
looked at too often to stay a clean confirmation, and ``fresh2`` (seeds 301.., odd tracks) a third, drawn in
the seventh session of 2026-12-03 after rules had been read off all three, and ``fresh3`` (seeds 401..,
odd tracks) a fourth, drawn in the ninth session (2026-12-04) after the eighth read its rules off all four, and
``fresh4`` (seeds 501.., odd tracks) a fifth, drawn in the tenth session after the ninth read a rule off fresh3,
and ``fresh5`` (seeds 601.., odd tracks) a sixth, drawn in the eleventh session once its engine was final
(fresh4 had confirmed its change), and ``fresh6`` (seeds 701.., odd tracks) a seventh, drawn in the twelfth session
before any of it was looked at (fresh4 and fresh5 had been read for failures), and ``fresh7`` (seeds 801.., odd
tracks) an eighth, drawn at the start of the thirteenth session (a knob had been chosen on fresh6), and ``fresh8``
(seeds 901.., odd tracks) a ninth, drawn at the end of the fourteenth (align unchanged since the thirteenth's
final engine) and run once with that engine: the next align change's clean "before", and ``fresh9`` (seeds 1001..,
odd tracks) a tenth, drawn in the fifteenth session once fresh8 had been read to diagnose a reverted change. Truth: a clip's ``start_s`` is the stage (master) content time of its first sample;
``delay_s``/``distance_m`` give the acoustic delay, ``wall_start_s = start_s + delay_s``. Event ``None``
marks files that must stay unplaced: junk files and clips of another concert (in ``junk``: 3 disjoint
stretches of a second concert of the same band, so they cannot match anything, not even each other).

After rendering, `check` verifies the truth of every clip twice: (1) at render time, the device signal
before noise/AGC/codec (room, resampling, EQ and drift included) against the clean master; (2) the decoded
file, drift undone, against the clean master where the direct sound is audible. Either confirming a lag
> 0.25 ms from the truth is printed as a FAIL.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction

import numpy as np
from scipy.signal import butter, oaconvolve, resample_poly, sosfiltfilt
from scipy.signal.windows import tukey

from bench import synth

from . import concert
from .concert import RATE, Band
from .hard_encode import write as write_media
from . import clocks
from .music import decode_mono

SPLIT_SEED = {"tune": 1, "heldout": 101, "fresh": 201, **{f"fresh{k}": 100 * k + 101 for k in range(2, 41)}}
"""Seeds per split; fresh*: held-out songs, new seeds (confirm only). One more fresh draw per session."""
SHAPES = ["set15", "chain6", "junk", "board20", "loud", "two_concerts", "short15", "festival60", "loop5"]
QUICK = ["set15", "junk", "loop5"]
CHECK_TOL_MS = 0.25
RENDER_VERSION = 5  # 2: babble is a word salad of short fragments (whole sentences recurred across devices)
# 3: the band plays live: repeats are near-identical (a few ms of wandering timing), not sample-identical
# 4: the hall's applause is diffuse: each device hears its own draw (was one shared waveform ±30 ms per device)
# 5: no room reflection tap above 0.7 of the direct sound (fresh31's junk drew two at one delay: a tap 1.35×
#    the direct path, which the bench's own truth check followed); draws up to fresh32 keep 4 (`render_version`)
LAST_V4_SPLIT = "fresh32"
WALL_ORIGIN_S = 21 * 3600  # the concert starts at 21:00 on 2026-06-12 (file names carry wall time)

# (kind, extension, codec, rates, channels, bitrates, video fps, name pattern)
PRESETS = {
    "iphone": ("phone", ".MOV", "aac", (48000, 44100), 2, (128000, 256000), "30000/1001", "IMG_{n:04d}"),
    "iphone_memo": ("phone", ".m4a", "aac", (48000,), 1, (64000, 128000), None, "New Recording {n}"),
    "android": ("phone", ".mp4", "aac", (48000, 44100), 2, (96000, 192000), "30", "VID_{date}_{time}"),
    "pixel": ("phone", ".mp4", "aac", (48000,), 2, (128000, 256000), "30", "PXL_{date}_{time}{ms:03d}"),
    "android_rec": ("phone", ".mp3", "libmp3lame", (44100,), 1, (128000, 192000), None, "Recording_{n:03d}"),
    "android_flac": ("phone", ".flac", "flac", (44100, 48000), 1, (None, None), None, "Audio_{date}_{time}"),
    "laptop_obs": ("phone", ".mkv", "libopus", (48000,), 2, (64000, 160000), None, "{dash} {tdash}"),
    "sony": ("camera", ".MP4", "aac", (48000,), 2, (192000, 256000), "25", "C{n:04d}"),
    "canon": ("camera", ".MOV", "aac", (48000,), 2, (160000, 256000), "25", "MVI_{n:04d}"),
    "gopro": ("camera", ".MP4", "aac", (48000,), 2, (128000, 192000), "30", "GX01{n:04d}"),
    "zoom": ("board", ".WAV", "pcm_s16le", (48000,), 2, (None, None), None, "ZOOM{n:04d}"),
}
PHONES = ["iphone", "iphone_memo", "android", "pixel", "android_rec", "android_flac", "laptop_obs"]
CAMERAS = ["sony", "canon", "gopro"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------ plans
class _Plan:
    def __init__(self, name: str, seed: int, split: str, quick: bool) -> None:
        self.rng = np.random.default_rng(seed)
        self.doc = {"name": name, "seed": seed, "split": split, "quick": quick, "events": [], "devices": [],
                    "clips": [], "junk": []}
        self.names: set[str] = set()
        self.counter = int(self.rng.integers(100, 3000))

    def event(self, package: str, duration_s: float, *, rt60=(0.3, 2.5), avoid: list[int] | None = None) -> int:
        band = Band(package, self.doc["split"])
        order = [int(i) for i in self.rng.permutation(len(band))]
        if avoid:  # another concert of the same band: its songs first, then (if needed) the rest
            order = [i for i in order if i not in avoid] + [i for i in order if i in avoid]
        self.doc["events"].append({"package": package, "duration_s": float(duration_s), "order": order,
                                   "rt60_s": float(self.rng.uniform(*rt60)), "seed": int(self.rng.integers(1 << 30))})
        return len(self.doc["events"]) - 1

    def device(self, preset: str, event: int, *, dist=None, snr=(-5.0, 15.0), clip_p=0.35, loud_p=0.3,
               name: str | None = None, line: bool = False) -> dict:
        r = self.rng
        kind, ext, codec, rates, ch, brs, fps, pattern = PRESETS[preset]
        ev = self.doc["events"][event]
        if dist is None:
            dist = (3.0, 60.0) if kind == "phone" else (5.0, 30.0)
        d = 0.0 if line else float(np.exp(r.uniform(np.log(dist[0]), np.log(dist[1]))))
        drr = 99.0 if line else float(np.clip(10 - 22 * np.log(d / 3) / np.log(20) + r.normal(0, 1.5), -12, 10))
        nm = name or f"{preset}{sum(1 for x in self.doc['devices'] if x['preset'] == preset) + 1}"
        lo, hi = snr
        mid = float(r.uniform(lo, hi))
        dev = {
            "name": nm, "preset": preset, "kind": kind, "event": event, "ext": ext, "codec": codec,
            "rate_hz": int(r.choice(rates)), "channels": ch,
            "bitrate": None if brs[0] is None else int(r.integers(brs[0] // 16000, brs[1] // 16000 + 1) * 16000),
            "video_fps": fps, "pattern": pattern, "ppm": round(float(r.uniform(-100, 100)), 1),
            "distance_m": round(d, 2), "delay_s": round(d / concert.SPEED_OF_SOUND, 6),
            "rt60_s": round(ev["rt60_s"] * float(r.uniform(0.85, 1.15)), 3), "drr_db": round(drr, 2),
            "line": line, "snr_db": (round(max(lo, mid - 3), 2), round(min(hi, mid + 3), 2)),
            "talkers": int(r.integers(3, 12)), "loud_talker": bool(kind == "phone" and r.random() < loud_p),
            "agc_release_s": (round(float(r.uniform(0.8, 3.0)), 2) if kind == "phone" else
                              (round(float(r.uniform(2.0, 3.0)), 2) if kind == "camera" and r.random() < 0.5 else 0.0)),
            "clip_frac": (round(float(np.exp(r.uniform(np.log(0.003), np.log(0.03)))), 4)
                          if kind == "phone" and r.random() < clip_p else 0.0),
            "hp_hz": round(float(r.uniform(150, 300) if kind == "phone" else r.uniform(60, 130) if kind == "camera"
                                 else 30.0), 1),
            "lp_hz": round(float(r.uniform(9000, 16000)), 0) if kind == "phone" else None,
            "peq": [] if line else [(round(float(np.exp(r.uniform(np.log(100), np.log(8000)))), 1),
                                     round(float(r.uniform(-6, 6)), 2), round(float(r.uniform(0.7, 3.0)), 2))
                                    for _ in range(int(r.integers(2, 5)))],
            "crowd_offset_ms": round(float(r.uniform(-30, 30)), 2), "crowd_gain": round(float(r.uniform(0.3, 1.0)), 2),
            "seed": int(r.integers(1 << 30)),
        }
        self.doc["devices"].append(dev)
        return dev

    def _name(self, dev: dict, start_s: float) -> str:
        self.counter += int(self.rng.integers(1, 4))
        wall = WALL_ORIGIN_S + start_s + dev["delay_s"] + 2 * (dev["event"] or 0) * 3600
        hh, mm, ss = int(wall // 3600) % 24, int(wall % 3600 // 60), int(wall % 60)
        base = dev["pattern"].format(n=self.counter, date="20260612", time=f"{hh:02d}{mm:02d}{ss:02d}",
                                     ms=int(self.rng.integers(1000)), dash="2026-06-12", tdash=f"{hh:02d}-{mm:02d}-{ss:02d}")
        name = base + dev["ext"]
        k = 1
        while name.lower() in self.names:
            k += 1
            name = f"{base}_{k}{dev['ext']}"
        self.names.add(name.lower())
        return name

    def clip(self, dev: dict, start_s: float, dur_s: float, *, event: int | None = "dev", **extra) -> dict:
        ev_len = self.doc["events"][dev["event"]]["duration_s"]
        start_s = float(np.clip(start_s, 0.0, ev_len - 4.0))
        dur_s = float(min(dur_s, ev_len - start_s))
        i0 = int(round(start_s * RATE))
        c = {"file": self._name(dev, start_s), "device": dev["name"],
             "event": dev["event"] if event == "dev" else event, "render_event": dev["event"],
             "start_s": i0 / RATE, "dur_s": round(dur_s, 3), "ppm": dev["ppm"],
             "delay_s": dev["delay_s"], "distance_m": dev["distance_m"],
             "wall_start_s": round(i0 / RATE + dev["delay_s"], 6),
             "snr_db": round(float(self.rng.uniform(*dev["snr_db"])), 2), "seed": int(self.rng.integers(1 << 30)),
             **extra}
        self.doc["clips"].append(c)
        return c

    def takes(self, dev: dict, span: tuple[float, float], length: tuple[float, float], gap: tuple[float, float],
              min_s: float = 8.0, max_n: int = 99) -> None:
        r = self.rng
        t = span[0] + r.uniform(0, min(30, (span[1] - span[0]) / 4))
        n = 0
        while t < span[1] - min_s and n < max_n:
            d = min(float(np.exp(r.uniform(np.log(length[0]), np.log(length[1])))), span[1] - t)
            if d >= min_s:
                self.clip(dev, t, d)
                n += 1
            t += d + float(r.uniform(*gap))


def plan(name: str, split: str, quick: bool = False) -> dict:
    """The deterministic plan of one hard scenario (devices, clips, songs order, junk)."""
    seed = SPLIT_SEED[split] + SHAPES.index(name)
    p = _Plan(name, seed, split, quick)
    r = p.rng
    k = 0.3 if quick else 1.0  # quick: shorter events, fewer clips
    if name == "set15":
        e = p.event("warzone2100-music", 900 * k)
        L = 900 * k
        for i, pre in enumerate(["iphone", "android", "pixel", "iphone_memo"]):
            p.takes(p.device(pre, e), (0, L), (10, 240), (40, 300) if not quick else (20, 90), max_n=4)
        for pre in ["sony", "canon"]:
            p.takes(p.device(pre, e, snr=(3, 15)), (0, L), (60, 240), (20, 120), min_s=30, max_n=4)
    elif name == "chain6":
        e = p.event("xmoto-data", 720)
        devs = [p.device(pre, e) for pre in ("iphone", "android", "laptop_obs")]
        t = float(r.uniform(10, 40))
        for i in range(6):
            d = float(r.uniform(45, 110))
            p.clip(devs[i % 3], t, d)
            t += d - float(r.uniform(5, 20))
    elif name == "junk":
        L = 360 * (0.5 if quick else 1.0)
        e = p.event("wesnoth-1.16-music", L)
        for pre in ["iphone", "android", "android_rec"]:
            p.takes(p.device(pre, e), (0, L), (15, 120), (10, 60), max_n=3)
        p.takes(p.device("gopro", e, snr=(3, 15)), (0, L), (120, 300), (10, 30), min_s=30, max_n=2)
        other = p.event("wesnoth-1.16-music", 300, avoid=p.doc["events"][e]["order"][:4])
        od = p.device("iphone", other, name="other_concert_phone")
        t = 0.0
        for _ in range(3):  # disjoint stretches: they cannot match each other either
            t += float(r.uniform(10, 30))
            d = float(r.uniform(20, 60))
            p.clip(od, t, d, event=None, other_concert=True)
            t += d
        p.doc["junk"] = [{"file": "IMG_9001.mp4", "kind": "text renamed .mp4"},
                         {"file": "ZOOM0099.WAV", "kind": "zero bytes"},
                         {"file": "VID_20260612_235959.mp4", "kind": "truncated mp4"},
                         {"file": "New Recording 999.m4a".replace(".m4a", ".wav"), "kind": "silent wav"}]
    elif name == "board20":
        e = p.event("warzone2100-music", 1200)
        b = p.device("zoom", e, line=True, snr=(40, 45), name="board")
        p.clip(b, float(r.uniform(1, 5)), 1200 - 8)
        for pre in ["iphone", "android", "pixel", "iphone_memo"]:
            p.device(pre, e, dist=(25, 60), snr=(-3, 8))
        phones = p.doc["devices"][-4:]
        for j in range(10):
            dev = phones[j % 4]
            p.clip(dev, (j + float(r.uniform(0.1, 0.7))) * 1200 / 10 - 60, float(r.uniform(15, 120)))
    elif name == "loud":
        e = p.event("neverball-data", 480, rt60=(1.5, 2.5))
        for pre in ["iphone", "android", "pixel", "android_flac"]:
            p.takes(p.device(pre, e, snr=(-5, 3), clip_p=0.85), (0, 480), (15, 150), (10, 60), max_n=3)
        p.takes(p.device("sony", e, snr=(-5, 3)), (0, 480), (120, 300), (10, 30), min_s=30, max_n=2)
    elif name == "two_concerts":
        e0 = p.event("supertux-data", 360)
        e1 = p.event("supertux-data", 360, avoid=p.doc["events"][e0]["order"][:6])
        for e in (e0, e1):
            for pre in (["iphone", "android"] if e == e0 else ["pixel", "android_rec"]):
                p.takes(p.device(pre, e), (0, 360), (15, 120), (10, 60), max_n=3)
            p.takes(p.device("canon" if e == e0 else "gopro", e, snr=(3, 15)), (0, 360), (150, 340), (5, 20),
                    min_s=30, max_n=1)
    elif name == "short15":
        e = p.event("wesnoth-1.16-music", 360)
        phones = [p.device(pre, e) for pre in ["iphone", "android", "pixel", "iphone", "android", "pixel"]]
        moments = sorted(r.uniform(70, 290, 4))
        n = 0
        for j, m in enumerate(moments):
            for dev in r.choice(phones, 4 if j < 3 else 3, replace=False):
                p.clip(dev, m + float(r.uniform(-3, 3)), float(r.uniform(4, 10)), moment=j)
                n += 1
        cam = p.device("sony", e, snr=(3, 15))
        p.clip(cam, moments[0] - 30, moments[-1] - moments[0] + 60)
        p.clip(p.device("iphone_memo", e), float(r.uniform(10, 250)), float(r.uniform(40, 90)))
    elif name == "festival60":
        for pkg in ("warzone2100-music", "supertux-data", "wesnoth-1.16-music"):
            e = p.event(pkg, 800)
            for pre in r.choice(PHONES, 4, replace=False):
                p.takes(p.device(str(pre), e), (0, 800), (10, 180), (20, 150), max_n=5)
            p.takes(p.device(str(r.choice(CAMERAS)), e, snr=(3, 15)), (0, 800), (60, 240), (10, 90), min_s=30,
                    max_n=4)
    elif name == "loop5":
        L = 420 * (0.45 if quick else 1.0)
        e = p.event("supertux-data", L)
        cam = p.device("gopro", e, snr=(3, 15))
        p.clip(cam, 10, L - 20)
        for pre in ["iphone", "android", "pixel", "iphone_memo", "android_rec"]:
            dev = p.device(pre, e)
            for t in np.sort(r.uniform(15, L - 15, 5 if not quick else 3)):
                p.clip(dev, float(t), float(r.uniform(5.0, 7.0)))
    else:
        raise ValueError(name)
    _no_self_overlap(p.doc)
    return p.doc


def _no_self_overlap(doc: dict) -> None:
    """A device cannot film two clips at once: trim (or drop) a clip that overlaps its predecessor."""
    keep = []
    by_dev: dict[str, list[dict]] = {}
    for c in doc["clips"]:
        by_dev.setdefault(c["device"], []).append(c)
    for cs in by_dev.values():
        cs.sort(key=lambda c: c["start_s"])
        end = -1.0
        for c in cs:
            if c["start_s"] < end + 0.5:
                cut = end + 0.5 - c["start_s"]
                if c["dur_s"] - cut < 4.0:
                    continue
                c["start_s"] = int(round((c["start_s"] + cut) * RATE)) / RATE
                c["dur_s"] = round(c["dur_s"] - cut, 3)
                c["wall_start_s"] = round(c["start_s"] + c["delay_s"], 6)
            keep.append(c)
            end = c["start_s"] + c["dur_s"]
    order = {id(c): i for i, c in enumerate(doc["clips"])}
    doc["clips"] = sorted(keep, key=lambda c: order[id(c)])


# ----------------------------------------------------------------------------------------------- render
_PROG: dict[int, dict] = {}  # render event → {"music", "gaps"}; set before the pool forks
_POOL: list[np.ndarray] = []
_VERSION: list[int] = [RENDER_VERSION]  # the render version of the split being rendered; set before the fork


def render_version(split: str) -> int:
    """The render version *split* is drawn with: draws rendered and reported before version 5 (seeds up to
    `LAST_V4_SPLIT`'s) keep version 4's audio, so their recorded figures reproduce; later ones get the current."""
    return 4 if SPLIT_SEED[split] <= SPLIT_SEED[LAST_V4_SPLIT] else RENDER_VERSION


def _seg(x: np.ndarray, a: int, b: int) -> np.ndarray:
    out = np.zeros(b - a, np.float32)
    lo, hi = max(a, 0), min(b, x.size)
    if hi > lo:
        out[lo - a : hi - a] = x[lo:hi]
    return out


def _to_rate(x: np.ndarray, rate: int) -> np.ndarray:
    if rate == RATE:
        return x
    g = np.gcd(rate, RATE)
    return resample_poly(x, rate // g, RATE // g).astype(np.float32)


def _hall_applause(gaps: list[tuple[float, float]], seed: int, a: int, b: int) -> np.ndarray:
    """The hall's applause and cheering in the song gaps as one device hears it: samples [a, b) at RATE.

    Thousands of clappers all around make a diffuse field: devices metres apart share its timing (claps
    start as a song ends) but none of its waveform (a diffuse field's coherence falls as sin(kr)/kr: gone
    above ~20 Hz at 10 m). So every device gets its own draw per gap. Render version 3 gave all devices one
    shared waveform shifted by ±30 ms (`crowd_offset_ms`, kept in the plan but unused since): a coherent
    source at a wrong lag that no hall has, which stage-synchronous matching then locked onto."""
    out = np.zeros(b - a, np.float32)
    for k, (g0, g1) in enumerate(gaps):
        s0, s1 = max(0, int(g0 * RATE) - int(1.5 * RATE)), int(g1 * RATE) + int(0.5 * RATE)
        lo, hi = max(s0, a), min(s1, b)
        if hi <= lo or s1 - s0 <= RATE // 10:
            continue
        rng = np.random.default_rng([seed, k])
        x = concert.applause(s1 - s0, rng, claps_per_s=float(rng.uniform(150, 400)))
        out[lo - a : hi - a] += x[lo - s0 : hi - s0].astype(np.float32)
    return out


def _render_clip(job: tuple[str, dict, dict]) -> dict:
    out_dir, dev, c = job
    rng = np.random.default_rng(c["seed"])
    prog = _PROG[c["render_event"]]
    music = prog["music"]
    rate = dev["rate_hz"]
    i0, n = int(round(c["start_s"] * RATE)), int(round(c["dur_s"] * RATE))
    if dev["line"]:
        h = np.ones(1)
    else:
        h = concert.room_ir(np.random.default_rng(dev["seed"]), rt60_s=dev["rt60_s"], drr_db=dev["drr_db"],
                            max_tap=0.7 if _VERSION[0] >= 5 else None)
    P = h.size - 1
    seg_m = _seg(music, i0 - P, i0 + n)
    src = seg_m.copy()
    if not dev["line"]:
        src += np.float32(dev["crowd_gain"]) * _hall_applause(prog["gaps"], dev["seed"], i0 - P, i0 + n)
    mic = oaconvolve(src, h)[P : P + n].astype(np.float32) if P else src
    clean = oaconvolve(seg_m, h)[P : P + n].astype(np.float32) if P else seg_m  # stage music at the mic
    mic, clean = _to_rate(mic, rate), _to_rate(clean, rate)
    p_music = float(np.mean(clean.astype(np.float64) ** 2)) + 1e-12
    if dev["line"]:
        noise = synth.pink_noise(mic.size, seed=c["seed"] % (1 << 30))
    else:
        gaps = prog["gaps"]
        noise = concert.crowd_noise(mic.size, rng, rate_hz=rate, pool=_POOL, talkers=dev["talkers"],
                                    loud_talker=dev["loud_talker"], gaps=gaps, t0_s=c["start_s"])
    noise *= np.float32(np.sqrt(p_music) * 10 ** (-c["snr_db"] / 20))
    y = concert.device_chain(mic + noise, dev, rng)
    clipped = float(np.mean(np.abs(y) >= 0.99 * np.max(np.abs(y)))) if dev["clip_frac"] else 0.0
    y = synth.drift(y, dev["ppm"])
    # truth check 1: the same chain without noise, AGC and codec (room, resampling, EQ, drift) vs the master
    ref = synth.drift(sosfiltfilt(concert.eq_sos(dev, rate), clean.astype(np.float64)).astype(np.float32), dev["ppm"])
    geo = check_signal(ref, rate, dev["ppm"], music, i0)
    if dev["channels"] == 2:  # two capsules: slightly different level and hiss
        y2 = y * np.float32(rng.uniform(0.8, 1.0)) + np.float32(1e-3) * rng.standard_normal(y.size).astype(np.float32)
        data = np.stack([y, y2], axis=1)
    else:
        data = y
    fps = Fraction(dev["video_fps"]) if dev["video_fps"] else None
    write_media(os.path.join(out_dir, c["file"]), 0.9 * data, rate_hz=rate, codec=dev["codec"],
                bitrate=dev["bitrate"], video_fps=fps)
    return {"file": c["file"], "snr_measured_db": round(10 * np.log10(p_music / (np.mean(noise.astype(np.float64) ** 2) + 1e-20)), 2),
            "drr_measured_db": None if dev["line"] else round(concert.drr_of(h), 2),
            "clipped_share": round(clipped, 4), "check_render": geo}


def check_signal(y: np.ndarray, rate: int, ppm: float, master: np.ndarray, i0: int, *, n_win: int = 8,
                 win_s: float = 1.5, search_s: float = 0.05) -> dict:
    """Undo the drift of device signal *y*, then GCC-PHAT (300-4000 Hz) of windows against the master at
    sample *i0*; a window confirms when its peak stands clear of the rest. Lags in ms (0 = truth)."""
    m = int((y.size - 2) / (1 + ppm * 1e-6) * RATE / rate)
    z = np.interp(np.arange(m) * (1 + ppm * 1e-6) * rate / RATE, np.arange(y.size), y).astype(np.float32)
    L, S = int(win_s * RATE), int(search_s * RATE)
    if z.size < L + 2 * S:
        L = max(RATE // 2, z.size - 2 * S)
    if z.size < L + 2 * S:
        return {"windows": 0, "confirmed": 0, "lag_ms": None}
    sos = butter(3, [300, 4000], "bandpass", fs=RATE, output="sos")
    lags, conf = [], 0
    starts = np.linspace(S, z.size - L - S, n_win).astype(int)
    for w in starts:
        a = sosfiltfilt(sos, z[w : w + L].astype(np.float64)) * tukey(L, 0.2)
        b = sosfiltfilt(sos, _seg(master, i0 + w - S, i0 + w + L + S).astype(np.float64)) * tukey(L + 2 * S, 0.2)
        if np.std(b) < 1e-5 or np.std(a) < 1e-9:
            continue
        nf = 1 << int(np.ceil(np.log2(b.size + L)))
        X = np.fft.rfft(b, nf) * np.conj(np.fft.rfft(a, nf))
        X /= np.abs(X) + 1e-12
        cc = np.fft.irfft(X, nf)[: 2 * S + 1]  # cc[k]: a matches b shifted by k → lag k - S
        edge = S // 5  # the window edges make spurious peaks at the ends of the search range
        k = edge + int(np.argmax(cc[edge:-edge]))
        pk = cc[k]
        side = np.abs(np.delete(cc, np.arange(max(0, k - 24), min(cc.size, k + 25))))
        psr = (pk - np.median(side)) / (1.4826 * np.median(np.abs(side - np.median(side))) + 1e-12)
        if psr < 12 or not 0 < k < cc.size - 1:
            continue
        y0, y1, y2 = cc[k - 1], cc[k], cc[k + 1]
        frac = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2) if (y0 - 2 * y1 + y2) != 0 else 0.0
        lags.append((S - (k + frac)) * 1000 / RATE)  # positive: the device is late against the truth
    # the largest cluster of agreeing windows (0.5 ms) is the measured lag; single windows do not count
    best: list[float] = []
    for x in lags:
        near = [v for v in lags if abs(v - x) <= 0.5]
        if len(near) > len(best):
            best = near
    conf = len(best) if len(best) >= 2 else 0
    lag = float(np.median(best)) if conf else None
    return {"windows": int(len(starts)), "peaks": len(lags), "confirmed": conf,
            "lag_ms": None if lag is None else round(lag, 4)}


def _check_file(job: tuple[str, dict, dict]) -> dict:
    out_dir, dev, c = job
    try:
        y = decode_mono(os.path.join(out_dir, c["file"]), rate_hz=dev["rate_hz"])
    except Exception as e:  # noqa: BLE001
        return {"file": c["file"], "check_file": {"error": str(e)[:80]}}
    prog = _PROG[c["render_event"]]
    res = check_signal(y, dev["rate_hz"], dev["ppm"], prog["music"], int(round(c["start_s"] * RATE)))
    res["decoded_s"] = round(y.size / dev["rate_hz"], 3)
    return {"file": c["file"], "check_file": res}


def _programmes(doc: dict) -> dict:
    songs = {}
    for e, ev in enumerate(doc["events"]):
        band = Band(ev["package"], doc["split"])
        music, _, s, gaps = concert.concert_programme(band, ev["order"], ev["duration_s"] + 2, ev["seed"])
        _PROG[e] = {"music": music, "gaps": gaps}  # its shared applause track is unused since render v4
        songs[e] = {"package": ev["package"], "music": "synthetic (package missing)" if band.synthetic else "real",
                    "songs": s, "gaps": gaps}
    return songs


def _junk(doc: dict, out_dir: str) -> list[dict]:
    out = []
    for j in doc["junk"]:
        p = os.path.join(out_dir, j["file"])
        if j["kind"] == "text renamed .mp4":
            with open(p, "w") as f:
                f.write("setlist:\n1. intro\n2. the long one\n3. encore\n" * 20)
        elif j["kind"] == "zero bytes":
            open(p, "wb").close()
        elif j["kind"] == "truncated mp4":
            x = (0.1 * np.random.default_rng(5).standard_normal(48000 * 20)).astype(np.float32)
            write_media(p, x, rate_hz=48000, codec="aac", bitrate=128000, video_fps=Fraction(30))
            with open(p, "rb") as f:
                data = f.read()
            with open(p, "wb") as f:
                f.write(data[: len(data) // 3])
        elif j["kind"] == "silent wav":
            write_media(p, np.zeros(48000 * 30, np.float32), rate_hz=48000, codec="pcm_s16le")
        out.append({"file": j["file"], "device": "junk", "event": None, "start_s": 0.0, "dur_s": 0.0, "ppm": 0.0,
                    "junk": j["kind"]})
    return out


def render(name: str, split: str, workdir: str, *, quick: bool = False, workers: int = 2) -> tuple[dict, str]:
    """Render (or reuse) one scenario into ``workdir/hard-SPLIT[-quick]/NAME/media``: (truth, media dir)."""
    doc = plan(name, split, quick)
    sdir = os.path.join(workdir, f"hard-{split}{'-quick' if quick else ''}", name)
    media = os.path.join(sdir, "media")
    truth_path = os.path.join(media, "truth.json")
    version = render_version(split)
    if os.path.exists(truth_path):
        with open(truth_path) as f:
            old = json.load(f)
        if old.get("plan") == json.loads(json.dumps(doc)) and old.get("render_version") == version and all(
                os.path.exists(os.path.join(media, c["file"])) for c in old["clips"]):
            return clocks.stamp(old, media, WALL_ORIGIN_S), media
    os.makedirs(media, exist_ok=True)
    t0 = time.perf_counter()
    pool, babble_kind = concert.espeak_pool(workdir, SPLIT_SEED[split])
    _POOL[:] = pool
    _VERSION[0] = version
    songs = _programmes(doc)
    devs = {d["name"]: d for d in doc["devices"]}
    jobs = [(media, devs[c["device"]], c) for c in sorted(doc["clips"], key=lambda c: -c["dur_s"])]
    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        rendered = {r["file"]: r for r in ex.map(_render_clip, jobs)}
        t_render = time.perf_counter() - t0
        checked = {r["file"]: r for r in ex.map(_check_file, jobs)}
    _PROG.clear()
    clips = [{**c, **rendered[c["file"]], **checked[c["file"]]} for c in doc["clips"]] + _junk(doc, media)
    truth = {"name": name, "split": split, "seed": doc["seed"], "plan": json.loads(json.dumps(doc)),
             "render_version": version,
             "source": {"babble": babble_kind, "events": songs}, "devices": doc["devices"], "clips": clips,
             "render_s": round(t_render, 1), "check_s": round(time.perf_counter() - t0 - t_render, 1)}
    with open(truth_path + ".tmp", "w") as f:
        json.dump(truth, f, indent=1)
    os.replace(truth_path + ".tmp", truth_path)
    return clocks.stamp(truth, media, WALL_ORIGIN_S), media


# ------------------------------------------------------------------------------------------- truth check
def check_summary(truth: dict) -> dict:
    """Per scenario: clips confirmed by the render-time and the decoded-file check, and the failures."""
    out = {"clips": 0, "render_confirmed": 0, "file_confirmed": 0, "fail": [], "max_abs_lag_ms": 0.0,
           "windows": 0, "windows_confirmed": 0}
    for c in truth["clips"]:
        if "check_render" not in c:
            continue
        out["clips"] += 1
        for key, cnt in (("check_render", "render_confirmed"), ("check_file", "file_confirmed")):
            r = c.get(key) or {}
            if key == "check_file":
                out["windows"] += r.get("windows", 0)
                out["windows_confirmed"] += r.get("confirmed", 0)
            if r.get("lag_ms") is None:
                continue
            out[cnt] += 1
            out["max_abs_lag_ms"] = max(out["max_abs_lag_ms"], abs(r["lag_ms"]))
            if abs(r["lag_ms"]) > CHECK_TOL_MS:
                out["fail"].append((c["file"], key, r["lag_ms"], r["confirmed"]))
    return out


def print_check(truths: list[dict]) -> None:
    print("\nTruth check (GCC-PHAT of 1.5 s windows against the clean master at the claimed start; "
          f"FAIL if a clip's median confirmed lag is > {CHECK_TOL_MS} ms off):\n")
    print("| scenario | clips | confirmed before noise/codec | confirmed in decoded file | windows confirmed "
          "(file) | max abs lag (ms) | FAIL |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for t in truths:
        s = check_summary(t)
        print(f"| {t['name']} | {s['clips']} | {s['render_confirmed']} | {s['file_confirmed']} "
              f"| {s['windows_confirmed']}/{s['windows']} | {s['max_abs_lag_ms']:.3f} | {len(s['fail'])} |")
        for f in s["fail"]:
            print(f"  **FAIL** {t['name']}: {f[0]} {f[1]} lag {f[2]} ms ({f[3]} windows)")
