"""The shared write helpers (syncfp/fsutil.py): one write-then-rename protocol for every file syncfp writes —
a failed or abandoned write leaves neither half a file at the destination nor a temp file beside it."""

from __future__ import annotations

import os
import stat

import pytest

from syncfp.fsutil import PendingFile, atomic_file, atomic_write_bytes, default_file_mode, remove_quietly


def _names(d) -> list[str]:
    return sorted(os.listdir(d))


def test_atomic_file_replaces_only_on_success(tmp_path):
    dest = tmp_path / "x.bin"
    dest.write_bytes(b"old")
    with atomic_file(str(dest)) as fh:
        fh.write(b"new")
        assert dest.read_bytes() == b"old"  # nothing visible until the block ends
    assert dest.read_bytes() == b"new"
    with pytest.raises(RuntimeError):
        with atomic_file(str(dest), durable=False) as fh:
            fh.write(b"half")
            raise RuntimeError("writer died")
    assert dest.read_bytes() == b"new" and _names(tmp_path) == ["x.bin"]


def test_pending_file_without_commit_is_removed(tmp_path):
    with PendingFile(str(tmp_path / "lib.sfp"), prefix=".lib-") as p:
        with open(p.tmp, "r+b") as fh:
            fh.write(b"abc")
    assert _names(tmp_path) == []
    with PendingFile(str(tmp_path / "lib.sfp"), mode=0o644) as p:
        with p.handle() as fh:
            fh.write(b"abc")
        p.commit(sync_dir=True)
        p.abort()  # after commit: nothing to remove, the result stays
    assert _names(tmp_path) == ["lib.sfp"]
    assert stat.S_IMODE(os.stat(tmp_path / "lib.sfp").st_mode) == 0o644


def test_atomic_write_bytes_follows_symlinks_and_shares_the_file(tmp_path):
    target = tmp_path / "real.edl"
    target.write_text("old")
    link = tmp_path / "link.edl"
    link.symlink_to(target)
    atomic_write_bytes(str(link), b"TITLE: x\n")
    assert link.is_symlink() and target.read_bytes() == b"TITLE: x\n"
    assert stat.S_IMODE(os.stat(target).st_mode) == default_file_mode()
    assert sorted(_names(tmp_path)) == ["link.edl", "real.edl"]


def test_remove_quietly(tmp_path):
    p = tmp_path / "gone"
    p.write_text("x")
    remove_quietly(str(p))
    remove_quietly(str(p))  # already gone: no error
    assert not p.exists()
