"""Resolve a bind-mount source the way the user's shell and Docker would, and say why it cannot be."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from triton_doctor.deploy.target import MountSpec, host_path
from triton_doctor.probes import host_probe

__all__ = ["ResolvedSource", "resolve_source"]

_WIN = re.compile(r"^[A-Za-z]:[\\/]")
_VARS = re.compile(r"\$\{?PWD\}?|\$\(pwd\)|%cd%|\$env:PWD|\$pwd", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ResolvedSource:
    """A bind source on this machine, or the reason it cannot be checked here."""

    raw: str
    path: Path | None
    #: "windows-elsewhere", "relative", "tilde", "variable": why ``path`` is None or suspect.
    problem: str | None = None


def resolve_source(mount: MountSpec, dialect: str | None, cwd: Path) -> ResolvedSource:
    """Expand what the shell would expand, translate Windows paths inside WSL, flag the rest."""
    raw = mount.source
    text = _VARS.sub(str(cwd).replace("\\", "/"), raw)
    if dialect in (None, "bash"):
        text = os.path.expandvars(text)
    if "$" in text or re.search(r"%\w+%", text):
        return ResolvedSource(raw, None, "variable")
    if _WIN.match(text):
        if os.name == "nt" or host_probe.wsl():
            return ResolvedSource(raw, host_path(text))
        return ResolvedSource(raw, None, "windows-elsewhere")
    if text.startswith("~"):
        # bash expands a leading ~ in `-v ~/x:/y` (the word starts with it) but not in --mount source=~/x.
        if mount.raw.startswith("-v") and dialect in (None, "bash"):
            return ResolvedSource(raw, Path(os.path.expanduser(text)))
        return ResolvedSource(raw, None, "tilde")
    if not text.startswith("/") and mount.raw.startswith("--mount"):
        return ResolvedSource(raw, (cwd / text).resolve(), "relative")
    return ResolvedSource(raw, Path(text) if os.path.isabs(text) else (cwd / text).resolve())
