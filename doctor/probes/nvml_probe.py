"""NVML probe (``pynvml`` from nvidia-ml-py): GPUs, memory, compute capability, driver and CUDA versions.

``nvmlInit`` failures become a :class:`GpuFacts` with ``error_kind`` (``library-missing``,
``driver-not-loaded``, ``unknown-error``, ``no-permission``, ``version-mismatch``, ``other``). A
:class:`GpuFacts` can also be built from recorded values (``from_json``): tests on machines without a
GPU replay what a real H100 or a two-GPU H200 machine reported.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["GpuFacts", "GpuInfo", "GpuProcess", "read_nvml"]


@dataclass(frozen=True, slots=True)
class GpuProcess:
    """A process holding GPU memory."""

    pid: int
    used_bytes: int | None
    name: str = ""


@dataclass(frozen=True, slots=True)
class GpuInfo:
    """One GPU."""

    index: int
    name: str
    uuid: str
    memory_total: int
    memory_used: int
    memory_free: int
    compute_capability: tuple[int, int]
    processes: tuple[GpuProcess, ...] = ()


@dataclass(frozen=True, slots=True)
class GpuFacts:
    """NVML's view of the machine."""

    available: bool
    error_kind: str | None = None
    error: str | None = None
    driver_version: str | None = None
    #: e.g. 13000 for CUDA 13.0 (``nvmlSystemGetCudaDriverVersion``).
    cuda_driver_version: int | None = None
    gpus: tuple[GpuInfo, ...] = field(default_factory=tuple)

    @property
    def cuda_version(self) -> str | None:
        """``"13.0"`` from 13000."""
        if self.cuda_driver_version is None:
            return None
        return f"{self.cuda_driver_version // 1000}.{self.cuda_driver_version % 1000 // 10}"

    def to_json(self) -> dict[str, Any]:
        """Plain data (for recording a real machine's values)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GpuFacts:
        """Rebuild recorded facts."""
        gpus = tuple(
            GpuInfo(
                **{
                    **g,
                    "compute_capability": tuple(g["compute_capability"]),
                    "processes": tuple(GpuProcess(**p) for p in g.get("processes", ())),
                }
            )
            for g in data.get("gpus", ())
        )
        return cls(**{**data, "gpus": gpus})


_KINDS = {
    "NVMLError_LibraryNotFound": "library-missing",
    "NVMLError_DriverNotLoaded": "driver-not-loaded",
    "NVMLError_Unknown": "unknown-error",
    "NVMLError_NoPermission": "no-permission",
    "NVMLError_LibRmVersionMismatch": "version-mismatch",
}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def read_nvml() -> GpuFacts:
    """Initialise NVML, read every GPU, shut NVML down."""
    try:
        import pynvml
    except ImportError as exc:
        return GpuFacts(available=False, error_kind="library-missing", error=f"pynvml not importable: {exc}")
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # noqa: BLE001 - NVMLError subclasses are made at import time
        return GpuFacts(
            available=False, error_kind=_KINDS.get(type(exc).__name__, "other"), error=f"{type(exc).__name__}: {exc}"
        )
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        cuda = int(pynvml.nvmlSystemGetCudaDriverVersion_v2())
        gpus: list[GpuInfo] = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
            processes: list[GpuProcess] = []
            try:
                for proc in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
                    used = getattr(proc, "usedGpuMemory", None)
                    processes.append(
                        GpuProcess(
                            pid=int(proc.pid), used_bytes=int(used) if used else None, name=_process_name(int(proc.pid))
                        )
                    )
            except Exception:  # noqa: BLE001 - process listing is optional (containers, MIG)
                pass
            gpus.append(
                GpuInfo(
                    index=index,
                    name=_text(pynvml.nvmlDeviceGetName(handle)),
                    uuid=_text(pynvml.nvmlDeviceGetUUID(handle)),
                    memory_total=int(memory.total),
                    memory_used=int(memory.used),
                    memory_free=int(memory.free),
                    compute_capability=(int(major), int(minor)),
                    processes=tuple(processes),
                )
            )
        return GpuFacts(available=True, driver_version=driver, cuda_driver_version=cuda, gpus=tuple(gpus))
    except Exception as exc:  # noqa: BLE001
        return GpuFacts(
            available=False, error_kind=_KINDS.get(type(exc).__name__, "other"), error=f"{type(exc).__name__}: {exc}"
        )
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()


def _process_name(pid: int) -> str:
    try:
        import psutil

        return str(psutil.Process(pid).name())
    except Exception:  # noqa: BLE001 - another PID namespace, gone, or no permission
        return ""
