"""A compose service as the ``docker run`` deployment record every check reads, and the target it makes."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triton_doctor.deploy.compose import ComposeProject, ComposeService, discover, load_project
from triton_doctor.deploy.compose_merge import SourceMap, display_path
from triton_doctor.deploy.compose_yaml import (
    ComposeError,
    parse_env_file,
    read_bounded,
)
from triton_doctor.deploy.docker_run import DockerRun, Mount, PortMap, parse_tritonserver

if TYPE_CHECKING:
    from triton_doctor.deploy.inputs import TargetInput

# -- the deployment record ----------------------------------------------------------------------------------


def gpu_capable(dev: Mapping[str, Any]) -> bool:
    """A device reservation that hands GPUs to the container: its capabilities include ``gpu``."""
    caps = dev.get("capabilities") or []
    return "gpu" in {c for group in caps for c in (group if isinstance(group, list) else [group])}


def _gpus(devices: Iterable[Any], *, need_capability: bool = False) -> str | None:
    """``--gpus`` for a list of device requests: ``all``, a count, or ``device=0,1``."""
    for dev in devices:
        if not isinstance(dev, dict):
            continue
        if (need_capability or dev.get("capabilities")) and not gpu_capable(dev):
            continue
        ids = dev.get("device_ids")
        if ids:
            return "device=" + ",".join(str(i) for i in ids)
        count = dev.get("count")
        if count is None or count == -1 or str(count).lower() == "all":
            return "all"
        return str(count)
    return None


_REF = re.compile(r"\$(?:(?P<bare>[A-Za-z_][A-Za-z0-9_]*)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<default>:?-[^}]*)?\})")


def _env_value(name: str, value: Any, source: SourceMap, project: ComposeProject) -> str | None:
    """A value written as a reference to one host variable stays that reference, as in ``-e NAME=$VAR``.

    The token checks then resolve it themselves (and never print it); a value that came from the project's
    ``.env``, a default, or any other text is the interpolated value.
    """
    written = source.raw_env.get(name)
    if value is None:
        return None
    if written and re.fullmatch(r"\$env:\w+|%\w+%", written.strip()):
        return written.strip()  # shell syntax Compose does not read: kept as written, as docker run keeps it
    ref = _REF.fullmatch(written.strip()) if written else None
    if ref is None:
        return str(value)
    var = ref.group("bare") or ref.group("name")
    if var in project.dotenv and var not in os.environ:
        return str(value)
    if var in os.environ or not ref.group("default"):
        return f"${{{var}}}"
    return str(value)


def service_to_docker_run(service: ComposeService) -> DockerRun:
    """The ``docker run`` this service amounts to: what every deployment check reads."""
    svc = service.config
    source = service.source
    project = service.project
    run = DockerRun(dialect="bash")
    run.image = str(svc.get("image") or "")
    where = source.at("service")
    origin = f" ({where})" if where else ""
    for vol in svc.get("volumes") or []:
        vtype = str(vol.get("type", "volume"))
        src = str(vol.get("source") or "")
        if vtype == "volume" and src:
            spec = (project.config.get("volumes") or {}).get(src) or {}
            src = str(spec.get("name") or src)
        target = str(vol.get("target") or "")
        readonly = bool(vol.get("read_only"))
        created = vtype == "bind" and bool((vol.get("bind") or {}).get("create_host_path"))
        loc = source.at(f"volume:{target}")
        at = f" ({loc})" if loc else origin
        if created or (vtype == "volume" and target in source.short_volumes):
            raw = f"-v {src}:{target}{':ro' if readonly else ''}{at}"
        else:
            raw = f"--mount type={vtype},source={src},target={target}{',readonly' if readonly else ''}{at}"
        run.mounts.append(Mount(type=vtype, source=src, target=target, readonly=readonly, raw=raw))
    read = project.raw_services.get(service.name, {})
    run.env_files = [str(e["path"]) for e in read.get("env_file") or [] if Path(str(e["path"])).is_file()]
    from_files: set[str] = set()
    for env_file in run.env_files:
        from_files.update(parse_env_file(read_bounded(Path(env_file)), {}, env_file))
    written = read.get("environment") or {}
    for name, value in (svc.get("environment") or {}).items():
        if name in from_files and name not in written:
            continue  # from an env_file: read through env_files, as docker run --env-file
        run.env[name] = _env_value(name, value, source, project)
    for port in svc.get("ports") or []:
        published = str(port.get("published") or "")
        host = int(published) if published.isdigit() else None
        container = int(port.get("target"))
        host_ip = str(port.get("host_ip") or "")
        proto = str(port.get("protocol") or "tcp")
        spec = (f"{host_ip}:" if host_ip else "") + (f"{published}:" if published else "") + str(container)
        spec += f"/{proto}" if proto != "tcp" else ""
        run.ports.append(PortMap(host_port=host, container_port=container, host_ip=host_ip, protocol=proto, raw=spec))
    run.name = str(svc["container_name"]) if svc.get("container_name") else None
    gpus = _gpus(svc.get("gpus") or [])
    deploy = svc.get("deploy") or {}
    resources = deploy.get("resources") if isinstance(deploy, dict) else None
    reservations = resources.get("reservations") if isinstance(resources, dict) else None
    if gpus is None and isinstance(reservations, dict):
        gpus = _gpus(reservations.get("devices") or [], need_capability=True)
    run.gpus = gpus
    run.runtime = str(svc["runtime"]) if svc.get("runtime") else None
    run.shm_size = str(svc["shm_size"]) if svc.get("shm_size") not in (None, "") else None
    run.ipc = str(svc["ipc"]) if svc.get("ipc") else None
    run.network = str(svc["network_mode"]) if svc.get("network_mode") else None
    for name, limit in (svc.get("ulimits") or {}).items():
        if isinstance(limit, dict):
            soft, hard = limit.get("soft"), limit.get("hard")
            run.ulimits.append(f"{name}={soft}" if soft == hard else f"{name}={soft}:{hard}")
        else:
            run.ulimits.append(f"{name}={limit}")
    run.command = [str(w) for w in (svc.get("entrypoint") or [])] + [str(w) for w in (svc.get("command") or [])]
    parse_tritonserver(run)
    return run


# -- the target -----------------------------------------------------------------------------------------------------


def _chosen_service(project: ComposeProject, names: tuple[str, ...]) -> str:
    """``--service`` if given, else the one tritonserver service, else the only service."""
    if names:
        for name in names:
            project.service(name)  # raises with the known names
        return names[0]
    triton = project.triton_services()
    active = [name for name in project.services if project.is_active(name)]
    if triton:
        return triton[0]
    if len(active) == 1:
        return active[0]
    raise ComposeError(
        f"{project.files[0]}: no service runs tritonserver; name the one to check with --service "
        f"(services: {', '.join(active) or 'none'})"
    )


def compose_target(inp: TargetInput, config: Mapping[str, Any]) -> tuple[ComposeService, DockerRun, str] | None:
    """The compose service the target names (``--compose-file``/``--service``, the config, or ``compose.yaml`` in
    the working folder when nothing else says what to check), as a deployment record; None when none."""
    from triton_doctor.deploy.target import TargetError

    files = tuple(inp.compose_files) or tuple(config.get("compose_files", ()))
    names = tuple(inp.services) or tuple(config.get("services", ()))
    if not files:
        nothing_else = not (
            inp.repo or inp.mounts or inp.image or inp.server or inp.docker_command or inp.docker_command_file
        )
        nothing_else = nothing_else and not any(
            key in config for key in ("docker_command", "docker_command_file", "repo", "mounts", "image", "server")
        )
        if not (names or nothing_else) or discover(inp.cwd) is None:
            if names:
                raise TargetError("--service names a compose service: give --compose-file too (e.g. compose.yaml)")
            return None
    try:
        project = load_project(files, cwd=inp.cwd)
        service = project.service(_chosen_service(project, names))
    except ComposeError as exc:
        raise TargetError(str(exc)) from None
    run = service_to_docker_run(service)
    where = service.source.at("service")
    origin = f"{where or display_path(project.files[0], inp.cwd)}: service {service.name} ({project.reader})"
    return service, run, origin
