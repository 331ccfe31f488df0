"""Run checks in dependency order, each with a timeout, turning crashes and timeouts into results.

Each check runs in a daemon thread so that a hung probe cannot hang the doctor: after ``timeout_s`` the
runner records ``error`` and moves on (the thread is abandoned; it holds no lock the others need except the
facts it was computing). A check whose prerequisite did not pass (``pass`` or ``warn``) is skipped with the
reason, without running.

Why threads and not subprocesses: a Python thread cannot be killed, but what a check could block on is
bounded elsewhere (every file goes through the bounded reader, which refuses FIFOs and devices and reads at
most its cap; every network and Docker call has its timeouts), so a timed-out check is one that is slow, not
one that holds the process. Its consequences are cut off in two places: its result is already ``error``
(whatever it computes later is discarded), and :func:`finish` ends the process with ``os._exit`` once the
report is written if an abandoned thread is still alive, so neither a daemon thread nor a non-daemon thread
it started (a thread pool, say) can delay the exit or write after the report. Subprocesses would cost a
fork and a pickled context per check for no gain in what can be bounded.

A check reports at most :data:`MAX_FINDINGS` findings (the most severe first, in their order); the summary
says how many more there were, so a config.pbtxt with 70,000 inputs cannot flood the report.
"""

from __future__ import annotations

import graphlib
import heapq
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from triton_doctor.check import Check
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, CheckResult, Outcome, Severity, Status

__all__ = ["SERVER_SKIP", "RunOptions", "abandoned", "check_timeout", "finish", "order_checks", "run_checks"]

#: Why a check of the container still to be started does not run with ``--server``.
SERVER_SKIP = "--server: the server is already running"
#: Why a check of this machine (GPUs, Docker engine, RAM) does not run with ``--server``.
HOST_SKIP = "--server: this check judges this machine, and the server runs elsewhere (its own host has the GPUs)"
#: Why a GPU check of this machine does not run with ``--live --no-gpus``.
NO_GPUS_SKIP = "--no-gpus: the bring-up runs without GPUs"

#: Findings kept per check; the rest are counted in the summary.
MAX_FINDINGS = 100
_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}

#: Threads of checks that timed out (still running when the runner gave up on them).
_ABANDONED: list[threading.Thread] = []


def abandoned() -> tuple[str, ...]:
    """Names of timed-out check threads that are still running."""
    return tuple(t.name for t in _ABANDONED if t.is_alive())


def finish(code: int) -> None:
    """Flush the standard streams and, if a timed-out check is still running, end the process now.

    Returns (so the caller exits the usual way) when nothing was abandoned.
    """
    if not abandoned():
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """How to run."""

    offline: bool = False
    #: Multiplies every check's timeout (tests use small values).
    timeout_scale: float = 1.0
    #: Check id -> reason: reported as ``skip`` without running (``--skip``, config ``ignore``). A check that
    #: requires one of them is skipped too, with that reason.
    skipped: Mapping[str, str] = field(default_factory=dict)


def order_checks(checks: Iterable[type[Check]]) -> list[type[Check]]:
    """Dependency order (``requires`` and ``after``) that keeps stages together: docker, gpu, mounts, hf, repo...

    Kahn's algorithm taking, at each step, the ready check of the earliest stage (then id). ``graphlib``
    checks the graph for cycles first.
    """
    by_id = {c.id: c for c in checks}
    stage = {c: i for i, c in enumerate(Category)}
    edges = {c.id: sorted(r for r in c.requires | c.after if r in by_id) for c in by_id.values()}
    graphlib.TopologicalSorter(edges).prepare()  # raises CycleError on a cycle
    waiting = {cid: set(deps) for cid, deps in edges.items()}
    dependents: dict[str, list[str]] = {cid: [] for cid in by_id}
    for cid, deps in edges.items():
        for dep in deps:
            dependents[dep].append(cid)
    ready = [(stage[by_id[cid].category], cid) for cid, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    ordered: list[type[Check]] = []
    while ready:
        _stage, cid = heapq.heappop(ready)
        ordered.append(by_id[cid])
        for dependent in dependents[cid]:
            waiting[dependent].discard(cid)
            if not waiting[dependent]:
                heapq.heappush(ready, (stage[by_id[dependent].category], dependent))
    return ordered


#: The longest any check may run (the live bring-up's own --timeout is shorter by default).
MAX_TIMEOUT_S = 3600.0
#: The longest a plugin's check may run, whatever its ``timeout_s`` says: a plugin cannot hang ``check``.
PLUGIN_TIMEOUT_S = 300.0


def check_timeout(check: type[Check]) -> float:
    """``check.timeout_s``, capped: built-ins at :data:`MAX_TIMEOUT_S`, plugins at :data:`PLUGIN_TIMEOUT_S`."""
    raw = getattr(check, "timeout_s", 30.0)
    wanted = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) and raw > 0 else 30.0
    builtin = check.__module__.startswith("triton_doctor.checks.")
    return min(wanted, MAX_TIMEOUT_S if builtin else PLUGIN_TIMEOUT_S)


def _execute(check: type[Check], ctx: Context, timeout: float) -> tuple[Outcome | None, str | None, str | None]:
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["outcome"] = check().run(ctx)
        except BaseException as exc:  # noqa: BLE001 - a crashing check is a result
            box["error"] = f"{type(exc).__name__}: {exc}"
            box["traceback"] = traceback.format_exc()

    thread = threading.Thread(target=target, name=f"check:{check.id}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        _ABANDONED.append(thread)
        return None, f"timed out after {timeout:g} s", None
    if "error" in box:
        return None, str(box["error"]), str(box["traceback"])
    outcome = box.get("outcome")
    if not isinstance(outcome, Outcome):
        return None, f"returned {type(outcome).__name__}, not an Outcome", None
    return outcome, None, None


def _cap_findings(outcome: Outcome) -> Outcome:
    """At most :data:`MAX_FINDINGS` findings, the most severe kept (so the status does not change)."""
    if len(outcome.findings) <= MAX_FINDINGS:
        return outcome
    ranked = sorted(range(len(outcome.findings)), key=lambda i: _RANK.get(outcome.findings[i].severity, 3))
    kept = tuple(outcome.findings[i] for i in sorted(ranked[:MAX_FINDINGS]))
    more = len(outcome.findings) - MAX_FINDINGS
    summary = f"{outcome.summary} ({more} more findings not shown)".strip()
    return replace(outcome, summary=summary, findings=kept)


def run_checks(
    checks: Iterable[type[Check]],
    ctx: Context,
    options: RunOptions,
    on_start: Callable[[type[Check]], None] | None = None,
    on_done: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Run ``checks`` and return one result per check, in run order."""
    results: dict[str, CheckResult] = {}
    for check in order_checks(checks):
        if on_start is not None:
            on_start(check)
        start = time.monotonic()
        blocked = [
            f"{req} (skipped: {options.skipped[req]})"
            if req in options.skipped
            else f"{req} ({results[req].status.value})"
            for req in sorted(check.requires)
            if req in results and results[req].status not in {Status.PASS, Status.WARN}
        ]
        outcome: Outcome | None
        error: str | None = None
        trace: str | None = None
        if check.id in options.skipped:
            outcome = Outcome(skip_reason=options.skipped[check.id])
        elif ctx.target.server_url and getattr(check, "describes_new_container", False):
            outcome = Outcome(skip_reason=SERVER_SKIP)
        elif ctx.target.server_url and getattr(check, "host_only", None):
            outcome = Outcome(skip_reason=HOST_SKIP)
        elif getattr(check, "host_only", None) == "gpu" and getattr(ctx.live_options, "gpus", True) is False:
            outcome = Outcome(skip_reason=NO_GPUS_SKIP)
        elif blocked:
            outcome = Outcome(skip_reason=f"requires {', '.join(blocked)}")
        elif check.network and options.offline:
            outcome = Outcome(skip_reason="needs the network; --offline given")
        else:
            outcome, error, trace = _execute(check, ctx, check_timeout(check) * options.timeout_scale)
            if outcome is not None:
                outcome = _cap_findings(outcome)
        duration = int((time.monotonic() - start) * 1000)
        if outcome is None:
            result = CheckResult(
                check=check.id,
                title=check.title,
                category=check.category,
                status=Status.ERROR,
                summary="the check itself failed",
                duration_ms=duration,
                error=error,
                traceback=trace,
            )
        else:
            result = CheckResult(
                check=check.id,
                title=check.title,
                category=check.category,
                status=outcome.status,
                summary=outcome.summary,
                findings=outcome.findings,
                duration_ms=duration,
                skip_reason=outcome.skip_reason,
                brief=outcome.brief,
                not_judged=outcome.not_judged,
            )
        results[check.id] = result
        if on_done is not None:
            on_done(result)
    return list(results.values())
