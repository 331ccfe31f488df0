"""Every way the doctor can stop removes the containers it started; a later run reaps what a SIGKILL left.

* :func:`stop_signals` turns SIGTERM, SIGHUP (the terminal closed) and SIGINT into :class:`Stopped`, a
  ``KeyboardInterrupt``: the same path as Ctrl-C, whose ``finally`` tears the live container down. A second
  signal while that runs is ignored, so the teardown is never cut short.
* :func:`owner_labels` records who started a container: the process id, its start time, the boot id and the
  host name. :func:`reap_orphans` lists the containers labelled as the doctor's, and removes those whose owner
  is gone on this host (no such process, another process with that pid, or another boot); a container of a
  live run, or of another host sharing the daemon, is left alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from triton_doctor.probes.docker_probe import PROBE_LABEL
from triton_doctor.probes.fs import FileReadError, read_file_bytes

__all__ = [
    "OWNER_BOOT",
    "OWNER_HOST",
    "OWNER_PID",
    "OWNER_START",
    "Stopped",
    "deferred_signals",
    "owner_labels",
    "reap_left_behind",
    "reap_orphans",
    "stop_signals",
]

OWNER_PID = "io.triton-doctor.owner-pid"
OWNER_START = "io.triton-doctor.owner-start"
OWNER_BOOT = "io.triton-doctor.owner-boot"
OWNER_HOST = "io.triton-doctor.owner-host"
#: The signals that stop the doctor the way Ctrl-C does (SIGHUP: the terminal closed). Windows has no SIGHUP.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """The doctor was asked to stop by a signal: clean up as for Ctrl-C, then exit 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP)."""
        return 128 + self.signum


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """While inside: SIGTERM/SIGHUP/SIGINT raise :class:`Stopped` once in the main thread; later ones are
    ignored until the block is left (the teardown in ``finally`` runs to its end)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        if fired.is_set():
            return  # already stopping: let the teardown finish
        fired.set()
        raise Stopped(signum)

    previous = {}
    for sig in STOP_SIGNALS:
        with contextlib.suppress(ValueError, OSError):
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, old)


def _boot_id() -> str:
    """This machine's boot: the kernel's boot id on Linux, else the boot time."""
    with contextlib.suppress(FileReadError, OSError, ValueError):
        return read_file_bytes(Path("/proc/sys/kernel/random/boot_id"), 128).decode().strip()
    with contextlib.suppress(Exception):
        import psutil

        return f"boot-{int(psutil.boot_time())}"
    return ""


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (seconds since the epoch, rounded), or None when there is no such process."""
    try:
        import psutil

        return str(round(psutil.Process(pid).create_time(), 1))
    except Exception:  # noqa: BLE001 - no such process (or no psutil): gone
        return None


def owner_labels() -> dict[str, str]:
    """Labels naming this process as the owner of a container it starts."""
    pid = os.getpid()
    return {
        OWNER_PID: str(pid),
        OWNER_START: _start_time(pid) or "",
        OWNER_BOOT: _boot_id(),
        OWNER_HOST: socket.gethostname(),
    }


def owner_gone(labels: dict[str, str]) -> bool:
    """True when the labels name an owner on this host that no longer runs; False when alive or unknown."""
    if labels.get(OWNER_HOST) != socket.gethostname() or not labels.get(OWNER_PID, "").isdigit():
        return False  # another machine shares the daemon (or an older doctor's container): not ours to judge
    if labels.get(OWNER_BOOT) and labels[OWNER_BOOT] != _boot_id():
        return True  # the machine rebooted since
    started = _start_time(int(labels[OWNER_PID]))
    if started is None:
        return True
    return bool(labels.get(OWNER_START)) and abs(float(started) - float(labels[OWNER_START])) > 1.0


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGTERM/SIGHUP/SIGINT while inside (a teardown): they arrive, and stop the doctor, once it is done."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = mask(signal.SIG_BLOCK, set(STOP_SIGNALS))
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


def reap_left_behind(probe: Any) -> list[str]:
    """:func:`reap_orphans` through a :class:`DockerProbe`, and nothing at all when its daemon does not answer."""
    try:
        client = probe.client()
        client.ping()
    except Exception:  # noqa: BLE001 - no daemon: the checks say so
        return []
    return reap_orphans(client)


def reap_orphans(client: Any) -> list[str]:
    """Remove the doctor's live containers whose owner is gone; return one notice per removed container."""
    notices = []
    try:
        rows = client.api.containers(all=True, filters={"label": [PROBE_LABEL, OWNER_PID]})
    except Exception:  # noqa: BLE001 - no daemon: nothing to reap
        return []
    for row in rows:
        labels = dict(row.get("Labels") or {})
        if not owner_gone(labels):
            continue
        name = (row.get("Names") or ["?"])[0].lstrip("/")
        try:
            client.api.remove_container(row["Id"], force=True, v=True)
        except Exception as exc:  # noqa: BLE001 - say so; the next run tries again
            notices.append(f"could not remove {name}, left by an earlier triton-doctor run: {exc}")
            continue
        ports = sorted({str(p.get("PublicPort")) for p in row.get("Ports") or [] if p.get("PublicPort")}, key=int)
        held = f", which held port{'s' if len(ports) > 1 else ''} {', '.join(ports)}" if ports else ""
        notices.append(
            f"removed {name}{held}: left by an earlier triton-doctor run (pid {labels[OWNER_PID]}) that was killed"
        )
    return notices
