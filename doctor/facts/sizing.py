"""What a model weighs on a GPU: weights, KV cache per token, context length (an estimate, labelled so)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from triton_doctor.core.hfid import is_hub_id
from triton_doctor.deploy.render import ContainerSpec, build_spec
from triton_doctor.deploy.target import Target
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import parallel_sizes

__all__ = ["ModelShape", "model_shape"]

GIB = 1024**3
DTYPE_BYTES = {"float32": 4, "float": 4, "float16": 2, "half": 2, "bfloat16": 2, "fp8": 1, "float8": 1}


@dataclass(frozen=True, slots=True)
class ModelShape:
    """Numbers for the memory estimate of one Triton model (None: unknown)."""

    name: str
    source: str
    weights_bytes: int | None
    weights_origin: str
    dtype: str | None
    kv_bytes_per_token: int | None
    max_model_len: int | None
    context_origin: str
    num_attention_heads: int | None
    parallel: int
    tensor_parallel: int
    utilization: float
    enforce_eager: bool


def model_shape(ctx: Context, name: str) -> ModelShape | None:
    """The memory-relevant numbers of a model, from model.json, local config.json and weights, or the Hub."""
    args = ctx.engine_args(name)
    if args is None or not isinstance(args.get("model"), str):
        return None
    source = str(args["model"])
    config: dict[str, Any] = {}
    weights: int | None = None
    weights_origin = "unknown"
    read = ctx.checkpoint(source)
    checkpoint = read.checkpoint
    if checkpoint is not None:
        config = checkpoint.text
    if source.startswith("/"):
        local = ctx.local_model(source)
        if local.weight_files:
            weights = local.weights_bytes
            weights_origin = f"{len(local.weight_files)} weight file(s) in {local.host_display}"
    dtype_arg = args.get("dtype", "auto")
    torch_dtype = str(config.get("torch_dtype") or config.get("dtype") or "")
    if dtype_arg in (None, "auto"):
        dtype = "float16" if torch_dtype in ("float32", "") else torch_dtype
    else:
        dtype = str(dtype_arg)
    if weights is None and is_hub_id(source) and not ctx.target.offline:
        from triton_doctor.deploy.tokens import container_token

        info = ctx.hub_model(source, container_token(ctx.target).value)
        params = info.data.get("parameters") if info.ok else None
        if isinstance(params, int) and params > 0:
            weights = params * DTYPE_BYTES.get(dtype, 2)
            weights_origin = (
                f"{params / 1e9:.2f} B parameters x {DTYPE_BYTES.get(dtype, 2)} bytes ({dtype}), from the Hub"
            )
    layers = checkpoint.num_hidden_layers if checkpoint else None
    heads = checkpoint.num_attention_heads if checkpoint else None
    kv_heads = checkpoint.num_key_value_heads if checkpoint else None
    head_dim = checkpoint.head_dim if checkpoint else None
    kv_dtype = args.get("kv_cache_dtype", "auto")
    kv_bytes = DTYPE_BYTES.get(str(kv_dtype), 1) if kv_dtype not in (None, "auto") else DTYPE_BYTES.get(dtype, 2)
    per_token = 2 * layers * kv_heads * head_dim * kv_bytes if layers and kv_heads and head_dim else None
    wanted = args.get("max_model_len")
    length: int | None = None
    origin = "unknown (no config.json)"
    if isinstance(wanted, int) and not isinstance(wanted, bool) and wanted > 0:
        length, origin = wanted, "max_model_len in model.json"
    elif checkpoint is not None:
        from triton_doctor.knowledge import image_for_tag
        from triton_doctor.knowledge.models import release_for

        derived = checkpoint.max_len(release_for(image_for_tag(ctx.target.image or "")).max_len)
        length, origin = derived.value, f"{derived.key} in config.json (no max_model_len in model.json)"
    tp, pp = parallel_sizes(args)
    util = args.get("gpu_memory_utilization", 0.9)
    util = float(util) if isinstance(util, (int, float)) and not isinstance(util, bool) and 0 < util <= 1 else 0.9
    return ModelShape(
        name=name,
        source=source,
        weights_bytes=weights,
        weights_origin=weights_origin,
        dtype=dtype,
        kv_bytes_per_token=per_token,
        max_model_len=length,
        context_origin=origin,
        num_attention_heads=heads,
        parallel=tp * pp,
        tensor_parallel=tp,
        utilization=util,
        enforce_eager=args.get("enforce_eager") is True,
    )


def spec_for_target(target: Target) -> ContainerSpec:
    """The spec for a target: its models (from --model/--load-model, else the repository's), their parallelism."""
    ctx = Context(target)
    try:
        present = list(ctx.selected_models()[0]) if ctx.repo().is_dir else []
        models = list(target.models or present)
        parallel = max(ctx.tensor_parallel().values(), default=1) if present else 1
    finally:
        ctx.close()
    return build_spec(target, models, parallel=parallel)
