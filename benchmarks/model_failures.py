"""Detection rate on broken repositories made from model families the tests do not use.

    python benchmarks/model_failures.py [seed] [count]

Draws ``count`` repositories (default 60): a real model family's config.json (below, from public
checkpoints: GPT-2, Falcon 7B, ChatGLM2, MPT, Phi-3 128K, Mixtral, Qwen1.5 MoE, Yi 200K, E5-Mistral,
DeepSeek-Coder, StarCoder2, Qwen3) and one failure drawn at random with random values (a tensor parallel size that
does not divide, a max_model_len above the derived limit, a missing trust_remote_code, an embedding model,
an architecture newer than an older image, a Hugging Face snapshot in the repository, two models oversubscribing
one GPU). Runs the real CLI (``check --only repo,gpu`` with an H100 NVML replay) and prints how many were
reported with the expected finding, plus the healthy control's false alarms and the time per repository.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from fixtures.generate import LOCAL_CONFIG, _safetensors
from triton_doctor.cli import cli
from triton_doctor.facts.checkpoint import derive_max_len
from triton_doctor.knowledge.models import releases

H100 = Path(__file__).resolve().parent.parent / "tests" / "data" / "nvml" / "h100-80gb-driver580.json"

FAMILIES: dict[str, dict[str, Any]] = {
    "gpt2": {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 768, "n_head": 12,
             "n_layer": 12, "n_positions": 1024, "vocab_size": 50257},
    "falcon-7b": {"architectures": ["FalconForCausalLM"], "model_type": "falcon", "hidden_size": 4544,
                  "num_attention_heads": 71, "num_hidden_layers": 32, "multi_query": True, "vocab_size": 65024,
                  "torch_dtype": "bfloat16"},
    "chatglm2-6b": {"architectures": ["ChatGLMModel"], "model_type": "chatglm",
                    "auto_map": {"AutoConfig": "configuration_chatglm.ChatGLMConfig",
                                 "AutoModel": "modeling_chatglm.ChatGLMForConditionalGeneration"},
                    "hidden_size": 4096, "num_attention_heads": 32, "multi_query_group_num": 2,
                    "num_layers": 28, "seq_length": 32768, "padded_vocab_size": 65024, "torch_dtype": "float16"},
    "mpt-7b": {"architectures": ["MPTForCausalLM"], "model_type": "mpt", "d_model": 4096, "n_heads": 32,
               "n_layers": 32, "max_seq_len": 2048, "vocab_size": 50432, "torch_dtype": "bfloat16"},
    "phi-3-mini-128k": {"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "hidden_size": 3072,
                        "num_attention_heads": 32, "num_key_value_heads": 32, "num_hidden_layers": 32,
                        "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
                        "rope_scaling": {"type": "longrope", "long_factor": [1.0], "short_factor": [1.0]},
                        "sliding_window": 262144, "vocab_size": 32064, "torch_dtype": "bfloat16"},
    "mixtral-8x7b": {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": 4096,
                     "num_attention_heads": 32, "num_key_value_heads": 8, "num_hidden_layers": 32,
                     "max_position_embeddings": 32768, "vocab_size": 32000, "torch_dtype": "bfloat16"},
    "qwen1.5-moe": {"architectures": ["Qwen2MoeForCausalLM"], "model_type": "qwen2_moe", "hidden_size": 2048,
                    "num_attention_heads": 16, "num_key_value_heads": 16, "num_hidden_layers": 24,
                    "max_position_embeddings": 8192, "vocab_size": 151936, "torch_dtype": "bfloat16"},
    "yi-6b-200k": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
                   "num_attention_heads": 32, "num_key_value_heads": 4, "num_hidden_layers": 32,
                   "max_position_embeddings": 200000, "vocab_size": 64000, "torch_dtype": "bfloat16"},
    "e5-mistral-7b": {"architectures": ["MistralModel"], "model_type": "mistral", "hidden_size": 4096,
                      "num_attention_heads": 32, "num_key_value_heads": 8, "num_hidden_layers": 32,
                      "max_position_embeddings": 32768, "vocab_size": 32000, "torch_dtype": "float16"},
    "deepseek-coder-6.7b": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
                            "num_attention_heads": 32, "num_key_value_heads": 32, "num_hidden_layers": 32,
                            "max_position_embeddings": 16384,
                            "rope_scaling": {"factor": 4.0, "type": "linear"}, "vocab_size": 32256,
                            "torch_dtype": "bfloat16"},
    "starcoder2-7b": {"architectures": ["Starcoder2ForCausalLM"], "model_type": "starcoder2", "hidden_size": 4608,
                      "num_attention_heads": 36, "num_key_value_heads": 4, "num_hidden_layers": 32,
                      "max_position_embeddings": 16384, "sliding_window": 4096, "vocab_size": 49152,
                      "torch_dtype": "bfloat16"},
    "qwen3-8b": {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 4096,
                 "num_attention_heads": 32, "num_key_value_heads": 8, "num_hidden_layers": 36, "head_dim": 128,
                 "max_position_embeddings": 40960, "vocab_size": 151936, "torch_dtype": "bfloat16"},
}  # fmt: skip
GENERATORS = [name for name, c in FAMILIES.items() if c["architectures"][0] not in {"MistralModel", "Qwen3ForCausalLM"}]
IMAGE = "25.06"


def write(root: Path, name: str, family: str, args: dict[str, Any]) -> None:
    model = root / "model_repository" / name
    (model / "1").mkdir(parents=True)
    (model / "config.pbtxt").write_text(LOCAL_CONFIG.replace('"gemma_local"', f'"{name}"'))
    (model / "1" / "model.json").write_text(json.dumps({"model": f"/local_models/{family}", **args}, indent=2))
    weights = root / "local_models" / family
    if not weights.exists():
        weights.mkdir(parents=True)
        (weights / "config.json").write_text(json.dumps(FAMILIES[family], indent=2))
        (weights / "tokenizer.json").write_text("{}")
        (weights / "model.safetensors").write_bytes(_safetensors())


def base_args(family: str) -> dict[str, Any]:
    args: dict[str, Any] = {"gpu_memory_utilization": 0.9, "max_model_len": min(2048, limit(family))}
    if FAMILIES[family].get("auto_map"):
        args["trust_remote_code"] = True
    return args


def limit(family: str) -> int:
    return derive_max_len(FAMILIES[family], releases()["0.9.0rc1"].max_len).value


def make_case(rng: random.Random, root: Path) -> tuple[str, str]:
    """One broken repository; returns (failure kind, the finding id that must be reported)."""
    kind = rng.choice(["tp", "max-len", "remote-code", "pooling", "newer-arch", "snapshot", "oversubscribed"])
    family = rng.choice(GENERATORS)
    args = base_args(family)
    expected = {
        "tp": "model-checkpoint[tp-heads]",
        "max-len": "max-model-len[exceeds]",
        "remote-code": "model-checkpoint[remote-code]",
        "pooling": "model-checkpoint[pooling]",
        "newer-arch": "model-checkpoint[unregistered]",
        "snapshot": "repository-contents[not-a-model]",
        "oversubscribed": "gpu-share[oversubscribed]",
    }[kind]
    if kind == "tp":
        heads = FAMILIES[family].get("num_attention_heads") or FAMILIES[family].get("n_head") or 32
        args["tensor_parallel_size"] = rng.choice([t for t in (3, 5, 6, 7) if heads % t])
    elif kind == "max-len":
        args["max_model_len"] = limit(family) + rng.choice([1, 256, 4096, limit(family)])
    elif kind == "remote-code":
        family = "chatglm2-6b"
        args = {"gpu_memory_utilization": 0.9}
    elif kind == "pooling":
        family = "e5-mistral-7b"
    elif kind == "newer-arch":
        family = "qwen3-8b"  # registered from vLLM 0.8.4 (image 25.05); the case runs image 25.04
    write(root, "model", family, args)
    if kind == "snapshot":
        snap = root / "model_repository" / f"{family}-snapshot"
        snap.mkdir()
        (snap / "config.json").write_text(json.dumps(FAMILIES[family]))
        (snap / "model.safetensors").write_bytes(_safetensors())
    elif kind == "oversubscribed":
        write(root, "second", rng.choice(GENERATORS), {**base_args(family), "gpu_memory_utilization": 0.6})
    return kind, expected


def run(root: Path, image: str) -> set[str]:
    args = ["check", "--only", "repo,gpu", "--offline", "--format", "json", "--repo", str(root / "model_repository")]
    args += ["--mount", f"{root / 'local_models'}:/local_models"]
    args += ["--image", f"nvcr.io/nvidia/tritonserver:{image}-vllm-python-py3"]
    result = CliRunner().invoke(
        cli,
        args,
        env={"NO_COLOR": "1", "TRITON_DOCTOR_NVML_REPLAY": str(H100)},
        catch_exceptions=False,
    )
    report = json.loads(result.stdout)
    return {f["id"] for c in report["checks"] for f in c["findings"] if f["severity"] != "info"}


def main() -> None:
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    found: dict[str, list[bool]] = {}
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            root = Path(tmp) / f"case{i}"
            kind, expected = make_case(rng, root)
            start = time.perf_counter()
            ids = run(root, "25.04" if kind == "newer-arch" else IMAGE)
            times.append(time.perf_counter() - start)
            found.setdefault(kind, []).append(expected in ids)
        alarms = 0
        for family in GENERATORS:
            root = Path(tmp) / f"healthy-{family}"
            write(root, "model", family, base_args(family))
            ids = run(root, "26.07")
            watched = ("model-checkpoint", "max-model-len", "repository", "gpu-share")
            alarms += bool({i for i in ids if i.startswith(watched)})
    hits = sum(sum(v) for v in found.values())
    for kind, results in sorted(found.items()):
        print(f"{kind:15} {sum(results)}/{len(results)}")
    print(f"reported: {hits}/{count} = {100 * hits / count:.0f} %")
    print(f"false alarms on {len(GENERATORS)} healthy families: {alarms}")
    print(f"median {statistics.median(times) * 1000:.0f} ms per repository (check --only repo,gpu, in-process)")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
