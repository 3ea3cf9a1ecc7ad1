"""`syncfp align --dry-run`: files, audio-hours and memory from the headers, nothing decoded or written."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import make_clip
from syncfp.sync.estimate import BASE_MB, MB_PER_AUDIO_HOUR, estimate


@pytest.mark.slow
def test_dry_run_counts_files_hours_and_memory(tmp_path, master):
    a = make_clip(tmp_path, "a.m4a", master, 0.0, 30.0, rate_hz=16000, reverb_s=0.0)
    b = make_clip(tmp_path, "b.flac", master, 10.0, 60.0, rate_hz=16000, reverb_s=0.0)
    (tmp_path / "broken.mov").write_bytes(b"\x00\x00\x00\x18ftypqt  " + os.urandom(400))
    est = estimate([a, b, str(tmp_path / "broken.mov")])
    assert est.files == 3 and est.unreadable == 1
    assert abs(est.audio_hours * 3600 - 90.0) < 0.5
    assert est.peak_mb == BASE_MB + MB_PER_AUDIO_HOUR * est.audio_hours
    out = tmp_path / "t.json"
    r = subprocess.run([sys.executable, "-m", "syncfp", "align", str(tmp_path), "--dry-run", "-o", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"3 files \(1 unreadable\), 0\.03 audio-hours: about 0\.\d GB of memory at the peak\n", r.stdout)
    assert not out.exists()
