"""One ``check`` run: target -> context -> runner -> policy -> report. The CLI only parses and calls this."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from triton_doctor import __version__
from triton_doctor.core.secrets import redact
from triton_doctor.deploy.inputs import TargetInput, build_target
from triton_doctor.deploy.target import Target
from triton_doctor.deploy.tokens import known_secrets
from triton_doctor.facts.context import Context
from triton_doctor.policy import Policy, PolicyError, exit_code
from triton_doctor.registry import Registry, load_registry
from triton_doctor.report.console import make_console
from triton_doctor.report.emit import emit, parse_outputs
from triton_doctor.report.redact import redact_data, redact_result
from triton_doctor.report.verdict import model_verdicts
from triton_doctor.report.writer import write_output
from triton_doctor.results import CheckResult, ExitCode, Report
from triton_doctor.rootcause import RootCauses
from triton_doctor.runner import RunOptions, run_checks

__all__ = ["CheckRequest", "gate_policy", "run_check_command", "sample_paths", "sarif_rules"]


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
    #: ``--manifest FILE|-`` (repeatable): Kubernetes manifests; ``--pod-state FILE|-``: kubectl output.
    manifests: tuple[str, ...] = ()
    pod_states: tuple[str, ...] = ()


def sample_paths(*, guide: bool = False) -> tuple[Path, Path]:
    """A shipped sample: ``(model_repository, local_models)``. The default is the guide's two shapes made
    right; ``guide=True`` is the guide's files exactly as written (``max_batch_size: 256`` included)."""
    data = resources.files("triton_doctor").joinpath("data")
    root = Path(str(data.joinpath("sample")))
    repo = Path(str(data.joinpath("sample_guide"))) / "model_repository" if guide else root / "model_repository"
    return repo, root / "local_models"


def run_check_command(req: CheckRequest, registry: Registry | None = None) -> int:
    """Run ``check``; print text to stderr and the machine report to stdout or ``--output``; return the exit code.

    Raises :class:`~triton_doctor.deploy.target.TargetError` or :class:`~triton_doctor.policy.PolicyError` for bad
    input (the CLI maps both to exit code 2).
    """
    if req.sample:
        repo, local = sample_paths(guide=req.sample == "guide")
        req.target.repo = req.target.repo or str(repo)
        req.target.mounts = (*req.target.mounts, f"{repo}:/models", f"{local}:/local_models")
    target, config = build_target(req.target)
    registry = registry if registry is not None else load_registry()
    kube_skips: dict[str, str] = {}
    if req.manifests or req.pod_states:
        from triton_doctor.app.kube import kube_target

        target, kube_skips = kube_target(target, config, req.target, req.manifests, req.pod_states, registry.checks)
    policy = gate_policy(req, config, target)
    policy.validate(registry.checks)
    specs = parse_outputs(
        req.fmt, (*((req.output,) if req.output else ()), *req.outputs), default_fmt=str(config.get("format", "text"))
    )
    fail_on = req.fail_on or str(config.get("fail_on", "fail"))
    # The full profile is the live stage (from the config too, where --live was not given).
    live = req.live or policy.profile == "full"
    selected = policy.select(registry.checks, live=live)
    skipped = {**{c.id: kube_skips[c.id] for c in selected if c.id in kube_skips}, **policy.skipped(selected)}
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
    if live:
        from triton_doctor.live import start_session

        ctx.live_starter = start_session
    secrets = known_secrets(target)
    start = time.monotonic()
    if live and not target.server_url:
        # A run killed with SIGKILL could not clean up: its containers (owner gone) go before ports are checked.
        from triton_doctor.live.cleanup import reap_left_behind

        for notice in reap_left_behind(ctx.probes.docker):
            console.print(f"triton-doctor: {notice}", highlight=False, soft_wrap=True)
    try:
        results = _run_with_progress(console, selected, ctx, target, req, policy, secrets, skipped)
        present, missing = ctx.selected_models()
        verdicts = model_verdicts(results, present + missing)
    finally:
        ctx.close()
    if ctx.teardown_note:
        console.print(ctx.teardown_note, highlight=False, soft_wrap=True)
    code = exit_code(results, fail_on)
    report = Report(
        tool_version=__version__,
        target=redact_data(target.to_json(), secrets),
        results=tuple(results),
        load_errors=tuple(registry.errors),
        duration_ms=int((time.monotonic() - start) * 1000),
        verdicts=verdicts,
    )
    from triton_doctor.report.text import render_summary

    render_summary(console, report, int(code))
    rules = sarif_rules(registry.checks) if any(spec.fmt == "sarif" for spec in specs) else None
    emit(specs, report, int(code), write=write_output, rules=rules)
    if req.write_baseline:
        from triton_doctor.report.fingerprint import render_baseline

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
    from triton_doctor.policy import Ignore
    from triton_doctor.report.fingerprint import load_baseline

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


def sarif_rules(checks: dict[str, Any]) -> dict[str, Any]:
    from triton_doctor.report.sarif import rules_from_checks

    return rules_from_checks(checks)


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

    from triton_doctor.report.redact import one_line
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
