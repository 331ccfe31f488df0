"""The one place that writes a report to ``--output``.

* A regular file (or a path that does not exist yet) is written atomically: a temporary file in the same
  directory, ``fsync``, then ``rename`` over the target, so a reader never sees half a report. An existing
  file keeps its permission bits (and its owner where the process may set it); a new one gets ``0666`` less
  the umask, as a shell's ``>`` would create it.
* A symbolic link is followed: the file it points to is written (as above) and the link stays a link.
* Anything else that exists (a character device such as ``/dev/null`` or ``/dev/full``, a FIFO, a socket)
  is opened and written in place, as a shell's ``>`` does; it is never replaced. A FIFO without a reader is
  an error rather than a wait (it is opened non-blocking first).

Every failure raises :class:`OutputError` (an ``OSError``) whose message names the path and the reason; the
CLI maps it to exit code 2.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile

from triton_doctor.probes.fs import OPEN_FLAGS

__all__ = ["OutputError", "write_output"]


class OutputError(OSError):
    """The report could not be written; ``str()`` is the whole message."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "cannot write the report"


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.ENXIO:
        return "nothing is reading from it (a FIFO with no reader, or a socket)"
    if exc.errno == errno.EPIPE:
        return "the reader closed it before the report was written"
    return exc.strerror or str(exc)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_in_place(path: str, data: bytes) -> None:
    """Write to a non-regular file the way ``>`` does: open for writing (truncating where that means anything)."""
    fd = os.open(path, os.O_WRONLY | OPEN_FLAGS)
    try:
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_atomic(path: str, data: bytes, existing: os.stat_result | None) -> None:
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    try:
        try:
            if hasattr(os, "fchmod") and existing is not None:
                os.fchmod(fd, stat.S_IMODE(existing.st_mode))
                with contextlib.suppress(OSError):
                    os.fchown(fd, existing.st_uid, existing.st_gid)
            elif hasattr(os, "fchmod"):
                umask = os.umask(0)
                os.umask(umask)
                os.fchmod(fd, 0o666 & ~umask)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_output(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``: atomically for regular files, in place for devices and FIFOs."""
    data = text.encode("utf-8")
    # Follow symbolic links (also a dangling one: its target is created), so the link itself stays a link.
    real = os.path.realpath(path) if os.path.islink(path) else path
    try:
        try:
            existing: os.stat_result | None = os.stat(real)
        except FileNotFoundError:
            existing = None
        if existing is not None and stat.S_ISDIR(existing.st_mode):
            raise OutputError(f"{path}: is a directory; give a file name")
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            _write_in_place(real, data)
        else:
            _write_atomic(real, data, existing)
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"{path}: {_reason(exc)}") from exc
