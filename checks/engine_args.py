"""``engine-args``: every model.json key is a vLLM engine argument of the image's vLLM, with a sane value."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.fixdata import Applicability, DeleteJsonKey, Fix, RenameJsonKey, SetJsonKey
from triton_doctor.knowledge import (
    IMAGES,
    ImageInfo,
    engine_arg_versions,
    image_for_tag,
    known_engine_args,
    suggest_engine_arg,
)
from triton_doctor.permodel import NotEvaluable, per_model
from triton_doctor.repair.locate import model_json_path
from triton_doctor.results import Category, Outcome

POSITIVE_INTS = (
    "tensor_parallel_size", "pipeline_parallel_size", "max_model_len", "max_num_seqs", "max_num_batched_tokens",
    "block_size", "max_loras", "max_lora_rank", "max_logprobs",
)  # fmt: skip
BOOLS = (
    "enforce_eager", "trust_remote_code", "enable_prefix_caching", "disable_log_stats", "enable_lora",
    "enable_chunked_prefill", "disable_custom_all_reduce", "skip_tokenizer_init", "enable_log_requests",
    "disable_log_requests",
)  # fmt: skip
DTYPES = ("auto", "half", "float16", "bfloat16", "float", "float32")


def _images_for(version: str) -> list[str]:
    return [tag for tag, info in IMAGES.items() if info.engine_args_version == version]


def _describe_history(key: str, image: ImageInfo | None) -> tuple[str, str] | None:
    """For a key known in some release: ``(message, remedy)`` about when it existed; None if unknown."""
    versions = engine_arg_versions(key)
    if not versions:
        return None
    order = list(IMAGES.values())
    ea_order = list(dict.fromkeys(i.engine_args_version for i in order))
    first, last = versions[0], versions[-1]
    last_idx = ea_order.index(last)
    if image is not None:
        here = ea_order.index(image.engine_args_version)
        if here > last_idx:
            removed_in = ea_order[last_idx + 1]
            tags = _images_for(removed_in)
            last_tag = _images_for(last)[-1]
            return (
                f"{key!r} is not in vLLM {image.vllm} (image {image.tag}): it was removed in vLLM "
                f"{IMAGES[tags[0]].vllm} (image {tags[0]}); the last image with it is {last_tag}",
                f"delete {key!r}, or use image {last_tag} or older",
            )
        tags = _images_for(first)
        return (
            f"{key!r} is not in vLLM {image.vllm} (image {image.tag}): it first appears in vLLM "
            f"{IMAGES[tags[0]].vllm} (image {tags[0]})",
            f"delete {key!r}, or use image {tags[0]} or newer",
        )
    if last != ea_order[-1]:
        removed_in = ea_order[last_idx + 1]
        tags = _images_for(removed_in)
        return (
            f"{key!r} was removed in vLLM {IMAGES[tags[0]].vllm}: images {tags[0]} and newer fail to load it",
            f"delete {key!r} for images {tags[0]}+; it works up to {_images_for(last)[-1]}",
        )
    return None


REPLACEMENTS = {
    "disable_log_requests": 'drop it (newer vLLM logs no requests by default; "enable_log_requests" turns logging on)'
}


class EngineArgs(Check):
    """model.json keys are vLLM engine arguments."""

    id = "engine-args"
    title = "vLLM engine arguments"
    category = Category.REPO
    requires = frozenset({"model-repository"})
    after = frozenset({"model-json"})
    explanation = (
        "The vLLM backend passes model.json to AsyncEngineArgs(**model_json): a key that is not a field of "
        "the image's vLLM stops the load with 'got an unexpected keyword argument'. Keys are underscore "
        "names (max_model_len, not max-model-len). The doctor ships the field names of every vLLM release "
        "in the 24.04-26.07 images, so it can say which image removed or added a key. Values are checked too: "
        'gpu_memory_utilization in (0, 1], positive integers, real booleans ("false" is a string, and '
        "truthy)."
    )
    sub_ids = {
        "unknown": "a key no vLLM release knows",
        "removed": "a key the target image's vLLM no longer has",
        "too-new": "a key the target image's vLLM does not have yet",
        "value": "a value out of range or of the wrong type",
    }

    def run(self, ctx: Context) -> Outcome:
        image = image_for_tag(ctx.target.image or "")
        outcome = per_model(ctx, self.id, lambda m, f: self._evaluate(m, f, ctx, image), ok="engine arguments known")
        if image is None and outcome.skip_reason is None:
            note = "; image unknown: checked against every vLLM from 0.4 to 0.24 (pass --image to pin)"
            return Outcome(
                summary=outcome.summary + note,
                findings=outcome.findings,
                brief=outcome.brief + note if outcome.brief else None,
            )
        if image is not None and outcome.skip_reason is None:
            pinned = f" (image {image.tag}, vLLM {image.vllm})"
            return Outcome(
                summary=outcome.summary + pinned,
                findings=outcome.findings,
                brief=outcome.brief + pinned if outcome.brief else None,
            )
        return outcome

    def _evaluate(self, model: ModelFacts, f: FindingFactory, ctx: Context, image: ImageInfo | None) -> None:
        args = ctx.engine_args(model.name)
        if args is None:
            raise NotEvaluable("no readable model.json")
        known = known_engine_args(image.engine_args_version if image else None)
        for key, value in args.items():
            loc = model.json_location(key)
            evidence = f'"{key}": {json.dumps(value)}'
            if key not in known:
                history = _describe_history(key, image)
                if history is not None and key in known_engine_args():
                    message, remedy = history
                    remedy = REPLACEMENTS.get(key, remedy) if "removed in" in message else remedy
                    sub = "removed" if "removed in" in message else "too-new"
                    fix = _drop_removed(model, key, value, known) if sub == "removed" else None
                    f.error(
                        sub,
                        message,
                        model=model.name,
                        location=loc,
                        evidence=evidence,
                        remedy=remedy,
                        catalog_id="unknown-engine-arg",
                        fix=fix,
                    )
                    continue
                suggestion = suggest_engine_arg(key, image.engine_args_version if image else None)
                where = f" of vLLM {image.vllm} (image {image.tag})" if image else ""
                hint = f'; did you mean "{suggestion}"?' if suggestion else ""
                f.error(
                    "unknown",
                    f"{key!r} is not a vLLM engine argument{where}{hint}",
                    model=model.name,
                    location=loc,
                    evidence=evidence,
                    remedy=f'rename it to "{suggestion}"'
                    if suggestion
                    else f"delete {key!r} (engine arguments are the underscore names of 'vllm serve' flags)",
                    catalog_id="unknown-engine-arg",
                    fix=_rename(model, key, suggestion, args) if suggestion else None,
                )
                continue
            if image is None:
                history = _describe_history(key, None)
                if history is not None:
                    message, remedy = history
                    f.warning(
                        "removed",
                        message,
                        model=model.name,
                        location=loc,
                        evidence=evidence,
                        remedy=REPLACEMENTS.get(key, remedy),
                        catalog_id="unknown-engine-arg",
                        fix=_drop_removed(model, key, value, known, Applicability.UNSAFE),
                    )
            self._value(key, value, model, f, evidence)

    @staticmethod
    def _value(key: str, value: Any, model: ModelFacts, f: FindingFactory, evidence: str) -> None:
        loc = model.json_location(key)
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if key == "gpu_memory_utilization":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 1:
                f.error(
                    "value",
                    f"gpu_memory_utilization is {json.dumps(value)}; it is a fraction in (0, 1] of "
                    "each GPU's total memory",
                    model=model.name,
                    location=loc,
                    evidence=evidence,
                    remedy='write "gpu_memory_utilization": 0.9 (less if other processes use the GPU)',
                    fix=_value_fix(model, key, value),
                )
        elif key in POSITIVE_INTS and value is not None:
            if not is_int or value < 1:
                f.error(
                    "value",
                    f"{key} is {json.dumps(value)}; it must be a positive integer",
                    model=model.name,
                    location=loc,
                    evidence=evidence,
                    remedy=f'write "{key}": {1 if key.endswith("_size") else 4096 if "len" in key else 1}',
                    fix=_value_fix(model, key, value),
                )
        elif key in BOOLS and not isinstance(value, bool) and not _string_true(value):
            truthy = "truthy" if value else "falsy"
            f.error(
                "value",
                f"{key} is {json.dumps(value)}, not true/false (a {type(value).__name__}, {truthy} in Python)",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy=f'write "{key}": {"true" if value in ("true", "True", 1) else "false"}',
                fix=_value_fix(model, key, value),
            )
        elif key == "dtype" and value not in DTYPES:
            f.error(
                "value",
                f"dtype is {json.dumps(value)}; vLLM accepts {', '.join(DTYPES)}",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy='write "dtype": "auto"',
            )
        elif (
            key in ("seed", "swap_space", "cpu_offload_gb")
            and value is not None
            and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0)
        ):
            f.error(
                "value",
                f"{key} is {json.dumps(value)}; it must be a number >= 0",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy=f'write "{key}": 0',
            )


def _string_true(value: Any) -> bool:
    """The string "true": vLLM reads it as true (a non-empty string), pydantic-validated configs parse it, and
    the backends of 24.05-24.09 require it for enable_lora (backend-features checks that one)."""
    return isinstance(value, str) and value.strip().lower() == "true"


#: A removed key whose successor exists in newer vLLM: ``old -> (new, value transform)``.
SUCCESSORS: dict[str, tuple[str, Callable[[bool], bool]]] = {
    "disable_log_requests": ("enable_log_requests", lambda v: not v)
}


def _drop_removed(
    model: ModelFacts,
    key: str,
    value: Any,
    known: frozenset[str] | set[str],
    applicability: Applicability = Applicability.SAFE,
) -> Fix | None:
    """Drop a removed key, or move its meaning to the successor the image's vLLM uses."""
    path = model_json_path(model)
    successor = SUCCESSORS.get(key)
    if successor is not None and isinstance(value, bool):
        new_key, transform = successor
        new_value = transform(value)
        if new_value and new_key in known:
            return Fix(
                description=f'replace "{key}": {json.dumps(value)} with "{new_key}": {json.dumps(new_value)}',
                applicability=applicability,
                edits=(DeleteJsonKey(path, key), SetJsonKey(path, new_key, json.dumps(new_value))),
            )
    return Fix(description=f'delete "{key}"', applicability=applicability, edits=(DeleteJsonKey(path, key),))


def _rename(model: ModelFacts, key: str, suggestion: str, args: dict[str, Any]) -> Fix | None:
    """Rename a misspelt key: safe when only dashes/case differ or the spelling is one letter off."""
    if suggestion in args:
        return None
    import difflib

    certain = key.replace("-", "_").lower() == suggestion or (
        difflib.SequenceMatcher(None, key, suggestion).ratio() >= 0.9
    )
    return Fix(
        description=f'rename "{key}" to "{suggestion}"',
        applicability=Applicability.SAFE if certain else Applicability.UNSAFE,
        edits=(RenameJsonKey(model_json_path(model), key, suggestion),),
    )


def _value_fix(model: ModelFacts, key: str, value: Any) -> Fix | None:
    """A value of the wrong type or scale, when the meant value is certain (else a judgement: unsafe)."""
    path = model_json_path(model)
    new: Any = None
    applicability = Applicability.SAFE
    if key == "gpu_memory_utilization":
        if isinstance(value, str):
            try:
                value = float(value.strip().rstrip("%")) / (100 if value.strip().endswith("%") else 1)
            except ValueError:
                return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if 1 < value <= 100:
                new = round(value / 100, 4)
            elif 0 < value <= 1:
                new = value
    elif key in BOOLS:
        lowered = str(value).strip().lower() if isinstance(value, (str, int)) else None
        if lowered in ("true", "1", "yes"):
            new = True
        elif lowered in ("false", "0", "no"):
            new = False
    elif key in POSITIVE_INTS:
        if (isinstance(value, str) and value.strip().isdigit() and int(value) > 0) or (
            isinstance(value, float) and value.is_integer() and value > 0
        ):
            new = int(value)
        elif key in ("tensor_parallel_size", "pipeline_parallel_size"):
            new, applicability = 1, Applicability.UNSAFE
    if new is None:
        return None
    return Fix(
        description=f'write "{key}": {json.dumps(new)}',
        applicability=applicability,
        edits=(SetJsonKey(path, key, json.dumps(new)),),
    )
