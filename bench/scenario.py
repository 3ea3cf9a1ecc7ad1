"""seed + size → a multi-camera 'event' on disk: media files of every device and their ground truth.

One event is a programme of concatenated songs (the 'master'). Devices record it:

* an audio recorder: one long take, little noise, WAV (or MP3);
* cameras: takes of 2-10 min with short gaps, camera EQ, room reverb, a limiter on some, AAC in MOV/MP4
  with a tiny video track;
* phones: bursts of 10 s-3 min clips, phone EQ, reverb, crowd noise (pink + babble) down to 0 dB SNR,
  hard clipping on some, AAC at 48 or 44.1 kHz.

Every device has its own clock error (0-300 ppm, `synth.drift`), distractor clips come from songs that
are not in the event and must stay unplaced, and a scenario may hold a second, unrelated event.

Ground truth per clip is its start in master seconds and its device's ppm. The room response puts the
direct sound first and the EQ is zero-phase, so 'start' is well defined to the sample.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from fractions import Fraction
import multiprocessing as mp

import numpy as np
from scipy.signal import resample_poly

from bench import encode, synth

from .music import Source

MASTER_RATE_HZ = 48000
NOISE_BED_S = 30.0  # crowd noise is computed for this long and tiled (babble is the slow part)


@dataclass
class Device:
    """One recording device and how it colours what it hears."""

    name: str
    kind: str  # recorder | camera | phone
    event: int
    ppm: float
    rate_hz: int
    ext: str
    eq: str
    reverb_s: float
    snr_db: float | None
    clip: bool = False
    limiter: bool = False
    stereo: bool = True
    video_fps: str | None = None


@dataclass
class ClipSpec:
    """One media file: where it starts in its event's master and which device recorded it."""

    file: str
    device: str
    event: int | None  # None: a distractor from music not in any event
    start_s: float  # in master seconds (for distractors: in the distractor programme)
    dur_s: float  # master seconds covered
    ppm: float
    seed: int


@dataclass
class Scenario:
    """Everything needed to render and to score one scenario."""

    name: str
    seed: int
    event_s: list[float]
    devices: list[Device]
    clips: list[ClipSpec]
    tracks: dict[str, list[int]] = field(default_factory=dict)  # programme → source track indices

    def to_json(self) -> dict:
        return asdict(self)


def _takes(rng, span: tuple[float, float], length: tuple[float, float], gap_fn, min_s: float = 10.0):
    """Start/duration pairs of successive takes inside *span*."""
    t = span[0] + rng.uniform(0, 45)
    out = []
    while t < span[1] - min_s:
        d = min(float(np.exp(rng.uniform(np.log(length[0]), np.log(length[1])))), span[1] - t)
        if d >= min_s:
            out.append((round(float(t), 3), round(float(d), 3)))
        t += d + gap_fn()
    return out


def plan(seed: int, *, event_s: float, phones: int, cameras: int, distractors: int, second_event: bool,
         n_tracks: int) -> Scenario:
    """Draw devices, takes, clocks and formats for one scenario (deterministic in *seed*)."""
    rng = np.random.default_rng(seed)
    devices: list[Device] = []
    clips: list[ClipSpec] = []

    def add(dev: Device, takes, start_no: int, pattern: str, event: int | None) -> None:
        devices.append(dev)
        for j, (t, d) in enumerate(takes):
            name = pattern.format(n=start_no + j) + dev.ext
            clips.append(ClipSpec(name, dev.name, event, t, d, dev.ppm, int(rng.integers(1 << 30))))

    ppm = lambda: round(float(rng.uniform(0, 300)), 1)  # noqa: E731
    rec_mp3 = bool(rng.random() < 0.4)
    rec = Device("recorder", "recorder", 0, ppm(), 44100 if rec_mp3 else 48000, ".mp3" if rec_mp3 else ".wav",
                 "none", 0.3, float(rng.uniform(15, 25)))
    head, tail = rng.uniform(0, 20), rng.uniform(0, 20)
    add(rec, [(round(float(head), 3), round(float(event_s - head - tail), 3))], 1, "ZOOM{n:04d}", 0)
    for c in range(cameras):
        dev = Device(f"cam{c + 1}", "camera", 0, ppm(), 48000, ".mov" if c % 2 == 0 else ".mp4", "camera",
                     float(rng.uniform(0.5, 1.2)), float(rng.uniform(5, 20)), limiter=c == 0,
                     video_fps="30000/1001" if c % 2 == 0 else "25")
        takes = _takes(rng, (0, event_s), (120, 600), lambda: rng.uniform(5, 60), min_s=30)
        add(dev, takes, 1 + 10 * c, f"cam{c + 1}_C{{n:04d}}", 0)
    for p in range(phones):
        snr = 0.0 if p == 0 else float(rng.uniform(0, 15))
        dev = Device(f"phone{p + 1}", "phone", 0, ppm(), 44100 if p == 2 else 48000,
                     ".MOV" if p % 2 == 0 else ".mp4", "phone", float(rng.uniform(0.6, 1.5)), snr,
                     clip=p % 2 == 1)
        gap = lambda: rng.uniform(5, 40) if rng.random() < 0.7 else rng.uniform(60, 240)  # noqa: E731
        takes = _takes(rng, (0, event_s), (10, 180), gap)
        add(dev, takes, int(rng.integers(1000, 9000)), f"IMG_p{p + 1}_{{n:04d}}", 0)
    # distractors: songs outside the event, filmed by one more phone
    dev = Device("distractor", "phone", -1, ppm(), 48000, ".mp4", "phone", 1.0, float(rng.uniform(3, 15)))
    dtakes, t = [], 0.0
    for _ in range(distractors):  # disjoint stretches, so distractors cannot legitimately match each other
        t += float(rng.uniform(5, 30))
        d = float(rng.uniform(20, 120))
        dtakes.append((round(t, 3), round(d, 3)))
        t += d
    add(dev, dtakes, 1, "PXL_extra_{n:04d}", None)
    ev_s = [event_s]
    if second_event:
        e2 = 360.0
        ev_s.append(e2)
        r2 = Device("recorder2", "recorder", 1, ppm(), 48000, ".wav", "none", 0.4, 18.0)
        add(r2, [(2.0, e2 - 4.0)], 501, "ZOOM{n:04d}", 1)
        p2 = Device("phone_ev2", "phone", 1, ppm(), 48000, ".mp4", "phone", 1.0, 6.0, clip=True)
        add(p2, _takes(rng, (0, e2), (15, 90), lambda: rng.uniform(10, 40)), 1, "VID_ev2_{n:04d}", 1)
    order = [int(i) for i in rng.permutation(n_tracks)]
    return Scenario(f"s{seed}", seed, ev_s, devices, clips, {"order": order})


def _noise_bed(n: int, rate_hz: int, seed: int) -> np.ndarray:
    m = min(n, int(NOISE_BED_S * rate_hz))
    bed = 0.5 * synth.pink_noise(m, seed=seed) + synth.babble(m, rate_hz=rate_hz, seed=seed + 1)
    bed /= np.std(bed) + 1e-12
    return np.resize(bed, n)


def degrade(x: np.ndarray, dev: Device, seed: int) -> np.ndarray:
    """EQ, reverb (via `synth.device`), independent crowd noise at the device's SNR, limiter or clipping."""
    y = synth.device(x, rate_hz=dev.rate_hz, seed=seed, snr_db=None, eq=dev.eq, reverb_s=dev.reverb_s)
    y = y.astype(np.float64)
    if dev.snr_db is not None:
        y = y + _noise_bed(y.size, dev.rate_hz, seed) * np.std(y) * 10 ** (-dev.snr_db / 20)
    y = 0.3 * y / (np.max(np.abs(y)) + 1e-9)
    if dev.limiter:  # soft knee: loud passages squashed, like a camera's auto level
        y = np.tanh(3.0 * y) / np.tanh(0.9)
        y *= 0.3 / (np.max(np.abs(y)) + 1e-9)
    if dev.clip:
        y = np.clip(y * 4.0, -0.5, 0.5)
    return y.astype(np.float32)


# set in the parent before the pool forks, so workers share the programmes without copying
_PROGRAMMES: dict[str, np.ndarray] = {}


def _render(job: tuple[str, dict, dict]) -> str:
    out_dir, dev_d, clip_d = job
    dev, c = Device(**dev_d), ClipSpec(**clip_d)
    prog = _PROGRAMMES["distract" if c.event is None else f"event{c.event}"]
    i0 = int(round(c.start_s * MASTER_RATE_HZ))
    x = prog[i0 : i0 + int(round(c.dur_s * MASTER_RATE_HZ))]
    if dev.rate_hz != MASTER_RATE_HZ:
        g = np.gcd(dev.rate_hz, MASTER_RATE_HZ)
        x = resample_poly(x, dev.rate_hz // g, MASTER_RATE_HZ // g).astype(np.float32)
    y = synth.drift(degrade(x, dev, c.seed), dev.ppm)
    data = np.stack([y, y], axis=1) if dev.stereo else y
    fps = Fraction(dev.video_fps) if dev.video_fps else None
    path = os.path.join(out_dir, c.file)
    encode.write(path + ".part" + os.path.splitext(c.file)[1], data, rate_hz=dev.rate_hz, video_fps=fps)
    os.replace(path + ".part" + os.path.splitext(c.file)[1], path)
    return c.file


def render(sc: Scenario, source: Source, out_dir: str, *, workers: int = 2) -> dict:
    """Write every clip of *sc* into *out_dir* and the ground truth `truth.json`; skips a finished render."""
    truth_path = os.path.join(out_dir, "truth.json")
    truth = {"source": source.kind, **sc.to_json()}
    if os.path.exists(truth_path):
        with open(truth_path) as f:
            old = json.load(f)
        old_plan = {k: v for k, v in old.items() if k != "songs"}
        if old_plan == truth and all(os.path.exists(os.path.join(out_dir, c.file)) for c in sc.clips):
            return old
    os.makedirs(out_dir, exist_ok=True)
    order = sc.tracks["order"]
    used = 0
    names = {}
    for e, dur in enumerate(sc.event_s):
        n_songs = _songs_needed(source, order[used:], dur)
        _PROGRAMMES[f"event{e}"], names[f"event{e}"] = source.programme(order[used : used + n_songs],
                                                                         duration_s=dur)
        used += n_songs
    dist_need = max((c.start_s + c.dur_s for c in sc.clips if c.event is None), default=1.0)
    rest = order[used:] or order[:1]
    _PROGRAMMES["distract"], names["distract"] = source.programme(rest, duration_s=dist_need + 1)
    devs = {d.name: asdict(d) for d in sc.devices}
    jobs = [(out_dir, devs[c.device], asdict(c)) for c in sorted(sc.clips, key=lambda c: -c.dur_s)]
    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        list(pool.map(_render, jobs))
    _PROGRAMMES.clear()
    truth["songs"] = names
    with open(truth_path + ".tmp", "w") as f:
        json.dump(truth, f, indent=1)
    os.replace(truth_path + ".tmp", truth_path)
    with open(truth_path) as f:
        return json.load(f)


def _songs_needed(source: Source, order: list[int], duration_s: float) -> int:
    total = 0.0
    for k, i in enumerate(order):
        total += source.durations[i] + 1.5
        if total >= duration_s:
            return k + 1
    return len(order)
