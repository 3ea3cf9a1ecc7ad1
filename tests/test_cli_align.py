"""`syncfp align` run as a user runs it: a subprocess, real media, outputs parsed back and checked."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from fractions import Fraction

import pytest

from conftest import make_clip
from syncfp.export.timeline import tc_to_frames

NTSC = Fraction(30000, 1001)


def run(*args, cwd=None, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "syncfp", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def shoot(tmp_path_factory, master, other_master):
    d = tmp_path_factory.mktemp("shoot")
    clips = {
        "camA/GOPR0001.MP4": (0.0, make_clip(d, "camA/GOPR0001.MP4", master, 0.0, 30.0, video_fps=NTSC, seed=21)),
        "camB/C0001.MOV": (8.4, make_clip(d, "camB/C0001.MOV", master, 8.4, 30.0, video_fps=NTSC, seed=22,
                                          timecode="10:00:00;00")),
        "rec/ZOOM0001.WAV": (4.0, make_clip(d, "rec/ZOOM0001.WAV", master, 4.0, 40.0, eq="none", seed=23)),
        "other/IMG_9999.MP4": (None, make_clip(d, "other/IMG_9999.MP4", other_master, 0.0, 20.0,
                                               video_fps=Fraction(30), seed=24)),
    }
    (d / "broken.mov").write_bytes(b"\x00\x00\x00\x18ftypqt  " + os.urandom(4000))
    return d, clips


@pytest.mark.slow
def test_cli_json_to_stdout_is_clean_and_complete(shoot, tmp_path):
    d, clips = shoot
    r = run("align", str(d), "--format", "json", "--no-cache")
    assert r.returncode == 3, r.stderr  # one unusable input: documented exit code 3
    doc = json.loads(r.stdout)  # stdout holds only the JSON
    by = {os.path.relpath(c["path"], d): c for c in doc["clips"]}
    assert set(by) == set(clips) | {"broken.mov"}
    for c in doc["clips"]:
        assert set(c) >= {"path", "group", "track", "offset", "duration", "drift_ppm", "confidence", "error"}
    assert by["broken.mov"]["group"] is None and by["broken.mov"]["error"]
    assert by["other/IMG_9999.MP4"]["group"] is None and by["other/IMG_9999.MP4"]["offset"] is None
    base = by["camA/GOPR0001.MP4"]["offset"]
    for name in ("camB/C0001.MOV", "rec/ZOOM0001.WAV"):
        assert abs(by[name]["offset"] - base - clips[name][0]) < 0.001, name
    assert by["camA/GOPR0001.MP4"]["track"] != by["camB/C0001.MOV"]["track"]
    assert "broken.mov" in r.stderr  # the table went to stderr, naming the bad file


@pytest.mark.slow
def test_cli_edl_per_track_parsed_back(shoot, tmp_path):
    d, clips = shoot
    out = tmp_path / "out" / "timeline.edl"
    placed = tmp_path / "out" / "placed.json"  # the same run's JSON: the offsets the EDLs must carry
    r = run("align", *[p for _, p in clips.values()], "-o", str(out), "-o", str(placed), "--no-cache", "-q")
    assert r.returncode == 0, r.stderr
    edls = sorted(out.parent.glob("timeline*.edl"))
    assert len(edls) == 3  # two cameras and the recorder, one EDL each
    doc = json.loads(placed.read_text())
    by = {os.path.basename(c["path"]): c for c in doc["clips"]}
    rate = NTSC
    seen = set()
    for edl in edls:
        text = edl.read_text()
        assert "FCM: NON-DROP FRAME" in text or "FCM: DROP FRAME" in text
        events = re.findall(r"^\d{3}\s+(\S+)\s+(\S+)\s+C\s+(\S+) (\S+) (\S+) (\S+)\s*$", text, re.M)
        names = re.findall(r"^\* FROM CLIP NAME:\s+(.+)$", text, re.M)
        assert len(events) == len(names) >= 1
        for (reel, chan, s_in, s_out, r_in, r_out), name in zip(events, names):
            c = by[name.strip()]
            seen.add(name.strip())
            rec = tc_to_frames(r_in, rate) - tc_to_frames("01:00:00:00" if ";" not in r_in else "01:00:00;00", rate)
            assert rec == round(c["offset"] * float(rate)), (name, r_in)
            assert tc_to_frames(r_out, rate) - tc_to_frames(r_in, rate) == tc_to_frames(s_out, rate) - tc_to_frames(s_in, rate)
            assert len(reel) <= 8
            if name.strip().endswith(".WAV"):
                assert chan in ("A", "AA", "A1", "A12")  # audio only
            else:
                assert chan in ("B", "AA/V")  # picture and sound
            if name.strip() == "C0001.MOV":
                assert tc_to_frames(s_in, rate) == tc_to_frames("10:00:00;00", rate)
    assert seen == {"GOPR0001.MP4", "C0001.MOV", "ZOOM0001.WAV"}


@pytest.mark.slow
def test_cli_usage_errors_are_one_line(tmp_path):
    r = run("align", str(tmp_path / "nothing-here"), "-o", str(tmp_path / "x.unknown"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "x.unknown" in r.stderr
    r = run("align", "--fps", "banana", str(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "banana" in r.stderr


@pytest.mark.slow
def test_cli_all_inputs_bad_still_reports(tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_bytes(os.urandom(2000))
    r = run("align", str(bad), str(tmp_path / "missing.wav"), "-f", "json", "--no-cache")
    assert r.returncode == 3 and "Traceback" not in r.stderr
    doc = json.loads(r.stdout)
    assert [c["error"] is not None for c in doc["clips"]] == [True, True]
    by = {os.path.basename(c["path"]): c for c in doc["clips"]}  # clips come sorted by path
    assert "no such file" in by["missing.wav"]["error"]


SAMPLES = os.path.join(os.path.dirname(__file__), "..", "samples")


@pytest.fixture(scope="module")
def samples_run():
    """`syncfp align . -f json --no-cache` in samples/, as the README's first command runs it (progress on
    stderr, the JSON alone on stdout): run once for the truth and the progress tests."""
    return run("align", ".", "-f", "json", "--no-cache", cwd=SAMPLES)


@pytest.mark.slow
def test_samples_align_to_their_truth(samples_run):
    """The README's first command: the bundled samples land where scripts/make_samples.py put them."""
    truth = json.load(open(os.path.join(SAMPLES, "truth.json")))
    r = samples_run
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    by = {os.path.relpath(c["path"], "."): c for c in doc["clips"]}
    ref = next(n for n, c in by.items() if c["drift_ppm"] == 0.0)
    for name, t in truth.items():
        c = by[name]
        if t["start_s"] is None:
            assert c["group"] is None
            continue
        exp = (t["start_s"] - truth[ref]["start_s"]) * (1 + truth[ref]["drift_ppm"] * 1e-6)
        assert abs(c["offset"] - by[ref]["offset"] - exp) < 0.001, name
        assert c["drift_ppm"] == pytest.approx(t["drift_ppm"] - truth[ref]["drift_ppm"], abs=10)


@pytest.mark.slow
def test_cli_table_shows_bracketed_names_verbatim(tmp_path):
    """Rich markup must not eat file names: '[red]A.mp4' is a file name."""
    root = os.path.join(os.path.dirname(__file__), "..", "samples")
    d = tmp_path / "[b]shoot"
    d.mkdir()
    for src, dst in (("cam1/GOPR0001.MP4", "[red]A.mp4"), ("cam2/C0001.MOV", "[x]B.mov")):
        (d / dst).write_bytes(open(os.path.join(root, src), "rb").read())
    r = run("align", str(d), "--no-cache", env_extra={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "[red]A.mp4" in r.stdout and "[x]B.mov" in r.stdout


def test_progress_shows_the_audio_hours_decoded_and_the_pairs_matched(samples_run):
    """Long runs show how much audio is decoded and how many clip pairs matched, beside the bars' ETAs."""
    r = samples_run
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    hours = sum(c["duration"] for c in doc["clips"] if c.get("duration")) / 3600
    shown = re.search(r"Decoding \+ fingerprinting \(([0-9.]+) audio-h\)", r.stderr)
    assert shown and abs(float(shown.group(1)) - hours) <= 0.006, r.stderr
    pairs = re.search(r"Matching all pairs \((\d+) pairs\)", r.stderr)
    n = len(doc["clips"])
    assert pairs and 1 <= int(pairs.group(1)) <= n * (n - 1) // 2, r.stderr
    assert "eta" in r.stderr


def _placed(folder, *extra) -> dict:
    """`syncfp align FOLDER --format json` (plus *extra*) as a user runs it: clip name → its JSON entry."""
    r = run("align", str(folder), "--format", "json", "--no-cache", *extra)
    assert r.returncode == 0, r.stderr
    return {os.path.basename(c["path"]): c for c in json.loads(r.stdout)["clips"]}


@pytest.mark.slow
def test_cli_min_confidence_leaves_the_unsure_clips_out_with_their_reason(tmp_path, master, other_master):
    """Three clips of one song that overlap widely (confidence ≥ 0.99) and a pair from another song that
    only each other confirm (no cycle checks their one edge: confidence 0.5). By default all five are
    placed; with --min-confidence 0.8 the pair is left out, saying why, and the three are unchanged."""
    d = tmp_path / "m"
    make_clip(d, "A001.MOV", master, 0.0, 40.0, seed=31)
    make_clip(d, "B001.WAV", master, 4.0, 40.0, eq="none", seed=32)
    make_clip(d, "C001.MOV", master, 8.0, 30.0, eq="phone", seed=33)
    make_clip(d, "E001.MP4", other_master, 0.0, 20.0, eq="phone", seed=34)
    make_clip(d, "F001.MP4", other_master, 6.0, 20.0, eq="phone", seed=35)

    placed = lambda *extra: _placed(d, *extra)  # noqa: E731
    every = placed()
    assert all(c["group"] is not None for c in every.values())
    assert max(every[n]["confidence"] for n in ("E001.MP4", "F001.MP4")) <= 0.5
    assert min(every[n]["confidence"] for n in ("A001.MOV", "B001.WAV", "C001.MOV")) >= 0.8
    sure = placed("--min-confidence", "0.8")
    for n in ("E001.MP4", "F001.MP4"):
        assert sure[n]["group"] is None and sure[n]["error"].startswith("unsure: placed at confidence 0.50")
    for n, start in (("A001.MOV", 0.0), ("B001.WAV", 4.0), ("C001.MOV", 8.0)):
        assert sure[n]["group"] == sure["A001.MOV"]["group"] is not None
        assert abs(sure[n]["offset"] - sure["A001.MOV"]["offset"] - start) < 0.001
    r = run("align", str(d), "--min-confidence", "2")
    assert r.returncode == 2 and "--min-confidence" in r.stderr


@pytest.mark.slow
def test_cli_max_error_leaves_out_the_clips_stated_less_precisely_than_asked(tmp_path, master):
    """Three clips of one song: each states its error (well under 1 ms here). --max-error 1 keeps them all,
    at their offsets; a bound under the errors they state leaves them out, each saying how precisely it was
    confirmed (the reference clip too, once it is alone in its group); a bound that is not positive is a
    usage error."""
    d = tmp_path / "m"
    make_clip(d, "A001.MOV", master, 0.0, 40.0, seed=41)
    make_clip(d, "B001.WAV", master, 5.0, 40.0, eq="none", seed=42)
    make_clip(d, "C001.MOV", master, 9.0, 30.0, eq="phone", seed=43)

    placed = lambda *extra: _placed(d, *extra)  # noqa: E731
    kept = placed("--max-error", "1")
    for n, start in (("A001.MOV", 0.0), ("B001.WAV", 5.0), ("C001.MOV", 9.0)):
        assert kept[n]["group"] == kept["A001.MOV"]["group"] is not None
        assert abs(kept[n]["offset"] - kept["A001.MOV"]["offset"] - start) < 0.001
        assert 0 <= kept[n]["offset_error_ms"] < 1
    worst = max(c["offset_error_ms"] for c in kept.values())
    tight = placed("--max-error", f"{worst / 2:g}")
    out = [n for n, c in tight.items() if c["group"] is None]
    assert len(out) == 3, tight
    stated = [n for n in out if tight[n]["error"].startswith("unsure: its offset is confirmed only to ±")]
    assert stated and all(f"over the {worst / 2:g} ms asked for" in tight[n]["error"] for n in stated)
    assert all(tight[n]["error"].startswith("unsure:") for n in out)
    r = run("align", str(d), "--max-error", "0")
    assert r.returncode == 2 and "--max-error" in r.stderr
