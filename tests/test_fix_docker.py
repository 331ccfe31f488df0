"""The container-name fix on the real daemon: a stopped container is removed (with --unsafe), a running one
never is (the fix only shows the command)."""

from __future__ import annotations

import contextlib
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, run_cli
from tests.dockerutil import TEST_LABEL, docker_client, sleep_image

HEALTHY = FIXTURES / "repos" / "healthy-local"


@pytest.fixture
def client() -> Any:
    return docker_client()


def _command(name: str, repo: Path) -> str:
    return (
        f"docker run --gpus all --name {name} -v {repo}:/models "
        "nvcr.io/nvidia/tritonserver:25.09-vllm-python-py3 tritonserver --model-repository=/models"
    )


def test_stopped_container_is_removed_running_one_is_not(client: Any, tmp_path: Path) -> None:
    import docker

    repo = tmp_path / "model_repository"
    shutil.copytree(HEALTHY / "model_repository", repo)

    image = sleep_image(client)
    stopped = client.containers.create(image, ["/bin/sleep", "120"], name=f"td_fix_{secrets.token_hex(4)}",
                                       labels={TEST_LABEL: "1"})  # fmt: skip
    running = client.containers.create(image, ["/bin/sleep", "120"], name=f"td_fix_{secrets.token_hex(4)}",
                                       labels={TEST_LABEL: "1"})  # fmt: skip
    try:
        running.start()
        args = ["--only", "docker-container-name", "--docker-command"]
        safe = run_cli("fix", "--yes", *args, _command(stopped.name, repo))
        assert "unsafe" in safe.stdout
        client.containers.get(stopped.id)  # still there without --unsafe
        result = run_cli("fix", "--yes", "--unsafe", *args, _command(stopped.name, repo))
        assert result.exit_code == 0, result.stdout + result.stderr
        with pytest.raises(docker.errors.NotFound):
            client.containers.get(stopped.id)
        shown = run_cli("fix", "--yes", "--unsafe", *args, _command(running.name, repo))
        assert f"docker stop {running.name} && docker rm {running.name}" in shown.stdout
        assert client.containers.get(running.id).status == "running"
    finally:
        for container in (stopped, running):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
