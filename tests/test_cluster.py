"""`--cluster` on a real `distributed.LocalCluster` (scheduler and 2 worker processes on loopback): index,
identify and align give exactly the local results; a worker killed mid-index loses no track and adds none twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from bench import encode, synth  # noqa: E402
from syncfp.library.api import identify_paths  # noqa: E402
from syncfp.runners.cluster import ClusterFingerprinter, ClusterLookup  # noqa: E402
from syncfp.library.build import index_files  # noqa: E402
from syncfp.library.store import open_library  # noqa: E402
from syncfp.library.shards import as_shards, index_shards, open_shards  # noqa: E402

RATE = 22050
SEEDS = (700, 701, 702, 703, 704, 705)


def _cluster():
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                    dashboard_address=":0", silence_logs=50)


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cluster")
    out, audio = [], {}
    for s in SEEDS:
        audio[s] = synth.concert(20.0, rate_hz=RATE, seed=s, tempo_bpm=90 + 3 * (s % 7))
        p = str(d / f"song{s}.m4a")
        encode.write(p, audio[s], rate_hz=RATE, metadata={"title": f"Song {s}"})
        out.append(p)
    queries = []
    for k, (s, start) in enumerate([(701, 4.0), (704, 11.5), (705, 0.5)]):
        y = synth.device(audio[s][int(start * RATE) : int((start + 6) * RATE)], rate_hz=RATE, seed=k, snr_db=10.0)
        q = str(d / f"q{k}.mp4")
        encode.write(q, y, rate_hz=RATE, bitrate=64000)
        queries.append(q)
    local = str(d / "local.sfp")
    index_files(local, out)
    return d, out, queries, local


@pytest.fixture(scope="module")
def client():
    with _cluster() as cluster, distributed.Client(cluster) as c:
        yield c


def _same_library(a, b) -> None:
    assert [(t.name, t.sha256, t.base, t.n_frames, t.n_hashes) for t in a.tracks] == \
        [(t.name, t.sha256, t.base, t.n_frames, t.n_hashes) for t in b.tracks]
    for name in ("keys", "starts", "postings"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.slow
def test_index_and_identify_through_the_cluster_equal_local(songs, client, tmp_path):
    d, paths, queries, local = songs
    remote = str(tmp_path / "remote.sfp")
    rep = index_files(remote, paths, fingerprinter=ClusterFingerprinter(client))
    assert len(rep.added) == len(paths) and not rep.failed
    _same_library(open_library(remote), open_library(local))
    # two shards, each held by one worker; lookups fan out and merge
    lib_dir = str(tmp_path / "shards")
    for chunk in (paths[:3], paths[3:]):
        index_shards(lib_dir, chunk, fingerprinter=ClusterFingerprinter(client))
    shards = open_shards(lib_dir)
    lookup = ClusterLookup(client, [s.path for s in shards.shards])
    assert len(set(lookup.home.values())) == 2
    ref = [r.matches for r in identify_paths(open_library(local), queries)]
    assert [m[0].track for m in ref] == ["Song 701", "Song 704", "Song 705"]
    assert [r.matches for r in identify_paths(as_shards(shards, parts_fn=lookup), queries)] == ref


@pytest.mark.slow
def test_cli_cluster_option(songs, client, tmp_path):
    d, paths, queries, local = songs
    env = {**os.environ, "SYNCFP_CLUSTER": client.scheduler.address}
    lib_dir = str(tmp_path / "cli-shards") + os.sep

    def run(*args):
        return subprocess.run([sys.executable, "-m", "syncfp", *args], capture_output=True, text=True,
                              timeout=120, env=env)

    r = run("index", *paths[:4], "--library", lib_dir, "-q")
    assert r.returncode == 0, r.stderr
    r = run("identify", *queries[:2], "--library", lib_dir, "--format", "json")
    assert r.returncode == 0, r.stderr
    got = [json.loads(x)["matches"] for x in r.stdout.splitlines()]
    assert got[0][0]["track"] == "Song 701" and got[1] == []  # Song 704 is not in these four
    from syncfp.runners.cluster import ClusterError, connect

    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        connect("tcp://127.0.0.1:1", timeout_s=1.0)


@pytest.mark.slow
def test_align_through_the_cluster_equals_local(client, master, tmp_path, monkeypatch):
    from conftest import make_clip

    from syncfp.sync import api

    monkeypatch.setenv("SYNCFP_CACHE", str(tmp_path / "shared-cache"))  # on a shared filesystem in real use
    clips = [make_clip(tmp_path, "a.m4a", master, 0.0, 30.0, seed=1),
             make_clip(tmp_path, "b.mp4", master, 12.5, 25.0, seed=2, ppm=80.0),
             make_clip(tmp_path, "c.wav", master, 30.0, 20.0, seed=3)]
    local = api.align(clips, cache=False, workers=1)
    remote = api.align(clips, fingerprinter=ClusterFingerprinter(client, keep_audio=True))
    assert [(c.group, c.error) for c in remote.clips] == [(c.group, c.error) for c in local.clips]
    for a, b in zip(local.clips, remote.clips):
        assert a.offset_s == pytest.approx(b.offset_s, abs=1e-9)


@pytest.mark.slow
def test_worker_killed_mid_index_loses_and_duplicates_nothing(songs, tmp_path):
    d, paths, queries, local = songs
    killed = []
    with _cluster() as cluster, distributed.Client(cluster) as c:
        pids = c.run(os.getpid)

        def progress(done: int, total: int, hours: float) -> None:
            if done >= 1 and not killed:  # a worker still has tasks: kill it
                busy = [w for w, tasks in c.processing().items() if tasks] or list(pids)
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])

        out = str(tmp_path / "killed.sfp")
        rep = index_files(out, paths, fingerprinter=ClusterFingerprinter(c), progress=progress, batch=len(paths))
    assert killed and len(rep.added) == len(paths) and not rep.failed
    lib = open_library(out)
    assert sorted(t.sha256 for t in lib.tracks) == sorted({t.sha256 for t in lib.tracks})
    _same_library(lib, open_library(local))
