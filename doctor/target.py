"""The user's deployment as data: what the doctor checks.

A :class:`Target` is built from, in rising precedence: a config file (``triton-doctor.toml`` or
``[tool.triton-doctor]`` in ``pyproject.toml``), a pasted ``docker run`` command, and command-line flags.
Bad input raises :class:`TargetError` whose message names the file, the key or option, and the fix; the
CLI turns it into exit code 2.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from triton_doctor.dockercmd import DockerCommandError, DockerRun, Mount, parse_docker_run
from triton_doctor.probes.fs import FileReadError, read_file_bytes, read_file_text

if TYPE_CHECKING:
    from triton_doctor.deploy.kube import KubeDeployment

__all__ = ["MountSpec", "Target", "TargetError", "build_target", "host_path", "load_config"]

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
    #: ``check --manifest``: the Kubernetes objects read (None: not a Kubernetes target).
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


def host_path(source: str) -> Path:
    """Where a mount source lives for this process: ``C:\\x`` becomes ``/mnt/c/x`` inside WSL."""
    match = _WIN_PATH.match(source)
    if match and os.name != "nt" and _in_wsl():
        rest = match.group("rest").replace("\\", "/")
        return Path("/mnt") / match.group("drive").lower() / rest
    return Path(os.path.expanduser(source)) if source.startswith("~") else Path(source)


@dataclass(frozen=True, slots=True)
class Key:
    """What a config key accepts: a type, for a list the type of its items, for a string its choices."""

    kind: type
    items: tuple[type, ...] = ()
    choices: tuple[str, ...] = ()
    example: str = ""


#: Every key of the config file (``triton-doctor.toml`` or ``[tool.triton-doctor]``). Add a key here and
#: :func:`load_config` validates it; flags that share the name win over the file.
CONFIG_SCHEMA: dict[str, Key] = {
    "repo": Key(str, example='repo = "model_repository"'),
    "repo_target": Key(str, example='repo_target = "/models"'),
    "models": Key(list, items=(str,), example='models = ["gemma_local"]'),
    "mounts": Key(list, items=(str, dict), example='mounts = ["local_models:/local_models"]'),
    "image": Key(str, example='image = "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3"'),
    "docker_command": Key(str, example='docker_command = "docker run ..."'),
    "docker_command_file": Key(str, example='docker_command_file = "run.ps1"'),
    "server": Key(str, example='server = "http://localhost:8000"'),
    "offline": Key(bool, example="offline = true"),
    "only": Key(list, items=(str,), example='only = ["repo"]'),
    "skip": Key(list, items=(str,), example='skip = ["config-io[unknown-output]"]'),
    "fail_on": Key(str, choices=("warn", "fail"), example='fail_on = "warn"'),
    "format": Key(str, choices=("text", "json", "junit", "sarif", "github"), example='format = "json"'),
    # The gate's policy (doctor/policy.py): profile, select/ignore (ignore entries may be tables with a
    # reason), per-id severity overrides and a baseline file.
    "profile": Key(str, choices=("quick", "standard", "full"), example='profile = "quick"'),
    "select": Key(list, items=(str,), example='select = ["repo", "mounts"]'),
    "ignore": Key(list, example='ignore = [{ id = "hf-rate-limited", reason = "..." }]'),
    "severity": Key(dict, example='severity = { "docker-version[older-than-guide]" = "info" }'),
    "baseline": Key(str, example='baseline = ".triton-doctor-baseline.json"'),
}
#: Kept for code that reads the key -> type table.
_CONFIG_KEYS = {name: key.kind for name, key in CONFIG_SCHEMA.items()}

_TOML_TYPES: dict[type, str] = {
    str: "string",
    list: "list",
    bool: "boolean (true or false)",
    dict: "table",
    int: "integer",
}


def _toml_type(value: object) -> str:
    return _TOML_TYPES.get(type(value), type(value).__name__)


#: Environment variables the doctor reads as numbers of seconds (positive and finite).
ENV_SECONDS = ("TRITON_DOCTOR_DOCKER_TIMEOUT", "TRITON_DOCTOR_HUB_TIMEOUT")


def positive_seconds(raw: str, name: str) -> float:
    """``raw`` as a positive, finite number of seconds; raise :class:`TargetError` naming ``name`` otherwise."""
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise TargetError(f"{name}={raw[:40]!r}: give a positive number of seconds, e.g. {name}=30")
    return value


def validate_environment(environ: Mapping[str, str] | None = None) -> None:
    """Check the doctor's own environment variables; raise :class:`TargetError` (exit 2) for a bad one."""
    env = os.environ if environ is None else environ
    for name in ENV_SECONDS:
        if env.get(name, "").strip():
            positive_seconds(env[name].strip(), name)


def load_config(path: Path | None, cwd: Path) -> tuple[dict[str, Any], str | None]:
    """Read the config table from ``path``, or from ``triton-doctor.toml``/``pyproject.toml`` in ``cwd``."""
    candidates: list[tuple[Path, bool]] = []
    if path is not None:
        candidates.append((path, path.name == "pyproject.toml"))
    else:
        candidates += [(cwd / "triton-doctor.toml", False), (cwd / "pyproject.toml", True)]
    for candidate, is_pyproject in candidates:
        try:
            text = read_file_text(candidate, MAX_CONFIG_BYTES)
        except FileReadError as exc:
            if exc.missing and path is None:
                continue
            raise TargetError(f"{candidate}: {'config file not found' if exc.missing else exc.reason}") from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise TargetError(f"{candidate}: not valid TOML: {exc}") from exc
        except RecursionError as exc:
            raise TargetError(f"{candidate}: not valid TOML: nested too deeply") from exc
        if is_pyproject:
            tool = data.get("tool", {})
            table = tool.get("triton-doctor") if isinstance(tool, dict) else None
            if table is None:
                if path is not None:
                    raise TargetError(f"{candidate}: no [tool.triton-doctor] table")
                continue
            if not isinstance(table, dict):
                raise TargetError(
                    f"{candidate}: tool.triton-doctor must be a table ([tool.triton-doctor]), found {_toml_type(table)}"
                )
        else:
            table = data
        _validate_config(table, candidate)
        return table, str(candidate)
    return {}, None


def _validate_config(table: dict[str, Any], path: Path) -> None:
    """Check every key against :data:`CONFIG_SCHEMA`: known name, type, list item types, choices."""
    for key, value in table.items():
        spec = CONFIG_SCHEMA.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, list(CONFIG_SCHEMA), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(sorted(CONFIG_SCHEMA))}"
            raise TargetError(f"{path}: unknown key {key!r}{hint}")
        example = f", e.g. {spec.example}" if spec.example else ""
        if not isinstance(value, spec.kind):
            raise TargetError(
                f"{path}: {key!r} must be a {_TOML_TYPES.get(spec.kind, spec.kind.__name__)}, "
                f"found {_toml_type(value)}{example}"
            )
        if spec.items and isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, spec.items):
                    kinds = " or ".join(_TOML_TYPES.get(t, t.__name__) for t in spec.items)
                    raise TargetError(f"{path}: {key}[{i}] must be a {kinds}, found {_toml_type(item)}{example}")
        if spec.choices and value not in spec.choices:
            close = difflib.get_close_matches(str(value), spec.choices, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TargetError(
                f"{path}: {key} = {str(value)[:40]!r} is not one of {', '.join(spec.choices)}{hint}{example}"
            )
    for i, entry in enumerate(table.get("ignore", [])):
        if isinstance(entry, str) or (isinstance(entry, dict) and isinstance(entry.get("id"), str)):
            continue
        raise TargetError(
            f"{path}: ignore[{i}] must be an id or a table with id and reason, e.g. "
            '{ id = "config-io[unknown-output]", reason = "we use a custom backend" }'
        )
    for key in ("select", "only", "skip"):
        for i, entry in enumerate(table.get(key, [])):
            if not isinstance(entry, str):
                raise TargetError(f'{path}: {key}[{i}] must be a string, e.g. "engine-args" or "repo"')
    for key, level in table.get("severity", {}).items():
        if not isinstance(level, str):
            raise TargetError(f'{path}: severity.{key} must be "error", "warning" or "info"')
    for i, mount in enumerate(table.get("mounts", [])):
        if isinstance(mount, str):
            continue
        if (
            not isinstance(mount, dict)
            or not isinstance(mount.get("source"), str)
            or not isinstance(mount.get("target"), str)
            or not isinstance(mount.get("type", ""), str)
        ):
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
            command_text = read_file_text(file_path, MAX_COMMAND_BYTES, gzip=True)
        except FileReadError as exc:
            raise TargetError(f"{file_path}: cannot read the docker command file: {exc.reason}") from exc
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
        server_url=_server_url(inp.server or config.get("server")),
        offline=offline,
        sources=tuple(sources),
    )
    return target, config


def _server_url(raw: str | None) -> str | None:
    """``--server`` (or ``server`` in the config) as an http(s) URL with a host, or a usage error at once."""
    if raw is None:
        return None
    from triton_doctor.probes.http import ServerUrlError, parse_server_url

    try:
        return parse_server_url(raw)
    except ServerUrlError as exc:
        raise TargetError(str(exc)) from None
