"""``gpu-share``: vLLM models that load together on the same GPU ask for more than all of its memory.

Found from the repository and the command alone (no NVML facts needed): which models load together, and on
which GPU each vLLM engine lands.

Placement, as the vLLM backend decides it (triton-inference-server/vllm_backend, ``src/model.py``,
``TritonPythonModel._validate_device_config``), in container-visible GPU indices:

- every model instance starts its own vLLM engine, and each engine takes ``gpu_memory_utilization`` of the
  total memory of every GPU it uses;
- ``KIND_GPU`` (only for ``tensor_parallel_size x pipeline_parallel_size`` = 1): the backend sets
  ``CUDA_VISIBLE_DEVICES`` to the instance's device, so the engine lands on the GPUs of ``gpus: [...]``, or
  on each visible GPU (GPU 0 among them) when the group names none, as Triton then places one instance
  per GPU;
- ``KIND_MODEL``: the backend leaves placement to vLLM, which uses the first ``world size`` visible GPUs
  (GPU 0 first); the backend's ``GPU_DEVICE_IDS`` parameter, where the image's backend has it, pins them;
- no ``instance_group`` (or ``KIND_AUTO``): Triton makes it KIND_GPU with one instance per visible GPU (one
  of them on GPU 0) or KIND_CPU, for which the backend sets nothing and vLLM starts on GPU 0: either way each
  such model puts one engine on GPU 0 (the doctor counts that one; the other GPUs it cannot see offline).

``gpu_memory_utilization`` defaults to 0.9 when model.json leaves it out (vLLM's ``EngineArgs`` default,
the value of every release the tritonserver vllm images carry). The models that load together are those of
the command's ``--model-control-mode`` and ``--load-model``; with no command, every model (Triton's default
control mode ``none``), or those named with ``--model``; the shipped samples (``--sample``) follow their guide,
which starts one model per server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import parallel_sizes
from triton_doctor.results import Category, Location, Outcome

#: vLLM's EngineArgs default for gpu_memory_utilization.
DEFAULT_UTILIZATION = 0.9


@dataclass(frozen=True, slots=True)
class Engine:
    """One vLLM engine on one GPU: a model instance's share of that GPU."""

    model: str
    gpu: int
    utilization: float
    location: Location | None
    why: str


def loaded_models(ctx: Context) -> tuple[tuple[str, ...], bool]:
    """``(models that load together, whether the command says so)``: from ``--model-control-mode`` and
    ``--load-model``; with no command every model of the repository (or those of ``--model``)."""
    from triton_doctor.checks.repository_contents import loads_every_model

    repo = ctx.repo()
    docker = ctx.target.docker
    if docker is None:
        if is_sample(ctx):
            return (), False
        return ctx.selected_models()[0], False
    if loads_every_model(ctx):
        return repo.model_dirs, True
    return tuple(m for m in dict.fromkeys(docker.load_models) if m in repo.model_dirs), True


def is_sample(ctx: Context) -> bool:
    """The repository is one of the shipped samples (``--sample``), whose guide starts one model per server
    (``--model-control-mode=explicit --load-model=gemma``, then ``gemma_local``): they never load together."""
    from importlib import resources

    data = Path(str(resources.files("triton_doctor").joinpath("data"))).resolve()
    try:
        return ctx.repo().path.resolve().is_relative_to(data)
    except OSError:
        return False


def _utilization(args: dict[str, Any]) -> float:
    value = args.get("gpu_memory_utilization", DEFAULT_UTILIZATION)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        return DEFAULT_UTILIZATION
    return float(value)


def _device_ids(config: Any) -> list[int] | None:
    """The backend's ``GPU_DEVICE_IDS`` parameter (KIND_MODEL), or None when absent or unreadable."""
    try:
        raw = config.parameters["GPU_DEVICE_IDS"].string_value if "GPU_DEVICE_IDS" in config.parameters else ""
        ids = [int(x.strip()) for x in raw.split(",")] if raw.strip() else None
    except (AttributeError, ValueError):
        return None
    return ids if ids and all(i >= 0 for i in ids) else None


def placement(ctx: Context, name: str) -> list[Engine]:
    """The engines one vLLM model starts and the GPU each one uses (see the module's docstring)."""
    args = ctx.engine_args(name)
    if args is None:
        return []
    model = ctx.model(name)
    util = _utilization(args)
    loc = model.json_location("gpu_memory_utilization") or model.json_location()
    tp, pp = parallel_sizes(args)
    world = max(1, tp * pp)
    first = list(range(world))
    config: Any = model.parsed.message if model.parsed is not None else None
    groups = list(config.instance_group) if config is not None else []
    engines: list[Engine] = []
    if not groups:
        return [Engine(name, g, util, loc, "no instance_group: GPU 0") for g in first]
    for group in groups:
        kind = group.DESCRIPTOR.fields_by_name["kind"].enum_type.values_by_number[group.kind].name
        count = max(1, group.count or 1)
        if kind == "KIND_GPU" and world == 1:
            gpus = list(group.gpus) or [0]
            where = f"KIND_GPU on gpus {list(group.gpus)}" if group.gpus else "KIND_GPU, one instance per GPU"
            engines += [Engine(name, g, util, loc, where) for g in gpus for _ in range(count)]
            continue
        pinned = _device_ids(config) if kind == "KIND_MODEL" else None
        gpus = pinned[:world] if pinned else first
        where = f"{kind} with GPU_DEVICE_IDS {pinned}" if pinned else f"{kind}: the first {world} visible GPU(s)"
        engines += [Engine(name, g, util, loc, where) for g in gpus for _ in range(count)]
    return engines


class GpuShare(Check):
    """gpu_memory_utilization of the models on one GPU."""

    id = "gpu-share"
    host_only = "gpu"
    title = "GPU memory shared by the models"
    category = Category.GPU
    requires = frozenset({"model-repository"})
    explanation = (
        "Each vLLM engine takes gpu_memory_utilization x the TOTAL memory of each GPU it uses (0.9 when "
        "model.json leaves it out). Models that the server loads together (model control mode none or poll, or "
        "each --load-model) and that land on the same GPU must together stay at or below 1; otherwise the "
        "second engine finds the memory taken and its load fails. Placement follows the vLLM backend: KIND_GPU "
        "instances use their device, KIND_MODEL and no instance_group start on the first visible GPU(s)."
    )
    sub_ids = {"oversubscribed": "models on the same GPU ask for more than 100 % of its memory"}

    def run(self, ctx: Context) -> Outcome:
        if not ctx.repo().is_dir:
            return Outcome(skip_reason="no repository directory")
        names, stated = loaded_models(ctx)
        if not names and is_sample(ctx):
            return Outcome(summary="the sample's guide starts one model per server: nothing shared")
        per_gpu: dict[int, list[Engine]] = {}
        vllm = 0
        for name in names:
            engines = placement(ctx, name)
            vllm += bool(engines)
            for engine in engines:
                per_gpu.setdefault(engine.gpu, []).append(engine)
        if vllm < 2:
            return Outcome(summary=f"{vllm} vLLM model(s) load together: nothing shared")
        f = FindingFactory(self.id)
        worst = 0.0
        for gpu, engines in sorted(per_gpu.items()):
            total = sum(e.utilization for e in engines)
            worst = max(worst, total)
            models = list(dict.fromkeys(e.model for e in engines))
            if total <= 1.0 + 1e-9 or len(models) < 2:
                continue
            together = (
                "load together (the command's model control mode and --load-model)"
                if stated
                else "load together when the server loads every model (no command given: Triton's default "
                "--model-control-mode=none)"
            )
            lines = [
                f"{e.model}: {e.utilization} ({e.location if e.location else 'model.json'}; {e.why})" for e in engines
            ]
            share = 0.9 / len(engines)
            message = (
                f"{len(models)} vLLM models {together} on GPU {gpu} and ask for gpu_memory_utilization summing to "
                f"{total:.2f} (> 1): the engine loaded second finds the memory taken and fails"
            )
            remedy = (
                f'write "gpu_memory_utilization": {share:.2f} in each model.json (the sum must stay at or below '
                f"0.9), or run one model per server: --model-control-mode=explicit --load-model={models[0]}"
            )
            first = engines[1]
            (f.error if stated else f.warning)(
                "oversubscribed",
                message,
                location=first.location,
                model=first.model,
                evidence="; ".join(lines),
                catalog_id="free-memory-below-utilization",
                remedy=remedy,
            )
        if f.findings:
            return f.outcome(f"oversubscribed: gpu_memory_utilization sums to {worst:.2f} on one GPU")
        return f.outcome(f"{vllm} vLLM models load together; at most {worst:.2f} of any GPU")
