"""GPU checks on values recorded from real machines (an H100, two H200s), plus NVML absent on this one.

The recordings in tests/data/nvml/ were written by scripts/gpu_run.sh on the device machines (see the
issue notes); they are replayed through the real CLI with TRITON_DOCTOR_NVML_REPLAY.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts.make_gpu_repos import make
from tests.conftest import all_findings, run_cli

DATA = Path(__file__).parent / "data" / "nvml"
H100 = DATA / "h100-80gb-driver580.json"
H200X2 = DATA / "2x-h200-driver580.json"


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make(tmp_path_factory.mktemp("gpu"))


def _check(
    repos: dict[str, Path],
    case: str,
    recording: Path,
    *extra: str,
    image: str = "25.06",
    checks: str = "gpu,config-instance-group",
) -> tuple[int, dict[str, Any]]:
    repo = repos[case]
    local = repo.parent.parent / "local_models"
    result = run_cli(
        "check",
        "--only",
        checks,
        "--repo",
        str(repo),
        "--mount",
        f"{local}:/local_models",
        "--image",
        f"nvcr.io/nvidia/tritonserver:{image}-vllm-python-py3",
        "--format",
        "json",
        *extra,
        env={"TRITON_DOCTOR_NVML_REPLAY": str(recording)},
    )
    assert "Traceback" not in result.stderr
    return result.exit_code, result.json()


def _by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in all_findings(report)}


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["check"]: c["status"] for c in report["checks"]}


def test_recordings_are_real_machines() -> None:
    h100 = json.loads(H100.read_text())
    assert h100["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3" and h100["driver_version"] == "580.159.04"
    h200 = json.loads(H200X2.read_text())
    assert [g["name"] for g in h200["gpus"]] == ["NVIDIA H200", "NVIDIA H200"]
    assert h200["cuda_driver_version"] == 13000


@pytest.mark.parametrize(
    ("case", "code", "statuses"),
    [
        ("tp1-model", 0, {"gpu-tensor-parallel": "pass", "gpu-memory": "pass", "config-instance-group": "pass"}),
        ("tp1-gpu", 0, {"gpu-tensor-parallel": "pass", "gpu-memory": "pass", "config-instance-group": "pass"}),
        ("tp2-model", 0, {"gpu-tensor-parallel": "pass", "gpu-memory": "pass", "config-instance-group": "pass"}),
        ("tp2-gpu", 1, {"gpu-tensor-parallel": "pass", "gpu-memory": "pass", "config-instance-group": "fail"}),
        ("tp4-model", 1, {"gpu-tensor-parallel": "fail", "gpu-memory": "skip", "config-instance-group": "pass"}),
        ("tp4-gpu", 1, {"gpu-tensor-parallel": "fail", "gpu-memory": "skip", "config-instance-group": "fail"}),
    ],
)
def test_two_h200(repos: dict[str, Path], case: str, code: int, statuses: dict[str, str]) -> None:
    exit_code, report = _check(repos, case, H200X2)
    got = _statuses(report)
    assert {k: got[k] for k in statuses} == statuses
    assert got["gpu-nvml"] == "pass" and got["gpu-driver"] == "pass" and got["gpu-capability"] == "pass"
    assert exit_code == code
    found = _by_id(report)
    if case.startswith("tp4"):
        assert found["gpu-tensor-parallel[too-few-gpus]"]["message"] == (
            "tensor_parallel_size x pipeline_parallel_size = 4 needs 4 GPUs; the container gets 2"
        )
    if case == "tp1-gpu":
        assert "= 2 vLLM engines" in found["gpu-tensor-parallel[engines]"]["message"]
    if case == "tp2-model":
        assert "weights 7.5 GiB" in found["gpu-memory[estimate]"]["message"]
        assert "budget 0.9 x 140.4 GiB = 126.4 GiB" in found["gpu-memory[estimate]"]["message"]
    if case.endswith("-gpu") and case != "tp1-gpu":
        assert found["config-instance-group[kind-gpu-multi-gpu]"]["catalog_id"] == "kind-gpu-with-multi-gpu"


def test_h100_single_gpu(repos: dict[str, Path]) -> None:
    code, report = _check(repos, "tp1-model", H100)
    assert code == 0
    assert "budget 0.9 x 79.6 GiB = 71.7 GiB" in _by_id(report)["gpu-memory[estimate]"]["message"]
    code, report = _check(repos, "tp2-model", H100)
    assert code == 1
    assert _by_id(report)["gpu-tensor-parallel[too-few-gpus]"]["message"].endswith("the container gets 1")


@pytest.mark.parametrize(
    ("tag", "verdict"), [("25.06", "native"), ("25.08", "native"), ("25.12", "minor-compat"), ("26.07", "minor-compat")]
)
def test_driver_580_against_image_tags(repos: dict[str, Path], tag: str, verdict: str) -> None:
    _, report = _check(repos, "tp1-model", H100, image=tag, checks="gpu-driver")
    result = next(c for c in report["checks"] if c["check"] == "gpu-driver")
    assert result["summary"].endswith(f": {verdict}")
    assert "newest tag it runs natively 25.11" in _by_id(report)["gpu-driver[newest]"]["message"]
    if verdict == "minor-compat":
        assert _by_id(report)["gpu-driver[minor-compat]"]["catalog_id"] == "ptx-unsupported-toolchain"


def _recording(tmp: Path, base: Path, **changes: Any) -> Path:
    data = json.loads(base.read_text())
    for gpu in data["gpus"]:
        gpu.update(changes.get("gpu", {}))
    data.update({k: v for k, v in changes.items() if k != "gpu"})
    out = tmp / "recording.json"
    out.write_text(json.dumps(data))
    return out


def test_old_driver_fails_with_the_newest_usable_tag(repos: dict[str, Path], tmp_path: Path) -> None:
    old = _recording(tmp_path, H100, driver_version="535.161.08", cuda_driver_version=12020)
    code, report = _check(repos, "tp1-model", old, image="25.08", checks="gpu-driver")
    found = _by_id(report)["gpu-driver[too-old]"]
    assert code == 1 and found["catalog_id"] == "driver-too-old-requirement"
    assert "use image 25.07" in found["remedy"]


def test_busy_gpu_and_kv_cache_too_small(repos: dict[str, Path], tmp_path: Path) -> None:
    busy = _recording(tmp_path, H100, gpu={"memory_free": 20 * 1024**3, "memory_used": 60 * 1024**3})
    code, report = _check(repos, "tp1-model", busy, checks="gpu-memory")
    assert code == 1 and _by_id(report)["gpu-memory[busy-gpu]"]["catalog_id"] == "free-memory-below-utilization"
    model_json = repos["tp1-model"] / "llama" / "1" / "model.json"
    original = model_json.read_text()
    try:
        model_json.write_text(
            json.dumps(
                {"model": "/local_models/llama-3.1-8b-shape", "gpu_memory_utilization": 0.3, "max_model_len": 131072}
            )
        )
        code, report = _check(repos, "tp1-model", H100, checks="gpu-memory")
    finally:
        model_json.write_text(original)
    found = _by_id(report)["gpu-memory[kv-too-small]"]
    assert code == 1 and found["catalog_id"] == "kv-cache-too-small-for-max-len"
    assert '"max_model_len": ' in found["remedy"] and "estimate" in found["message"]


def test_bf16_on_turing(repos: dict[str, Path], tmp_path: Path) -> None:
    t4 = _recording(
        tmp_path,
        H100,
        gpu={
            "name": "Tesla T4",
            "compute_capability": [7, 5],
            "memory_total": 16 * 1024**3,
            "memory_free": 15 * 1024**3,
        },
    )
    code, report = _check(repos, "tp1-model", t4, checks="gpu-capability")
    found = _by_id(report)["gpu-capability[bf16]"]
    assert code == 1 and found["catalog_id"] == "bf16-on-pre-ampere" and '"dtype": "half"' in found["remedy"]


def test_broken_recording_is_a_finding(repos: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, report = _check(repos, "tp1-model", bad, checks="gpu")
    assert code == 1 and "TRITON_DOCTOR_NVML_REPLAY" in _by_id(report)["gpu-nvml[other]"]["evidence"]


def _nvml_present() -> bool:
    try:
        import pynvml

        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
        return True
    except Exception:
        return False


@pytest.mark.skipif(_nvml_present(), reason="this machine has NVML")
def test_no_nvml_here_is_a_clean_failure(repos: dict[str, Path]) -> None:
    repo = repos["tp1-model"]
    result = run_cli("check", "--only", "gpu", "--repo", str(repo), "--format", "json")
    report = result.json()
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert _by_id(report)["gpu-nvml[library-missing]"]["catalog_id"] in {"nvml-library-missing", "wsl-no-gpu-adapter"}
    assert {c["check"]: c["status"] for c in report["checks"]}["gpu-memory"] == "skip"


@pytest.mark.skipif(not _nvml_present(), reason="no NVML on this machine (CI has no GPU)")
def test_real_nvml(repos: dict[str, Path]) -> None:
    result = run_cli("check", "--only", "gpu-nvml", "--repo", str(repos["tp1-model"]), "--format", "json")
    assert result.exit_code == 0


def test_safetensors_fixture_is_sparse(repos: dict[str, Path]) -> None:
    weights = repos["tp1-model"].parent.parent / "local_models" / "llama-3.1-8b-shape" / "model.safetensors"
    assert weights.stat().st_size == 16_060_522_496
    assert weights.stat().st_blocks * 512 < 1024 * 1024
