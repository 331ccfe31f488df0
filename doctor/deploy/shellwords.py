"""A command line split into words as bash, PowerShell or cmd.exe would, and which of the three it is."""

from __future__ import annotations

import re
from typing import Literal

Dialect = Literal["bash", "powershell", "cmd"]


class DockerCommandError(ValueError):
    """The command line cannot be read; the message says where and how to fix it."""


def guess_dialect(text: str) -> Dialect:
    """Guess the shell a command was written for."""
    if re.search(r"\$env:|`\s*$|\$PSNativeCommandArgumentPassing", text, re.MULTILINE):
        return "powershell"
    if re.search(r"\^\s*$|\^[\"%&|<>()]", text, re.MULTILINE) or re.search(r"%[A-Za-z_][A-Za-z0-9_]*%", text):
        return "cmd"
    return "bash"


def split_command(text: str, dialect: Dialect | None = None) -> tuple[list[str], Dialect]:
    """Split a pasted command into words, the way its shell would (without expanding variables)."""
    dialect = dialect or guess_dialect(text)
    from triton_doctor.deploy.shellsplit import ShellSplitError, docker_words

    try:
        return docker_words(text, dialect), dialect
    except ShellSplitError as exc:
        raise DockerCommandError(f"cannot split the command as {dialect} would: {exc}") from exc
