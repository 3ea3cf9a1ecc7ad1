"""The fingerprint cache is an optimisation (issue 14): read-only or full → the run goes on uncached with
one warning; a file swapped for another of the same size and mtime is decoded again. Real media, the CLI
run as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import make_clip, mount_tmpfs


def run(*args: str, cache: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = dict(os.environ, SYNCFP_CACHE=cache)
    return subprocess.run([*prefix, sys.executable, "-m", "syncfp", *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def pair(tmp_path_factory, master):
    d = tmp_path_factory.mktemp("cachepair")
    cam = make_clip(d, "cam.m4a", master, 0.0, 30.0, seed=41)
    rec = make_clip(d, "rec.wav", master, 8.0, 15.0, eq="none", seed=42)
    return cam, rec


def offsets(stdout: str) -> dict[str, float]:
    return {os.path.basename(c["path"]): c["offset"] for c in json.loads(stdout)["clips"]}


def _placed(r: subprocess.CompletedProcess) -> None:
    assert r.returncode == 0, r.stderr
    off = offsets(r.stdout)
    assert abs(off["rec.wav"] - off["cam.m4a"] - 8.0) < 0.002, off


@pytest.mark.slow
def test_read_only_cache_folder_warns_once_and_aligns(pair, tmp_path):
    """chmod 555; as root (which ignores permission bits) the CLI runs with the two file-permission
    capabilities dropped, as in test_reliability_media."""
    cache = tmp_path / "cache"
    cache.mkdir()
    os.chmod(cache, 0o555)
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: permissions cannot bite")
        caps = "-dac_override,-dac_read_search"
        prefix = ("setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}")
    r = run("align", "-q", "-f", "json", *pair, cache=str(cache), prefix=prefix)
    _placed(r)
    warnings = [ln for ln in r.stderr.splitlines() if "warning" in ln]
    assert len(warnings) == 1 and "cannot be written" in warnings[0] and "ermission denied" in warnings[0], r.stderr
    assert os.listdir(cache) == []


def test_full_cache_warns_once_and_aligns(pair, tmp_path):
    """A 1 MB tmpfs left with 64 KB free: the probe fits, the analysis audio does not."""
    cache = str(tmp_path / "small")
    if not mount_tmpfs(cache, "1m"):
        pytest.skip("cannot mount a tmpfs here")
    try:
        st = os.statvfs(cache)
        with open(os.path.join(cache, "filler"), "wb") as fh:
            fh.write(bytes(st.f_bavail * st.f_frsize - 64 * 1024))
        r = run("align", "-q", "-f", "json", *pair, cache=cache)
        _placed(r)
        warnings = [ln for ln in r.stderr.splitlines() if "warning" in ln]
        assert len(warnings) == 1 and "no space left" in warnings[0], r.stderr
        assert not [f for f in os.listdir(cache) if f.endswith(".part")]
    finally:
        subprocess.run(["umount", cache], capture_output=True)


@pytest.mark.slow
def test_swapped_file_with_same_size_and_mtime_is_read_again(master, tmp_path):
    """A card reader's copy: same name, same size, mtime restored — a different recording."""
    cam = make_clip(tmp_path, "cam.m4a", master, 10.0, 70.0, seed=43)
    rec = make_clip(tmp_path, "rec.wav", master, 20.0, 12.0, eq="none", seed=44)
    cache = str(tmp_path / "cache")
    first = offsets(run("align", "-q", "-f", "json", cam, rec, cache=cache).stdout)
    assert abs(first["rec.wav"] - first["cam.m4a"] - 10.0) < 0.002, first
    st = os.stat(rec)
    make_clip(tmp_path, "rec.wav", master, 60.0, 12.0, eq="none", seed=45)  # rewritten in place
    os.utime(rec, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.path.getsize(rec) == st.st_size and os.stat(rec).st_mtime_ns == st.st_mtime_ns
    r = run("align", "-q", "-f", "json", cam, rec, cache=cache)
    assert r.returncode == 0, r.stderr
    second = offsets(r.stdout)
    assert abs(second["rec.wav"] - second["cam.m4a"] - 50.0) < 0.002, second
    assert len([f for f in os.listdir(cache) if f.endswith(".json")]) == 3  # cam reused, rec cached anew
