"""Song library on real encoded files: build, incremental re-index, removal, lock, damage and parameter checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace

import numpy as np
import pytest

from bench import encode, synth
from syncfp.library.build import WriteLock, index_files, remove_tracks, work_prefix
from syncfp.library.store import LIBRARY_FINGERPRINT, LibraryError, TableWriter, default_path, open_library

RATE = 22050


def _song(seed: int, seconds: float = 20.0) -> np.ndarray:
    return synth.concert(seconds, rate_hz=RATE, seed=seed, tempo_bpm=96 + 5 * (seed % 7))


@pytest.fixture(scope="module")
def songs(tmp_path_factory) -> list[str]:
    d = tmp_path_factory.mktemp("lib-songs")
    out = []
    for i in range(3):
        p = str(d / f"song{i}.mp3")
        encode.write(p, _song(200 + i), rate_hz=RATE, metadata={"title": f"Title {i}", "artist": "Band"})
        out.append(p)
    return out


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "syncfp", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_index_is_incremental_and_names_from_tags(songs, tmp_path):
    lib_path = str(tmp_path / "songs.sfp")
    rep = index_files(lib_path, songs[:2])
    assert len(rep.added) == 2 and not rep.skipped
    rep = index_files(lib_path, songs)
    assert len(rep.added) == 1 and len(rep.skipped) == 2
    lib = open_library(lib_path)
    assert [t.name for t in lib.tracks] == ["Band - Title 0", "Band - Title 1", "Band - Title 2"]
    assert len({t.sha256 for t in lib.tracks}) == 3
    assert lib.n_postings == sum(t.n_hashes for t in lib.tracks)
    # every posting lies inside its own track's frame range
    assert np.all(np.diff(lib.bases()) > 0)
    assert remove_tracks(lib_path, ["song1"])[0].name == "Band - Title 1"
    lib = open_library(lib_path)
    assert [t.name for t in lib.tracks] == ["Band - Title 0", "Band - Title 2"]
    assert lib.n_postings == sum(t.n_hashes for t in lib.tracks)


def _peaks_by_track(lib) -> dict[str, np.ndarray]:
    """Each track's stored peaks as (frame in the track) << 8 | bin."""
    return {t.sha256: lib.peaks_in(t.base, t.base + t.n_frames) - (t.base << 8) for t in lib.tracks}


@pytest.mark.slow
def test_stored_peaks_follow_their_tracks_through_adds_and_removals(songs, tmp_path):
    """The peaks `identify`'s peak check reads are each track's own whatever order tracks came in, leave
    with their track, and a file from before them (no peak arrays) still opens and takes new tracks."""
    whole = str(tmp_path / "whole.sfp")
    index_files(whole, songs)
    lib = open_library(whole)
    ref = _peaks_by_track(lib)
    assert lib.has_peaks and lib.peaks.shape[0] == sum(v.size for v in ref.values())
    for t in lib.tracks:  # peaks of every hash anchor and target, inside the track, in the analysis band
        k = ref[t.sha256]
        assert k.size > 20 * t.duration_s and np.all(np.diff(k) > 0)
        assert 0 <= k.min() >> 8 and k.max() >> 8 < t.n_frames
        assert np.all((k & 255) >= LIBRARY_FINGERPRINT.fmin_bin) and np.all((k & 255) <= LIBRARY_FINGERPRINT.fmax_bin)
    step = str(tmp_path / "step.sfp")
    index_files(step, [songs[2]])
    index_files(step, songs[:2])  # merged after the first: other bases, same peaks
    got = _peaks_by_track(open_library(step))
    assert got.keys() == ref.keys() and all(np.array_equal(got[k], ref[k]) for k in ref)
    gone = remove_tracks(step, ["song2"])[0]
    got = _peaks_by_track(open_library(step))
    assert gone.sha256 not in got and all(np.array_equal(got[k], ref[k]) for k in got) and len(got) == 2
    # a library written without peak arrays (as before them): opens, has none, and a track added to it has its own
    old = str(tmp_path / "old.sfp")
    index_files(old, songs[:1])
    lib = open_library(old)
    with TableWriter(old, n_postings=lib.n_postings, n_keys=lib.keys.size) as w:
        w.array("keys")[:] = lib.keys
        w.array("starts")[:] = lib.starts
        w.array("postings")[:] = lib.postings
        w.commit(cfg=lib.cfg, tracks=lib.tracks, next_base=lib.next_base)
    lib = open_library(old)
    assert not lib.has_peaks and lib.peaks_in(0, lib.next_base).size == 0
    # a peak table whose chunk starts do not end at its length is refused, checksums or not
    bad = str(tmp_path / "bad.sfp")
    with TableWriter(bad, n_postings=lib.n_postings, n_keys=lib.keys.size, n_peaks=4,
                     n_peak_chunks=-(-lib.next_base // 256)) as w:
        w.array("keys")[:] = lib.keys
        w.array("starts")[:] = lib.starts
        w.array("postings")[:] = lib.postings
        w.array("peak_starts")[:] = 0  # all chunks empty, yet 4 peaks
        w.commit(cfg=lib.cfg, tracks=lib.tracks, next_base=lib.next_base)
    with pytest.raises(LibraryError, match="peak table shape"):
        open_library(bad)
    index_files(old, songs[1:2])
    got = _peaks_by_track(open_library(old))
    first, second = (t.sha256 for t in open_library(old).tracks)
    assert got[first].size == 0 and np.array_equal(got[second], ref[second])


@pytest.mark.slow
def test_damaged_library_gives_clear_error(songs, tmp_path):
    lib_path = str(tmp_path / "songs.sfp")
    index_files(lib_path, songs[:1])
    data = bytearray(open(lib_path, "rb").read())
    cases = {
        "truncated": data[: len(data) // 2],
        "checksum mismatch": data[:200] + bytes(b ^ 0xFF for b in data[200:210]) + data[210:],
        "not a syncfp library": b"hello" * 40,
    }
    for why, blob in cases.items():
        bad = str(tmp_path / f"bad-{why[:5]}.sfp")
        with open(bad, "wb") as fh:
            fh.write(blob)
        with pytest.raises(LibraryError, match=why):
            open_library(bad)
        r = _run("library", "info", "--library", bad)
        assert r.returncode == 5, r.stderr
        assert why in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_other_parameters_refused(songs, tmp_path):
    lib_path = str(tmp_path / "other.sfp")
    index_files(lib_path, songs[:1], cfg=replace(LIBRARY_FINGERPRINT, peaks_per_s=40.0))
    with pytest.raises(LibraryError, match="other fingerprint parameters.*peaks_per_s"):
        open_library(lib_path)
    r = _run("identify", songs[0], "--library", lib_path)
    assert r.returncode == 5 and "other fingerprint parameters" in r.stderr and "Traceback" not in r.stderr


def test_lock_keeps_a_second_writer_out(songs, tmp_path):
    lib_path = str(tmp_path / "locked.sfp")
    with WriteLock(lib_path):
        r = _run("index", songs[0], "--library", lib_path)
    assert r.returncode == 5 and "another syncfp process" in r.stderr
    assert not os.path.exists(lib_path)


@pytest.mark.slow
def test_killed_index_run_resumes(tmp_path):
    src = _song(300, 12.0)
    files = []
    for i in range(12):  # distinct files (content differs by gain), cheap to make
        p = str(tmp_path / f"t{i:02d}.wav")
        encode.write(p, src * (0.5 + 0.03 * i), rate_hz=RATE)
        files.append(p)
    lib_path = str(tmp_path / "resume.sfp")
    proc = subprocess.Popen([sys.executable, "-m", "syncfp", "index", *files, "--library", lib_path, "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not os.path.exists(lib_path) and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(open_library(lib_path).tracks)
    stale = tempfile.mkdtemp(prefix=work_prefix(lib_path))  # as a killed run leaves its decoded audio
    open(os.path.join(stale, "t00.pcm"), "wb").close()
    r = _run("index", *files, "--library", lib_path)
    assert r.returncode == 0, r.stderr
    assert not [n for n in os.listdir(tempfile.gettempdir()) if n.startswith(work_prefix(lib_path))]
    lib = open_library(lib_path)
    assert len(lib.tracks) == 12 and len({t.sha256 for t in lib.tracks}) == 12
    assert lib.n_postings == sum(t.n_hashes for t in lib.tracks)
    assert f"already indexed {done_before}" in r.stderr.replace("\n", " ") or done_before == 12


@pytest.mark.slow
def test_default_path_and_cli_info(songs, tmp_path):
    lib_path = str(tmp_path / "env.sfp")
    env = {"SYNCFP_LIBRARY": lib_path}
    r = _run("index", *songs, "-q", env=env)
    assert r.returncode == 0, r.stderr
    old = os.environ.get("SYNCFP_LIBRARY")
    os.environ["SYNCFP_LIBRARY"] = lib_path
    try:
        assert default_path() == lib_path
    finally:
        os.environ.pop("SYNCFP_LIBRARY") if old is None else os.environ.__setitem__("SYNCFP_LIBRARY", old)
    import json

    r = _run("library", "info", "--format", "json", env=env)
    info = json.loads(r.stdout)
    assert info["tracks"] == 3 and info["digest"] == LIBRARY_FINGERPRINT.digest()
    assert 20 * 3 * 20 < info["peaks"] < info["hashes"]  # ~24 stored peaks a second of three 20-s songs
    r = _run("library", "list", "--format", "json", env=env)
    assert [json.loads(line)["track"] for line in r.stdout.splitlines()][0] == "Band - Title 0"
    r = _run("library", "remove", "no such track", env=env)
    assert r.returncode == 2 and "no track" in r.stderr
