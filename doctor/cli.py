"""The ``triton-doctor`` command line: argument parsing and wiring only.

Heavy modules (docker, huggingface_hub, pynvml, tritonclient, even rich) are imported by the commands that
need them, never at start-up, so ``triton-doctor --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Any

import click

from triton_doctor import __version__

__all__ = ["main"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}

FORMAT_CHOICE = click.Choice(["text", "json", "junit", "sarif", "github"])
OUTPUT_HELP = (
    "Write a report: FORMAT:PATH (repeatable; FORMAT is text, json, junit, sarif or github; PATH - is stdout, "
    "at most one) or a plain PATH for the --format report."
)

EXIT_CODES = """\b
Exit codes:
  0  nothing at or above --fail-on
  1  findings at or above --fail-on
  2  usage or configuration error (bad flag, unreadable target)
  3  the doctor could not decide (a check errored or timed out)"""


#: The report options that check and up share (each use makes its own click Option).
_REPORT_FORMAT = click.option(
    "--format",
    "fmt",
    type=FORMAT_CHOICE,
    default=None,
    help="Report format (text goes to stderr; the others to stdout or --output).",
)
_REPORT_OUTPUT = click.option("--output", "outputs", multiple=True, metavar="[FORMAT:]PATH", help=OUTPUT_HELP)
_FAIL_ON = click.option(
    "--fail-on",
    type=click.Choice(["warn", "fail"]),
    default=None,
    help="Lowest status that makes the exit code 1 (default: fail).",
)


def _write_failed(exc: OSError) -> None:
    if isinstance(exc, BrokenPipeError):
        _quiet_broken_pipe()
        _fail_usage("cannot write the report: the reader of standard output went away")
    _fail_usage(f"cannot write the report: {exc}")


def _fail_usage(message: str) -> None:
    from triton_doctor.report.safe import printable
    from triton_doctor.tokens import redact

    click.echo(f"triton-doctor: error: {printable(redact(message, set()))}", err=True)
    sys.exit(2)


@click.group(context_settings=CONTEXT, epilog=EXIT_CODES)
@click.version_option(__version__, "--version", prog_name="triton-doctor", message="%(prog)s %(version)s")
def cli() -> None:
    """Find what breaks a Triton Inference Server + vLLM deployment before you deploy it."""
    from triton_doctor.target import TargetError, validate_environment

    try:
        validate_environment()
    except TargetError as exc:
        _fail_usage(str(exc))


def _seconds(_ctx: Any, param: Any, value: float | None) -> float | None:
    """A click callback: the value must be a positive, finite number of seconds (not -5, not nan)."""
    from triton_doctor.target import TargetError, positive_seconds

    if value is None:
        return None
    try:
        return positive_seconds(str(value), param.opts[0])
    except TargetError as exc:
        raise click.BadParameter(f"{value!r} is not a positive number of seconds") from exc


def _target_options(func: Any) -> Any:
    """The options that say what to check (shared by check and up)."""
    options = [
        click.option(
            "--repo",
            metavar="PATH",
            help="Model repository on the host (default: ./model_repository, or "
            "the source mounted at --model-repository in --docker-command).",
        ),
        click.option(
            "--model",
            "models",
            multiple=True,
            metavar="NAME",
            help="Model to check (repeatable; default: the --load-model names, else every model in the repository).",
        ),
        click.option(
            "--mount",
            "mounts",
            multiple=True,
            metavar="HOST:TARGET",
            help="A bind mount of the "
            "container (repeatable). The repository is mounted at /models unless said otherwise.",
        ),
        click.option(
            "--docker-command",
            metavar="TEXT",
            help="Your own 'docker run ...' command line (bash, PowerShell or cmd quoting).",
        ),
        click.option("--docker-command-file", metavar="FILE", help="A file holding your 'docker run ...' command."),
        click.option("--image", metavar="REF", help="The tritonserver image (default: from --docker-command)."),
        click.option(
            "--config",
            "config_file",
            metavar="FILE",
            help="Config file (default: ./triton-doctor.toml or [tool.triton-doctor] in ./pyproject.toml).",
        ),
        click.option(
            "--server",
            metavar="URL",
            help="An already running Triton, e.g. http://host:8000 (live "
            "checks use it instead of starting a container).",
        ),
        click.option(
            "--offline", is_flag=True, default=None, help="No network: network checks are skipped, never failed."
        ),
        click.option(
            "--timeout",
            "live_timeout",
            type=float,
            default=900.0,
            callback=_seconds,
            show_default=True,
            metavar="SECONDS",
            help="Live stage: how long to wait for READY.",
        ),
        click.option(
            "--grpc",
            "grpc_url",
            metavar="HOST:PORT",
            help="--server: the server's gRPC endpoint for the gRPC generation "
            "(default: the HTTP host with port 8001 when HTTP is 8000).",
        ),
        click.option("--keep", is_flag=True, help="Live stage: leave a healthy container running."),
        click.option(
            "--no-gpus", is_flag=True, help="Live stage: start the container without --gpus (CPU-only images)."
        ),
        click.option(
            "--prompt",
            default="The capital of France is",
            show_default=True,
            help="Live stage: the prompt of the test generation.",
        ),
        click.option(
            "--sampling",
            default='{"max_tokens": 32, "temperature": 0}',
            show_default=True,
            metavar="JSON",
            help="Live stage: sampling parameters of the test generation.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _live_options(
    live_timeout: float, keep: bool, no_gpus: bool, prompt: str, sampling: str, grpc_url: str | None = None
) -> Any:
    import json

    from triton_doctor.live import LiveOptions

    try:
        params = json.loads(sampling)
    except json.JSONDecodeError as exc:
        _fail_usage(f"--sampling is not JSON: {exc.msg} at column {exc.colno}")
    except (ValueError, RecursionError) as exc:  # an over-long integer, deep nesting
        _fail_usage(f"--sampling is not usable JSON: {str(exc)[:200]}")
    if not isinstance(params, dict):
        _fail_usage('--sampling must be a JSON object, e.g. {"max_tokens": 32}')
    grpc = None if grpc_url is None else grpc_url if "://" in grpc_url else f"grpc://{grpc_url}"
    return LiveOptions(
        timeout_s=live_timeout, keep=keep, gpus=not no_gpus, prompt=prompt, sampling=params, grpc_url=grpc
    )


def _request(target: dict[str, Any], *, live: bool, **fields: Any) -> Any:
    """A CheckRequest from the shared target/live options (``target``) and the command's own ``fields``."""
    from triton_doctor.app import CheckRequest

    target_input = _target_input(target)
    options = (
        _live_options(
            target["live_timeout"],
            target["keep"],
            target["no_gpus"],
            target["prompt"],
            target["sampling"],
            target["grpc_url"],
        )
        if live
        else None
    )
    return CheckRequest(
        target=target_input,
        live=live,
        live_options=options,
        **fields,
    )


def _target_input(target: dict[str, Any]) -> Any:
    """The TargetInput of the shared target options (check, up, bundle, fix, command)."""
    from triton_doctor.target import TargetInput

    if target["docker_command"] and target["docker_command_file"]:
        _fail_usage("give --docker-command or --docker-command-file, not both")
    return TargetInput(
        repo=target["repo"],
        models=target["models"],
        mounts=target["mounts"],
        docker_command=target["docker_command"],
        docker_command_file=target["docker_command_file"],
        config=target["config_file"],
        server=target.get("server"),
        offline=target["offline"],
        image=target["image"],
        cwd=_cwd(),
    )


def _cwd() -> Path:
    try:
        return Path.cwd()
    except OSError as exc:
        _fail_usage(f"the current directory cannot be read ({exc.strerror}); cd to an existing directory")
        raise  # unreachable: _fail_usage exits


def _run(request: Any) -> None:
    from triton_doctor.app import run_check_command
    from triton_doctor.fingerprint import BaselineError
    from triton_doctor.live.cleanup import Stopped, stop_signals
    from triton_doctor.outputs import OutputError
    from triton_doctor.policy import PolicyError
    from triton_doctor.target import TargetError

    try:
        with stop_signals():  # SIGTERM, SIGHUP (terminal closed) and SIGINT: the same cleanup as Ctrl-C
            code = run_check_command(request)
    except (TargetError, PolicyError, OutputError, BaselineError) as exc:
        _fail_usage(str(exc))
    except OSError as exc:
        _write_failed(exc)
    except KeyboardInterrupt as exc:
        how = f"stopped by {exc.args[0]}" if isinstance(exc, Stopped) and exc.args[0] != "SIGINT" else "interrupted"
        with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP): the containers are removed anyway
            click.echo(f"triton-doctor: {how}; the doctor's containers were removed", err=True)
        sys.exit(exc.exit_code if isinstance(exc, Stopped) else 130)
    sys.exit(code)


@cli.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@_target_options
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
@_REPORT_FORMAT
@_REPORT_OUTPUT
@click.option("--baseline", metavar="FILE", help="Report only findings not in FILE (written by --write-baseline).")
@click.option(
    "--write-baseline",
    metavar="FILE",
    help="Record every finding of this run in FILE (exit 0 unless a check errored), for a later --baseline.",
)
@_FAIL_ON
@click.option(
    "--sample",
    type=click.Choice(["fixed", "guide"]),
    is_flag=False,
    flag_value="fixed",
    default=None,
    help="Check a sample repository shipped with triton-doctor: the guide's two shapes made right (--sample), "
    "or the guide's files exactly as written (--sample guide: its max_batch_size: 256 is found).",
)
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
    _run(
        _request(
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
        )
    )


@cli.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@_target_options
@_REPORT_FORMAT
@_REPORT_OUTPUT
@_FAIL_ON
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

    request = _request(
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
    _run(request)


@cli.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@click.argument("source", metavar="SOURCE")
@click.option("--skip", multiple=True, metavar="ID", help="Skip findings, e.g. container-logs[hf-rate-limited].")
@click.option(
    "--format",
    "fmt",
    type=FORMAT_CHOICE,
    default="text",
    help="Report format (text goes to stderr; the others to stdout or --output).",
)
@_REPORT_OUTPUT
@click.option(
    "--fail-on",
    type=click.Choice(["warn", "fail"]),
    default="fail",
    help="Lowest status that makes the exit code 1 (default: fail).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show informational findings and sub-ids.")
def logs(source: str, skip: tuple[str, ...], fmt: str, outputs: tuple[str, ...], fail_on: str, verbose: bool) -> None:
    """Diagnose a Triton log: SOURCE is a container name or id, a file, or - for stdin."""
    from triton_doctor.app import LogsRequest, run_logs_command
    from triton_doctor.outputs import OutputError
    from triton_doctor.policy import PolicyError
    from triton_doctor.target import TargetError

    try:
        code = run_logs_command(
            LogsRequest(source=source, fmt=fmt, outputs=outputs, fail_on=fail_on, verbose=verbose, skip=skip)
        )
    except (TargetError, PolicyError, OutputError) as exc:
        _fail_usage(str(exc))
    except OSError as exc:
        _write_failed(exc)
    except KeyboardInterrupt:
        click.echo("triton-doctor: interrupted", err=True)
        sys.exit(130)
    sys.exit(code)


@cli.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@_target_options
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
    from triton_doctor.bundle import BundleRequest, make_bundle
    from triton_doctor.fingerprint import BaselineError
    from triton_doctor.outputs import OutputError
    from triton_doctor.policy import PolicyError
    from triton_doctor.probes.fs import FileReadError
    from triton_doctor.target import TargetError

    request = _request(target, live=profile == "full")
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
        _fail_usage(str(exc))
        return
    except OSError as exc:
        _fail_usage(f"cannot write the bundle: {exc}")
        return
    verdict = {0: "no issues", 1: "issues found", 3: "a check could not decide"}.get(code, f"exit {code}")
    click.echo(f"Wrote {path} ({verdict}; secrets redacted; nothing uploaded; review it before sharing).", err=True)


def _fix_target_options(func: Any) -> Any:
    """The target options of check that say what to fix (no live-stage options)."""
    keep = {"repo", "models", "mounts", "docker_command", "docker_command_file", "image", "config_file", "offline"}
    holder = _target_options(lambda: None)
    for param in holder.__click_params__:
        if param.name in keep:
            func.__click_params__ = [*getattr(func, "__click_params__", []), param]
    return func


@cli.command(context_settings=CONTEXT)
@_fix_target_options
@click.option(
    "--only", multiple=True, metavar="ID", help="Fix only these checks (default: the repo and mounts categories)."
)
@click.option("--skip", multiple=True, metavar="ID", help="Leave these checks or findings alone.")
@click.option("--dry-run", is_flag=True, help="Show the planned changes as diffs and stop.")
@click.option("-y", "--yes", is_flag=True, help="Apply without asking (without it and without a terminal: dry run).")
@click.option("--unsafe", is_flag=True, help="Also apply fixes that are a judgement (e.g. lowering max_model_len).")
@click.option(
    "--undo",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[RUN-ID]",
    help="Restore a fix run byte for byte (default: the latest run for the repository).",
)
@click.option("--force", is_flag=True, help="With --undo: restore even files changed after the fix.")
def fix(
    only: tuple[str, ...],
    skip: tuple[str, ...],
    dry_run: bool,
    yes: bool,
    unsafe: bool,
    undo: str | None,
    force: bool,
    **target: Any,
) -> None:
    """Repair what check found: preview, confirm, journal, apply, re-check (and --undo)."""
    from triton_doctor.fixes import FixError, FixRequest, JournalError, run_fix_command
    from triton_doctor.policy import PolicyError
    from triton_doctor.target import TargetError

    request = FixRequest(
        target=_target_input(target),
        only=only,
        skip=skip,
        dry_run=dry_run,
        yes=yes,
        unsafe=unsafe,
        undo=undo,
        force=force,
    )
    try:
        code = run_fix_command(request)
    except (TargetError, PolicyError, FixError, JournalError) as exc:
        _fail_usage(str(exc))
    except KeyboardInterrupt:
        click.echo("triton-doctor: interrupted; undo a partial run with 'triton-doctor fix --undo'", err=True)
        sys.exit(130)
    sys.exit(code)


@cli.command(context_settings=CONTEXT)
@_fix_target_options
@click.option(
    "--shell",
    "shells",
    multiple=True,
    type=click.Choice(["bash", "powershell", "cmd", "compose"]),
    help="Only these renderings (repeatable; default: all four).",
)
@click.option("--no-client", is_flag=True, help="Leave out the curl and Python client calls.")
def command(shells: tuple[str, ...], no_client: bool, **target: Any) -> None:
    """Print the docker run for bash, PowerShell and cmd, a compose service, and client calls."""
    from triton_doctor.runcmd import command_text, spec_for_target
    from triton_doctor.target import TargetError, build_target

    try:
        built, _config = build_target(_target_input(target))
    except TargetError as exc:
        _fail_usage(str(exc))
        return
    chosen = list(shells) or ["bash", "powershell", "cmd", "compose"]
    click.echo(command_text(spec_for_target(built), chosen, client=not no_client), nl=False)  # type: ignore[arg-type]


@cli.command(context_settings=CONTEXT)
@click.argument("model_id", metavar="MODEL_ID")
@click.option("--repo", default="model_repository", show_default=True, metavar="PATH", help="The model repository.")
@click.option("--name", metavar="NAME", help="The Triton model name (default: the part of MODEL_ID after the slash).")
@click.option(
    "--local",
    is_flag=True,
    help="Download the model into local_models/<org>_<name>/ beside the repository and point model.json at "
    "/local_models/... (resumable; token from HF_TOKEN).",
)
def init(model_id: str, repo: str, name: str | None, local: bool) -> None:
    """Write the guide's layout for MODEL_ID: config.pbtxt and 1/model.json (never overwrites)."""
    from triton_doctor.init import InitError, InitRequest, run_init

    try:
        click.echo(run_init(InitRequest(model_id=model_id, repo=repo, name=name, local=local)), nl=False)
    except InitError as exc:
        _fail_usage(str(exc))
    except OSError as exc:
        _fail_usage(f"download failed: {exc}; run init --local again to resume")
    except KeyboardInterrupt:
        click.echo("triton-doctor: interrupted; run the same init --local to resume the download", err=True)
        sys.exit(130)


@cli.command("list-checks", context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def list_checks(fmt: str) -> None:
    """List the registered checks (built-in and plugins)."""
    import json

    from triton_doctor.registry import load_registry
    from triton_doctor.runner import order_checks

    registry = load_registry()
    ordered = order_checks(registry.checks.values())
    if fmt == "json":
        rows = [
            {
                "id": c.id,
                "title": c.title,
                "category": c.category.value,
                "requires": sorted(c.requires),
                "network": c.network,
                "opt_in": c.opt_in,
                "sub_ids": sorted(c.sub_ids),
                "origin": registry.origin.get(c.id),
            }
            for c in ordered
        ]
        click.echo(json.dumps({"checks": rows, "load_errors": registry.errors}, indent=2))
        return
    for c in ordered:
        flags = " (network)" if c.network else ""
        flags += " (opt-in)" if c.opt_in else ""
        click.echo(f"{c.id:<28} {c.category.value:<8} {c.title}{flags}")
    for ep, err in registry.errors:
        click.echo(f"! not loaded: {ep}: {err}", err=True)


@cli.command(context_settings=CONTEXT)
@click.argument("check_id", metavar="ID")
def explain(check_id: str) -> None:
    """Explain a check and its findings (ID or ID[sub-id]), or a failure mode of the catalog (catalog id)."""
    import difflib
    import textwrap

    from triton_doctor.registry import load_registry

    registry = load_registry()
    base = check_id.split("[", 1)[0]
    cls = registry.checks.get(base)
    if cls is None and _explain_catalog(base, registry.checks):
        return
    if cls is None:
        from triton_doctor.policy import catalog_ids

        close = difflib.get_close_matches(base, [*registry.checks, *sorted(catalog_ids())], n=1)
        _fail_usage(
            f"unknown check {check_id!r}"
            + (f"; did you mean {close[0]!r}?" if close else "; see 'triton-doctor list-checks'")
        )
        return
    click.echo(f"{cls.id}: {cls.title}  [category: {cls.category.value}]")
    if cls.requires:
        click.echo(f"requires: {', '.join(sorted(cls.requires))}")
    click.echo()
    click.echo(textwrap.fill(cls.explanation or (cls.__doc__ or "").strip(), width=100))
    if cls.sub_ids:
        click.echo("\nfindings:")
        for sub, meaning in cls.sub_ids.items():
            click.echo(f"  {cls.id}[{sub}]  {meaning}")


def _explain_catalog(catalog_id: str, checks: Any) -> bool:
    """Print a failure mode of the catalog and the checks that report it; False when ``catalog_id`` is none."""
    import textwrap

    from triton_doctor.knowledge import CATALOG
    from triton_doctor.logs import load_catalog

    entry = next((e for e in load_catalog() if e.id == catalog_id), None)
    if entry is None and catalog_id not in CATALOG:
        return False
    stage = CATALOG.get(catalog_id, "?")
    click.echo(f"{catalog_id}: failure mode of the catalog  [stage: {stage}]")
    if entry is not None:
        click.echo()
        click.echo(textwrap.fill(f"Cause: {entry.cause}", width=100))
        click.echo(textwrap.fill(f"Fix: {entry.remedy}", width=100))
        if entry.patterns:
            click.echo(
                "\nseen in the server log; 'triton-doctor logs' reports it as container-logs[" + catalog_id + "]"
            )
    reporters = sorted(cid for cid, cls in checks.items() if catalog_id in cls.sub_ids)
    if reporters:
        click.echo(f"reported by: {', '.join(reporters)}")
    click.echo(f"\nselect or skip it with --only/--skip {catalog_id}")
    return True


class _StdoutClosed(OSError):
    """Writing to a standard output that was closed; ``str()`` is the message."""

    def __str__(self) -> str:
        return str(self.args[0])


class _ClosedStdout(io.TextIOBase):
    """Stands for a standard output that was closed (``>&-``): writing the report to it is an error."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not text:
            return 0
        raise _StdoutClosed("standard output is closed; give --output FILE for the report")

    def isatty(self) -> bool:
        return False


def _guard_standard_streams() -> None:
    """Give closed standard streams (``<&-``, ``>&-``, ``2>&-``) a harmless stand-in.

    Their file descriptors get ``/dev/null`` so that no file the doctor opens later lands on fd 0-2 (and a
    child process never writes into it). stdin stays ``None`` (``logs -`` says it is closed); stderr is
    discarded; stdout raises on the first write, so a report meant for it exits 2 and the rest carries on.
    """
    for fd, mode in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, mode)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process


def _quiet_broken_pipe() -> None:
    """After the reader of stdout went away: point stdout at /dev/null so the exit flush cannot fail again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def main() -> None:
    """Console-script entry point."""
    _guard_standard_streams()
    try:
        cli(prog_name="triton-doctor")
    except BrokenPipeError:
        _write_failed(BrokenPipeError())
    except _StdoutClosed as exc:  # list-checks, explain, --version with stdout closed
        _fail_usage(str(exc))
    except SystemExit as done:
        # A timed-out check may still be running: end the process without waiting for it.
        from triton_doctor.runner import finish

        finish(done.code if isinstance(done.code, int) else (0 if done.code is None else 2))
        raise


if __name__ == "__main__":
    main()
