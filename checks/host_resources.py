"""``host-resources``: host RAM, disk for the HF cache, and /dev/shm, against what the models need."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.units import human_bytes
from triton_doctor.deploy.tokens import HF_HOME_TARGET
from triton_doctor.facts.context import Context
from triton_doctor.facts.sizing import model_shape
from triton_doctor.probes import host_probe
from triton_doctor.results import Category, Outcome

GIB = 1024**3


class HostResources(Check):
    """RAM, disk, shared memory."""

    id = "host-resources"
    host_only = "host"
    title = "Host memory and disk"
    category = Category.DOCKER
    after = frozenset({"docker-run-options"})
    explanation = (
        "Loading safetensors passes the weights through host memory: with less RAM (plus swap) than the "
        "weights, the container is OOM-killed (exit 137) with no traceback. On Docker Desktop the limit is the "
        "VM's memory (docker info MemTotal), not the machine's. A Hub model is downloaded into the HF cache "
        "first, which needs its size in free disk. Tensor parallel with --ipc=host uses the host's /dev/shm."
    )
    sub_ids = {
        "ram": "less memory than the weights",
        "disk": "not enough free disk for the HF cache download",
        "shm": "small /dev/shm for tensor parallel with --ipc=host",
        "totals": "the host's numbers",
    }

    def run(self, ctx: Context) -> Outcome:
        f = FindingFactory(self.id)
        mem = host_probe.memory()
        daemon = ctx.docker()
        limit = daemon.mem_total if daemon.reachable and daemon.desktop and daemon.mem_total else mem.total
        where = "Docker Desktop's VM" if limit != mem.total else "this host"
        present = ctx.selected_models()[0] if ctx.repo().is_dir else ()
        shapes = [s for s in (model_shape(ctx, n) for n in present) if s is not None]
        f.info(
            "totals",
            f"{where}: {human_bytes(limit)} RAM ({human_bytes(mem.available)} available), "
            f"{human_bytes(mem.swap_total)} swap",
        )
        largest = max((s for s in shapes if s.weights_bytes), key=lambda s: s.weights_bytes or 0, default=None)
        if largest is not None and largest.weights_bytes:
            room = (mem.available if limit == mem.total else limit) + mem.swap_free
            if largest.weights_bytes > room:
                f.warning(
                    "ram",
                    f"{largest.name}: weights of {human_bytes(largest.weights_bytes)} exceed the "
                    f"{human_bytes(room)} of memory {where} has free (with swap): the container may be "
                    "OOM-killed while loading (exit 137)",
                    model=largest.name,
                    catalog_id="host-ram-oom-killed",
                    remedy="free memory, add swap, raise Docker Desktop/WSL memory (.wslconfig memory=), or "
                    "use a smaller or quantized model",
                )
        hub = [s for s in shapes if s.weights_bytes and not s.source.startswith("/")]
        if hub:
            need = sum(s.weights_bytes or 0 for s in hub)
            cache = next((m for m in ctx.target.mounts if m.target.rstrip("/") == HF_HOME_TARGET), None)
            path = cache.source if cache is not None and cache.type == "bind" else daemon.data_root
            if path and not daemon.desktop:
                disk = host_probe.disk(path)
                if disk.free is not None and disk.free < need:
                    f.error(
                        "disk",
                        f"{human_bytes(disk.free)} free at {disk.path} for the HF cache; the Hub models "
                        f"need about {human_bytes(need)}",
                        catalog_id="image-pull-no-space",
                        evidence=", ".join(f"{s.source}: {human_bytes(s.weights_bytes or 0)}" for s in hub),
                        remedy="free space there, or mount a larger directory at /root/.cache/huggingface",
                    )
        docker = ctx.target.docker
        if docker is not None and docker.ipc == "host" and any(s.parallel > 1 for s in shapes):
            shm = host_probe.shm_bytes()
            if shm is not None and shm < GIB:
                f.warning(
                    "shm",
                    f"/dev/shm on this host is {human_bytes(shm)}; tensor parallel with --ipc=host needs more",
                    catalog_id="nccl-shm-tensor-parallel",
                    remedy="enlarge /dev/shm (mount -o remount,size=16G /dev/shm) or use --shm-size=16g instead",
                )
        problems = [x for x in f.findings if x.severity.value != "info"]
        return f.outcome(f"{human_bytes(limit)} RAM on {where}" + (f"; {len(problems)} problem(s)" if problems else ""))
