"""Acoustic rendering for the hard alignment bench: concerts, rooms, crowds, phones.

Everything here is numpy/scipy and vectorised per clip; `bench.hard` plans the scenarios and drives it.

* **Music** (`Band`): installed game-music packages, one package = one 'band'. Short loop tracks are
  repeated sample-identically (as the game loops them, using supertux' ``.music`` loop points) up to a
  2-5 min song, long tracks are cut to 2-5 min with a fade-out. `concert_programme` strings songs with
  4-10 s gaps; the crowd's applause/cheering in the gaps is returned as a separate track, because it comes
  from the crowd, not from the stage, and so reaches each device with its own delay relative to the music.
* **Room** (`room_ir`): direct sound at t=0, 3-8 early reflections at 2-40 ms, a diffuse tail in 3 bands
  whose highs decay faster, scaled to a direct-to-reverberant ratio (DRR).
* **Crowd** (`crowd_noise`): espeak-ng talkers re-pitched per device, an optional loud talker next to the
  phone, local claps and cheering in the song gaps, a murmur throughout, level wandering by a few dB.
* **Device** (`device_chain`): zero-phase EQ (high/low-pass + peaking, `sosfiltfilt`: no group delay, so
  the truth needs no correction), AGC with fast attack and slow release, a soft limiter, hard clipping.

Time convention: a device's sample 0 holds the master (stage) content at ``start_s``; the acoustic delay
``distance / 343 m/s`` only shifts wall time (``wall_start_s = start_s + delay_s``).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import butter, oaconvolve, resample_poly, sosfilt, sosfiltfilt

from bench import synth

from .music import decode_mono, track_duration_s

RATE = 48000
SPEED_OF_SOUND = 343.0

# one Debian package = one 'band'
PACKAGES = {
    "warzone2100-music": ["/usr/share/games/warzone2100/music/**/*.opus"],
    "supertux-data": ["/usr/share/games/supertux2/music/**/*.ogg"],
    "xmoto-data": ["/usr/share/games/xmoto/Textures/Musics/*.ogg"],
    "neverball-data": ["/usr/share/games/neverball/bgm/*.ogg"],
    "wesnoth-1.16-music": ["/usr/share/games/wesnoth/*/data/core/music/*.ogg",
                           "/usr/share/games/wesnoth/data/core/music/*.ogg"],
}
MIN_TRACK_S = 20.0  # jingles and stingers are not songs


# ----------------------------------------------------------------------------------------------- music
class Band:
    """The tracks of one package in one split (alternate tracks of the sorted list: even → tune)."""

    def __init__(self, package: str, split: str) -> None:
        self.package = package
        paths: set[str] = set()
        for g in PACKAGES[package]:
            paths.update(glob.glob(g, recursive=True))
        good = [p for p in sorted(paths) if _duration(p) >= MIN_TRACK_S]
        self.tracks = good[0::2] if split == "tune" else good[1::2]
        self.synthetic = not self.tracks
        if self.synthetic:  # no package: seeded synthetic songs, distinct per package and split
            base = 1000 * (list(PACKAGES).index(package) + 1) + (0 if split == "tune" else 500)
            self.tracks = [f"synth:{base + i}" for i in range(12)]

    def __len__(self) -> int:
        return len(self.tracks)

    def name(self, i: int) -> str:
        p = self.tracks[i]
        return p if p.startswith("synth:") else os.path.relpath(p, "/usr/share/games")


@lru_cache(maxsize=None)
def _duration(path: str) -> float:
    try:
        return track_duration_s(path)
    except Exception:  # noqa: BLE001 - an undecodable file is no song
        return 0.0


def _loop_points(path: str) -> tuple[float, float] | None:
    """supertux' ``X.music`` next to ``X.ogg``: (loop-begin, loop-at) seconds."""
    for cand in glob.glob(os.path.join(os.path.dirname(path), "*.music")):
        try:
            txt = open(cand, encoding="utf-8", errors="replace").read()
        except OSError:
            continue
        if f'"{os.path.basename(path)}"' not in txt:
            continue
        b = re.search(r"loop-begin\s+([0-9.]+)", txt)
        a = re.search(r"loop-at\s+([0-9.]+)", txt)
        if b and a and float(a.group(1)) > float(b.group(1)) + 5:
            return float(b.group(1)), float(a.group(1))
    return None


def song(path: str, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """One 2-5 min song from a track: loops repeated sample-identically, long tracks cut and faded."""
    target = float(rng.uniform(120, 300))
    if path.startswith("synth:"):
        s = int(path[6:])
        x = synth.concert(target, rate_hz=RATE, seed=s, tempo_bpm=90 + s % 60)
        return x, {"track": path, "loops": 0, "len_s": target}
    x = decode_mono(path, rate_hz=RATE)
    info = {"track": os.path.relpath(path, "/usr/share/games"), "loops": 0}
    if x.size / RATE < 120:
        lp = _loop_points(path)
        b, a = (int(lp[0] * RATE), int(lp[1] * RATE)) if lp else (0, x.size)
        a = min(a, x.size)
        head, body = x[:a], x[b:a]
        k = max(1, int(np.ceil((target * RATE - head.size) / max(body.size, 1))))
        x = np.concatenate([head] + [body] * k)
        info["loops"] = k
    n = min(x.size, int(target * RATE))
    x = x[:n].astype(np.float32)
    if n < int(_duration(path) * RATE) - RATE or info["loops"]:
        f = min(int(3 * RATE), n // 4)
        x[n - f :] *= np.linspace(1, 0, f, dtype=np.float32)
    x /= np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-9  # songs at equal loudness (unit RMS)
    info["len_s"] = n / RATE
    return x, info


def applause(n: int, rng: np.random.Generator, *, claps_per_s: float, rate_hz: int = RATE) -> np.ndarray:
    """Dense hand claps (short filtered noise bursts, random gains) plus a band-passed cheer swell."""
    out = np.zeros(n, np.float64)
    k = rng.poisson(claps_per_s * n / rate_hz)
    if k:
        pos = rng.integers(0, n, k)
        gains = np.exp(rng.normal(0, 0.6, k))
        n_tmpl = 12
        grp = rng.integers(0, n_tmpl, k)
        for t in range(n_tmpl):
            m = int(rng.uniform(0.004, 0.015) * rate_hz)
            fc = rng.uniform(700, 2500)
            sos = butter(2, [fc / 1.8, min(fc * 1.8, 0.45 * rate_hz)], "bandpass", fs=rate_hz, output="sos")
            tmpl = sosfilt(sos, rng.standard_normal(m)) * np.exp(-np.arange(m) / (0.25 * m))
            train = np.zeros(n)
            sel = grp == t
            np.add.at(train, pos[sel], gains[sel])
            out += oaconvolve(train, tmpl)[:n]
    # cheer: band-passed noise swell
    env = np.minimum(1, np.arange(n) / (0.8 * rate_hz)) * np.exp(-np.maximum(0, np.arange(n) - 0.6 * n) / (1.5 * rate_hz))
    sos = butter(2, [300, 3000], "bandpass", fs=rate_hz, output="sos")
    cheer = sosfilt(sos, rng.standard_normal(n)) * env
    out /= np.sqrt(np.mean(out**2)) + 1e-12
    cheer /= np.sqrt(np.mean(cheer**2)) + 1e-12
    return (out + rng.uniform(0.4, 1.0) * cheer) * np.hanning(n) ** 0.1


def concert_programme(band: Band, order: list[int], duration_s: float, seed: int):
    """Songs from *order* with 4-10 s gaps until *duration_s*: (music, crowd, songs, gaps), all at RATE."""
    rng = np.random.default_rng(seed)
    need = int(duration_s * RATE)
    parts, songs, gaps = [], [], []
    t = int(rng.uniform(2, 6) * RATE)  # the set starts with applause
    parts.append(np.zeros(t, np.float32))
    gaps.append((0, t))
    i = 0
    while t < need:
        idx = order[i % len(order)]
        x, info = song(band.tracks[idx], rng)
        info["start_s"] = t / RATE
        info["repeat_of_programme"] = i >= len(order)
        songs.append(info)
        parts.append(x * np.float32(10 ** (rng.uniform(-2, 2) / 20)))
        t += x.size
        g = int(rng.uniform(4, 10) * RATE)
        parts.append(np.zeros(g, np.float32))
        gaps.append((t, t + g))
        t += g
        i += 1
    music = live_timing(np.concatenate(parts)[:need].astype(np.float32), np.random.default_rng(seed + 7))
    crowd = np.zeros(need, np.float32)
    for a, b in gaps:
        a2, b2 = max(0, a - int(1.5 * RATE)), min(need, b + int(0.5 * RATE))  # claps start as the song ends
        if b2 - a2 > RATE // 10:
            crowd[a2:b2] += applause(b2 - a2, rng, claps_per_s=float(rng.uniform(150, 400))).astype(np.float32)
    return music, crowd, songs, [(a / RATE, b / RATE) for a, b in gaps]


def live_timing(x: np.ndarray, rng: np.random.Generator, *, rate_hz: int = RATE) -> np.ndarray:
    """A band's timing as played live: the recording read through a slowly wandering delay (±1.5-4 ms,
    changing over a few seconds), so a repeated chorus or loop is near-identical, never sample-identical.

    Devices hear this master, so the truth (stage time of each clip's first sample) is unchanged."""
    ctrl_s = 0.5
    k = int(x.size / rate_hz / ctrl_s) + 2
    walk = gaussian_filter1d(rng.standard_normal(k), sigma=6.0)
    walk *= rng.uniform(1.5, 4.0) * 1e-3 * rate_hz / (np.abs(walk).max() + 1e-12)
    out = np.empty_like(x)
    step = 8_000_000  # samples per block: the interpolation's float64 temporaries stay bounded
    grid = np.arange(k) * ctrl_s * rate_hz
    for i0 in range(0, x.size, step):
        n = np.arange(i0, min(x.size, i0 + step), dtype=np.float64)
        src = n - np.interp(n, grid, walk)
        lo = max(0, int(src.min()) - 2)
        hi = min(x.size, int(src.max()) + 3)
        out[i0 : i0 + n.size] = np.interp(src, np.arange(lo, hi), x[lo:hi])
    return out


# ----------------------------------------------------------------------------------------------- rooms
def room_ir(rng: np.random.Generator, *, rt60_s: float, drr_db: float, rate_hz: int = RATE,
            max_tap: float | None = None) -> np.ndarray:
    """Direct path at 0, 3-8 early reflections (2-40 ms), 3-band diffuse tail (highs decay faster), DRR.

    DRR = direct energy / everything else. Where the reflections alone (0.2-0.7 each) would exceed the
    reverberant energy a high DRR allows, they are scaled down to 60 % of it (the DRR wins). *max_tap*: no
    sample after the direct one exceeds this share of it (two reflections drawn at one delay add up; a path
    that travels further than the direct sound does not arrive louder). None: as drawn (render version ≤ 4).
    """
    m = int(max(rt60_s, 0.2) * rate_hz)
    t = np.arange(m) / rate_hz
    budget = 10 ** (-drr_db / 10)
    k = int(rng.integers(3, 9))
    d = np.sort(rng.uniform(0.002, 0.040, k))
    a = rng.uniform(0.2, 0.7, k) * rng.choice([-1, 1], k, p=[0.3, 0.7])
    e_ref = float(np.sum(a**2))
    if e_ref > 0.6 * budget:
        a *= np.sqrt(0.6 * budget / e_ref)
        e_ref = 0.6 * budget
    onset = float(rng.uniform(0.004, 0.012))
    ramp = np.clip((t - onset) / 0.03, 0, 1)
    tail = np.zeros(m)
    edges = [(None, 500.0, 1.0), (500.0, 4000.0, rng.uniform(0.7, 0.85)), (4000.0, None, rng.uniform(0.35, 0.55))]
    for lo, hi, frac in edges:
        if lo is None:
            sos = butter(4, hi, "lowpass", fs=rate_hz, output="sos")
        elif hi is None:
            sos = butter(4, lo, "highpass", fs=rate_hz, output="sos")
        else:
            sos = butter(2, [lo, hi], "bandpass", fs=rate_hz, output="sos")
        tail += sosfilt(sos, rng.standard_normal(m)) * np.exp(-6.9 * t / (rt60_s * frac))
    tail *= ramp
    tail *= np.sqrt((budget - e_ref) / (np.sum(tail**2) + 1e-12))
    h = tail
    h[0] = 1.0
    idx = np.round(d * rate_hz).astype(int)
    np.add.at(h, idx, a)
    if max_tap is not None:
        np.clip(h[1:], -max_tap, max_tap, out=h[1:])
    return h


def drr_of(h: np.ndarray) -> float:
    return float(10 * np.log10(h[0] ** 2 / (np.sum(h[1:] ** 2) + 1e-20)))


# ----------------------------------------------------------------------------------------------- crowd
WORDS = ("band stage tonight music song loud beer friend ticket where going great love this one play again "
         "drums guitar singer crowd light sound amazing later home cold warm water hello yes no maybe what "
         "look there here come back left right front near far wait listen dance jump hands up together "
         "after before encore best worst ever time night city bus train car parking phone battery record "
         "video picture camera zoom focus again louder quiet believe remember first second last chorus").split()
VOICES = ("en", "en-us", "en-gb-scotland", "de", "fr", "es", "it", "nl", "pl", "pt", "sv", "da", "fi", "cs",
          "en-029", "en-gb-x-rp")
VARIANTS = ("", "+m1", "+m3", "+m5", "+f1", "+f2", "+f4", "+klatt", "+croak", "+whisper")


def espeak_pool(cache_dir: str, seed: int, n: int = 48) -> tuple[list[np.ndarray], str]:
    """*n* spoken sentences at RATE (cached in *cache_dir*); falls back to `synth.babble` snippets."""
    path = os.path.join(cache_dir, f"espeak-pool-s{seed}.npz")
    if os.path.exists(path):
        with np.load(path) as z:
            return [z[k] for k in sorted(z.files) if k.startswith("u")], _pool_kind(z)
    rng = np.random.default_rng(seed)
    exe = shutil.which("espeak-ng")
    out: list[np.ndarray] = []
    kind = "espeak-ng"
    if exe:
        with tempfile.TemporaryDirectory() as td:
            for i in range(n):
                text = " ".join(rng.choice(WORDS, int(rng.integers(4, 14))))
                voice = str(rng.choice(VOICES)) + str(rng.choice(VARIANTS))
                wav = os.path.join(td, f"{i}.wav")
                r = subprocess.run([exe, "-w", wav, "-v", voice, "-s", str(int(rng.integers(120, 210))),
                                    "-p", str(int(rng.integers(15, 85))), text], capture_output=True)
                if r.returncode == 0 and os.path.exists(wav):
                    y = decode_mono(wav, rate_hz=RATE)
                    if y.size > RATE // 4:
                        out.append((y / (np.sqrt(np.mean(y.astype(np.float64) ** 2)) + 1e-9)).astype(np.float32))
    if len(out) < n // 2:
        kind = "syncfp.synth.babble (espeak-ng missing)"
        out = [synth.babble(int(rng.uniform(1.5, 4) * RATE), rate_hz=RATE, seed=seed * 1000 + i, voices=1)
               for i in range(n)]
    os.makedirs(cache_dir, exist_ok=True)
    np.savez(path + ".tmp.npz", **{f"u{i:03d}": u for i, u in enumerate(out)}, kind=np.array(kind))
    os.replace(path + ".tmp.npz", path)
    return out, kind


def _pool_kind(z) -> str:
    return str(z["kind"]) if "kind" in z.files else "espeak-ng"


def _talker(n: int, pool: list[np.ndarray], rng: np.random.Generator, *, rate_hz: int, busy: float) -> np.ndarray:
    """One talker: a word salad of syllable-to-word-length fragments (0.15-0.6 s) cut from random pool
    sentences, each re-pitched by its own random factor, in phrases with random pauses.

    Whole pool sentences would recur on many devices at nearly the same pitch (a few dozen sentences over
    thousands of utterances): identical waveforms on two devices that real crowds never share, which the
    matcher rightly finds. Fragments only recur for a fraction of a second, as words do in real speech."""
    out = np.zeros(n, np.float32)
    t = int(rng.uniform(0, 3) * rate_hz)
    voice_pitch = rng.uniform(0.85, 1.2)
    while t < n:
        for _ in range(int(rng.integers(3, 15))):  # one phrase
            u = pool[int(rng.integers(len(pool)))]
            length = int(rng.uniform(0.15, 0.6) * RATE)
            if u.size <= length:
                continue
            i0 = int(rng.integers(0, u.size - length))
            frag = u[i0 : i0 + length]
            pitch = voice_pitch * rng.uniform(0.93, 1.07)
            m = int(frag.size / pitch * rate_hz / RATE)
            if m < 8 or t >= n:
                break
            v = np.interp(np.arange(m) * (frag.size / m), np.arange(frag.size), frag).astype(np.float32)
            v *= np.hanning(v.size).astype(np.float32) ** 0.25  # no clicks at the cuts
            v = v[: n - t] * np.float32(10 ** (rng.normal(0, 3) / 20))
            out[t : t + v.size] += v
            t += v.size + int(rng.uniform(0.0, 0.08) * rate_hz)
        t += int(rng.exponential(1.2 / busy) * rate_hz)
    return out


def crowd_noise(n: int, rng: np.random.Generator, *, rate_hz: int, pool: list[np.ndarray], talkers: int,
                loud_talker: bool, gaps: list[tuple[float, float]], t0_s: float) -> np.ndarray:
    """Device-local crowd for one clip (unit RMS): babble, loud neighbour, claps in gaps, murmur, wander."""
    babble = np.zeros(n, np.float32)
    for _ in range(talkers):
        babble += _talker(n, pool, rng, rate_hz=rate_hz, busy=rng.uniform(0.4, 1.0)) * np.float32(
            10 ** (rng.uniform(-8, 0) / 20))
    babble /= np.sqrt(np.mean(babble.astype(np.float64) ** 2)) + 1e-9
    murmur = synth.pink_noise(n, seed=int(rng.integers(1 << 30)))
    murmur = sosfilt(butter(2, [80, 1500], "bandpass", fs=rate_hz, output="sos"), murmur)
    murmur /= np.std(murmur) + 1e-9
    out = babble + 0.5 * murmur
    if loud_talker:  # someone right next to the phone, talking on and off
        lt = _talker(n, pool, rng, rate_hz=rate_hz, busy=rng.uniform(0.2, 0.6))
        out += lt * np.float32(rng.uniform(2.0, 5.0) / (np.sqrt(np.mean(lt.astype(np.float64) ** 2)) + 1e-9))
    # local claps/cheers in the gaps between songs (people around this device)
    for a, b in gaps:
        i0, i1 = int((a - 1.0 - t0_s) * rate_hz), int((b + 0.3 - t0_s) * rate_hz)
        i0, i1 = max(0, i0), min(n, i1)
        if i1 - i0 > rate_hz // 10:
            out[i0:i1] += 3.0 * applause(i1 - i0, rng, claps_per_s=float(rng.uniform(6, 25)), rate_hz=rate_hz)
    # the level wanders by a few dB (people move, turn, the crowd swells)
    k = max(2, int(n / rate_hz / 4) + 2)
    walk = np.cumsum(rng.normal(0, 1.2, k))
    walk = np.clip(walk - walk.mean(), -4, 4)
    out *= 10 ** (np.interp(np.arange(n), np.linspace(0, n, k), walk) / 20)
    return (out / (np.sqrt(np.mean(out**2)) + 1e-12)).astype(np.float32)


# ----------------------------------------------------------------------------------------------- device
def _peaking(f0: float, gain_db: float, q: float, fs: int) -> np.ndarray:
    a = 10 ** (gain_db / 40)
    w = 2 * np.pi * f0 / fs
    al = np.sin(w) / (2 * q)
    b = np.array([1 + al * a, -2 * np.cos(w), 1 - al * a])
    den = np.array([1 + al / a, -2 * np.cos(w), 1 - al / a])
    return np.concatenate([b / den[0], den / den[0]])[None, :]


def eq_sos(dev: dict, rate_hz: int) -> np.ndarray:
    """High-pass, low-pass, peaking EQs. Applied forward-backward: magnitudes are squared, so each
    section is designed at half its dB gain / half order (the device response is what ``dev`` says)."""
    secs = [butter(1, dev["hp_hz"], "highpass", fs=rate_hz, output="sos")]
    if dev.get("lp_hz"):
        secs.append(butter(2, min(dev["lp_hz"], 0.45 * rate_hz), "lowpass", fs=rate_hz, output="sos"))
    for f0, g, q in dev["peq"]:
        secs.append(_peaking(f0, g / 2, q, rate_hz))
    return np.concatenate(secs)


def agc(x: np.ndarray, rate_hz: int, *, release_s: float, target: float, attack_s: float = 0.01,
        max_gain_db: float = 30.0) -> np.ndarray:
    """Phone auto level: block peak envelope (fast attack, slow release) → gain to *target*."""
    blk = int(0.005 * rate_hz)
    nb = x.size // blk + 1
    pad = np.zeros(nb * blk, np.float32)
    pad[: x.size] = np.abs(x)
    lev = pad.reshape(nb, blk).max(axis=1)
    aa, ar = 1 - np.exp(-blk / rate_hz / attack_s), 1 - np.exp(-blk / rate_hz / release_s)
    env = np.empty(nb)
    e = float(lev[: max(1, int(0.2 * rate_hz / blk))].max()) + 1e-6
    for i, v in enumerate(lev.tolist()):
        e += (aa if v > e else ar) * (v - e)
        env[i] = e
    g = np.minimum(target / np.maximum(env, 1e-6), 10 ** (max_gain_db / 20))
    gain = np.interp(np.arange(x.size), (np.arange(nb) + 0.5) * blk, g)
    return (x * gain).astype(np.float32)


def device_chain(x: np.ndarray, dev: dict, rng: np.random.Generator) -> np.ndarray:
    """What the device's electronics make of the mic signal *x* (at the device rate): EQ, AGC, limiter,
    clipping; output scaled to a file level. Zero-phase EQ; gain changes move no samples."""
    rate = dev["rate_hz"]
    y = sosfiltfilt(eq_sos(dev, rate), x.astype(np.float64)).astype(np.float32)
    if dev["agc_release_s"]:
        y = agc(y, rate, release_s=dev["agc_release_s"], target=0.5)
    else:
        y *= np.float32(0.3 / (np.sqrt(np.mean(y.astype(np.float64) ** 2)) + 1e-9))
    y = (0.95 * np.tanh(y / 0.95)).astype(np.float32)  # soft limiter
    if dev["clip_frac"] > 0:
        th = float(np.quantile(np.abs(y), 1 - dev["clip_frac"]))
        y = np.clip(y, -th, th) * np.float32(0.99 / max(th, 1e-6))
    return y
