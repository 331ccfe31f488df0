"""The ``triton-doctor`` command line: argument parsing and wiring only.

Takes the user's arguments; gives each command's request to the stage that serves it (app, repair, logs, live).
Heavy modules (docker, huggingface_hub, pynvml, tritonclient, even rich) are imported by the commands that
need them, never at start-up, so ``triton-doctor --help`` stays fast.
"""

from __future__ import annotations

import sys

import click

from triton_doctor import __version__
from triton_doctor.cli.info_cmds import explain, list_checks
from triton_doctor.cli.options import CONTEXT, EXIT_CODES, fail_usage, write_failed
from triton_doctor.cli.repair_cmds import command, fix, init
from triton_doctor.cli.run_cmds import bundle, check, logs, up
from triton_doctor.cli.streams import StdoutClosed, guard_standard_streams

__all__ = ["cli", "main"]


@click.group(context_settings=CONTEXT, epilog=EXIT_CODES)
@click.version_option(__version__, "--version", prog_name="triton-doctor", message="%(prog)s %(version)s")
def cli() -> None:
    """Find what breaks a Triton Inference Server + vLLM deployment before you deploy it."""
    from triton_doctor.deploy.config import validate_environment
    from triton_doctor.deploy.target import TargetError

    try:
        validate_environment()
    except TargetError as exc:
        fail_usage(str(exc))


for _command in (check, up, logs, bundle, fix, command, init, list_checks, explain):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    guard_standard_streams()
    try:
        cli(prog_name="triton-doctor")
    except BrokenPipeError:
        write_failed(BrokenPipeError())
    except StdoutClosed as exc:  # list-checks, explain, --version with stdout closed
        fail_usage(str(exc))
    except SystemExit as done:
        # A timed-out check may still be running: end the process without waiting for it. Only a command
        # that ran checks imported the runner; --help, --version and completion must not pay for it.
        runner = sys.modules.get("triton_doctor.runner")
        if runner is not None:
            runner.finish(done.code if isinstance(done.code, int) else (0 if done.code is None else 2))
        raise


if __name__ == "__main__":
    main()
