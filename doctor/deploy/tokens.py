"""Which Hugging Face token reaches the container, and every token value the doctor must never print.

Inside the container ``huggingface_hub`` reads ``HF_TOKEN``, then the deprecated ``HUGGING_FACE_HUB_TOKEN``,
then the token file in ``$HF_HOME`` (``/root/.cache/huggingface/token`` in the Triton image). The user's
``docker run`` decides what gets there: ``-e HF_TOKEN`` (copied from the host environment), ``-e
HF_TOKEN=$env:HF_TOKEN`` / ``$HF_TOKEN`` / ``%HF_TOKEN%`` (a host variable), a literal value, an
``--env-file``, or a bind-mounted HF home holding ``token``. Without a docker command the doctor assumes
the host's token is passed (as ``triton-doctor up`` does).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from triton_doctor.deploy.target import Target, host_path
from triton_doctor.probes.fs import FileReadError, read_file_text

__all__ = [
    "ContainerToken",
    "HostToken",
    "container_token",
    "env_reference",
    "host_token",
    "known_secrets",
]

TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
HF_HOME_TARGET = "/root/.cache/huggingface"
_VAR_REF = re.compile(r"^(?:\$env:(?P<ps>\w+)|\$\{?(?P<sh>\w+)\}?|%(?P<cmd>\w+)%)$")
#: Anything shaped like a Hugging Face token is redacted even when the doctor did not find it itself.


@dataclass(frozen=True, slots=True)
class HostToken:
    """The token this machine's huggingface_hub would use."""

    value: str | None
    origin: str  # "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "token file <path>", or "none"


@dataclass(frozen=True, slots=True)
class ContainerToken:
    """The token the container will see, and how it gets there."""

    value: str | None
    #: How: "-e HF_TOKEN (from the host's HF_TOKEN)", "literal value in the command", ...
    origin: str
    #: The command puts the token's value in plain text (visible in `docker inspect` and shell history).
    literal_in_command: bool = False
    #: A variable the command references but that is not set on this host.
    unset_reference: str | None = None
    #: Set when the command has no docker command to read (flags only).
    assumed: bool = False


def env_reference(raw: str) -> str | None:
    """The host variable a docker ``-e NAME=VALUE`` value refers to (``$env:X``, ``$X``, ``${X}``, ``%X%``)."""
    match = _VAR_REF.match(raw.strip())
    return (match.group("ps") or match.group("sh") or match.group("cmd")) if match else None


def token_file() -> Path:
    """``$HF_TOKEN_PATH``, or ``$HF_HOME/token``, or ``~/.cache/huggingface/token``."""
    if os.environ.get("HF_TOKEN_PATH"):
        return Path(os.environ["HF_TOKEN_PATH"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "token"


def _read_token_file(path: Path) -> str | None:
    try:
        value = read_file_text(path, 64 * 1024).strip()
    except FileReadError:
        return None
    return value or None


def host_token() -> HostToken:
    """The host's token by huggingface_hub's precedence."""
    for var in TOKEN_VARS:
        value = os.environ.get(var, "").strip()
        if value:
            return HostToken(value, var)
    path = token_file()
    from_file = _read_token_file(path)
    return HostToken(from_file, f"token file {path}") if from_file else HostToken(None, "none")


def _env_file_values(path: str) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        lines = read_file_text(host_path(path), 1024 * 1024, gzip=True).splitlines()
    except FileReadError:
        return values
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def container_token(target: Target) -> ContainerToken:
    """Resolve the token the container gets from the user's docker command."""
    docker = target.docker
    if docker is None:
        host = host_token()
        return ContainerToken(host.value, f"assumed: the host's {host.origin}", assumed=True)
    for var in TOKEN_VARS:
        if var not in docker.env:
            continue
        raw = docker.env[var]
        if raw is None:
            value = os.environ.get(var) or None
            return ContainerToken(
                value, f"-e {var} (copied from the host's {var})", unset_reference=None if value else var
            )
        ref = env_reference(raw)
        if ref:
            value = os.environ.get(ref) or None
            return ContainerToken(value, f"-e {var}=<host variable {ref}>", unset_reference=None if value else ref)
        if raw.strip():
            return ContainerToken(raw.strip(), f"-e {var}=<literal value>", literal_in_command=True)
    for env_file in docker.env_files:
        values = _env_file_values(env_file)
        for var in TOKEN_VARS:
            if values.get(var):
                return ContainerToken(values[var], f"--env-file {env_file} ({var})")
    for mount in target.mounts:
        if mount.type == "bind" and mount.target.rstrip("/") == HF_HOME_TARGET:
            value = _read_token_file(host_path(mount.source) / "token")
            if value:
                return ContainerToken(value, f"token file in the HF home mounted from {mount.source}")
    return ContainerToken(None, "none: the command passes no HF_TOKEN")


def known_secrets(target: Target) -> set[str]:
    """Every token value the doctor has seen: host env, token file, the command, env files."""
    secrets: set[str] = set()
    for var in TOKEN_VARS:
        if os.environ.get(var, "").strip():
            secrets.add(os.environ[var].strip())
    file_value = _read_token_file(token_file())
    if file_value:
        secrets.add(file_value)
    if target.docker is not None:
        for var, raw in target.docker.env.items():
            if raw and ("TOKEN" in var.upper() or "SECRET" in var.upper() or "KEY" in var.upper()):
                secrets.add(raw)
        for env_file in target.docker.env_files:
            for var, value in _env_file_values(env_file).items():
                if value and "TOKEN" in var.upper():
                    secrets.add(value)
    found = container_token(target)
    if found.value:
        secrets.add(found.value)
    return {s for s in secrets if len(s) >= 4 and not _VAR_REF.match(s)}
