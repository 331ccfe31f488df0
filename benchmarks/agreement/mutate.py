"""Repository variants by mutation, around a healthy model of the tiny Llama (max_position_embeddings 512).

Each variant is ``{"name", "family", "what", "model_json": bytes, "checkpoint": bytes | None}``; a checkpoint
variant is a copy of the tiny Llama with its config.json replaced. Nothing here is judged: run.py asks the
real vLLM and the doctor.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

CONFIG_PBTXT = """\
name: "NAME"
backend: "vllm"
max_batch_size: 0
model_transaction_policy {
  decoupled: true
}
"""

BASE = {"model": "/local_models/tiny", "dtype": "float32", "max_model_len": 256, "enforce_eager": True}

TYPOS = [
    "max-model-len", "maxModelLen", "max_model_length", "gpu_mem_utilization", "gpu-memory-utilization",
    "tensor_parallel", "tp_size", "enforce_eager_mode", "enable_prefix_cache", "max_num_seq", "trust_remote",
    "dtypes", "block-size", "swap-space", "quantisation", "max_tokens", "temperature", "served_model", "modle",
    "Model", "disable-log-stats", "kv_cache_type", "seed_value", "max_batch_size", "num_gpus",
]  # fmt: skip
INT_KEYS = [
    "max_model_len", "max_num_seqs", "max_num_batched_tokens", "max_logprobs", "block_size", "max_loras",
    "max_lora_rank", "pipeline_parallel_size", "tensor_parallel_size",
]  # fmt: skip
INT_VALUES: list[Any] = [128, "128", 128.0, 0, -1, True, None, "", 1.5]
BOOL_KEYS = [
    "enforce_eager", "enable_prefix_caching", "disable_log_stats", "trust_remote_code", "enable_chunked_prefill",
    "skip_tokenizer_init", "disable_sliding_window", "disable_custom_all_reduce", "enable_lora",
]  # fmt: skip
BOOL_VALUES: list[Any] = [True, False, "true", "false", "True", "False", 1, 0, "yes", None]
GMU: list[Any] = [0.5, 1, 1.0, 1.5, 90, "0.9", 0, -0.1, "90%", None, True]
DTYPES: list[Any] = ["auto", "half", "float16", "bfloat16", "float32", "float", "fp16", "int8", "FLOAT32", 16]
SEEDS: list[Any] = [0, 42, -1, "42", 1.5, None]
LENGTHS = [1, 255, 256, 511, 512, 513, 1024, 4096]


def _name(family: str, what: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{family}-{what}".lower()).strip("-")[:90]


def _mj(args: dict[str, Any]) -> bytes:
    return (json.dumps(args, indent=2) + "\n").encode()


def variants(base: dict[str, Any]) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()

    def one(family: str, what: str, model_json: bytes, checkpoint: bytes | None = None) -> dict[str, Any]:
        name = _name(family, what)
        n = 2
        while name in seen:
            name, n = f"{_name(family, what)}-{n}", n + 1
        seen.add(name)
        return {"name": name, "family": family, "what": what, "model_json": model_json, "checkpoint": checkpoint}

    yield one("healthy", "base", _mj(BASE))
    for key in TYPOS:
        yield one("json-key-unknown", key, _mj({**BASE, key: 1}))
    for key in _dashed()[:80]:  # the 'vllm serve' flag spelling of a real engine argument
        yield one("json-key-dashed", key, _mj({**BASE, key: None}))
    for key in INT_KEYS:
        for value in INT_VALUES:
            yield one("json-int-type", f"{key}={json.dumps(value)}", _mj({**BASE, key: value}))
    for key in BOOL_KEYS:
        for value in BOOL_VALUES:
            yield one("json-bool-type", f"{key}={json.dumps(value)}", _mj({**BASE, key: value}))
    # keys some vLLM release of the images had and the newest the doctor knows (0.24.0) no longer has
    for key in _retired():
        yield one("json-key-retired", key, _mj({**BASE, key: None}))
    for value in GMU:
        yield one("json-gpu-memory-utilization", json.dumps(value), _mj({**BASE, "gpu_memory_utilization": value}))
    for value in DTYPES:
        yield one("json-dtype", json.dumps(value), _mj({**BASE, "dtype": value}))
    for value in SEEDS:
        yield one("json-seed", json.dumps(value), _mj({**BASE, "seed": value}))
    for length in LENGTHS:
        yield one("json-max-model-len", str(length), _mj({**BASE, "max_model_len": length}))
    # model values and path-valued arguments
    models: list[tuple[str, Any]] = [
        ("missing", None), ("empty", ""), ("int", 5), ("not-there", "/local_models/nope"), ("relative", "tiny"),
        ("windows", "C:\\models\\tiny"), ("outside-mounts", "/models2/tiny"),
    ]  # fmt: skip
    for what, value in models:
        args = {k: v for k, v in BASE.items() if k != "model"} if value is None else {**BASE, "model": value}
        yield one("json-model", what, _mj(args))
    for key in ("tokenizer", "download_dir"):
        for what, value in [("inside", "/local_models/tiny"), ("outside", "/tokenizers/tiny"),
                            ("missing-inside", "/local_models/no_such_dir")]:  # fmt: skip
            yield one("json-paths", f"{key}-{what}", _mj({**BASE, key: value}))
    # JSON syntax and encodings of model.json
    text = json.dumps(BASE, indent=2)
    syntax = {
        "trailing-comma": text.replace('"float32",', '"float32",,').replace("true\n}", "true,\n}"),
        "comment": text.replace("{\n", "{\n  // engine args\n", 1),
        "single-quotes": text.replace('"dtype"', "'dtype'"),
        "missing-comma": text.replace('"float32",', '"float32"'),
        "empty": "",
        "array": json.dumps([BASE]),
        "string": json.dumps("tiny"),
        "duplicate-key": text.replace("{\n", '{\n  "max_model_len": 1024,\n', 1),
        "nan": text.replace("256", "NaN"),
    }
    for what, body in syntax.items():
        yield one("json-syntax", what, (body + "\n").encode())
    yield one("json-encoding", "utf8-bom", b"\xef\xbb\xbf" + _mj(BASE))
    yield one("json-encoding", "utf16-bom", _mj(BASE).decode().encode("utf-16"))
    yield one(
        "json-encoding", "latin1-byte", _mj({**BASE, "served_model_name": "caf\u00e9"}).decode().encode("latin-1")
    )
    yield one("json-encoding", "crlf", _mj(BASE).replace(b"\n", b"\r\n"))
    # checkpoint config.json variants (the model points at its own copy of the tiny Llama)
    for what, config, lengths in _checkpoints(base):
        body = (json.dumps(config, indent=2) + "\n").encode() if not isinstance(config, bytes) else config
        for length in lengths:
            fam = "checkpoint-" + what.split(":")[0]
            item = one(fam, f"{what}-len{length}", b"", body)
            args = {**BASE, "model": f"/local_models/{item['name']}", "max_model_len": length}
            item["model_json"] = _mj(args)
            yield item


def _checkpoints(base: dict[str, Any]) -> Iterator[tuple[str, Any, list[int]]]:
    without = {k: v for k, v in base.items() if k != "max_position_embeddings"}
    yield "missing-key:max_position_embeddings", without, [256, 2048, 2049, 4096]
    for value in (128, 256, 1024, 2048, 8192, 32768):
        yield f"length:mpe{value}", {**base, "max_position_embeddings": value}, [256, 512, 1024, 8192, 8193]
    for rope, extra in [("linear", {}), ("dynamic", {}), ("yarn", {"original_max_position_embeddings": 256}),
                        ("llama3", {"low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                    "original_max_position_embeddings": 256})]:  # fmt: skip
        for factor in (2.0, 4.0, 8.0):
            scaling = {"rope_type": rope, "factor": factor, **extra}
            yield f"rope:{rope}-x{factor:g}", {**base, "rope_scaling": scaling}, [512, 1024, 2048, 2049]
    for window in (64, 128, 256):
        yield f"sliding-window:{window}", {**base, "sliding_window": window}, [128, 256, 512]
    yield "text-config:nested", {**without, "text_config": {"max_position_embeddings": 1024}}, [512, 1024, 1025]
    for arch in ("LlamaForCausalLm", "MyLlamaForCausalLM", "BertModel", "MistralForCausalLM"):
        yield f"architecture:{arch}", {**base, "architectures": [arch]}, [256]
    yield "architecture:missing", {k: v for k, v in base.items() if k != "architectures"}, [256]
    for model_type in ("mistral", "qwen2", "gemma", "llama4", "no_such_type"):
        yield f"model-type:{model_type}", {**base, "model_type": model_type}, [256]
    for dtype in ("bfloat16", "float16", "float32", "int8"):
        yield f"torch-dtype:{dtype}", {**base, "torch_dtype": dtype, "dtype": dtype}, [256]
    yield "encoding:bom", b"\xef\xbb\xbf" + (json.dumps(base, indent=2) + "\n").encode(), [256]
    yield "encoding:trailing-comma", (json.dumps(base, indent=2)[:-2] + ",\n}\n").encode(), [256]
    yield "heads:kv3", {**base, "num_key_value_heads": 3}, [256]
    yield "quantization:awq", {**base, "quantization_config": {"quant_method": "awq", "bits": 4}}, [256]


def _retired() -> list[str]:
    from triton_doctor.knowledge import known_engine_args

    return sorted(known_engine_args() - known_engine_args("0.24.0"))


def _dashed() -> list[str]:
    from triton_doctor.knowledge import known_engine_args

    return sorted(k.replace("_", "-") for k in known_engine_args("0.24.0") if "_" in k)
