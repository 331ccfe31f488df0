"""check, up, logs and bundle: the commands that run checks and report."""

from __future__ import annotations

import sys
from typing import Any

import click

from triton_doctor.cli.kube_opts import kube_inputs, kube_options
from triton_doctor.cli.options import (
    BUNDLE_EXIT_CODES,
    CONTEXT,
    EXIT_CODES,
    FAIL_ON,
    FORMAT_CHOICE,
    REPORT_FORMAT,
    REPORT_OUTPUT,
    build_request,
    fail_usage,
    run_request,
    target_options,
    write_failed,
)


@click.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@target_options
@click.option(
    "--only",
    multiple=True,
    metavar="ID",
    help="Run only these checks: id, id[sub-id] or category (repeatable, comma-separated).",
)
@click.option(
    "--skip",
    multiple=True,
    metavar="ID",
    help="Skip these checks or findings (same forms as --only, or a catalog id). A skip always wins: a check "
    "that requires a skipped one is skipped too.",
)
@click.option(
    "--profile",
    type=click.Choice(["quick", "standard", "full"]),
    default=None,
    help="quick: repository, mounts and model files (no Docker, no network); standard (default): + Docker, "
    "GPU, Hugging Face; full: + the live stage. --only/--skip refine it.",
)
@click.option("--live", is_flag=True, help="Also bring the deployment up, wait for READY and generate.")
@REPORT_FORMAT
@REPORT_OUTPUT
@click.option("--baseline", metavar="FILE", help="Report only findings not in FILE (written by --write-baseline).")
@click.option(
    "--write-baseline",
    metavar="FILE",
    help="Record every finding of this run in FILE (exit 0 unless a check errored), for a later --baseline.",
)
@FAIL_ON
@click.option(
    "--sample",
    type=click.Choice(["fixed", "guide"]),
    is_flag=False,
    flag_value="fixed",
    default=None,
    help="Check a sample repository shipped with triton-doctor: the guide's two shapes made right (--sample), "
    "or the guide's files exactly as written (--sample guide: its max_batch_size: 256 is found).",
)
@kube_options
@click.option("-v", "--verbose", is_flag=True, help="Show informational findings, sub-ids, timings, tracebacks.")
def check(
    only: tuple[str, ...],
    skip: tuple[str, ...],
    profile: str | None,
    live: bool,
    fmt: str | None,
    outputs: tuple[str, ...],
    baseline: str | None,
    write_baseline: str | None,
    fail_on: str | None,
    sample: str | None,
    verbose: bool,
    **target: Any,
) -> None:
    """Check the host and the model repository (and, with --live, bring it up and generate)."""
    live = live or bool(target["server"]) or profile == "full"
    kube = {k: target.pop(k) for k in ("manifests", "pod_states", "kube_resource", "kube_context", "kube_namespace")}
    run_request(
        build_request(
            target,
            live=live,
            only=only,
            skip=skip,
            profile=profile,
            baseline=baseline,
            write_baseline=write_baseline,
            fmt=fmt,
            outputs=outputs,
            fail_on=fail_on,
            verbose=verbose,
            sample=sample or False,
            **kube_inputs(kube),
        )
    )


@click.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@target_options
@REPORT_FORMAT
@REPORT_OUTPUT
@FAIL_ON
@click.option("-v", "--verbose", is_flag=True, help="Show informational findings, sub-ids, timings, tracebacks.")
@click.option(
    "--as-fixed",
    is_flag=True,
    help="Bring up the corrected command (what 'triton-doctor command' prints: explicit model control, "
    "--shm-size, ulimits...) instead of your docker run as written.",
)
def up(
    fmt: str | None, outputs: tuple[str, ...], fail_on: str | None, verbose: bool, as_fixed: bool, **target: Any
) -> None:
    """Bring Triton + vLLM up, wait until every model is READY and make one test generation.

    Your --docker-command runs as written (only named, labelled and, where a host port is taken, remapped);
    what it lacks is reported, never added. --as-fixed runs the corrected command instead.
    Without a Docker daemon (and without --server) it exits 1: the bring-up could not be done.
    """
    from dataclasses import replace

    request = build_request(
        target,
        live=True,
        only=("live-server", "live-generate"),
        fmt=fmt,
        outputs=outputs,
        fail_on=fail_on,
        verbose=verbose,
    )
    if as_fixed:
        request = replace(request, live_options=replace(request.live_options, as_fixed=True))
        click.echo(
            "triton-doctor up --as-fixed: bringing up the CORRECTED command (triton-doctor command prints it), "
            "not your command as written",
            err=True,
        )
    run_request(request)


@click.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@click.argument("source", metavar="SOURCE")
@click.option("--skip", multiple=True, metavar="ID", help="Skip findings, e.g. container-logs[hf-rate-limited].")
@click.option(
    "--format",
    "fmt",
    type=FORMAT_CHOICE,
    default="text",
    help="Report format (text goes to stderr; the others to stdout or --output).",
)
@REPORT_OUTPUT
@click.option(
    "--fail-on",
    type=click.Choice(["warn", "fail"]),
    default="fail",
    help="Lowest status that makes the exit code 1 (default: fail).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show informational findings and sub-ids.")
def logs(source: str, skip: tuple[str, ...], fmt: str, outputs: tuple[str, ...], fail_on: str, verbose: bool) -> None:
    """Diagnose a Triton log: SOURCE is a container name or id, a file, or - for stdin."""
    from triton_doctor.app.logs import LogsRequest, run_logs_command
    from triton_doctor.deploy.target import TargetError
    from triton_doctor.policy import PolicyError
    from triton_doctor.report.emit import OutputError

    try:
        code = run_logs_command(
            LogsRequest(source=source, fmt=fmt, outputs=outputs, fail_on=fail_on, verbose=verbose, skip=skip)
        )
    except (TargetError, PolicyError, OutputError) as exc:
        fail_usage(str(exc))
    except OSError as exc:
        write_failed(exc)
    except KeyboardInterrupt:
        click.echo("triton-doctor: interrupted", err=True)
        sys.exit(130)
    sys.exit(code)


@click.command(context_settings=CONTEXT, epilog=BUNDLE_EXIT_CODES)
@target_options
@click.option(
    "--output", "bundle_output", metavar="FILE", help="The archive (default: triton-doctor-bundle-<UTC time>.tar.gz)."
)
@click.option("--container", metavar="NAME", help="Container whose log to include (default: the command's --name).")
@click.option("--log", "log_file", metavar="FILE", help="A log file to include instead of a container's log.")
@click.option("--lines", type=click.IntRange(min=1), default=200, show_default=True, help="Last lines of the log.")
@click.option("--profile", type=click.Choice(["quick", "standard", "full"]), default=None, help="As for check.")
@click.option("--sample", is_flag=True, help="Bundle the shipped sample repository.")
def bundle(
    bundle_output: str | None,
    container: str | None,
    log_file: str | None,
    lines: int,
    profile: str | None,
    sample: bool,
    **target: Any,
) -> None:
    """Write a local tar.gz for a bug report: report, versions, inventory, configs, command, log tail.

    Every secret is redacted and home paths are shortened to ~; nothing is uploaded. Exits 0 once the archive
    is written (the check's verdict is inside it), 2 for bad input.
    """
    from triton_doctor.app.bundle import BundleRequest, make_bundle
    from triton_doctor.deploy.target import TargetError
    from triton_doctor.policy import PolicyError
    from triton_doctor.probes.fs import FileReadError
    from triton_doctor.report.emit import OutputError
    from triton_doctor.report.fingerprint import BaselineError

    request = build_request(target, live=profile == "full")
    try:
        path, code = make_bundle(
            BundleRequest(
                target=request.target,
                output=bundle_output,
                container=container,
                log_file=log_file,
                lines=lines,
                profile=profile,
                sample=sample,
            )
        )
    except (TargetError, PolicyError, OutputError, BaselineError, FileReadError) as exc:
        fail_usage(str(exc))
        return
    except OSError as exc:
        fail_usage(f"cannot write the bundle: {exc}")
        return
    verdict = {0: "no issues", 1: "issues found", 3: "a check could not decide"}.get(code, f"exit {code}")
    click.echo(f"Wrote {path} ({verdict}; secrets redacted; nothing uploaded; review it before sharing).", err=True)
