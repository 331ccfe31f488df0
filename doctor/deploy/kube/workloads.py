"""Find the serving containers of every workload kind: Deployment ... LeaderWorkerSet, KServe, NIM, Ray."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from triton_doctor.deploy.kube.container import make_container, serving_index
from triton_doctor.deploy.kube.model import (
    KSERVE_MODEL_DIR,
    KubeDeployment,
    KubeDoc,
    Path_,
    Problem,
    ServingContainer,
    as_list,
    as_map,
    get_path,
)
from triton_doctor.deploy.target import MountSpec

__all__ = ["build_deployment"]


#: kind -> path of the pod spec (None: handled below).
_POD_PATHS: dict[str, tuple[Path_, ...]] = {
    "Pod": (("spec",),),
    "Deployment": (("spec", "template", "spec"),),
    "StatefulSet": (("spec", "template", "spec"),),
    "ReplicaSet": (("spec", "template", "spec"),),
    "DaemonSet": (("spec", "template", "spec"),),
    "Job": (("spec", "template", "spec"),),
    "CronJob": (("spec", "jobTemplate", "spec", "template", "spec"),),
    "LeaderWorkerSet": (
        ("spec", "leaderWorkerTemplate", "leaderTemplate", "spec"),
        ("spec", "leaderWorkerTemplate", "workerTemplate", "spec"),
    ),
}
_ROLE_OF = {"leaderTemplate": "leader", "workerTemplate": "worker"}
#: Kinds that hold no container and are fine to meet in a stream.
_PASSIVE_KINDS = {
    "Service", "ConfigMap", "Secret", "ServiceAccount", "Role", "RoleBinding", "ClusterRole",
    "ClusterRoleBinding", "PersistentVolumeClaim", "PersistentVolume", "StorageClass", "Ingress",
    "HorizontalPodAutoscaler", "PodMonitor", "ServiceMonitor", "PodDisruptionBudget", "NetworkPolicy",
    "NIMCache", "TrainedModel", "Namespace", "ScaledObject", "HTTPRoute", "GRPCRoute",
}  # fmt: skip


def _pods_of(doc: KubeDoc) -> Iterator[tuple[Path_, str]]:
    data = doc.data
    kind = doc.kind
    for path in _POD_PATHS.get(kind, ()):
        if isinstance(get_path(data, path), dict):
            role = _ROLE_OF.get(str(path[-2]), "") if kind == "LeaderWorkerSet" else ""
            yield path, role
    if kind in {"RayService", "RayCluster"}:
        base: Path_ = ("spec", "rayClusterConfig") if kind == "RayService" else ("spec",)
        head = (*base, "headGroupSpec", "template", "spec")
        if isinstance(get_path(data, head), dict):
            yield head, "leader"
        for i, _group in enumerate(as_list(get_path(data, (*base, "workerGroupSpecs")))):
            path = (*base, "workerGroupSpecs", i, "template", "spec")
            if isinstance(get_path(data, path), dict):
                yield path, "worker"
    if kind in {"ServingRuntime", "ClusterServingRuntime"}:
        if isinstance(get_path(data, ("spec", "containers")), list):
            yield ("spec",), "runtime"
        if isinstance(get_path(data, ("spec", "workerSpec", "containers")), list):
            yield ("spec", "workerSpec"), "worker"


def _kserve_isvc(doc: KubeDoc, runtimes: dict[str, ServingContainer]) -> list[ServingContainer]:
    predictor = as_map(get_path(doc.data, ("spec", "predictor")))
    ppath: Path_ = ("spec", "predictor")
    found: list[ServingContainer] = []
    storage_uri = ""
    if isinstance(predictor.get("containers"), list):
        for i in serving_index(predictor["containers"]):
            found.append(make_container(doc, ppath, predictor, i, "isvc"))
        return found
    for key in ("model", "triton"):
        spec = predictor.get(key)
        if not isinstance(spec, dict):
            continue
        storage_uri = str(spec.get("storageUri") or "")
        mounts: tuple[MountSpec, ...] = ()
        if storage_uri:
            mounts = (
                MountSpec(
                    source=storage_uri,
                    target=KSERVE_MODEL_DIR,
                    type="storage-uri",
                    readonly=True,
                    origin=doc.where((*ppath, key, "storageUri")),
                    raw="storageUri",
                ),
            )
        runtime_name = str(spec.get("runtime") or "")
        fmt = str(as_map(spec.get("modelFormat")).get("name") or "")
        runtime = runtimes.get(runtime_name)
        if runtime is None and (key == "triton" or fmt == "triton"):
            runtime = runtimes.get("kserve-tritonserver")
        container: dict[str, Any] = dict(runtime.container) if runtime is not None else {"name": "kserve-container"}
        if key == "triton" and runtime is None:
            version = str(spec.get("runtimeVersion") or "")
            container["image"] = f"nvcr.io/nvidia/tritonserver:{version}" if version else "nvcr.io/nvidia/tritonserver"
            container["args"] = ["tritonserver", f"--model-store={KSERVE_MODEL_DIR}"]
        for field_name in ("resources", "env", "args", "command", "image"):
            if field_name in spec:
                container[field_name] = spec[field_name]
        # The predictor-level pod fields (volumes, securityContext ...) over the runtime's.
        pod = dict(runtime.pod) if runtime is not None else {}
        pod.update({k: v for k, v in predictor.items() if k not in {"model", "triton"}})
        pod["containers"] = [container]
        made = make_container(
            doc,
            ppath,
            pod,
            0,
            "isvc",
            container=container,
            container_path=(*ppath, key),
            extra_mounts=mounts,
        )
        found.append(made)
    return found


def _nim_service(doc: KubeDoc) -> list[ServingContainer]:
    spec = as_map(doc.data.get("spec"))
    image = as_map(spec.get("image"))
    container: dict[str, Any] = {
        "name": "nim",
        "image": f"{image.get('repository', '')}:{image.get('tag', '')}".strip(":"),
        "env": spec.get("env") or [],
        "resources": spec.get("resources") or {},
    }
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        entry = as_map(spec.get(probe))
        if entry.get("enabled", True) and isinstance(entry.get("probe"), dict):
            container[probe] = entry["probe"]
    pod: dict[str, Any] = {"containers": [container]}
    if spec.get("userID") is not None:
        pod["securityContext"] = {"runAsUser": spec.get("userID"), "fsGroup": spec.get("groupID")}
    if spec.get("runtimeClassName"):
        pod["runtimeClassName"] = spec["runtimeClassName"]
    made = make_container(doc, ("spec",), pod, 0, "", container=container, container_path=("spec",))
    # The operator adds /dev/shm (dshm) and the NIM cache at /model-store itself.
    mounts = (
        *made.mounts,
        MountSpec(source="nimCache", target="/model-store", type="pvc", origin=doc.where(("spec", "storage"))),
    )
    made.docker.shm_size = made.docker.shm_size or "operator-default"
    return [replace(made, mounts=mounts, server="vllm" if "vllm" in container["image"] else "other")]


def build_deployment(docs: list[KubeDoc], problems: list[Problem], sources: tuple[str, ...]) -> KubeDeployment:
    """Find every serving container in ``docs``."""
    containers: list[ServingContainer] = []
    runtimes: dict[str, ServingContainer] = {}
    services: list[KubeDoc] = []
    problems = list(problems)
    for doc in docs:
        if doc.kind in {"ServingRuntime", "ClusterServingRuntime"}:
            for pod_path, role in _pods_of(doc):
                pod = as_map(get_path(doc.data, pod_path))
                for i in serving_index(as_list(pod.get("containers"))):
                    made = make_container(doc, pod_path, pod, i, role)
                    containers.append(made)
                    if role == "runtime":
                        runtimes.setdefault(doc.name, made)
    for doc in docs:
        kind = doc.kind
        if kind in {"ServingRuntime", "ClusterServingRuntime"}:
            continue
        if kind == "Service":
            services.append(doc)
            continue
        if kind == "InferenceService":
            containers += _kserve_isvc(doc, runtimes)
            continue
        if kind == "NIMService":
            containers += _nim_service(doc)
            continue
        pods = list(_pods_of(doc))
        for pod_path, role in pods:
            pod = as_map(get_path(doc.data, pod_path))
            for i in serving_index(as_list(pod.get("containers"))):
                containers.append(make_container(doc, pod_path, pod, i, role))
        if not pods and kind and kind not in _PASSIVE_KINDS:
            problems.append(
                Problem(
                    sub_id="unknown-kind",
                    severity="info",
                    message=f"{doc.label} ({doc.api_version or 'no apiVersion'}) is not a kind the doctor reads",
                    file=doc.file,
                    line=doc.line_of(("kind",)),
                )
            )
        if not kind:
            problems.append(
                Problem(
                    sub_id="not-an-object",
                    severity="warning",
                    message=f"document {doc.index} of {doc.file} has no kind",
                    file=doc.file,
                    line=doc.line_of(()),
                    remedy="each document needs apiVersion, kind and metadata",
                )
            )
    if docs and not containers:
        problems.append(
            Problem(
                sub_id="no-workload",
                severity="warning",
                message="no pod template with a container was found in " + ", ".join(sources),
                file=sources[0] if sources else "manifest",
                remedy="give the Deployment/StatefulSet/Pod/LeaderWorkerSet/InferenceService that runs the server",
            )
        )
    return KubeDeployment(
        sources=sources,
        docs=tuple(docs),
        problems=tuple(problems),
        containers=tuple(containers),
        services=tuple(services),
    )
