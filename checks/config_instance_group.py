"""``config-instance-group``: ``instance_group`` kind and count fit ``tensor_parallel_size``."""

from __future__ import annotations

import functools
from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.checks.gpu_share import rule as placement_rule
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts, parallel_sizes
from triton_doctor.fixdata import Applicability
from triton_doctor.permodel import per_model, require_config
from triton_doctor.repair.locate import config_fix, position
from triton_doctor.repair.pbtxtedit import replace_field, set_scalar
from triton_doctor.results import Category, Outcome


class ConfigInstanceGroup(Check):
    """instance_group kind and count."""

    id = "config-instance-group"
    title = "Instance group vs tensor parallel"
    category = Category.REPO
    requires = frozenset({"model-repository"})
    after = frozenset({"model-config", "config-io"})
    explanation = (
        "KIND_MODEL starts one vLLM engine that owns the visible GPUs and is required for "
        "tensor_parallel_size x pipeline_parallel_size > 1. KIND_GPU starts one engine per listed (or every "
        "visible) GPU, each pinned to that GPU (from 25.04; earlier backends pin nothing that vLLM keeps). No "
        "instance_group is KIND_GPU too: Triton gives the Python backend KIND_GPU with one instance per GPU. "
        "Every instance is a whole vLLM engine that claims gpu_memory_utilization of its GPU, so count > 1 on "
        "one GPU runs out of memory. What each image release's backend does: docs/gpu-placement.md."
    )
    sub_ids = {
        "kind-gpu-multi-gpu": "KIND_GPU with a model split over several GPUs",
        "kind-cpu": "KIND_CPU for a GPU engine",
        "count": "more than one instance",
    }

    def run(self, ctx: Context) -> Outcome:
        return per_model(ctx, self.id, lambda m, f: self._evaluate(ctx, m, f), ok="instance group fits")

    def _evaluate(self, ctx: Context, model: ModelFacts, f: FindingFactory) -> None:
        config: Any = require_config(model)
        parallel = ctx.tensor_parallel().get(model.name, 1)
        tp, _ = parallel_sizes(ctx.engine_args(model.name))
        backend = placement_rule(ctx)
        # What the image's backend refuses KIND_GPU for (tensor parallel only up to 25.12; nothing on 24.04/24.05).
        refused = {"tp": tp, "tp*pp": parallel}.get(backend.refuses or "", 0)
        release = f"the {backend.tag} vLLM backend" if backend.tag else "the vLLM backend"
        pinned_alone = backend.pins == "CUDA_VISIBLE_DEVICES" and refused <= 1  # gpu-share[pinned-too-few]
        if not config.instance_group and parallel > 1 and not pinned_alone:
            self._default_group(model, f, parallel, refused, release, backend.provenance)
        for i, group in enumerate(config.instance_group):
            kind_enum = group.DESCRIPTOR.fields_by_name["kind"].enum_type
            kind = kind_enum.values_by_number[group.kind].name
            loc = model.config_location("instance_group", i, "kind")
            if loc.line is None:
                loc = model.config_location("instance_group", i)
            if kind == "KIND_GPU" and parallel > 1:
                fix = config_fix(model, _one_model_instance, "write instance_group [ { count: 1, kind: KIND_MODEL } ]")
                if refused > 1:
                    f.error(
                        "kind-gpu-multi-gpu",
                        f"instance_group kind KIND_GPU with tensor_parallel_size x pipeline_parallel_size = "
                        f"{parallel}: KIND_GPU is for single-GPU models ({release} refuses it)",
                        model=model.name,
                        location=loc,
                        evidence=f"kind: {kind}; {backend.provenance}",
                        remedy="write instance_group [ { count: 1, kind: KIND_MODEL } ]",
                        catalog_id="kind-gpu-with-multi-gpu",
                        fix=fix,
                    )
                elif backend.pins != "CUDA_VISIBLE_DEVICES":  # pinned to one GPU: gpu-share[pinned-too-few]
                    f.warning(
                        "kind-gpu-multi-gpu",
                        f"instance_group kind KIND_GPU with tensor_parallel_size x pipeline_parallel_size = "
                        f"{parallel}: {release} does not refuse it, but every KIND_GPU instance (one per GPU "
                        f"the server sees, or per gpus entry) starts its own {parallel}-GPU engine on the same "
                        "first GPUs, or on its one pinned GPU: with more than one GPU they run out of memory",
                        model=model.name,
                        location=loc,
                        evidence=f"kind: {kind}; {backend.provenance}",
                        remedy="write instance_group [ { count: 1, kind: KIND_MODEL } ]",
                        catalog_id="free-memory-below-utilization",
                        fix=fix,
                    )
            elif kind == "KIND_CPU":
                f.warning(
                    "kind-cpu",
                    "instance_group kind KIND_CPU: the vLLM engine still runs on the GPU",
                    model=model.name,
                    location=loc,
                    evidence=f"kind: {kind}",
                    remedy="write instance_group [ { count: 1, kind: KIND_MODEL } ]",
                    fix=config_fix(
                        model, _one_model_instance, "write instance_group [ { count: 1, kind: KIND_MODEL } ]"
                    ),
                )
            count = group.count or 1
            if count > 1:
                f.warning(
                    "count",
                    f"instance_group count: {count} starts {count} vLLM engines"
                    + (" per GPU" if kind == "KIND_GPU" else "")
                    + ", each claiming gpu_memory_utilization of GPU memory",
                    model=model.name,
                    location=model.config_location("instance_group", i, "count"),
                    evidence=f"count: {count}",
                    remedy="write count: 1 (vLLM serves concurrent requests itself)",
                    catalog_id="no-kv-cache-memory",
                    fix=config_fix(
                        model,
                        functools.partial(_count_one, index=i),
                        "write count: 1",
                        Applicability.UNSAFE,
                    ),
                )

    def _default_group(
        self, model: ModelFacts, f: FindingFactory, parallel: int, refused: int, release: str, provenance: str
    ) -> None:
        """No instance_group: Triton gives the Python backend its preferred KIND_GPU, one instance per GPU."""
        what = (
            "no instance_group: Triton gives the vLLM (Python) backend its default, KIND_GPU with one instance per "
            f"GPU the server sees, and tensor_parallel_size x pipeline_parallel_size is {parallel}"
        )
        common = {
            "model": model.name,
            "location": model.config_location(),
            "evidence": f"config.pbtxt has no instance_group; {provenance}",
            "remedy": "write instance_group [ { count: 1, kind: KIND_MODEL } ]",
            "fix": config_fix(model, _add_model_instance, "write instance_group [ { count: 1, kind: KIND_MODEL } ]"),
        }
        if refused > 1:
            f.error(
                "kind-gpu-multi-gpu",
                f"{what}: {release} refuses KIND_GPU for a model split over several GPUs",
                catalog_id="kind-gpu-with-multi-gpu",
                **common,
            )
        else:
            f.warning(
                "kind-gpu-multi-gpu",
                f"{what}: {release} does not refuse it, but each instance starts its own {parallel}-GPU engine "
                "on the same first GPUs: with more than one GPU they run out of memory",
                catalog_id="free-memory-below-utilization",
                **common,
            )


def _add_model_instance(text: str) -> str:
    if position(text, "instance_group") is not None:
        raise ValueError("instance_group present")
    return text.rstrip("\n") + "\ninstance_group [ { count: 1, kind: KIND_MODEL } ]\n"


def _one_model_instance(text: str) -> str:
    pos = position(text, "instance_group")
    if pos is None:
        raise ValueError("no instance_group")
    return replace_field(text, *pos, "instance_group [ { count: 1, kind: KIND_MODEL } ]")


def _count_at(text: str, index: int) -> tuple[int, int]:
    pos = position(text, "instance_group", index, "count")
    if pos is None:
        raise ValueError("no count")
    return pos


def _count_one(text: str, index: int) -> str:
    return set_scalar(text, *_count_at(text, index), "1")
