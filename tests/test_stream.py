"""The streamed pair join (`engine.stream`) gives the one-chunk join's lines exactly, whatever the chunk size."""

from __future__ import annotations

import numpy as np
import pytest

from syncfp.config import FingerprintConfig, MatchConfig
from syncfp.engine import hashtable as index_mod
from syncfp.engine.match import join_anchors, usable_postings
from syncfp.engine.stream import ONE_CHUNK, chunk_groups, plan, run_chunks, stream_lines
from syncfp.types import Hashes

from conftest import make_clip

SEG = 4  # frames per segment in the handmade index: long clips span many segments


def _handmade(seed: int = 0) -> tuple[index_mod.Index, list[int]]:
    """Five items sharing one 'song' of hashes at known offsets (one drifting), plus random hashes from a
    small alphabet so buckets collide a lot; item 0 is long, so a small chunk must cut it."""
    rng = np.random.default_rng(seed)
    song_h = rng.integers(0, 400, 600).astype(np.uint32)
    song_t = np.sort(rng.integers(0, 300, 600))
    items, n_frames = [], []
    for start, length, rate in [(0, 300, 1.0), (40, 120, 1.0), (100, 150, 1.002), (200, 90, 1.0), (0, 60, 1.0)]:
        keep = (song_t >= start) & (song_t < start + length)
        t = np.round((song_t[keep] - start) * rate).astype(np.int32)
        noise_t = rng.integers(0, length, length // 2).astype(np.int32)
        h = np.concatenate([song_h[keep], rng.integers(0, 400, noise_t.size).astype(np.uint32)])
        items.append(Hashes(h, np.concatenate([t, noise_t]), length + 1))
        n_frames.append(length + 1)
    return index_mod.build(items), n_frames


def _as_tuples(lines: dict) -> dict:
    return {k: (v.offset, v.slope, v.t_ref, v.slope_step, v.support, v.second, v.hits, v.z, v.alternatives)
            for k, v in lines.items()}


def test_plan_covers_every_hit_once_within_the_budget():
    """Chunks are runs of whole clips within the budget, or one clip with a range of partner clips; their
    anchors and partner ranges cover every (anchor, partner clip) exactly once."""
    idx, n_frames = _handmade()
    mc = MatchConfig(min_support=3, min_z=0.0)
    pl = plan(idx, n_frames=n_frames, cfg=mc, seg_frames=SEG, max_pairs=60)
    assert np.array_equal(np.sort(pl.anchors), usable_postings(idx, mc))
    n = len(n_frames)
    seen = np.zeros((pl.anchors.size, n), int)
    for (s, e), (lo, hi), pairs in zip(pl.spans, pl.partners, pl.pairs):
        seen[s:e, lo:hi] += 1
        clips = set(idx.items[pl.anchors[s:e]].tolist())
        assert pairs <= 60 or len(clips) == 1
    assert np.all(seen[:, 1:].sum(axis=1) >= 1)
    a = idx.items[pl.anchors]
    for i in range(pl.anchors.size):  # every later clip exactly once per anchor
        assert np.all(seen[i, a[i] + 1 :] == 1)
    assert any(hi - lo < n for lo, hi in pl.partners)  # some clip's partners are split


def _assert_same_lines(idx, n_frames, mc, seg, max_pairs, *, min_lines):
    """Streamed in chunks of *max_pairs* or in one: the same lines, screened or not."""
    for screen in (True, False):
        ref = stream_lines(idx, n_frames, mc, seg, screen=screen, max_pairs=ONE_CHUNK)
        got = stream_lines(idx, n_frames, mc, seg, screen=screen, max_pairs=max_pairs)
        assert len(ref) >= min_lines
        assert _as_tuples(got) == _as_tuples(ref)


@pytest.mark.parametrize("max_pairs", [1, 7, 60, 500])
def test_streamed_lines_equal_one_chunk_on_a_handmade_index(max_pairs):
    idx, n_frames = _handmade()
    mc = MatchConfig(min_support=3, min_z=0.0)
    _assert_same_lines(idx, n_frames, mc, SEG, max_pairs, min_lines=4)


def test_one_chunk_join_is_every_bucket_with_itself():
    """The join's cells are every cross-item pair of postings of a usable bucket, counted by brute force."""
    idx, n_frames = _handmade(seed=1)
    mc = MatchConfig()
    max_frames = max(n_frames) + 1
    cells = join_anchors(idx, usable_postings(idx, mc), n_items=len(n_frames), max_frames=max_frames, seg_frames=SEG)
    want: dict[tuple[int, int, int, int], int] = {}
    for k in range(idx.keys.size):
        s, e = idx.starts[k], idx.starts[k + 1]
        if not 2 <= e - s <= mc.max_bucket:
            continue
        for i in range(s, e):
            for j in range(i + 1, e):
                if idx.items[i] != idx.items[j]:
                    key = (int(idx.items[i]), int(idx.items[j]), int(idx.frames[i]) // SEG,
                           int(idx.frames[j]) - int(idx.frames[i]))
                    want[key] = want.get(key, 0) + 1
    got = {(int(a), int(b), int(s), int(d)): int(c)
           for a, b, s, d, c in zip(cells.a, cells.b, cells.seg, cells.dt, cells.count)}
    assert got == want


@pytest.fixture(scope="module")
def encoded_batch(master, other_master, tmp_path_factory):
    """A mid-size batch of real encoded clips (two events, phones, drifting devices, every codec) → its hash
    table, frame counts and segment length."""
    from syncfp.audio.extract import fingerprint_files

    tmp_path = tmp_path_factory.mktemp("stream")
    specs = []
    for i, (start, length) in enumerate([(0, 95), (3, 40), (30, 50), (55, 40), (70, 25), (10, 12), (42, 8)]):
        specs.append((f"e1/c{i}.{['m4a', 'mp3', 'flac', 'wav'][i % 4]}", master, start, length, 40.0 * i))
    for i, (start, length) in enumerate([(0, 58), (5, 20), (25, 30), (40, 15)]):
        specs.append((f"e2/p{i}.{['m4a', 'mp3'][i % 2]}", other_master, start, length, -60.0 * i))
    paths = [make_clip(tmp_path, name, m, s, n, ppm=ppm, snr_db=10.0 + i, seed=i, eq="phone",
                       reverb_s=0.05, rate_hz=16000)
             for i, (name, m, s, n, ppm) in enumerate(specs)]
    fcfg, mc = FingerprintConfig(), MatchConfig()
    fps, errors = fingerprint_files(paths, cfg=fcfg, cache_dir=None, work_dir=str(tmp_path), workers=2)
    assert not any(errors)
    idx = index_mod.build([f.hashes for f in fps])
    return idx, [f.hashes.n_frames for f in fps], max(1, int(round(mc.segment_s / fcfg.hop_s)))


@pytest.mark.slow
def test_streamed_lines_equal_one_chunk_on_encoded_media(encoded_batch):
    """Chunks of a few thousand candidate hits, long clips' partners split, give every pair's lines exactly."""
    idx, n_frames, seg = encoded_batch
    mc = MatchConfig()
    one = plan(idx, n_frames=n_frames, cfg=mc, seg_frames=seg, max_pairs=ONE_CHUNK)
    small = max(1, one.total_pairs // 40)
    many = plan(idx, n_frames=n_frames, cfg=mc, seg_frames=seg, max_pairs=small)
    assert many.pairs.size > 30 and any(hi - lo < len(n_frames) for lo, hi in many.partners)
    _assert_same_lines(idx, n_frames, mc, seg, small, min_lines=8)


def test_chunk_groups_cover_every_chunk_and_merge_to_the_same_lines():
    idx, n_frames = _handmade()
    mc = MatchConfig(min_support=3, min_z=0.0)
    pl = plan(idx, n_frames=n_frames, cfg=mc, seg_frames=SEG, max_pairs=7)
    groups = chunk_groups(pl, 3)
    assert [c for g in groups for c in g] == list(range(pl.pairs.size)) and len(groups) >= 2
    ref = stream_lines(idx, n_frames, mc, SEG, max_pairs=ONE_CHUNK)
    merged = {}
    for g in reversed(groups):
        merged.update(run_chunks(idx, pl, n_frames, mc, SEG, screen=True, chunks=g))
    assert _as_tuples(merged) == _as_tuples(ref)


@pytest.mark.slow
def test_cluster_join_equals_local_on_a_local_cluster(encoded_batch):
    """`--cluster`'s pair join on a 2-worker LocalCluster: the same lines as the local streamed join."""
    distributed = pytest.importorskip("distributed")
    from syncfp.runners.cluster import ClusterMatcher

    idx, n_frames, seg = encoded_batch
    mc = MatchConfig()
    small = max(1, plan(idx, n_frames=n_frames, cfg=mc, seg_frames=seg, max_pairs=ONE_CHUNK).total_pairs // 40)
    ref = stream_lines(idx, n_frames, mc, seg, max_pairs=small)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=":0", silence_logs=50) as cluster, distributed.Client(cluster) as client:
        seen = []
        got = ClusterMatcher(client)(idx, n_frames, mc, seg, max_pairs=small, progress=lambda d, t: seen.append(t))
    assert len(seen) >= 4
    assert _as_tuples(got) == _as_tuples(ref)
