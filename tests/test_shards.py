"""Sharded libraries on real encoded files: N shards, the compacted shard and one library file give the same
matches, offsets, scores and setlists; dedup across shards; CLI on a folder; remove."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from scipy.signal import resample_poly

from conftest import write_songs

from bench import encode, synth
from syncfp.library.api import identify_paths
from syncfp.library.build import index_files
from syncfp.library.store import open_library
from syncfp.library.shards import compact, index_shards, open_any, open_shards, remove_from_shards

RATE = 22050
SEEDS = (610, 611, 612, 613, 614)


def _song(seed: int) -> np.ndarray:
    return synth.concert(24.0, rate_hz=RATE, seed=seed, tempo_bpm=88 + 3 * (seed % 11))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("shards")
    audio = {s: _song(s) for s in SEEDS}
    songs = write_songs(d, audio, SEEDS, stem="song", title="Song", rate_hz=RATE)
    single = str(d / "one.sfp")
    index_files(single, songs, workers=2)
    shard_dir = str(d / "lib")
    for chunk in (songs[:2], songs[2:3], songs[3:]):  # three runs, three shards
        index_shards(shard_dir, chunk, workers=2)
    queries = []
    for k, (s, start, length) in enumerate([(611, 3.3, 5.0), (613, 12.1, 4.0), (614, 0.0, 8.0), (610, 15.0, 2.0)]):
        x = audio[s][int(start * RATE) : int((start + length) * RATE)]
        y = synth.device(x, rate_hz=RATE, seed=k, snr_db=8.0, eq="phone", reverb_s=0.2)
        q = str(d / f"q{k}.mp4")
        encode.write(q, resample_poly(y, 320, 147).astype(np.float32), rate_hz=48000, bitrate=64000)
        queries.append(q)
    # a 30 s "concert": two songs back to back, for the setlist
    mix = np.concatenate([audio[612][: 15 * RATE], audio[610][5 * RATE : 20 * RATE]])
    concert = str(d / "concert.m4a")
    encode.write(concert, synth.device(mix, rate_hz=RATE, seed=9, snr_db=15.0), rate_hz=RATE)
    return d, songs, single, shard_dir, queries, concert


def _results(lib, paths, segments=False):
    return [(r.matches, r.segments) for r in identify_paths(lib, paths, segments=segments)]


@pytest.mark.slow
def test_shards_give_the_merged_librarys_answers(built):
    d, songs, single, shard_dir, queries, concert = built
    shards = open_shards(shard_dir)
    one = open_library(single)
    assert len(shards.shards) == 3
    assert [(t.name, t.base, t.n_frames) for t in shards.tracks] == [(t.name, t.base, t.n_frames) for t in one.tracks]
    assert shards.n_postings == one.n_postings and shards.n_keys == one.keys.shape[0]
    for t in one.tracks:  # the peak check reads the same peaks through the shards' virtual frames
        mine = one.peaks_in(t.base, t.base + t.n_frames)
        assert mine.size and np.array_equal(shards.peaks_in(t.base, t.base + t.n_frames), mine)
    ref = _results(one, queries)
    assert [m[0].track for m, _ in ref[:3]] == ["Song 611", "Song 613", "Song 614"]
    assert _results(shards, queries) == ref  # same tracks, offsets, scores, confidences
    assert _results(shards, [concert], segments=True) == _results(one, [concert], segments=True)
    # compacted: one file with the same layout and answers
    copy = str(d / "lib-compact")
    shutil.copytree(shard_dir, copy)
    assert compact(copy, target_bytes=1 << 40) == (3, 1)
    merged = open_shards(copy)
    assert len(merged.shards) == 1 and len(os.listdir(copy)) == 3  # manifest, its lock, one shard
    assert np.array_equal(merged.shards[0].postings, one.postings)
    assert np.array_equal(merged.shards[0].keys, one.keys)
    assert np.array_equal(merged.shards[0].peaks, one.peaks) and np.array_equal(merged.shards[0].peak_starts, one.peak_starts)
    assert _results(merged, queries) == ref


@pytest.mark.slow
def test_shards_skip_known_tracks_and_remove(built, tmp_path):
    d, songs, single, shard_dir, queries, concert = built
    lib_dir = str(tmp_path / "lib")
    index_shards(lib_dir, songs[:2])
    rep = index_shards(lib_dir, songs[:3])  # two known (in shard 1), one new
    assert len(rep.added) == 1 and len(rep.skipped) == 2
    rep = index_shards(lib_dir, songs[:3])  # nothing new: no empty shard left behind
    assert rep.added == [] and len(open_shards(lib_dir).shards) == 2
    assert sorted(f for f in os.listdir(lib_dir) if f.endswith(".sfp")) == ["shard-000001.sfp", "shard-000002.sfp"]
    gone = remove_from_shards(lib_dir, ["Song 611"])
    assert [t.name for t in gone] == ["Song 611"]
    lib = open_any(lib_dir)
    assert [t.name for t in lib.tracks] == ["Song 610", "Song 612"]
    assert next(identify_paths(lib, [queries[0]])).matches == []


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "syncfp", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_cli_on_a_folder(built, tmp_path):
    d, songs, single, shard_dir, queries, concert = built
    lib_dir = str(tmp_path / "cli-lib") + os.sep
    for chunk in (songs[:2], songs[2:]):
        r = _cli("index", *chunk, "--library", lib_dir, "-q")
        assert r.returncode == 0, r.stderr
    r = _cli("library", "info", "--library", lib_dir, "--format", "json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["tracks"] == 5 and info["shards"] == 2
    r = _cli("identify", queries[1], "--library", lib_dir, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["matches"][0]["track"] == "Song 613"
    r = _cli("library", "compact", "--library", lib_dir)
    assert r.returncode == 0, r.stderr
    assert len(open_shards(lib_dir).shards) == 1
