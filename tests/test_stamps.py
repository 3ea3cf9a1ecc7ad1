"""Recording clocks (`sync.stamps`): start times read from names and tags, and the narrow search they allow
for a clip that no fingerprint line or envelope proposes."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pytest

from conftest import make_clip
from syncfp.config import MatchConfig, RescueConfig
from syncfp.engine.solve import solve
from syncfp.sync.stamps import _agreed, contradicted, stamp_of
from syncfp.types import Fingerprint, Hashes, MediaInfo, PairMatch


def _t(*args) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


def _info(tag: str | None) -> MediaInfo:
    return MediaInfo(path="x", duration_s=1.0, sample_rate_hz=48000, channels=1, codec="aac", creation_time=tag)


@pytest.mark.parametrize("name, want", [
    ("VID_20260612_210148.mp4", _t(2026, 6, 12, 21, 1, 48)),
    ("PXL_20260612_210148123.mp4", _t(2026, 6, 12, 21, 1, 48) + 0.123),
    ("2026-06-12 21-03-41.mkv", _t(2026, 6, 12, 21, 3, 41)),
    ("Audio_20260612_230016.flac", _t(2026, 6, 12, 23, 0, 16)),
    ("cam/IMG_20260612_070809.jpg.mov", _t(2026, 6, 12, 7, 8, 9)),
])
def test_start_time_from_the_file_name(name, want):
    st = stamp_of(name, _info("2020-01-01T00:00:00Z"))
    assert st is not None and st.source == "name" and abs(st.t - want) < 1e-6


def test_tag_when_the_name_has_no_time_and_nothing_from_an_unset_clock():
    st = stamp_of("IMG_2455.MOV", _info("2026-06-12T21:01:48.000000Z"))
    assert st is not None and st.source == "tag" and st.t == _t(2026, 6, 12, 21, 1, 48)
    assert stamp_of("IMG_2455.MOV", _info("1970-01-01T00:00:00Z")) is None
    assert stamp_of("IMG_2455.MOV", _info(None)) is None
    assert stamp_of("C0001.MP4", _info("not a date")) is None
    assert stamp_of("VID_20261399_250000.mp4", _info(None)) is None  # no such day: not a time
    assert stamp_of("GX012475.MP4", None) is None


def test_a_clock_reading_is_the_agreeing_majority_or_the_only_one():
    assert _agreed([10.0]) == 10.0  # alone it can only send the search to a place that holds nothing
    assert _agreed([10.0, 10.4, 99.0]) == pytest.approx(10.2)
    assert _agreed([10.0, 50.0]) is None
    assert _agreed([10.0, 50.0, 50.5, 51.0, 90.0]) == pytest.approx(50.5)


@pytest.mark.slow
def test_a_clip_nothing_else_finds_is_placed_near_its_clock_and_only_there(tmp_path, master):
    """Hash lines, the envelope rescue and the sweep are switched off: only the stamps in the names can
    propose the offset. Right names → placed to 1 ms; no times in the names, or a clock 30 s off → left unplaced."""
    import syncfp

    off = MatchConfig(min_support=10**9)  # no fingerprint line is ever trusted
    no_rescue = RescueConfig(anchors=0, sweep_anchors=0)  # nor the low-band sweep (it sweeps lost clips too)
    cam = make_clip(tmp_path, "t/PXL_20260612_210000000.mp4", master, 5.0, 70.0, eq="none", snr_db=20, seed=1)
    phone = make_clip(tmp_path, "t/VID_20260612_210031.mp4", master, 36.2, 20.0, eq="phone", snr_db=3,
                      reverb_s=0.8, ppm=40, seed=2)

    def run(paths):
        return syncfp.align(paths, match=off, rescue_cfg=no_rescue, cache=False, workers=1)

    al = run([cam, phone])
    a, b = al.clips
    assert a.group == b.group is not None
    assert abs((b.offset_s - a.offset_s) - 31.2) < 0.001
    assert b.error_ms is not None and b.error_ms < 1.0

    plain = [shutil.copy(p, os.path.join(tmp_path, n)) for p, n in ((cam, "cam.mp4"), (phone, "phone.mp4"))]
    assert all(c.group is None for c in run(plain).clips)

    wrong = shutil.copy(phone, os.path.join(tmp_path, "t", "VID_20260612_210101.mp4"))  # 30 s late clock
    assert all(c.group is None for c in run([cam, wrong]).clips)


@pytest.mark.slow
def test_a_phones_utc_tag_is_tried_in_every_zone_before_any_device_shows_it(tmp_path, master):
    """An iPhone clip whose only clock is its UTC ``creation_time`` tag, beside two phones whose names keep
    local time (UTC+2; placed together by their names), and no device that shows the zone: each quarter-hour
    zone that puts the clip beside the named clips is searched narrowly (hashes, envelope rescue and low-band
    sweep off). Placed to 1 ms; a tag 7.5 min off every zone (a hand-set clock), or no tag at all, leaves it
    unplaced — until the low-band sweep is switched on, which finds it without any clock."""
    import syncfp
    from bench import encode
    from conftest import cut

    off = MatchConfig(min_support=10**9)
    cam = make_clip(tmp_path, "t/PXL_20260612_210000000.mp4", master, 5.0, 70.0, eq="none", snr_db=20, seed=1)
    other = make_clip(tmp_path, "t/VID_20260612_210010.mp4", master, 15.0, 40.0, eq="phone", snr_db=15, seed=4)
    audio = cut(master, 36.2, 20.0, eq="phone", snr_db=3, reverb_s=0.8, ppm=40, seed=2)

    def phone(name: str, tag: str | None) -> str:
        path = os.path.join(tmp_path, "t", name)
        encode.write(path, audio, rate_hz=48000, metadata={"creation_time": tag} if tag else None)
        return path

    def run(path: str, sweep: int = 0):
        return syncfp.align([cam, other, path], match=off, rescue_cfg=RescueConfig(anchors=0, sweep_anchors=sweep),
                            cache=False, workers=1).clips

    a, o, b = run(phone("IMG_0231.mp4", "2026-06-12T19:00:31.000000Z"))  # 21:00:31 local
    assert a.group == o.group == b.group is not None
    assert abs((b.offset_s - a.offset_s) - 31.2) < 0.001 and abs((o.offset_s - a.offset_s) - 10.0) < 0.001
    for name, tag in (("IMG_0232.mp4", "2026-06-12T19:08:01.000000Z"), ("IMG_0233.mp4", None)):
        a, o, b = run(phone(name, tag))
        assert a.group == o.group is not None and b.group is None
    # with no tag, the whole-clip low-band sweep (`sync.sweep`, off above) still finds it, to 1 ms
    a, o, b = run(phone("IMG_0234.mp4", None), sweep=RescueConfig().sweep_anchors)
    assert a.group == o.group == b.group is not None and abs((b.offset_s - a.offset_s) - 31.2) < 0.001


def _fp(path: str, dur: float, tag: str | None) -> Fingerprint:
    empty = Hashes(hash=np.zeros(0, np.uint32), frame=np.zeros(0, np.int32), n_frames=0)
    return Fingerprint(path=path, info=_info(tag), hashes=empty, duration_s=dur, pcm_path="", rate_hz=8000,
                       rms_db=-20.0)


def _edge(a: int, b: int, off: float) -> PairMatch:
    return PairMatch(a=a, b=b, offset_s=off, rate=1.0, support=8, z=9.0, ratio=1.1, trusted=True)


def test_a_weak_edge_between_two_takes_of_one_camera_that_their_clock_denies_is_dropped():
    """C2070 then C2071, 167 s apart by the camera's (minutes-off, hand-set) clock: a weak edge that makes
    them overlap (a repeat 80 s away) is dropped; the same edge at the clock's distance, or strong, stays.
    Two phones' network-timed names are one clock too; a camera and a phone are not."""
    fps = [_fp("f/C2070.MP4", 152.0, "2026-06-12T21:04:55Z"), _fp("f/C2071.MP4", 264.0, "2026-06-12T21:07:42Z"),
           _fp("f/VID_20260612_210100.mp4", 100.0, None), _fp("f/VID_20260612_210300.mp4", 100.0, None)]
    sol = solve(4, [], [f.duration_s for f in fps])  # nothing placed: no group clock readings to consult
    edges = [_edge(0, 1, 87.5), _edge(0, 1, 166.6), _edge(2, 3, 40.0), _edge(2, 3, 121.0), _edge(0, 2, 900.0)]
    assert contradicted(sol, edges, [True] * 5, fps) == [0, 2]
    assert contradicted(sol, edges, [False] * 5, fps) == []


@pytest.mark.slow
def test_windows_too_weak_alone_are_summed_over_the_clocks_range(tmp_path, master):
    """A phone at -18 dB SNR in a 2.5-s reverb: of the normal check's 12 GCC-PHAT windows no three agree
    anywhere in the clock's ±2.5 s, but their curves summed along one line stand far above chance there
    (hashes and envelope rescue off, as above). Placed to 1 ms; with the summed search switched off and 12
    windows, left unplaced."""
    import syncfp

    off = MatchConfig(min_support=10**9)
    cam = make_clip(tmp_path, "t/PXL_20260612_210000000.mp4", master, 5.0, 70.0, eq="none", snr_db=20, seed=1,
                    fast_noise=False)
    phone = make_clip(tmp_path, "t/VID_20260612_210031.mp4", master, 36.2, 20.0, eq="phone", snr_db=-18,
                      reverb_s=2.5, ppm=40, seed=3, fast_noise=False)  # the band between the two is narrow

    def run(**summed):
        cfg = RescueConfig(anchors=0, **summed)
        return syncfp.align([cam, phone], match=off, rescue_cfg=cfg, cache=False, workers=1).clips

    a, b = run()
    assert a.group == b.group is not None and abs((b.offset_s - a.offset_s) - 31.2) < 0.001
    inf = float("inf")
    assert all(c.group is None for c in run(timed_stack_z=inf, timed_checked_z=inf, timed_windows=12))


def test_a_clock_line_too_weak_for_the_normal_check_is_checked_by_the_searchs_own_windows(tmp_path, master,
                                                                                          other_master):
    """A far phone at -22 dB SNR in a 2.5-s reverb, 20 s long, searched 0.7 s from the truth (its clock): the
    summed windows find the line, but the normal check's windows confirm nothing there; checked again by the
    search's own windows (`RescueConfig.timed_dense_check`), the line stands, within 0.1 ms. The same phone
    playing other music is found nowhere, with or without."""
    from syncfp.audio.extract import fingerprint_files
    from syncfp.config import FingerprintConfig, VerifyConfig
    from syncfp.sync.verify import search_near

    cam = make_clip(tmp_path, "cam.mp4", master, 5.0, 70.0, eq="none", snr_db=20, seed=1, fast_noise=False)
    phone = make_clip(tmp_path, "phone.mp4", master, 30.0, 20.0, eq="phone", snr_db=-22, reverb_s=2.5, ppm=40,
                      seed=3, fast_noise=False)  # the band where one check fails and the other holds is narrow
    other = make_clip(tmp_path, "other.mp4", other_master, 30.0, 20.0, eq="phone", snr_db=-22, reverb_s=2.5,
                      ppm=40, seed=3, fast_noise=False)
    fps, _ = fingerprint_files([cam, phone, other], cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path),
                               workers=1)
    prior = PairMatch(a=0, b=1, offset_s=25.7, rate=1.0, support=0, z=0.0, ratio=1.0, trusted=False)

    def found(fp, dense):
        return search_near(prior, fps[0], fp, VerifyConfig(), RescueConfig(timed_dense_check=dense))

    assert found(fps[1], False) is None
    ev = found(fps[1], True)
    assert ev is not None and abs(ev.edge.offset_s - 25.0) < 1e-4
    assert found(fps[2], False) is None and found(fps[2], True) is None


@pytest.mark.slow
def test_short_phone_clips_vote_for_a_camera_clock_nothing_else_relates(tmp_path, master):
    """A camera runs through the set with no usable clock; four 6-s phone clips (names by network time)
    match nothing alone (hashes off, the envelope rescue proposes nothing). Their best envelope lags against
    the camera, turned into the camera's start by each phone's clock, agree on one reading, and the narrow
    search then places every clip to 1 ms; without the vote, none is placed."""
    import syncfp

    off = MatchConfig(min_support=10**9)
    cam = make_clip(tmp_path, "t/C0007.MP4", master, 2.0, 95.0, eq="camera", snr_db=20, seed=1)
    starts = [(20.4, "VID_20260612_210019.mp4"), (47.9, "VID_20260612_210047.mp4"),
              (71.3, "VID_20260612_210110.mp4"), (83.0, "PXL_20260612_210122540.mp4")]
    phones = [make_clip(tmp_path, "t/" + n, master, s, 6.0, eq="phone", snr_db=0, reverb_s=1.0, ppm=30,
                        seed=10 + k) for k, (s, n) in enumerate(starts)]

    def run(cfg: RescueConfig):
        return syncfp.align([cam, *phones], match=off, rescue_cfg=cfg, cache=False, workers=2).clips

    clips = run(RescueConfig(candidates=0))
    assert all(c.group == clips[0].group is not None for c in clips)
    for c, (s, _) in zip(clips[1:], starts):
        assert abs(c.offset_s - clips[0].offset_s - (s - 2.0)) < 0.001
    assert all(c.group is None for c in run(RescueConfig(candidates=0, vote_min_clips=99)))


def test_phone_tags_in_utc_are_read_as_network_time_once_a_device_shows_the_zone():
    """Names are local time, iPhone tags UTC: one device whose tag reading sits two hours (a whole number of
    quarter hours) from its group's name reading gives the zone; a camera minutes off gives none."""
    from syncfp.sync.stamps import _tag_zone

    name = 1781298000.0
    assert _tag_zone({(0, "source:name"): name, (0, "device:f/IMG"): name - 7200.4}, 1.5) == -7200.0
    assert _tag_zone({(0, "source:name"): name, (0, "device:f/C"): name + 283.0}, 1.5) is None
    assert _tag_zone({(0, "source:name"): name, (0, "device:f/IMG"): name - 7200.0,
                      (1, "source:name"): name, (1, "device:f/MVI"): name - 3600.0}, 1.5) is None  # disagree


def test_numbered_files_that_their_clocks_show_recording_together_are_two_devices():
    """`one_device_takes`: C0041/C0042 are one camera's takes unless both tags say they overlap in time (a
    folder renamed into one series keeps each file's creation_time)."""
    from syncfp.sync.stamps import one_device_takes

    a = _fp("f/C0041.MP4", 60.0, "2026-06-12T21:00:00Z")
    assert one_device_takes(a, _fp("f/C0042.MP4", 60.0, "2026-06-12T21:01:10Z"))  # after it: its next take
    assert one_device_takes(a, _fp("f/C0042.MP4", 60.0, None))  # no clock: the names decide
    assert not one_device_takes(a, _fp("f/C0042.MP4", 60.0, "2026-06-12T21:00:20Z"))  # recording together
    assert not one_device_takes(a, _fp("g/C0042.MP4", 60.0, None))  # another folder


@pytest.mark.slow
def test_a_guessed_clock_reading_at_a_loops_repeat_places_nothing(tmp_path, master):
    """Loop music (12 s played 8 times, sample for sample): a camera with no usable clock and a 6-s phone
    clip. A voted reading of the camera's clock one loop period off puts the narrow search on a repeat,
    which the windows confirm as well as the truth: with the check off the clip is joined 12 s off. The
    camera repeats the stretch every 12 s and the clip fits each place, so a guessed reading cannot choose:
    nothing is placed, at the wrong reading or the right one."""
    from conftest import MASTER_RATE
    from syncfp.audio.extract import extract
    from syncfp.config import FingerprintConfig
    from syncfp.sync.stamps import _kind, clocks_of, timed_search

    loop = np.tile(master[int(20 * MASTER_RATE) : int(32 * MASTER_RATE)], 8)
    cam = make_clip(tmp_path, "t/C0007.MP4", loop, 2.0, 90.0, eq="camera", snr_db=20, seed=1)
    phone = make_clip(tmp_path, "t/VID_20260612_210040.mp4", loop, 42.5, 6.0, eq="phone", snr_db=10, seed=2)
    fps = [extract(p, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path)) for p in (cam, phone)]
    durations = [f.duration_s for f in fps]
    sol = solve(2, [], durations)
    clocks = clocks_of(fps)
    key = (0, _kind(clocks.stamps[1], clocks.devices[1]))
    true_reading = clocks.stamps[1].t - 40.5  # the phone's clock at the camera's first sample

    def search(reading: float, **cfg):
        return timed_search([1], fps, sol, durations, cfg=RescueConfig(**cfg), voted={key: reading}, clocks=clocks)

    (wrong,) = search(true_reading + 12.0, timed_repeat_veto=False)
    assert abs(wrong.offset_s - 28.5) < 0.01
    (right,) = search(true_reading, timed_repeat_veto=False)
    assert abs(right.offset_s - 40.5) < 0.001
    assert search(true_reading + 12.0) == [] and search(true_reading) == []


def test_the_clock_check_holds_edges_found_after_the_clock_rounds_too():
    """An edge from a later stage (a sweep, a clock search near a group that was split afterwards) joins two
    takes of one phone 40 s apart where their names put them 120 s apart: the final check drops it and says
    why; at the names' distance it stays."""
    from syncfp.config import RescueConfig, SolveConfig
    from syncfp.sync.api import _clock_checked

    fps = [_fp("f/VID_20260612_210100.mp4", 150.0, None), _fp("f/VID_20260612_210300.mp4", 150.0, None)]
    durations = [f.duration_s for f in fps]
    for off, kept in ((40.0, False), (120.0, True)):
        edges = [_edge(0, 1, off)]
        sol = solve(2, edges, durations)
        assert sol.group[0] == sol.group[1] >= 0
        sol, why = _clock_checked(sol, edges, fps, durations, SolveConfig(), RescueConfig())
        assert (len(edges) == 1) is kept and bool(sol.group[1] >= 0) is kept
        assert kept or "recording clock" in why[1]


def test_an_edge_is_read_at_the_clocks_of_its_ends_not_at_the_solves_compromise():
    """Three phones with network-timed names 40 s apart and a camera with no clock, 20 s after the first:
    the camera's edges to two phones agree with their clocks, its edge to the third is a repeat 30 s off. The
    solve puts the camera between; read at the clocks, only the repeat is contradicted. With one right edge
    and one repeat the camera's clocked partners tie, and neither is dropped."""
    fps = [_fp("f/VID_20260612_210000.mp4", 100.0, None), _fp("f/VID_20260612_210040.mp4", 100.0, None),
           _fp("f/VID_20260612_210120.mp4", 100.0, None), _fp("f/MVI_0001.MOV", 100.0, None)]
    durations = [f.duration_s for f in fps]
    edges = [_edge(0, 1, 40.0), _edge(1, 2, 40.0), _edge(0, 3, 20.0), _edge(1, 3, -20.0), _edge(2, 3, -30.0)]
    sol = solve(4, edges, durations)
    sol = replace(sol, group=np.zeros(4, np.int32), position_s=np.array([0.0, 40.0, 80.0, 35.0]))  # between
    assert contradicted(sol, edges, [True] * 5, fps) == [4]
    assert contradicted(sol, edges, [False] * 5, fps) == []  # strong edges are not judged by clocks
    tie = [edges[0], edges[1], edges[2], edges[4]]
    assert contradicted(sol, tie, [True] * 4, fps) == []


def test_a_repeat_seconds_from_where_a_network_clock_puts_a_clip_is_contradicted():
    """The hard bench's fresh21 short15: a camera with a hand-set clock and three short phone clips whose
    names carry network time, joined to the camera by weak (summed) edges. Two edges agree with the names;
    the third holds its clip at a repeat 8.35 s early, which the old 10-s tolerance let through (the clip was
    placed 8.35 s off at confidence 0.75). A name off by a second or two (whole seconds, network time) is
    not contradicted."""
    fps = [_fp("f/C2195.MP4", 300.0, "2026-06-12T21:31:07Z"), _fp("f/VID_20260612_210147.mp4", 9.0, None),
           _fp("f/VID_20260612_210408.mp4", 9.0, None), _fp("f/VID_20260612_210431.mp4", 9.0, None)]
    durations = [f.duration_s for f in fps]

    def judged(off: float, cfg: RescueConfig = RescueConfig()) -> list[int]:
        edges = [_edge(0, 1, off), _edge(0, 2, 217.0), _edge(0, 3, 240.0)]  # the camera started at 21:00:31
        return contradicted(solve(4, edges, durations), edges, [True] * 3, fps, cfg)

    assert judged(76.0 - 8.35) == [0]
    assert judged(76.0 - 8.35, RescueConfig(timed_contradicts_s=10.0)) == []  # what let it through
    assert judged(76.0) == [] and judged(76.0 - 1.8) == [] and judged(76.0 + 1.8) == []


def test_two_takes_of_one_phone_that_disagree_are_told_apart_by_the_other_clocks_in_their_zone():
    """A board recorder with no clock and phones each joined to it by one weak edge: two Android phones name
    files in local time (UTC+2), an iPhone memo and an iPhone camera tag in UTC. The camera's two takes are
    480 s apart by its tags, but the edge of the first holds it at a repeat 48 s early, so its device's
    readings disagree and give no reading at all. The take whose reading is the names' clock two hours
    off, as the memo's is, reads the camera's clock: the repeat is dropped, the right edges stay."""
    fps = [_fp("f/ZOOM0001.WAV", 1200.0, None),
           _fp("f/VID_20260612_210100.mp4", 90.0, None), _fp("f/VID_20260612_211000.mp4", 90.0, None),
           _fp("f/New Recording 7.m4a", 90.0, "2026-06-12T19:03:00Z"),
           _fp("f/IMG_0001.MOV", 90.0, "2026-06-12T19:05:00Z"), _fp("f/IMG_0002.MOV", 90.0, "2026-06-12T19:13:00Z")]
    durations = [f.duration_s for f in fps]
    edges = [_edge(0, 1, 60.0), _edge(0, 2, 600.0), _edge(0, 3, 180.0), _edge(0, 4, 300.0 - 48.0),
             _edge(0, 5, 780.0)]
    sol = solve(6, edges, durations)
    assert (sol.group == sol.group[0]).all()
    assert contradicted(sol, edges, [True] * 5, fps) == [3]
    off = RescueConfig(timed_zoned_origins=False)
    assert contradicted(sol, edges, [True] * 5, fps, off) == []  # the camera's two readings: no reading at all
    right = edges[:3] + [_edge(0, 4, 300.0)] + edges[4:]
    assert contradicted(solve(6, right, durations), right, [True] * 5, fps) == []


def test_a_clip_the_final_clock_check_left_out_is_searched_again_where_its_clock_now_puts_it(tmp_path, master):
    """The final clock check dropped a phone take's only edge (held at a repeat); its clock, read from the
    phone's other take now placed, puts it 40 s after that take. Searched there once more against the board,
    it is placed to 1 ms, and no longer carries the check's reason."""
    from syncfp.audio.extract import extract
    from syncfp.config import FingerprintConfig, SolveConfig, VerifyConfig
    from syncfp.sync.api import _researched
    from syncfp.sync.stamps import clocks_of

    paths = [make_clip(tmp_path, "ZOOM0001.WAV", master, 0.0, 100.0, eq="none", snr_db=25, seed=1),
             make_clip(tmp_path, "VID_20260612_210010.mp4", master, 10.0, 30.0, eq="phone", snr_db=8, seed=2),
             make_clip(tmp_path, "VID_20260612_210050.mp4", master, 50.0, 30.0, eq="phone", snr_db=8, seed=3)]
    fps = [extract(p, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path)) for p in paths]
    durations = [f.duration_s for f in fps]
    edges = [replace(_edge(0, 1, 10.0), refined=True, error_s=5e-5, windows=10)]
    sol = solve(3, edges, durations)
    assert sol.group[2] < 0
    clashed = {2: "its only matches put it where its recording clock says it cannot be"}
    sol, found = _researched(sol, edges, clashed, fps, durations, SolveConfig(), RescueConfig(), VerifyConfig(), 1,
                             clocks_of(fps))
    assert found and clashed == {} and len(edges) == 2
    assert sol.group[2] == sol.group[0] and abs(sol.position_s[2] - sol.position_s[0] - 50.0) < 1e-3


def test_a_clip_unplaced_for_no_reason_is_searched_near_its_clock_once_the_groups_are_final(tmp_path, master):
    """After the final clock check, a phone take still unplaced with no reason is searched where its device's
    reading (from its other take, placed) puts it, and placed to 1 ms; a take left out with a reason (a repeat,
    a clock clash) is not searched again and stays out."""
    from syncfp.audio.extract import extract
    from syncfp.config import FingerprintConfig, SolveConfig, VerifyConfig
    from syncfp.sync.api import _clock_final
    from syncfp.sync.stamps import clocks_of

    paths = [make_clip(tmp_path, "ZOOM0001.WAV", master, 0.0, 100.0, eq="none", snr_db=25, seed=1),
             make_clip(tmp_path, "VID_20260612_210010.mp4", master, 10.0, 30.0, eq="phone", snr_db=8, seed=2),
             make_clip(tmp_path, "VID_20260612_210050.mp4", master, 50.0, 30.0, eq="phone", snr_db=8, seed=3)]
    fps = [extract(p, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path)) for p in paths]
    durations = [f.duration_s for f in fps]

    def run(explained: dict[int, str]):
        edges = [replace(_edge(0, 1, 10.0), refined=True, error_s=5e-5, windows=10)]
        sol = solve(3, edges, durations)
        assert sol.group[2] < 0
        return _clock_final(sol, edges, explained, fps, durations, SolveConfig(), RescueConfig(), VerifyConfig(),
                            1, clocks_of(fps))

    sol, found = run({})
    assert found and sol.group[2] == sol.group[0] and abs(sol.position_s[2] - sol.position_s[0] - 50.0) < 1e-3
    sol, found = run({2: "its match lines up like a repeated passage played again"})
    assert not found and sol.group[2] < 0


def test_a_phone_with_one_take_is_judged_by_the_other_phones_network_clock():
    """Two takes of one Android phone and one take of a Pixel, all naming files in network time, each joined
    to a board by one weak edge; the Pixel's puts it 40 s from where its name says. Its device has only that
    take, whose reading is itself: the group's reading of the names (the two Android takes agree) judges
    it, and its edge is dropped. Right, it stays."""
    fps = [_fp("f/ZOOM0001.WAV", 300.0, None), _fp("f/VID_20260612_210010.mp4", 30.0, None),
           _fp("f/VID_20260612_210120.mp4", 30.0, None), _fp("f/PXL_20260612_210200000.mp4", 30.0, None)]
    durations = [f.duration_s for f in fps]
    for off, dropped in ((160.0, [2]), (120.0, [])):
        edges = [_edge(0, 1, 10.0), _edge(0, 2, 80.0), _edge(0, 3, off)]
        sol = solve(4, edges, durations)
        assert contradicted(sol, edges, [True] * 3, fps) == dropped


def test_a_camera_with_no_clock_is_searched_where_its_groups_phones_put_it_on_a_larger_group():
    """Two parts of one set: a board with two phones, and a camera joined to a Pixel whose network-timed
    name says the part starts 190 s into the board's. The camera has no clock of its own; its group's
    shared clock (the names) puts it 190 s into the board, and that is where it is searched. Switched off,
    or with the names disagreeing by more than a clock's slack, it is not."""
    from syncfp.sync.stamps import timed_hypotheses

    fps = [_fp("f/ZOOM0001.WAV", 300.0, None), _fp("f/VID_20260612_210010.mp4", 30.0, None),
           _fp("f/VID_20260612_210200.mp4", 30.0, None), _fp("f/C0005.MP4", 100.0, None),
           _fp("f/PXL_20260612_210330000.mp4", 30.0, None)]
    durations = [f.duration_s for f in fps]
    sol = solve(5, [_edge(0, 1, 10.0), _edge(0, 2, 120.0), _edge(3, 4, 20.0)], durations)
    assert sol.group[0] == sol.group[1] == sol.group[2] != sol.group[3] == sol.group[4]

    def camera(cfg: RescueConfig, sol=sol) -> list[tuple[int, float, bool]]:
        return [(p, round(off, 3), sure) for p, q, off, sure in timed_hypotheses([3], fps, sol, durations, cfg)]

    assert camera(RescueConfig()) == [(0, 190.0, True)]
    assert camera(RescueConfig(timed_group_shift=False)) == []
    late = _fp("f/VID_20260612_210205.mp4", 30.0, None)  # the board's phones now disagree by 5 s on the clock
    fps[2] = late
    assert camera(RescueConfig()) == []


def test_the_sweep_spares_anchors_the_clocks_put_at_another_concert_hours_away():
    """A festival's 21:00 and 23:00 sets, each a board and two phones named in network time. A lost phone
    clip named 23:05 cannot overlap the 21:00 board, nor can the 23:00 set's phones (their group's names
    read both timelines): `clock_apart` says so. It rules out nothing for the 23:00 board, for a clip with
    no clock, or for a phone named 15:00 (a clock in the wrong zone, far from every set)."""
    from syncfp.sync.stamps import clock_apart

    fps = [_fp("f/ZOOM0001.WAV", 900.0, None), _fp("f/VID_20260612_210010.mp4", 30.0, None),
           _fp("f/VID_20260612_210200.mp4", 30.0, None), _fp("f/ZOOM0002.WAV", 900.0, None),
           _fp("f/PXL_20260612_230010000.mp4", 30.0, None), _fp("f/PXL_20260612_230300000.mp4", 30.0, None),
           _fp("f/VID_20260612_230500.mp4", 30.0, None), _fp("f/Recording_0007.mp3", 30.0, None),
           _fp("f/VID_20260612_150500.mp4", 30.0, None)]
    durations = [f.duration_s for f in fps]
    edges = [_edge(0, 1, 10.0), _edge(0, 2, 120.0), _edge(3, 4, 10.0), _edge(3, 5, 180.0)]
    sol = solve(len(fps), edges, durations)
    apart = clock_apart(sol, fps, durations)
    assert apart(0, 6) and apart(6, 1) and not apart(3, 6) and not apart(4, 6)
    assert not apart(0, 7) and not apart(0, 8) and not apart(3, 8)
    assert apart(0, 4) and apart(3, 1) and not apart(3, 5)  # placed clips: through their groups' names
    assert not clock_apart(sol, fps, durations, RescueConfig(hint_reach_s=10 * 3600.0))(0, 6)


@pytest.mark.slow
def test_a_take_found_by_the_sweep_lends_its_camera_clock_to_a_short_take_searched_after_it(tmp_path, master):
    """A board and two takes of one camera (hand-set clock, `creation_time` tags 60 s apart), both at 3 dB
    SNR; fingerprint lines and the envelope rescue are off. The 40-s take is found only by the low-band
    sweep, which runs after the clock rounds; the 9-s take is too short to sweep and has no clock reading
    until its sibling is placed. Searched near its clock once more after the sweeps (`timed_late`), it is
    placed to 1 ms; without that search (and the one after the final clock check) it stays unplaced."""
    import syncfp
    from bench import encode
    from conftest import cut

    board = make_clip(tmp_path, "t/ZOOM0001.WAV", master, 2.0, 96.0, eq="none", snr_db=30, seed=1)

    def take(name: str, start: float, dur: float, tag: str, seed: int) -> str:
        path = os.path.join(tmp_path, "t", name)
        encode.write(path, cut(master, start, dur, eq="camera", snr_db=3, reverb_s=0.6, seed=seed), rate_hz=48000,
                     metadata={"creation_time": tag})
        return path

    long_take = take("C0001.MP4", 10.0, 40.0, "2026-06-12T18:23:10.000000Z", 2)
    short_take = take("C0002.MP4", 70.0, 9.0, "2026-06-12T18:24:10.000000Z", 3)
    off = MatchConfig(min_support=10**9)

    def run(late: bool, final: bool = False):
        return syncfp.align([board, long_take, short_take], match=off, cache=False, workers=1,
                            rescue_cfg=RescueConfig(anchors=0, timed_late=late, timed_final=final)).clips

    b, c1, c2 = run(True)
    assert b.group == c1.group == c2.group is not None
    assert abs((c1.offset_s - b.offset_s) - 8.0) < 0.001 and abs((c2.offset_s - b.offset_s) - 68.0) < 0.001
    b, c1, c2 = run(False)
    assert b.group == c1.group is not None and c2.group is None
    b, c1, c2 = run(False, final=True)  # the search after the final clock check finds it as well
    assert b.group == c2.group is not None and abs((c2.offset_s - b.offset_s) - 68.0) < 0.001


def test_an_edge_that_ties_with_a_repeat_moves_to_the_rival_the_clocks_accept():
    """A strong edge joins a board to a phone at a loop's repeat 20 s early; its windows confirmed the
    phone as well at the truth and one loop later (`PairMatch.rivals`). Two other phones' network-timed
    names agree on the clock, which puts the third phone at the truth: the edge moves there. Without rivals a
    strong edge is not judged by clocks; with two rivals the clocks accept, or none, it is dropped."""
    from syncfp.sync.stamps import clock_choices

    fps = [_fp("f/ZOOM0001.WAV", 120.0, None), _fp("f/VID_20260612_210005.mp4", 10.0, None),
           _fp("f/VID_20260612_210052.mp4", 10.0, None), _fp("f/PXL_20260612_210030000.mp4", 10.0, None)]
    durations = [f.duration_s for f in fps]
    tied = replace(_edge(0, 2, 32.0), rivals=(52.0, 72.0))
    edges = [_edge(0, 1, 5.0), tied, _edge(0, 3, 30.0)]
    sol = solve(4, edges, durations)
    strong = [False] * 3
    assert clock_choices(sol, edges, strong, fps) == ([], {1: 52.0})
    plain = [edges[0], _edge(0, 2, 32.0), edges[2]]
    assert clock_choices(sol, plain, strong, fps) == ([], {})
    for rivals in ((52.0, 52.4), (72.0,)):
        other = [edges[0], replace(tied, rivals=rivals), edges[2]]
        assert clock_choices(sol, other, strong, fps) == ([1], {})


@pytest.mark.slow
def test_a_loop_clip_joined_at_a_repeat_is_moved_by_the_phones_clocks_to_the_truth(tmp_path, master):
    """Loop music (12 s played 10 times, sample for sample) on a board with no clock, and three takes of a
    phone whose file names keep network time. The third take's 6-s clip is joined to the board a loop later
    than the truth, by an edge that carries the loop's other places it also confirms (`PairMatch.rivals`, as
    the envelope rescue keeps them). The other two takes' names agree on the clock, which accepts one rival:
    the clock check moves the edge there, confirmed by the check to 1 ms. With no rival the clock accepts
    the edge is dropped; with none at all, a strong edge is not judged."""
    from conftest import MASTER_RATE
    from syncfp.audio.extract import extract
    from syncfp.config import FingerprintConfig, SolveConfig
    from syncfp.sync.api import _clock_checked
    from syncfp.sync.stamps import clocks_of

    loop = np.tile(master[int(20 * MASTER_RATE) : int(32 * MASTER_RATE)], 10)
    board = make_clip(tmp_path, "ZOOM0001.WAV", loop, 0.0, 118.0, eq="none", snr_db=25, seed=1)
    starts = {"VID_20260612_210010.mp4": 10.0, "VID_20260612_210047.mp4": 47.0, "VID_20260612_210030.mp4": 30.5}
    phones = [make_clip(tmp_path, n, loop, t, 6.0, eq="phone", snr_db=12, seed=2 + k)
              for k, (n, t) in enumerate(starts.items())]
    fps = [extract(p, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path)) for p in [board, *phones]]
    durations = [f.duration_s for f in fps]

    def strong(b: int, off: float, rivals: tuple[float, ...] = ()) -> PairMatch:
        return replace(_edge(0, b, off), refined=True, error_s=5e-5, windows=10, tried=10, rivals=rivals)

    for rivals, moved in (((30.5, 54.5), True), ((54.5,), False), ((), False)):
        edges = [strong(1, 10.0), strong(2, 47.0), strong(3, 42.5, rivals)]
        sol = solve(4, edges, durations)
        sol, why = _clock_checked(sol, edges, fps, durations, SolveConfig(), RescueConfig(), clocks_of(fps))
        if moved:
            assert why == {} and abs(edges[2].offset_s - 30.5) < 1e-3 and 42.5 in edges[2].rivals
            assert abs(sol.position_s[3] - sol.position_s[0] - 30.5) < 1e-3
        elif rivals:  # no rival the clocks accept: dropped, the clip left out with the reason
            assert len(edges) == 2 and sol.group[3] < 0 and "recording clock" in why[3]
        else:  # a strong edge with no rival is not judged by clocks
            assert len(edges) == 3 and abs(edges[2].offset_s - 42.5) < 1e-9


@pytest.fixture(scope="module")
def hinted(tmp_path_factory, master, other_master):
    """Two phones placed by their audio, a third file of their network clock whose audio is another piece of
    music, and a file with no time in its name: the clips, and one plain `syncfp align` of all four (JSON,
    EDL, OTIO; the table at 400 columns), which the hint and `--place-by-clock` tests both read."""
    import json
    import subprocess
    import sys

    d = tmp_path_factory.mktemp("hinted")
    cam = make_clip(d, "t/PXL_20260612_210000000.mp4", master, 5.0, 70.0, eq="none", snr_db=20, seed=1)
    phone = make_clip(d, "t/VID_20260612_210031.mp4", master, 36.2, 20.0, eq="phone", snr_db=15, seed=2)
    lost = make_clip(d, "t/VID_20260612_210050.mp4", other_master, 10.0, 15.0, eq="phone", seed=3)
    plain = make_clip(d, "t/clip.mp4", other_master, 30.0, 15.0, eq="phone", seed=4)
    out, edl, tl = d / "t.json", d / "t.edl", d / "t.otio"
    run = subprocess.run([sys.executable, "-m", "syncfp", "align", cam, phone, lost, plain, "-o", str(out),
                          "-o", str(edl), "-o", str(tl), "--no-cache"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "400"})
    clips = {os.path.basename(c["path"]): c for c in json.loads(out.read_text())["clips"]} if out.exists() else {}
    edls = "\n".join(f.read_text() for f in d.glob("t*.edl"))  # one EDL per track
    return {"d": d, "paths": (cam, phone, lost, plain), "run": run, "clips": clips, "edls": edls, "otio": str(tl)}


@pytest.mark.slow
def test_an_unplaced_clip_gets_its_clocks_place_as_a_hint_never_as_a_placement(hinted):
    """Two phones placed by their audio read the network clock that names their files; a third file of
    that clock whose audio matches nothing (another piece of music) stays unplaced, with where its name puts
    it on their timeline (`clock_hint`) in JSON and the table, and in no editor's format. A file with no
    time in its name gets no hint."""
    import re

    run = hinted["run"]
    assert run.returncode == 0, run.stderr
    table = " ".join(re.sub(r"[│|]", " ", run.stdout + run.stderr).split())  # its cells wrap
    assert "its recording clock puts it near offset" in table  # the table says it
    clips = hinted["clips"]
    a, b, c = clips["PXL_20260612_210000000.mp4"], clips["VID_20260612_210031.mp4"], clips["VID_20260612_210050.mp4"]
    assert a["group"] == b["group"] is not None and abs((b["offset"] - a["offset"]) - 31.2) < 0.001
    assert c["group"] is None and c["offset"] is None  # not placed...
    hint = c["clock_hint"]  # ...but its name's second, 50 s after the first phone's, read on their timeline
    assert hint["group"] == a["group"] and hint["within"] > 0
    assert abs((hint["offset"] - a["offset"]) - 50.0) < 0.5  # the two placed names read 21:00:00 within 0.2 s
    assert clips["clip.mp4"]["clock_hint"] is None and clips["clip.mp4"]["group"] is None
    assert all(x["clock_hint"] is None for x in (a, b))
    edls = hinted["edls"]
    assert "PXL_20260612_210000000" in edls and "SYNCFP UNPLACED: VID_20260612_210050" in edls
    assert "VID_20260612_210050" not in "\n".join(
        line for line in edls.splitlines() if not line.startswith("*"))  # a comment lists it; no event


@pytest.mark.slow
def test_place_by_clock_lays_hinted_clips_on_lanes_of_their_own_only_when_asked(hinted, tmp_path):
    """`--place-by-clock`: the clip whose audio matches nothing goes where its name's clock puts it, on a
    ``clock …`` track with confidence 0 and its reach as error, in the OTIO an editor imports; without the
    option (the plain run `hinted` shares) it is only on the "Unplaced" track the OTIO writer keeps for
    left-outs."""
    import json
    import subprocess
    import sys

    import opentimelineio as otio

    cam, phone, lost, _ = hinted["paths"]

    def run(tag: str, *extra: str) -> tuple[dict, otio.schema.Timeline]:
        out, tl = tmp_path / f"{tag}.json", tmp_path / f"{tag}.otio"
        r = subprocess.run([sys.executable, "-m", "syncfp", "align", cam, phone, lost, "-o", str(out), "-o", str(tl),
                            "-q", "--no-cache", *extra], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        clips = {os.path.basename(c["path"]): c for c in json.loads(out.read_text())["clips"]}
        return clips, otio.adapters.read_from_file(str(tl))

    def tracks_of(tl) -> dict[str, tuple[str, float]]:
        """clip name → (track name, record start in seconds)."""
        out = {}
        for tr in tl.tracks:
            for it in tr.find_clips():
                out.setdefault(it.name, (tr.name, it.range_in_parent().start_time.to_seconds()))
        return out

    assert hinted["run"].returncode == 0, hinted["run"].stderr
    plain, tl = hinted["clips"], otio.adapters.read_from_file(hinted["otio"])
    assert plain["VID_20260612_210050.mp4"]["group"] is None
    assert [t for n, (t, _) in tracks_of(tl).items() if "210050" in n] == ["Unplaced"]  # listed apart, as ever

    clips, tl = run("clock", "--place-by-clock")
    a, c = clips["PXL_20260612_210000000.mp4"], clips["VID_20260612_210050.mp4"]
    assert c["group"] == a["group"] and c["confidence"] == 0.0 and c["offset_error_ms"] >= 1000
    assert abs((c["offset"] - a["offset"]) - 50.0) < 0.5 and "recording clock alone" in c["warning"]
    placed = tracks_of(tl)
    name = next(n for n in placed if "210050" in n)
    cam_name = next(n for n in placed if "210000000" in n)
    assert placed[name][0].startswith("clock ") and not placed[cam_name][0].startswith("clock")
    assert abs((placed[name][1] - placed[cam_name][1]) - 50.0) < 0.5


@pytest.mark.slow
def test_two_groups_of_one_concert_get_their_clocks_offset_and_are_laid_together_only_when_asked(tmp_path, master):
    """Two pairs of phone clips of one concert that no clip bridges (5-45 s and 50-80 s of the music) form
    two groups; their network-timed names put the second group's start 85 s into the first's
    timeline (JSON `groups[].clock_hint`, the table); `--place-by-clock` lays its clips there, on `clock …`
    lanes, their offset to each other kept to the ms."""
    import json
    import subprocess
    import sys

    a1 = make_clip(tmp_path, "t/PXL_20260612_210000000.mp4", master, 5.0, 40.0, eq="none", snr_db=20, seed=1)
    a2 = make_clip(tmp_path, "t/VID_20260612_210015.mp4", master, 20.2, 25.0, eq="phone", snr_db=15, seed=2)
    b1 = make_clip(tmp_path, "t/PXL_20260612_210125000.mp4", master, 50.0, 30.0, eq="none", snr_db=20, seed=3)
    b2 = make_clip(tmp_path, "t/VID_20260612_210132.mp4", master, 57.3, 20.0, eq="phone", snr_db=15, seed=4)

    def run(*extra: str) -> tuple[dict, list]:
        out = tmp_path / "t.json"
        r = subprocess.run([sys.executable, "-m", "syncfp", "align", a1, a2, b1, b2, "-o", str(out), "--no-cache",
                            *extra], capture_output=True, text=True, env={**os.environ, "COLUMNS": "300"})
        assert r.returncode == 0, r.stderr
        doc = json.loads(out.read_text())
        return {os.path.basename(c["path"]): c for c in doc["clips"]}, doc["groups"], r.stdout + r.stderr

    report = tmp_path / "t.html"
    clips, groups, said = run("--report", str(report))
    assert "Its recording clocks put its start near offset" in report.read_text()  # the HTML report too
    g_a, g_b = clips["PXL_20260612_210000000.mp4"]["group"], clips["PXL_20260612_210125000.mp4"]["group"]
    assert g_a is not None and g_b is not None and g_a != g_b  # no clip bridges 45-50 s: two groups
    assert clips["VID_20260612_210015.mp4"]["group"] == g_a and clips["VID_20260612_210132.mp4"]["group"] == g_b
    hint = {g["group"]: g["clock_hint"] for g in groups}
    assert hint[g_a] is None and hint[g_b]["group"] == g_a
    # b1 starts 45 s of music after a1, its name 85 s after a1's: the clocks say 85 s (not sound: the
    # music here is the master's, cut to test the clock arithmetic alone)
    at = hint[g_b]["offset"] + clips["PXL_20260612_210125000.mp4"]["offset"] - clips["PXL_20260612_210000000.mp4"]["offset"]
    assert abs(at - 85.0) < 0.5
    assert "its recording clocks put its start near offset" in " ".join(said.split())

    moved, groups, _ = run("--place-by-clock")
    b1m, b2m = moved["PXL_20260612_210125000.mp4"], moved["VID_20260612_210132.mp4"]
    assert b1m["group"] == b2m["group"] == moved["PXL_20260612_210000000.mp4"]["group"] and len(groups) == 1
    assert abs((b1m["offset"] - moved["PXL_20260612_210000000.mp4"]["offset"]) - 85.0) < 0.5
    assert abs((b2m["offset"] - b1m["offset"]) - (clips["VID_20260612_210132.mp4"]["offset"]
                                                  - clips["PXL_20260612_210125000.mp4"]["offset"])) < 2.5e-6  # four
    # offsets, each rounded to the µs in the JSON
    assert b1m["confidence"] == 0.0 and b1m["track"].startswith("clock ") and "recording clocks" in b1m["warning"]


def test_a_moved_groups_song_markers_move_with_it():
    """`--place-by-clock --library`: the songs heard in a group laid onto another by the clocks keep their
    place among its clips (shifted as its clips are), not dropped with the group's number."""
    from syncfp.export.timeline import Marker
    from syncfp.sync.byclock import markers_moved
    from syncfp.types import ClockHint

    moved = markers_moved({1: [Marker(0.0, 10.0, "a")], 2: [Marker(1.0, 5.0, "b")]}, {2: ClockHint(1, 100.0, 2.5)})
    assert moved == {1: [Marker(0.0, 10.0, "a"), Marker(101.0, 105.0, "b")]}


@pytest.mark.slow
def test_a_clip_left_out_as_unsure_keeps_its_clock_hint(tmp_path, master):
    """`--min-confidence 0.8` leaves out a clip whose only match is 5 s at another's end (a partial overlap
    says at most 0.5); its name's clock still says where it lies on the group it was matched into."""
    import json
    import subprocess
    import sys

    cam = make_clip(tmp_path, "t/PXL_20260612_210000000.mp4", master, 5.0, 70.0, eq="none", snr_db=20, seed=1)
    phone = make_clip(tmp_path, "t/VID_20260612_210031.mp4", master, 36.2, 20.0, eq="phone", snr_db=15, seed=2)
    other = make_clip(tmp_path, "t/PXL_20260612_210040000.mp4", master, 45.0, 20.0, eq="none", snr_db=20, seed=5)
    edge = make_clip(tmp_path, "t/VID_20260612_210105.mp4", master, 70.0, 20.0, eq="phone", snr_db=15, seed=3)
    out = tmp_path / "t.json"
    r = subprocess.run([sys.executable, "-m", "syncfp", "align", cam, phone, other, edge, "-o", str(out), "-q",
                        "--no-cache"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    plain = {os.path.basename(c["path"]): c for c in json.loads(out.read_text())["clips"]}
    e = plain["VID_20260612_210105.mp4"]
    assert e["group"] is not None and e["confidence"] < 0.8 and e["clock_hint"] is None  # placed: no hint
    r = subprocess.run([sys.executable, "-m", "syncfp", "align", cam, phone, other, edge, "-o", str(out), "-q",
                        "--no-cache", "--min-confidence", "0.8"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    clips = {os.path.basename(c["path"]): c for c in json.loads(out.read_text())["clips"]}
    e, a = clips["VID_20260612_210105.mp4"], clips["PXL_20260612_210000000.mp4"]
    assert e["group"] is None and e["error"] and a["group"] is not None
    assert e["clock_hint"]["group"] == a["group"] and abs(e["clock_hint"]["offset"] - a["offset"] - 65.0) < 0.5


def test_a_festivals_later_concert_split_in_two_gets_a_hint_onto_its_own_larger_part():
    """Three phones at 21:00 (the largest group), and a concert at 23:00 that the audio left in two parts of
    two phones each (network-timed names). The 23:00 parts are hours from the first concert, out of the
    hint's reach: the larger part keeps its own timeline and the smaller one is hinted onto it, where the
    names put it; the first concert names nothing."""
    from syncfp.sync.stamps import group_hints

    fps = [_fp("f/VID_20260612_210000.mp4", 100.0, None), _fp("f/VID_20260612_210040.mp4", 100.0, None),
           _fp("f/VID_20260612_210120.mp4", 100.0, None),
           _fp("f/VID_20260612_230000.mp4", 200.0, None), _fp("f/VID_20260612_230100.mp4", 200.0, None),
           _fp("f/VID_20260612_230500.mp4", 90.0, None), _fp("f/VID_20260612_230530.mp4", 90.0, None)]
    durations = [f.duration_s for f in fps]
    edges = [_edge(0, 1, 40.0), _edge(1, 2, 40.0), _edge(3, 4, 60.0), _edge(5, 6, 30.0)]
    sol = solve(len(fps), edges, durations)
    g = [int(x) for x in sol.group]
    assert len({g[0], g[3], g[5]}) == 3 and g[0] == g[1] == g[2] and g[3] == g[4] and g[5] == g[6]
    hints = group_hints(sol, fps, durations)
    assert set(hints) == {g[5]}
    to, shift = hints[g[5]]
    assert to == g[3]
    # the 23:05 part's zero lies 300 s after the 23:00 part's first clip, on that part's timeline
    assert abs(shift + sol.position_s[5] - (sol.position_s[3] + 300.0)) < 1e-6


def test_an_iphones_local_time_tag_reads_as_the_phones_network_clock(tmp_path, master, other_master):
    """An iPhone video carries its start twice: `creation_time` in UTC and Apple's
    `com.apple.quicktime.creationdate` in local time with its offset. The second reads as the network clock
    that names the Android and Pixel files, so an iPhone clip whose audio matches nothing gets its place on
    their timeline as a hint, though no clip of that iPhone is placed; the same clip with the UTC tag alone
    gets none (no device showed the zone yet). Only a hint: the clock searches do not read it (as sure, it
    joined a chain's short links to a few ms: docs/benchmarks.md, nineteenth session)."""
    import json
    import subprocess
    import sys

    from bench.clocks import _remux

    cam = make_clip(tmp_path, "t/PXL_20260612_210000000.mp4", master, 5.0, 70.0, eq="none", snr_db=20, seed=1)
    phone = make_clip(tmp_path, "t/VID_20260612_210031.mp4", master, 36.2, 20.0, eq="phone", snr_db=15, seed=2)
    apple = make_clip(tmp_path, "t/IMG_0001.MOV", other_master, 10.0, 15.0, eq="phone", seed=3)
    utc = make_clip(tmp_path, "t/IMG_0002.MOV", other_master, 40.0, 15.0, eq="phone", seed=4)
    _remux(apple, "2026-06-12T19:00:50.000000Z", "2026-06-12T21:00:50+0200")
    _remux(utc, "2026-06-12T19:00:40.000000Z")
    out = tmp_path / "t.json"
    run = subprocess.run([sys.executable, "-m", "syncfp", "align", cam, phone, apple, utc, "-o", str(out),
                          "--no-cache"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    clips = {os.path.basename(c["path"]): c for c in json.loads(out.read_text())["clips"]}
    a, c = clips["PXL_20260612_210000000.mp4"], clips["IMG_0001.MOV"]
    assert c["group"] is None and c["clock_hint"]["group"] == a["group"] is not None
    assert abs((c["clock_hint"]["offset"] - a["offset"]) - 50.0) < 0.5
    assert clips["IMG_0002.MOV"]["group"] is None and clips["IMG_0002.MOV"]["clock_hint"] is None


def test_two_phones_network_clocks_reading_a_group_apart_state_the_gap():
    """Phones keep network time to a second (file names, iPhones' local-time tags): where two of them read one
    group's zero 97 s apart — a loop pass — every clip of both states an error reaching the gap (fresh31's
    loop5); a whole zone apart, within a second, in two groups, or a camera's hand-set tag, nothing does."""
    from syncfp.engine.solve import Solution
    from syncfp.sync.stamps import Clocks, Stamp, network_torn

    zero = 1_781_298_000.0
    pos = np.array([0.0, 10.0, 60.0, 100.0, 150.0, 30.0, 0.0, 5.0])
    group = np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int32)
    n = pos.size
    sol = Solution(group=group, position_s=pos, k=np.ones(n), position_std_s=np.full(n, 1e-4),
                   reference=np.zeros(n, np.int32), inliers=[], rejected=[], k_std=np.zeros(n))

    def clocks(iphone_zero: float, camera_zero: float = zero + 354.0):
        st = [Stamp(camera_zero + pos[0], "tag"),  # a camera: its hand-set clock minutes off, never read here
              Stamp(zero + pos[1] + 0.3, "name"), Stamp(zero + pos[2] - 0.2, "name"),  # pixel, named
              Stamp(zero + pos[3] + 0.4, "name"),  # android, named
              Stamp(iphone_zero - 7200.0 + pos[4], "tag"), Stamp(iphone_zero - 7200.0 + pos[5], "tag"),  # UTC tags
              Stamp(zero + 500.0 + pos[6], "name"), Stamp(zero + 500.0 + pos[7], "name")]  # another group's phone
        local = [None, None, None, None, iphone_zero + pos[4], iphone_zero + pos[5], None, None]
        return Clocks(st, ["gopro", "pixel", "pixel", "android", "iphone", "iphone", "pixel2", "pixel2"], local)

    c = clocks(zero + 97.0)  # the iPhone's clips sit a loop pass from the named phones' on the timeline
    got = network_torn(sol, c, agree_s=1.5, apart_s=4.0)
    assert set(got) == {1, 2, 3, 4, 5} and all(96.0 < v < 98.0 for v in got.values())
    for ok in (zero + 0.8, zero + 900.0):  # within a second; a whole quarter hour (another zone)
        assert network_torn(sol, clocks(ok), agree_s=1.5, apart_s=4.0) == {}


@pytest.mark.slow
def test_an_iphone_whose_network_clock_reads_the_group_97s_off_states_the_gap(tmp_path, master):
    """Encoded media: a Pixel and an Android phone named by network time and an iPhone whose local-time tag reads
    the same timeline 97 s later (as a clip held at a loop's pass would). The audio places all three; the clocks
    say one side is a pass off, and nothing says which: every clip of both phones states an error reaching 97 s,
    where with the check off they state well under a millisecond."""
    import syncfp
    from bench.clocks import _remux

    cam = make_clip(tmp_path, "t/PXL_20260612_210000000.mp4", master, 5.0, 70.0, eq="none", snr_db=20, seed=1)
    phone = make_clip(tmp_path, "t/VID_20260612_210031.mp4", master, 36.2, 20.0, eq="phone", snr_db=15, seed=2)
    apple = make_clip(tmp_path, "t/IMG_0003.MOV", master, 20.0, 20.0, eq="phone", snr_db=15, seed=3)
    _remux(apple, "2026-06-12T19:01:52.000000Z", "2026-06-12T21:01:52+0200")  # true start 21:00:15, +97 s
    on = syncfp.align([cam, phone, apple], cache=False, workers=2)
    off = syncfp.align([cam, phone, apple], cache=False, workers=2, rescue_cfg=RescueConfig(network_clash=False))
    for res in (on, off):
        by = {os.path.basename(c.path): c for c in res.clips}
        assert len({c.group for c in res.clips}) == 1 and by["PXL_20260612_210000000.mp4"].group is not None
        assert abs(by["IMG_0003.MOV"].offset_s - by["PXL_20260612_210000000.mp4"].offset_s - 15.0) < 0.001
    assert all(c.error_ms >= 90_000 for c in on.clips)
    assert all(c.error_ms < 1.0 for c in off.clips)
