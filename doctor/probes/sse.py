"""A Server-Sent Events answer read within caps (events, bytes, line length)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: The longest event line read before the doctor stops reading.
MAX_LINE = 256 * 1024


@dataclass(slots=True)
class SseStream:
    """An open Server-Sent Events answer: ``status``, the error body when not 200, and its ``data:`` lines."""

    status: int
    url: str
    error_body: str = ""
    _response: Any = None
    _limits: dict[str, int] = field(default_factory=dict)
    #: Why reading stopped early (too many events or bytes); empty when the stream ended by itself.
    stopped: str = ""

    def events(self) -> Iterator[str]:
        """Each ``data:`` payload, up to the event and byte caps; timeouts raise :class:`HttpError`."""
        if self._response is None:
            return
        max_events, max_bytes = self._limits["events"], self._limits["bytes"]
        count = total = 0
        pending = b""
        while True:
            piece = self._response.read1(65536)
            if not piece:
                break
            total += len(piece)
            if total > max_bytes:
                self.stopped = f"the stream passed {max_bytes} bytes; the doctor stopped reading"
                return
            pending += piece
            *lines, pending = pending.split(b"\n")
            if len(pending) > MAX_LINE:
                self.stopped = f"an event line passed {MAX_LINE} bytes; the doctor stopped reading"
                return
            for raw in lines:
                line = raw.rstrip(b"\r")
                if not line.startswith(b"data:"):
                    continue
                count += 1
                if count > max_events:
                    self.stopped = f"the stream passed {max_events} events; the doctor stopped reading"
                    return
                yield line[5:].strip().decode("utf-8", "replace")
        line = pending.rstrip(b"\r")
        if line.startswith(b"data:") and count < max_events:
            yield line[5:].strip().decode("utf-8", "replace")
