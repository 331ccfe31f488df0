"""What the Docker daemon said, as data: the daemon, its containers, an image, a mount probe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    """A container the daemon knows."""

    id: str
    name: str
    status: str
    image: str
    labels: dict[str, str]
    #: Published host ports: ``(host_ip, host_port, container_port/proto)``.
    ports: tuple[tuple[str, int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DockerFacts:
    """What the daemon said (or why it said nothing)."""

    host: str
    reachable: bool
    error_kind: str | None = None
    error: str | None = None
    version: str | None = None
    api_version: str | None = None
    min_api_version: str | None = None
    os_type: str | None = None
    operating_system: str | None = None
    kernel: str | None = None
    desktop: bool = False
    rootless: bool = False
    runtimes: tuple[str, ...] = ()
    default_runtime: str | None = None
    cdi_spec_dirs: tuple[str, ...] = ()
    data_root: str | None = None
    storage_driver: str | None = None
    containers: tuple[ContainerInfo, ...] = ()
    #: Memory of the machine (or Docker Desktop's VM) the daemon runs on.
    mem_total: int | None = None

    @property
    def engine_kind(self) -> str:
        """``Docker Desktop``, ``rootless Docker Engine`` or ``Docker Engine``."""
        if self.desktop:
            return "Docker Desktop"
        return "rootless Docker Engine" if self.rootless else "Docker Engine"


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """A local image, or its absence."""

    ref: str
    present: bool
    id: str | None = None
    size: int | None = None
    tags: tuple[str, ...] = ()
    digests: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class MountProbeResult:
    """One mount as the daemon saw it in a created container."""

    source: str
    target: str
    ok: bool
    error: str | None = None
    #: Entries found directly under the target (capped), when readable.
    entries: tuple[str, ...] = ()


def container(raw: dict[str, Any]) -> ContainerInfo:
    ports = tuple(
        (str(p.get("IP", "")), int(p["PublicPort"]), f"{p.get('PrivatePort')}/{p.get('Type', 'tcp')}")
        for p in raw.get("Ports") or []
        if p.get("PublicPort")
    )
    names = raw.get("Names") or [""]
    return ContainerInfo(
        id=str(raw.get("Id", ""))[:12],
        name=str(names[0]).lstrip("/"),
        status=str(raw.get("Status") or raw.get("State") or ""),
        image=str(raw.get("Image") or ""),
        labels=dict(raw.get("Labels") or {}),
        ports=ports,
    )
