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
from triton_doctor.context import Context
from triton_doctor.results import Category, Location, Outcome

GIB = 1024**3
#: Secrets that must come from a Secret, never a literal ``value:``.
SECRET_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "NGC_API_KEY", "VLLM_API_KEY")
#: Host memory to load a checkpoint: the weights pass through it, plus the server itself.
LOAD_OVERHEAD_BYTES = 2 * GIB
MIN_MEMORY_UNKNOWN = 4 * GIB


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _indent(text: str, spaces: int) -> str:
    return "\n".join((" " * spaces + line) if line else line for line in text.splitlines())


def _gib(value: float) -> str:
    return f"{value / GIB:.1f} GiB"


def _probe_budget(probe: dict[str, Any]) -> int:
    """initialDelaySeconds + failureThreshold x periodSeconds (Kubernetes defaults 0, 3, 10)."""

    def num(key: str, default: int) -> int:
        value = probe.get(key, default)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    return num("initialDelaySeconds", 0) + num("failureThreshold", 3) * num("periodSeconds", 10)


def _probe_path(probe: dict[str, Any]) -> str | None:
    get = _map(probe.get("httpGet"))
    path = get.get("path")
    return str(path) if path is not None else None


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
        "hf-home": "a non-root user without a writable HF_HOME",
        "memory-limit": "the memory limit is below what loading the weights needs",
        "cpu-limit": "one CPU or less for the server",
        "token-literal": "a token written as a literal value in the manifest",
        "startup-budget": "the startup probe gives up before the model can be downloaded and loaded",
        "no-startup-probe": "a liveness probe without a startupProbe kills a pod that is still loading",
        "no-probes": "no probes: Kubernetes sends traffic before the model is READY",
        "probe-path": "a Triton probe not on /v2/health/*",
        "spawn": "tensor parallel without VLLM_WORKER_MULTIPROC_METHOD=spawn",
        "control-mode": "no --model-control-mode=explicit",
        "image-no-vllm": "a tritonserver image tag without the vLLM backend",
        "remote-repository": "the model repository is a bucket (gs://, s3://)",
        "service-port": "a Service targetPort no serving container exposes",
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
            weights = _weights(ctx)
        for c in kube.containers:
            self._container(ctx, f, c, repo_parallel, weights)
        self._services(f, kube)
        n = len(kube.containers)
        bad = sum(1 for x in f.findings if x.severity.value != "info")
        return f.outcome(f"{n} serving container(s): " + (f"{bad} problem(s)" if bad else "the pod spec looks right"))

    # -----------------------------------------------------------------------------------------------------------

    def _container(self, ctx: Context, f: FindingFactory, c: Any, repo_parallel: int, weights: int | None) -> None:
        serving = c.server in {"tritonserver", "triton", "vllm"}
        triton = c.server in {"tritonserver", "triton"}
        multinode = c.role in {"leader", "worker"}
        parallel = c.cli_parallel or repo_parallel or 1
        needed_gpus = (c.cli_tensor_parallel or parallel) if multinode else parallel

        def loc(*rel: str | int) -> Location:
            line = c.doc.line_of((*c.container_path, *rel))
            return Location(path=c.doc.file, line=line)

        def pod_loc(*rel: str | int) -> Location:
            return Location(path=c.doc.file, line=c.doc.line_of((*c.pod_path, *rel)))

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
            volume = _shm_volume(c.pod, c.container)
            if volume is None:
                init_with = [str(i.get("name") or "?") for i in c.init_containers if _shm_volume(c.pod, i) is not None]
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
                        _sev_error_if(parallel > 1),
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
                empty = _map(volume.get("emptyDir"))
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
                from triton_doctor.deploy.kube import parse_quantity

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
        from triton_doctor.deploy.kube import gpu_limit, parse_quantity

        resources = _map(c.container.get("resources"))
        limits = _map(resources.get("limits"))
        requests = _map(resources.get("requests"))
        gpus = gpu_limit(c.container)
        # An unrendered Helm template leaves computed values as placeholders: unknown, not missing.
        unknown = "helm-expr" in repr(c.container.get("resources"))
        gpu_yaml = f"resources:\n  limits:\n    nvidia.com/gpu: {needed_gpus}"
        if serving and not unknown and gpus is None and parse_quantity(requests.get("nvidia.com/gpu")) is None:
            f.add(
                _sev_error_if(c.role != "runtime"),
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
        # --- HF cache under a non-root user ---------------------------------------------------------------------
        if serving:
            self._hf_home(f, c, label, loc, pod_loc)
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
        # --- secrets --------------------------------------------------------------------------------------------
        for i, item in enumerate(_list(c.container.get("env"))):
            if not isinstance(item, dict) or item.get("name") not in SECRET_VARS or "value" not in item:
                continue
            value = item.get("value")
            if not isinstance(value, str) or not value.strip():
                continue
            name = str(item["name"])
            shell_ref = re.fullmatch(r"\$\{?(\w+)\}?", value.strip())
            message = (
                f"{label}: {name} is the literal text {value.strip()!r}: Kubernetes does not expand $VAR "
                "(only $(VAR) of the container's own env), so the server gets that text as its token"
                if shell_ref
                else f"{label}: {name} is written as a literal value in the manifest (anyone who can read the "
                "Deployment, its history or the repository holding it has the token)"
            )
            f.error(
                "token-literal",
                message,
                evidence=f"value: {value.strip() if shell_ref else '<redacted>'}",
                remedy=(
                    "kubectl create secret generic hf-token --from-literal=token=<your token>\n"
                    f"- name: {name}\n  valueFrom:\n    secretKeyRef:\n      name: hf-token\n      key: token"
                ),
                location=loc("env", i),
            )
        # --- probes ---------------------------------------------------------------------------------------------
        if serving and c.role != "worker":
            self._probes(f, c, label, loc, weights, triton)
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
                    remedy=f"image: {image.rsplit(':', 1)[0]}:{_vllm_tag(tag)}",
                    location=loc("image"),
                )

    def _hf_home(self, f: FindingFactory, c: Any, label: str, loc: Any, pod_loc: Any) -> None:
        pod_sc = _map(c.pod.get("securityContext"))
        sc = _map(c.container.get("securityContext"))
        user = sc.get("runAsUser", pod_sc.get("runAsUser"))
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True
        read_only = sc.get("readOnlyRootFilesystem") is True
        if not ((isinstance(user, int) and user != 0) or non_root or read_only):
            return
        hf = c.env_entry("HF_HOME")
        hf_home = str(hf.get("value")) if hf is not None and isinstance(hf.get("value"), str) else None
        who = f"runAsUser: {user}" if isinstance(user, int) else ("runAsNonRoot" if non_root else "")
        who = ", ".join(x for x in (who, "readOnlyRootFilesystem" if read_only else "") if x)
        writable_mounts = [m for m in c.mounts if not m.readonly and m.type in {"emptyDir", "pvc", "hostPath", "nfs"}]
        fix = (
            "env:\n  - name: HF_HOME\n    value: /hf-cache\n"
            "volumeMounts:\n  - name: hf-cache\n    mountPath: /hf-cache\n"
            "# in the pod spec\nvolumes:\n  - name: hf-cache\n    emptyDir: {}   # or a persistentVolumeClaim"
        )
        if hf_home is None:
            root_cache = next((m for m in c.mounts if m.target.startswith("/root/")), None)
            if root_cache is not None or read_only:
                f.error(
                    "hf-home",
                    f"{label}: {who} with the Hugging Face cache at the default under the user's home"
                    + (f" while the cache volume is mounted at {root_cache.target}" if root_cache else "")
                    + (": the root filesystem is read-only" if read_only else "")
                    + "; downloads fail with PermissionError",
                    catalog_id="hf-cache-unwritable",
                    remedy=fix,
                    location=loc("env") if "env" in c.container else loc(),
                )
            else:
                f.warning(
                    "hf-home",
                    f"{label}: {who} and no HF_HOME: the cache goes to $HOME/.cache, which does not exist or is not "
                    "writable for a UID without a home in the image",
                    catalog_id="hf-cache-unwritable",
                    remedy=fix,
                    location=loc("env") if "env" in c.container else loc(),
                )
            return
        under = next(
            (m for m in writable_mounts if hf_home == m.target or hf_home.startswith(m.target.rstrip("/") + "/")), None
        )
        if under is None and (read_only or hf_home.startswith("/root")):
            f.error(
                "hf-home",
                f"{label}: HF_HOME={hf_home} is not on a writable volume and {who}: downloads fail with "
                "PermissionError",
                catalog_id="hf-cache-unwritable",
                remedy=fix,
                location=loc("env", c.env_index("HF_HOME") or 0),
            )

    def _probes(self, f: FindingFactory, c: Any, label: str, loc: Any, weights: int | None, triton: bool) -> None:
        startup = _map(c.container.get("startupProbe"))
        liveness = _map(c.container.get("livenessProbe"))
        readiness = _map(c.container.get("readinessProbe"))
        from triton_doctor.deploy.kube import startup_estimate

        expected, basis = startup_estimate(weights)
        health = "/v2/health/ready" if triton else "/health"
        period = 10
        threshold = -(-expected // period)
        startup_yaml = (
            f"startupProbe:\n  httpGet:\n    path: {health}\n    port: 8000\n"
            f"  periodSeconds: {period}\n  failureThreshold: {threshold}   # {threshold * period} s"
        )
        if not startup and not liveness and not readiness:
            f.info(
                "no-probes",
                f"{label}: no probes: the Service sends requests before the model is READY",
                remedy=startup_yaml
                + f"\nreadinessProbe:\n  httpGet:\n    path: {health}\n    port: 8000\n  periodSeconds: 5",
                location=loc(),
            )
            return
        if startup:
            budget = _probe_budget(startup)
            if budget < expected:
                f.warning(
                    "startup-budget",
                    f"{label}: the startupProbe gives up after {budget} s (initialDelaySeconds + failureThreshold x "
                    f"periodSeconds); loading needs {basis}",
                    evidence=f"startupProbe budget {budget} s",
                    remedy=startup_yaml,
                    location=loc("startupProbe"),
                )
        elif liveness:
            budget = _probe_budget(liveness)
            if budget < expected:
                f.warning(
                    "no-startup-probe",
                    f"{label}: a livenessProbe without a startupProbe restarts the container after {budget} s; "
                    f"loading needs {basis}, so the pod never gets READY (CrashLoopBackOff)",
                    evidence=f"livenessProbe budget {budget} s",
                    remedy=startup_yaml,
                    location=loc("livenessProbe"),
                )
        if triton:
            for key, want in (("livenessProbe", "/v2/health/live"), ("readinessProbe", "/v2/health/ready")):
                probe = _map(c.container.get(key))
                path = _probe_path(probe) if probe else None
                if path is not None and not path.startswith("/v2/health/"):
                    f.info(
                        "probe-path",
                        f"{label}: {key} on {path}: Triton answers health on {want}",
                        remedy=f"httpGet:\n  path: {want}\n  port: 8000",
                        location=loc(key),
                    )

    def _services(self, f: FindingFactory, kube: Any) -> None:
        ports: set[object] = set()
        for c in kube.containers:
            for p in _list(c.container.get("ports")):
                if isinstance(p, dict):
                    ports.add(p.get("containerPort"))
                    if p.get("name"):
                        ports.add(p.get("name"))
        if not ports:
            return
        for svc in kube.services:
            for i, port in enumerate(_list(_map(svc.data.get("spec")).get("ports"))):
                if not isinstance(port, dict):
                    continue
                target = port.get("targetPort", port.get("port"))
                if target is None or target in ports or "helm-expr" in str(target):
                    continue
                f.warning(
                    "service-port",
                    f"{svc.label}: targetPort {target} is not a port of any serving container "
                    f"({', '.join(sorted(str(p) for p in ports))})",
                    remedy="targetPort: 8000   # Triton HTTP (8001 gRPC, 8002 metrics)",
                    location=Location(path=svc.file, line=svc.line_of(("spec", "ports", i))),
                )


def _sev_error_if(condition: bool) -> Any:
    from triton_doctor.results import Severity

    return Severity.ERROR if condition else Severity.WARNING


def _vllm_tag(tag: str) -> str:
    match = re.match(r"^(\d+\.\d+)", tag)
    return f"{match.group(1)}-vllm-python-py3" if match else "<YY.MM>-vllm-python-py3"


def _shm_volume(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, Any] | None:
    for mount in _list(container.get("volumeMounts")):
        if isinstance(mount, dict) and str(mount.get("mountPath", "")).rstrip("/") == "/dev/shm":
            name = mount.get("name")
            return next((v for v in _list(pod.get("volumes")) if isinstance(v, dict) and v.get("name") == name), {})
    return None


def _weights(ctx: Context) -> int | None:
    """Bytes of the selected models' weights (the heaviest model; None when none is known)."""
    from triton_doctor.modelmath import model_shape

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
