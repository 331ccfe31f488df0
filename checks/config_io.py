"""``config-io``: declared inputs and outputs are the vLLM backend's names, types and optionality."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.permodel import per_model, require_config
from triton_doctor.repair.locate import config_fix, delete_every
from triton_doctor.results import Category, Outcome

#: name -> (data type, optional) as the vLLM backend's auto-complete declares them.
INPUTS: dict[str, tuple[str, bool]] = {
    "text_input": ("TYPE_STRING", False),
    "image": ("TYPE_STRING", True),
    "stream": ("TYPE_BOOL", True),
    "sampling_parameters": ("TYPE_STRING", True),
    "exclude_input_in_output": ("TYPE_BOOL", True),
    "return_finish_reason": ("TYPE_BOOL", True),
    "return_cumulative_logprob": ("TYPE_BOOL", True),
    "return_logprobs": ("TYPE_BOOL", True),
    "return_num_input_tokens": ("TYPE_BOOL", True),
    "return_num_output_tokens": ("TYPE_BOOL", True),
    "embedding_request": ("TYPE_STRING", True),
}
OUTPUTS: dict[str, str] = {
    "text_output": "TYPE_STRING",
    "finish_reason": "TYPE_STRING",
    "cumulative_logprob": "TYPE_FP32",
    "logprobs": "TYPE_STRING",
    "num_input_tokens": "TYPE_UINT32",
    "num_output_tokens": "TYPE_UINT32",
}


def _type_name(tensor: Any) -> str:
    enum = tensor.DESCRIPTOR.fields_by_name["data_type"].enum_type
    value = enum.values_by_number.get(tensor.data_type)
    return value.name if value is not None else str(tensor.data_type)


def _auto_complete_disabled(ctx: Context) -> bool:
    docker = ctx.target.docker
    if docker is None:
        return False
    return any(a in {"--disable-auto-complete-config", "--strict-model-config=true"} for a in docker.command)


class ConfigIo(Check):
    """Inputs and outputs the backend understands."""

    id = "config-io"
    title = "Inputs and outputs"
    category = Category.REPO
    requires = frozenset({"model-repository"})
    after = frozenset({"model-config", "config-batching"})
    explanation = (
        "The vLLM backend reads text_input (required) and the optional stream, sampling_parameters, "
        "exclude_input_in_output and return_* inputs, and writes text_output. Hand-written input/output "
        "blocks copied from old tutorials break requests: a non-optional 'stream' makes every request without "
        "it fail, a wrong type or an unknown required input makes the load or the requests fail. The safest "
        "config declares none and lets auto-complete add them."
    )
    sub_ids = {
        "unknown-input": "an input name the backend does not read",
        "unknown-output": "an output name the backend does not write",
        "wrong-type": "an input or output with another data type than the backend's",
        "not-optional": "an optional input of the backend declared as required",
        "duplicate": "the same input or output declared twice",
        "no-text-output": "outputs declared without text_output",
    }

    def run(self, ctx: Context) -> Outcome:
        strict = _auto_complete_disabled(ctx)
        return per_model(ctx, self.id, lambda m, f: self._evaluate(m, f, strict), ok="inputs and outputs match")

    def _evaluate(self, model: ModelFacts, f: FindingFactory, strict: bool) -> None:
        first = len(f.findings)
        self._declared(model, f, strict)
        if strict or len(f.findings) == first:
            return
        # One repair for every finding: drop the explicit blocks; the backend's auto-complete declares them.
        fix = config_fix(
            model,
            lambda t: delete_every(delete_every(t, "input"), "output"),
            "delete the explicit input/output blocks (the vLLM backend declares them itself)",
        )
        f.findings[first:] = [replace(x, fix=fix) for x in f.findings[first:]]

    def _declared(self, model: ModelFacts, f: FindingFactory, strict: bool) -> None:
        config: Any = require_config(model)
        seen: set[str] = set()
        for i, tensor in enumerate(config.input):
            loc = model.config_location("input", i, "name")
            if tensor.name in seen:
                f.error(
                    "duplicate",
                    f"input {tensor.name!r} is declared twice",
                    model=model.name,
                    location=loc,
                    remedy="delete the second declaration",
                )
            seen.add(tensor.name)
            dtype = _type_name(tensor)
            if tensor.name not in INPUTS:
                known = ", ".join(INPUTS)
                if tensor.optional:
                    f.warning(
                        "unknown-input",
                        f"input {tensor.name!r} is not read by the vLLM backend",
                        model=model.name,
                        location=loc,
                        evidence=f'name: "{tensor.name}"',
                        remedy=f"delete it; the backend reads: {known}",
                    )
                else:
                    f.error(
                        "unknown-input",
                        f"required input {tensor.name!r} is not read by the vLLM backend; every request "
                        "must still send it",
                        model=model.name,
                        location=loc,
                        evidence=f'name: "{tensor.name}"',
                        remedy=f"delete it; the backend reads: {known}",
                        catalog_id="stale-explicit-io-config",
                    )
                continue
            want_type, optional = INPUTS[tensor.name]
            if dtype != want_type:
                f.error(
                    "wrong-type",
                    f"input {tensor.name!r} has data_type {dtype}; the backend expects {want_type}",
                    model=model.name,
                    location=model.config_location("input", i, "data_type"),
                    evidence=f"data_type: {dtype}",
                    remedy=f"write data_type: {want_type}",
                    catalog_id="stale-explicit-io-config",
                )
            if optional and not tensor.optional:
                f.error(
                    "not-optional",
                    f"input {tensor.name!r} is not marked optional: requests without it fail with "
                    "'missing required input(s)'",
                    model=model.name,
                    location=loc,
                    evidence=f'name: "{tensor.name}" (no optional: true)',
                    remedy=f'add optional: true to the {tensor.name!r} input, e.g. {{ name: "{tensor.name}", '
                    f"data_type: {want_type}, dims: [ 1 ], optional: true }}",
                    catalog_id="stale-explicit-io-config",
                )
        seen.clear()
        for i, tensor in enumerate(config.output):
            loc = model.config_location("output", i, "name")
            if tensor.name in seen:
                f.error(
                    "duplicate",
                    f"output {tensor.name!r} is declared twice",
                    model=model.name,
                    location=loc,
                    remedy="delete the second declaration",
                )
            seen.add(tensor.name)
            dtype = _type_name(tensor)
            if tensor.name not in OUTPUTS:
                f.warning(
                    "unknown-output",
                    f"output {tensor.name!r} is never written by the vLLM backend",
                    model=model.name,
                    location=loc,
                    evidence=f'name: "{tensor.name}"',
                    remedy=f"delete it; the backend writes: {', '.join(OUTPUTS)}",
                )
            elif dtype != OUTPUTS[tensor.name]:
                f.error(
                    "wrong-type",
                    f"output {tensor.name!r} has data_type {dtype}; the backend writes {OUTPUTS[tensor.name]}",
                    model=model.name,
                    location=model.config_location("output", i, "data_type"),
                    evidence=f"data_type: {dtype}",
                    remedy=f"write data_type: {OUTPUTS[tensor.name]}",
                    catalog_id="stale-explicit-io-config",
                )
        if config.output and "text_output" not in seen:
            message = "outputs are declared but text_output is not"
            remedy = 'add { name: "text_output", data_type: TYPE_STRING, dims: [ -1 ] } to output'
            if strict:
                f.error(
                    "no-text-output",
                    message + " and auto-complete is disabled: the backend fails to start",
                    model=model.name,
                    location=model.config_location("output"),
                    remedy=remedy,
                    catalog_id="stale-explicit-io-config",
                )
            else:
                f.warning(
                    "no-text-output",
                    message + " (auto-complete adds it; it breaks with --disable-auto-complete-config)",
                    model=model.name,
                    location=model.config_location("output"),
                    remedy=remedy,
                )
