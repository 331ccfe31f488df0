"""Standard streams that were closed or went away: stand-ins so a report fails cleanly, never a traceback."""

from __future__ import annotations

import io
import os
import sys


class StdoutClosed(OSError):
    """Writing to a standard output that was closed; ``str()`` is the message."""

    def __str__(self) -> str:
        return str(self.args[0])


class ClosedStdout(io.TextIOBase):
    """Stands for a standard output that was closed (``>&-``): writing the report to it is an error."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not text:
            return 0
        raise StdoutClosed("standard output is closed; give --output FILE for the report")

    def isatty(self) -> bool:
        return False


def guard_standard_streams() -> None:
    """Give closed standard streams (``<&-``, ``>&-``, ``2>&-``) a harmless stand-in.

    Their file descriptors get ``/dev/null`` so that no file the doctor opens later lands on fd 0-2 (and a
    child process never writes into it). stdin stays ``None`` (``logs -`` says it is closed); stderr is
    discarded; stdout raises on the first write, so a report meant for it exits 2 and the rest carries on.
    """
    for fd, mode in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, mode)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdout is None:
        sys.stdout = ClosedStdout()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process


def quiet_broken_pipe() -> None:
    """After the reader of stdout went away: point stdout at /dev/null so the exit flush cannot fail again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass
