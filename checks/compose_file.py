"""``compose-file``: what a compose file gets wrong that a ``docker run`` command cannot.

Every other deployment check reads the compose service as the ``docker run`` it amounts to; this one reads
what only Compose does: where it looks for a GPU request, how it substitutes variables, the folders it creates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.deploy.compose_record import gpu_capable
from triton_doctor.deploy.tokens import TOKEN_VARS
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Location, Outcome

_GPU_WORDS = {"driver", "capabilities", "device_ids", "count"}


def _device_lists(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], list[Any]]]:
    """Every ``devices:`` list of GPU-looking requests under ``value``, with its key path."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            here = (*path, str(key))
            if (
                key == "devices"
                and isinstance(item, list)
                and any(isinstance(d, Mapping) and _GPU_WORDS & set(d) for d in item)
            ):
                yield here, item
            else:
                yield from _device_lists(item, here)


class ComposeFile(Check):
    """GPU requests Compose ignores, unset tokens, shell syntax, created folders, shared memory, names."""

    id = "compose-file"
    title = "Compose file"
    category = Category.DOCKER
    describes_new_container = True
    after = frozenset({"docker-run-options"})
    explanation = (
        "Read from a compose project (--compose-file, or compose.yaml in the working folder): a GPU request "
        "under a key Compose does not read (only deploy.resources.reservations.devices and gpus: hand GPUs to "
        "the container) or without the gpu capability; ${HF_TOKEN} set neither in the shell nor in .env (Compose "
        "substitutes an empty string with only a warning); PowerShell's $env:NAME or cmd's %NAME% in the file "
        "(Compose reads neither); a short-syntax bind whose folder is missing (Compose creates it empty); no "
        "shm_size (Docker's 64 MB /dev/shm is too small for the Python backend); a container_name two services "
        "share, or set on a service with more than one replica."
    )
    sub_ids = {
        "gpu-ignored": "a GPU request Compose does not read",
        "gpu-capability": "a device reservation without the gpu capability",
        "token-unset": "${HF_TOKEN} set neither in the environment nor in .env",
        "shell-syntax": "$env:NAME or %NAME% in a compose file",
        "will-create": "a short-syntax bind source Compose would create empty",
        "shm-size": "no shm_size (and no ipc: host)",
        "container-name": "a container_name shared or set with several replicas",
    }

    def run(self, ctx: Context) -> Outcome:
        service = ctx.target.compose
        if service is None:
            return Outcome(skip_reason="no compose file given (--compose-file)")
        project = service.project
        raw = project.raw_services.get(service.name, {})
        source = service.source
        name = service.name
        f = FindingFactory(self.id)

        reservations = ("deploy", "resources", "reservations", "devices")
        for path, devices in _device_lists(raw, ()):
            if path == reservations:
                for dev in devices:
                    if isinstance(dev, Mapping) and not gpu_capable(dev):
                        f.error(
                            "gpu-capability",
                            f"services.{name}.deploy.resources.reservations.devices asks for "
                            f"{dict(dev)} without the gpu capability: no GPU reaches the container",
                            location=source.at("deploy"),
                            catalog_id="no-gpu-in-container",
                            remedy="write capabilities: [gpu] in the device reservation",
                        )
                continue
            if path[:1] == ("gpus",):
                continue
            f.error(
                "gpu-ignored",
                f"services.{name}.{'.'.join(path)} is not where Compose reads a GPU request: the container starts "
                "without a GPU",
                location=source.at(path[0]),
                catalog_id="no-gpu-in-container",
                remedy="move the devices list to deploy: resources: reservations: devices: (driver: nvidia, "
                "count: all, capabilities: [gpu]), or write gpus: all",
            )

        for var, where in sorted(project.unset.items()):
            if var in TOKEN_VARS:
                path_text, _, line_text = where.rpartition(":")
                f.warning(
                    "token-unset",
                    f"${{{var}}} is set neither in this shell nor in {project.directory.name}/.env: Compose "
                    "substitutes an empty string (with only a warning) and the container gets no token",
                    location=_location(path_text, line_text),
                    catalog_id="hf-gated-unauthenticated",
                    remedy=f"export {var}=hf_... before docker compose up, or write {var}=hf_... into the .env "
                    "beside the compose file (and keep .env out of version control)",
                )

        for loc, text in project.shell_syntax:
            shell = "PowerShell" if text.startswith("$") else "cmd"
            var = text[5:] if text.startswith("$env:") else text.strip("%")
            f.error(
                "shell-syntax",
                f"{text} is {shell} syntax in a compose file: Compose substitutes only ${{{var}}} (the value "
                f"becomes {'the text ' + repr(':' + var) if shell == 'PowerShell' else repr(text)})",
                location=loc,
                evidence=text,
                catalog_id="hf-gated-unauthenticated" if var in TOKEN_VARS else None,
                remedy=f"write ${{{var}}}",
            )

        docker = ctx.target.docker
        if docker is not None:
            for mount in docker.mounts:
                if mount.type != "bind" or not mount.raw.startswith("-v"):
                    continue
                if mount.target not in source.short_volumes:
                    continue
                if not Path(mount.source).exists():
                    f.warning(
                        "will-create",
                        f"bind source {mount.source} does not exist: Compose creates it as an empty folder and "
                        f"mounts it at {mount.target}",
                        location=source.at(f"volume:{mount.target}"),
                        evidence=mount.raw,
                        catalog_id="bind-source-missing",
                        remedy="fix the path, or write the long syntax (type: bind, source:, target:) so "
                        "Compose refuses a missing folder instead of creating it",
                    )
            if docker.ipc != "host" and docker.shm_size is None:
                f.warning(
                    "shm-size",
                    f"services.{name} has no shm_size: the container gets Docker's default 64 MB of /dev/shm, "
                    "which the Python backend hosting vLLM outgrows",
                    location=source.at("service"),
                    catalog_id="shm-too-small-python-backend",
                    remedy=f"add shm_size: 1g under services.{name}",
                )

        container_name = raw.get("container_name")
        if container_name:
            others = [
                other
                for other, svc in project.raw_services.items()
                if other != name and svc.get("container_name") == container_name and project.is_active(other)
            ]
            deploy = raw.get("deploy") if isinstance(raw.get("deploy"), Mapping) else {}
            replicas = raw.get("scale") or (deploy or {}).get("replicas") or 1
            if others:
                f.error(
                    "container-name",
                    f"container_name {container_name!r} is also the name of service(s) {', '.join(others)}: "
                    "docker compose up starts one and fails on the other ('already in use')",
                    location=source.at("container_name"),
                    remedy="give each service its own container_name, or drop container_name",
                )
            elif str(replicas).isdigit() and int(str(replicas)) > 1:
                f.error(
                    "container-name",
                    f"container_name {container_name!r} with {replicas} replicas: Compose cannot give one name "
                    "to several containers",
                    location=source.at("container_name"),
                    remedy="drop container_name, or run one replica",
                )
        summary = f"{service.name} in {project.files[0].name}"
        return f.outcome(summary + (f": {len(f.findings)} problem(s)" if f.findings else ": nothing Compose-specific"))


def _location(path: str, line: str) -> Location:
    return Location(path=path, line=int(line)) if line.isdigit() else Location(path=path)
