"""Golden text output of the guide's five common faults ("Частые проблемы и решения", plus GPU memory).

Each case builds the fault in a temporary project, runs the doctor as a user would (checks narrowed with
--only to the facts this machine can give: no Docker, no GPU, the Hub served on 127.0.0.1), and compares the
text report with tests/data/golden/NAME.txt after replacing the temporary paths. Every line must be
specific: no remedy holds a placeholder the doctor could have filled, no "?" for an unknown value.

Regenerate after a deliberate change: TRITON_DOCTOR_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.hubserver import GATED, HubState, hub_server
from triton_doctor.app import sample_paths

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "data" / "golden"
IMAGE = "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3"
H100 = Path(__file__).parent / "data" / "nvml" / "h100-80gb-driver580.json"
# A placeholder the user would have to fill: <model>, <container>, <image>, <host model_repository> ...
PLACEHOLDER = re.compile(r"<[a-z][a-z _-]*>")


@pytest.fixture(scope="module")
def hub() -> Iterator[HubState]:
    with hub_server() as state:
        yield state


def _project(tmp_path: Path) -> Path:
    """The guide's project folder: model_repository/gemma (the Hub model) as the sample ships it."""
    project = tmp_path / "triton_project"
    shutil.copytree(sample_paths()[0], project / "model_repository")
    shutil.rmtree(project / "model_repository" / "gemma_local", ignore_errors=True)
    return project


def _command(project: Path, source: str = "model_repository", extra: str = "") -> str:
    """The guide's docker run, in bash, with the project's paths."""
    return (
        f"docker run --gpus all -d --shm-size=1g -p 8000:8000 -e HF_TOKEN {extra}"
        f"--mount type=bind,source={project}/{source},target=/models --name triton_vllm_server "
        f"{IMAGE} tritonserver --model-repository=/models --model-control-mode=explicit --load-model=gemma"
    )


def missing_bind_path(tmp_path: Path, hub: HubState) -> tuple[list[str], dict[str, str]]:
    """1. 'path does not exist': the bind source is mistyped."""
    project = _project(tmp_path)
    command = _command(project, source="model_repositry")
    return ["check", "--only", "mount-sources,mount-coverage,model-repository", "--offline",
            "--docker-command", command], {}  # fmt: skip


def container_dies_at_once(tmp_path: Path, hub: HubState) -> tuple[list[str], dict[str, str]]:
    """2. The container stops at once: its log (docker logs, once --rm is gone) read by the doctor."""
    log = tmp_path / "triton_project" / "server.log"
    log.parent.mkdir(parents=True)
    shutil.copy(ROOT / "fixtures" / "logs" / "server-exits-on-any-load-failure.log", log)
    return ["logs", str(log)], {}


def gated_model_401(tmp_path: Path, hub: HubState) -> tuple[list[str], dict[str, str]]:
    """3. '401 Client Error': a gated model and no token in the container."""
    project = _project(tmp_path)
    model_json = project / "model_repository" / "gemma" / "1" / "model.json"
    model_json.write_text(model_json.read_text().replace("google/gemma-3-1b-it", GATED))
    command = _command(project).replace("-e HF_TOKEN ", "")
    env = {"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf_home"), "HF_TOKEN": "", "HF_HUB_OFFLINE": "0"}
    return ["check", "--only", "hf", "--docker-command", command], env


def repository_wont_load(tmp_path: Path, hub: HubState) -> tuple[list[str], dict[str, str]]:
    """4. The model does not load: the folder layout and config as people first write them."""
    project = _project(tmp_path)
    model = project / "model_repository" / "gemma"
    (model / "1").rename(model / "v1")
    config = model / "config.pbtxt"
    config.write_text(config.read_text().replace("max_batch_size: 0", "max_batch_size: 256"))
    return ["check", "--only", "repo", "--offline", "--docker-command", _command(project)], {}


def gpu_memory(tmp_path: Path, hub: HubState) -> tuple[list[str], dict[str, str]]:
    """5. GPU memory: a 35B checkpoint on one H100 (recorded NVML values)."""
    project = _project(tmp_path)
    local = project / "local_models" / "c4ai-command-r-v01"
    local.mkdir(parents=True)
    shutil.copy(Path(__file__).parent / "data" / "checkpoints" / "c4ai-command-r-v01.json", local / "config.json")
    (local / "tokenizer.json").write_text('{"version": "1.0"}')
    with (local / "model.safetensors").open("wb") as weights:
        weights.truncate(75 * 2**30)  # sparse: the size of the real weights, no bytes on disk
    (project / "model_repository" / "gemma" / "1" / "model.json").write_text(
        '{"model": "/local_models/c4ai-command-r-v01", "gpu_memory_utilization": 0.9}\n'
    )
    command = _command(project, extra=f"--mount type=bind,source={project}/local_models,target=/local_models ")
    return ["check", "--only", "gpu-memory", "--offline", "--docker-command", command], {
        "TRITON_DOCTOR_NVML_REPLAY": str(H100)
    }


CASES: dict[str, Callable[[Path, HubState], tuple[list[str], dict[str, str]]]] = {
    "missing-bind-path": missing_bind_path,
    "container-dies-at-once": container_dies_at_once,
    "gated-model-401": gated_model_401,
    "repository-wont-load": repository_wont_load,
    "gpu-memory": gpu_memory,
}


def _normalise(text: str, tmp_path: Path, hub: HubState) -> str:
    return text.replace(str(tmp_path), "$TMP").replace(hub.url, "$HUB")


@pytest.mark.parametrize("name", list(CASES))
def test_golden_output(name: str, tmp_path: Path, hub: HubState) -> None:
    args, env = CASES[name](tmp_path, hub)
    result = run_cli(*args, env=env, cwd=tmp_path / "triton_project")
    assert "Traceback" not in result.stderr
    assert result.exit_code == 1, result.stderr
    text = _normalise(result.stderr, tmp_path, hub)
    golden = GOLDEN / f"{name}.txt"
    if os.environ.get("TRITON_DOCTOR_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    # Every remedy can be pasted as is, every line is specific.
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("→"):
            assert not PLACEHOLDER.search(stripped), f"{name}: placeholder in remedy: {stripped}"
        assert not re.search(r"(?<![\w'\"])\?(?![\w'\"])", stripped.replace("did you mean", "")), (
            f"{name}: an unknown value shown as '?': {stripped}"
        )
