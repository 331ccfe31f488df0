"""``max-model-len``: ``max_model_len`` in model.json fits the model's own context length."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.fixdata import Applicability, SetJsonKey
from triton_doctor.knowledge import image_for_tag
from triton_doctor.knowledge.models import release_for
from triton_doctor.permodel import NotEvaluable, per_model
from triton_doctor.repair.locate import json_fix, model_json_path
from triton_doctor.results import Category, Outcome


class MaxModelLen(Check):
    """max_model_len within the model's context."""

    id = "max-model-len"
    title = "max_model_len fits the model"
    category = Category.REPO
    requires = frozenset({"model-source"})
    timeout_s = 45.0
    explanation = (
        "vLLM refuses a max_model_len above the length it derives from config.json: 'User-specified "
        "max_model_len (X) is greater than the derived max_model_len'. It takes the smallest of "
        "max_position_embeddings, n_positions, max_seq_len, seq_length, model_max_length, max_target_positions, "
        "max_sequence_length, max_seq_length and seq_len, multiplies it by the rope_scaling factor (yarn: of "
        "original_max_position_embeddings; not for llama3/longrope), and newer releases cap it by "
        "tokenizer_config.json's model_max_length. The doctor repeats this derivation with the rules of the "
        "image's vLLM, for local checkpoints and Hub ids (config.json through huggingface_hub; under --offline "
        "from the HF cache only)."
    )
    sub_ids = {"exceeds": "max_model_len above the model's context length"}

    def run(self, ctx: Context) -> Outcome:
        return per_model(ctx, self.id, lambda m, f: self._evaluate(ctx, m, f), ok="max_model_len fits")

    def _evaluate(self, ctx: Context, model: ModelFacts, f: FindingFactory) -> None:
        args = ctx.engine_args(model.name) or {}
        wanted = args.get("max_model_len")
        value = args.get("model")
        if not isinstance(value, str) or not value.strip():
            raise NotEvaluable("no model in model.json")
        read = ctx.checkpoint(value)
        if read.checkpoint is None:
            raise NotEvaluable(read.why or "config.json unknown")
        cp = read.checkpoint
        image = image_for_tag(ctx.target.image or "")
        release = release_for(image)
        env = dict(ctx.target.docker.env) if ctx.target.docker is not None else {}
        limit = cp.max_len(release.max_len, disable_sliding_window=args.get("disable_sliding_window") is True, env=env)
        if not isinstance(wanted, int) or isinstance(wanted, bool) or wanted <= limit.value:
            return
        if limit.allowance is not None and wanted <= limit.allowance:
            return
        where = f"vLLM {release.version}" + (f" (image {image.tag})" if image else "")
        key = limit.key.split(" x ")[0]
        f.error(
            "exceeds",
            f"max_model_len {wanted} is greater than the {limit.value} that {where} derives from "
            f"{limit.key} in {cp.display}",
            model=model.name,
            location=model.json_location("max_model_len"),
            evidence=f'"max_model_len": {wanted}; {cp.display}'
            + (f" line {cp.key_lines[key]}" if key in cp.key_lines else "")
            + f": {'; '.join(limit.steps)}",
            remedy=f'write "max_model_len": {limit.value} (or less)',
            catalog_id="max-model-len-exceeds-model",
            fix=json_fix(
                model,
                f"lower max_model_len to the {limit.value} that {where} derives",
                SetJsonKey(model_json_path(model), "max_model_len", str(limit.value)),
                applicability=Applicability.UNSAFE,
            ),
        )
