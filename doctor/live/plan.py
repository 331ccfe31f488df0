"""The container the live stage creates, from the deployment record, as docker SDK arguments."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from triton_doctor.deploy.render import build_spec
from triton_doctor.deploy.target import host_path
from triton_doctor.deploy.tokens import env_reference
from triton_doctor.live.asis import as_written
from triton_doctor.live.cleanup import owner_labels
from triton_doctor.live.options import SESSION_LABEL
from triton_doctor.probes.docker_probe import PROBE_LABEL

if TYPE_CHECKING:
    from triton_doctor.live.session import LiveSession


def expand_env(raw: str) -> str | None:
    """A ``-e`` value as the user's shell would pass it: a host variable reference is looked up here."""
    ref = env_reference(raw)
    return os.environ.get(ref) if ref else raw


def _ensure_arg(args: list[str], name: str, value: str) -> list[str]:
    if any(a == name or a.startswith(name + "=") for a in args):
        return args
    return [*args, f"{name}={value}"]


def container_plan(session: LiveSession) -> dict[str, Any]:
    """The container ``session`` creates, as docker SDK keyword arguments: the user's command as written (only
    named, labelled and port-remapped: :mod:`.asis`), or the corrected one with ``--as-fixed`` or when there is
    no command to run."""
    run = session.target.docker
    if run is not None and not session.options.as_fixed:
        written = as_written(run, session.target.image or run.image, gpus=session.options.gpus)
        session.outcome.notes += written.notes
        session.outcome.command = list(run.command)
        labels = {PROBE_LABEL: "live", SESSION_LABEL: session.session, **owner_labels()}
        return {**written.kwargs, "name": session.container_name(), "labels": labels}
    return fixed_plan(session)


def fixed_plan(session: LiveSession) -> dict[str, Any]:
    """The corrected container (``triton-doctor command``'s), on free host ports unless the user chose some."""
    import docker

    run = session.target.docker
    env: dict[str, str] = {}
    if run is not None:
        for key, raw in run.env.items():
            value = os.environ.get(key) if raw is None else expand_env(raw)
            if value is not None:
                env[key] = value
    else:
        from triton_doctor.deploy.tokens import host_token

        token = host_token().value
        if token:
            env["HF_TOKEN"] = token
    if session.parallel > 1:
        env.setdefault("VLLM_WORKER_MULTIPROC_METHOD", "spawn")
    # The same container as 'triton-doctor command' prints, on free host ports unless the user chose some.
    spec = build_spec(session.target, session.models, parallel=session.parallel, publish_defaults=False)
    mounts = [
        docker.types.Mount(
            target=m.target,
            source=str(host_path(m.source)) if m.type == "bind" else m.source,
            type=m.type,
            read_only=m.readonly,
        )
        for m in spec.mounts
    ]
    ports: dict[str, Any] = {
        f"{p.container_port}/{p.protocol}": (p.host_ip, p.host_port) if p.host_ip else p.host_port for p in spec.ports
    }
    session.outcome.command = list(spec.command)
    kwargs: dict[str, Any] = {
        "image": session.target.image,
        "command": list(spec.command),
        "environment": env,
        "mounts": mounts,
        "ports": ports,
        "name": session.container_name(),
        "labels": {PROBE_LABEL: "live", SESSION_LABEL: session.session, **owner_labels()},
        "ulimits": [docker.types.Ulimit(name=n, soft=soft, hard=hard) for n, soft, hard in spec.ulimits],
        "detach": True,
    }
    if spec.ipc_host:
        kwargs["ipc_mode"] = "host"
    else:
        kwargs["shm_size"] = spec.shm_size
    if session.options.gpus and spec.gpus:
        kwargs["device_requests"] = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
    return kwargs
