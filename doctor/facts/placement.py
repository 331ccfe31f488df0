"""Shared GPU reasoning: which GPUs the container gets, what an image's CUDA needs from the driver."""

from __future__ import annotations

import re

from triton_doctor.core.units import parse_version
from triton_doctor.deploy.target import Target
from triton_doctor.knowledge import IMAGES, ImageInfo
from triton_doctor.probes.nvml_probe import GpuFacts, GpuInfo

__all__ = ["driver_verdict", "minor_compat_floor", "newest_tags", "visible_gpus"]

#: CUDA minor-version compatibility: any driver of at least this branch runs every image of that CUDA major.
MINOR_COMPAT_FLOOR = {12: 525, 13: 580}


def minor_compat_floor(cuda_major: int) -> int | None:
    """The lowest driver branch for minor-version compatibility with a CUDA major."""
    return MINOR_COMPAT_FLOOR.get(cuda_major)


def visible_gpus(facts: GpuFacts, target: Target) -> tuple[GpuInfo, ...]:
    """The GPUs the container will get from ``--gpus`` (all when there is no command)."""
    gpus = facts.gpus
    spec = (target.docker.gpus if target.docker else None) or "all"
    spec = spec.strip().strip('"').strip("'")
    if spec == "all" or not spec:
        return gpus
    match = re.fullmatch(r"(?:count=)?(\d+)", spec)
    if match:
        return gpus[: int(match.group(1))]
    match = re.search(r"device=([\w,:-]+)", spec)
    if match:
        wanted = match.group(1).split(",")
        return tuple(g for g in gpus if str(g.index) in wanted or g.uuid in wanted)
    return gpus


def _cuda(text: str) -> tuple[int, int]:
    parts = parse_version(text)
    return (parts[0], parts[1] if len(parts) > 1 else 0)


def driver_verdict(facts: GpuFacts, image: ImageInfo) -> str:
    """``native``, ``minor-compat`` or ``too-old`` for running ``image`` on this driver."""
    driver_cuda = ((facts.cuda_driver_version or 0) // 1000, (facts.cuda_driver_version or 0) % 1000 // 10)
    need = _cuda(image.cuda)
    if driver_cuda >= need:
        return "native"
    floor = minor_compat_floor(need[0])
    driver_major = parse_version(facts.driver_version)[:1]
    if driver_cuda[0] == need[0] and floor is not None and driver_major and driver_major[0] >= floor:
        return "minor-compat"
    return "too-old"


def newest_tags(facts: GpuFacts) -> tuple[str | None, str | None]:
    """The newest image tag this driver runs natively, and the newest it runs at all (minor compatibility)."""
    native = [t for t, i in IMAGES.items() if driver_verdict(facts, i) == "native"]
    usable = [t for t, i in IMAGES.items() if driver_verdict(facts, i) != "too-old"]
    return (native[-1] if native else None, usable[-1] if usable else None)
