"""``gpu-memory``: weights plus KV cache fit ``gpu_memory_utilization`` x GPU memory (an estimate)."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.units import human_bytes
from triton_doctor.facts.context import Context
from triton_doctor.facts.placement import visible_gpus
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.facts.sizing import ModelShape, model_shape
from triton_doctor.permodel import NotEvaluable, per_model
from triton_doctor.results import Category, Outcome

GIB = 1024**3
#: CUDA context, activations of the profiling run, sampler buffers; CUDA graphs add about as much again.
RESERVE = int(1.5 * GIB)
GRAPHS = int(0.5 * GIB)


def _split_remedy(shape: ModelShape, visible: int, memory: int, reserve: int) -> str:
    """Where the weights do not fit: the smallest tensor parallel size that fits (and divides the heads)."""
    assert shape.weights_bytes is not None
    pp = max(1, shape.parallel // max(1, shape.tensor_parallel))
    for tp in range(shape.tensor_parallel + 1, 65):
        if shape.num_attention_heads and shape.num_attention_heads % tp:
            continue
        if shape.weights_bytes / (tp * pp) + reserve <= 0.9 * memory:
            if tp * pp <= visible:
                return f'split it: "tensor_parallel_size": {tp} ({tp * pp} GPUs), or use a smaller model'
            return (
                f"use a quantized or smaller model: it needs {tp * pp} GPUs of this size "
                f"(tensor_parallel_size {tp}) and the container gets {visible}"
            )
    return "use a quantized or smaller model: the weights do not fit even split over 64 GPUs of this size"


class GpuMemory(Check):
    """Memory estimate."""

    id = "gpu-memory"
    host_only = "gpu"
    title = "GPU memory (estimate)"
    category = Category.GPU
    requires = frozenset({"gpu-nvml"})
    after = frozenset({"gpu-tensor-parallel"})
    explanation = (
        "vLLM takes gpu_memory_utilization x TOTAL memory of each GPU, loads the weights (split over "
        "tensor_parallel_size GPUs), keeps a reserve for the CUDA context, activations and CUDA graphs, and "
        "gives the rest to the KV cache, which must hold at least one sequence of max_model_len tokens. The "
        "doctor estimates each part from model.json, config.json and the weights (or the Hub's parameter count) "
        "and compares with what NVML reports; memory already used by other processes counts against the "
        "budget. It is an estimate: the real numbers are in vLLM's log. Models sharing one GPU: gpu-share."
    )
    sub_ids = {
        "weights-too-large": "the weights alone exceed the budget",
        "kv-too-small": "no room for one max_model_len sequence of KV cache",
        "busy-gpu": "other processes hold the memory vLLM wants",
        "estimate": "the numbers of the estimate",
    }

    def run(self, ctx: Context) -> Outcome:
        gpus = visible_gpus(ctx.gpu(), ctx.target)
        if not gpus:
            return Outcome(skip_reason="the container gets no GPU")
        return per_model(ctx, self.id, lambda m, f: self._evaluate(ctx, m, f), ok="fits")

    def _evaluate(self, ctx: Context, model: ModelFacts, f: FindingFactory) -> None:
        shape = model_shape(ctx, model.name)
        if shape is None:
            raise NotEvaluable("no readable model.json")
        visible = visible_gpus(ctx.gpu(), ctx.target)
        if shape.parallel > len(visible):
            raise NotEvaluable(f"needs {shape.parallel} GPUs, {len(visible)} visible (see gpu-tensor-parallel)")
        gpus = visible[: max(1, shape.parallel)]
        smallest = min(gpus, key=lambda g: g.memory_total)
        budget = int(shape.utilization * smallest.memory_total)
        loc = model.json_location("gpu_memory_utilization") or model.json_location()
        if smallest.memory_free < budget:
            others = [p for g in gpus for p in g.processes]
            held = ", ".join(f"{p.name or 'pid'} {p.pid} ({human_bytes(p.used_bytes or 0)})" for p in others[:5])
            free_share = max(0.05, (smallest.memory_free / smallest.memory_total) - 0.02)
            f.error(
                "busy-gpu",
                f"GPU {smallest.index} has {human_bytes(smallest.memory_free)} free of "
                f"{human_bytes(smallest.memory_total)}; gpu_memory_utilization {shape.utilization} asks for "
                f"{human_bytes(budget)}",
                model=model.name,
                location=loc,
                evidence=f"processes on the GPU: {held or 'not visible (other PID namespace)'}",
                catalog_id="free-memory-below-utilization",
                remedy=f'stop the other GPU processes, or write "gpu_memory_utilization": {free_share:.2f}',
            )
        if shape.weights_bytes is None:
            f.info(
                "estimate",
                f"weights size unknown ({shape.weights_origin}); budget {human_bytes(budget)} per GPU",
                model=model.name,
            )
            return
        reserve = RESERVE + (0 if shape.enforce_eager else GRAPHS)
        weights_per_gpu = shape.weights_bytes // max(1, shape.parallel)
        kv_room = budget - weights_per_gpu - reserve
        estimate = (
            f"estimate per GPU: budget {shape.utilization} x {human_bytes(smallest.memory_total)} = "
            f"{human_bytes(budget)}; weights {human_bytes(weights_per_gpu)} ({shape.weights_origin}"
            f"{f', / {shape.parallel} GPUs' if shape.parallel > 1 else ''}); reserve {human_bytes(reserve)}; "
            f"left for KV cache {human_bytes(max(0, kv_room))}"
        )
        if kv_room <= 0:
            need = (weights_per_gpu + reserve) / smallest.memory_total
            remedy = (
                f'raise "gpu_memory_utilization" to {min(0.98, need + 0.05):.2f}'
                if need + 0.05 <= 0.98
                else _split_remedy(shape, len(visible), smallest.memory_total, reserve)
            )
            f.error(
                "weights-too-large",
                f"the weights need {human_bytes(weights_per_gpu)} per GPU, more than the "
                f"{human_bytes(budget - reserve)} left of the budget (estimate)",
                model=model.name,
                location=loc,
                evidence=estimate,
                catalog_id="no-kv-cache-memory",
                remedy=remedy,
            )
            return
        if shape.kv_bytes_per_token and shape.max_model_len:
            per_gpu_token = shape.kv_bytes_per_token // max(1, shape.tensor_parallel)
            one_sequence = per_gpu_token * shape.max_model_len
            if one_sequence > kv_room:
                fits = kv_room // per_gpu_token if per_gpu_token else 0
                f.error(
                    "kv-too-small",
                    f"one sequence of {shape.max_model_len} tokens ({shape.context_origin}) needs "
                    f"{human_bytes(one_sequence)} of KV cache; about {human_bytes(kv_room)} is left (estimate)",
                    model=model.name,
                    location=model.json_location("max_model_len") or loc,
                    evidence=estimate + f"; KV {human_bytes(per_gpu_token)} per token per GPU",
                    catalog_id="kv-cache-too-small-for-max-len",
                    remedy=f'write "max_model_len": {max(256, int(fits * 0.9) // 256 * 256)} (or raise '
                    "gpu_memory_utilization, or use more GPUs)",
                )
                return
            estimate += f"; one {shape.max_model_len}-token sequence needs {human_bytes(one_sequence)}"
        f.info("estimate", estimate, model=model.name)
