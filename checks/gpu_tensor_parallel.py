"""``gpu-tensor-parallel``: each model's tensor x pipeline parallel size fits the GPUs the container gets."""

from __future__ import annotations

from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.checks.gpu_share import view
from triton_doctor.facts.context import Context
from triton_doctor.facts.placement import visible_gpus
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.facts.sizing import model_shape
from triton_doctor.permodel import NotEvaluable, per_model
from triton_doctor.results import Category, Outcome


def _fitting_tp(heads: int | None, count: int) -> int:
    """The largest tensor parallel size up to ``count`` GPUs that divides the head count."""
    return max((d for d in range(1, max(1, count) + 1) if not heads or heads % d == 0), default=1)


class GpuTensorParallel(Check):
    """Tensor parallel vs GPU count."""

    id = "gpu-tensor-parallel"
    host_only = "gpu"
    title = "Tensor parallel vs GPUs"
    category = Category.GPU
    requires = frozenset({"gpu-nvml"})
    after = frozenset({"gpu-capability"})
    explanation = (
        "vLLM splits a model over tensor_parallel_size x pipeline_parallel_size GPUs and stops when the container "
        "has fewer. The head count must divide by tensor_parallel_size (model-checkpoint checks it). "
        "With instance_group KIND_GPU the backend "
        "starts one engine per GPU (times count), each with the full model."
    )
    sub_ids = {
        "too-few-gpus": "more GPUs asked for than the container gets",
        "not-divisible": "attention heads not divisible by tensor_parallel_size (now model-checkpoint[tp-heads], "
        "which needs no GPU)",
        "engines": "how many engines and GPUs the model uses",
    }

    def run(self, ctx: Context) -> Outcome:
        count = len(visible_gpus(ctx.gpu(), ctx.target))
        server = view(ctx).server  # the container's CUDA_VISIBLE_DEVICES narrows what the server sees
        if server is not None and ctx.target.docker and "CUDA_VISIBLE_DEVICES" in ctx.target.docker.env:
            count = min(count, len(server))
        outcome = per_model(ctx, self.id, lambda m, f: self._evaluate(ctx, m, f, count), ok="fits")
        if outcome.skip_reason is None:
            return Outcome(summary=f"{count} GPU(s) visible; " + outcome.summary, findings=outcome.findings)
        return outcome

    def _evaluate(self, ctx: Context, model: ModelFacts, f: FindingFactory, count: int) -> None:
        shape = model_shape(ctx, model.name)
        if shape is None:
            raise NotEvaluable("no readable model.json")
        loc = model.json_location("tensor_parallel_size")
        if shape.parallel > count:
            f.error(
                "too-few-gpus",
                f"tensor_parallel_size x pipeline_parallel_size = {shape.parallel} needs "
                f"{shape.parallel} GPUs; the container gets {count}",
                model=model.name,
                location=loc,
                evidence=f'"tensor_parallel_size": {shape.tensor_parallel}; GPUs visible: {count}',
                remedy=f'write "tensor_parallel_size": {_fitting_tp(shape.num_attention_heads, count)} '
                "(or give the container more GPUs)",
            )
        config: Any = model.parsed.message if model.parsed is not None else None
        groups = list(config.instance_group) if config is not None else []
        kinds = [g.DESCRIPTOR.fields_by_name["kind"].enum_type.values_by_number[g.kind].name for g in groups]
        if shape.parallel > count:
            return
        if "KIND_GPU" in kinds and shape.parallel == 1:
            per_gpu = max((g.count or 1) for g in groups)
            f.info(
                "engines",
                f"KIND_GPU: {per_gpu} engine(s) on each of {count} GPU(s) = {per_gpu * count} vLLM "
                "engines, each with the whole model",
                model=model.name,
            )
        else:
            f.info("engines", f"one vLLM engine over {shape.parallel} of {count} GPU(s)", model=model.name)
