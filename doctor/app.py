"""One ``check`` run: target -> context -> runner -> policy -> report. The CLI only parses and calls this."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from triton_doctor import __version__
from triton_doctor.context import Context
from triton_doctor.output import write_output
from triton_doctor.outputs import emit, parse_outputs
from triton_doctor.policy import Policy, PolicyError, exit_code
from triton_doctor.registry import Registry, load_registry
from triton_doctor.results import CheckResult, ExitCode, Finding, Report
from triton_doctor.rootcause import RootCauses
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
    #: ``--sample``: False, True or "fixed" (the guide's shapes made right), or "guide" (its files as written).
    sample: bool | str = False
    timeout_scale: float = 1.0
    #: LiveOptions for --live / up (None: defaults).
    live_options: Any = None
    #: Every ``--output`` (``FORMAT:PATH`` or a plain path for the ``--format`` report); ``output`` is kept
    #: for callers that set one path.
    outputs: tuple[str, ...] = ()
    #: ``quick``, ``standard`` or ``full`` (None: the config's, else standard; ``--live`` means full).
    profile: str | None = None
    #: ``--baseline FILE``: report only findings not in it.
    baseline: str | None = None
    #: ``--write-baseline FILE``: record every finding of this run there.
    write_baseline: str | None = None


def sample_paths(*, guide: bool = False) -> tuple[Path, Path]:
    """A shipped sample: ``(model_repository, local_models)``. The default is the guide's two shapes made
    right; ``guide=True`` is the guide's files exactly as written (``max_batch_size: 256`` included)."""
    data = resources.files("triton_doctor").joinpath("data")
    root = Path(str(data.joinpath("sample")))
    repo = Path(str(data.joinpath("sample_guide"))) / "model_repository" if guide else root / "model_repository"
    return repo, root / "local_models"


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


def run_check_command(req: CheckRequest, registry: Registry | None = None) -> int:
    """Run ``check``; print text to stderr and the machine report to stdout or ``--output``; return the exit code.

    Raises :class:`~triton_doctor.target.TargetError` or :class:`~triton_doctor.policy.PolicyError` for bad
    input (the CLI maps both to exit code 2).
    """
    if req.sample:
        repo, local = sample_paths(guide=req.sample == "guide")
        req.target.repo = req.target.repo or str(repo)
        req.target.mounts = (*req.target.mounts, f"{repo}:/models", f"{local}:/local_models")
    target, config = build_target(req.target)
    registry = registry if registry is not None else load_registry()
    policy = gate_policy(req, config, target)
    policy.validate(registry.checks)
    specs = parse_outputs(
        req.fmt, (*((req.output,) if req.output else ()), *req.outputs), default_fmt=str(config.get("format", "text"))
    )
    fail_on = req.fail_on or str(config.get("fail_on", "fail"))
    # The full profile is the live stage (from the config too, where --live was not given).
    live = req.live or policy.profile == "full"
    selected = policy.select(registry.checks, live=live)
    skipped = policy.skipped(selected)
    if not policy.asked(registry.checks, live=live):
        raise PolicyError(
            f"--only {','.join(policy.only) or '(all)'} with --skip {','.join(policy.skip)} leaves no check to run"
        )

    console = make_console(sys.stderr)
    if policy.profile == "quick" and not live:
        # quick is static: no Docker (the selection), no network (offline) and no Hub files at all.
        target = replace(target, offline=True)
    ctx = Context(target, config, live=live)
    ctx.static_only = policy.profile == "quick" and not live
    ctx.live_options = req.live_options
    secrets = known_secrets(target)
    start = time.monotonic()
    if live and not target.server_url:
        # A run killed with SIGKILL could not clean up: its containers (owner gone) go before ports are checked.
        from triton_doctor.live.cleanup import reap_left_behind

        for notice in reap_left_behind(ctx.probes.docker):
            console.print(f"triton-doctor: {notice}", highlight=False, soft_wrap=True)
    try:
        results = _run_with_progress(console, selected, ctx, target, req, policy, secrets, skipped)
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
    rules = _sarif_rules(registry.checks) if any(spec.fmt == "sarif" for spec in specs) else None
    emit(specs, report, int(code), write=write_output, rules=rules)
    if req.write_baseline:
        from triton_doctor.fingerprint import render_baseline

        write_output(req.write_baseline, render_baseline(report))
        known = sum(len(r.findings) + len(r.suppressed) for r in report.results)
        console.print(f"Wrote {known} finding(s) to the baseline {req.write_baseline}.", highlight=False)
        return 0 if code is ExitCode.FINDINGS else int(code)
    return int(code)


def gate_policy(req: CheckRequest, config: dict[str, Any], target: Target) -> Policy:
    """The run's policy from flags and the config table: profile, select/ignore (with reasons), severities, baseline.

    ``--only`` replaces the config's ``select``/``only``; ``--skip`` adds to its ``ignore``/``skip`` (a skip
    always wins).
    """
    from triton_doctor.fingerprint import load_baseline
    from triton_doctor.policy import Ignore

    label = next((s for s in target.sources if s.endswith(".toml")), "the config file")
    origins: dict[str, str] = {}
    only = list(req.only)
    if not only:
        for key in ("select", "only"):
            for i, value in enumerate(config.get(key, [])):
                only.append(value)
                origins.setdefault(value, f"{label}: {key}[{i}]")
    ignores: list[Ignore] = []
    for key in ("ignore", "skip"):
        for i, entry in enumerate(config.get(key, [])):
            selector = entry if isinstance(entry, str) else str(entry["id"])
            reason = "" if isinstance(entry, str) else str(entry.get("reason", ""))
            for part in (p.strip() for p in selector.split(",") if p.strip()):
                ignores.append(Ignore(part, reason or f"ignored in {label}"))
                origins.setdefault(part, f"{label}: {key}[{i}]")
    for selector, _level in config.get("severity", {}).items():
        origins.setdefault(selector, f"{label}: severity")
    for value in req.only:
        for part in value.split(","):
            origins[part.strip()] = "--only"
    for value in req.skip:
        for part in value.split(","):
            origins[part.strip()] = "--skip"
    baseline_path = req.baseline or config.get("baseline")
    baseline = load_baseline(str(baseline_path)) if baseline_path else frozenset()
    return Policy.build(
        only=only,
        skip=req.skip,
        ignores=ignores,
        severity={str(k): str(v) for k, v in config.get("severity", {}).items()},
        profile=req.profile or str(config.get("profile", "standard")),
        baseline=baseline,
        baseline_label=f"the baseline {baseline_path}" if baseline_path else "the baseline",
        origins=origins,
    )


def _sarif_rules(checks: dict[str, Any]) -> dict[str, Any]:
    from triton_doctor.report.sarif import rules_from_checks

    return rules_from_checks(checks)


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

    def clean_finding(f: Finding) -> Finding:
        return replace(
            f,
            message=redact(f.message, secrets),
            evidence=redact(f.evidence, secrets),
            remedy=redact(f.remedy, secrets),
            fix=None if f.fix is None else map_text(f.fix, lambda text: redact(text, secrets)),
        )

    findings = tuple(clean_finding(f) for f in result.findings)
    suppressed = tuple(
        replace(s, finding=clean_finding(s.finding), reason=redact(s.reason, secrets)) for s in result.suppressed
    )
    return replace(
        result,
        summary=redact(result.summary, secrets),
        findings=findings,
        suppressed=suppressed,
        skip_reason=clean(result.skip_reason),
        brief=clean(result.brief),
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
    skipped: dict[str, str] | None = None,
) -> list[CheckResult]:
    from rich.markup import escape

    from triton_doctor.report.safe import one_line
    from triton_doctor.report.text import render_result

    status = console.status("starting", spinner="dots") if console.is_terminal else None
    results: list[CheckResult] = []

    last_time = [0.0]
    last_phase = [""]

    def progress(phase: str, elapsed: float, line: str) -> None:
        # Redact first, then make it one printable line, then shorten: never cut a secret in two.
        shown = one_line(redact(line, secrets))[:100] if line else ""
        text = one_line(redact(f"{phase} ({elapsed:.0f} s)", secrets)) + (f" | {shown}" if shown else "")
        if status is not None:
            status.update(escape(text))
        elif phase != last_phase[0] or elapsed - last_time[0] >= 15:
            console.print(f"... {text}", highlight=False, soft_wrap=True, markup=False)
            last_time[0], last_phase[0] = elapsed, phase

    ctx.progress = progress

    def on_start(check: Any) -> None:
        if status is not None:
            status.update(f"{check.title} ({check.id})")

    roots = RootCauses()

    def on_done(result: CheckResult) -> None:
        result = roots.link(redact_result(policy.filter_findings(redact_result(result, secrets)), secrets))
        results.append(result)
        render_result(console, result, verbose=req.verbose)

    if status is not None:
        status.start()
    try:
        run_checks(
            selected,
            ctx,
            RunOptions(offline=target.offline, timeout_scale=req.timeout_scale, skipped=skipped or {}),
            on_start=on_start,
            on_done=on_done,
        )
    finally:
        if status is not None:
            status.stop()
    return results


def _emit(report: Report, code: int, fmt: str, output: str | None) -> None:
    """One report in ``fmt`` to ``output`` or stdout (text: only to a file)."""
    emit(parse_outputs(fmt, (output,) if output else ()), report, code, write=write_output)


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

    Raises :class:`~triton_doctor.target.TargetError` when the source is neither (exit code 2).
    """
    from triton_doctor.checks.container_logs import ContainerLogs
    from triton_doctor.logs import LogDiagnosis, scan, scan_lines
    from triton_doctor.logs.findings import CHECK_ID, diagnosis_outcome
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
            from triton_doctor.probes.fs import FileReadError, open_log_stream

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
    rules = _sarif_rules(logs_checks) if any(spec.fmt == "sarif" for spec in specs) else None
    emit(specs, report, int(code), write=write_output, rules=rules)
    return int(code)
