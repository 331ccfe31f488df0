"""docker-run-options and host-resources: read from the user's command and this host's real numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES, all_findings, run_cli
from tests.hubserver import HUGE, hub_server

REPO = FIXTURES / "repos" / "healthy-remote" / "model_repository"
IMAGE = "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3"


def _findings(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, dict[str, Any]]]:
    result = run_cli("check", *args, "--format", "json", env={"DOCKER_HOST": "unix:///nonexistent", **(env or {})})
    assert "Traceback" not in result.stderr
    return result.exit_code, {f["id"]: f for f in all_findings(result.json())}


def test_guide_command_as_written() -> None:
    command = (
        f"docker run --gpus all -d --rm -p 8000:8000 --mount type=bind,source={REPO},target=/models "
        f"--name triton_vllm_server {IMAGE} tritonserver --model-repository=/models"
    )
    code, found = _findings("--only", "docker-run-options", "--docker-command", command)
    assert code == 0
    assert found["docker-run-options[shm-size]"]["catalog_id"] == "shm-too-small-python-backend"
    assert found["docker-run-options[control-mode]"]["catalog_id"] == "server-exits-on-any-load-failure"
    assert found["docker-run-options[ulimits]"]["severity"] == "info"
    assert found["docker-run-options[rm]"]["severity"] == "info"


def test_missing_gpus_host_network_and_git_bash_path() -> None:
    command = (
        f"docker run --net=host -p 8000:8000 --shm-size=64m -v {REPO}:/models {IMAGE} tritonserver "
        '"--model-repository=C:/Program Files/Git/models" --model-control-mode=explicit'
    )
    code, found = _findings("--only", "docker-run-options", "--docker-command", command)
    assert code == 1
    assert found["docker-run-options[no-gpus]"]["catalog_id"] == "no-gpu-in-container"
    assert found["docker-run-options[host-network]"]["catalog_id"] == "host-network-on-docker-desktop"
    assert found["docker-run-options[msys-path]"]["catalog_id"] == "model-repo-not-found-in-container"
    assert "64.0 MiB" in found["docker-run-options[shm-size]"]["message"]


def test_tensor_parallel_needs_ipc_host_and_spawn(tmp_path: Path) -> None:
    repo = tmp_path / "model_repository"
    (repo / "m" / "1").mkdir(parents=True)
    (repo / "m" / "config.pbtxt").write_text('backend: "vllm"\n')
    (repo / "m" / "1" / "model.json").write_text(json.dumps({"model": "org/m", "tensor_parallel_size": 2}))
    command = f"docker run --gpus all --shm-size=1g -v {repo}:/models {IMAGE}"
    _, found = _findings("--only", "docker-run-options", "--docker-command", command)
    assert found["docker-run-options[ipc-host]"]["catalog_id"] == "nccl-shm-tensor-parallel"
    assert found["docker-run-options[spawn]"]["catalog_id"] == "cuda-reinit-in-forked-subprocess"


def test_host_ram_against_huge_local_weights(tmp_path: Path) -> None:
    local = tmp_path / "local_models" / "big"
    local.mkdir(parents=True)
    (local / "config.json").write_text("{}")
    with (local / "model.safetensors").open("wb") as handle:
        handle.truncate(4 * 1024**4)  # sparse: 4 TiB on paper, nothing on disk
    repo = tmp_path / "model_repository"
    (repo / "big" / "1").mkdir(parents=True)
    (repo / "big" / "config.pbtxt").write_text('backend: "vllm"\n')
    (repo / "big" / "1" / "model.json").write_text(json.dumps({"model": "/local_models/big"}))
    code, found = _findings(
        "--only", "host-resources", "--repo", str(repo), "--mount", f"{tmp_path / 'local_models'}:/local_models"
    )
    assert code == 0
    assert found["host-resources[ram]"]["catalog_id"] == "host-ram-oom-killed"
    assert "4.0 TiB" in found["host-resources[ram]"]["message"]


def test_hf_cache_disk_against_a_huge_hub_model(tmp_path: Path) -> None:
    repo = tmp_path / "model_repository"
    (repo / "huge" / "1").mkdir(parents=True)
    (repo / "huge" / "config.pbtxt").write_text('backend: "vllm"\n')
    (repo / "huge" / "1" / "model.json").write_text(json.dumps({"model": HUGE}))
    cache = tmp_path / "hf_cache"
    cache.mkdir()
    command = (
        f"docker run --gpus all -v {repo}:/models -v {cache}:/root/.cache/huggingface {IMAGE} "
        "tritonserver --model-repository=/models"
    )
    with hub_server() as hub:
        code, found = _findings(
            "--only",
            "host-resources",
            "--docker-command",
            command,
            env={"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "home")},
        )
    assert code == 1
    assert found["host-resources[disk]"]["catalog_id"] == "image-pull-no-space"
    assert str(cache) in found["host-resources[disk]"]["message"]
