"""``kube-pod-spec``: what a Triton + vLLM container needs, read from the pod spec of every serving container.

The Kubernetes side of ``docker-run-options``, ``hf-token`` and the bring-up: ``/dev/shm``, GPUs for tensor
parallel, a writable Hugging Face cache for a non-root user, memory for loading the weights, the token as a
Secret reference, probes that leave time to download and load, spawn, explicit model control and an image
with the vLLM backend. Every finding points at the manifest line and carries the YAML to paste.
"""

from __future__ import annotations

import re
from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.deploy.kube.model import as_map, shm_volume
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Location, Outcome, Severity

GIB = 1024**3
#: Host memory to load a checkpoint: the weights pass through it, plus the server itself.
LOAD_OVERHEAD_BYTES = 2 * GIB
MIN_MEMORY_UNKNOWN = 4 * GIB


def _gib(value: float) -> str:
    return f"{value / GIB:.1f} GiB"


class KubePodSpec(Check):
    """The pod spec gives the serving container what Triton + vLLM need."""

    id = "kube-pod-spec"
    title = "Kubernetes pod spec"
    category = Category.KUBE
    after = frozenset({"kube-manifest"})
    explanation = (
        "For every serving container of the --manifest streams: a memory-backed emptyDir at /dev/shm on the "
        "serving container itself (the Python backend hosting vLLM and NCCL use it; an init container's does not "
        "count), nvidia.com/gpu limits at least tensor_parallel_size x pipeline_parallel_size (and equal "
        "requests), CUDA_VISIBLE_DEVICES not hiding GPUs, an HF_HOME that a non-root user "
        "(runAsUser/runAsNonRoot/readOnlyRootFilesystem) can write, a memory limit that holds the weights "
        "while they load (KServe's Triton runtime defaults to 2Gi), more than one CPU, the Hugging Face token "
        "from a Secret (secretKeyRef) instead of a literal value, a startupProbe whose budget (initialDelaySeconds "
        "+ failureThreshold x periodSeconds) covers download and load, VLLM_WORKER_MULTIPROC_METHOD=spawn for "
        "tensor parallel, --model-control-mode=explicit, an image with the vLLM backend, and Service ports that "
        "reach the container."
    )
    sub_ids = {
        "no-shm": "no memory emptyDir at /dev/shm on the serving container",
        "shm-init-only": "/dev/shm is mounted on an init container only",
        "shm-small": "the /dev/shm emptyDir is smaller than 1 GiB",
        "shm-not-memory": "the /dev/shm emptyDir is disk-backed",
        "gpu-missing": "no nvidia.com/gpu limit",
        "gpu-below-tp": "fewer GPUs than tensor_parallel_size x pipeline_parallel_size",
        "gpu-request-mismatch": "nvidia.com/gpu requests differ from limits",
        "cuda-visible-devices": "CUDA_VISIBLE_DEVICES lists fewer GPUs than tensor parallel needs",
        "runtime-class": "no runtimeClassName (needed where nvidia is not the default runtime)",
        "memory-limit": "the memory limit is below what loading the weights needs",
        "cpu-limit": "one CPU or less for the server",
        "spawn": "tensor parallel without VLLM_WORKER_MULTIPROC_METHOD=spawn",
        "control-mode": "no --model-control-mode=explicit",
        "image-no-vllm": "a tritonserver image tag without the vLLM backend",
        "remote-repository": "the model repository is a bucket (gs://, s3://)",
    }

    def run(self, ctx: Context) -> Outcome:
        kube = ctx.target.kube
        if kube is None:
            return Outcome(skip_reason="no --manifest given")
        if not kube.containers:
            return Outcome(skip_reason="the manifests hold no serving container (see kube-manifest)")
        f = FindingFactory(self.id)
        repo_parallel = 0
        weights: int | None = None
        if ctx.repo().is_dir:
            repo_parallel = max(ctx.tensor_parallel().values(), default=0)
            weights = heaviest_weights(ctx)
        for c in kube.containers:
            self._container(ctx, f, c, repo_parallel, weights)
        n = len(kube.containers)
        bad = sum(1 for x in f.findings if x.severity.value != "info")
        return f.outcome(f"{n} serving container(s): " + (f"{bad} problem(s)" if bad else "the pod spec looks right"))

    # -----------------------------------------------------------------------------------------------------------

    def _container(self, ctx: Context, f: FindingFactory, c: Any, repo_parallel: int, weights: int | None) -> None:
        serving = c.server in {"tritonserver", "triton", "vllm"}
        multinode = c.role in {"leader", "worker"}
        parallel = c.cli_parallel or repo_parallel or 1
        needed_gpus = (c.cli_tensor_parallel or parallel) if multinode else parallel

        loc, pod_loc = container_locations(c)

        label = c.label
        # --- /dev/shm -------------------------------------------------------------------------------------------
        shm_yaml = (
            "# in the pod spec (volumes:)\n"
            "volumes:\n"
            "  - name: dshm\n"
            "    emptyDir:\n"
            "      medium: Memory\n"
            f"      sizeLimit: {max(1, parallel) * 2}Gi\n"
            f"# in the container {c.name} (volumeMounts:)\n"
            "volumeMounts:\n"
            "  - name: dshm\n"
            "    mountPath: /dev/shm"
        )
        if c.pod.get("hostIPC") is not True and c.docker.shm_size != "operator-default" and serving:
            volume = shm_volume(c.pod, c.container)
            if volume is None:
                init_with = [str(i.get("name") or "?") for i in c.init_containers if shm_volume(c.pod, i) is not None]
                if init_with:
                    f.warning(
                        "shm-init-only",
                        f"{label}: /dev/shm is mounted on the init container {init_with[0]!r} only; the serving "
                        "container keeps the runtime's 64 MB /dev/shm",
                        catalog_id="shm-too-small-python-backend",
                        remedy=f"mount the same volume in the container {c.name}:\n"
                        "volumeMounts:\n  - name: dshm\n    mountPath: /dev/shm",
                        location=loc("volumeMounts") if "volumeMounts" in c.container else loc(),
                    )
                else:
                    f.add(
                        sev_error_if(parallel > 1),
                        "no-shm",
                        f"{label}: no memory emptyDir at /dev/shm: the container gets the runtime's 64 MB, which "
                        "the Python backend hosting vLLM"
                        + (f" and NCCL (tensor parallel {parallel})" if parallel > 1 else "")
                        + " outgrow",
                        catalog_id="nccl-shm-tensor-parallel" if parallel > 1 else "shm-too-small-python-backend",
                        remedy=shm_yaml,
                        location=loc(),
                    )
            else:
                empty = as_map(volume.get("emptyDir"))
                if not empty:
                    pass
                elif empty.get("medium") != "Memory":
                    f.info(
                        "shm-not-memory",
                        f"{label}: the /dev/shm emptyDir is disk-backed (no medium: Memory)",
                        remedy="emptyDir:\n  medium: Memory",
                        location=pod_loc("volumes"),
                    )
                size = empty.get("sizeLimit")
                from triton_doctor.deploy.kube.model import parse_quantity

                quantity = parse_quantity(size) if size is not None else None
                if quantity is not None and quantity < GIB:
                    f.warning(
                        "shm-small",
                        f"{label}: the /dev/shm emptyDir has sizeLimit {size} (< 1 GiB)",
                        evidence=f"sizeLimit: {size}",
                        catalog_id="shm-too-small-python-backend",
                        remedy=f"sizeLimit: {max(1, parallel) * 2}Gi",
                        location=pod_loc("volumes"),
                    )
        # --- GPUs -----------------------------------------------------------------------------------------------
        from triton_doctor.deploy.kube.model import gpu_limit, parse_quantity

        resources = as_map(c.container.get("resources"))
        limits = as_map(resources.get("limits"))
        requests = as_map(resources.get("requests"))
        gpus = gpu_limit(c.container)
        # An unrendered Helm template leaves computed values as placeholders: unknown, not missing.
        unknown = "helm-expr" in repr(c.container.get("resources"))
        gpu_yaml = f"resources:\n  limits:\n    nvidia.com/gpu: {needed_gpus}"
        if serving and not unknown and gpus is None and parse_quantity(requests.get("nvidia.com/gpu")) is None:
            f.add(
                sev_error_if(c.role != "runtime"),
                "gpu-missing",
                f"{label}: no nvidia.com/gpu limit: the container gets no GPU and vLLM finds no CUDA device"
                + (
                    " (unless every InferenceService using the runtime sets its resources)"
                    if c.role == "runtime"
                    else ""
                ),
                catalog_id="no-gpu-in-container",
                remedy=gpu_yaml,
                location=loc("resources") if "resources" in c.container else loc(),
            )
        elif gpus is not None and gpus < needed_gpus:
            f.error(
                "gpu-below-tp",
                f"{label}: nvidia.com/gpu: {int(gpus)} but "
                + ("tensor_parallel_size" if multinode else "tensor_parallel_size x pipeline_parallel_size")
                + f" = {needed_gpus}",
                evidence=f"nvidia.com/gpu: {limits.get('nvidia.com/gpu')}",
                remedy=gpu_yaml,
                location=loc("resources", "limits", "nvidia.com/gpu"),
            )
        if (
            "nvidia.com/gpu" in requests
            and "nvidia.com/gpu" in limits
            and parse_quantity(requests["nvidia.com/gpu"]) != parse_quantity(limits["nvidia.com/gpu"])
        ):
            f.error(
                "gpu-request-mismatch",
                f"{label}: nvidia.com/gpu requests {requests['nvidia.com/gpu']} != limits "
                f"{limits['nvidia.com/gpu']} (extended resources must be equal; the API server refuses it)",
                remedy="give the same number in requests and limits, or only limits",
                location=loc("resources", "requests", "nvidia.com/gpu"),
            )
        cvd = c.env_entry("CUDA_VISIBLE_DEVICES")
        if cvd is not None and isinstance(cvd.get("value"), str) and needed_gpus > 1:
            devices = [d for d in re.split(r"[,\s]+", cvd["value"]) if d]
            if len(devices) < needed_gpus:
                f.warning(
                    "cuda-visible-devices",
                    f"{label}: CUDA_VISIBLE_DEVICES={cvd['value']} shows {len(devices)} GPU(s); tensor parallel "
                    f"needs {needed_gpus}",
                    remedy="remove CUDA_VISIBLE_DEVICES: the device plugin already gives the container its GPUs",
                    location=loc("env", c.env_index("CUDA_VISIBLE_DEVICES") or 0),
                )
        if serving and gpus and not c.pod.get("runtimeClassName") and c.doc.kind != "NIMService":
            f.info(
                "runtime-class",
                f"{label}: no runtimeClassName: the GPU reaches the container only where nvidia is the node's "
                "default container runtime (the GPU Operator's default)",
                remedy="runtimeClassName: nvidia   # in the pod spec",
                location=pod_loc(),
            )
        # --- memory / CPU ---------------------------------------------------------------------------------------
        memory = parse_quantity(limits.get("memory")) if "memory" in limits else None
        if serving and memory is not None and not unknown:
            need = (weights + LOAD_OVERHEAD_BYTES) if weights else MIN_MEMORY_UNKNOWN
            if memory < need:
                what = (
                    f"the weights ({_gib(weights)}) plus {_gib(LOAD_OVERHEAD_BYTES)} for the server"
                    if weights
                    else f"{_gib(MIN_MEMORY_UNKNOWN)}, the least a vLLM stub needs to load a model"
                )
                f.error(
                    "memory-limit",
                    f"{label}: memory limit {limits.get('memory')} is below {what}: the container is OOM-killed "
                    "(or the stub reported unhealthy) while it loads",
                    evidence=f"memory: {limits.get('memory')}",
                    catalog_id="host-ram-oom-killed",
                    remedy=f"resources:\n  limits:\n    memory: {int(-(-need // GIB)) + 2}Gi",
                    location=loc("resources", "limits", "memory"),
                )
        cpu = parse_quantity(limits.get("cpu")) if "cpu" in limits else None
        if serving and cpu is not None and cpu <= 1 and not unknown:
            f.warning(
                "cpu-limit",
                f"{label}: cpu limit {limits.get('cpu')}: the server, the Python stub and the vLLM engine share one "
                "CPU, so loading and tokenizing crawl",
                evidence=f"cpu: {limits.get('cpu')}",
                remedy='resources:\n  limits:\n    cpu: "4"',
                location=loc("resources", "limits", "cpu"),
            )
        # --- Triton arguments -----------------------------------------------------------------------------------
        if c.server == "tritonserver":
            args_key = "args" if "args" in c.container else ("command" if "command" in c.container else None)
            args_loc = loc(args_key) if args_key else loc()
            if parallel > 1 and c.docker.env.get("VLLM_WORKER_MULTIPROC_METHOD") != "spawn":
                f.warning(
                    "spawn",
                    f"{label}: tensor parallel ({parallel}) without VLLM_WORKER_MULTIPROC_METHOD=spawn: forked "
                    "workers cannot re-initialise CUDA",
                    catalog_id="cuda-reinit-in-forked-subprocess",
                    remedy="env:\n  - name: VLLM_WORKER_MULTIPROC_METHOD\n    value: spawn",
                    location=loc("env") if "env" in c.container else loc(),
                )
            if c.docker.command and c.docker.model_control_mode != "explicit":
                models = c.docker.load_models or ["<model>"]
                f.warning(
                    "control-mode",
                    f"{label}: no --model-control-mode=explicit: one model that fails to load stops the whole "
                    "server ('failed to load all models') and the pod restarts in a loop",
                    catalog_id="server-exits-on-any-load-failure",
                    remedy="args:\n"
                    + "".join(f"  - {w}\n" for w in c.docker.command if not w.startswith("--model-control-mode"))
                    + "  - --model-control-mode=explicit\n"
                    + "".join(f"  - --load-model={m}\n" for m in models if m not in c.docker.load_models),
                    location=args_loc,
                )
            for store in c.docker.model_repositories:
                if re.match(r"^[a-z][a-z0-9+.-]*://", store):
                    f.info(
                        "remote-repository",
                        f"{label}: the model repository is the bucket {store}; the doctor checks a local copy "
                        "given with --repo",
                        evidence=f"--model-repository={store}",
                        remedy="triton-doctor check --manifest ... --repo ./model_repository (a copy of the bucket)",
                        location=args_loc,
                    )
            image = c.docker.image
            tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
            if tag and "vllm" not in tag and tag != "replace" and "helm-expr" not in image:
                f.error(
                    "image-no-vllm",
                    f"{label}: the image {image} has no vLLM backend (only the -vllm-python-py3 images ship it)",
                    evidence=f"image: {image}",
                    catalog_id="wrong-image-no-vllm-backend",
                    remedy=f"image: {image.rsplit(':', 1)[0]}:{vllm_tag(tag)}",
                    location=loc("image"),
                )


def sev_error_if(condition: bool) -> Any:

    return Severity.ERROR if condition else Severity.WARNING


def vllm_tag(tag: str) -> str:
    match = re.match(r"^(\d+\.\d+)", tag)
    return f"{match.group(1)}-vllm-python-py3" if match else "<YY.MM>-vllm-python-py3"


def heaviest_weights(ctx: Context) -> int | None:
    """Bytes of the selected models' weights (the heaviest model; None when none is known)."""
    from triton_doctor.facts.sizing import model_shape

    best: int | None = None
    present, _ = ctx.selected_models()
    for name in present:
        try:
            shape = model_shape(ctx, name)
        except (OSError, ValueError):
            continue
        if shape is not None and shape.weights_bytes:
            best = max(best or 0, shape.weights_bytes)
    return best


def container_locations(c: Any) -> tuple[Any, Any]:
    """``loc(*keys)`` and ``pod_loc(*keys)``: file:line of a key of the container / of its pod spec."""

    def loc(*rel: str | int) -> Location:
        return Location(path=c.doc.file, line=c.doc.line_of((*c.container_path, *rel)))

    def pod_loc(*rel: str | int) -> Location:
        return Location(path=c.doc.file, line=c.doc.line_of((*c.pod_path, *rel)))

    return loc, pod_loc
