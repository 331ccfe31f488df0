"""Read YAML streams into :class:`~triton_doctor.deploy.kube.model.KubeDoc` records with the line of every key.

``check --manifest FILE|-`` (repeatable) reads one or more YAML streams (``helm template ... |``, ``kubectl get
deploy X -o yaml``, files with several ``---`` documents, a ``kind: List``). Every document keeps the line of
every key, so a finding points at ``deployment.yaml:42``. Workloads read: Pod, Deployment, StatefulSet,
ReplicaSet, DaemonSet, Job, CronJob, LeaderWorkerSet, KServe InferenceService / ServingRuntime /
ClusterServingRuntime, NIMService (the fields it shares with a pod), RayService / RayCluster.

For each pod template the serving container (tritonserver or vLLM; else the only or first container) is
turned into a :class:`~triton_doctor.deploy.docker_run.DockerRun` (image, command + args, env, GPUs from
``nvidia.com/gpu``, ``/dev/shm`` from a memory emptyDir, ``hostIPC``) and its volumeMounts into
:class:`~triton_doctor.deploy.target.MountSpec` (hostPath, pvc, nfs, emptyDir, configMap, KServe ``storageUri`` at
``/mnt/models``), so the repository, mount and Hugging Face checks apply unchanged. The Kubernetes-only facts
(probes, securityContext, resources, runtimeClass, init containers) stay on :class:`ServingContainer` for the
``kube-*`` checks.

A file that is not YAML, an unrendered Helm template, an unknown kind: all are :class:`Problem` values (the
``kube-manifest`` check reports them), never exceptions. Only an unreadable path raises :class:`ManifestError`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from triton_doctor.deploy.kube.helmlite import looks_like_helm, render_skeleton
from triton_doctor.deploy.kube.model import (
    MAX_MANIFEST_BYTES,
    KubeDeployment,
    KubeDoc,
    ManifestError,
    Path_,
    Problem,
    as_map,
)
from triton_doctor.deploy.kube.workloads import build_deployment
from triton_doctor.probes.fs import FileReadError, decode_text, read_file_bytes, read_file_text

__all__ = ["parse_stream", "read_manifests"]

#: YAML nodes one stream may expand to (aliases included): stops an alias bomb.
MAX_NODES = 2_000_000


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
                    for k, v in as_map(item).items():
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
    template is read approximately through :mod:`~triton_doctor.deploy.kube.helmlite`."""
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
