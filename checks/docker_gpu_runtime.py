"""``docker-gpu-runtime``: Docker can hand GPUs to containers (NVIDIA runtime / CDI; a live probe with --live)."""

from __future__ import annotations

import shutil
from pathlib import Path

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Outcome

#: The daemon's (or the NVIDIA Container CLI's) words, mapped to the catalog.
LIVE_ERRORS = (
    ("could not select device driver", "docker-gpu-runtime-missing"),
    ("unknown or invalid runtime name: nvidia", "docker-gpu-runtime-missing"),
    ("WSL environment detected but no adapters were found", "wsl-no-gpu-adapter"),
    ("libnvidia-ml.so.1: cannot open shared object file", "nvml-library-missing"),
    ("unsatisfied condition: cuda>=", "driver-too-old-requirement"),
    ("Failed to initialize NVML: Unknown Error", "nvml-unknown-error-after-reload"),
)
INSTALL = (
    "install the NVIDIA Container Toolkit, then: sudo nvidia-ctk runtime configure --runtime=docker && "
    "sudo systemctl restart docker"
)


#: For a CPU-only image the GPU runtime is not needed at all.
CPU_ONLY = "for a CPU-only image, start it without --gpus (triton-doctor: --no-gpus)"


def cdi_gpu_specs(dirs: tuple[str, ...]) -> list[str]:
    """CDI spec files in the daemon's ``CDISpecDirs`` that declare ``nvidia.com/gpu`` devices (readable here
    when the daemon runs on this host): with them ``--gpus``/``--device nvidia.com/gpu=all`` work without the
    ``nvidia`` runtime."""
    found: list[str] = []
    for directory in dirs:
        try:
            entries = sorted(Path(directory).iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.suffix not in {".yaml", ".yml", ".json"}:
                continue
            try:
                text = entry.read_text(encoding="utf-8", errors="replace")[:1_000_000]
            except OSError:
                continue
            if "nvidia.com/gpu" in text:
                found.append(str(entry))
    return found


def classify_gpu_error(text: str) -> str | None:
    """The catalog id for a GPU start error, if it is a known one."""
    for needle, catalog in LIVE_ERRORS:
        if needle.lower() in text.lower():
            return catalog
    return None


class DockerGpuRuntime(Check):
    """Docker's GPU support."""

    id = "docker-gpu-runtime"
    title = "Docker GPU runtime"
    category = Category.DOCKER
    describes_new_container = True
    requires = frozenset({"docker-daemon"})
    after = frozenset({"docker-image"})
    timeout_s = 120.0
    explanation = (
        "--gpus all needs the NVIDIA Container Toolkit configured in Docker: `docker info` then lists an "
        "'nvidia' runtime or CDI spec directories. Without it every GPU container fails with 'could not select "
        'device driver "" with capabilities: [[gpu]]\'. With --live the doctor starts a container with '
        "--gpus all (the target image's nvidia-smi when the image is present, else an empty image: the daemon "
        "attaches the GPUs before it looks for the program) and maps the daemon's error to its cause."
    )
    sub_ids = {
        "missing": "no NVIDIA runtime, CDI spec or toolkit found",
        "desktop": "Docker Desktop: GPU support is not visible in docker info",
        "live-failed": "starting a container with --gpus all failed",
        "live-ok": "a container with --gpus all started",
        "live-skipped": "--no-gpus: the --gpus all probe is not run",
        "cdi": "NVIDIA GPUs declared through CDI (counts as a GPU runtime)",
    }

    def run(self, ctx: Context) -> Outcome:
        facts = ctx.docker()
        f = FindingFactory(self.id)
        has_runtime = "nvidia" in facts.runtimes
        cdi = cdi_gpu_specs(facts.cdi_spec_dirs)
        wants_gpus = ctx.live_options is None or bool(getattr(ctx.live_options, "gpus", True))
        toolkit = [
            t for t in ("nvidia-container-runtime-hook", "nvidia-container-cli", "nvidia-ctk") if shutil.which(t)
        ]
        local_daemon = facts.host.startswith("unix://") and not facts.desktop
        evidence = (
            f"docker info: Runtimes {', '.join(facts.runtimes) or 'none'}; CDISpecDirs "
            f"{', '.join(facts.cdi_spec_dirs) or 'none'}; toolkit on PATH: {', '.join(toolkit) or 'none'}"
        )
        if cdi and not has_runtime:
            f.info("cdi", f"CDI declares NVIDIA GPUs: {', '.join(cdi)}", evidence=evidence)
        if not has_runtime and not toolkit and not cdi:
            if not wants_gpus:
                f.info("missing", "no NVIDIA runtime, CDI or toolkit; not needed: --no-gpus", evidence=evidence)
            elif facts.desktop:
                f.warning(
                    "desktop",
                    "Docker Desktop lists no NVIDIA runtime; GPU support depends on WSL2 and the Windows NVIDIA driver",
                    evidence=evidence,
                    remedy="run the live probe: triton-doctor check --live --only docker-gpu-runtime",
                )
            elif local_daemon:
                f.error(
                    "missing",
                    "Docker cannot give GPUs to containers: no 'nvidia' runtime and no NVIDIA "
                    "Container Toolkit on this host",
                    evidence=evidence,
                    remedy=f"{INSTALL}; {CPU_ONLY}",
                    catalog_id="docker-gpu-runtime-missing",
                )
        if ctx.live and not wants_gpus:
            f.info("live-skipped", "the --gpus all probe did not run: --no-gpus")
        elif ctx.live:
            image = ctx.target.image if ctx.target.image and ctx.image(ctx.target.image).present else None
            ok, output = ctx.probes.docker.probe_gpus(image=image, command=["nvidia-smi", "-L"] if image else None)
            started = ok or ("executable file not found" in output or "no such file or directory" in output.lower())
            if started:
                f.info(
                    "live-ok",
                    "a container with --gpus all started" + (f": {output.splitlines()[0]}" if ok else ""),
                    evidence=output[:300],
                )
            else:
                catalog = classify_gpu_error(output)
                f.error(
                    "live-failed",
                    "starting a container with --gpus all failed",
                    evidence=output,
                    catalog_id=catalog or "docker-gpu-runtime-missing",
                    remedy=f"{INSTALL}; {CPU_ONLY}"
                    if catalog in (None, "docker-gpu-runtime-missing")
                    else "see triton-doctor explain docker-gpu-runtime; the evidence is the daemon's own message",
                )
        if not f.findings:
            return f.outcome("nvidia runtime configured" if has_runtime else f"toolkit found: {', '.join(toolkit)}")
        if not has_runtime and cdi and all(x.severity.value == "info" for x in f.findings):
            return f.outcome("NVIDIA GPUs declared through CDI")
        worst = [x for x in f.findings if x.severity.value != "info"]
        return f.outcome(worst[0].message if worst else "GPU containers start")
