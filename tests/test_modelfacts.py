"""Model facts and the checks built on them, on config.json files of real model families.

tests/data/checkpoints/*.json are the config.json files of public checkpoints (the keys that matter kept
verbatim): Llama 3.1 (llama3 rope scaling), the first Qwen-7B-Chat (custom code, ``seq_length`` 2048),
Gemma 2B (one KV head), Mistral 7B v0.1 (sliding window), Qwen2.5 7B with the YaRN block of its model card,
BGE base (an embedding model), Command-R (``model_max_length``), an AWQ Llama 2 and Falcon Mamba (registered
from vLLM 0.7.0). Each test writes a repository of the guide's local shape around one of them and runs the
real CLI; Hub ids go through tests/hubserver.py (the Hub's protocol on 127.0.0.1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.generate import LOCAL_CONFIG, _safetensors
from tests.conftest import all_findings, run_cli
from tests.hubserver import CUSTOM, EMBEDDER, GATED, LONG_CONTEXT, NO_TOKENIZER, hub_server
from triton_doctor.facts.checkpoint import checkpoint_from, derive_max_len
from triton_doctor.knowledge.models import releases

DATA = Path(__file__).parent / "data"
CHECKPOINTS = DATA / "checkpoints"
V100 = DATA / "nvml" / "synthetic-v100-16gb-driver535.json"
H100 = DATA / "nvml" / "h100-80gb-driver580.json"


def family(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CHECKPOINTS / f"{name}.json").read_text())
    return data


def write_model(root: Path, name: str, source: str, args: dict[str, Any] | None = None) -> None:
    """A Triton model ``name`` whose model.json names ``source`` (a family under /local_models, or a Hub id)."""
    model = root / "model_repository" / name
    (model / "1").mkdir(parents=True)
    (model / "config.pbtxt").write_text(LOCAL_CONFIG.replace('"gemma_local"', f'"{name}"'))
    value = source if "/" in source else f"/local_models/{source}"
    body = {"model": value, **(args or {})}
    (model / "1" / "model.json").write_text(json.dumps(body, indent=2) + "\n")
    if "/" in source:
        return
    weights = root / "local_models" / source
    if weights.exists():
        return
    weights.mkdir(parents=True)
    (weights / "config.json").write_text(json.dumps(family(source), indent=2) + "\n")
    (weights / "tokenizer.json").write_text('{"version": "1.0"}\n')
    (weights / "model.safetensors").write_bytes(_safetensors())


def check(
    root: Path, *extra: str, image: str | None = "25.06", env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    args = ["check", "--only", "repo", "--repo", str(root / "model_repository"), "--format", "json"]
    if (root / "local_models").exists():
        args += ["--mount", f"{root / 'local_models'}:/local_models"]
    if image:
        args += ["--image", f"nvcr.io/nvidia/tritonserver:{image}-vllm-python-py3"]
    result = run_cli(*args, *extra, env=env)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.json()


def problems(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in all_findings(report) if f["severity"] != "info"}


# -- the derivation, release by release ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "limit", "key"),
    [
        ("llama-3.1-8b-instruct", "0.9.2", 131072, "max_position_embeddings"),
        ("qwen-7b-chat", "0.9.2", 2048, "seq_length"),
        ("qwen-7b-chat", "0.4.0.post1", 2048, "seq_length"),
        ("gemma-2b-it", "0.11.0", 8192, "max_position_embeddings"),
        ("mistral-7b-v0.1", "0.9.2", 32768, "max_position_embeddings"),
        ("qwen2.5-7b-instruct-yarn", "0.9.2", 131072, "max_position_embeddings x rope_scaling.factor"),
        ("bge-base-en-v1.5", "0.9.2", 512, "max_position_embeddings"),
        # model_max_length replaces the smallest key from 0.8.4 on (Command-R); before it is one of the keys.
        ("c4ai-command-r-v01", "0.8.1", 8192, "max_position_embeddings"),
        ("c4ai-command-r-v01", "0.8.4", 131072, "model_max_length"),
        ("c4ai-command-r-v01", "0.24.0", 131072, "model_max_length"),
        ("falcon-mamba-7b", "0.9.2", 2048, "default"),
    ],
)
def test_derived_max_len_as_vllm_computes_it(name: str, version: str, limit: int, key: str) -> None:
    derived = derive_max_len(family(name), releases()[version].max_len)
    assert (derived.value, derived.key) == (limit, key)


def test_sliding_window_and_tokenizer_caps() -> None:
    mistral = family("mistral-7b-v0.1")
    rules = releases()["0.9.2"].max_len
    assert derive_max_len(mistral, rules, disable_sliding_window=True).value == 4096
    assert derive_max_len(mistral, rules, tokenizer_max_length=16384).value == 16384
    # The tokenizer cap arrived with vLLM 0.9.2: 0.8.4 ignores tokenizer_config.json.
    assert derive_max_len(mistral, releases()["0.8.4"].max_len, tokenizer_max_length=16384).value == 32768


# -- local checkpoints through the CLI ----------------------------------------------------------------


def test_seq_length_limits_max_model_len(tmp_path: Path) -> None:
    write_model(tmp_path, "qwen", "qwen-7b-chat", {"max_model_len": 4096, "trust_remote_code": True})
    code, report = check(tmp_path, "--offline")
    found = problems(report)
    assert code == 1 and set(found) == {"max-model-len[exceeds]"}
    hit = found["max-model-len[exceeds]"]
    assert "4096" in hit["message"] and "2048" in hit["message"] and "seq_length" in hit["message"]
    assert hit["location"]["line"] == 3 and hit["location"]["path"].endswith("qwen/1/model.json")
    assert "seq_length=2048" in hit["evidence"] and hit["remedy"] == 'write "max_model_len": 2048 (or less)'
    assert hit["catalog_id"] == "max-model-len-exceeds-model"


def test_rope_scaling_raises_the_limit(tmp_path: Path) -> None:
    write_model(tmp_path, "qwen25", "qwen2.5-7b-instruct-yarn", {"max_model_len": 131072})
    write_model(tmp_path, "over", "qwen2.5-7b-instruct-yarn", {"max_model_len": 131073})
    _code, report = check(tmp_path, "--offline")
    hits = [f for f in all_findings(report) if f["id"] == "max-model-len[exceeds]"]
    assert [h["model"] for h in hits] == ["over"] and "131072" in hits[0]["message"]


@pytest.mark.parametrize(
    ("checkpoint", "tp", "sub", "choices"),
    [
        ("llama-3.1-8b-instruct", 3, "tp-heads", "1, 2, 4, 8, 16"),
        # 28 heads divide by 7, the 4 KV heads do not (and 7 is no multiple of 4).
        ("qwen2.5-7b-instruct-yarn", 7, "tp-kv-heads", "1, 2, 4"),
    ],
)
def test_tensor_parallel_vs_heads(tmp_path: Path, checkpoint: str, tp: int, sub: str, choices: str) -> None:
    write_model(tmp_path, "m", checkpoint, {"tensor_parallel_size": tp})
    code, report = check(tmp_path, "--offline")
    hit = problems(report)[f"model-checkpoint[{sub}]"]
    assert code == 1 and hit["catalog_id"] == "tp-not-divisible"
    assert hit["location"]["line"] == 3 and f'"tensor_parallel_size": {tp}' in hit["evidence"]
    assert hit["remedy"] == f'write "tensor_parallel_size": one of {choices}'


def test_one_kv_head_is_replicated(tmp_path: Path) -> None:
    write_model(tmp_path, "gemma", "gemma-2b-it", {"tensor_parallel_size": 4})
    _code, report = check(tmp_path, "--offline")
    assert not [f for f in problems(report) if f.startswith("model-checkpoint")]


def test_custom_code_needs_trust_remote_code(tmp_path: Path) -> None:
    write_model(tmp_path, "qwen", "qwen-7b-chat")
    code, report = check(tmp_path, "--offline")
    hit = problems(report)["model-checkpoint[remote-code]"]
    assert code == 1 and hit["catalog_id"] == "trust-remote-code-required"
    assert "auto_map" in hit["evidence"] and '"trust_remote_code": true' in hit["remedy"]


def test_embedding_model_on_the_generation_backend(tmp_path: Path) -> None:
    write_model(tmp_path, "embed", "bge-base-en-v1.5")
    code, report = check(tmp_path, "--offline")
    hit = problems(report)["model-checkpoint[pooling]"]
    assert code == 1 and hit["catalog_id"] == "unsupported-architecture"
    assert "BertModel" in hit["message"] and hit["location"]["path"].endswith("bge-base-en-v1.5/config.json")
    assert hit["location"]["line"] == 2


def test_architecture_newer_than_the_image(tmp_path: Path) -> None:
    write_model(tmp_path, "mamba", "falcon-mamba-7b")
    code, report = check(tmp_path, "--offline", image="24.12")
    hit = problems(report)["model-checkpoint[unregistered]"]
    assert code == 1 and "supported from vLLM 0.7.0 / image 25.02" in hit["message"]
    assert "25.02" in hit["remedy"]
    code, report = check(tmp_path, "--offline", image="25.02")
    assert "model-checkpoint[unregistered]" not in problems(report)


def test_healthy_families_are_clean(tmp_path: Path) -> None:
    write_model(tmp_path, "llama", "llama-3.1-8b-instruct", {"max_model_len": 8192})
    write_model(tmp_path, "gemma", "gemma-2b-it", {"tensor_parallel_size": 2})
    # tensor_parallel_size 2 is healthy only with KIND_MODEL: with no instance_group Triton gives the backend
    # KIND_GPU, which it refuses for a split model (config-instance-group[kind-gpu-multi-gpu], issue 23).
    gemma = tmp_path / "model_repository" / "gemma" / "config.pbtxt"
    gemma.write_text(gemma.read_text() + "instance_group [ { count: 1, kind: KIND_MODEL } ]\n")
    write_model(tmp_path, "mistral", "mistral-7b-v0.1", {"max_model_len": 32768})
    write_model(tmp_path, "cmdr", "c4ai-command-r-v01", {"max_model_len": 131072})
    code, report = check(tmp_path, "--offline", image="25.10")
    assert code == 0, problems(report)


# -- repository-wide ----------------------------------------------------------------------------------


def test_hf_snapshot_inside_the_repository(tmp_path: Path) -> None:
    write_model(tmp_path, "llama", "llama-3.1-8b-instruct")
    snapshot = tmp_path / "model_repository" / "Llama-3.1-8B-Instruct"
    snapshot.mkdir()
    (snapshot / "config.json").write_text(json.dumps(family("llama-3.1-8b-instruct")))
    (snapshot / "model-00001-of-00004.safetensors").write_bytes(_safetensors())
    code, report = check(tmp_path, "--offline")
    hit = problems(report)["repository-contents[not-a-model]"]
    assert code == 1 and "Hugging Face model snapshot" in hit["message"]
    assert hit["catalog_id"] == "server-exits-on-any-load-failure" and "local_models" in hit["remedy"]
    # With explicit model control and only the real model loaded, the snapshot is never loaded.
    command = (
        "docker run --gpus all -v $PWD/model_repository:/models nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 "
        "tritonserver --model-repository=/models --model-control-mode=explicit --load-model=llama"
    )
    code, report = check(tmp_path, "--offline", "--docker-command", command, image=None)
    assert "repository-contents[not-a-model]" not in problems(report)


def test_duplicate_model_names_across_repositories(tmp_path: Path) -> None:
    write_model(tmp_path, "llama", "llama-3.1-8b-instruct")
    other = tmp_path / "more_models" / "llama"
    (other / "1").mkdir(parents=True)
    (other / "config.pbtxt").write_text(LOCAL_CONFIG.replace('"gemma_local"', '"llama"'))
    command = (
        f"docker run --gpus all -v {tmp_path / 'model_repository'}:/models -v {tmp_path / 'more_models'}:/more "
        f"-v {tmp_path / 'local_models'}:/local_models nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 "
        "tritonserver --model-repository=/models --model-repository=/more"
    )
    result = run_cli("check", "--only", "repo", "--offline", "--docker-command", command, "--format", "json")
    hit = problems(result.json())["repository-contents[duplicate-name]"]
    assert result.exit_code == 1 and "/models and /more" in hit["message"]


def share(root: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """``check --only gpu-share`` on the repository under ``root``: offline, no GPU facts needed."""
    args = ["check", "--only", "gpu-share", "--repo", str(root / "model_repository"), "--format", "json"]
    result = run_cli(*args, "--mount", f"{root / 'local_models'}:/local_models", "--offline", *extra, env=env)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.json()


def explicit(root: Path, *models: str, mode: str = "explicit") -> tuple[str, str]:
    loads = "".join(f" --load-model={m}" for m in models)
    return "--docker-command", (
        f"docker run --gpus all -v {root / 'model_repository'}:/models -v {root / 'local_models'}:/local_models "
        "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver --model-repository=/models "
        f"--model-control-mode={mode}{loads}"
    )


def test_utilization_of_models_loaded_together_offline(tmp_path: Path) -> None:
    write_model(tmp_path, "llama", "llama-3.1-8b-instruct", {"gpu_memory_utilization": 0.9, "max_model_len": 4096})
    write_model(tmp_path, "gemma", "gemma-2b-it", {"max_model_len": 4096})  # vLLM's default: 0.9
    # No NVML facts at all, and the command loads both: an error naming each model.json's key.
    code, report = share(tmp_path, *explicit(tmp_path, "llama", "gemma"))
    hit = problems(report)["gpu-share[oversubscribed]"]
    assert code == 1 and hit["severity"] == "error" and "1.80" in hit["message"] and "GPU 0" in hit["message"]
    assert hit["catalog_id"] == "free-memory-below-utilization"
    assert "llama/1/model.json:3" in hit["evidence"] and "gemma: 0.9" in hit["evidence"]
    assert '"gpu_memory_utilization": 0.45' in hit["remedy"] and "--load-model=" in hit["remedy"]
    # The default control mode loads every model: the same.
    code, report = share(tmp_path, *explicit(tmp_path, mode="none"))
    assert code == 1 and "gpu-share[oversubscribed]" in problems(report)
    # No command: every model is assumed to load (a warning, saying so).
    code, report = share(tmp_path)
    hit = problems(report)["gpu-share[oversubscribed]"]
    assert code == 0 and hit["severity"] == "warning" and "no command given" in hit["message"]
    # One model per server (explicit, one --load-model), or --model: nothing shared.
    for extra in (explicit(tmp_path, "llama"), ("--model", "llama")):
        code, report = share(tmp_path, *extra)
        assert code == 0 and "gpu-share[oversubscribed]" not in problems(report)


def test_utilization_that_fits_or_lands_on_other_gpus(tmp_path: Path) -> None:
    write_model(tmp_path, "llama", "llama-3.1-8b-instruct", {"gpu_memory_utilization": 0.5})
    write_model(tmp_path, "gemma", "gemma-2b-it", {"gpu_memory_utilization": 0.45})
    code, report = share(tmp_path, *explicit(tmp_path, "llama", "gemma"))
    assert code == 0 and not problems(report)
    # 0.9 each, but KIND_GPU pins gemma to GPU 1: the vLLM backend sets CUDA_VISIBLE_DEVICES to its device.
    (tmp_path / "model_repository" / "gemma" / "1" / "model.json").write_text(
        json.dumps({"model": "/local_models/gemma-2b-it", "gpu_memory_utilization": 0.9})
    )
    config = tmp_path / "model_repository" / "gemma" / "config.pbtxt"
    config.write_text(config.read_text() + "instance_group [ { count: 1, kind: KIND_GPU, gpus: [ 1 ] } ]\n")
    code, report = share(tmp_path, *explicit(tmp_path, "llama", "gemma"))
    assert code == 0 and not problems(report)
    # KIND_MODEL with tensor_parallel_size 2 uses GPUs 0 and 1: it meets gemma on GPU 1. (With no
    # instance_group Triton would give it KIND_GPU, which the backend refuses for tensor_parallel_size 2.)
    (tmp_path / "model_repository" / "llama" / "1" / "model.json").write_text(
        json.dumps({"model": "/local_models/llama-3.1-8b-instruct", "tensor_parallel_size": 2})
    )
    llama = tmp_path / "model_repository" / "llama" / "config.pbtxt"
    llama.write_text(llama.read_text() + "instance_group [ { count: 1, kind: KIND_MODEL } ]\n")
    code, report = share(tmp_path, *explicit(tmp_path, "llama", "gemma"))
    hit = problems(report)["gpu-share[oversubscribed]"]
    assert code == 1 and "GPU 1" in hit["message"] and "KIND_GPU on device 1" in hit["evidence"]


def test_samples_run_one_model_per_server() -> None:
    """The shipped samples follow the guide (one model per server); a command that loads both is found."""
    for sample in ((), ("guide",)):
        result = run_cli("check", "--sample", *sample, "--only", "gpu-share", "--format", "json")
        assert result.exit_code == 0 and not problems(result.json())
    command = (
        "docker run --gpus all -v $PWD/model_repository:/models nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 "
        "tritonserver --model-repository=/models"
    )
    result = run_cli("check", "--sample", "guide", "--only", "gpu-share", "--docker-command", command)
    assert result.exit_code == 1 and "1.80 (> 1)" in result.stderr


def test_dtype_and_quantization_vs_an_old_gpu(tmp_path: Path) -> None:
    write_model(tmp_path, "awq", "llama-2-7b-awq")
    write_model(tmp_path, "llama", "llama-3.1-8b-instruct", {"max_model_len": 4096})
    args = ["check", "--only", "gpu-capability", "--repo", str(tmp_path / "model_repository"), "--format", "json"]
    args += ["--mount", f"{tmp_path / 'local_models'}:/local_models", "--offline"]
    args += ["--image", "nvcr.io/nvidia/tritonserver:24.08-vllm-python-py3"]
    result = run_cli(*args, env={"TRITON_DOCTOR_NVML_REPLAY": str(V100)})
    found = [f for f in all_findings(result.json()) if f["severity"] == "error"]
    quant = next(f for f in found if f["id"] == "gpu-capability[quantization]")
    assert quant["model"] == "awq" and "awq" in quant["message"] and "7.5" in quant["message"]
    assert quant["location"]["path"].endswith("llama-2-7b-awq/config.json")
    assert any(f["id"] == "gpu-capability[bf16]" and f["model"] == "llama" for f in found)


# -- Hub ids through the local Hub server ---------------------------------------------------------------


@pytest.fixture
def hub(tmp_path: Path) -> Any:
    with hub_server() as state:
        yield state, {"HF_ENDPOINT": state.url, "HF_HUB_CACHE": str(tmp_path / "hf"), "HF_TOKEN": ""}


def test_hub_models_are_checked_like_local_ones(tmp_path: Path, hub: Any) -> None:
    state, env = hub
    write_model(tmp_path, "short", LONG_CONTEXT, {"max_model_len": 4096})
    write_model(tmp_path, "embed", EMBEDDER)
    write_model(tmp_path, "custom", CUSTOM)
    code, report = check(tmp_path, env=env)
    found = problems(report)
    assert code == 1
    exceeds = found["max-model-len[exceeds]"]
    assert exceeds["model"] == "short" and "seq_length" in exceeds["message"] and "2048" in exceeds["message"]
    assert exceeds["evidence"].startswith(f'"max_model_len": 4096; {LONG_CONTEXT}/config.json (Hub)')
    assert found["model-checkpoint[pooling]"]["model"] == "embed"
    assert found["model-checkpoint[remote-code]"]["model"] == "custom"
    assert f"GET /{LONG_CONTEXT}/resolve/main/config.json" in state.requests, state.requests
    # Cached: --offline reads the same facts without the server.
    state.requests.clear()
    code, report = check(tmp_path, "--offline", env=env)
    assert "max-model-len[exceeds]" in problems(report) and not any("resolve" in r for r in state.requests)


def test_hub_model_without_tokenizer_files(tmp_path: Path, hub: Any) -> None:
    """The Hub's file list (model info siblings) says whether the repository has a tokenizer."""
    state, env = hub
    write_model(tmp_path, "bare", NO_TOKENIZER)
    write_model(tmp_path, "short", LONG_CONTEXT)
    code, report = check(tmp_path, env=env)
    hit = problems(report)["model-checkpoint[no-tokenizer]"]
    assert code == 0 and hit["severity"] == "warning" and hit["model"] == "bare"
    assert f"{NO_TOKENIZER} has no tokenizer files (tokenizer.json, tokenizer.model" in hit["message"]
    assert hit["location"]["path"].endswith("bare/1/model.json") and hit["location"]["line"] == 2
    assert '"tokenizer"' in hit["remedy"]
    assert f"GET /api/models/{NO_TOKENIZER}" in state.requests, state.requests
    assert [f for f in all_findings(report) if f["id"] == "model-checkpoint[no-tokenizer]"] == [hit]
    # "tokenizer" in model.json names another repository: nothing to report.
    (tmp_path / "model_repository" / "bare" / "1" / "model.json").write_text(
        json.dumps({"model": NO_TOKENIZER, "tokenizer": LONG_CONTEXT})
    )
    code, report = check(tmp_path, env=env)
    assert "model-checkpoint[no-tokenizer]" not in problems(report)
    (tmp_path / "model_repository" / "bare" / "1" / "model.json").write_text(json.dumps({"model": NO_TOKENIZER}))
    # --offline and the quick profile make no Hub call: the file list is unknown, nothing is claimed.
    for extra in (("--offline",), ("--profile", "quick")):
        state.requests.clear()
        code, report = check(tmp_path, *extra, env=env)
        assert "model-checkpoint[no-tokenizer]" not in problems(report)
        assert not any(r.startswith("GET /api/") for r in state.requests), (extra, state.requests)


def test_gated_hub_model_uses_the_token(tmp_path: Path, hub: Any) -> None:
    _state, env = hub
    write_model(tmp_path, "gemma", GATED, {"tensor_parallel_size": 3})
    _code, report = check(tmp_path, env=env)
    (result,) = [c for c in report["checks"] if c["check"] == "model-checkpoint"]
    assert result["status"] == "skip" and "gated" in result["skip_reason"]
    _code, report = check(tmp_path, env={**env, "HF_TOKEN": "hf_readergranted0000000000000000000"})
    hit = problems(report)["model-checkpoint[tp-heads]"]
    assert "8 attention heads" in hit["message"] and hit["remedy"].endswith("one of 1, 2, 4, 8")


def test_weights_larger_than_the_gpu_name_a_split_that_fits(tmp_path: Path) -> None:
    """Llama 3.1 8B (16 GB of bf16 weights, sparse on disk) on one 16 GB GPU: no `"tensor_parallel_size": 1`."""
    from scripts.make_gpu_repos import make

    repo = make(tmp_path)["tp1-model"]
    args = ["check", "--only", "gpu-memory", "--repo", str(repo), "--format", "json", "--offline"]
    args += ["--mount", f"{tmp_path / 'local_models'}:/local_models"]
    result = run_cli(*args, env={"TRITON_DOCTOR_NVML_REPLAY": str(V100)})
    hit = problems(result.json())["gpu-memory[weights-too-large]"]
    assert '"tensor_parallel_size": 1' not in hit["remedy"]
    assert hit["remedy"].startswith("use a quantized or smaller model: it needs 2 GPUs of this size")
    (summary,) = [c["summary"] for c in result.json()["checks"] if c["check"] == "gpu-memory"]
    assert "fits" not in summary and "llama: 1 error" in summary


def test_embedding_model_on_an_image_older_than_its_registration(tmp_path: Path) -> None:
    write_model(tmp_path, "embed", "bge-base-en-v1.5")
    _code, report = check(tmp_path, "--offline", image="24.08")
    hit = problems(report)["model-checkpoint[pooling]"]
    assert "BertModel" in hit["message"] and "not registered at all in vLLM 0.5.0.post1" in hit["message"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
_KEYS = st.sampled_from(
    [
        "max_position_embeddings", "seq_length", "model_max_length", "rope_scaling", "sliding_window",
        "text_config", "num_attention_heads", "num_key_value_heads", "architectures", "auto_map",
        "quantization_config", "model_type",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_KEYS, _JSON | st.dictionaries(st.sampled_from(["factor", "type", "rope_type"]), _JSON)))
def test_any_config_json_gives_facts_or_nothing(config: dict[str, Any]) -> None:
    """Whatever a config.json holds, reading it never raises (a bad file is a finding, not a traceback)."""
    from triton_doctor.facts.repository import JsonDoc

    cp = checkpoint_from(
        "/m", "local", JsonDoc(path=Path("config.json"), display="config.json", exists=True, data=config)
    )
    assert cp is not None
    for release in releases().values():
        cp.max_len(release.max_len, disable_sliding_window=True)
        cp.is_pooling(release)


def test_hf_cache_layout_inside_the_repository(tmp_path: Path) -> None:
    """A whole HF cache entry (models--org--name with blobs/refs/snapshots) copied into the repository."""
    write_model(tmp_path, "llama", "llama-3.1-8b-instruct")
    for sub in ("blobs", "refs", "snapshots/0123"):
        (tmp_path / "model_repository" / "models--meta-llama--Llama-3.1-8B-Instruct" / sub).mkdir(parents=True)
    _code, report = check(tmp_path, "--offline")
    hit = problems(report)["repository-contents[not-a-model]"]
    assert hit["model"] == "models--meta-llama--Llama-3.1-8B-Instruct" and "snapshot" in hit["message"]


def test_architecture_removed_from_a_newer_image(tmp_path: Path) -> None:
    """The first Qwen (QWenLMHeadModel) left vLLM: the newest image refuses it and names the last that had it."""
    write_model(tmp_path, "qwen", "qwen-7b-chat", {"trust_remote_code": True})
    code, report = check(tmp_path, "--offline", image="26.07")
    hit = problems(report)["model-checkpoint[unregistered]"]
    assert code == 1 and "vLLM removed it; the last image with it is 26.05 (vLLM 0.19.0)" in hit["message"]
    code, report = check(tmp_path, "--offline", image="26.05")
    assert "model-checkpoint[unregistered]" not in problems(report)
