"""``model-checkpoint``: the checkpoint's config.json against the image's vLLM (architecture, pooling vs
generation, custom code, heads vs tensor parallel), for local directories and Hub ids alike."""

from __future__ import annotations

from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.checkpoint import Checkpoint
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts, parallel_sizes
from triton_doctor.knowledge import IMAGES, ImageInfo, image_for_tag
from triton_doctor.knowledge.models import ReleaseModels, release_for, releases
from triton_doctor.permodel import NotEvaluable, per_model
from triton_doctor.results import Category, Outcome

#: model_type values transformers builds without the checkpoint's code: an ``auto_map`` in their config.json
#: is a leftover and needs no trust_remote_code (transformers ``resolve_trust_remote_code``: local code wins).
TRANSFORMERS_TYPES = frozenset(
    {
        "bert", "bloom", "cohere", "cohere2", "dbrx", "deepseek_v2", "deepseek_v3", "falcon", "gemma", "gemma2",
        "gemma3", "gpt2", "gpt_bigcode", "gpt_neox", "gptj", "granite", "jamba", "llama", "mistral", "mixtral",
        "mpt", "olmo", "olmo2", "opt", "phi", "phi3", "phimoe", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe",
        "stablelm", "starcoder2", "xlm-roberta", "roberta",
    }
)  # fmt: skip


def _tp_choices(heads: int, kv_heads: int, limit: int = 16) -> list[int]:
    """Tensor parallel sizes vLLM accepts for these head counts (up to ``limit``)."""
    return [
        tp
        for tp in range(1, limit + 1)
        if heads % tp == 0 and (kv_heads % tp == 0 if kv_heads >= tp else tp % kv_heads == 0)
    ]


class ModelCheckpoint(Check):
    """The checkpoint as the image's vLLM sees it."""

    id = "model-checkpoint"
    title = "Checkpoint vs the image's vLLM"
    category = Category.REPO
    requires = frozenset({"model-source"})
    after = frozenset({"max-model-len"})
    timeout_s = 45.0
    explanation = (
        "The doctor reads the checkpoint's config.json (the local directory behind model.json's 'model', or "
        "the Hub's config.json through huggingface_hub with the container's token; under --offline only the "
        "HF cache) and compares it with what the image's vLLM registers (data generated from each release's "
        "source): the architecture must be registered (or the Transformers fallback exist), a pooling "
        "(embedding, reranker) model cannot serve the vLLM backend's generate requests, custom code (auto_map) "
        "needs trust_remote_code, and the attention heads and KV heads must divide by tensor_parallel_size "
        "(vLLM splits heads evenly over the GPUs; fewer KV heads than GPUs are replicated, so the GPU count "
        "must then be a multiple of them). For a Hub id the Hub's file list (the model info hf-model-access "
        "reads; not under --offline or --profile quick) must hold tokenizer files, as vLLM loads the tokenizer "
        "from the same repository unless model.json names another."
    )
    sub_ids = {
        "facts": "what config.json says (architecture, heads, layers, dtype, quantization)",
        "unregistered": "the architecture is not registered in the image's vLLM",
        "pooling": "a pooling (embedding, classification, reward) model on the generation backend",
        "remote-code": "custom code (auto_map) without trust_remote_code",
        "tp-heads": "attention heads not divisible by tensor_parallel_size",
        "tp-kv-heads": "KV heads and tensor_parallel_size do not divide one another",
        "no-tokenizer": "a Hub model whose repository has no tokenizer files",
    }

    def run(self, ctx: Context) -> Outcome:
        return per_model(ctx, self.id, lambda m, f: self._evaluate(ctx, m, f), ok="vLLM can load it")

    def _evaluate(self, ctx: Context, model: ModelFacts, f: FindingFactory) -> None:
        args = ctx.engine_args(model.name) or {}
        source = args.get("model")
        if not isinstance(source, str) or not source.strip():
            raise NotEvaluable("no model in model.json")
        read = ctx.checkpoint(source)
        if read.checkpoint is None:
            raise NotEvaluable(read.why or "config.json unknown")
        cp = read.checkpoint
        image = image_for_tag(ctx.target.image or "")
        release = release_for(image)
        where = f"vLLM {release.version}" + (f" (image {image.tag})" if image else " (the newest image)")
        f.info(
            "facts",
            f"{', '.join(cp.architectures) or 'no architectures'}: {cp.num_attention_heads} heads, "
            f"{cp.num_key_value_heads} KV heads, {cp.num_hidden_layers} layers, hidden {cp.hidden_size}, "
            f"vocabulary {cp.vocab_size}, {cp.torch_dtype or 'dtype unset'}"
            + (f", quantization {cp.quant_method}" if cp.quant_method else ""),
            model=model.name,
            location=cp.location(),
        )
        self._architecture(model, cp, f, release, where, image)
        self._remote_code(model, cp, f, args.get("trust_remote_code") is True)
        self._tokenizer(model, cp, f, source, args)
        tp, _pp = parallel_sizes(args)
        heads, kv = cp.num_attention_heads, cp.num_key_value_heads
        if tp > 1 and heads and kv:
            choices = ", ".join(str(c) for c in _tp_choices(heads, kv))
            loc = model.json_location("tensor_parallel_size")
            if heads % tp:
                f.error(
                    "tp-heads",
                    f"tensor_parallel_size {tp} does not divide the {heads} attention heads "
                    f"(num_attention_heads in {cp.display})",
                    model=model.name,
                    location=loc,
                    evidence=f'"tensor_parallel_size": {tp}; {cp.display}: "num_attention_heads": {heads}',
                    catalog_id="tp-not-divisible",
                    remedy=f'write "tensor_parallel_size": one of {choices}',
                )
            elif (kv % tp) if kv >= tp else (tp % kv):
                f.error(
                    "tp-kv-heads",
                    f"tensor_parallel_size {tp} and the {kv} KV heads (num_key_value_heads) do not divide one another",
                    model=model.name,
                    location=loc,
                    evidence=f'"tensor_parallel_size": {tp}; {cp.display}: "num_key_value_heads": {kv}',
                    catalog_id="tp-not-divisible",
                    remedy=f'write "tensor_parallel_size": one of {choices}',
                )

    def _tokenizer(
        self, model: ModelFacts, cp: Checkpoint, f: FindingFactory, source: str, args: dict[str, Any]
    ) -> None:
        """A Hub model whose file list has no tokenizer file (unknown offline and in the quick profile)."""
        if cp.origin != "hub" or cp.tokenizer_files != () or args.get("tokenizer") or args.get("skip_tokenizer_init"):
            return
        f.warning(
            "no-tokenizer",
            f"{source} has no tokenizer files (tokenizer.json, tokenizer.model, tokenizer_config.json) on the Hub",
            model=model.name,
            location=model.json_location("model"),
            evidence=f'"model": "{source}"; the Hub lists no tokenizer file in the repository',
            remedy='set "tokenizer" in model.json to a Hub id that has them (often the base model it '
            "was fine-tuned from), or use a repository that ships the tokenizer",
        )

    def _architecture(
        self,
        model: ModelFacts,
        cp: Checkpoint,
        f: FindingFactory,
        release: ReleaseModels,
        where: str,
        image: ImageInfo | None,
    ) -> None:
        if not cp.architectures:
            return
        loc = cp.location("architectures")
        evidence = f'{cp.display}: "architectures": {list(cp.architectures)}'
        pooling_elsewhere = not any(a in release.generation or a in release.pooling for a in cp.architectures) and any(
            cp.is_pooling(other) for other in releases().values()
        )
        if cp.is_pooling(release) or pooling_elsewhere:
            f.error(
                "pooling",
                f"{cp.architectures[0]} is a pooling model (embeddings / scores)"
                + (f" in {where}" if not pooling_elsewhere else f", not registered at all in {where}")
                + "; the vLLM backend "
                "only generates text, and vLLM refuses generate requests for it",
                model=model.name,
                location=loc,
                evidence=evidence,
                catalog_id="unsupported-architecture",
                remedy="serve a text-generation checkpoint here; run embedding models with vLLM's own server "
                "(vllm serve MODEL --runner pooling) or Triton's Python/ONNX backends",
            )
            return
        registered = release.generation | release.pooling
        if any(a in registered for a in cp.architectures):
            return
        arch = cp.architectures[0]
        images = list(IMAGES.values())
        here = images.index(image) if image is not None else len(images) - 1
        data = releases()

        def has(img: ImageInfo) -> bool:
            rel = data.get(img.vllm)
            return rel is not None and arch in (rel.generation | rel.pooling)

        newer = next((i for i in images[here + 1 :] if has(i)), None)
        older = next((i for i in reversed(images[:here]) if has(i)), None)
        last = images[-1]
        if newer is not None:
            f.error(
                "unregistered",
                f"{arch} is not registered in {where}; it is supported from vLLM {newer.vllm} / image {newer.tag}",
                model=model.name,
                location=loc,
                evidence=evidence,
                catalog_id="unsupported-architecture",
                remedy=f"use image nvcr.io/nvidia/tritonserver:{newer.tag}-vllm-python-py3 or newer",
            )
        elif older is not None:
            f.error(
                "unregistered",
                f"{arch} is not registered in {where}: vLLM removed it; the last image with it is {older.tag} "
                f"(vLLM {older.vllm})",
                model=model.name,
                location=loc,
                evidence=evidence,
                catalog_id="unsupported-architecture",
                remedy=f"use image nvcr.io/nvidia/tritonserver:{older.tag}-vllm-python-py3, or a checkpoint of a "
                "supported architecture",
            )
        elif arch in release.previously_supported:
            f.error(
                "unregistered",
                f"{arch} is not registered in {where}: vLLM removed it",
                model=model.name,
                location=loc,
                evidence=evidence,
                catalog_id="unsupported-architecture",
                remedy="use a checkpoint of a supported architecture, or an older image that still has it",
            )
        elif release.transformers_fallback:
            f.warning(
                "unregistered",
                f"{arch} has no native implementation in {where} (nor in any image up to {last.tag}); vLLM "
                "falls back to its Transformers backend, which works only for models whose transformers code "
                "supports it",
                model=model.name,
                location=loc,
                evidence=evidence,
                catalog_id="unsupported-architecture",
                remedy='try it; if loading fails, use a checkpoint of a supported architecture ("model_impl": '
                '"transformers" forces the fallback)',
            )
        else:
            f.error(
                "unregistered",
                f"{arch} is not registered in {where} nor in any image up to {last.tag}",
                model=model.name,
                location=loc,
                evidence=evidence,
                catalog_id="unsupported-architecture",
                remedy="use a checkpoint of an architecture vLLM supports (docs.vllm.ai: supported models)",
            )

    def _remote_code(self, model: ModelFacts, cp: Checkpoint, f: FindingFactory, trusted: bool) -> None:
        if not cp.needs_remote_code() or trusted:
            return
        builtin = cp.model_type in TRANSFORMERS_TYPES
        evidence = f'{cp.display}: "auto_map": {{{", ".join(cp.auto_map)}}}, "model_type": "{cp.model_type}"'
        if builtin:
            f.info(
                "remote-code",
                f"config.json has auto_map, but transformers builds model_type {cp.model_type!r} itself: "
                "no trust_remote_code needed",
                model=model.name,
                location=cp.location("auto_map"),
                evidence=evidence,
            )
            return
        f.error(
            "remote-code",
            f"the checkpoint ships its own code (auto_map) for model_type {cp.model_type!r}, and model.json "
            "does not set trust_remote_code",
            model=model.name,
            location=model.json_location("trust_remote_code") or model.json_location(),
            evidence=evidence,
            catalog_id="trust-remote-code-required",
            remedy='add "trust_remote_code": true to model.json (it runs the checkpoint\'s Python code: review it)',
        )
