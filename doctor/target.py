"""The user's deployment as data: what the doctor checks.

A :class:`Target` is built from, in rising precedence: a config file (``triton-doctor.toml`` or
``[tool.triton-doctor]`` in ``pyproject.toml``), a pasted ``docker run`` command, and command-line flags.
Bad input raises :class:`TargetError` whose message names the file, the key or option, and the fix; the
CLI turns it into exit code 2.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from triton_doctor.dockercmd import DockerCommandError, DockerRun, Mount, parse_docker_run

__all__ = ["MountSpec", "Target", "TargetError", "build_target", "host_path", "load_config"]

DEFAULT_REPO = "model_repository"
DEFAULT_REPO_TARGET = "/models"


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
        }


_WIN_PATH = re.compile(r"^(?P<drive>[A-Za-z]):[\\/](?P<rest>.*)$")


def _in_wsl() -> bool:
    try:
        return "microsoft" in Path("/proc/version").read_text(encoding="utf-8", errors="replace").lower()
    except OSError:
        return False


def unreadable_here(source: str) -> bool:
    """A Windows path (``C:\\...``) on a system that can read neither it nor its WSL twin ``/mnt/c/...``."""
    return bool(_WIN_PATH.match(source)) and os.name != "nt" and not _in_wsl()


def host_path(source: str) -> Path:
    """Where a mount source lives for this process: ``C:\\x`` becomes ``/mnt/c/x`` inside WSL."""
    match = _WIN_PATH.match(source)
    if match and os.name != "nt" and _in_wsl():
        rest = match.group("rest").replace("\\", "/")
        return Path("/mnt") / match.group("drive").lower() / rest
    return Path(os.path.expanduser(source)) if source.startswith("~") else Path(source)


_CONFIG_KEYS = {
    "repo": str,
    "repo_target": str,
    "models": list,
    "mounts": list,
    "image": str,
    "docker_command": str,
    "docker_command_file": str,
    "server": str,
    "offline": bool,
    "only": list,
    "skip": list,
    "fail_on": str,
    "format": str,
}


def load_config(path: Path | None, cwd: Path) -> tuple[dict[str, Any], str | None]:
    """Read the config table from ``path``, or from ``triton-doctor.toml``/``pyproject.toml`` in ``cwd``."""
    candidates: list[tuple[Path, bool]] = []
    if path is not None:
        candidates.append((path, path.name == "pyproject.toml"))
    else:
        candidates += [(cwd / "triton-doctor.toml", False), (cwd / "pyproject.toml", True)]
    for candidate, is_pyproject in candidates:
        if not candidate.is_file():
            if path is not None:
                raise TargetError(f"{candidate}: config file not found")
            continue
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise TargetError(f"{candidate}: not valid TOML: {exc}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise TargetError(f"{candidate}: cannot read: {exc}") from exc
        if is_pyproject:
            table = data.get("tool", {}).get("triton-doctor")
            if table is None:
                if path is not None:
                    raise TargetError(f"{candidate}: no [tool.triton-doctor] table")
                continue
        else:
            table = data
        _validate_config(table, candidate)
        return table, str(candidate)
    return {}, None


def _validate_config(table: dict[str, Any], path: Path) -> None:
    for key, value in table.items():
        expected = _CONFIG_KEYS.get(key)
        if expected is None:
            close = difflib.get_close_matches(key, list(_CONFIG_KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(sorted(_CONFIG_KEYS))}"
            raise TargetError(f"{path}: unknown key {key!r}{hint}")
        if not isinstance(value, expected):
            raise TargetError(f"{path}: {key!r} must be a {expected.__name__}, found {type(value).__name__}")
    for i, mount in enumerate(table.get("mounts", [])):
        if isinstance(mount, str):
            continue
        if not isinstance(mount, dict) or "source" not in mount or "target" not in mount:
            raise TargetError(
                f'{path}: mounts[{i}] must be "HOST:TARGET" or a table with source and target, e.g. '
                '{ source = "model_repository", target = "/models" }'
            )


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


def _from_docker_mount(mount: Mount, origin: str) -> MountSpec:
    return MountSpec(
        source=mount.source,
        target=mount.target,
        type=mount.type,
        readonly=mount.readonly,
        origin=origin,
        raw=mount.raw,
    )


@dataclass(slots=True, kw_only=True)
class TargetInput:
    """Raw values from the command line (None: not given)."""

    repo: str | None = None
    models: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()
    docker_command: str | None = None
    docker_command_file: str | None = None
    config: str | None = None
    server: str | None = None
    offline: bool | None = None
    image: str | None = None
    cwd: Path = field(default_factory=Path.cwd)


def build_target(inp: TargetInput) -> tuple[Target, dict[str, Any]]:
    """Merge config file, docker command and flags into a :class:`Target`; also return the config table."""
    config, config_path = load_config(Path(inp.config) if inp.config else None, inp.cwd)
    sources: list[str] = []
    if config_path:
        sources.append(config_path)

    command_text: str | None = inp.docker_command
    command_origin = "--docker-command"
    command_file = inp.docker_command_file or config.get("docker_command_file")
    if command_text is None and command_file:
        file_path = Path(command_file)
        try:
            command_text = file_path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise TargetError(f"{file_path}: cannot read the docker command file: {exc}") from exc
        command_origin = str(file_path)
    if command_text is None and "docker_command" in config:
        command_text = config["docker_command"]
        command_origin = f"{config_path}: docker_command"
    docker: DockerRun | None = None
    if command_text is not None:
        # A .sh file (or a shebang) is run by a POSIX shell whatever PowerShell syntax it holds ($env:HF_TOKEN).
        posix = isinstance(command_file, str) and command_origin == str(command_file)
        posix = posix and (Path(str(command_file)).suffix in {".sh", ".bash"} or command_text.startswith("#!"))
        try:
            docker = parse_docker_run(command_text, "bash" if posix else None)
        except DockerCommandError as exc:
            raise TargetError(f"{command_origin}: {exc}") from exc
        sources.append(command_origin)

    mounts: list[MountSpec] = []
    for i, raw in enumerate(config.get("mounts", [])):
        if isinstance(raw, str):
            mounts.append(parse_mount_flag(raw, f"{config_path}: mounts[{i}]"))
        else:
            mounts.append(
                MountSpec(
                    source=str(raw["source"]),
                    target=str(raw["target"]),
                    type=str(raw.get("type", "bind")),
                    origin=str(config_path),
                )
            )
    if docker is not None:
        mounts += [_from_docker_mount(m, command_origin) for m in docker.mounts]
    mounts += [parse_mount_flag(m, "--mount") for m in inp.mounts]

    repo_target = DEFAULT_REPO_TARGET
    if docker is not None and docker.model_repositories:
        repo_target = docker.model_repositories[0]
    repo_target = str(config.get("repo_target", repo_target))

    repo: str | None = inp.repo or config.get("repo")
    if repo is None:
        mount = next((m for m in reversed(mounts) if m.target.rstrip("/") == repo_target.rstrip("/")), None)
        repo = str(host_path(mount.source)) if mount is not None and mount.type == "bind" else DEFAULT_REPO
        if unreadable_here(repo) and (inp.cwd / DEFAULT_REPO).is_dir():
            # The guide's PowerShell command run from its project folder: the Windows source cannot be read on
            # this system, but ./model_repository is the same folder's copy; check that one and say so.
            sources.append(f"{DEFAULT_REPO} (the command's {repo} cannot be read on this system)")
            repo = DEFAULT_REPO
    # The repository is mounted at /models unless said otherwise.
    if not any(m.target.rstrip("/") == repo_target.rstrip("/") for m in mounts):
        mounts.insert(0, MountSpec(source=repo, target=repo_target, origin="default"))

    models: tuple[str, ...] = inp.models or tuple(config.get("models", ()))
    if not models and docker is not None:
        models = tuple(dict.fromkeys(docker.load_models))
    image = inp.image or (docker.image if docker else None) or config.get("image")
    offline = inp.offline if inp.offline is not None else bool(config.get("offline", False))
    target = Target(
        repo=repo,
        repo_target=repo_target,
        models=models,
        mounts=tuple(mounts),
        image=image,
        docker=docker,
        server_url=inp.server or config.get("server"),
        offline=offline,
        sources=tuple(sources),
    )
    return target, config
