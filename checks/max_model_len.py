"""``max-model-len``: ``max_model_len`` in model.json fits the model's own context length."""

from __future__ import annotations

from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.context import Context, ModelFacts
from triton_doctor.fixdata import Applicability, SetJsonKey
from triton_doctor.fixhelp import json_fix, model_json_path
from triton_doctor.permodel import NotEvaluable, per_model
from triton_doctor.results import Category, Outcome

#: config.json keys that carry the context length, in the order vLLM's derivation prefers them.
LENGTH_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "max_seq_len",
    "seq_length",
    "max_sequence_length",
    "model_max_length",
)


class MaxModelLen(Check):
    """max_model_len within the model's context."""

    id = "max-model-len"
    title = "max_model_len fits the model"
    category = Category.REPO
    requires = frozenset({"model-source"})
    explanation = (
        "vLLM refuses a max_model_len above the model's derived context length (max_position_embeddings in "
        "config.json): 'User-specified max_model_len (X) is greater than the derived max_model_len'. For local "
        "weights the doctor reads config.json; Hub models are checked by the hf checks."
    )
    sub_ids = {"exceeds": "max_model_len above the model's context length"}

    def run(self, ctx: Context) -> Outcome:
        return per_model(ctx, self.id, lambda m, f: self._evaluate(ctx, m, f), ok="max_model_len fits")

    def _evaluate(self, ctx: Context, model: ModelFacts, f: FindingFactory) -> None:
        args = ctx.engine_args(model.name) or {}
        wanted = args.get("max_model_len")
        value = args.get("model")
        if not isinstance(value, str) or not value.startswith("/"):
            raise NotEvaluable("not a local model")
        local = ctx.local_model(value)
        if local.config is None or not isinstance(local.config.data, dict):
            raise NotEvaluable("no readable config.json")
        data = local.config.data
        nested = data.get("text_config")
        text_config: dict[str, Any] = nested if isinstance(nested, dict) else {}
        limit_key, limit = next(
            (
                (k, v)
                for k in LENGTH_KEYS
                for src in (data, text_config)
                if isinstance(v := src.get(k), int) and not isinstance(v, bool)
            ),
            (None, None),
        )
        if limit is None:
            raise NotEvaluable("config.json has no context length")
        if not isinstance(wanted, int) or isinstance(wanted, bool):
            return
        if wanted > limit:
            f.error(
                "exceeds",
                f"max_model_len {wanted} is greater than the model's {limit_key}={limit}",
                model=model.name,
                location=model.json_location("max_model_len"),
                evidence=f'"max_model_len": {wanted}; {local.config.display}: "{limit_key}": {limit}',
                remedy=f'write "max_model_len": {limit} (or less)',
                catalog_id="max-model-len-exceeds-model",
                fix=json_fix(
                    model,
                    f"lower max_model_len to the model's {limit}",
                    SetJsonKey(model_json_path(model), "max_model_len", str(limit)),
                    applicability=Applicability.UNSAFE,
                ),
            )
