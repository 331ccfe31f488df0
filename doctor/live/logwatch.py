"""Follow a container's log and note each model's load outcome the moment Triton logs it.

Polling the HTTP endpoints finds READY (or UNAVAILABLE) up to one poll interval late. Triton logs both as
they happen: ``successfully loaded 'X'`` and ``failed to load 'X' version N: <reason>`` (core
``model_lifecycle.cc``, quoted since 24.07), ``failed to poll model 'X': ...`` for a ``--load-model`` that
does not exist, the status table rows, and ``Started HTTPService at ...`` once requests can come.
:class:`LogWatch` reads the container's log stream (docker SDK ``logs(stream=True, follow=True)``) in a
daemon thread, keeps only these facts and the last lines (bounded memory), and sets :attr:`LogWatch.wake`
on each, so a waiting loop reacts at once instead of at its next poll.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from triton_doctor.logs.shapes import normalise

__all__ = ["LogWatch"]

_LOADED = re.compile(r"successfully loaded '([^']+)'")
_FAILED = re.compile(r"failed to load '([^']+)' version \d+: (.*)$|failed to poll model '([^']+)': (.*)$")
_ROW = re.compile(r"^\|\s*([^|]+?)\s*\|\s*\d+\s*\|\s*(READY|UNAVAILABLE.*?)\s*\|$")
_HTTP = "Started HTTPService at"
_EXIT = "error: creating server:"


class LogWatch:
    """Load outcomes read from a log stream as they are printed."""

    def __init__(self, tail: int = 50) -> None:
        #: Set whenever a fact arrives (a model loaded or failed, HTTP up, server exiting); the waiter clears it.
        self.wake = threading.Event()
        #: model -> monotonic time its ``successfully loaded`` line was read
        self.loaded: dict[str, float] = {}
        #: model -> (reason, monotonic time) of its first failure line
        self.failed: dict[str, tuple[str, float]] = {}
        self.http_started: float | None = None
        self.exiting: float | None = None
        self.last_line = ""
        self.tail: deque[str] = deque(maxlen=tail)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def feed(self, line: str) -> None:
        """Take one log line."""
        if not line.strip():
            return
        self.tail.append(line)
        message = normalise(line).strip()
        self.last_line = message[:400]
        now = time.monotonic()
        if "loaded '" in message and (found := _LOADED.search(message)):
            self.loaded.setdefault(found.group(1), now)
        elif "failed to " in message and (found := _FAILED.search(message)):
            model = found.group(1) or found.group(3)
            self.failed.setdefault(model, ((found.group(2) or found.group(4) or "").strip(), now))
        elif message.startswith("|") and (found := _ROW.match(message)):
            if found.group(2) == "READY":
                self.loaded.setdefault(found.group(1), now)
            else:
                self.failed.setdefault(found.group(1), (found.group(2).partition(":")[2].strip(), now))
        elif _HTTP in message:
            self.http_started = self.http_started or now
        elif message.startswith(_EXIT):
            self.exiting = self.exiting or now
        else:
            return
        self.wake.set()

    def start(self, lines: Callable[[], Iterable[str]]) -> None:
        """Follow ``lines()`` (a blocking iterator over the log) in a daemon thread until :meth:`stop`."""

        def follow() -> None:
            with contextlib.suppress(Exception):  # the stream ends when the container goes; polling goes on
                for line in lines():
                    self.feed(line)
                    if self._stop.is_set():
                        break

        self._thread = threading.Thread(target=follow, name="triton-doctor-logwatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following (at the next line; the thread is a daemon, so nothing waits for it)."""
        self._stop.set()

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for the following thread to end (its stream closed)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a new fact; True when one came (and clear it)."""
        woke = self.wake.wait(timeout)
        self.wake.clear()
        return woke

    def first_failure(self, models: Iterable[str]) -> tuple[str, str] | None:
        """The first of ``models`` (all failed models when empty) the log says failed: (model, reason)."""
        wanted = list(models) or list(self.failed)
        failed = [(self.failed[m][1], m) for m in wanted if m in self.failed]
        if not failed:
            return None
        _when, model = min(failed)
        return model, self.failed[model][0]

    def all_loaded(self, models: Iterable[str]) -> bool:
        """Every one of ``models`` logged as loaded, and the HTTP endpoint started."""
        wanted = list(models)
        return bool(wanted) and self.http_started is not None and all(m in self.loaded for m in wanted)
