"""One ``check`` run: target -> context -> runner -> policy -> report. The CLI only parses and calls this."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from triton_doctor import __version__
from triton_doctor.context import Context
from triton_doctor.policy import Policy, exit_code
from triton_doctor.registry import Registry, load_registry
from triton_doctor.results import CheckResult, Report
from triton_doctor.runner import RunOptions, run_checks
from triton_doctor.target import Target, TargetError, TargetInput, build_target
from triton_doctor.tokens import known_secrets, redact

__all__ = ["CheckRequest", "make_console", "run_check_command", "sample_paths", "write_output"]


@dataclass(slots=True, kw_only=True)
class CheckRequest:
    """Everything ``triton-doctor check`` was asked."""

    target: TargetInput
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    fmt: str | None = None
    output: str | None = None
    fail_on: str | None = None
    verbose: bool = False
    live: bool = False
    sample: bool = False
    timeout_scale: float = 1.0
    #: LiveOptions for --live / up (None: defaults).
    live_options: Any = None


def sample_paths() -> tuple[Path, Path]:
    """The shipped sample: ``(model_repository, local_models)`` in the guide's shape."""
    root = Path(str(resources.files("triton_doctor").joinpath("data", "sample")))
    return root / "model_repository", root / "local_models"


def make_console(stream: TextIO) -> Any:
    """A rich console on ``stream``: colour only on a terminal and without ``NO_COLOR``."""
    from rich.console import Console

    plain = not stream.isatty() or "NO_COLOR" in os.environ
    return Console(
        file=stream,
        no_color=plain,
        color_system=None if plain else "auto",
        highlight=False,
        soft_wrap=True,
        emoji=False,
        width=None if stream.isatty() else 120,
    )


def write_output(path: str, text: str) -> None:
    """Write a report atomically (a reader never sees half a file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_check_command(req: CheckRequest, registry: Registry | None = None) -> int:
    """Run ``check``; print text to stderr and the machine report to stdout or ``--output``; return the exit code.

    Raises :class:`~triton_doctor.target.TargetError` or :class:`~triton_doctor.policy.PolicyError` for bad
    input (the CLI maps both to exit code 2).
    """
    if req.sample:
        repo, local = sample_paths()
        req.target.repo = req.target.repo or str(repo)
        req.target.mounts = (*req.target.mounts, f"{repo}:/models", f"{local}:/local_models")
    target, config = build_target(req.target)
    registry = registry if registry is not None else load_registry()
    policy = Policy.from_options(req.only or tuple(config.get("only", ())), req.skip or tuple(config.get("skip", ())))
    policy.validate(registry.checks)
    fmt = req.fmt or str(config.get("format", "text"))
    fail_on = req.fail_on or str(config.get("fail_on", "fail"))
    selected = policy.select(registry.checks, live=req.live)

    console = make_console(sys.stderr)
    ctx = Context(target, config, live=req.live)
    ctx.live_options = req.live_options
    secrets = known_secrets(target)
    start = time.monotonic()
    try:
        results = _run_with_progress(console, selected, ctx, target, req, policy, secrets)
    finally:
        ctx.close()
    if ctx.teardown_note:
        console.print(ctx.teardown_note, highlight=False, soft_wrap=True)
    code = exit_code(results, fail_on)
    report = Report(
        tool_version=__version__,
        target=_redact_data(target.to_json(), secrets),
        results=tuple(results),
        load_errors=tuple(registry.errors),
        duration_ms=int((time.monotonic() - start) * 1000),
    )
    from triton_doctor.report.text import render_summary

    render_summary(console, report, int(code))
    _emit(report, int(code), fmt, req.output)
    return int(code)


def _redact_data(data: Any, secrets: set[str]) -> Any:
    if isinstance(data, str):
        return redact(data, secrets)
    if isinstance(data, dict):
        return {k: _redact_data(v, secrets) for k, v in data.items()}
    if isinstance(data, list):
        return [_redact_data(v, secrets) for v in data]
    return data


def redact_result(result: CheckResult, secrets: set[str]) -> CheckResult:
    """The result with every secret value (and anything token-shaped) replaced, in every text field."""

    def clean(text: str | None) -> str | None:
        return None if text is None else redact(text, secrets)

    from triton_doctor.fixdata import map_text

    findings = tuple(
        replace(
            f,
            message=redact(f.message, secrets),
            evidence=redact(f.evidence, secrets),
            remedy=redact(f.remedy, secrets),
            fix=None if f.fix is None else map_text(f.fix, lambda text: redact(text, secrets)),
        )
        for f in result.findings
    )
    return replace(
        result,
        summary=redact(result.summary, secrets),
        findings=findings,
        skip_reason=clean(result.skip_reason),
        error=clean(result.error),
        traceback=clean(result.traceback),
    )


def _run_with_progress(
    console: Any,
    selected: list[Any],
    ctx: Context,
    target: Target,
    req: CheckRequest,
    policy: Policy,
    secrets: set[str],
) -> list[CheckResult]:
    from triton_doctor.report.text import render_result

    status = console.status("starting", spinner="dots") if console.is_terminal else None
    results: list[CheckResult] = []

    last_time = [0.0]
    last_phase = [""]

    def progress(phase: str, elapsed: float, line: str) -> None:
        text = f"{phase} ({elapsed:.0f} s)" + (f" | {line[:100]}" if line else "")
        if status is not None:
            status.update(redact(text, secrets))
        elif phase != last_phase[0] or elapsed - last_time[0] >= 15:
            console.print(redact(f"... {text}", secrets), highlight=False, soft_wrap=True)
            last_time[0], last_phase[0] = elapsed, phase

    ctx.progress = progress

    def on_start(check: Any) -> None:
        if status is not None:
            status.update(f"{check.title} ({check.id})")

    def on_done(result: CheckResult) -> None:
        result = redact_result(policy.filter_findings(result), secrets)
        results.append(result)
        render_result(console, result, verbose=req.verbose)

    if status is not None:
        status.start()
    try:
        run_checks(
            selected,
            ctx,
            RunOptions(offline=target.offline, timeout_scale=req.timeout_scale),
            on_start=on_start,
            on_done=on_done,
        )
    finally:
        if status is not None:
            status.stop()
    return results


def _emit(report: Report, code: int, fmt: str, output: str | None) -> None:
    if fmt == "text":
        if output:
            from io import StringIO

            from triton_doctor.report.text import render_result, render_summary

            buffer = StringIO()
            plain = make_console(buffer)
            for result in report.results:
                render_result(plain, result, verbose=True)
            render_summary(plain, report, code)
            write_output(output, buffer.getvalue())
        return
    if fmt == "json":
        from triton_doctor.report.json_report import render_json

        text = render_json(report, code)
    else:
        from triton_doctor.report.junit import render_junit

        text = render_junit(report)
    if output:
        write_output(output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


@dataclass(slots=True, kw_only=True)
class LogsRequest:
    """Everything ``triton-doctor logs`` was asked."""

    source: str
    fmt: str = "text"
    output: str | None = None
    fail_on: str = "fail"
    verbose: bool = False
    skip: tuple[str, ...] = ()


def run_logs_command(req: LogsRequest) -> int:
    """Diagnose a log from a file, stdin (``-``) or a container; report like ``check``; return the exit code.

    Raises :class:`~triton_doctor.target.TargetError` when the source is neither (exit code 2).
    """
    from triton_doctor.logs import LogDiagnosis, scan, scan_lines
    from triton_doctor.logs.findings import CHECK_ID, diagnosis_outcome
    from triton_doctor.results import Category

    console = make_console(sys.stderr)
    start = time.monotonic()
    status = console.status(f"reading {req.source}", spinner="dots") if console.is_terminal else None
    if status is not None:
        status.start()
    try:
        diag: LogDiagnosis
        if req.source == "-":
            label = "stdin"
            diag = scan(sys.stdin.buffer)
        elif Path(req.source).is_file():
            label = req.source
            try:
                with open(req.source, "rb") as handle:
                    diag = scan(handle)
            except OSError as exc:
                raise TargetError(f"{req.source}: cannot read: {exc.strerror or exc}") from exc
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
    policy = Policy.from_options([], req.skip)
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
    result = redact_result(policy.filter_findings(result), secrets)
    code = exit_code([result], req.fail_on)
    report = Report(
        tool_version=__version__,
        target={"logs": redact(label, secrets)},
        results=(result,),
        duration_ms=result.duration_ms,
    )
    from triton_doctor.report.text import render_result, render_summary

    render_result(console, result, verbose=req.verbose)
    render_summary(console, report, int(code))
    _emit(report, int(code), req.fmt, req.output)
    return int(code)
