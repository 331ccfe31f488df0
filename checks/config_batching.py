"""``config-batching``: ``max_batch_size: 0`` and a decoupled transaction policy, as the vLLM backend sets."""

from __future__ import annotations

import functools
from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.permodel import per_model, require_config
from triton_doctor.repair.locate import config_fix, delete_every, position
from triton_doctor.repair.pbtxtedit import replace_field, set_scalar
from triton_doctor.results import Category, Outcome


class ConfigBatching(Check):
    """Batching and decoupled policy match the vLLM backend."""

    id = "config-batching"
    title = "Batching and decoupled policy"
    category = Category.REPO
    requires = frozenset({"model-repository"})
    after = frozenset({"model-config", "config-backend"})
    explanation = (
        "vLLM batches requests itself, so the backend's auto-complete sets max_batch_size: 0 and fails the "
        "load when the config says otherwise. Streaming responses need model_transaction_policy "
        "{ decoupled: true }; auto-complete adds it when the block is absent, and refuses to change an "
        "explicit decoupled: false."
    )
    sub_ids = {
        "max-batch-size": "max_batch_size is not 0",
        "dynamic-batching": "a dynamic_batching or sequence_batching block",
        "not-decoupled": "model_transaction_policy without decoupled: true",
    }

    def run(self, ctx: Context) -> Outcome:
        return per_model(ctx, self.id, self._evaluate, ok="max_batch_size 0, decoupled")

    def _evaluate(self, model: ModelFacts, f: FindingFactory) -> None:
        config: Any = require_config(model)
        if config.max_batch_size != 0:
            f.error(
                "max-batch-size",
                f"max_batch_size: {config.max_batch_size} in {model.config_display}; the vLLM backend "
                "requires 0 (vLLM batches by itself)",
                model=model.name,
                location=model.config_location("max_batch_size"),
                evidence=f"max_batch_size: {config.max_batch_size}",
                remedy="write max_batch_size: 0 (or delete the line)",
                catalog_id="max-batch-size-nonzero",
                fix=config_fix(model, _zero_batch, "write max_batch_size: 0"),
            )
        for block in ("dynamic_batching", "sequence_batching"):
            if config.HasField(block):
                f.error(
                    "dynamic-batching",
                    f"{block} block in {model.config_display}; vLLM does its own batching",
                    model=model.name,
                    location=model.config_location(block),
                    evidence=f"{block} {{ ... }}",
                    remedy=f"delete the {block} block",
                    catalog_id="max-batch-size-nonzero",
                    fix=config_fix(model, functools.partial(_delete_block, name=block), f"delete the {block} block"),
                )
        if config.HasField("model_transaction_policy") and not config.model_transaction_policy.decoupled:
            loc = model.config_location("model_transaction_policy", 0, "decoupled")
            if loc.line is None:
                loc = model.config_location("model_transaction_policy")
            f.error(
                "not-decoupled",
                f"model_transaction_policy in {model.config_display} is not decoupled; the vLLM backend "
                "streams several responses per request",
                model=model.name,
                location=loc,
                evidence="model_transaction_policy { decoupled: false }",
                remedy="write model_transaction_policy { decoupled: true } (or delete the block)",
                catalog_id="decoupled-disabled",
                fix=config_fix(model, _decouple, "write model_transaction_policy { decoupled: true }"),
            )


def _zero_batch(text: str) -> str:
    pos = position(text, "max_batch_size")
    if pos is None:
        raise ValueError("no max_batch_size field")
    return set_scalar(text, *pos, "0")


def _decouple(text: str) -> str:
    pos = position(text, "model_transaction_policy", 0, "decoupled")
    if pos is not None:
        return set_scalar(text, *pos, "true")
    pos = position(text, "model_transaction_policy")
    if pos is None:
        raise ValueError("no model_transaction_policy")
    return replace_field(text, *pos, "model_transaction_policy { decoupled: true }")


def _delete_block(text: str, name: str) -> str:
    return delete_every(text, name)
