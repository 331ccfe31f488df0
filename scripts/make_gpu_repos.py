"""Make model repositories for the GPU checks: tensor_parallel_size 1, 2, 4 x KIND_MODEL, KIND_GPU.

    python scripts/make_gpu_repos.py OUTDIR

OUTDIR/local_models/llama-3.1-8b-shape holds a config.json of Llama 3.1 8B's shape (32 layers, 8 KV heads,
head_dim 128, 131072 positions) and a *sparse* model.safetensors of the real model's bf16 size (16.06 GB:
the file takes no disk), so the memory estimate sees real numbers. OUTDIR/tp<N>-<kind>/model_repository/llama
is one repository per case. Used by the recorded-GPU tests and by the runs on GPU machines.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

WEIGHTS_BYTES = 16_060_522_496
CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "max_position_embeddings": 131072,
    "vocab_size": 128256,
    "torch_dtype": "bfloat16",
}
CASES = {f"tp{tp}-{kind.lower()}": (tp, kind) for tp in (1, 2, 4) for kind in ("MODEL", "GPU")}


def make(out: Path, max_model_len: int = 8192) -> dict[str, Path]:
    """Write the local model and every case; return ``{case: model_repository path}``."""
    weights = out / "local_models" / "llama-3.1-8b-shape"
    weights.mkdir(parents=True, exist_ok=True)
    (weights / "config.json").write_text(json.dumps(CONFIG, indent=2) + "\n")
    (weights / "tokenizer.json").write_text('{"version": "1.0"}\n')
    with (weights / "model.safetensors").open("wb") as handle:
        handle.truncate(WEIGHTS_BYTES)
    repos: dict[str, Path] = {}
    for name, (tp, kind) in CASES.items():
        model = out / name / "model_repository" / "llama"
        (model / "1").mkdir(parents=True, exist_ok=True)
        (model / "config.pbtxt").write_text(f'backend: "vllm"\ninstance_group [ {{ count: 1, kind: KIND_{kind} }} ]\n')
        (model / "1" / "model.json").write_text(
            json.dumps(
                {
                    "model": "/local_models/llama-3.1-8b-shape",
                    "tensor_parallel_size": tp,
                    "gpu_memory_utilization": 0.9,
                    "max_model_len": max_model_len,
                },
                indent=2,
            )
            + "\n"
        )
        repos[name] = model.parent
    return repos


if __name__ == "__main__":
    for case, path in make(Path(sys.argv[1])).items():
        print(case, path)
