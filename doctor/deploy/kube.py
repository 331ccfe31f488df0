"""Read Kubernetes manifests: each serving container becomes the deployment record a ``docker run`` makes.

``check --manifest FILE|-`` (repeatable) reads one or more YAML streams (``helm template ... |``, ``kubectl get
deploy X -o yaml``, files with several ``---`` documents, a ``kind: List``). Every document keeps the line of
every key, so a finding points at ``deployment.yaml:42``. Workloads read: Pod, Deployment, StatefulSet,
ReplicaSet, DaemonSet, Job, CronJob, LeaderWorkerSet, KServe InferenceService / ServingRuntime /
ClusterServingRuntime, NIMService (the fields it shares with a pod), RayService / RayCluster.

For each pod template the serving container (tritonserver or vLLM; else the only or first container) is
turned into a :class:`~triton_doctor.dockercmd.DockerRun` (image, command + args, env, GPUs from
``nvidia.com/gpu``, ``/dev/shm`` from a memory emptyDir, ``hostIPC``) and its volumeMounts into
:class:`~triton_doctor.target.MountSpec` (hostPath, pvc, nfs, emptyDir, configMap, KServe ``storageUri`` at
``/mnt/models``), so the repository, mount and Hugging Face checks apply unchanged. The Kubernetes-only facts
(probes, securityContext, resources, runtimeClass, init containers) stay on :class:`ServingContainer` for the
``kube-*`` checks.

A file that is not YAML, an unrendered Helm template, an unknown kind: all are :class:`Problem` values (the
``kube-manifest`` check reports them), never exceptions. Only an unreadable path raises :class:`ManifestError`.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from triton_doctor.deploy.helmlite import PLACEHOLDER, looks_like_helm, render_skeleton
from triton_doctor.dockercmd import DockerRun, Mount, PortMap
from triton_doctor.probes.fs import FileReadError, decode_text, read_file_bytes, read_file_text
from triton_doctor.target import DEFAULT_REPO, MountSpec, Target

__all__ = [
    "KubeDeployment",
    "KubeDoc",
    "ManifestError",
    "Problem",
    "ServingContainer",
    "apply_to_target",
    "parse_quantity",
    "parse_stream",
    "read_manifests",
    "startup_estimate",
]

#: A manifest stream larger than this is not one (rendered charts are a few hundred KiB).
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
#: YAML nodes one stream may expand to (aliases included): stops an alias bomb.
MAX_NODES = 2_000_000
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
        for item in _list(self.container.get("env")):
            if isinstance(item, dict) and item.get("name") == name:
                return item
        return None

    def env_index(self, name: str) -> int | None:
        for i, item in enumerate(_list(self.container.get("env"))):
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
    #: ``--pod-state`` captures: (label, signals of :func:`~triton_doctor.deploy.podstate.scan_pod_state`).
    pod_states: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @property
    def primary(self) -> ServingContainer | None:
        """The container the repository and mount checks look at: a Triton one first, the leader first."""
        ranked = sorted(
            self.containers,
            key=lambda c: (c.server != "tritonserver", c.server != "vllm", c.role == "worker"),
        )
        return ranked[0] if ranked else None


# ---------------------------------------------------------------------------------------------------------------
# YAML with lines


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_NODES


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _scalar(node: yaml.ScalarNode) -> Any:
    try:
        return _CONSTRUCTOR.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        return node.value


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int], budget: _Budget, line_map: Sequence[int]) -> Any:
    budget.left -= 1
    if budget.left < 0:
        raise yaml.YAMLError(f"more than {MAX_NODES} YAML nodes (an alias bomb?)")
    raw_line = node.start_mark.line
    lines.setdefault(path, line_map[raw_line] if raw_line < len(line_map) else raw_line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = _construct(value_node, path, {}, budget, line_map)
                for item in merged if isinstance(merged, list) else [merged]:
                    for k, v in _map(item).items():
                        out.setdefault(k, v)
                continue
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            key_text = str(key)
            key_line = key_node.start_mark.line
            lines[(*path, key_text)] = line_map[key_line] if key_line < len(line_map) else key_line + 1
            out[key_text] = _construct(value_node, (*path, key_text), lines, budget, line_map)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines, budget, line_map) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node)


def _load_docs(text: str, label: str, line_map: Sequence[int], *, helm: bool) -> tuple[list[KubeDoc], list[Problem]]:
    docs: list[KubeDoc] = []
    problems: list[Problem] = []
    budget = _Budget()
    loader = yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader
    index = 0
    try:
        for node in yaml.compose_all(text, Loader=loader):
            lines: dict[Path_, int] = {}
            data = _construct(node, (), lines, budget, line_map)
            index += 1
            if not isinstance(data, dict):
                line = lines.get(())
                problems.append(
                    Problem(
                        sub_id="not-an-object",
                        severity="warning",
                        message=f"document {index} of {label} is a {type(data).__name__}, not a Kubernetes object",
                        file=label,
                        line=line,
                        remedy="each document needs apiVersion, kind and metadata",
                    )
                )
                continue
            if data.get("kind") == "List" and isinstance(data.get("items"), list):
                for i, item in enumerate(data["items"]):
                    if isinstance(item, dict):
                        sub = {p[2:]: ln for p, ln in lines.items() if p[:2] == ("items", i)}
                        docs.append(KubeDoc(file=label, index=index, data=item, lines=sub, helm=helm))
                continue
            docs.append(KubeDoc(file=label, index=index, data=data, lines=lines, helm=helm))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raw = mark.line if mark is not None else None
        line = (line_map[raw] if raw < len(line_map) else raw + 1) if raw is not None else None
        problems.append(
            Problem(
                sub_id="yaml",
                severity="error",
                message=f"{label} is not valid YAML: {exc.problem or exc.context or 'syntax error'}",
                file=label,
                line=line,
                evidence=str(exc).splitlines()[0][:200] if str(exc) else "",
                remedy="fix the YAML at that line (kubectl apply would refuse it too)",
            )
        )
    except (yaml.YAMLError, RecursionError) as exc:
        problems.append(
            Problem(
                sub_id="yaml",
                severity="error",
                message=f"{label} cannot be read as YAML: {str(exc)[:200] or type(exc).__name__}",
                file=label,
                remedy="give a rendered manifest (kubectl get ... -o yaml, helm template ...)",
            )
        )
    return docs, problems


def _chart_values(path: Path | None) -> tuple[Any, str | None]:
    """The chart's values.yaml beside ``templates/`` (None when there is none or it is unreadable)."""
    if path is None or path.parent.name != "templates":
        return None, None
    values_path = path.parent.parent / "values.yaml"
    try:
        return yaml.safe_load(read_file_text(values_path, MAX_MANIFEST_BYTES)), str(values_path)
    except (FileReadError, yaml.YAMLError, RecursionError):
        return None, None


def parse_stream(text: str, label: str, path: Path | None = None) -> tuple[list[KubeDoc], list[Problem]]:
    """Every document of one stream (see the module docstring); YAML that fails and looks like a Helm
    template is read approximately through :mod:`~triton_doctor.deploy.helmlite`."""
    identity = list(range(1, text.count("\n") + 2))
    helm = looks_like_helm(text)
    docs, problems = _load_docs(text, label, identity, helm=False)
    if not helm:
        return docs, problems
    first_action = next((i for i, line in enumerate(text.splitlines(), 1) if "{{" in line), None)
    values, values_path = _chart_values(path)
    skeleton = render_skeleton(text, values or {})
    docs, skeleton_problems = _load_docs(skeleton.text, label, skeleton.line_map, helm=True)
    chart = str(path.parent.parent) if path is not None and path.parent.name == "templates" else "CHART"
    read_with = f"read with {values_path}" if values_path else "no values.yaml found beside templates/"
    problem = Problem(
        sub_id="helm-template",
        severity="warning",
        message=(
            f"{label} is an unrendered Helm template: read approximately ({read_with}; "
            f"{skeleton.unresolved} template action(s) not evaluated, so chart logic and helpers are not seen)"
        ),
        file=label,
        line=first_action,
        evidence=text.splitlines()[first_action - 1].strip()[:200] if first_action else "",
        remedy=f"check the rendered chart: helm template my-release {chart} | triton-doctor check --manifest -",
    )
    return docs, [problem, *skeleton_problems]


def _read_source(spec: str, stdin_text: str | None) -> tuple[str, str, Path | None]:
    if spec == "-":
        if stdin_text is not None:
            return stdin_text, "stdin", None
        stream = sys.stdin
        if stream is None:
            raise ManifestError("--manifest -: standard input is closed; pipe the manifest in")
        data = stream.buffer.read(MAX_MANIFEST_BYTES + 1) if hasattr(stream, "buffer") else stream.read().encode()
        if len(data) > MAX_MANIFEST_BYTES:
            raise ManifestError(f"--manifest -: more than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB on stdin")
        return decode_text(data), "stdin", None
    path = Path(spec)
    try:
        data = read_file_bytes(path, MAX_MANIFEST_BYTES, gzip=True)
    except FileReadError as exc:
        raise ManifestError(f"--manifest {spec}: {exc.reason}") from exc
    return decode_text(data), spec, path


def read_manifests(specs: Sequence[str], *, stdin_text: str | None = None) -> KubeDeployment:
    """Read every ``--manifest`` (``-`` is stdin, at most once) into a :class:`KubeDeployment`."""
    if sum(1 for s in specs if s == "-") > 1:
        raise ManifestError("--manifest - (stdin) can be given once")
    docs: list[KubeDoc] = []
    problems: list[Problem] = []
    for spec in specs:
        text, label, path = _read_source(spec, stdin_text)
        found, trouble = parse_stream(text, label, path)
        docs += found
        problems += trouble
        if not found and not trouble:
            problems.append(
                Problem(sub_id="empty", severity="warning", message=f"{label} holds no document", file=label)
            )
    return build_deployment(docs, problems, tuple(specs))


# ---------------------------------------------------------------------------------------------------------------
# Workloads -> serving containers

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


def _get(data: Any, path: Path_) -> Any:
    node = data
    for part in path:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def _words(container: dict[str, Any]) -> list[str]:
    return [str(w) for w in (*_list(container.get("command")), *_list(container.get("args")))]


def _server_words(words: list[str]) -> list[str]:
    """The server's own command line: ``tritonserver ...`` / ``vllm serve ...`` even inside ``sh -c "..."``."""
    flat: list[str] = []
    for word in words:
        if " " in word and ("tritonserver" in word or "vllm" in word):
            try:
                flat += shlex.split(word, comments=False, posix=True)
            except ValueError:
                flat += word.split()
        else:
            flat.append(word)
    for i, word in enumerate(flat):
        base = PurePosixPath(word).name
        if base == "tritonserver" or (base == "vllm" and flat[i + 1 : i + 2] == ["serve"]):
            end = next((j for j in range(i + 1, len(flat)) if flat[j] in {"&&", ";", "||", "|"}), len(flat))
            return flat[i:end]
        if "vllm.entrypoints" in word:
            return flat[i:]
    return flat


def _server_kind(container: dict[str, Any], words: list[str]) -> str:
    image = str(container.get("image") or "")
    text = " ".join(words)
    if "tritonserver" in text or ("tritonserver" in image and not words):
        return "tritonserver"
    if "tritonserver" in image:
        return "tritonserver"
    if re.search(r"\bvllm\b", text) or "vllm" in image or "vllm.entrypoints" in text:
        return "vllm"
    if "triton" in str(container.get("name") or "").lower() or "triton" in text.lower() or "triton" in image:
        # A wrapper that starts Triton (the tutorials' server.py): a Triton pod whose arguments are not seen.
        return "triton"
    return "other"


def _option_values(words: list[str], names: set[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for i, word in enumerate(words):
        name, sep, value = word.partition("=")
        if name.startswith("--"):
            name = name.replace("_", "-")  # vLLM and tritonserver accept --pipeline_parallel_size too
        if name not in names:
            continue
        if not sep:
            if i + 1 < len(words) and not words[i + 1].startswith("--"):
                value = words[i + 1]
            else:
                value = ""
        found.append((name, value))
    return found


def _parallel_from_cli(words: list[str]) -> tuple[int | None, int | None]:
    """(TP x PP, TP) from a ``vllm serve`` command line (None where not given)."""

    def number(names: set[str]) -> int | None:
        values = _option_values(words, names)
        if not values:
            return None
        try:
            return max(1, int(values[-1][1]))
        except ValueError:
            return None

    tp = number({"--tensor-parallel-size", "-tp", "--tp"})
    pp = number({"--pipeline-parallel-size", "-pp", "--pp"})
    if tp is None and pp is None:
        return None, None
    return (tp or 1) * (pp or 1), tp


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
    limits = _map(_map(container.get("resources")).get("limits"))
    return parse_quantity(limits["nvidia.com/gpu"]) if "nvidia.com/gpu" in limits else None


def _volume_kind(volume: dict[str, Any]) -> tuple[str, str]:
    """(mount type, source) of a pod volume."""
    if "hostPath" in volume:
        return "hostPath", str(_map(volume["hostPath"]).get("path") or "")
    if "persistentVolumeClaim" in volume:
        return "pvc", str(_map(volume["persistentVolumeClaim"]).get("claimName") or "")
    if "nfs" in volume:
        nfs = _map(volume["nfs"])
        return "nfs", f"{nfs.get('server', '')}:{nfs.get('path', '')}"
    if "emptyDir" in volume:
        medium = _map(volume["emptyDir"]).get("medium") or ""
        return "emptyDir", f"emptyDir{'(' + str(medium) + ')' if medium else ''}"
    for kind in ("configMap", "secret", "csi", "projected", "ephemeral", "downwardAPI", "image"):
        if kind in volume:
            inner = _map(volume[kind])
            return kind, str(inner.get("name") or inner.get("secretName") or inner.get("driver") or "")
    return "volume", str(volume.get("name") or "")


def _shm_volume(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, Any] | None:
    """The volume mounted at /dev/shm in ``container`` (None: none)."""
    for mount in _list(container.get("volumeMounts")):
        if isinstance(mount, dict) and str(mount.get("mountPath", "")).rstrip("/") == "/dev/shm":
            name = mount.get("name")
            return next((v for v in _list(pod.get("volumes")) if isinstance(v, dict) and v.get("name") == name), {})
    return None


def _docker_run(pod: dict[str, Any], container: dict[str, Any], words: list[str]) -> DockerRun:
    run = DockerRun(dialect="bash")
    run.image = str(container.get("image") or "")
    run.name = str(container.get("name") or "") or None
    for item in _list(container.get("env")):
        if isinstance(item, dict) and item.get("name"):
            if "value" in item:
                value = item.get("value")
                run.env[str(item["name"])] = "" if value is None else str(value)
            else:
                # valueFrom (secretKeyRef, fieldRef, ...): the value exists only in the cluster.
                run.env[str(item["name"])] = None
    gpus = gpu_limit(container)
    if gpus:
        run.gpus = str(int(gpus))
    if pod.get("hostIPC") is True:
        run.ipc = "host"
    if pod.get("hostNetwork") is True:
        run.network = "host"
    shm = _shm_volume(pod, container)
    if shm is not None:
        empty = _map(shm.get("emptyDir"))
        size = empty.get("sizeLimit")
        # A memory emptyDir without sizeLimit is bounded by the pod's memory: plenty for the Python backend.
        run.shm_size = str(size).replace("i", "") if size is not None else "64g"
    run.command = _server_words(words)
    run.model_repositories = [v for _, v in _option_values(run.command, {"--model-repository", "--model-store"})]
    run.load_models = [v for _, v in _option_values(run.command, {"--load-model"}) if v]
    modes = _option_values(run.command, {"--model-control-mode"})
    run.model_control_mode = modes[-1][1] if modes else None
    for port in _list(container.get("ports")):
        if isinstance(port, dict) and isinstance(port.get("containerPort"), int):
            run.ports.append(
                PortMap(host_port=None, container_port=int(port["containerPort"]), raw=str(port.get("name") or ""))
            )
    return run


def _container_mounts(doc: KubeDoc, pod: dict[str, Any], container: dict[str, Any], cpath: Path_) -> list[MountSpec]:
    volumes = {str(v.get("name")): v for v in _list(pod.get("volumes")) if isinstance(v, dict)}
    mounts: list[MountSpec] = []
    for i, vm in enumerate(_list(container.get("volumeMounts"))):
        if not isinstance(vm, dict) or not vm.get("mountPath"):
            continue
        volume = volumes.get(str(vm.get("name")), {})
        kind, source = _volume_kind(volume) if volume else ("volume", str(vm.get("name") or ""))
        if vm.get("subPath"):
            source = f"{source}/{vm['subPath']}"
        mounts.append(
            MountSpec(
                source=source,
                target=str(vm["mountPath"]),
                type=kind,
                readonly=bool(vm.get("readOnly")) or (kind in {"configMap", "secret"}),
                origin=doc.where((*cpath, "volumeMounts", i)),
                raw=str(vm.get("name") or ""),
            )
        )
    return mounts


def _serving_index(containers: list[Any]) -> list[int]:
    """Which containers of a pod serve: tritonserver or vLLM ones; else the only or the first one."""
    serving = [
        i
        for i, c in enumerate(containers)
        if isinstance(c, dict) and _server_kind(c, _server_words(_words(c))) in {"tritonserver", "vllm"}
    ]
    if serving:
        return serving
    named = [i for i, c in enumerate(containers) if isinstance(c, dict) and c.get("name") == "kserve-container"]
    if named:
        return named
    return [0] if containers and isinstance(containers[0], dict) else []


def _make(
    doc: KubeDoc,
    pod_path: Path_,
    pod: dict[str, Any],
    index: int,
    role: str,
    *,
    container: dict[str, Any] | None = None,
    container_path: Path_ | None = None,
    extra_mounts: tuple[MountSpec, ...] = (),
) -> ServingContainer:
    containers = _list(pod.get("containers"))
    c = container if container is not None else containers[index]
    cpath = container_path if container_path is not None else (*pod_path, "containers", index)
    words = _words(c)
    run = _docker_run(pod, c, words)
    mounts = (*_container_mounts(doc, pod, c, cpath), *extra_mounts)
    run.mounts = [
        Mount(type="bind" if m.type == "hostPath" else "volume", source=m.source, target=m.target, readonly=m.readonly)
        for m in mounts
    ]
    server_words = run.command
    parallel, tensor_parallel = _parallel_from_cli(server_words)
    return ServingContainer(
        doc=doc,
        role=role,
        pod_path=pod_path,
        container_path=cpath,
        pod=pod,
        container=c,
        docker=run,
        mounts=tuple(mounts),
        server=_server_kind(c, server_words),
        cli_parallel=parallel,
        cli_tensor_parallel=tensor_parallel,
        init_containers=tuple(x for x in _list(pod.get("initContainers")) if isinstance(x, dict)),
    )


def _pods_of(doc: KubeDoc) -> Iterator[tuple[Path_, str]]:
    data = doc.data
    kind = doc.kind
    for path in _POD_PATHS.get(kind, ()):
        if isinstance(_get(data, path), dict):
            role = _ROLE_OF.get(str(path[-2]), "") if kind == "LeaderWorkerSet" else ""
            yield path, role
    if kind in {"RayService", "RayCluster"}:
        base: Path_ = ("spec", "rayClusterConfig") if kind == "RayService" else ("spec",)
        head = (*base, "headGroupSpec", "template", "spec")
        if isinstance(_get(data, head), dict):
            yield head, "leader"
        for i, _group in enumerate(_list(_get(data, (*base, "workerGroupSpecs")))):
            path = (*base, "workerGroupSpecs", i, "template", "spec")
            if isinstance(_get(data, path), dict):
                yield path, "worker"
    if kind in {"ServingRuntime", "ClusterServingRuntime"}:
        if isinstance(_get(data, ("spec", "containers")), list):
            yield ("spec",), "runtime"
        if isinstance(_get(data, ("spec", "workerSpec", "containers")), list):
            yield ("spec", "workerSpec"), "worker"


def _kserve_isvc(doc: KubeDoc, runtimes: dict[str, ServingContainer]) -> list[ServingContainer]:
    predictor = _map(_get(doc.data, ("spec", "predictor")))
    ppath: Path_ = ("spec", "predictor")
    found: list[ServingContainer] = []
    storage_uri = ""
    if isinstance(predictor.get("containers"), list):
        for i in _serving_index(predictor["containers"]):
            found.append(_make(doc, ppath, predictor, i, "isvc"))
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
        fmt = str(_map(spec.get("modelFormat")).get("name") or "")
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
        made = _make(
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
    spec = _map(doc.data.get("spec"))
    image = _map(spec.get("image"))
    container: dict[str, Any] = {
        "name": "nim",
        "image": f"{image.get('repository', '')}:{image.get('tag', '')}".strip(":"),
        "env": spec.get("env") or [],
        "resources": spec.get("resources") or {},
    }
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        entry = _map(spec.get(probe))
        if entry.get("enabled", True) and isinstance(entry.get("probe"), dict):
            container[probe] = entry["probe"]
    pod: dict[str, Any] = {"containers": [container]}
    if spec.get("userID") is not None:
        pod["securityContext"] = {"runAsUser": spec.get("userID"), "fsGroup": spec.get("groupID")}
    if spec.get("runtimeClassName"):
        pod["runtimeClassName"] = spec["runtimeClassName"]
    made = _make(doc, ("spec",), pod, 0, "", container=container, container_path=("spec",))
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
                pod = _map(_get(doc.data, pod_path))
                for i in _serving_index(_list(pod.get("containers"))):
                    made = _make(doc, pod_path, pod, i, role)
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
            pod = _map(_get(doc.data, pod_path))
            for i in _serving_index(_list(pod.get("containers"))):
                containers.append(_make(doc, pod_path, pod, i, role))
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


# ---------------------------------------------------------------------------------------------------------------
# The deployment record


def is_remote_store(path: str) -> bool:
    """``gs://``, ``s3://``, ``as://`` model stores: the repository lives in a bucket."""
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://", path))


def apply_to_target(target: Target, kube: KubeDeployment, *, repo_given: bool) -> Target:
    """``target`` (from flags and the config file) with the primary serving container's record.

    The repository stays ``--repo`` (the local copy of what the volume holds); it is bound at the container's
    ``--model-repository``. ``--mount`` flags stay first, so a local copy of another volume wins over it.
    """
    primary = kube.primary
    sources = (*target.sources, *(f"--manifest {s}" for s in kube.sources))
    if primary is None:
        return replace(target, sources=sources, kube=kube)
    docker = primary.docker
    repo_target = next((r for r in docker.model_repositories if not is_remote_store(r)), None)
    if repo_target is None:
        repo_target = KSERVE_MODEL_DIR if any(m.target == KSERVE_MODEL_DIR for m in primary.mounts) else "/models"
    user_mounts = [m for m in target.mounts if m.origin == "--mount"]
    repo = target.repo if repo_given else DEFAULT_REPO
    repo_mount = MountSpec(source=repo, target=repo_target, origin="--repo (the local copy of the pod's volume)")
    mounts = [*user_mounts, repo_mount]
    taken = {m.target.rstrip("/") for m in mounts}
    mounts += [m for m in primary.mounts if m.target.rstrip("/") not in taken]
    models = target.models or tuple(dict.fromkeys(docker.load_models))
    return replace(
        target,
        repo=repo,
        repo_target=repo_target,
        models=models,
        mounts=tuple(mounts),
        image=target.image or docker.image or None,
        docker=docker,
        sources=sources,
        kube=kube,
    )


def startup_estimate(weights: int | None) -> tuple[int, str]:
    """Seconds a pod needs before READY (download + load + start), and how that was estimated."""
    if weights:
        seconds = STARTUP_OVERHEAD_S + weights // DOWNLOAD_BYTES_PER_S + weights // LOAD_BYTES_PER_S
        return seconds, f"about {seconds} s to download and load {weights / GIB:.1f} GiB of weights (an estimate)"
    return UNKNOWN_STARTUP_S, f"the {UNKNOWN_STARTUP_S} s a 7-8B model needs to download and load (weights unknown)"


def placeholder(value: Any) -> bool:
    """A value the Helm reader could not evaluate."""
    return isinstance(value, str) and PLACEHOLDER in value


#: Checks that judge this machine's Docker daemon, GPUs or the container to be started here: a cluster's
#: nodes are not this machine, so with --manifest the kube-* checks read the pod spec instead.
HOST_ONLY_CHECKS = frozenset({"host-resources", "mount-daemon-view", "live-server", "live-generate"})


def kube_skips(target: Target, checks: Sequence[Any], *, repo_found: bool) -> dict[str, str]:
    """Reasons to skip checks for a Kubernetes target (``check --manifest`` / ``--pod-state``)."""
    skips: dict[str, str] = {}
    manifest = target.kube is not None and bool(target.kube.sources)
    for check in checks:
        cid = str(check.id)
        if cid.startswith("kube-"):
            continue
        category = str(getattr(check.category, "value", check.category))
        if not manifest:
            skips[cid] = "--pod-state only: give --manifest (and --repo) to check the deployment"
        elif category in {"docker", "gpu"} or cid in HOST_ONLY_CHECKS:
            skips[cid] = (
                "--manifest: this machine's Docker and GPUs are not the cluster's (kube-pod-spec reads the pod)"
            )
        elif not repo_found:
            skips[cid] = "--manifest without --repo: give --repo PATH, a local copy of what the model volume holds"
    return skips
