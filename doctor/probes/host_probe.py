"""Host probe (psutil + sockets): memory, disk space, /dev/shm, and who holds a TCP port."""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from triton_doctor.probes.fs import FileReadError, read_file_bytes

__all__ = ["DiskFacts", "MemoryFacts", "PortFacts", "disk", "memory", "port", "shm_bytes", "wsl"]


@dataclass(frozen=True, slots=True)
class MemoryFacts:
    """RAM and swap in bytes."""

    total: int
    available: int
    swap_total: int
    swap_free: int


@dataclass(frozen=True, slots=True)
class DiskFacts:
    """Free space of the filesystem holding ``path`` (None: could not tell)."""

    path: str
    free: int | None
    total: int | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PortFacts:
    """Whether a TCP port on the host can be bound, and who listens there."""

    port: int
    free: bool
    pid: int | None = None
    process: str | None = None
    error: str | None = None


def memory() -> MemoryFacts:
    """RAM and swap."""
    import psutil

    vm = psutil.virtual_memory()
    sw = psutil.swap_memory()
    return MemoryFacts(
        total=int(vm.total), available=int(vm.available), swap_total=int(sw.total), swap_free=int(sw.free)
    )


def disk(path: str) -> DiskFacts:
    """Free space where ``path`` lives (its nearest existing parent)."""
    import psutil

    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = psutil.disk_usage(str(probe))
    except OSError as exc:
        return DiskFacts(path=path, free=None, total=None, error=exc.strerror or str(exc))
    return DiskFacts(path=str(probe), free=int(usage.free), total=int(usage.total))


def shm_bytes() -> int | None:
    """Size of /dev/shm on this host (None where there is none)."""
    try:
        stat = os.statvfs("/dev/shm")
    except (OSError, AttributeError):
        return None
    return stat.f_frsize * stat.f_blocks


def wsl() -> bool:
    """Running inside WSL."""
    try:
        return "microsoft" in read_file_bytes(Path("/proc/version"), 64 * 1024).decode("utf-8", "replace").lower()
    except FileReadError:
        return False


def port(number: int, host: str = "0.0.0.0") -> PortFacts:
    """Try to bind ``host:number``; when taken, find the listening process."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, number))
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                return PortFacts(port=number, free=False, error=exc.strerror or str(exc))
        else:
            return PortFacts(port=number, free=True)
    pid, name = _listener(number)
    return PortFacts(port=number, free=False, pid=pid, process=name)


def _listener(number: int) -> tuple[int | None, str | None]:
    try:
        import psutil

        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == number:
                if conn.pid is None:
                    return None, None
                try:
                    return conn.pid, psutil.Process(conn.pid).name()
                except psutil.Error:
                    return conn.pid, None
    except Exception:  # noqa: BLE001 - needs privileges on some systems; the port is still taken
        return None, None
    return None, None
