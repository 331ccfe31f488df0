"""``gpu-nvml``: NVML loads and lists the GPUs, their memory, compute capability, driver and CUDA version."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.units import human_bytes
from triton_doctor.facts.context import Context
from triton_doctor.probes import host_probe
from triton_doctor.results import Category, Outcome


class GpuNvml(Check):
    """NVIDIA driver and GPUs (NVML)."""

    id = "gpu-nvml"
    host_only = "gpu"
    title = "NVIDIA GPUs (NVML)"
    category = Category.GPU
    explanation = (
        "vLLM needs an NVIDIA GPU and driver on the Docker host. The doctor asks NVML (the library behind "
        "nvidia-smi) for the GPUs, their memory and compute capability, the driver version and the newest CUDA "
        "it supports. Run the doctor on the machine that runs the container."
    )
    sub_ids = {
        "library-missing": "libnvidia-ml.so.1 not found: no NVIDIA driver",
        "driver-not-loaded": "the driver is installed but not loaded",
        "unknown-error": "NVML: Unknown Error",
        "no-permission": "no permission to use the GPUs",
        "version-mismatch": "driver and library versions differ (reboot after an upgrade)",
        "no-gpu": "NVML works but lists no GPU",
        "other": "another NVML failure",
        "gpu": "one GPU's facts",
    }

    def run(self, ctx: Context) -> Outcome:
        facts = ctx.gpu()
        f = FindingFactory(self.id)
        if not facts.available:
            kind = facts.error_kind or "other"
            in_wsl = host_probe.wsl()
            text = {
                "library-missing": "no NVIDIA driver on this machine: NVML (libnvidia-ml.so.1) is not installed",
                "driver-not-loaded": "the NVIDIA driver is installed but not loaded",
                "unknown-error": "NVML answers 'Unknown Error'",
                "no-permission": "no permission to query the GPUs through NVML",
                "version-mismatch": "the NVIDIA kernel driver and its library differ in version",
            }.get(kind, "NVML failed")
            remedy = {
                "library-missing": "install the NVIDIA driver so that nvidia-smi works on this host"
                + (
                    " (in WSL: install the current Windows NVIDIA driver and run wsl --update; do not install a "
                    "Linux driver inside WSL)"
                    if in_wsl
                    else ""
                ),
                "driver-not-loaded": "load it: sudo modprobe nvidia (or reboot after installing the driver)",
                "unknown-error": "restart the container/host; see NVIDIA's notice on systemd cgroups and "
                "`sudo nvidia-ctk system create-dev-char-symlinks --create-all`",
                "no-permission": "run as a user in the video group, or with sudo",
                "version-mismatch": "reboot so the kernel module matches the upgraded driver",
            }.get(kind, "check that nvidia-smi works on this host")
            catalog = {
                "library-missing": "wsl-no-gpu-adapter" if in_wsl else "nvml-library-missing",
                "driver-not-loaded": "nvml-library-missing",
                "unknown-error": "nvml-unknown-error-after-reload",
            }.get(kind)
            f.error(
                kind, text + ": vLLM cannot run here", evidence=facts.error or "", remedy=remedy, catalog_id=catalog
            )
            return f.outcome(text)
        if not facts.gpus:
            f.error(
                "no-gpu",
                "NVML works but lists no GPU",
                evidence=f"driver {facts.driver_version}",
                remedy="check nvidia-smi; a GPU must be attached to this machine (or VM)",
            )
            return f.outcome("no GPU")
        for gpu in facts.gpus:
            cc = f"{gpu.compute_capability[0]}.{gpu.compute_capability[1]}"
            f.info(
                "gpu",
                f"GPU {gpu.index}: {gpu.name}, {human_bytes(gpu.memory_total)} "
                f"({human_bytes(gpu.memory_free)} free), compute capability {cc}",
                evidence=gpu.uuid,
            )
        names = sorted({g.name for g in facts.gpus})
        return f.outcome(
            f"{len(facts.gpus)} x {', '.join(names)}, driver {facts.driver_version} (CUDA {facts.cuda_version})"
        )
