"""``triton-doctor logs``: diagnose a log from a file, stdin or a container, and report it like ``check``."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triton_doctor import __version__
from triton_doctor.app.check import sarif_rules
from triton_doctor.core.secrets import redact
from triton_doctor.deploy.target import Target, TargetError
from triton_doctor.deploy.tokens import known_secrets
from triton_doctor.policy import Policy, exit_code
from triton_doctor.report.console import make_console
from triton_doctor.report.emit import emit, parse_outputs
from triton_doctor.report.redact import redact_result
from triton_doctor.report.writer import write_output
from triton_doctor.results import CheckResult, Report

__all__ = ["LogsRequest", "run_logs_command"]


@dataclass(slots=True, kw_only=True)
class LogsRequest:
    """Everything ``triton-doctor logs`` was asked."""

    source: str
    fmt: str = "text"
    output: str | None = None
    fail_on: str = "fail"
    verbose: bool = False
    skip: tuple[str, ...] = ()
    #: Every ``--output`` (``FORMAT:PATH`` or a plain path for the ``--format`` report).
    outputs: tuple[str, ...] = ()


def run_logs_command(req: LogsRequest) -> int:
    """Diagnose a log from a file, stdin (``-``) or a container; report like ``check``; return the exit code.

    Raises :class:`~triton_doctor.deploy.target.TargetError` when the source is neither (exit code 2).
    """
    from triton_doctor.checks.container_logs import ContainerLogs
    from triton_doctor.logs import LogDiagnosis
    from triton_doctor.logs.findings import CHECK_ID, diagnosis_outcome
    from triton_doctor.logs.scan import scan, scan_lines
    from triton_doctor.results import Category

    logs_checks: dict[str, Any] = {CHECK_ID: ContainerLogs}
    policy = Policy.build(skip=req.skip, origins=dict.fromkeys(req.skip, "--skip"))
    policy.validate(logs_checks)
    specs = parse_outputs(req.fmt, (*((req.output,) if req.output else ()), *req.outputs))
    console = make_console(sys.stderr)
    start = time.monotonic()
    status = console.status(f"reading {req.source}", spinner="dots") if console.is_terminal else None
    if status is not None:
        status.start()
    try:
        diag: LogDiagnosis
        if req.source == "-" or os.path.lexists(req.source):
            from triton_doctor.probes.fs import FileReadError
            from triton_doctor.probes.logstream import open_log_stream

            label = "stdin" if req.source == "-" else req.source
            try:
                with open_log_stream(None if req.source == "-" else Path(req.source)) as log:
                    diag = scan(log.stream)
            except FileReadError as exc:
                hint = "; pipe it to 'triton-doctor logs -' instead" if "not a regular file" in exc.reason else ""
                raise TargetError(f"{label}: {exc.reason}{hint}") from exc
            except OSError as exc:
                raise TargetError(f"{label}: cannot read: {exc.strerror or exc}") from exc
            if log.cut:
                console.print(f"note: {label} was read up to {log.decompressed} decompressed bytes only")
        else:
            from triton_doctor.probes.docker_probe import DockerProbe

            probe = DockerProbe()
            try:
                facts = probe.facts()
                if not facts.reachable:
                    raise TargetError(
                        f"{req.source!r} is not a file, and the Docker daemon is not reachable to look "
                        f"for a container of that name ({facts.error})"
                    )
                match = next(
                    (
                        c
                        for c in facts.containers
                        if req.source in {c.name, c.id} or (len(req.source) >= 4 and c.id.startswith(req.source))
                    ),
                    None,
                )
                if match is None:
                    raise TargetError(f"{req.source!r} is neither a file nor a container (docker ps -a lists them)")
                label = f"container {match.name}"
                diag = scan_lines(probe.log_lines(match.id))
            finally:
                probe.close()
    finally:
        if status is not None:
            status.stop()
    outcome = diagnosis_outcome(diag, label)
    result = CheckResult(
        check=CHECK_ID,
        title="Log diagnosis",
        category=Category.LOGS,
        status=outcome.status,
        summary=outcome.summary,
        findings=outcome.findings,
        duration_ms=int((time.monotonic() - start) * 1000),
    )
    secrets = known_secrets(Target(repo="."))
    result = redact_result(policy.filter_findings(redact_result(result, secrets)), secrets)
    results = [result]
    if req.source != "-" and os.path.isfile(req.source):
        # kubectl describe / get -o yaml / get events saved to a file: the pod state too.
        from triton_doctor.app.kube import pod_state_result

        extra = pod_state_result(req.source)
        if extra is not None:
            results.append(redact_result(policy.filter_findings(redact_result(extra, secrets)), secrets))
    code = exit_code(results, req.fail_on)
    report = Report(
        tool_version=__version__,
        target={"logs": redact(label, secrets)},
        results=tuple(results),
        duration_ms=result.duration_ms,
    )
    from triton_doctor.report.text import render_result, render_summary

    for shown in results:
        render_result(console, shown, verbose=req.verbose)
    render_summary(console, report, int(code))
    rules = sarif_rules(logs_checks) if any(spec.fmt == "sarif" for spec in specs) else None
    emit(specs, report, int(code), write=write_output, rules=rules)
    return int(code)
