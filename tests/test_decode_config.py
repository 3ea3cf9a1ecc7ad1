"""`DecodeConfig` is passed through, not read from module globals (issue 15): a setting given to `align`,
`extract` or the downmix is the one used, even in worker processes, and the cache keys it unless it is the
default (whose keys are those made before the config existed)."""

from __future__ import annotations

import hashlib
import os

import pytest

import syncfp
from bench import encode
from conftest import cut
from syncfp.audio import cache as cache_mod
from syncfp.audio.downmix import looks_ltc
from syncfp.audio.extract import extract
from syncfp.config import DecodeConfig, FingerprintConfig
from syncfp.errors import MediaError
from test_decode_channels import RATE, ltc_like


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory, master) -> str:
    path = str(tmp_path_factory.mktemp("decodecfg") / "clip.wav")
    encode.write(path, cut(master, 10.0, 3.0, seed=5), rate_hz=RATE)
    return path


def test_default_cache_key_is_the_one_before_decode_settings(short_clip):
    cfg = FingerprintConfig()
    st = os.stat(short_clip)
    ident = (f"{cache_mod.FORMAT}|{os.path.realpath(short_clip)}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}|"
             f"{st.st_ctime_ns}|None|{cfg.digest()}")
    before = hashlib.sha256(ident.encode()).hexdigest()[:32]
    assert cache_mod.key_for(short_clip, cfg, None) == cache_mod.key_for(short_clip, cfg, None, DecodeConfig()) == before
    assert cache_mod.key_for(short_clip, cfg, None, DecodeConfig(min_gap_s=0.02)) != before


def test_extract_uses_the_decode_config_given(short_clip, tmp_path):
    fp = extract(short_clip, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path), hashes=False)
    assert abs(fp.duration_s - 3.0) < 0.01
    with pytest.raises(MediaError, match="at least 5 s needed"):
        extract(short_clip, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path),
                decode=DecodeConfig(min_duration_s=5.0))
    with pytest.raises(MediaError, match="silent"):
        extract(short_clip, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path),
                decode=DecodeConfig(silence_db=0.0))


def test_align_passes_decode_to_its_worker_processes(short_clip, master, tmp_path):
    other = str(tmp_path / "other.wav")
    encode.write(other, cut(master, 11.0, 2.0, seed=6), rate_hz=RATE)
    al = syncfp.align([short_clip, other], cache=False, workers=2, decode=DecodeConfig(min_duration_s=2.5))
    errors = {os.path.basename(c.path): c.error for c in al.clips}
    assert errors["clip.wav"] is None or "too short" not in errors["clip.wav"]
    assert "at least 2.5 s needed" in errors["other.wav"]


def test_ltc_limits_come_from_the_config():
    x = ltc_like(RATE)[:RATE]
    assert looks_ltc(x, RATE) and looks_ltc(x, RATE, DecodeConfig())
    assert not looks_ltc(x, RATE, DecodeConfig(ltc_bit_s=(0.1e-3, 0.2e-3)))
