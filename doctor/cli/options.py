"""The options and helpers the commands share: what to check, live-stage settings, report outputs, usage errors."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from triton_doctor.cli.streams import quiet_broken_pipe

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

BUNDLE_EXIT_CODES = """\b
Exit codes:
  0  the archive is written (the verdict is in its report.json)
  2  usage or configuration error (bad flag, unreadable target, archive not writable)"""


#: The report options that check and up share (each use makes its own click Option).
REPORT_FORMAT = click.option(
    "--format",
    "fmt",
    type=FORMAT_CHOICE,
    default=None,
    help="Report format (text goes to stderr; the others to stdout or --output).",
)
REPORT_OUTPUT = click.option("--output", "outputs", multiple=True, metavar="[FORMAT:]PATH", help=OUTPUT_HELP)
FAIL_ON = click.option(
    "--fail-on",
    type=click.Choice(["warn", "fail"]),
    default=None,
    help="Lowest status that makes the exit code 1 (default: fail).",
)


def write_failed(exc: OSError) -> None:
    if isinstance(exc, BrokenPipeError):
        quiet_broken_pipe()
        fail_usage("cannot write the report: the reader of standard output went away")
    fail_usage(f"cannot write the report: {exc}")


def fail_usage(message: str) -> None:
    from triton_doctor.core.secrets import redact
    from triton_doctor.report.redact import printable

    click.echo(f"triton-doctor: error: {printable(redact(message, set()))}", err=True)
    sys.exit(2)


def seconds(_ctx: Any, param: Any, value: float | None) -> float | None:
    """A click callback: the value must be a positive, finite number of seconds (not -5, not nan)."""
    from triton_doctor.deploy.config import positive_seconds
    from triton_doctor.deploy.target import TargetError

    if value is None:
        return None
    try:
        return positive_seconds(str(value), param.opts[0])
    except TargetError as exc:
        raise click.BadParameter(f"{value!r} is not a positive number of seconds") from exc


def target_options(func: Any) -> Any:
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
        click.option(
            "--compose-file",
            "compose_files",
            multiple=True,
            metavar="PATH",
            help="A compose file describing the deployment (repeatable, like docker compose -f; default: "
            "compose.yaml or docker-compose.yml here when nothing else says what to check).",
        ),
        click.option(
            "--service",
            "services",
            multiple=True,
            metavar="NAME",
            help="The compose service to check (default: the one running tritonserver).",
        ),
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
            callback=seconds,
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


def build_live_options(
    live_timeout: float, keep: bool, no_gpus: bool, prompt: str, sampling: str, grpc_url: str | None = None
) -> Any:
    import json

    from triton_doctor.live import LiveOptions

    try:
        params = json.loads(sampling)
    except json.JSONDecodeError as exc:
        fail_usage(f"--sampling is not JSON: {exc.msg} at column {exc.colno}")
    except (ValueError, RecursionError) as exc:  # an over-long integer, deep nesting
        fail_usage(f"--sampling is not usable JSON: {str(exc)[:200]}")
    if not isinstance(params, dict):
        fail_usage('--sampling must be a JSON object, e.g. {"max_tokens": 32}')
    grpc = None if grpc_url is None else grpc_url if "://" in grpc_url else f"grpc://{grpc_url}"
    return LiveOptions(
        timeout_s=live_timeout, keep=keep, gpus=not no_gpus, prompt=prompt, sampling=params, grpc_url=grpc
    )


def build_request(target: dict[str, Any], *, live: bool, **fields: Any) -> Any:
    """A CheckRequest from the shared target/live options (``target``) and the command's own ``fields``."""
    from triton_doctor.app import CheckRequest

    target_input = build_target_input(target)
    options = (
        build_live_options(
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


def build_target_input(target: dict[str, Any]) -> Any:
    """The TargetInput of the shared target options (check, up, bundle, fix, command)."""
    from triton_doctor.deploy.inputs import TargetInput

    if target["docker_command"] and target["docker_command_file"]:
        fail_usage("give --docker-command or --docker-command-file, not both")
    if target.get("compose_files") and (target["docker_command"] or target["docker_command_file"]):
        fail_usage("give --compose-file or a docker command, not both")
    return TargetInput(
        repo=target["repo"],
        models=target["models"],
        mounts=target["mounts"],
        docker_command=target["docker_command"],
        docker_command_file=target["docker_command_file"],
        compose_files=tuple(target.get("compose_files") or ()),
        services=tuple(target.get("services") or ()),
        config=target["config_file"],
        server=target.get("server"),
        offline=target["offline"],
        image=target["image"],
        cwd=cwd(),
    )


def cwd() -> Path:
    try:
        return Path.cwd()
    except OSError as exc:
        fail_usage(f"the current directory cannot be read ({exc.strerror}); cd to an existing directory")
        raise  # unreachable: fail_usage exits


def run_request(request: Any) -> None:
    from triton_doctor.app import run_check_command
    from triton_doctor.deploy.target import TargetError
    from triton_doctor.live.cleanup import Stopped, stop_signals
    from triton_doctor.policy import PolicyError
    from triton_doctor.report.emit import OutputError
    from triton_doctor.report.fingerprint import BaselineError

    try:
        with stop_signals():  # SIGTERM, SIGHUP (terminal closed) and SIGINT: the same cleanup as Ctrl-C
            code = run_check_command(request)
    except (TargetError, PolicyError, OutputError, BaselineError) as exc:
        fail_usage(str(exc))
    except OSError as exc:
        write_failed(exc)
    except KeyboardInterrupt as exc:
        how = f"stopped by {exc.args[0]}" if isinstance(exc, Stopped) and exc.args[0] != "SIGINT" else "interrupted"
        with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP): the containers are removed anyway
            click.echo(f"triton-doctor: {how}; the doctor's containers were removed", err=True)
        sys.exit(exc.exit_code if isinstance(exc, Stopped) else 130)
    sys.exit(code)


def fix_target_options(func: Any) -> Any:
    """The target options of check that say what to fix (no live-stage options)."""
    keep = {"repo", "models", "mounts", "docker_command", "docker_command_file", "image", "config_file", "offline"}
    keep |= {"compose_files", "services"}
    holder = target_options(lambda: None)
    for param in holder.__click_params__:
        if param.name in keep:
            func.__click_params__ = [*getattr(func, "__click_params__", []), param]
    return func
