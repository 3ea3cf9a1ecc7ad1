"""Hostile media: every bad file is reported in one line, the batch finishes, and the good files get exactly
the result they get without the bad ones — for `align` (API and CLI) and for `index`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import syncfp
from conftest import cut
from hostile_media import bad_corpus, faststart, odd_good_corpus
from bench import encode
from syncfp.library.build import index_files
from syncfp.library.store import open_library

# where each good file starts in the shared master (s): the truth the placements are checked against
TRUTH = {"ref.wav": 0.0, "cam.mp4": 12.0, "cam.mov": 16.0, "8k_mono.wav": 2.0, "192k_8ch.wav": 6.0,
         "clipped.mp3": 4.0, "dc.flac": 8.0, "long_silence.m4a": 0.0, "ünï cödé clip ✓.mov": 10.0,
         "fast_trunc.mp4": 12.0}
# what the user reads for each bad file (a fragment of the one-line reason)
REASONS = {"trunc": "no moov index", "moovless.mp4": "no moov index", "random.": "not a readable media file",
           "zero.": "empty file", "header_only.wav": "no audio samples", "dir.mp4": "is a directory",
           "video_only.mp4": "no audio stream", "samples0.wav": "no audio samples",
           "samples1.wav": "no audio samples", "silence.flac": "silent", "missing.wav": "no such file",
           "loop_link.mp4": "symbolic links", "fifo.wav": "not a regular file"}


def _expected_reason(name: str) -> str:
    return next(v for k, v in REASONS.items() if name.startswith(k) or name == k)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, master) -> tuple[list[str], dict[str, str]]:
    d = str(tmp_path_factory.mktemp("hostile"))

    def make(path, start_s, length_s, *, channels=1, gain=1.0, dc=0.0, silence=None, video_fps=None,
             rate_hz=48000):
        y = cut(master, start_s, length_s, rate_hz=rate_hz, seed=len(os.path.basename(path)))
        if silence:
            y[int(silence[0] * rate_hz) : int(silence[1] * rate_hz)] = 0.0  # digital silence inside
        y = np.clip(y * gain + dc, -1.0, 1.0)  # gain 12: hard clipping at full scale
        if channels > 1:
            y = np.stack([y * (0.3 + 0.1 * c) for c in range(channels)], axis=1)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        encode.write(path, y, rate_hz=rate_hz, video_fps=video_fps)
        return path

    good = [make(os.path.join(d, "good", "ref.wav"), 0.0, 40.0),
            make(os.path.join(d, "good", "cam.mp4"), 12.0, 20.0, video_fps=Fraction(25)),
            make(os.path.join(d, "good", "cam.mov"), 16.0, 20.0, video_fps=Fraction(25))]
    good += list(odd_good_corpus(os.path.join(d, "odd"), make).values())
    fast = os.path.join(d, "odd", "fast.mp4")
    faststart(good[1], fast)  # moov first, as cameras write it: a cut-off copy still holds audio
    data = open(fast, "rb").read()
    os.remove(fast)
    trunc = os.path.join(d, "odd", "fast_trunc.mp4")
    with open(trunc, "wb") as fh:
        fh.write(data[: int(len(data) * 0.6)])
    good.append(trunc)
    bad = bad_corpus(os.path.join(d, "bad"), good[1], good[2])
    return good, bad


def _check_bad(name: str, reason: str | None) -> None:
    assert reason and "\n" not in reason and len(reason) < 200, (name, reason)
    assert _expected_reason(name) in reason.lower(), (name, reason)


@pytest.mark.slow
def test_align_reports_bad_files_and_good_ones_are_unchanged(corpus):
    good, bad = corpus
    mixed = [p for pair in zip(good, list(bad.values())) for p in pair] + list(bad.values())[len(good):]
    al = syncfp.align(mixed, cache=False, workers=2)
    assert [c.path for c in al.clips] == mixed  # input order kept
    by = {c.path: c for c in al.clips}
    for name, p in bad.items():
        assert by[p].group is None
        _check_bad(name, by[p].error)
    clean = syncfp.align(good, cache=False, workers=1)
    ref = by[good[0]].offset_s
    for c in clean.clips:
        assert by[c.path] == c  # every field equal: offsets, drift, confidence, track, info, warning
        assert c.offset_s - ref == pytest.approx(TRUTH[os.path.basename(c.path)], abs=1e-3)
    assert "decoding stopped early" in by[good[-1]].warning  # the cut-off camera file is kept, with a note


@pytest.mark.slow
def test_index_reports_bad_files_and_good_ones_are_unchanged(corpus, tmp_path):
    good, bad = corpus
    rep = index_files(str(tmp_path / "mixed.sfp"), [*bad.values(), *good])
    assert len(rep.added) == len(good) and not rep.skipped
    failed = dict(rep.failed)
    assert set(failed) == set(bad.values())
    for name, p in bad.items():
        reason = failed[p].lower()
        assert "\n" not in reason and _expected_reason(name) in reason, (name, reason)
    index_files(str(tmp_path / "clean.sfp"), good)
    a, b = open_library(str(tmp_path / "mixed.sfp")), open_library(str(tmp_path / "clean.sfp"))
    assert [(t.sha256, t.base, t.n_frames, t.n_hashes, t.name) for t in a.tracks] == \
        [(t.sha256, t.base, t.n_frames, t.n_hashes, t.name) for t in b.tracks]
    for name in ("keys", "starts", "postings"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "syncfp", *args], capture_output=True, text=True, timeout=120,
                          **kw)


@pytest.mark.slow
def test_cli_align_one_line_per_bad_file(corpus):
    good, bad = corpus
    r = _cli("align", "-q", "-f", "json", "--no-cache", *good[:3], *bad.values())
    assert r.returncode == 3 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("skipped ")]
    assert len(lines) == len(bad)
    for name, p in bad.items():
        line = next(ln for ln in lines if ln.startswith(f"skipped {p}:"))
        assert _expected_reason(name) in line.lower()
    doc = json.loads(r.stdout)
    placed = [c for c in doc["clips"] if c["group"] is not None]
    assert sorted(c["path"] for c in placed) == sorted(good[:3])


def test_cli_index_one_line_per_bad_file(corpus, tmp_path):
    good, bad = corpus
    r = _cli("index", "-q", "--library", str(tmp_path / "l.sfp"), good[0], *bad.values())
    assert r.returncode == 3 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("skipped ")]
    assert len(lines) == len(bad)
    assert len(open_library(str(tmp_path / "l.sfp")).tracks) == 1


@pytest.mark.slow
def test_unreadable_file(corpus, tmp_path):
    """chmod 000. Root reads anything (CAP_DAC_OVERRIDE), so as root the CLI runs under `setpriv` with the
    two file-permission capabilities dropped: still uid 0, but the permission bits now bite."""
    good, _ = corpus
    locked = shutil.copy(good[2], str(tmp_path / "locked.mov"))
    os.chmod(locked, 0)
    prefix: list[str] = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: permissions cannot bite")
        caps = "-dac_override,-dac_read_search"
        prefix = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}"]
    for cmd in (["align", "-q", "-f", "json", "--no-cache", *good[:2], locked],
                ["index", "-q", "--library", str(tmp_path / "l.sfp"), *good[:2], locked]):
        r = subprocess.run([*prefix, sys.executable, "-m", "syncfp", *cmd], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 3 and "Traceback" not in r.stderr, r.stderr
        line = next(ln for ln in r.stderr.splitlines() if "locked.mov" in ln)
        assert "permission denied" in line.lower(), line
    doc = json.loads(subprocess.run([*prefix, sys.executable, "-m", "syncfp", "align", "-q", "-f", "json",
                                     "--no-cache", *good[:2], locked], capture_output=True, text=True).stdout)
    assert sum(c["group"] is not None for c in doc["clips"]) == 2
    assert len(open_library(str(tmp_path / "l.sfp")).tracks) == 2


def _adts(path: str, rate: int, layout: str, freq: float, dur_s: float) -> bytes:
    """Raw AAC (ADTS) of a sine: each frame header carries its own rate and channel count."""
    import av

    with av.open(path, "w", format="adts") as c:
        s = c.add_stream("aac", rate=rate)
        s.layout = layout
        n = int(rate * dur_s)
        x = (0.3 * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.float32)
        arr = np.tile(x, (2 if layout == "stereo" else 1, 1))
        for i in range(0, n, 1024):
            f = av.AudioFrame.from_ndarray(np.ascontiguousarray(arr[:, i : i + 1024]), format="fltp", layout=layout)
            f.sample_rate = rate
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    with open(path, "rb") as fh:
        return fh.read()


def test_rate_and_layout_change_mid_stream(tmp_path):
    """A stream whose rate and channel layout change twice (broadcast captures, spliced ADTS) decodes whole:
    every part arrives at 8 kHz, in order, at the same level."""
    from syncfp.audio.decode import stream_audio

    parts = [(48000, "stereo", 440.0, 3.0), (44100, "mono", 1000.0, 3.0), (44100, "stereo", 700.0, 2.0)]
    blob = b"".join(_adts(str(tmp_path / f"p{i}.aac"), *p) for i, p in enumerate(parts))
    path = tmp_path / "spliced.aac"
    path.write_bytes(blob)
    _, chunks = stream_audio(str(path), rate_hz=8000)
    y = np.concatenate(list(chunks))
    assert chunks.truncated is None
    assert abs(y.size / 8000 - 8.0) < 0.2
    t0 = 0.0
    for _, _, freq, dur in parts:
        seg = y[int((t0 + 0.4) * 8000) : int((t0 + dur - 0.4) * 8000)]
        spec = np.abs(np.fft.rfft(seg))
        assert abs(np.fft.rfftfreq(seg.size, 1 / 8000)[spec.argmax()] - freq) < 2
        assert abs(np.sqrt(np.mean(seg**2)) - 0.3 / np.sqrt(2)) < 0.02  # downmix is a mean: no level jump
        t0 += dur


@pytest.mark.slow
@pytest.mark.parametrize("cut_at", ["packet", "mid-packet"])
def test_camera_file_cut_off_is_reported_wherever_the_cut_falls(tmp_path, master, cut_at):
    """A moov-first MP4 cut off inside its audio: cut mid-packet the decoder stops on an error, cut between
    two packets it stops cleanly; both keep the audio before the cut and say decoding stopped early. The
    whole file says nothing."""
    import av

    from syncfp.audio.decode import stream_audio

    whole = str(tmp_path / "whole.mp4")
    src = str(tmp_path / "src.mp4")
    encode.write(src, cut(master, 12.0, 12.0, seed=4), rate_hz=48000, video_fps=Fraction(25))
    faststart(src, whole)
    with av.open(whole) as c:
        audio = c.streams.audio[0]
        pos = [p.pos for p in c.demux(audio) if p.pos is not None and p.size]
    end = pos[len(pos) // 2] + (0 if cut_at == "packet" else 100)
    short = tmp_path / "cut.mp4"
    short.write_bytes(open(whole, "rb").read()[:end])
    for path, stops in ((whole, False), (str(short), True)):
        _, chunks = stream_audio(path, rate_hz=8000)
        y = np.concatenate(list(chunks))
        assert (chunks.truncated is not None) == stops, (path, chunks.truncated)
        assert abs(y.size / 8000 - (6.0 if stops else 12.0)) < 0.8
    assert "stopped early" in chunks.truncated
