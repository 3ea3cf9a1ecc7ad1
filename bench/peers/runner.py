"""Peer tools: install each in its own venv (first use), prepare its inputs, run its adapter with a time limit.

The venvs live in a cache directory outside the repository (``~/.cache/syncfp-bench/venvs`` unless told
otherwise) and are made with ``python -m venv`` + pip from PyPI at pinned versions. A tool that cannot be
installed or run yields a result with ``error`` set and no placements; the benchmark carries on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

from bench import encode

from ..music import decode_mono

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class Peer:
    name: str
    requirements: tuple[str, ...]
    adapter: str
    needs_wav: bool


PEERS = (
    Peer("audalign", ("audalign==1.3.1",), "audalign_adapter.py", True),
    Peer("audio-offset-finder", ("audio-offset-finder==0.5.5", "av>=12"), "aof_adapter.py", False),
)


def default_cache_dir() -> str:
    return os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "syncfp-bench", "venvs")


def ensure_venv(peer: Peer, cache_dir: str, log) -> tuple[str | None, str | None]:
    """Path of the venv's python, creating the venv on first use; or (None, reason)."""
    venv = os.path.join(cache_dir, peer.name)
    py = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, ".installed-" + "-".join(peer.requirements).replace("/", "_"))
    if os.path.exists(stamp):
        return py, None
    log(f"installing {peer.name} into {venv} (first use)")
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True, capture_output=True,
                       timeout=300)
        r = subprocess.run([py, "-m", "pip", "install", "-q", *peer.requirements], capture_output=True,
                           text=True, timeout=1200)
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"venv creation failed: {exc}"
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-3:]
        return None, "pip install failed: " + " | ".join(tail)
    open(stamp, "w").close()
    return py, None


def wav_copies(paths: list[str], out_dir: str) -> dict[str, str]:
    """16-bit mono WAV transcodes (PyAV decode, native rate) for tools that read WAV only; cached."""
    os.makedirs(out_dir, exist_ok=True)
    out = {}
    for p in paths:
        dst = os.path.join(out_dir, os.path.basename(p) + ".wav")
        if not os.path.exists(dst):
            import av

            with av.open(p) as c:
                rate = c.streams.audio[0].codec_context.sample_rate
            encode.write(dst + ".part.wav", decode_mono(p, rate_hz=rate), rate_hz=rate)
            os.replace(dst + ".part.wav", dst)
        out[p] = dst
    return out


def run_peer(peer: Peer, py: str, paths: list[str], reference: str, work_dir: str, *, budget_s: float) -> dict:
    """Run one peer over *paths* against *reference*; placements keyed by the original file names."""
    os.makedirs(work_dir, exist_ok=True)
    mapping = {p: p for p in paths}
    if peer.needs_wav:
        mapping = wav_copies(paths, os.path.join(work_dir, "wav"))
    back = {os.path.basename(v): os.path.basename(k) for k, v in mapping.items()}
    job = {"reference": mapping[reference], "clips": [mapping[p] for p in paths], "budget_s": budget_s,
           "clip_dir": os.path.dirname(mapping[reference])}
    job_path = os.path.join(work_dir, f"{peer.name}-job.json")
    out_path = os.path.join(work_dir, f"{peer.name}-out.json")
    with open(job_path, "w") as f:
        json.dump(job, f)
    if os.path.exists(out_path):
        os.remove(out_path)
    t0 = time.perf_counter()
    try:
        r = subprocess.run([py, os.path.join(HERE, peer.adapter), job_path, out_path], capture_output=True,
                           text=True, timeout=budget_s * 1.5 + 120)
    except subprocess.TimeoutExpired:
        return {"tool": peer.name, "error": f"no result within {budget_s * 1.5 + 120:.0f} s (killed)",
                "wall_s": time.perf_counter() - t0, "clips": {}}
    if r.returncode != 0 or not os.path.exists(out_path):
        tail = (r.stderr or r.stdout).strip().splitlines()[-2:]
        return {"tool": peer.name, "error": f"adapter exited {r.returncode}: " + " | ".join(tail),
                "wall_s": time.perf_counter() - t0, "clips": {}}
    with open(out_path) as f:
        res = json.load(f)
    res["clips"] = {back.get(k, k): v for k, v in res["clips"].items()}
    return res
