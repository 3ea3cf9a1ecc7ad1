"""Interrupted and contended indexing: SIGKILL at random points, two `index` processes at once, a full
disk. The long kill run is `bench/kill_index.py` (figures in docs/reliability.md); this is its smoke test."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from bench import kill_index  # noqa: E402
from conftest import mount_tmpfs  # noqa: E402
from syncfp.library.store import open_library  # noqa: E402


@pytest.fixture(scope="module")
def songs(tmp_path_factory) -> list[str]:
    return kill_index.make_songs(str(tmp_path_factory.mktemp("kill-songs")), n=8, seconds=8.0)


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing(songs):
    res = kill_index.run(runs=1, seed=3, kills=3, songs=songs)
    assert res["failures"] == [], res


@pytest.mark.slow
def test_two_index_processes_on_one_library(songs, tmp_path):
    lib = str(tmp_path / "both.sfp")
    a, b = songs[:5], songs[3:]  # overlapping sets
    procs = [subprocess.Popen(kill_index.index_cmd(lib, s), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for s in (a, b)]
    outs = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for rc, err in outs:
        assert "Traceback" not in err
        # finished, or refused in one line because the other one holds the lock
        assert rc == 0 or (rc == 5 and "another syncfp process" in err and len(err.strip().splitlines()) == 1), err
    assert any(rc == 0 for rc, _ in outs)
    for (rc, _), s in zip(outs, (a, b)):
        if rc != 0:  # the refused one is simply run again
            assert subprocess.run(kill_index.index_cmd(lib, s), capture_output=True).returncode == 0
    shas = [t.sha256 for t in open_library(lib).tracks]
    assert len(shas) == len(set(shas)) == len(songs)


@pytest.mark.slow
def test_disk_full_fails_cleanly_and_keeps_the_library(songs, tmp_path):
    """A 2 MB tmpfs filled up; where mounting is not allowed, a file-size limit (RLIMIT_FSIZE) instead."""
    d = str(tmp_path / f"small-{uuid.uuid4().hex[:6]}")
    mounted = mount_tmpfs(d, "2m")
    os.makedirs(d, exist_ok=True)
    lib = os.path.join(d, "lib.sfp")
    try:
        assert subprocess.run(kill_index.index_cmd(lib, songs[:2]), capture_output=True).returncode == 0
        before = open(lib, "rb").read()
        preexec = None
        if mounted:
            st = os.statvfs(d)
            with open(os.path.join(d, "filler"), "wb") as fh:
                fh.write(bytes(st.f_bavail * st.f_frsize - 100_000))
        else:
            limit = len(before) + 20_000

            def preexec() -> None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        r = subprocess.run(kill_index.index_cmd(lib, songs), capture_output=True, text=True, preexec_fn=preexec)
        assert r.returncode == 4 and "Traceback" not in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "cannot" in r.stderr
        assert open(lib, "rb").read() == before  # the previous library, byte for byte
        assert not [f for f in os.listdir(d) if f.endswith(".part")]
        pending = lib + ".pending"
        assert not [f for f in os.listdir(pending) if f.endswith(".part")] if os.path.isdir(pending) else True
        if mounted:
            os.remove(os.path.join(d, "filler"))
        r = subprocess.run(kill_index.index_cmd(lib, songs), capture_output=True, text=True)
        assert r.returncode == 0, r.stderr  # with space again, the saved progress is used and the rest added
        assert len(open_library(lib).tracks) == len(songs)
    finally:
        if mounted:
            subprocess.run(["umount", d], capture_output=True)


def test_next_index_removes_the_temp_file_a_killed_writer_left(songs, tmp_path):
    """SIGKILL while the table is written leaves its temp file; the next run (holding the lock) removes it,
    and leaves a neighbouring library's temp file alone."""
    lib = str(tmp_path / "songs.sfp")
    stale = tmp_path / ".songs.sfp.syncfp-lib-dead1234.part"
    other = tmp_path / ".other.sfp.syncfp-lib-live5678.part"
    stale.write_bytes(b"half a table")
    other.write_bytes(b"another library being written")
    assert subprocess.run(kill_index.index_cmd(lib, songs[:2]), capture_output=True).returncode == 0
    assert not stale.exists()
    assert other.exists()


def test_a_kill_between_a_pending_entrys_two_files_leaves_nothing_behind(songs, tmp_path):
    """The windows the random kills hit now and then (CI, 2026-12-05): a `.npy` saved whose `.json` never was
    (killed while saving), and a lone `.json` of a track already merged (killed between the two removals).
    The next run deletes both and ends with every track exactly once."""
    lib = str(tmp_path / "k.sfp")
    assert subprocess.run(kill_index.index_cmd(lib, songs[:2]), capture_output=True).returncode == 0
    merged = open_library(lib).tracks[0].sha256
    pending = lib + ".pending"
    os.makedirs(pending, exist_ok=True)
    with open(os.path.join(pending, "f" * 64 + ".npy"), "wb") as fh:
        fh.write(b"\x93NUMPY half")  # a half-saved array of a track the library lacks
    with open(os.path.join(pending, merged + ".json"), "w") as fh:
        fh.write("{}")
    assert subprocess.run(kill_index.index_cmd(lib, songs[:3]), capture_output=True).returncode == 0
    assert os.listdir(pending) == []
    shas = [t.sha256 for t in open_library(lib).tracks]
    assert len(shas) == len(set(shas)) == 3
