"""Docker and mount checks against the real daemon that .ci/run starts (Debian's dockerd 20.10)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, all_findings, run_cli
from tests.dockerutil import TEST_LABEL, docker_client, free_ports, running_container
from triton_doctor.probes.docker_probe import PROBE_LABEL

HEALTHY = FIXTURES / "repos" / "healthy-local"
IMAGE = "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    client = docker_client()
    yield client
    leftovers = client.api.containers(all=True, filters={"label": PROBE_LABEL})
    client.close()
    assert leftovers == [], "triton-doctor left containers behind"


def _command(
    *mounts: str,
    extra: str = "",
    name: str = "triton_doctor_test_server",
    ports: str | None = None,
) -> str:
    if ports is None:
        http, grpc, metrics = free_ports(3)
        ports = f"-p {http}:8000 -p {grpc}:8001 -p {metrics}:8002"
    mount_args = " ".join(f"--mount type=bind,source={m.split(':')[0]},target={m.split(':')[1]}" for m in mounts)
    return (
        f"docker run --gpus all -d --shm-size=1g {ports} {mount_args} --name {name} {extra} {IMAGE} "
        "tritonserver --model-repository=/models --model-control-mode=explicit --load-model=gemma_local"
    )


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    result = run_cli(*args, "--format", "json", env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result.exit_code, result.json(), result.stderr


def _findings(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in all_findings(report)}


def _status(report: dict[str, Any]) -> dict[str, str]:
    return {c["check"]: c["status"] for c in report["checks"]}


def test_real_version_and_engine(client: Any) -> None:
    version = client.version()["Version"]
    code, report, _ = _run("check", "--only", "docker-version")
    found = _findings(report)
    assert found["docker-version[engine]"]["message"].startswith(f"Docker Engine {version}")
    if version.startswith("20.10"):
        assert found["docker-version[older-than-guide]"]["severity"] == "warning"
        assert code == 0


def test_healthy_command_mounts_pass(client: Any) -> None:
    command = _command(f"{HEALTHY}/model_repository:/models", f"{HEALTHY}/local_models:/local_models")
    code, report, _ = _run("check", "--only", "mounts", "--docker-command", command)
    assert _status(report) == {
        "mount-sources": "pass",
        "mount-coverage": "pass",
        "mount-daemon-view": "pass",
        "docker-daemon": "pass",
    }
    seen = [f["message"] for f in all_findings(report) if f["id"] == "mount-daemon-view[seen]"]
    assert any(m.startswith("/models: 1 entries (gemma_local)") for m in seen), seen
    assert code == 0


def test_broken_command_mount_problems(client: Any, tmp_path: Path) -> None:
    missing = tmp_path / "not_there"
    command = _command(f"{missing}:/models", f"{HEALTHY}/local_models:/local_models")
    command = command.replace("--model-repository=/models", "--model-repository=/model_repo")
    code, report, _ = _run(
        "check", "--only", "mounts", "--repo", str(HEALTHY / "model_repository"), "--docker-command", command
    )
    found = _findings(report)
    assert code == 1
    assert found["mount-sources[missing]"]["catalog_id"] == "bind-source-missing"
    rejected = found["mount-daemon-view[rejected]"]
    assert rejected["catalog_id"] == "bind-source-missing"
    assert f"bind source path does not exist: {missing}" in rejected["message"]
    assert found["mount-coverage[not-mounted]"]["catalog_id"] == "model-repo-not-found-in-container"


def test_container_name_conflict(client: Any) -> None:
    with running_container(client, name="triton_doctor_test_conflict"):
        command = _command(f"{HEALTHY}/model_repository:/models", name="triton_doctor_test_conflict")
        code, report, _ = _run("check", "--only", "docker-container-name", "--docker-command", command)
    found = _findings(report)["docker-container-name[in-use]"]
    assert code == 1 and "triton_doctor_test_conflict" in found["message"]
    assert "docker stop triton_doctor_test_conflict" in found["remedy"]


def test_port_held_by_a_container(client: Any) -> None:
    (port,) = free_ports(1)
    with running_container(client, name="triton_doctor_test_port", ports={"8000/tcp": port}):
        command = _command(f"{HEALTHY}/model_repository:/models", ports=f"-p {port}:8000")
        code, report, _ = _run("check", "--only", "docker-ports", "--docker-command", command)
    found = _findings(report)["docker-ports[in-use]"]
    assert code == 1 and found["catalog_id"] == "port-in-use"
    assert f"host port {port} (HTTP) is held by container triton_doctor_test_port" in found["message"]


def test_port_held_by_a_process() -> None:
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code, report, _ = _run(
            "check", "--only", "docker-ports", "--docker-command", f"docker run -p {port}:8000 {IMAGE}"
        )
    found = _findings(report)["docker-ports[in-use]"]
    assert code == 1 and f"host port {port} (HTTP) is held by process python" in found["message"]


def test_gpu_runtime_missing_and_live_probe(client: Any) -> None:
    code, report, _ = _run("check", "--only", "docker-gpu-runtime", "--live")
    found = _findings(report)
    if "nvidia" in client.info().get("Runtimes", {}):
        pytest.skip("this daemon has the NVIDIA runtime")
    assert code == 1
    assert found["docker-gpu-runtime[missing]"]["catalog_id"] == "docker-gpu-runtime-missing"
    live = found["docker-gpu-runtime[live-failed]"]
    assert live["catalog_id"] == "docker-gpu-runtime-missing"
    assert 'could not select device driver "" with capabilities: [[gpu]]' in live["evidence"]


def test_no_containers_left_behind(client: Any) -> None:
    assert client.api.containers(all=True, filters={"label": PROBE_LABEL}) == []
    assert client.api.containers(all=True, filters={"label": TEST_LABEL}) == []


# -- the daemon absent, refusing or slow: findings, never tracebacks ------------------------------------


def test_daemon_socket_missing() -> None:
    code, report, _ = _run("check", "--only", "docker", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    found = _findings(report)
    assert code == 1
    assert found["docker-daemon[socket-missing]"]["message"] == "no Docker daemon at unix:///nonexistent/docker.sock"
    statuses = _status(report)
    assert statuses["docker-version"] == "skip" and statuses["docker-gpu-runtime"] == "skip"


def test_daemon_refuses() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connections are refused
        code, report, _ = _run("check", "--only", "docker-daemon", env={"DOCKER_HOST": f"tcp://127.0.0.1:{port}"})
    assert code == 1 and "docker-daemon[refused]" in _findings(report)


@pytest.fixture
def silent_daemon() -> Iterator[str]:
    """A TCP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_daemon_too_slow(silent_daemon: str) -> None:
    code, report, _ = _run(
        "check", "--only", "docker-daemon", env={"DOCKER_HOST": silent_daemon, "TRITON_DOCTOR_DOCKER_TIMEOUT": "1"}
    )
    assert code == 1 and "docker-daemon[timeout]" in _findings(report)


def test_plain_check_on_broken_guide_command(client: Any, tmp_path: Path) -> None:
    """The issue's bar: version gap, missing GPU and runtime, every mount problem, with catalog ids; exit 1."""
    missing = tmp_path / "triton_project" / "local_models"
    http, grpc, metrics = free_ports(3)
    command = (
        f"docker run --gpus all -d --rm -p {http}:8000 -p {grpc}:8001 -p {metrics}:8002 "
        f"--mount type=bind,source={HEALTHY}/model_repository,target=/models "
        f"--mount type=bind,source={missing},target=/local_models "
        "--mount type=bind,source=relative/dir,target=/extra "
        "--mount type=volume,source=triton_hf_cache,target=/root/.cache/huggingface "
        f"--name triton_doctor_test_guide {IMAGE} tritonserver --model-repository=/models "
        "--model-control-mode=explicit --load-model=gemma_local"
    )
    code, report, stderr = _run("check", "--offline", "--docker-command", command)
    found = _findings(report)
    assert code == 1
    if client.version()["Version"].startswith("20.10"):
        assert "docker-version[older-than-guide]" in found
    assert found["gpu-nvml[library-missing]"]["catalog_id"] in {"nvml-library-missing", "wsl-no-gpu-adapter"}
    assert found["docker-gpu-runtime[missing]"]["catalog_id"] == "docker-gpu-runtime-missing"
    assert found["mount-sources[missing]"]["catalog_id"] == "bind-source-missing"
    assert found["mount-sources[relative]"]["catalog_id"] == "bind-source-missing"
    assert found["mount-daemon-view[rejected]"]["catalog_id"] == "bind-source-missing"
    assert found["model-source[missing]"]["catalog_id"] == "local-model-path-not-mounted"
    assert found["docker-run-options[shm-size]"]["catalog_id"] == "shm-too-small-python-backend"
    assert "[✗] Bind-mount sources" in stderr


def test_image_present_absent_and_not_vllm(client: Any) -> None:
    from triton_doctor.probes.docker_probe import PROBE_IMAGE, DockerProbe

    probe = DockerProbe()
    probe.ensure_probe_image()
    try:  # the probe removes the image it imported when it closes
        code, report, _ = _run("check", "--only", "docker-image", "--image", PROBE_IMAGE)
    finally:
        probe.close()
    assert code == 0 and "docker-image[present]" in _findings(report)
    code, report, _ = _run("check", "--only", "docker-image", "--image", IMAGE)
    assert code == 0 and "about 10 GB" in _findings(report)["docker-image[pull]"]["message"]
    code, report, _ = _run("check", "--only", "docker-image", "--image", "nvcr.io/nvidia/tritonserver:25.06-py3")
    found = _findings(report)["docker-image[not-vllm]"]
    assert code == 1 and found["catalog_id"] == "wrong-image-no-vllm-backend"
    assert "25.06-vllm-python-py3" in found["remedy"]


def test_mount_probe_of_a_big_folder_leaves_no_container(client: Any, tmp_path: Path) -> None:
    """The daemon's listing is read up to 50 entries; the half-read archive used to block the removal."""
    import time

    from triton_doctor.probes.docker_probe import DockerProbe

    for i in range(80):
        (tmp_path / f"model_{i:02d}").mkdir()
        (tmp_path / f"model_{i:02d}" / "weights.bin").write_bytes(b"\0" * 65536)
    probe = DockerProbe()
    try:
        start = time.monotonic()
        (result,) = probe.probe_mounts([(str(tmp_path), "/models", True)])
        elapsed = time.monotonic() - start
    finally:
        probe.close()
    assert result.ok and len(result.entries) == 50
    mine = [
        c
        for c in client.api.containers(all=True, filters={"label": PROBE_LABEL})
        if any(m.get("Source") == str(tmp_path) for m in c.get("Mounts") or [])
    ]
    assert mine == []
    assert elapsed < probe.timeout, elapsed  # never waited for the blocked connection
