"""``triton-doctor command`` defaults: the image from the user's command or the newest native tag for the
driver (said which), the HF cache volume for Hub models, ``--name triton_vllm_server``, and a warning with
exit 1 when the repository has no model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import run_cli
from triton_doctor.app import sample_paths
from triton_doctor.facts.placement import newest_tags
from triton_doctor.probes.nvml_probe import GpuFacts

H100 = Path(__file__).parent / "data" / "nvml" / "h100-80gb-driver580.json"


def _project(tmp_path: Path) -> Path:
    shutil.copytree(sample_paths()[0], tmp_path / "model_repository")
    return tmp_path


def test_hub_model_gets_a_cache_volume_and_the_guides_name(tmp_path: Path) -> None:
    _project(tmp_path)
    result = run_cli(
        "command", "--model", "gemma", "--shell", "bash", "--shell", "compose", "--no-client", cwd=tmp_path
    )
    assert result.exit_code == 0, result.stderr
    assert "--name triton_vllm_server" in result.stdout
    assert "--mount type=volume,source=triton_hf_cache,target=/root/.cache/huggingface" in result.stdout
    assert "\nvolumes:\n  triton_hf_cache: {}\n" in result.stdout
    assert "note: --name triton_vllm_server: docker logs triton_vllm_server shows its log" in result.stderr
    assert "kept across --rm restarts" in result.stderr


def test_local_model_needs_no_cache_volume(tmp_path: Path) -> None:
    _project(tmp_path)
    local = sample_paths()[1]
    result = run_cli(
        "command", "--model", "gemma_local", "--mount", f"{local}:/local_models", "--shell", "bash", "--no-client",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "triton_hf_cache" not in result.stdout


def test_image_comes_from_the_users_command_and_the_name_is_kept(tmp_path: Path) -> None:
    project = _project(tmp_path)
    command = (
        f"docker run --gpus all --name my_triton -v {project}/model_repository:/models "
        "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver --model-repository=/models --load-model=gemma"
    )
    result = run_cli("command", "--docker-command", command, "--shell", "bash", "--no-client", cwd=tmp_path)
    assert "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 \\" in result.stdout
    assert "--name my_triton" in result.stdout and "triton_vllm_server" not in result.stdout
    assert "note: image nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3: from your command" in result.stderr


def test_image_is_the_newest_native_tag_for_the_driver(tmp_path: Path) -> None:
    _project(tmp_path)
    native, _ = newest_tags(GpuFacts.from_json(json.loads(H100.read_text())))
    assert native is not None
    result = run_cli(
        "command", "--model", "gemma", "--shell", "bash", "--no-client", cwd=tmp_path,
        env={"TRITON_DOCTOR_NVML_REPLAY": str(H100)},
    )  # fmt: skip
    image = f"nvcr.io/nvidia/tritonserver:{native}-vllm-python-py3"
    assert f"  {image} \\" in result.stdout
    assert f"note: image {image}: the newest this host's driver 580.159.04 (CUDA 13.0) runs natively" in result.stderr


def test_without_a_driver_the_default_image_is_named_as_such(tmp_path: Path) -> None:
    _project(tmp_path)
    result = run_cli(
        "command", "--model", "gemma", "--shell", "bash", "--no-client", cwd=tmp_path,
        env={"TRITON_DOCTOR_NVML_REPLAY": str(tmp_path / "none.json")},
    )  # fmt: skip
    assert "the default (no image in your command" in result.stderr and "pass --image" in result.stderr


def test_empty_folder_warns_and_exits_1(tmp_path: Path) -> None:
    result = run_cli("command", "--shell", "bash", "--no-client", cwd=tmp_path)
    assert result.exit_code == 1
    assert "warning: no model in model_repository: this command would load nothing" in result.stderr
    assert "--load-model" not in result.stdout
