"""The user's deployment as data: what the doctor checks.

A :class:`Target` is built from, in rising precedence: a config file (``triton-doctor.toml`` or
``[tool.triton-doctor]`` in ``pyproject.toml``), a pasted ``docker run`` command, and command-line flags.
Bad input raises :class:`TargetError` whose message names the file, the key or option, and the fix; the
CLI turns it into exit code 2.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from triton_doctor.deploy.docker_run import DockerRun, Mount
from triton_doctor.probes.fs import FileReadError, read_file_bytes

if TYPE_CHECKING:
    from triton_doctor.deploy.compose import ComposeService
    from triton_doctor.deploy.kube.model import KubeDeployment

__all__ = ["MountSpec", "Target", "TargetError", "host_path", "parse_mount_flag", "writable_here"]

DEFAULT_REPO = "model_repository"
DEFAULT_REPO_TARGET = "/models"
#: A config file or docker command larger than this is not one (the bounded reader refuses it).
MAX_CONFIG_BYTES = 1024 * 1024
MAX_COMMAND_BYTES = 1024 * 1024


class TargetError(ValueError):
    """The target cannot be built: a bad flag, config key or command line. Exit code 2."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MountSpec:
    """A host path (or named volume) and where the container sees it."""

    source: str
    target: str
    type: str = "bind"
    readonly: bool = False
    #: Where it came from: "--mount", "--docker-command", the command file or config file, "default".
    origin: str = ""
    raw: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """What to check."""

    #: The model repository on the host (as given; may be relative to the working directory).
    repo: str
    #: Where the container sees the repository (``--model-repository``).
    repo_target: str = DEFAULT_REPO_TARGET
    #: Models to check; empty means every model in the repository.
    models: tuple[str, ...] = ()
    mounts: tuple[MountSpec, ...] = ()
    image: str | None = None
    docker: DockerRun | None = None
    server_url: str | None = None
    offline: bool = False
    #: Where the values came from, for the report.
    sources: tuple[str, ...] = ()
    #: The compose service ``docker`` was read from (``--compose-file``), for the compose checks.
    compose: ComposeService | None = None
    #: ``check --manifest`` / ``--pod-state``: the Kubernetes objects read (None: not a Kubernetes target).
    kube: KubeDeployment | None = None

    def mount_for(self, container_path: str) -> MountSpec | None:
        """The mount whose target contains ``container_path`` (the deepest one), if any."""
        best: MountSpec | None = None
        path = PurePosixPath(container_path)
        for mount in self.mounts:
            target = PurePosixPath(mount.target)
            if (path == target or target in path.parents) and (
                best is None or len(target.parts) > len(PurePosixPath(best.target).parts)
            ):
                best = mount
        return best

    def to_json(self) -> dict[str, object]:
        """The target as it appears in reports (never any env values: they may be secrets)."""
        return {
            "repo": self.repo,
            "repo_target": self.repo_target,
            "models": list(self.models),
            "mounts": [{"type": m.type, "source": m.source, "target": m.target} for m in self.mounts],
            "image": self.image,
            "server_url": self.server_url,
            "offline": self.offline,
            "sources": list(self.sources),
            **({"compose": self.compose.describe()} if self.compose is not None else {}),
        }


_WIN_PATH = re.compile(r"^(?P<drive>[A-Za-z]):[\\/](?P<rest>.*)$")


def _in_wsl() -> bool:
    try:
        return "microsoft" in read_file_bytes(Path("/proc/version"), 64 * 1024).decode("utf-8", "replace").lower()
    except FileReadError:
        return False


def unreadable_here(source: str) -> bool:
    """A Windows path (``C:\\...``) on a system that can read neither it nor its WSL twin ``/mnt/c/...``."""
    return bool(_WIN_PATH.match(source)) and os.name != "nt" and not _in_wsl()


def writable_here(source: str) -> bool:
    """Whether a bind source names a folder of this machine that a fix may write into: not a guide's
    ``<placeholder>``, and not a Windows path read outside Windows and WSL (resolved here, ``C:\\Users\\...``
    is relative and would land in the working folder). A relative POSIX path is the user's own, from the cwd."""
    if re.search(r"<[^<>]+>", source):
        return False
    if os.name != "nt" and (_WIN_PATH.match(source) or "\\" in source):
        return host_path(source).is_absolute()
    return True


def host_path(source: str) -> Path:
    """Where a mount source lives for this process: ``C:\\x`` becomes ``/mnt/c/x`` inside WSL."""
    match = _WIN_PATH.match(source)
    if match and os.name != "nt" and _in_wsl():
        rest = match.group("rest").replace("\\", "/")
        return Path("/mnt") / match.group("drive").lower() / rest
    return Path(os.path.expanduser(source)) if source.startswith("~") else Path(source)


TOML_TYPES: dict[type, str] = {
    str: "string",
    list: "list",
    bool: "boolean (true or false)",
    dict: "table",
    int: "integer",
}


def parse_mount_flag(value: str, origin: str) -> MountSpec:
    """Parse ``HOST:TARGET`` from ``--mount`` (Windows drive letters allowed)."""
    offset = 2 if re.match(r"^[A-Za-z]:[\\/]", value) else 0
    idx = value.rfind(":", offset)
    if idx <= offset - 1 or idx == len(value) - 1 or idx < 0:
        raise TargetError(f"{origin} {value!r}: write HOST:TARGET, e.g. --mount ./model_repository:/models")
    source, target = value[:idx], value[idx + 1 :]
    if not target.startswith("/"):
        raise TargetError(f"{origin} {value!r}: the container path {target!r} must be absolute, e.g. /models")
    return MountSpec(source=source, target=target, origin=origin, raw=value)


def from_docker_mount(mount: Mount, origin: str) -> MountSpec:
    return MountSpec(
        source=mount.source,
        target=mount.target,
        type=mount.type,
        readonly=mount.readonly,
        origin=origin,
        raw=mount.raw,
    )
