"""One container of a pod spec as the deployment record a ``docker run`` makes (image, args, env, GPUs, shm, mounts)."""

from __future__ import annotations

import re
import shlex
from pathlib import PurePosixPath
from typing import Any

from triton_doctor.deploy.docker_run import DockerRun, Mount, PortMap
from triton_doctor.deploy.kube.model import (
    KubeDoc,
    Path_,
    ServingContainer,
    as_list,
    as_map,
    gpu_limit,
    shm_volume,
)
from triton_doctor.deploy.target import MountSpec


def container_words(container: dict[str, Any]) -> list[str]:
    return [str(w) for w in (*as_list(container.get("command")), *as_list(container.get("args")))]


def server_words(words: list[str]) -> list[str]:
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


def server_kind(container: dict[str, Any], words: list[str]) -> str:
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


def option_values(words: list[str], names: set[str]) -> list[tuple[str, str]]:
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


def parallel_from_cli(words: list[str]) -> tuple[int | None, int | None]:
    """(TP x PP, TP) from a ``vllm serve`` command line (None where not given)."""

    def number(names: set[str]) -> int | None:
        values = option_values(words, names)
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


def volume_kind(volume: dict[str, Any]) -> tuple[str, str]:
    """(mount type, source) of a pod volume."""
    if "hostPath" in volume:
        return "hostPath", str(as_map(volume["hostPath"]).get("path") or "")
    if "persistentVolumeClaim" in volume:
        return "pvc", str(as_map(volume["persistentVolumeClaim"]).get("claimName") or "")
    if "nfs" in volume:
        nfs = as_map(volume["nfs"])
        return "nfs", f"{nfs.get('server', '')}:{nfs.get('path', '')}"
    if "emptyDir" in volume:
        medium = as_map(volume["emptyDir"]).get("medium") or ""
        return "emptyDir", f"emptyDir{'(' + str(medium) + ')' if medium else ''}"
    for kind in ("configMap", "secret", "csi", "projected", "ephemeral", "downwardAPI", "image"):
        if kind in volume:
            inner = as_map(volume[kind])
            return kind, str(inner.get("name") or inner.get("secretName") or inner.get("driver") or "")
    return "volume", str(volume.get("name") or "")


def docker_run(pod: dict[str, Any], container: dict[str, Any], words: list[str]) -> DockerRun:
    run = DockerRun(dialect="bash")
    run.image = str(container.get("image") or "")
    run.name = str(container.get("name") or "") or None
    for item in as_list(container.get("env")):
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
    shm = shm_volume(pod, container)
    if shm is not None:
        empty = as_map(shm.get("emptyDir"))
        size = empty.get("sizeLimit")
        # A memory emptyDir without sizeLimit is bounded by the pod's memory: plenty for the Python backend.
        run.shm_size = str(size).replace("i", "") if size is not None else "64g"
    run.command = server_words(words)
    run.model_repositories = [v for _, v in option_values(run.command, {"--model-repository", "--model-store"})]
    run.load_models = [v for _, v in option_values(run.command, {"--load-model"}) if v]
    modes = option_values(run.command, {"--model-control-mode"})
    run.model_control_mode = modes[-1][1] if modes else None
    for port in as_list(container.get("ports")):
        if isinstance(port, dict) and isinstance(port.get("containerPort"), int):
            run.ports.append(
                PortMap(host_port=None, container_port=int(port["containerPort"]), raw=str(port.get("name") or ""))
            )
    return run


def container_mounts(doc: KubeDoc, pod: dict[str, Any], container: dict[str, Any], cpath: Path_) -> list[MountSpec]:
    volumes = {str(v.get("name")): v for v in as_list(pod.get("volumes")) if isinstance(v, dict)}
    mounts: list[MountSpec] = []
    for i, vm in enumerate(as_list(container.get("volumeMounts"))):
        if not isinstance(vm, dict) or not vm.get("mountPath"):
            continue
        volume = volumes.get(str(vm.get("name")), {})
        kind, source = volume_kind(volume) if volume else ("volume", str(vm.get("name") or ""))
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


def serving_index(containers: list[Any]) -> list[int]:
    """Which containers of a pod serve: tritonserver or vLLM ones; else the only or the first one."""
    serving = [
        i
        for i, c in enumerate(containers)
        if isinstance(c, dict) and server_kind(c, server_words(container_words(c))) in {"tritonserver", "vllm"}
    ]
    if serving:
        return serving
    named = [i for i, c in enumerate(containers) if isinstance(c, dict) and c.get("name") == "kserve-container"]
    if named:
        return named
    return [0] if containers and isinstance(containers[0], dict) else []


def make_container(
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
    containers = as_list(pod.get("containers"))
    c = container if container is not None else containers[index]
    cpath = container_path if container_path is not None else (*pod_path, "containers", index)
    words = container_words(c)
    run = docker_run(pod, c, words)
    mounts = (*container_mounts(doc, pod, c, cpath), *extra_mounts)
    run.mounts = [
        Mount(type="bind" if m.type == "hostPath" else "volume", source=m.source, target=m.target, readonly=m.readonly)
        for m in mounts
    ]
    server_words = run.command
    parallel, tensor_parallel = parallel_from_cli(server_words)
    return ServingContainer(
        doc=doc,
        role=role,
        pod_path=pod_path,
        container_path=cpath,
        pod=pod,
        container=c,
        docker=run,
        mounts=tuple(mounts),
        server=server_kind(c, server_words),
        cli_parallel=parallel,
        cli_tensor_parallel=tensor_parallel,
        init_containers=tuple(x for x in as_list(pod.get("initContainers")) if isinstance(x, dict)),
    )
