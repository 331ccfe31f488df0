"""Where Triton and the image's vLLM backend put each model instance's engine: a model of the placement rules.

Pure: takes the instance groups, the parallel sizes and the GPUs the server sees; gives every instance with
the container GPUs its engine uses, or why its load fails. The rules come from the components' source per
image release (``knowledge/backend_placement.json``, written with its provenance by
``scripts/gen_backend_placement.py``):

- Triton (core ``NormalizeInstanceGroup``, the same on every release): no ``instance_group`` is one group of
  the Python backend's preferred ``KIND_GPU`` with count 1 over every GPU the server sees, so one instance per
  GPU (``KIND_CPU`` when it sees none); ``KIND_GPU`` without ``gpus`` is every GPU; ``KIND_AUTO`` is
  ``KIND_GPU``; a ``gpus`` id the server does not see fails the load (``ValidateInstanceGroup``);
- the vLLM backend (``src/model.py``): 24.04 and 24.05 neither refuse ``KIND_GPU`` for a split model nor pin
  an instance; 24.06 to 25.12 refuse ``KIND_GPU`` with ``tensor_parallel_size`` > 1 (26.01 on: with
  tensor x pipeline > 1); 24.06 to 25.03 pin with ``torch.cuda.set_device``, which vLLM's V0 worker overrides
  (``cuda:<local_rank>``), so the engine still lands on the first GPU; from 25.04 the backend sets
  ``CUDA_VISIBLE_DEVICES`` to Triton's device id, which replaces any ``CUDA_VISIBLE_DEVICES`` of the
  container: the id then counts the container's GPUs, not the subset;
- vLLM: an engine uses the first tensor x pipeline parallel devices its process sees.

GPU numbers here are the container's (``--gpus '"device=1,2"'`` gives the container GPUs 0 and 1); the
server sees the container's GPUs, narrowed by ``CUDA_VISIBLE_DEVICES`` when the container sets it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["Group", "Instance", "Placement", "Rule", "View", "groups_of", "place", "rule_for", "view_of"]


@dataclass(frozen=True, slots=True)
class Rule:
    """What one image release's vLLM backend does with an instance's kind and device."""

    tag: str | None
    #: ``tp`` (tensor_parallel_size > 1), ``tp*pp`` (tensor x pipeline > 1) or None (KIND_GPU never refused).
    refuses: str | None
    #: ``set_device`` (overridden by vLLM's V0 worker), ``CUDA_VISIBLE_DEVICES``, or None (nothing pinned).
    pins: str | None
    #: Repository, branch, commit and line the rule was read from.
    provenance: str


@cache
def _table() -> dict[str, Any]:
    text = resources.files("triton_doctor.knowledge").joinpath("backend_placement.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def rule_for(tag: str | None) -> Rule:
    """The rule of image release ``tag`` (``25.06``); the newest release's when the tag is unknown or None."""
    releases: dict[str, Any] = _table()["releases"]
    key = tag if tag in releases else list(releases)[-1]
    row = releases[key]
    refuses = {"tensor_parallel_size>1": "tp", "tensor_parallel_size*pipeline_parallel_size>1": "tp*pp"}
    pins = {"torch.cuda.set_device": "set_device", "CUDA_VISIBLE_DEVICES": "CUDA_VISIBLE_DEVICES"}
    line = row.get("device_line") or row.get("line")
    where = f"vllm_backend {row['vllm_backend_ref']}@{row['vllm_backend_commit'][:10]} src/model.py"
    return Rule(
        tag=key if tag in releases else None,
        refuses=refuses.get(row["refuses_kind_gpu_when"] or ""),
        pins=pins.get(row["kind_gpu_device"] or ""),
        provenance=f"{where}:{line}" if line else f"{where} (no device handling)",
    )


@dataclass(frozen=True, slots=True)
class Group:
    """One ``instance_group`` entry as written (``index`` None: none written, Triton's default)."""

    kind: str
    count: int = 1
    gpus: tuple[int, ...] = ()
    index: int | None = 0


@dataclass(frozen=True, slots=True)
class View:
    """The GPUs of the container and which of them the server sees."""

    #: GPUs the container gets (``--gpus``, else NVML's count); None when unknown.
    container: int | None
    #: ``CUDA_VISIBLE_DEVICES`` set in the container, as container GPU indices; None when unset.
    cuda_visible: tuple[int, ...] | None = None

    @property
    def server(self) -> tuple[int, ...] | None:
        """The container GPUs the server sees, in CUDA's order (None when the count is unknown)."""
        if self.cuda_visible is not None:
            seen: list[int] = []
            for gpu in self.cuda_visible:  # CUDA stops at the first index it cannot use
                if (self.container is not None and gpu >= self.container) or gpu in seen:
                    break
                seen.append(gpu)
            return tuple(seen)
        return None if self.container is None else tuple(range(self.container))


@dataclass(frozen=True, slots=True)
class Instance:
    """One model instance: its group, Triton's device id, the container GPUs its engine uses."""

    group: Group
    #: Triton's device id (KIND_GPU: the server's CUDA ordinal); None for KIND_MODEL and KIND_CPU.
    device: int | None
    gpus: tuple[int, ...]
    #: How the GPUs were found.
    why: str
    #: Why this instance's load fails; None when it loads as far as placement goes.
    failure: str | None = None
    #: ``refused`` (the backend), ``too-few`` (the engine sees fewer GPUs than it needs), ``escapes`` (the
    #: engine lands outside the container's CUDA_VISIBLE_DEVICES), or None.
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    """Every instance of one model, or why Triton refuses the instance groups before any instance starts."""

    instances: tuple[Instance, ...]
    #: Triton's own refusal (a gpu id it does not see, gpus on KIND_MODEL); None when the groups are valid.
    refused: str | None = None
    #: The server's GPU count was unknown: KIND_GPU groups without ``gpus`` were placed on GPU 0 only.
    partial: bool = False


def normalize(groups: list[Group], server: tuple[int, ...] | None) -> tuple[list[Group], str | None]:
    """Triton's ``NormalizeInstanceGroup`` + ``ValidateInstanceGroup``: resolved groups, or its refusal."""
    count = None if server is None else len(server)
    if not groups:
        groups = [Group("KIND_GPU" if count != 0 else "KIND_CPU", 1, (), None)]
    out: list[Group] = []
    for group in groups:
        kind = group.kind
        if kind == "KIND_AUTO":
            missing = count is not None and any(g >= count for g in group.gpus)
            kind = "KIND_CPU" if count == 0 or missing else "KIND_GPU"
        gpus = group.gpus
        if kind == "KIND_GPU" and not gpus:
            gpus = tuple(range(count)) if count is not None else (0,)
        name = "the default instance group" if group.index is None else f"instance_group {group.index}"
        if kind == "KIND_GPU" and count == 0:
            return [], f"{name} has kind KIND_GPU but no GPUs are available"
        if kind == "KIND_GPU" and count is not None and (bad := [g for g in gpus if g >= count or g < 0]):
            seen = ", ".join(str(g) for g in range(count))
            return [], f"{name} specifies invalid or unsupported gpu id {bad[0]}. GPUs the server sees are: {seen}"
        if kind in ("KIND_MODEL", "KIND_CPU") and group.gpus:
            return [], f"{name} has kind {kind} but specifies one or more GPUs"
        out.append(Group(kind, max(1, group.count), gpus, group.index))
    return out, None


def _span(gpus: tuple[int, ...]) -> str:
    return "GPU " + ", ".join(str(g) for g in gpus) if len(gpus) < 2 else "GPUs " + ", ".join(str(g) for g in gpus)


def place(groups: list[Group], tp: int, pp: int, view: View, rule: Rule) -> Placement:
    """Every instance of one vLLM model and the container GPUs its engine uses (see the module docstring)."""
    server = view.server
    resolved, refused = normalize(groups, server)
    if refused is not None:
        return Placement((), refused)
    world = max(1, tp) * max(1, pp)
    release = f"the {rule.tag} vLLM backend" if rule.tag else "the vLLM backend"
    first = tuple(server[:world]) if server is not None else tuple(range(world))
    short = server is not None and world > len(server)
    instances: list[Instance] = []
    for group in resolved:
        default = " (Triton's default for no instance_group)" if group.index is None else ""
        if group.kind != "KIND_GPU":
            why = f"{group.kind}{default}: the engine takes the first {world} GPU(s) the server sees"
            for _ in range(group.count):
                instances.append(_engine(group, None, first, why, short, world, server))
            continue
        parallel = tp if rule.refuses == "tp" else world
        for device in group.gpus:
            for _ in range(group.count):
                if rule.refuses and parallel > 1:
                    size = "tensor_parallel_size" if rule.refuses == "tp" else "tensor x pipeline parallel size"
                    message = (
                        f"KIND_GPU{default} with {size} {parallel}: {release} refuses it "
                        "(KIND_GPU is currently for single-GPU models)"
                    )
                    instances.append(Instance(group, device, (), message, message, "refused"))
                elif rule.pins == "CUDA_VISIBLE_DEVICES":
                    gpu = (device,)
                    why = f"KIND_GPU{default} on device {device}: {release} sets CUDA_VISIBLE_DEVICES={device}"
                    if world > 1:
                        failure = f"{why}; the engine needs {world} GPUs and sees one"
                        instances.append(Instance(group, device, gpu, why, failure, "too-few"))
                    elif server is not None and view.cuda_visible is not None and server[device] != device:
                        failure = (
                            f"{why}, which replaces the container's CUDA_VISIBLE_DEVICES: the engine lands on "
                            f"container GPU {device}, not on GPU {server[device]} of the subset"
                        )
                        instances.append(Instance(group, device, gpu, why, failure, "escapes"))
                    else:
                        instances.append(Instance(group, device, gpu, why))
                else:
                    how = (
                        "torch.cuda.set_device, which vLLM's worker overrides with cuda:0"
                        if rule.pins == "set_device"
                        else "nothing pinned"
                    )
                    why = f"KIND_GPU{default} on device {device}: {release}: {how}; the engine takes the first {world}"
                    instances.append(_engine(group, device, first, why, short, world, server))
    open_gpu = not groups or any(g.kind in ("KIND_GPU", "KIND_AUTO") and not g.gpus for g in groups)
    return Placement(tuple(instances), None, server is None and open_gpu)


def _engine(
    group: Group,
    device: int | None,
    first: tuple[int, ...],
    why: str,
    short: bool,
    world: int,
    server: tuple[int, ...] | None,
) -> Instance:
    if short:
        failure = f"{why}; it needs {world} GPUs and the server sees {len(server or ())}"
        return Instance(group, device, first, why, failure, "too-few")
    return Instance(group, device, first, why + f" ({_span(first)})")


def groups_of(config: Any) -> list[Group]:
    """The ``instance_group`` entries of a parsed config.pbtxt (``ModelConfig`` message; None: none)."""
    groups: list[Group] = []
    for index, group in enumerate(getattr(config, "instance_group", ()) or ()):
        kind = group.DESCRIPTOR.fields_by_name["kind"].enum_type.values_by_number[group.kind].name
        groups.append(Group(kind, group.count or 1, tuple(int(g) for g in group.gpus), index))
    return groups


def _indices(text: str) -> tuple[int, ...] | None:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def view_of(gpus_option: str | None, env: dict[str, str | None], host_gpus: int | None) -> View:
    """The container's GPUs from ``--gpus`` (``all``, ``N``, ``count=N``, ``"device=1,2"``) or the host's
    count, and its ``CUDA_VISIBLE_DEVICES`` (UUIDs and unset values: not modelled, None)."""
    spec = (gpus_option or "all").strip().strip('"').strip("'")
    container = host_gpus
    if spec.startswith("count="):
        spec = spec.removeprefix("count=")
    if spec.isdigit():
        container = int(spec) if host_gpus is None else min(int(spec), host_gpus)
    elif spec.startswith("device="):
        wanted = [d for d in spec.removeprefix("device=").split(",") if d.strip()]
        container = len(wanted)
    visible = env.get("CUDA_VISIBLE_DEVICES")
    return View(container, _indices(visible) if visible is not None else None)
