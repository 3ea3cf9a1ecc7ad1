"""Safe file writes: atomic replacement of regular files, in-place writes to pipes and devices, and a
refusal to overwrite media — a crash never leaves half a file and a typo never destroys footage."""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

from .errors import OutputError, UsageError

# First bytes of the containers FFmpeg reads that a camera or recorder writes (offset, magic).
_MAGIC: tuple[tuple[int, bytes], ...] = (
    (0, b"RIFF"), (0, b"RF64"), (0, b"FORM"), (0, b"ID3"), (0, b"fLaC"), (0, b"OggS"), (0, b"\x1a\x45\xdf\xa3"),
    (0, b"caff"), (0, b"\x00\x00\x01\xba"), (0, b"\x06\x0e\x2b\x34"), (0, b"\x30\x26\xb2\x75"),
    (4, b"ftyp"), (4, b"moov"), (4, b"mdat"), (4, b"wide"), (4, b"free"), (4, b"skip"),
)
# Paths that name an open file descriptor: written through, never replaced (`-o /dev/stdout`, `-o >(cmd)`).
_FD_PATH = re.compile(r"^/dev/(stdout|stderr|fd/\d+)$|^/proc/(self|\d+)/fd/\d+$")


def looks_like_media(path: str) -> bool:
    """True when the regular file at *path* is named or shaped like audio or video (suffix or magic bytes)."""
    from .inputs import MEDIA_SUFFIXES

    if os.path.splitext(path)[1].lower() in MEDIA_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(192)
    except OSError:
        return False
    if any(head[off : off + len(m)] == m for off, m in _MAGIC):
        return True
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] < 0xFE:  # MPEG/ADTS sync, not a BOM
        return True
    return len(head) >= 189 and head[0] == 0x47 and head[188] == 0x47  # MPEG-TS (.mts from cameras)


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def check_output(path: str, protected: Iterable[str] = ()) -> None:
    """Refuse, before any work, an output that would overwrite one of *protected* (the inputs, the
    library) or any existing media file; raises `UsageError` (exit 2) with a one-line reason."""
    try:
        target, in_place = output_target(path)
    except OutputError:
        return  # cannot be written at all: nothing to destroy; the write reports it, the other outputs go on
    if in_place:
        return
    try:
        st = os.stat(target)
    except OSError:
        return  # nothing there yet: nothing to destroy
    for p in protected:
        try:
            if _same_file(st, os.stat(p)):
                raise UsageError(f"{path}: is one of the inputs; refusing to overwrite it (choose another -o)")
        except OSError:
            continue
    if looks_like_media(target):
        raise UsageError(f"{path}: is an existing media file; refusing to overwrite it (choose another -o)")


def output_target(path: str) -> tuple[str, bool]:
    """Where a write to *path* lands: (path to write, write in place?).

    Symlinks are followed (the link stays, its target gets the new content); pipes, FIFOs, sockets,
    devices and descriptor paths (/dev/stdout, /dev/fd/N) are written in place — replacing them by a
    renamed file would sever the reader or, as root, replace /dev/stdout itself.
    """
    if _FD_PATH.match(path):
        return path, True
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return os.path.realpath(path), False  # a new file, or a dangling symlink's target
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: cannot write (is a directory)")
    if not stat.S_ISREG(st.st_mode):
        return path, True
    return os.path.realpath(path), False


def _write_in_place(path: str, data: bytes) -> None:
    """Write *data* through a pipe, device or descriptor path (appending, so `>>` and `>` both hold)."""
    m = re.match(r"^/dev/(stdout|stderr)$|^/(?:dev|proc/self)/fd/([12])$", path)
    if m:  # our own stdout/stderr: through the descriptor, after what Python has buffered for it
        fd = 1 if (m.group(1) == "stdout" or m.group(2) == "1") else 2
        (sys.stdout if fd == 1 else sys.stderr).flush()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        return
    with open(path, "ab") as fh:
        fh.write(data)


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Replace *path* with *data* atomically (or write a pipe/device in place); refuses to replace an
    existing media file. Raises `OutputError` with a one-line reason."""
    target, in_place = output_target(path)
    try:
        if in_place:
            _write_in_place(path, data)
            return
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    if os.path.isfile(target) and looks_like_media(target):
        raise OutputError(f"{path}: is an existing media file; refusing to overwrite it")
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # mode: mkstemp makes 0600; a written timeline is for sharing
        with atomic_file(target, mode=default_file_mode(), prefix=".syncfp-") as fh:
            fh.write(data)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def remove_quietly(path: str) -> None:
    """Delete *path* if it is there; a file already gone or not removable is no error (temp and stale
    files are tidied on a best-effort basis, never at the cost of the result)."""
    try:
        os.remove(path)
    except OSError:
        pass


def fsync_dir(directory: str) -> None:
    """Flush *directory*'s entries to disk, so a rename into it survives a power cut (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class PendingFile:
    """A temp file beside *dest* that `commit` renames over it and `abort` removes: the one write-then-
    rename protocol, so a crash or an error never leaves half a file at *dest*.

    Use it as a context manager: leaving the block without `commit` (an error) aborts. Raises
    `OSError` (callers turn it into their own one-line error).
    """

    def __init__(self, dest: str, *, prefix: str = "", suffix: str = ".part", mode: int | None = None) -> None:
        self.dest = dest
        fd, self.tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dest)), prefix=prefix, suffix=suffix)
        self._fd: int | None = fd  # kept open until `handle`, commit or abort: writes go to the file mkstemp made
        self.done = False
        if mode is not None:
            try:
                os.chmod(self.tmp, mode)
            except OSError:
                self.abort()
                raise

    def handle(self) -> BinaryIO:
        """The temp file open for writing (once; later opens go by `tmp`)."""
        fd, self._fd = self._fd, None
        if fd is None:
            raise ValueError(f"{self.tmp}: handle already taken")
        return os.fdopen(fd, "wb")

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def commit(self, *, durable: bool = True, sync_dir: bool = False) -> None:
        """Rename the temp file over *dest*; *durable* fsyncs its data first, *sync_dir* the directory
        after (for files whose loss after a crash would cost more than a rebuild). Aborts on failure."""
        try:
            self._close()
            if durable:
                fd = os.open(self.tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            os.replace(self.tmp, self.dest)
        except BaseException:
            self.abort()
            raise
        self.done = True
        if sync_dir:
            fsync_dir(os.path.dirname(os.path.abspath(self.dest)))

    def abort(self) -> None:
        """Remove the temp file (no-op after `commit`)."""
        if not self.done:
            self._close()
            remove_quietly(self.tmp)
            self.done = True

    def __enter__(self) -> PendingFile:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.abort()


@contextmanager
def atomic_file(dest: str, *, durable: bool = True, prefix: str = "", suffix: str = ".part",
                mode: int | None = None) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces *dest* when the block ends cleanly, and is removed when
    it raises; *durable* fsyncs before the rename (off for caches and scratch audio: a rebuild is cheaper).
    Special files and symlinks are the caller's business (`atomic_write_bytes` handles them)."""
    with PendingFile(dest, prefix=prefix, suffix=suffix, mode=mode) as pending:
        with pending.handle() as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        pending.commit(durable=False)


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
    """`atomic_write_bytes` of UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))
