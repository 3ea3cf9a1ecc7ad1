"""identify on real encoded media: noisy AAC clips named with the right offset, unknown songs unmatched,
JSON Lines for batches, setlists of long recordings, speed-changed clips."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.signal import resample_poly

from conftest import write_songs

from bench import encode, synth
from syncfp.library.api import identify_paths
from syncfp.library.identify import SPEED_SEARCH, IdentifyConfig
from syncfp.library.build import index_files
from syncfp.library.store import open_library

RATE = 22050
SEEDS = (400, 401, 402, 403)  # indexed
STRANGER = 499  # never indexed


def _song(seed: int) -> np.ndarray:
    return synth.concert(30.0, rate_hz=RATE, seed=seed, tempo_bpm=90 + 4 * (seed % 9))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("identify")
    audio = {s: _song(s) for s in (*SEEDS, STRANGER)}
    paths = write_songs(d, audio, SEEDS, stem="track", title="Track", rate_hz=RATE)
    lib_path = str(d / "songs.sfp")
    index_files(lib_path, paths, workers=2)
    return d, audio, lib_path


def _clip(audio, seed: int, start_s: float, length_s: float, path: str, *, snr_db: float = 5.0) -> str:
    """A phone-like recording of the song from *start_s*: EQ, room, crowd noise, then AAC at 48 kHz."""
    x = audio[seed][int(start_s * RATE) : int((start_s + length_s) * RATE)]
    y = synth.device(x, rate_hz=RATE, seed=seed, snr_db=snr_db, eq="phone", reverb_s=0.3)
    encode.write(path, resample_poly(y, 320, 147).astype(np.float32), rate_hz=48000, bitrate=64000)
    return path


def _sha256(path: str) -> str:
    import hashlib

    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "syncfp", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_noisy_aac_clips_named_with_offset_and_strangers_unmatched(setup):
    d, audio, lib_path = setup
    cases = [(401, 11.37), (403, 17.9), (400, 2.25)]
    queries = [_clip(audio, s, t, 6.0, str(d / f"q{s}.mp4")) for s, t in cases]
    queries.append(_clip(audio, STRANGER, 8.0, 10.0, str(d / "stranger.mp4")))
    r = _cli("identify", *queries, "--library", lib_path, "--format", "json")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]  # JSON Lines: one object per query
    assert [o["query"] for o in lines] == queries
    for (seed, start), o in zip(cases, lines):
        best = o["matches"][0]
        assert set(best) == {"track", "path", "id", "offset", "score", "confidence", "speed", "also_at", "peaks", "level"}
        assert best["track"] == f"Track {seed}" and best["speed"] == 1.0
        assert best["path"] == str(d / f"track{seed}.m4a") and best["id"] == _sha256(best["path"])
        assert abs(best["offset"] - start) <= 0.05
        assert 0.5 <= best["confidence"] <= 1.0
    assert lines[-1]["matches"] == []
    r = _cli("identify", queries[-1], "--library", lib_path)
    assert r.returncode == 0 and "no match" in r.stdout


@pytest.mark.slow
def test_setlist_of_a_long_recording(setup):
    d, audio, lib_path = setup
    rate = RATE
    parts = [audio[402][int(5 * rate) : int(25 * rate)], audio[STRANGER][: int(12 * rate)],
             audio[400][int(3 * rate) : int(21 * rate)]]
    concert = synth.device(np.concatenate(parts), rate_hz=rate, seed=9, snr_db=10.0, eq="camera", reverb_s=0.4)
    path = str(d / "concert.mp4")
    encode.write(path, concert, rate_hz=rate)
    lib = open_library(lib_path)
    (res,) = identify_paths(lib, [path], segments=True)
    assert [s.track for s in res.segments] == ["Track 402", "Track 400"]
    first, second = res.segments
    # recording time t plays the track at offset_s + (t - start_s): exact on the 32 ms grid
    assert abs((first.offset_s - first.start_s) - 5.0) <= 0.05
    assert abs((second.offset_s - second.start_s) - (3.0 - 32.0)) <= 0.05
    # edges: within the first/last hashes that matched in noise (a couple of seconds at most)
    assert first.start_s <= 2.5 and abs(first.end_s - 20) <= 2.5
    assert abs(second.start_s - 32) <= 2.5 and abs(second.end_s - 50) <= 2.5
    r = _cli("identify", path, "--library", lib_path, "--segments", "--format", "json")
    obj = json.loads(r.stdout)
    assert [s["track"] for s in obj["segments"]] == ["Track 402", "Track 400"]
    assert [s["path"] for s in obj["segments"]] == [str(d / "track402.m4a"), str(d / "track400.m4a")]
    assert [s["id"] for s in obj["segments"]] == [_sha256(s["path"]) for s in obj["segments"]]


def test_speed_changed_clip_found_with_speed_search(setup):
    d, audio, lib_path = setup
    x = audio[403][int(8 * RATE) : int(20 * RATE)]
    fast = resample_poly(x, 100, 104).astype(np.float32)  # played 4 % fast: shorter and higher
    path = str(d / "fast.wav")
    encode.write(path, fast, rate_hz=RATE)
    lib = open_library(lib_path)
    (plain,) = identify_paths(lib, [path], cfg=IdentifyConfig(fallback_speeds=()))
    cfg = IdentifyConfig(speeds=SPEED_SEARCH)
    (found,) = identify_paths(lib, [path], cfg=cfg)
    assert found.matches and found.matches[0].track == "Track 403"
    assert abs(found.matches[0].offset_s - 8.0) <= 0.1 and found.matches[0].speed == pytest.approx(1.04)
    assert not plain.matches or plain.matches[0].score < found.matches[0].score


@pytest.mark.slow
def test_two_tracks_with_the_same_tags_told_apart(tmp_path):
    """Two different songs tagged alike: each clip names its own file (path and sha256), the table shows the
    file names, and `library list` gives every track's path and id."""
    songs = {s: synth.concert(20.0, rate_hz=RATE, seed=s, tempo_bpm=96 + 3 * (s % 5)) for s in (431, 432)}
    paths = []
    for s, y in songs.items():
        p = str(tmp_path / f"take{s}.m4a")
        encode.write(p, y, rate_hz=RATE, metadata={"title": "Same Song", "artist": "Same Band"})
        paths.append(p)
    lib_path = str(tmp_path / "same.sfp")
    index_files(lib_path, paths, workers=1)
    clips = [_clip(songs, s, 6.0, 6.0, str(tmp_path / f"clip{s}.mp4")) for s in songs]
    r = _cli("identify", *clips, "--library", lib_path, "--format", "json", "--top", "1")
    assert r.returncode == 0, r.stderr
    best = [json.loads(line)["matches"][0] for line in r.stdout.splitlines()]
    assert [b["track"] for b in best] == ["Same Band - Same Song"] * 2
    assert [b["path"] for b in best] == paths and [b["id"] for b in best] == [_sha256(p) for p in paths]
    r = _cli("identify", clips[1], "--library", lib_path, "--top", "1")
    assert r.returncode == 0 and "Same Band - Same Song (take432.m4a)" in r.stdout
    r = _cli("library", "list", "--library", lib_path, "--format", "json")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert sorted((o["path"], o["id"]) for o in rows) == sorted((p, _sha256(p)) for p in paths)


def test_speed_changed_clip_found_without_a_flag(setup):
    """A phone recording of a track played 3 % fast is named (track, speed, offset) with no option given:
    nothing is found at normal speed, so the ±5 % speeds are tried. (The stranger stays unmatched with the
    same default: test_noisy_aac_clips_named_with_offset_and_strangers_unmatched.)"""
    d, audio, lib_path = setup
    fast = {401: resample_poly(audio[401][int(4 * RATE) : int(14 * RATE)], 100, 103).astype(np.float32)}
    path = _clip(fast, 401, 0.0, 8.0, str(d / "fast3.mp4"), snr_db=10.0)
    lib = open_library(lib_path)
    (plain,) = identify_paths(lib, [path], cfg=IdentifyConfig(fallback_speeds=()))
    assert not plain.matches  # what the default found before: nothing
    r = _cli("identify", path, "--library", lib_path, "--format", "json")
    assert r.returncode == 0, r.stderr
    best = json.loads(r.stdout)["matches"][0]
    assert best["track"] == "Track 401" and best["speed"] == 1.03 and abs(best["offset"] - 4.0) <= 0.1


@pytest.mark.slow
def test_clip_under_speech_babble_at_0_db_identified(setup, tmp_path):
    """Four talkers (espeak-ng sentences cut into words and re-pitched, as the hard bench makes them; its
    noise babble when espeak-ng is missing) as loud as the music, then a phone's EQ and AAC: named with
    its offset. (Synthesized music: the issue's 0-of-16 was on real game music, docs/library.md.)"""
    from bench.concert import _talker, espeak_pool

    d, audio, lib_path = setup
    pool, _ = espeak_pool(str(tmp_path), seed=3, n=16)
    rng = np.random.default_rng(12)
    x = audio[402][int(9.5 * RATE) : int(19.5 * RATE)].astype(np.float64)
    talk = sum(_talker(x.size, pool, rng, rate_hz=RATE, busy=0.8) for _ in range(4))
    y = x / np.std(x) + talk / np.std(talk)  # 0 dB SNR
    path = str(d / "babble.mp4")
    y = synth.device(y.astype(np.float32), rate_hz=RATE, seed=3, snr_db=None, eq="phone")
    encode.write(path, resample_poly(y, 320, 147).astype(np.float32), rate_hz=48000, bitrate=64000)
    (res,) = identify_paths(open_library(lib_path), [path])
    assert res.matches and res.matches[0].track == "Track 402" and res.matches[0].speed == 1.0
    assert abs(res.matches[0].offset_s - 9.5) <= 0.1


CROWD_SEEDS = tuple(range(410, 423))  # 12 songs indexed; the last is never indexed


@pytest.fixture(scope="module")
def crowd_songs(tmp_path_factory):
    """The 12-song library the crowd tests query, the songs' audio and an espeak-ng sentence pool."""
    from bench.concert import espeak_pool

    d = tmp_path_factory.mktemp("crowd")
    audio = {s: _song(s) for s in CROWD_SEEDS}
    paths = write_songs(d, audio, CROWD_SEEDS[:-1], stem="track", title="Track", rate_hz=RATE)
    lib_path = str(d / "songs.sfp")
    index_files(lib_path, paths, workers=2)
    pool, _ = espeak_pool(str(d), seed=3, n=16)
    return audio, lib_path, pool


def _crowd_clips(out_dir, audio, pool, *, louder_db: float, rng_base: int, length_s: float = 10.0) -> list[str]:
    """*length_s* phone clips (EQ, AAC) of the first six songs and the unknown one, from 5 + k s, under six
    talkers *louder_db* louder than the music."""
    from bench.concert import _talker

    queries = []
    for k, s in enumerate((*CROWD_SEEDS[:6], CROWD_SEEDS[-1])):
        rng = np.random.default_rng(rng_base + k)
        x = audio[s][int((5.0 + k) * RATE) : int((5.0 + k + length_s) * RATE)].astype(np.float64)
        talk = sum(_talker(x.size, pool, rng, rate_hz=RATE, busy=0.8) for _ in range(6))
        y = x / np.std(x) + talk / np.std(talk) * 10 ** (louder_db / 20)
        y = synth.device(y.astype(np.float32), rate_hz=RATE, seed=3, snr_db=None, eq="phone")
        queries.append(str(out_dir / f"crowd{k}.mp4"))
        encode.write(queries[-1], resample_poly(y, 320, 147).astype(np.float32), rate_hz=48000, bitrate=64000)
    return queries


def _named(res) -> list[bool]:
    """Whether each of the six known clips' top match is its song within 50 ms of where it was cut."""
    return [bool(r.matches) and r.matches[0].track == f"Track {s}" and abs(r.matches[0].offset_s - 5.0 - k) <= 0.05
            for k, (r, s) in enumerate(zip(res[:6], CROWD_SEEDS))]


@pytest.mark.slow
def test_clips_under_louder_speech_named_and_a_stranger_not(crowd_songs, tmp_path):
    """Six talkers 5 dB louder than the music, 10-s phone clips (EQ, AAC) against 12 songs: a look's chance
    level is the mean of its other leading tracks, not its one runner-up nor a floor that grows with the
    denser second look's hashes (with those, 2 of these 6 clips were named). An unknown song under the
    same crowd stays unnamed."""
    audio, lib_path, pool = crowd_songs
    queries = _crowd_clips(tmp_path, audio, pool, louder_db=5.0, rng_base=100)  # -5 dB SNR
    res = list(identify_paths(open_library(lib_path), queries))
    named = [bool(r.matches) and r.matches[0].track == f"Track {s}" and abs(r.matches[0].offset_s - 5.0 - k) <= 0.1
             for k, (r, s) in enumerate(zip(res[:6], CROWD_SEEDS))]
    assert sum(named) >= 5, named
    assert res[6].matches == []


@pytest.mark.slow
def test_clips_whose_hashes_drown_in_speech_are_named_by_their_peaks(crowd_songs, tmp_path):
    """Six talkers 8 dB louder than the music: some 10-s phone clips keep too few hash pairs for any look
    to rate, yet their peaks still sit on the song's (`peakcheck`). Those are named, at the right offset,
    only with the peak check; nothing else changes, and an unknown song stays unnamed."""
    audio, lib_path, pool = crowd_songs
    queries = _crowd_clips(tmp_path, audio, pool, louder_db=8.0, rng_base=200)  # -8 dB SNR
    lib = open_library(lib_path)
    with_check = list(identify_paths(lib, queries))
    without = list(identify_paths(lib, queries, cfg=IdentifyConfig(peak_check=False, level_check=False,
                                                                    joint_check=False)))
    # (+2 and two clips by their peaks where this was written; +1 and one on a fresh install of 2026-12-05,
    # the same code: the margin moves with the environment's AAC and resampling, the mechanism does not)
    assert sum(_named(with_check)) >= 5 and sum(_named(with_check)) >= sum(_named(without)) + 1
    by_peaks = [k for k, r in enumerate(with_check[:6]) if r.matches and r.matches[0].peaks and not r.matches[0].level]
    assert len(by_peaks) >= 1 and all(_named(with_check)[k] for k in by_peaks)
    assert all(r.matches == [] or (r.matches[0].peaks == 0 and r.matches[0].level == 0) for r in without)
    assert with_check[6].matches == [] and without[6].matches == []
    r = _cli("identify", queries[by_peaks[0]], "--library", lib_path)  # the table says how it was named
    assert r.returncode == 0 and f"({with_check[by_peaks[0]].matches[0].peaks} peaks)" in r.stdout, r.stdout


@pytest.mark.slow
def test_clips_whose_peaks_drown_in_speech_are_named_by_the_level_at_the_songs_peaks(crowd_songs, tmp_path):
    """Six talkers 14 dB louder than the music: the song's peaks are no longer maxima of the clip's
    spectrogram, so neither hashes nor peaks name some clips; the clip is still louder where the song has
    its peaks (`levelcheck`). Those are named at the right offset only with the level check; an unknown
    song under the same crowd stays unnamed; JSON and the table say how it was named."""
    audio, lib_path, pool = crowd_songs
    queries = _crowd_clips(tmp_path, audio, pool, louder_db=14.0, rng_base=200)  # -14 dB SNR
    lib = open_library(lib_path)
    with_check = list(identify_paths(lib, queries))
    without = list(identify_paths(lib, queries, cfg=IdentifyConfig(level_check=False, joint_check=False)))
    assert sum(_named(with_check)) >= sum(_named(without)) + 1  # (+2 where this was written: 5 against 3)
    by_level = [k for k, r in enumerate(with_check[:6]) if r.matches and r.matches[0].level and not r.matches[0].peaks]
    assert len(by_level) >= 1 and all(_named(with_check)[k] for k in by_level)
    assert all(r.matches == [] or r.matches[0].level == 0 for r in without)
    assert with_check[6].matches == [] and without[6].matches == []
    r = _cli("identify", queries[by_level[0]], "--library", lib_path, "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["matches"][0]["level"] >= 6.0, r.stdout
    r = _cli("identify", queries[by_level[0]], "--library", lib_path)
    assert r.returncode == 0 and "(level " in r.stdout, r.stdout


@pytest.mark.slow
def test_short_clips_under_speech_named_by_peaks_and_level_together(crowd_songs, tmp_path):
    """Six talkers 6 dB louder than the music, 2-s phone clips: too few peaks for the peak check's mark and
    too little level for the level check's, but where the clip's peaks fall and how loud it is at the song's
    peaks, taken together (`identify._joint_check`), name some at the right offset that nothing else names.
    The unknown song stays unnamed; JSON carries both figures and the table says how it was named."""
    audio, lib_path, pool = crowd_songs
    queries = _crowd_clips(tmp_path, audio, pool, louder_db=6.0, rng_base=300, length_s=2.0)
    lib = open_library(lib_path)
    with_check = list(identify_paths(lib, queries))
    without = list(identify_paths(lib, queries, cfg=IdentifyConfig(joint_check=False)))
    assert sum(_named(with_check)) >= sum(_named(without)) + 1  # (+2 where this was written: 6 against 4)
    joint = [k for k, r in enumerate(with_check[:6]) if r.matches and r.matches[0].peaks and r.matches[0].level]
    assert len(joint) >= 1 and all(_named(with_check)[k] for k in joint)
    assert all(not (without[k].matches and _named(without)[k]) for k in joint)  # named only together
    assert with_check[6].matches == [] and without[6].matches == []
    r = _cli("identify", queries[joint[0]], "--library", lib_path, "--format", "json")
    best = json.loads(r.stdout)["matches"][0]
    assert r.returncode == 0 and best["peaks"] > 0 and best["level"] != 0, r.stdout
    r = _cli("identify", queries[joint[0]], "--library", lib_path)
    assert r.returncode == 0 and " peaks, level " in r.stdout, r.stdout


def test_a_clip_inside_a_repeated_passage_names_both_offsets(tmp_path):
    """A song whose seconds 4-12 come back sample for sample at 20-28 (a loop): a clip from inside the
    passage names one offset and the other in `also_at`, in JSON and in the table; a clip from a part
    heard once has no `also_at`."""
    x = _song(430)
    x[20 * RATE : 28 * RATE] = x[4 * RATE : 12 * RATE]
    (path,) = write_songs(tmp_path, {430: x}, (430,), stem="loop", title="Loop", rate_hz=RATE)
    lib_path = str(tmp_path / "loop.sfp")
    index_files(lib_path, [path], workers=1)
    inside = _clip({430: x}, 430, 6.0, 5.0, str(tmp_path / "inside.mp4"), snr_db=15.0)
    once = _clip({430: x}, 430, 13.0, 5.0, str(tmp_path / "once.mp4"), snr_db=15.0)
    r = _cli("identify", inside, once, "--library", lib_path, "--format", "json")
    assert r.returncode == 0, r.stderr
    a, b = (json.loads(line)["matches"][0] for line in r.stdout.splitlines())
    assert sorted(round(v) for v in (a["offset"], *a["also_at"])) == [6, 22]
    assert abs(b["offset"] - 13.0) <= 0.1 and b["also_at"] == []
    table = _cli("identify", inside, "--library", lib_path)
    assert " or " in table.stdout


@pytest.mark.slow
def test_a_repeat_with_other_fills_is_told_apart_by_its_peaks(tmp_path):
    """A passage that comes back with another part over it (seconds 4-12 again at 20-28, a second melody
    6 dB down on top). A clip of the plain occurrence holds few of the second part's peaks: a match put at
    the repeat (as tied votes may) moves to the occurrence whose stored peaks hold the clip's
    (`identify._repeat_pick`) and keeps the repeat in `also_at`; one already there stays. (A clip of the
    varied occurrence is not told apart this way: its peaks sit on both. docs/library.md, "Which repeat".)"""
    from dataclasses import replace

    from syncfp.audio.extract import extract
    from syncfp.library.identify import _repeat_pick, identify_audio

    x = _song(431)
    x[20 * RATE : 28 * RATE] = x[4 * RATE : 12 * RATE] + 0.5 * _song(432)[: 8 * RATE]
    (path,) = write_songs(tmp_path, {431: x}, (431,), stem="verse", title="Verse", rate_hz=RATE)
    lib_path = str(tmp_path / "verse.sfp")
    index_files(lib_path, [path], workers=1)
    lib = open_library(lib_path)
    fp = extract(_clip({431: x}, 431, 6.0, 5.0, str(tmp_path / "plain.mp4"), snr_db=10.0),
                 cfg=lib.cfg, cache_dir=None, work_dir=str(tmp_path), hashes=False)
    q = np.fromfile(fp.pcm_path, dtype=np.int16)  # the analysis-rate audio `identify` reads
    (m, *_), _ = identify_audio(lib, q)
    assert abs(m.offset_s - 6.0) <= 0.1
    wrong = replace(m, offset_s=22.0, also_at=(m.offset_s,), confidence=1.0)  # as if the votes had tied the other way
    (picked,) = _repeat_pick(lib, q, IdentifyConfig(), [wrong])
    assert abs(picked.offset_s - 6.0) <= 0.1 and picked.also_at == (22.0,)
    (kept,) = _repeat_pick(lib, q, IdentifyConfig(), [replace(m, also_at=(22.0,), confidence=1.0)])
    assert kept.offset_s == m.offset_s and kept.also_at == (22.0,)
    (unsure,) = _repeat_pick(lib, q, IdentifyConfig(), [replace(wrong, confidence=0.3)])  # not reported: left
    assert unsure.offset_s == 22.0
    (off,) = _repeat_pick(lib, q, IdentifyConfig(repeat_pick=None), [wrong])
    assert off is wrong


def test_a_place_the_track_repeats_is_named_though_the_votes_missed_it(tmp_path):
    """A song whose seconds 4-12 come back sample for sample 20.014 s in (off the library's frame grid, so
    the hash votes split unevenly between the two). Whatever the votes named, the match names both places:
    the library's own stored peaks say the passage repeats and the clip's peaks fit there as well
    (`identify._named_repeats`). A clip of a part heard once gets nothing added; the rule can be turned off."""
    from dataclasses import replace

    from syncfp.audio.extract import extract
    from syncfp.library.identify import _named_repeats, identify_audio

    x = _song(433)
    at = 20 * RATE + 301
    x[at : at + 8 * RATE] = x[4 * RATE : 12 * RATE]
    (path,) = write_songs(tmp_path, {433: x}, (433,), stem="loop2", title="Loop", rate_hz=RATE)
    lib_path = str(tmp_path / "loop2.sfp")
    index_files(lib_path, [path], workers=1)
    lib = open_library(lib_path)

    def query(start_s: float, name: str) -> np.ndarray:
        fp = extract(_clip({433: x}, 433, start_s, 5.0, str(tmp_path / name), snr_db=10.0),
                     cfg=lib.cfg, cache_dir=None, work_dir=str(tmp_path), hashes=False)
        return np.fromfile(fp.pcm_path, dtype=np.int16)

    q = query(6.0, "inside.mp4")
    (m, *_), _ = identify_audio(lib, q)
    places = (6.0, 22.0 + 301 / RATE)
    bare = replace(m, also_at=())  # as if the votes had named one place only
    (named,) = _named_repeats(lib, q, IdentifyConfig(), [bare])
    got = sorted((named.offset_s, *named.also_at))
    assert len(got) == 2 and all(abs(g - p) <= 0.1 for g, p in zip(got, places)), got
    assert named.offset_s == m.offset_s and named.confidence == m.confidence
    (off,) = _named_repeats(lib, q, IdentifyConfig(self_repeat_share=None), [bare])
    assert off is bare
    q1 = query(13.5, "once.mp4")
    (m1, *_), _ = identify_audio(lib, q1)
    assert abs(m1.offset_s - 13.5) <= 0.1 and m1.also_at == ()


def test_unreadable_query_is_one_line(setup):
    d, _, lib_path = setup
    bad = str(d / "bad.mp3")
    with open(bad, "wb") as fh:
        fh.write(b"not audio at all" * 10)
    r = _cli("identify", bad, "--library", lib_path, "--format", "json")
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert json.loads(r.stdout)["matches"] == []


@pytest.mark.slow
def test_align_with_library_marks_songs_on_the_timeline(setup):
    d, audio, lib_path = setup
    concert = np.concatenate([audio[402][int(5 * RATE) : int(25 * RATE)], audio[400][int(3 * RATE) : int(21 * RATE)]])
    cams = []
    for k, (a, b) in enumerate(((0.0, 30.0), (12.0, 38.0))):
        y = synth.device(concert[int(a * RATE) : int(b * RATE)], rate_hz=RATE, seed=20 + k, snr_db=15.0,
                         eq="camera", reverb_s=0.3)
        p = str(d / f"cam{k}.m4a")
        encode.write(p, y, rate_hz=RATE)
        cams.append(p)
    r = _cli("align", *cams, "--library", lib_path, "--format", "json", "--no-cache", "-q")
    assert r.returncode == 0, r.stderr
    (group,) = json.loads(r.stdout)["groups"]
    marks = [(m["title"], m["start"], m["end"]) for m in group["markers"]]
    assert [m[0] for m in marks] == ["Track 402", "Track 400"]
    assert marks[0][1] <= 2.5 and abs(marks[0][2] - 20) <= 2.5
    assert abs(marks[1][1] - 20) <= 2.5 and abs(marks[1][2] - 38) <= 2.5


def test_paired_count_keeps_every_candidate_exact():
    """Dropping lone votes before counting changes no candidate offset (smoothed count ≥ 2) nor its count."""
    from syncfp.library.identify import _count, _count_paired, _smooth

    rng = np.random.default_rng(5)
    key = np.concatenate([rng.integers(-300, 5_000_000, 200_000), np.full(9, 1234), [77, 78, 4_999_990]])
    u, c = _count(key)
    s = _smooth(u, c)
    up, cp = _count_paired(key)
    sp = _smooth(up, cp)
    assert np.array_equal(u[s >= 2], up[sp >= 2]) and np.array_equal(s[s >= 2], sp[sp >= 2])
    assert up.dtype == np.int64 and cp.sum() < c.sum() // 5  # most votes here are lone


def test_tagged_count_keeps_every_strong_offset_exact():
    """Votes of several shifts, tagged with their shift in the low bits, counted with the lone and paired
    votes dropped first: every frame offset with a smoothed count of 3 or more keeps its exact count."""
    from syncfp.library.identify import SHIFT_BITS, _count, _count_paired, _frames, _smooth, _tag

    rng = np.random.default_rng(7)
    passes = [np.concatenate([rng.integers(10_000, 4_000_000, 60_000), np.full(4, 1234 + k), [5000, 5001 + k]])
              for k in range(3)]  # shift k sees the same landmarks k/3 of a frame later: at +0, +0.33, +0.67
    tagged = np.concatenate([_tag(p.astype(np.int32), k, 3, wide=False) for k, p in enumerate(passes)])
    fu, fc, _ = _frames(_count(tagged))
    full = _smooth(fu, fc)
    pu, pc, _ = _frames(_count_paired(tagged, SHIFT_BITS, least=3))
    part = _smooth(pu, pc)
    assert np.array_equal(fu[full >= 3], pu[part >= 3]) and np.array_equal(full[full >= 3], part[part >= 3])
    # rounded back to the unshifted grid: shift 1's votes stay at 1235, shift 2's come back to 1235 too
    assert part.max() == 12 and set(pu[part == 12]) == {1234, 1235}
    assert pc.sum() < fc.sum() // 20
    assert (tagged[-1] >> SHIFT_BITS, tagged[-1] & 3) == (5003 - 1, 2)  # shift 2 of 3: 2/3 of a frame later


@pytest.mark.slow
def test_votes_the_stored_peaks_do_not_bear_out_are_not_reported(setup, tmp_path):
    """A match rated by hash votes alone under `corroborate_below` keeps its confidence only where the
    query's peaks sit on the track's stored peaks: at the clip's true place it stays, at a place in another
    track (what votes lined up by noise look like) it drops under `min_confidence`; a sure one is not checked."""
    from dataclasses import replace

    from syncfp.audio.decode import stream_audio
    from syncfp.library.identify import _corroborate, identify_audio

    d, audio, lib_path = setup
    lib = open_library(lib_path)
    q = _clip(audio, 401, 9.0, 5.0, str(tmp_path / "q.mp4"), snr_db=5.0)
    x = np.concatenate(list(stream_audio(q, rate_hz=lib.cfg.rate_hz)[1])).astype(np.float32)
    cfg = IdentifyConfig()
    right = identify_audio(lib, x, cfg)[0][0]
    assert right.track == "Track 401" and abs(right.offset_s - 9.0) <= 0.05 and not (right.peaks or right.level)
    other = next(k for k, t in enumerate(lib.tracks) if t.name == "Track 403")
    wrong = replace(right, track="Track 403", track_index=other, offset_s=12.0, confidence=0.8)
    got = _corroborate(lib, x, cfg, [replace(right, confidence=0.8), wrong])
    assert [m.track for m in got] == ["Track 401"] and got[0].confidence > 0.7
    sure = replace(wrong, confidence=0.97)
    assert _corroborate(lib, x, cfg, [sure]) == [sure]


def test_library_peak_ranking_leaves_align_alone():
    """The level weight and level maxima exist for libraries only: align's parameters, and so its digest,
    do not move."""
    from syncfp.config import FingerprintConfig
    from syncfp.library.store import LIBRARY_FINGERPRINT

    assert FingerprintConfig().level_weight == 0.0 and not FingerprintConfig().peak_on_level
    assert FingerprintConfig().digest() == "d901c7f70833e982"  # the digest before the fields existed
    assert LIBRARY_FINGERPRINT.level_weight > 0.0 and LIBRARY_FINGERPRINT.peak_on_level


def test_the_bench_counts_a_sample_for_sample_repeat_as_the_clips_own_audio():
    """`bench.identify.same_audio` checks the bench's truth: a place where the clean track repeats the clip's
    passage sample for sample (within the answer's ±0.1 s) holds the clip's own audio; another passage of
    the same song, or a place past the track's end, does not."""
    from bench.identify import RATE, same_audio

    rng = np.random.default_rng(5)
    loop = rng.standard_normal(4 * RATE).astype(np.float32)
    other = rng.standard_normal(4 * RATE).astype(np.float32)
    x = np.concatenate([loop, other, loop, rng.standard_normal(2 * RATE).astype(np.float32)])
    assert same_audio(x, 1.0, 9.0, 2.0)  # the loop again, 8 s later
    assert same_audio(x, 1.0, 9.05, 2.0)  # an answer 50 ms off the repeat: within the tolerance
    assert not same_audio(x, 1.0, 5.0, 2.0)  # another passage
    assert not same_audio(x, 1.0, 13.5, 2.0)  # runs past the end
