"""``command --format k8s``: the deployment as a Deployment + Service that ``check --manifest`` passes.

From the same :class:`~triton_doctor.deploy.render.ContainerSpec` the docker command is printed from: the image and
``tritonserver`` arguments (explicit model control), GPUs from tensor x pipeline parallel, a memory emptyDir
at ``/dev/shm``, the token from a Secret (never a value), ``HF_HOME`` on its own volume, a startupProbe sized
for the model, memory for the weights, and the doctor itself as an init container (``check --profile quick``
with the serving container's mounts and GPUs) so a bad repository fails with a readable ``kubectl logs``
instead of a CrashLoopBackOff.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from triton_doctor import __version__
from triton_doctor.deploy.kube.model import GIB, startup_estimate

__all__ = ["PREFLIGHT_IMAGE", "render_k8s"]

APP = "triton-vllm"
HF_HOME = "/hf-cache"
#: The doctor's own image (build it from the Dockerfile at the repository root).
PREFLIGHT_IMAGE = f"triton-doctor:{__version__}"


class _NoAliases(yaml.SafeDumper):
    """Repeat shared values in full: anchors (&id001) are valid YAML but unreadable in a manifest."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _slug(path: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    return slug[:40] or "data"


def render_k8s(spec: Any, *, parallel: int = 1, weights: int | None = None, preflight: bool = True) -> str:
    """The YAML stream (Deployment, Service) for ``spec``; ``weights`` in bytes when known."""
    gpus = max(1, parallel)
    expected, _basis = startup_estimate(weights)
    period = 10
    threshold = max(30, -(-expected // period))
    memory_gib = max(16, int(-(-((weights or 0) + 2 * GIB) // GIB)) + 4)
    env: list[dict[str, Any]] = [
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token", "optional": True}}},
        {"name": "HF_HOME", "value": HF_HOME},
    ]
    for name, value in spec.env_values.items():
        if name not in {"HF_HOME"}:
            env.append({"name": name, "value": str(value)})
    if gpus > 1 and not any(e["name"] == "VLLM_WORKER_MULTIPROC_METHOD" for e in env):
        env.append({"name": "VLLM_WORKER_MULTIPROC_METHOD", "value": "spawn"})
    mounts: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    doctor_mounts: list[str] = []
    repo_target = next(
        (a.split("=", 1)[1] for a in spec.command if a.startswith(("--model-repository=", "--model-store="))),
        "/models",
    )
    seen: set[str] = set()
    for m in spec.mounts:
        if m.target.startswith("/root/.cache") or m.target in seen:
            continue  # the Hugging Face cache gets its own volume at HF_HOME
        seen.add(m.target)
        name = "model-repository" if m.target.rstrip("/") == repo_target.rstrip("/") else _slug(m.target)
        mounts.append({"name": name, "mountPath": m.target, **({"readOnly": True} if m.readonly else {})})
        volumes.append({"name": name, "persistentVolumeClaim": {"claimName": f"triton-{name}"}})
        if name != "model-repository":
            doctor_mounts += ["--mount", f"{m.target}:{m.target}"]
    if repo_target not in seen:
        mounts.insert(0, {"name": "model-repository", "mountPath": repo_target})
        volumes.insert(
            0, {"name": "model-repository", "persistentVolumeClaim": {"claimName": "triton-model-repository"}}
        )
    mounts += [{"name": "dshm", "mountPath": "/dev/shm"}, {"name": "hf-cache", "mountPath": HF_HOME}]
    volumes += [
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{2 * gpus}Gi"}},
        {"name": "hf-cache", "persistentVolumeClaim": {"claimName": "triton-hf-cache"}},
    ]
    ports = [
        {"name": "http", "containerPort": 8000},
        {"name": "grpc", "containerPort": 8001},
        {"name": "metrics", "containerPort": 8002},
    ]
    container: dict[str, Any] = {
        "name": "triton",
        "image": spec.image,
        "args": list(spec.command),
        "env": env,
        "ports": ports,
        "resources": {
            "limits": {"nvidia.com/gpu": gpus, "memory": f"{memory_gib}Gi", "cpu": str(max(4, 2 * gpus))},
            "requests": {"memory": f"{memory_gib}Gi", "cpu": str(max(4, 2 * gpus))},
        },
        "volumeMounts": mounts,
        "startupProbe": {
            "httpGet": {"path": "/v2/health/ready", "port": "http"},
            "periodSeconds": period,
            "failureThreshold": threshold,
        },
        "readinessProbe": {"httpGet": {"path": "/v2/health/ready", "port": "http"}, "periodSeconds": 5},
        "livenessProbe": {
            "httpGet": {"path": "/v2/health/live", "port": "http"},
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
    }
    pod: dict[str, Any] = {}
    if preflight:
        pod["initContainers"] = [
            {
                "name": "triton-doctor-preflight",
                "image": PREFLIGHT_IMAGE,
                "args": [
                    "check",
                    "--profile",
                    "quick",
                    "--repo",
                    repo_target,
                    *doctor_mounts,
                    *[f"--model={m}" for m in spec.models],
                ],
                "env": [e for e in env if e["name"] in {"HF_TOKEN", "HF_HOME"}],
                "resources": {"limits": {"nvidia.com/gpu": gpus, "memory": "1Gi", "cpu": "1"}},
                "volumeMounts": [m for m in mounts if m["name"] != "dshm"],
            }
        ]
    pod["containers"] = [container]
    pod["volumes"] = volumes
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": APP, "labels": {"app": APP}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": APP}},
            "template": {"metadata": {"labels": {"app": APP}}, "spec": pod},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": APP, "labels": {"app": APP}},
        "spec": {
            "selector": {"app": APP},
            "ports": [{"name": p["name"], "port": p["containerPort"], "targetPort": p["name"]} for p in ports],
        },
    }
    claims = sorted({v["persistentVolumeClaim"]["claimName"] for v in volumes if "persistentVolumeClaim" in v})
    header = [
        "# Triton + vLLM on Kubernetes (triton-doctor command --format k8s). Before kubectl apply -f:",
        "#   kubectl create secret generic hf-token --from-literal=token=<your Hugging Face token>",
        f"#   PersistentVolumeClaims: {', '.join(claims)} (the model repository and local models copied in)",
        "#   check it: triton-doctor check --manifest THIS.yaml --repo ./model_repository",
    ]
    if preflight:
        header.append(
            f"#   the init container runs the doctor: docker build -t {PREFLIGHT_IMAGE} . (in the triton-doctor "
            "source) and push it where the cluster pulls from"
        )
    dump: str = yaml.dump_all(
        [deployment, service], Dumper=_NoAliases, sort_keys=False, default_flow_style=False, width=120
    )
    return "\n".join(header) + "\n" + dump
