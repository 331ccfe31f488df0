"""The ``triton-doctor`` command line: argument parsing and wiring only.

Heavy modules (docker, huggingface_hub, pynvml, tritonclient, even rich) are imported by the commands that
need them, never at start-up, so ``triton-doctor --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from triton_doctor import __version__

__all__ = ["main"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}

EXIT_CODES = """\b
Exit codes:
  0  nothing at or above --fail-on
  1  findings at or above --fail-on
  2  usage or configuration error (bad flag, unreadable target)
  3  the doctor could not decide (a check errored or timed out)"""


def _fail_usage(message: str) -> None:
    click.echo(f"triton-doctor: error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings=CONTEXT, epilog=EXIT_CODES)
@click.version_option(__version__, "--version", prog_name="triton-doctor", message="%(prog)s %(version)s")
def cli() -> None:
    """Find what breaks a Triton Inference Server + vLLM deployment before you deploy it."""


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
            show_default=True,
            metavar="SECONDS",
            help="Live stage: how long to wait for READY.",
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


def _live_options(live_timeout: float, keep: bool, no_gpus: bool, prompt: str, sampling: str) -> Any:
    import json

    from triton_doctor.live import LiveOptions

    try:
        params = json.loads(sampling)
    except json.JSONDecodeError as exc:
        _fail_usage(f"--sampling is not JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(params, dict):
        _fail_usage('--sampling must be a JSON object, e.g. {"max_tokens": 32}')
    return LiveOptions(timeout_s=live_timeout, keep=keep, gpus=not no_gpus, prompt=prompt, sampling=params)


def _request(target: dict[str, Any], *, live: bool, **fields: Any) -> Any:
    """A CheckRequest from the shared target/live options (``target``) and the command's own ``fields``."""
    from triton_doctor.app import CheckRequest
    from triton_doctor.target import TargetInput

    if target["docker_command"] and target["docker_command_file"]:
        _fail_usage("give --docker-command or --docker-command-file, not both")
    options = (
        _live_options(target["live_timeout"], target["keep"], target["no_gpus"], target["prompt"], target["sampling"])
        if live
        else None
    )
    return CheckRequest(
        target=TargetInput(
            repo=target["repo"],
            models=target["models"],
            mounts=target["mounts"],
            docker_command=target["docker_command"],
            docker_command_file=target["docker_command_file"],
            config=target["config_file"],
            server=target["server"],
            offline=target["offline"],
            image=target["image"],
            cwd=Path.cwd(),
        ),
        live=live,
        live_options=options,
        **fields,
    )


def _run(request: Any) -> None:
    from triton_doctor.app import run_check_command
    from triton_doctor.policy import PolicyError
    from triton_doctor.target import TargetError

    try:
        code = run_check_command(request)
    except (TargetError, PolicyError) as exc:
        _fail_usage(str(exc))
    except OSError as exc:
        _fail_usage(f"cannot write the report: {exc}")
    except KeyboardInterrupt:
        click.echo("triton-doctor: interrupted; the doctor's containers were removed", err=True)
        sys.exit(130)
    sys.exit(code)


@cli.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@_target_options
@click.option(
    "--only",
    multiple=True,
    metavar="ID",
    help="Run only these checks: id, id[sub-id] or category (repeatable, comma-separated).",
)
@click.option("--skip", multiple=True, metavar="ID", help="Skip these checks or findings (same forms as --only).")
@click.option("--live", is_flag=True, help="Also bring the deployment up, wait for READY and generate.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit"]),
    default=None,
    help="Report format (text goes to stderr; json and junit to stdout or --output).",
)
@click.option("--output", metavar="FILE", help="Write the report to FILE instead of stdout.")
@click.option(
    "--fail-on",
    type=click.Choice(["warn", "fail"]),
    default=None,
    help="Lowest status that makes the exit code 1 (default: fail).",
)
@click.option(
    "--sample", is_flag=True, help="Check the sample repository shipped with triton-doctor (the guide's two shapes)."
)
@click.option("-v", "--verbose", is_flag=True, help="Show informational findings, sub-ids, timings, tracebacks.")
def check(
    only: tuple[str, ...],
    skip: tuple[str, ...],
    live: bool,
    fmt: str | None,
    output: str | None,
    fail_on: str | None,
    sample: bool,
    verbose: bool,
    **target: Any,
) -> None:
    """Check the host and the model repository (and, with --live, bring it up and generate)."""
    live = live or bool(target["server"])
    _run(
        _request(
            target,
            live=live,
            only=only,
            skip=skip,
            fmt=fmt,
            output=output,
            fail_on=fail_on,
            verbose=verbose,
            sample=sample,
        )
    )


@cli.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@_target_options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default=None)
@click.option("--output", metavar="FILE", help="Write the report to FILE instead of stdout.")
@click.option("-v", "--verbose", is_flag=True)
def up(fmt: str | None, output: str | None, verbose: bool, **target: Any) -> None:
    """Bring Triton + vLLM up and wait until every model is READY (no generation)."""
    _run(_request(target, live=True, only=("live-server",), fmt=fmt, output=output, verbose=verbose))


@cli.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@click.argument("source", metavar="SOURCE")
@click.option("--skip", multiple=True, metavar="ID", help="Skip findings, e.g. container-logs[hf-rate-limited].")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit"]),
    default="text",
    help="Report format (text goes to stderr; json and junit to stdout or --output).",
)
@click.option("--output", metavar="FILE", help="Write the report to FILE instead of stdout.")
@click.option(
    "--fail-on",
    type=click.Choice(["warn", "fail"]),
    default="fail",
    help="Lowest status that makes the exit code 1 (default: fail).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show informational findings and sub-ids.")
def logs(source: str, skip: tuple[str, ...], fmt: str, output: str | None, fail_on: str, verbose: bool) -> None:
    """Diagnose a Triton log: SOURCE is a container name or id, a file, or - for stdin."""
    from triton_doctor.app import LogsRequest, run_logs_command
    from triton_doctor.target import TargetError

    try:
        code = run_logs_command(
            LogsRequest(source=source, fmt=fmt, output=output, fail_on=fail_on, verbose=verbose, skip=skip)
        )
    except TargetError as exc:
        _fail_usage(str(exc))
    except OSError as exc:
        _fail_usage(f"cannot write the report: {exc}")
    except KeyboardInterrupt:
        click.echo("triton-doctor: interrupted", err=True)
        sys.exit(130)
    sys.exit(code)


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
    from triton_doctor.target import TargetError, TargetInput

    if target["docker_command"] and target["docker_command_file"]:
        _fail_usage("give --docker-command or --docker-command-file, not both")
    request = FixRequest(
        target=TargetInput(
            repo=target["repo"],
            models=target["models"],
            mounts=target["mounts"],
            docker_command=target["docker_command"],
            docker_command_file=target["docker_command_file"],
            config=target["config_file"],
            offline=target["offline"],
            image=target["image"],
            cwd=Path.cwd(),
        ),
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
    from triton_doctor.target import TargetError, TargetInput, build_target

    if target["docker_command"] and target["docker_command_file"]:
        _fail_usage("give --docker-command or --docker-command-file, not both")
    try:
        built, _config = build_target(
            TargetInput(
                repo=target["repo"],
                models=target["models"],
                mounts=target["mounts"],
                docker_command=target["docker_command"],
                docker_command_file=target["docker_command_file"],
                config=target["config_file"],
                offline=target["offline"],
                image=target["image"],
                cwd=Path.cwd(),
            )
        )
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
    """Explain a check and its findings (ID or ID[sub-id])."""
    import difflib
    import textwrap

    from triton_doctor.registry import load_registry

    registry = load_registry()
    base = check_id.split("[", 1)[0]
    cls = registry.checks.get(base)
    if cls is None:
        close = difflib.get_close_matches(base, list(registry.checks), n=1)
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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="triton-doctor")


if __name__ == "__main__":
    main()
