"""What a user types never destroys footage or hides a failure (issue 14): outputs that are inputs or
media, special output files, usage errors, a bad `--library`, failing outputs. Real media, the CLI run
as a user runs it (a subprocess)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading

import pytest

from conftest import make_clip


def run(*args: str, env_extra: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "syncfp", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def digest(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


@pytest.fixture(scope="module")
def shoot(tmp_path_factory, master):
    """A phone clip, a recorder WAV 8 s into it, and a damaged .mov."""
    d = tmp_path_factory.mktemp("safety")
    cam = make_clip(d, "cam/CLIP0001.m4a", master, 0.0, 30.0, seed=31)
    rec = make_clip(d, "rec/ZOOM0001.WAV", master, 8.0, 15.0, eq="none", seed=32)
    broken = str(d / "broken.mov")
    with open(broken, "wb") as fh:
        fh.write(b"\x00\x00\x00\x18ftypqt  " + os.urandom(3000))
    return d, cam, rec, broken


# (1) an output is never an input or an existing media file


@pytest.mark.slow
def test_output_that_is_an_input_is_refused_before_any_work(shoot, tmp_path):
    """`align -q -f json -o *.WAV` (the shell expands the glob to the recording itself)."""
    d, cam, rec, _ = shoot
    before = digest(rec)
    r = run("align", "-q", "-f", "json", "-o", rec, cam, rec, env_extra={"SYNCFP_CACHE": str(tmp_path / "c")})
    assert r.returncode == 2, r.stderr
    assert "is one of the inputs" in r.stderr and "ZOOM0001.WAV" in r.stderr and "Traceback" not in r.stderr
    assert digest(rec) == before
    assert not (tmp_path / "c").exists() or not os.listdir(tmp_path / "c")  # refused before decoding


@pytest.mark.slow
def test_output_onto_other_media_or_through_a_symlink_to_an_input_is_refused(shoot, tmp_path):
    d, cam, rec, _ = shoot
    other = make_clip(tmp_path, "song.mp3", __import__("numpy").zeros(48000, "float32"), 0.0, 0.5)
    renamed = tmp_path / "notes.json"  # media under a timeline's name: recognised by its bytes
    renamed.write_bytes(open(rec, "rb").read())
    link = tmp_path / "t.csv"
    link.symlink_to(rec)
    for target, fmt in ((other, "json"), (str(renamed), "json"), (str(link), "csv")):
        before = digest(target)
        r = run("align", "-q", "--no-cache", "-f", fmt, "-o", target, cam, rec)
        assert r.returncode == 2 and "refusing to overwrite" in r.stderr, (target, r.stderr)
        assert digest(target) == before
    assert link.is_symlink()


@pytest.mark.slow
def test_symlinked_output_is_followed_not_replaced(shoot, tmp_path):
    d, cam, rec, _ = shoot
    real = tmp_path / "real" / "timeline.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "t.csv"
    link.symlink_to(real)
    r = run("align", "-q", "--no-cache", "-o", str(link), cam, rec)
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith("path,")


@pytest.mark.slow
def test_dev_stdout_and_a_fifo_are_written_in_place(shoot, tmp_path):
    """`-o /dev/stdout` writes to stdout (as root it used to replace the /dev/stdout symlink); a FIFO, as
    `-o >(cmd)` gives, is written through rather than renamed over."""
    d, cam, rec, _ = shoot
    was_link = os.path.islink("/dev/stdout")
    r = run("align", "-q", "--no-cache", "-f", "json", "-o", "/dev/stdout", cam, rec)
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["clips"]) == 2
    assert os.path.islink("/dev/stdout") == was_link
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    r = run("align", "-q", "--no-cache", "-o", str(fifo), cam, rec)
    reader.join(timeout=60)
    assert r.returncode == 0, r.stderr
    assert got and got[0].decode().startswith("path,") and got[0].count(b"\n") == 3
    assert fifo.is_fifo()


# (2) every usage error exits 2 with the usage line


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ["align", "--bogus", "x.wav"],            # unknown option
    ["align"],                                # missing argument
    ["align", "-j", "notanint", "x.wav"],     # bad value
    ["alignn", "x.wav"],                      # unknown command
    ["align", "-weird.wav"],                  # a file name starting with '-'
    ["align", "x.wav", "-f", "nope"],         # our own check: unknown format
    ["align", "x.wav", "-o", "t.unknown"],    # our own check: suffix without a format
    ["align", "x.wav", "-f", "json", "-o", "t.edl"],  # our own check: --format against the suffix
    ["identify", "x.wav", "-f", "xml"],       # another command's own check
    ["library", "info", "--bogus"],           # a sub-command's unknown option
], ids=["option", "missing", "value", "command", "dash-name", "format", "suffix", "format-vs-suffix",
       "identify", "library"])
def test_usage_errors_exit_2_with_the_usage_line(args):
    r = run(*args, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "Usage:" in r.stderr and "internal error" not in r.stderr and "Traceback" not in r.stderr


# (5) a bad --library fails before any decoding


@pytest.mark.parametrize("kind", ["missing", "damaged"])
def test_bad_library_fails_before_decoding(shoot, tmp_path, kind):
    d, cam, rec, _ = shoot
    lib = tmp_path / "songs.sfp"
    if kind == "damaged":
        lib.write_bytes(b"SYNCFP" + os.urandom(500))
    cache = tmp_path / "cache"
    r = run("align", cam, rec, "--library", str(lib), "-o", str(tmp_path / "t.json"),
            env_extra={"SYNCFP_CACHE": str(cache)})
    assert r.returncode == 5, r.stderr
    assert "songs.sfp" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Decoding" not in r.stderr and not cache.exists()  # nothing decoded, nothing cached


# (6) every output attempted; the worst outcome is the exit code; unusable inputs named even with -q


def test_failing_output_does_not_stop_the_others_or_hide_bad_inputs(shoot, tmp_path):
    d, cam, rec, broken = shoot
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    bad = str(blocker / "t.json")  # its folder is a file: cannot be written
    good = tmp_path / "t.csv"
    r = run("align", "-q", "--no-cache", "-o", bad, "-o", str(good), "--report", str(tmp_path / "r.html"),
            cam, rec, broken)
    assert r.returncode == 4, r.stderr  # an output missing is worse than an unusable input (3)
    assert good.read_text().startswith("path,") and (tmp_path / "r.html").exists()
    lines = r.stderr.strip().splitlines()
    assert any("broken.mov" in ln and ln.startswith("skipped") for ln in lines), r.stderr
    assert any("afile/t.json" in ln and "cannot write" in ln for ln in lines), r.stderr
    assert "Traceback" not in r.stderr


# (12) small items


@pytest.mark.slow
def test_stale_single_edl_removed_when_split_per_track(shoot, tmp_path):
    d, cam, rec, _ = shoot
    stale = tmp_path / "t.edl"
    stale.write_text("TITLE: syncfp cam\nFCM: NON-DROP FRAME\n")  # what a one-track run left here
    r = run("align", "-q", "--no-cache", "-o", str(stale), cam, rec)
    assert r.returncode == 0, r.stderr
    assert not stale.exists() and len(list(tmp_path.glob("t.*.edl"))) == 2
    mine = tmp_path / "u.edl"
    mine.write_text("my notes\n")  # not an EDL: left alone
    assert run("align", "-q", "--no-cache", "-o", str(mine), cam, rec).returncode == 0
    assert mine.read_text() == "my notes\n"


def test_index_refuses_a_non_empty_folder_that_is_no_library(shoot, tmp_path):
    d, cam, rec, _ = shoot
    music = tmp_path / "Music"
    music.mkdir()
    (music / "song.flac").write_bytes(b"x")
    r = run("index", "-q", rec, "--library", str(music), timeout=60)
    assert r.returncode == 2 and "holds no syncfp library" in r.stderr, r.stderr
    assert sorted(os.listdir(music)) == ["song.flac"]


def test_identify_json_never_writes_negative_zero():
    from syncfp.cli.library import _num

    assert json.dumps({"offset": _num(-0.0001, 3)}) == '{"offset": 0.0}'
