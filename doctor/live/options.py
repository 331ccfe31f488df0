"""What the live stage is asked to do and what it found: options, outcome, progress callback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from triton_doctor.logs import LogDiagnosis
from triton_doctor.probes.triton_http import Generation

Progress = Callable[[str, float, str], None]
POLL_S = 0.2
#: Longest one test generation may take (each of stream, generate and gRPC); --timeout lowers it.
GENERATE_TIMEOUT_S = 300.0
FAST_POLL_S = 0.01
SESSION_LABEL = "io.triton-doctor.session"


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveOptions:
    """How to run the live stage."""

    timeout_s: float = 900.0
    keep: bool = False
    gpus: bool = True
    prompt: str = "The capital of France is"
    #: Sampling parameters for the test generation (the doctor's default sets max_tokens).
    sampling: dict[str, Any] = field(default_factory=lambda: {"max_tokens": 32, "temperature": 0.0})
    grpc: bool = True
    #: ``--server`` mode: the gRPC endpoint (``host:port``); default: the HTTP host with 8001 when HTTP is 8000.
    grpc_url: str | None = None
    #: ``up --as-fixed``: bring up the corrected command (``triton-doctor command``), not the user's as written.
    as_fixed: bool = False


@dataclass(slots=True)
class LiveOutcome:
    """What happened."""

    #: ready | unavailable | not-loaded | missing | redirect | exited | start-failed | timeout | no-image | unreachable
    state: str = "pending"
    detail: str = ""
    container: str | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    http_url: str | None = None
    grpc_url: str | None = None
    metrics_url: str | None = None
    started_at: float = 0.0
    live_at: float | None = None
    ready_at: float | None = None
    #: model -> (state, reason) from the repository index
    models: dict[str, tuple[str, str]] = field(default_factory=dict)
    diagnosis: LogDiagnosis | None = None
    last_log_line: str = ""
    generations: list[Generation] = field(default_factory=list)
    counters: dict[str, float] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    remote: bool = False
    #: Things the bring-up had to change, for a warning (e.g. ulimits the host refused).
    notes: list[str] = field(default_factory=list)
    #: Models in the server's repository index that are not loaded (no state, or UNAVAILABLE "unloaded").
    not_loaded: list[str] = field(default_factory=list)
