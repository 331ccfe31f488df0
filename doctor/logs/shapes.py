"""Log shapes: strip what the capture added around a message, so a signature matches however it was logged.

A Triton + vLLM log reaches the doctor in many shapes: ``docker logs -t`` / Docker Desktop / ``kubectl logs
--timestamps`` put an RFC 3339 timestamp on every line, ``docker compose logs`` a ``service-1  | `` prefix,
``kubectl logs --prefix`` a ``[pod/name/container]`` one; vLLM V1 prefixes every line of its worker
processes with ``(EngineCore_DP0 pid=N)`` / ``(VllmWorker rank=N pid=N)`` / ``(APIServer pid=N)`` /
``(RayWorkerWrapper pid=N, ip=...)``, and its logger adds ``INFO 03-12 10:00:00 [file.py:123]`` (older
releases ``INFO 03-12 10:00:00 file.py:123]``); Triton's glog adds ``E0312 10:00:00.123 1 model.cc:123]``
and, since 24.07, quotes the message with escapes. Terminals add ANSI colours, Windows CRLF.

:func:`normalise` peels these layers off (in any order and stacked, as real captures stack them) and
returns the message alone. Line numbers are never changed: callers normalise one line at a time.
"""

from __future__ import annotations

import contextlib
import json
import re

__all__ = ["RECORD_START", "normalise", "outer"]

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")

#: Layers a capture tool puts in front of the process's own output.
_OUTER = re.compile(
    r"""^(?:
        \ufeff
      | \d{4}-\d\d-\d\d[T\ ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\s+   # docker -t, Desktop, kubectl
      | \[pod/[^\]\s]+\]\s+                                                       # kubectl logs --prefix
      | (?:stdout|stderr)\ [FP]\                                                  # CRI log file (kubelet)
      | [A-Za-z0-9][\w.-]*\s+\|\ ?                                               # compose: service-1  |
      | \((?:[A-Za-z][\w-]*(?:\ [\w=-]+)*?\ )?pid=\d+(?:,\ ip=[^)\s]*)?\)\s*    # vLLM V1 / Ray process
    )""",
    re.VERBOSE,
)

#: Layers the process's own logger adds (a new log record starts with one of these).
_LOGGER = re.compile(
    r"""^(?:
        (?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\ \d\d-\d\d\ \d\d:\d\d:\d\d(?:\.\d+)?\s+
            (?:\[[^\]\s]+:\d+\]\s?|[\w.-]+:\d+\]\s?)?                            # vLLM logger
      | [IWEF]\d{4}\ \d\d:\d\d:\d\d\.\d+\s+\d+\s+[\w.-]+:\d+\]\ ?                # glog
      | [IWEF]\ \d+\ [\w.-]+:\d+\]\ ?                                             # Triton --log-format ISO8601
      | \[(?:vllm|triton)\]\s                                                     # vllm_backend logger
    )""",
    re.VERBOSE,
)

#: A line that starts a new log record once its outer layers are gone.
RECORD_START = _LOGGER


def outer(line: str) -> str:
    """``line`` without ANSI colours, CR and the capture tool's prefixes (not the logger's)."""
    text = ANSI.sub("", line).rstrip("\r\n")
    if text.startswith('{"log":'):  # Docker's json-file log, pasted raw
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            text = str(json.loads(text)["log"]).rstrip("\r\n")
    for _ in range(4):
        found = _OUTER.match(text)
        if found is None or not found.group(0):
            break
        text = text[found.end() :]
    return text


def _unquote(text: str) -> str:
    # Triton 24.07+ quotes glog messages: "..." with \" \\ \n escapes.
    if len(text) >= 2 and text[0] == '"' and text.rstrip()[-1] == '"':
        body = text.rstrip()[1:-1]
        if "\\" in body:
            body = body.replace('\\"', '"').replace("\\n", " ").replace("\\t", " ").replace("\\\\", "\\")
        return body
    return text


def normalise(line: str) -> str:
    """The message of one log line: every capture, process and logger prefix removed, glog unquoted."""
    text = outer(line)
    for _ in range(3):
        found = _LOGGER.match(text)
        if found is None:
            break
        text = outer(text[found.end() :])
    return _unquote(text)
