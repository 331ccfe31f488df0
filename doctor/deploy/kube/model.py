"""Kubernetes objects as the doctor reads them: documents with line marks, serving containers, quantities.

Read by :mod:`~triton_doctor.deploy.kube.yamlread` and :mod:`~triton_doctor.deploy.kube.workloads`; the
``kube-*`` checks read these records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from triton_doctor.deploy.docker_run import DockerRun
from triton_doctor.deploy.kube.helmlite import PLACEHOLDER
from triton_doctor.deploy.target import MountSpec

#: A manifest stream larger than this is not one (rendered charts are a few hundred KiB).
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
GIB = 1024**3
#: A pessimistic download rate for the startup estimate (a node pulling from the Hub) and a load rate.
DOWNLOAD_BYTES_PER_S = 50 * 1024**2
LOAD_BYTES_PER_S = 500 * 1024**2
#: Server start, CUDA graph capture and KV-cache profiling on top of download + load.
STARTUP_OVERHEAD_S = 120
#: The estimate when nothing is known about the weights (a 7-8B model from the Hub).
UNKNOWN_STARTUP_S = 300
#: Where KServe's storage initializer puts ``storageUri``.
KSERVE_MODEL_DIR = "/mnt/models"

Path_ = tuple[str | int, ...]


class ManifestError(ValueError):
    """A manifest path cannot be read at all (missing, a directory, too large). The CLI exits 2."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Something about a document that is not a deployment fact: YAML error, Helm template, unknown kind."""

    sub_id: str
    severity: str
    message: str
    file: str
    line: int | None = None
    evidence: str = ""
    remedy: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeDoc:
    """One YAML document with the line of each key."""

    file: str
    index: int
    data: dict[str, Any]
    lines: dict[Path_, int]
    #: Read from an unrendered Helm template (values filled from the chart's values.yaml where possible).
    helm: bool = False

    @property
    def kind(self) -> str:
        return str(self.data.get("kind") or "")

    @property
    def api_version(self) -> str:
        return str(self.data.get("apiVersion") or "")

    @property
    def name(self) -> str:
        meta = self.data.get("metadata")
        return str(meta.get("name") or "") if isinstance(meta, dict) else ""

    def line_of(self, path: Path_) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def where(self, path: Path_) -> str:
        line = self.line_of(path)
        return f"{self.file}:{line}" if line is not None else self.file

    @property
    def label(self) -> str:
        return f"{self.kind or '?'}/{self.name or '?'}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServingContainer:
    """A serving container of one pod template, and the pod around it."""

    doc: KubeDoc
    #: ``""``, or ``leader``/``worker`` (LWS, Ray, KServe multi-node) or ``runtime``/``isvc`` (KServe).
    role: str
    pod_path: Path_
    container_path: Path_
    pod: dict[str, Any]
    container: dict[str, Any]
    docker: DockerRun
    mounts: tuple[MountSpec, ...]
    #: ``tritonserver``, ``triton`` (a wrapper script that starts it), ``vllm`` (``vllm serve`` or the OpenAI
    #: server) or ``other``.
    server: str
    #: ``--tensor-parallel-size`` x ``--pipeline-parallel-size`` given on a ``vllm serve`` command line.
    cli_parallel: int | None = None
    #: ``--tensor-parallel-size`` alone (a multi-node pod holds one tensor-parallel group).
    cli_tensor_parallel: int | None = None
    #: Init containers of the pod (for "shm on the init container only").
    init_containers: tuple[dict[str, Any], ...] = ()

    @property
    def name(self) -> str:
        return str(self.container.get("name") or "?")

    @property
    def label(self) -> str:
        role = f" ({self.role})" if self.role else ""
        return f"{self.doc.label} container {self.name}{role}"

    def where(self, *rel: str | int) -> str:
        """file:line of a key of the container (``where("resources", "limits")``)."""
        return self.doc.where((*self.container_path, *rel))

    def pod_where(self, *rel: str | int) -> str:
        return self.doc.where((*self.pod_path, *rel))

    def env_entry(self, name: str) -> dict[str, Any] | None:
        for item in as_list(self.container.get("env")):
            if isinstance(item, dict) and item.get("name") == name:
                return item
        return None

    def env_index(self, name: str) -> int | None:
        for i, item in enumerate(as_list(self.container.get("env"))):
            if isinstance(item, dict) and item.get("name") == name:
                return i
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeDeployment:
    """Everything read from the ``--manifest`` streams."""

    sources: tuple[str, ...]
    docs: tuple[KubeDoc, ...]
    problems: tuple[Problem, ...]
    containers: tuple[ServingContainer, ...]
    #: Service documents (ports vs containerPorts).
    services: tuple[KubeDoc, ...] = ()
    #: ``--pod-state`` captures: (label, signals of :func:`~triton_doctor.deploy.kube.podstate.scan_pod_state`).
    pod_states: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @property
    def primary(self) -> ServingContainer | None:
        """The container the repository and mount checks look at: a Triton one first, the leader first."""
        ranked = sorted(
            self.containers,
            key=lambda c: (c.server != "tritonserver", c.server != "vllm", c.role == "worker"),
        )
        return ranked[0] if ranked else None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def get_path(data: Any, path: Path_) -> Any:
    node = data
    for part in path:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def parse_quantity(value: Any) -> float | None:
    """A Kubernetes quantity (``2Gi``, ``500M``, ``1.5``, ``250m`` CPU, ``129e6``) as a number; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    match = re.fullmatch(r"([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m|n|u)?", text)
    if not match:
        return None
    factors = {
        None: 1.0, "Ki": 1024.0, "Mi": 1024.0**2, "Gi": 1024.0**3, "Ti": 1024.0**4, "Pi": 1024.0**5,
        "Ei": 1024.0**6, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18, "m": 1e-3,
        "n": 1e-9, "u": 1e-6,
    }  # fmt: skip
    return float(match.group(1)) * factors[match.group(2)]


def gpu_limit(container: dict[str, Any]) -> float | None:
    """``resources.limits["nvidia.com/gpu"]`` (None: not set)."""
    limits = as_map(as_map(container.get("resources")).get("limits"))
    return parse_quantity(limits["nvidia.com/gpu"]) if "nvidia.com/gpu" in limits else None


def shm_volume(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, Any] | None:
    """The volume mounted at /dev/shm in ``container`` (None: none)."""
    for mount in as_list(container.get("volumeMounts")):
        if isinstance(mount, dict) and str(mount.get("mountPath", "")).rstrip("/") == "/dev/shm":
            name = mount.get("name")
            return next((v for v in as_list(pod.get("volumes")) if isinstance(v, dict) and v.get("name") == name), {})
    return None


def is_remote_store(path: str) -> bool:
    """``gs://``, ``s3://``, ``as://`` model stores: the repository lives in a bucket."""
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://", path))


def startup_estimate(weights: int | None) -> tuple[int, str]:
    """Seconds a pod needs before READY (download + load + start), and how that was estimated."""
    if weights:
        seconds = STARTUP_OVERHEAD_S + weights // DOWNLOAD_BYTES_PER_S + weights // LOAD_BYTES_PER_S
        return seconds, f"about {seconds} s to download and load {weights / GIB:.1f} GiB of weights (an estimate)"
    return UNKNOWN_STARTUP_S, f"the {UNKNOWN_STARTUP_S} s a 7-8B model needs to download and load (weights unknown)"


def placeholder(value: Any) -> bool:
    """A value the Helm reader could not evaluate."""
    return isinstance(value, str) and PLACEHOLDER in value
