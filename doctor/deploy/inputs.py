"""What the user gave (flags, config file, a docker run in three shells) turned into one Target."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triton_doctor.deploy.config import load_config
from triton_doctor.deploy.docker_run import DockerCommandError, DockerRun, parse_docker_run
from triton_doctor.deploy.target import (
    DEFAULT_REPO,
    DEFAULT_REPO_TARGET,
    MAX_COMMAND_BYTES,
    MountSpec,
    Target,
    TargetError,
    from_docker_mount,
    host_path,
    parse_mount_flag,
    unreadable_here,
)
from triton_doctor.probes.fs import FileReadError, read_file_text

if TYPE_CHECKING:
    from triton_doctor.deploy.compose import ComposeService


@dataclass(slots=True, kw_only=True)
class TargetInput:
    """Raw values from the command line (None: not given)."""

    repo: str | None = None
    models: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()
    docker_command: str | None = None
    docker_command_file: str | None = None
    #: ``--compose-file`` (repeatable) and ``--service``.
    compose_files: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
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
    compose: ComposeService | None = None
    if docker is None:
        from triton_doctor.deploy.compose_record import compose_target

        found = compose_target(inp, config)
        if found is not None:
            compose, docker, command_origin = found
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
        mounts += [from_docker_mount(m, command_origin) for m in docker.mounts]
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
        compose=compose,
    )
    return target, config


def _server_url(raw: str | None) -> str | None:
    """``--server`` (or ``server`` in the config) as an http(s) URL with a host, or a usage error at once."""
    if raw is None:
        return None
    from triton_doctor.probes.urls import ServerUrlError, parse_server_url

    try:
        return parse_server_url(raw)
    except ServerUrlError as exc:
        raise TargetError(str(exc)) from None
