"""The user's ``docker run`` as written, as docker SDK keyword arguments for the live container.

The live stage tests the deployment the user has: every option the doctor reads is passed on unchanged
(image, entrypoint, command, env and env files, mounts, ports, network mode, ipc, shm size, ulimits, user,
working directory, GPUs, runtime and the other options below). The doctor changes only what it must to run
the container safely next to others, and says so in a note: its own name and labels (so that it is always
removed), a published host port that is taken (remapped to a free one), and ports published when the
command publishes none (the doctor must reach the server). ``--no-gpus`` drops the command's ``--gpus``
because the user asked the doctor to. What a working deployment would also need is never added here: the
static checks report it, and ``up --as-fixed`` runs the corrected command instead.
"""

from __future__ import annotations

import ntpath
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triton_doctor.deploy.docker_run import DockerRun
from triton_doctor.deploy.target import host_path
from triton_doctor.deploy.tokens import env_reference
from triton_doctor.probes.fs import FileReadError, read_file_bytes
from triton_doctor.probes.host_probe import port as port_facts

__all__ = ["AsWritten", "as_written", "host_network_urls", "server_port"]

#: Options with no bearing on whether the server comes up, or that the doctor replaces (name, labels, --rm,
#: detach, terminal): not reproduced, and not worth a note.
_IGNORED = {"--rm", "-d", "--detach", "-i", "--interactive", "-t", "--tty", "--name", "--label", "-l", "--pull",
            "--sig-proxy", "--detach-keys", "--quiet", "-q", "--cidfile"}  # fmt: skip


@dataclass(slots=True)
class AsWritten:
    """SDK keyword arguments for ``containers.create`` (without name and labels), and what was changed."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    #: ``"warning: ..."`` / ``"info: ..."`` lines for the live-server check.
    notes: list[str] = field(default_factory=list)
    #: The command's options that the live container does not reproduce.
    dropped: list[str] = field(default_factory=list)


def _absolute(source: str) -> str:
    if re.match(r"^[A-Za-z]:[\\/]", source) or source.startswith("\\\\"):
        return str(host_path(ntpath.normpath(source)))
    return os.path.abspath(os.path.expanduser(source))


def _expand(raw: str) -> str | None:
    ref = env_reference(raw)
    return os.environ.get(ref) if ref else raw


def _env_file(path: str) -> dict[str, str | None]:
    """``--env-file``: ``NAME=value`` lines (``NAME`` alone passes the host's value), ``#`` comments."""
    out: dict[str, str | None] = {}
    text = read_file_bytes(Path(_absolute(path)), 1 << 20).decode("utf-8", "replace")
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        out[name.strip()] = value if sep else None
    return out


def _gpus(value: str) -> Any:
    """``--gpus all | N | device=0,1 | "device=0,1",capabilities=...`` as a DeviceRequest."""
    import docker.types

    value = value.strip().strip('"').strip("'")
    count: int | None = None
    ids: list[str] | None = None
    for part in re.split(r",(?=[a-z]+=)", value):
        key, sep, val = part.partition("=")
        if not sep:
            count = -1 if key == "all" else int(key) if key.isdigit() else -1
        elif key == "device":
            ids = [v for v in val.strip('"').split(",") if v]
        elif key == "count":
            count = -1 if val == "all" else int(val)
    if ids:
        return docker.types.DeviceRequest(device_ids=ids, capabilities=[["gpu"]])
    return docker.types.DeviceRequest(count=-1 if count is None else count, capabilities=[["gpu"]])


def _ulimit(text: str) -> Any:
    import docker.types

    name, _, limits = text.partition("=")
    soft, _, hard = limits.partition(":")
    return docker.types.Ulimit(name=name, soft=int(soft), hard=int(hard or soft))


def server_port(command: list[str], name: str, default: int) -> int:
    """The port tritonserver listens on for ``name`` (``http``, ``grpc``, ``metrics``) in ``command``."""
    for i, word in enumerate(command):
        if word.startswith(f"--{name}-port="):
            value = word.split("=", 1)[1]
        elif word == f"--{name}-port" and i + 1 < len(command):
            value = command[i + 1]
        else:
            continue
        if value.isdigit():
            default = int(value)
    return default


def host_network_urls(attrs: dict[str, Any]) -> tuple[str, str, str] | None:
    """With host networking, the server's URLs on this host (its arguments name the ports); else None."""
    if (attrs.get("HostConfig") or {}).get("NetworkMode") != "host":
        return None
    command = list((attrs.get("Config") or {}).get("Cmd") or [])
    return (
        f"http://127.0.0.1:{server_port(command, 'http', 8000)}",
        f"grpc://127.0.0.1:{server_port(command, 'grpc', 8001)}",
        f"http://127.0.0.1:{server_port(command, 'metrics', 8002)}",
    )


def as_written(run: DockerRun, image: str, *, gpus: bool = True) -> AsWritten:
    """The container of ``run`` as its user wrote it (see the module's docstring for the only changes)."""
    import docker.types

    out = AsWritten()
    kw: dict[str, Any] = {"image": image, "detach": True}
    entrypoint = next((v for o, v in run.other if o == "--entrypoint"), None)
    if entrypoint is not None:
        kw["entrypoint"] = [entrypoint] if entrypoint else [""]
    if run.command:
        kw["command"] = list(run.command)
    env: dict[str, str] = {}
    for path in run.env_files:
        try:
            for name, raw in _env_file(path).items():
                value = os.environ.get(name) if raw is None else raw
                if value is not None:
                    env[name] = value
        except (FileReadError, OSError) as exc:
            out.notes.append(f"warning: --env-file {path} cannot be read ({exc}); started without it")
    for name, raw in run.env.items():
        value = os.environ.get(name) if raw is None else _expand(raw)
        if value is not None:
            env[name] = value
    kw["environment"] = env
    mounts = []
    for m in run.mounts:
        source = _absolute(m.source) if m.type == "bind" else m.source
        mounts.append(docker.types.Mount(target=m.target, source=source, type=m.type, read_only=m.readonly))
    kw["mounts"] = mounts
    if run.network:
        kw["network_mode"] = run.network
    host_network = run.network == "host"
    if host_network:
        if run.ports:
            out.dropped += [f"-p {p.raw}" for p in run.ports]  # Docker discards them too (and says so)
    elif run.ports:
        ports: dict[str, Any] = {}
        for p in run.ports:
            host_port = p.host_port
            if host_port is not None and not port_facts(host_port, p.host_ip or "0.0.0.0").free:
                holder = port_facts(host_port, p.host_ip or "0.0.0.0")
                by = f" (held by {holder.process}, pid {holder.pid})" if holder.process else ""
                out.notes.append(
                    f"warning: host port {host_port} of -p {p.raw} is taken{by}: the live container publishes "
                    f"container port {p.container_port} on a free host port instead (your command would fail "
                    "with 'port is already allocated' until it is free)"
                )
                host_port = None
            key = f"{p.container_port}/{p.protocol}"
            ports[key] = (p.host_ip, host_port) if p.host_ip else host_port
        kw["ports"] = ports
    else:
        kw["ports"] = {"8000/tcp": None, "8001/tcp": None, "8002/tcp": None}
        out.notes.append(
            "info: the command publishes no port (-p): the live container publishes 8000-8002 on free host ports "
            "so that the doctor can reach the server"
        )
    if run.ipc:
        kw["ipc_mode"] = run.ipc
    if run.shm_size:
        kw["shm_size"] = run.shm_size
    if run.ulimits:
        try:
            kw["ulimits"] = [_ulimit(u) for u in run.ulimits]
        except ValueError:
            out.notes.append(f"warning: --ulimit {' '.join(run.ulimits)} cannot be read; started without them")
    if run.gpus is not None:
        if gpus:
            kw["device_requests"] = [_gpus(run.gpus)]
        else:
            out.notes.append(f"info: --no-gpus: started without the command's --gpus {run.gpus}")
    if run.runtime:
        kw["runtime"] = run.runtime
    _others(run.other, kw, out)
    out.kwargs = kw
    return out


def _others(other: list[tuple[str, str | None]], kw: dict[str, Any], out: AsWritten) -> None:
    for opt, value in other:
        match opt:
            case "--entrypoint":
                pass
            case "-u" | "--user":
                kw["user"] = value
            case "-w" | "--workdir":
                kw["working_dir"] = value
            case "-h" | "--hostname":
                kw["hostname"] = value
            case "--privileged":
                kw["privileged"] = value is None or value.lower() == "true"
            case "--init":
                kw["init"] = value is None or value.lower() == "true"
            case "--read-only":
                kw["read_only"] = value is None or value.lower() == "true"
            case "--cap-add":
                kw.setdefault("cap_add", []).append(value)
            case "--cap-drop":
                kw.setdefault("cap_drop", []).append(value)
            case "--device":
                kw.setdefault("devices", []).append(value)
            case "--security-opt":
                kw.setdefault("security_opt", []).append(value)
            case "--group-add":
                kw.setdefault("group_add", []).append(value)
            case "--add-host":
                host, _, ip = (value or "").partition(":")
                kw.setdefault("extra_hosts", {})[host] = ip
            case "--tmpfs":
                path, _, opts = (value or "").partition(":")
                kw.setdefault("tmpfs", {})[path] = opts
            case "--sysctl":
                key, _, val = (value or "").partition("=")
                kw.setdefault("sysctls", {})[key] = val
            case "-m" | "--memory":
                kw["mem_limit"] = value
            case "--memory-swap":
                kw["memswap_limit"] = value
            case "--cpus":
                kw["nano_cpus"] = int(float(value or 0) * 1e9)
            case "--pid":
                kw["pid_mode"] = value
            case "--uts":
                kw["uts_mode"] = value
            case "--platform":
                kw["platform"] = value
            case _ if opt in _IGNORED:
                pass
            case _:
                out.dropped.append(f"{opt} {value}" if value is not None else opt)
    if out.dropped:
        out.notes.append(f"info: not reproduced in the live container: {', '.join(out.dropped)}")
