"""fix, command and init: the commands that write or print a deployment."""

from __future__ import annotations

import sys
from typing import Any

import click

from triton_doctor.cli.options import CONTEXT, build_target_input, fail_usage, fix_target_options


@click.command(context_settings=CONTEXT)
@fix_target_options
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
    from triton_doctor.deploy.target import TargetError
    from triton_doctor.policy import PolicyError
    from triton_doctor.repair import FixError, FixRequest, JournalError, run_fix_command

    request = FixRequest(
        target=build_target_input(target),
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
        fail_usage(str(exc))
    except KeyboardInterrupt:
        click.echo("triton-doctor: interrupted; undo a partial run with 'triton-doctor fix --undo'", err=True)
        sys.exit(130)
    sys.exit(code)


@click.command(context_settings=CONTEXT)
@fix_target_options
@click.option(
    "--shell",
    "shells",
    multiple=True,
    type=click.Choice(["bash", "powershell", "cmd", "compose"]),
    help="Only these renderings (repeatable; default: all four).",
)
@click.option("--no-client", is_flag=True, help="Leave out the curl and Python client calls.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["shell", "k8s"]),
    default="shell",
    show_default=True,
    help="k8s: a Deployment + Service (Secret token, /dev/shm, GPUs, startup probe, HF cache, the doctor as "
    "preflight init container) that check --manifest passes.",
)
def command(shells: tuple[str, ...], no_client: bool, fmt: str, **target: Any) -> None:
    """Print the docker run for bash, PowerShell and cmd, a compose service, and client calls."""
    from triton_doctor.deploy.inputs import build_target
    from triton_doctor.deploy.render import command_text
    from triton_doctor.deploy.target import TargetError
    from triton_doctor.facts.printed import printed_command

    try:
        built, _config = build_target(build_target_input(target))
    except TargetError as exc:
        fail_usage(str(exc))
        return
    if fmt == "k8s":
        from triton_doctor.app.kube import k8s_command

        click.echo(k8s_command(built), nl=False)
        return
    chosen = list(shells) or ["bash", "powershell", "cmd", "compose"]
    printed = printed_command(built)
    for note in printed.notes:
        click.echo(f"note: {note}", err=True)
    for warning in printed.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(command_text(printed.spec, chosen, client=not no_client), nl=False)  # type: ignore[arg-type]
    if printed.warnings:
        sys.exit(1)


@click.command(context_settings=CONTEXT)
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
    from triton_doctor.repair.init import InitError, InitRequest, run_init

    try:
        click.echo(run_init(InitRequest(model_id=model_id, repo=repo, name=name, local=local)), nl=False)
    except InitError as exc:
        fail_usage(str(exc))
    except OSError as exc:
        fail_usage(f"download failed: {exc}; run init --local again to resume")
    except KeyboardInterrupt:
        click.echo("triton-doctor: interrupted; run the same init --local to resume the download", err=True)
        sys.exit(130)
