"""Atomic file writes: temp file in the same folder, fsync, rename; a crash never leaves half a file."""

from __future__ import annotations

import os
import tempfile

from .errors import OutputError


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Replace *path* with *data* atomically; raises `OutputError` with a one-line reason."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".syncfp-", suffix=".part")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        os.chmod(tmp, default_file_mode())  # mkstemp makes 0600; a written timeline is for sharing
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def default_file_mode() -> int:
    """0666 less the process umask: what `open(path, "w")` would have given the file.

    Linux reports the umask in /proc; setting it to read it back (the portable way) would, for an
    instant, apply to files other threads create, so that is only the fallback.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_text(path: str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
