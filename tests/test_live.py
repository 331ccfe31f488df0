"""The live stage on a real Triton + real vLLM stack built locally (stack/build.sh), through the guide's command.

The image holds the real tritonserver (from the nvidia-pytriton wheel), real vLLM on the CPU and the
`vllm` backend of stack/vllm_backend; the model is a tiny random Llama made by the image itself. The guide's
`docker run` shape is used as written, without `--gpus all` (no GPU here). Every test asserts that no
container of the doctor is left behind.

These tests need a Docker daemon and build the image on first use (about 10 minutes; cached by recipe).
Without a daemon they skip; under TRITON_DOCTOR_REQUIRE_DOCKER=1 they must run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.generate import LOCAL_CONFIG
from tests.conftest import ROOT, all_findings
from tests.dockerutil import docker_client, free_ports
from triton_doctor.probes.docker_probe import PROBE_LABEL

CONFIG = LOCAL_CONFIG.replace('name: "gemma_local"', 'name: "tiny"')  # the guide's local-model config
ENGINE = {
    "model": "/local_models/tiny-llama",
    "tensor_parallel_size": 1,
    "gpu_memory_utilization": 0.9,
    "dtype": "float32",
    "max_model_len": 256,
    "enforce_eager": True,
}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    client = docker_client()
    yield client
    client.close()


@pytest.fixture(scope="module")
def stack(client: Any) -> str:
    proc = subprocess.run(
        ["bash", str(ROOT / "stack" / "build.sh")], capture_output=True, text=True, check=False, timeout=3000
    )
    if proc.returncode != 0:
        pytest.fail(f"stack/build.sh failed:\n{proc.stderr[-3000:]}")
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def local_models(client: Any, stack: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local_models")
    client.containers.run(
        stack,
        ["python3", "/opt/triton-doctor/make_tiny_llama.py", "/out/tiny-llama"],
        remove=True,
        volumes={str(out): {"bind": "/out", "mode": "rw"}},
        labels={"io.triton-doctor.test": "1"},
    )
    return out


def _repo(tmp: Path, *, config: str = CONFIG, engine: dict[str, Any] | None = None, version: str = "1") -> Path:
    repo = tmp / "model_repository"
    model = repo / "tiny"
    (model / version).mkdir(parents=True)
    (model / "config.pbtxt").write_text(config)
    (model / version / "model.json").write_text(json.dumps(engine or ENGINE))
    return repo


def _guide_command(
    stack: str,
    repo: Path,
    local_models: Path | None,
    *,
    port: int | None = None,
    model_repository: str = "/models",
    shm: str = "--shm-size=1g ",
) -> str:
    """The guide's docker run for local models, with the local stack image and without --gpus all; host ports
    from the OS (``port`` for HTTP when given). The doctor runs it as written, so it carries the --shm-size
    that vLLM needs (``shm=""``: the guide's command exactly, which lacks it)."""
    local = f"--mount type=bind,source={local_models},target=/local_models " if local_models else ""
    http, grpc, metrics = free_ports(3)
    http = port or http
    return (
        f"docker run -d --rm {shm}-p {http}:8000 -p {grpc}:8001 -p {metrics}:8002 "
        f"--env HUGGING_FACE_HUB_TOKEN=$HF_TOKEN --mount type=bind,source={repo},target=/models {local}"
        "--mount type=volume,source=triton_doctor_test_hf_cache,target=/root/.cache/huggingface "
        f"--name triton_vllm_server {stack} tritonserver --model-repository={model_repository} "
        "--model-control-mode=explicit --load-model=tiny"
    )


def _doctor(*args: str, timeout: float = 900) -> tuple[int, dict[str, Any], str]:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "triton_doctor", *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def _leftovers(client: Any) -> list[Any]:
    return client.api.containers(all=True, filters={"label": PROBE_LABEL})


def _live_findings(report: dict[str, Any], check: str = "live-server") -> list[dict[str, Any]]:
    return [f for c in report["checks"] if c["check"] == check for f in c["findings"]]


def _mine(client: Any, tmp_path: Path) -> list[Any]:
    """The doctor's containers of this test (by their mounts under ``tmp_path``): the daemon may be shared."""
    return [
        c
        for c in _leftovers(client)
        if any(str(m.get("Source", "")).startswith(str(tmp_path)) for m in c.get("Mounts") or [])
    ]


def test_healthy_bringup_generates_and_remote_mode(client: Any, stack: str, local_models: Path, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    command = _guide_command(stack, repo, local_models)
    name_free = not client.api.containers(all=True, filters={"name": "^/triton_vllm_server$"})
    code, report, stderr = _doctor("check", "--live", "--only", "live", "--keep", "--docker-command", command)
    kept = _mine(client, tmp_path)
    try:
        statuses = {c["check"]: c["status"] for c in report["checks"]}
        assert statuses == {"live-server": "pass", "live-generate": "pass", "server-models": "skip"}, stderr
        assert code == 0
        generated = [f for f in all_findings(report) if f["id"] == "live-generate[ok]"]
        assert len(generated) == 3, generated  # generate_stream, generate, gRPC stream
        assert all("chunk" in f["message"] for f in generated)
        assert len(kept) == 1 and "kept container" in stderr
        if name_free:
            assert kept[0]["Names"] == ["/triton_vllm_server"]  # --keep keeps the command's free --name
        url = re.search(r"HTTP (http://[0-9.]+:[0-9]+)", stderr)
        assert url is not None, stderr
        server = url.group(1)
        grpc = re.search(r"gRPC grpc://([0-9.]+:[0-9]+)", stderr)
        assert grpc is not None, stderr
        # Remote mode against the kept server: its own models and configs, and the three generations.
        code, report, stderr = _doctor(
            "check", "--server", server, "--grpc", grpc.group(1), "--repo", str(repo), "--docker-command", command
        )
        statuses = {c["check"]: c["status"] for c in report["checks"]}
        assert statuses["server-models"] == "pass" and statuses["live-generate"] == "pass", stderr
        assert statuses["docker-ports"] == "skip" and statuses["mount-coverage"] == "skip"
        assert "port-in-use" not in json.dumps(report)
        assert len([f for f in all_findings(report) if f["id"] == "live-generate[ok]"]) == 3
        # The user's sampling parameters lacking max_tokens.
        code, report, _ = _doctor("check", "--server", server, "--only", "live", "--sampling", '{"temperature": 0}')
        found = {f["id"]: f for f in all_findings(report)}
        assert found["live-generate[output-truncated-16-tokens]"]["catalog_id"] == "output-truncated-16-tokens"
        assert {c["check"]: c["status"] for c in report["checks"]}["live-server"] == "pass"
        # A sampling parameter vLLM does not know: the error arrives as an SSE event after HTTP 200.
        code, report, _ = _doctor(
            "check",
            "--server",
            server,
            "--only",
            "live",
            "--sampling",
            '{"max_tokens": 8, "max_new_tokens": 8}',
        )
        failed = [f for f in all_findings(report) if f["id"] == "live-generate[failed]"]
        assert code == 1 and failed
        assert failed[0]["catalog_id"] == "bad-sampling-parameter"
        assert "max_new_tokens" in failed[0]["message"]
    finally:
        for container in kept:
            client.api.remove_container(container["Id"], force=True)
    assert _mine(client, tmp_path) == []


@pytest.mark.parametrize(
    ("case", "catalog"),
    [
        ("bind-source-missing", "bind-source-missing"),
        ("wrong-model-repository", "model-repo-not-found-in-container"),
        ("no-version-directory", "no-version-directory"),
        ("config-syntax", "config-pbtxt-syntax"),
        ("name-mismatch", "dir-name-mismatch"),
        ("unknown-engine-arg", "unknown-engine-arg"),
        ("model-path-not-mounted", "local-model-path-not-mounted"),
        ("max-model-len", "max-model-len-exceeds-model"),
    ],
)
def test_fault_is_diagnosed(
    client: Any, stack: str, local_models: Path, tmp_path: Path, case: str, catalog: str
) -> None:
    mounts: Path | None = local_models
    repo_kwargs: dict[str, Any] = {}
    command_kwargs: dict[str, Any] = {}
    holder: socket.socket | None = None
    if case == "no-version-directory":
        repo_kwargs["version"] = "v1"
    elif case == "config-syntax":
        repo_kwargs["config"] = CONFIG.replace('backend: "vllm"', "backend: vllm")
    elif case == "name-mismatch":
        repo_kwargs["config"] = CONFIG.replace('name: "tiny"', 'name: "tiny-llama"')
    elif case == "unknown-engine-arg":
        repo_kwargs["engine"] = {**ENGINE, "disable_log_requests": True}
    elif case == "max-model-len":
        repo_kwargs["engine"] = {**ENGINE, "max_model_len": 4096}
    elif case == "model-path-not-mounted":
        mounts = None
    elif case == "wrong-model-repository":
        command_kwargs["model_repository"] = "/model_repo"
    repo = _repo(tmp_path, **repo_kwargs)
    if case == "bind-source-missing":
        shutil.rmtree(repo)
    if case == "port-held":
        holder = socket.socket()
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        command_kwargs["port"] = holder.getsockname()[1]
    try:
        command = _guide_command(stack, repo, mounts, **command_kwargs)
        code, report, stderr = _doctor(
            "check", "--live", "--only", "live-server", "--timeout", "300", "--docker-command", command
        )
    finally:
        if holder is not None:
            holder.close()
    findings = [f for f in _live_findings(report) if f["severity"] == "error"]
    assert code == 1, stderr
    assert findings and findings[0]["catalog_id"] == catalog, findings
    assert findings[0]["message"] and findings[0]["remedy"]
    assert _mine(client, tmp_path) == []


def test_seq_length_limit_found_statically_and_in_the_live_log(
    client: Any, stack: str, local_models: Path, tmp_path: Path
) -> None:
    """A checkpoint whose config.json limits the context by seq_length (below max_position_embeddings 512): the
    static check derives vLLM's limit, and the live stage finds the same failure in vLLM's own log."""
    models = tmp_path / "local_models"
    shutil.copytree(local_models / "tiny-llama", models / "tiny-llama")
    config_file = models / "tiny-llama" / "config.json"
    config_file.write_text(json.dumps({**json.loads(config_file.read_text()), "seq_length": 256}, indent=2))
    repo = _repo(tmp_path, engine={**ENGINE, "max_model_len": 384})
    command = _guide_command(stack, repo, models)
    code, report, _ = _doctor("check", "--only", "repo", "--offline", "--docker-command", command)
    static = [f for f in all_findings(report) if f["id"] == "max-model-len[exceeds]"]
    assert code == 1 and static and "seq_length" in static[0]["message"] and "256" in static[0]["message"]
    code, report, stderr = _doctor(
        "check", "--live", "--only", "live-server", "--timeout", "300", "--docker-command", command
    )
    findings = [f for f in _live_findings(report) if f["severity"] == "error"]
    assert code == 1, stderr
    assert findings and findings[0]["catalog_id"] == "max-model-len-exceeds-model", findings
    assert "seq_length=256" in findings[0]["evidence"] + findings[0]["message"], findings[0]
    assert _mine(client, tmp_path) == []


@contextlib.contextmanager
def _spawn_doctor(command: str, *extra: str) -> Iterator[subprocess.Popen[str]]:
    """Start `check --live --only live-server` on ``command`` in the background; always reaped (killed if
    still running), even when the test fails before it waits for it."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "triton_doctor",
            "check",
            "--live",
            "--only",
            "live-server",
            "--docker-command",
            command,
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def _wait_for_container(client: Any, tmp_path: Path, predicate: Any, timeout: float = 120) -> Any:
    """This test's doctor container (by its mounts: the daemon may be shared) once ``predicate`` holds."""
    import docker.errors

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for row in _mine(client, tmp_path):
            try:
                container = client.containers.get(row["Id"])
                if predicate(container):
                    return container
            except docker.errors.APIError:
                continue  # removed meanwhile
        time.sleep(0.2)
    raise AssertionError("the doctor's container did not appear")


def test_server_killed_while_loading(client: Any, stack: str, local_models: Path, tmp_path: Path) -> None:
    command = _guide_command(stack, _repo(tmp_path), local_models)
    with _spawn_doctor(command, "--format", "json") as proc:
        container = _wait_for_container(client, tmp_path, lambda c: b"loading: tiny:1" in c.logs())
        container.kill()
        stdout, stderr = proc.communicate(timeout=300)
    report = json.loads(stdout)
    findings = [f for f in _live_findings(report) if f["severity"] == "error"]
    assert proc.returncode == 1, stderr
    assert findings[0]["catalog_id"] == "host-ram-oom-killed" and "exit" in findings[0]["message"]
    assert _mine(client, tmp_path) == []


def test_ctrl_c_during_bringup_leaves_no_container(client: Any, stack: str, local_models: Path, tmp_path: Path) -> None:
    command = _guide_command(stack, _repo(tmp_path), local_models)
    with _spawn_doctor(command) as proc:
        _wait_for_container(client, tmp_path, lambda c: c.status == "running")
        proc.send_signal(signal.SIGINT)
        _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "containers were removed" in stderr
    assert _mine(client, tmp_path) == []


def test_timeout_leaves_no_container(client: Any, stack: str, local_models: Path, tmp_path: Path) -> None:
    command = _guide_command(stack, _repo(tmp_path), local_models)
    code, report, _ = _doctor("check", "--live", "--only", "live-server", "--timeout", "4", "--docker-command", command)
    findings = [f for f in _live_findings(report) if f["severity"] == "error"]
    assert code == 1 and findings[0]["id"] == "live-server[timeout]"
    assert _mine(client, tmp_path) == []


def test_gpus_all_without_nvidia_runtime_points_to_no_gpus(
    client: Any, stack: str, local_models: Path, tmp_path: Path
) -> None:
    if "nvidia" in (client.info().get("Runtimes") or {}):
        pytest.skip("this daemon has the NVIDIA runtime")
    command = _guide_command(stack, _repo(tmp_path), local_models).replace("docker run -d", "docker run --gpus all -d")
    code, report, stderr = _doctor("up", "--docker-command", command, "--timeout", "120")
    found = [f for f in _live_findings(report) if f["catalog_id"] == "docker-gpu-runtime-missing"]
    assert code == 1 and found, stderr
    assert "--no-gpus" in found[0]["remedy"]
    assert _mine(client, tmp_path) == []


def _init_env(endpoint: str) -> dict[str, str]:
    """The doctor's environment with huggingface_hub pointed at the local Hub server (never a real hub); read
    when huggingface_hub is first imported, so it goes to a fresh process."""
    env = {**os.environ, "HF_ENDPOINT": endpoint, "NO_COLOR": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"):
        env.pop(name, None)
    return env


def _next_commands(init_stdout: str) -> dict[str, list[str]]:
    """The ``triton-doctor ...`` commands init prints under "next:", by subcommand, as argument lists."""
    commands: dict[str, list[str]] = {}
    for line in init_stdout.split("next:", 1)[1].splitlines():
        words = shlex.split(line)
        if words[:1] == ["triton-doctor"]:
            commands[words[1]] = words[2:]
    return commands


def test_init_local_output_passes_check_reaches_ready_and_generates(
    client: Any, stack: str, local_models: Path, tmp_path: Path
) -> None:
    """What a user does from nothing: ``init ORG/NAME --local`` downloads the real tiny Llama (served by the
    local Hub server from the stack's own files) and writes the layout; the ``check`` it prints passes the
    repository checks offline; the ``command --shell bash`` it prints, parsed back, is the container the live
    stage brings up, and that reaches READY and generates.

    Two things differ from the printed command, both for this machine only: ``--no-gpus`` (a CPU image, no
    GPU) and the host ports, which come from the OS instead of 8000-8002 (the daemon is shared).

    init's model.json as written (no dtype, max_model_len or enforce_eager) does not start on this stack: its
    image has no C++ compiler (the official image has one) and vLLM's torch.compile needs one. The first
    bring-up must then say so, with the remedy ``"enforce_eager": true``; with that one key added, the second
    reaches READY and generates. (An image with a compiler passes the first time.)
    """
    from tests.hubserver import directory_model, hub_server
    from triton_doctor.deploy.docker_run import parse_docker_run
    from triton_doctor.deploy.shellwords import split_command

    model_id = "tiny-org/tiny-llama"
    repo = tmp_path / "model_repository"
    with hub_server({model_id: directory_model(local_models / "tiny-llama")}) as hub:
        init = subprocess.run(
            [sys.executable, "-m", "triton_doctor", "init", model_id, "--local", "--repo", str(repo)],
            capture_output=True,
            text=True,
            timeout=300,
            env=_init_env(hub.url),
            check=False,
        )
    assert init.returncode == 0 and "Traceback" not in init.stderr, init.stdout + init.stderr
    downloaded = tmp_path / "local_models" / "tiny-org_tiny-llama"
    for original in (local_models / "tiny-llama").iterdir():
        assert (downloaded / original.name).read_bytes() == original.read_bytes(), original.name
    engine = json.loads((repo / "tiny-llama" / "1" / "model.json").read_text())
    assert engine["model"] == "/local_models/tiny-org_tiny-llama"
    steps = _next_commands(init.stdout)
    assert set(steps) == {"check", "command"}, init.stdout

    code, report, stderr = _doctor("check", *steps["check"], "--only", "repo", "--offline")
    failed = {c["check"]: c["status"] for c in report["checks"] if c["status"] in {"fail", "error"}}
    assert code == 0 and not failed, (failed, stderr)

    printed = subprocess.run(
        [sys.executable, "-m", "triton_doctor", "command", *steps["command"], "--image", stack, "--shell", "bash"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    bash = printed.stdout.split("# bash\n", 1)[1].split("\n\n", 1)[0]
    run = parse_docker_run(bash, "bash")
    assert run.image == stack and run.command[-1] == "--load-model=tiny-llama", bash
    assert {(m.source, m.target) for m in run.mounts} == {
        (str(repo), "/models"),
        (str(tmp_path / "local_models"), "/local_models"),
    }
    words, _ = split_command(bash, "bash")
    free = iter(free_ports(len(run.ports)))
    for i, word in enumerate(words[:-1]):
        if word in {"-p", "--publish"}:
            words[i + 1] = f"{next(free)}:{words[i + 1].rsplit(':', 1)[-1]}"
    command = shlex.join(words)

    live = ("check", "--live", "--only", "live-server,live-generate", "--no-gpus", "--docker-command", command)
    code, report, stderr = _doctor(*live)
    if code != 0:  # an image without a C++ compiler (this stack's): the doctor must name it and the remedy
        errors = [f for f in _live_findings(report) if f["severity"] == "error"]
        assert code == 1 and errors, stderr
        assert any("C++ compiler" in f["remedy"] and '"enforce_eager": true' in f["remedy"] for f in errors), errors
        assert _mine(client, tmp_path) == []
        model_json = repo / "tiny-llama" / "1" / "model.json"
        model_json.write_text(json.dumps({**engine, "enforce_eager": True}, indent=2) + "\n")
        code, report, stderr = _doctor(*live)
    statuses = {c["check"]: c["status"] for c in report["checks"]}
    assert statuses["live-generate"] == "pass" and statuses["live-server"] in {"pass", "warn"}, stderr
    assert code == 0
    # The printed command asks for --ulimit memlock=-1; a host that refuses it (rootless or sandboxed Docker,
    # as on some test machines) gets a warning and a start without it: nothing else may warn.
    warned = [f for f in _live_findings(report) if f["severity"] == "warning"]
    assert all(f["id"] == "live-server[adjusted]" and "ulimit" in f["message"] for f in warned), warned
    ready = [f for f in _live_findings(report) if f["id"] == "live-server[ready]"]
    assert ready and "tiny-llama READY" in ready[0]["message"], ready
    assert ready[0]["evidence"] == " ".join(run.command)  # the printed tritonserver command, as it ran
    generated = [f for f in all_findings(report) if f["id"] == "live-generate[ok]"]
    assert len(generated) == 3 and all("chunk" in f["message"] for f in generated), generated
    assert _mine(client, tmp_path) == []


def _serve(client: Any, stack: str, repo: Path, local_models: Path, *args: str) -> tuple[Any, str]:
    """A tritonserver of the test (not the doctor's) on a free port, READY; the caller removes it."""
    import urllib.request

    from docker.types import Mount

    (http,) = free_ports(1)
    container = client.containers.run(
        stack,
        ["tritonserver", "--model-repository=/models", *args],
        detach=True,
        ports={"8000/tcp": ("127.0.0.1", http)},
        mounts=[Mount("/models", str(repo), type="bind"), Mount("/local_models", str(local_models), type="bind")],
        labels={"io.triton-doctor.test": "live-server"},
        shm_size="1g",  # the Python backend's shared memory: Docker's 64 MB default is too small
    )
    url = f"http://127.0.0.1:{http}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/v2/health/ready", timeout=2) as answer:
            if answer.status == 200:
                return container, url
        container.reload()
        if container.status == "exited":
            break
        time.sleep(0.5)
    logs = container.logs()[-2000:].decode("utf-8", "replace")
    container.remove(force=True)
    raise AssertionError(f"the test's server did not come up: {logs}")


def test_server_mode_names_the_unloaded_model_at_once(
    client: Any, stack: str, local_models: Path, tmp_path: Path
) -> None:
    """The guide's layout (two models, one loaded with --load-model) behind --server: the other model is a
    finding within one request, naming it and the server-side remedy; host-only checks are skipped."""
    repo = _repo(tmp_path)
    other = repo / "other_model"
    shutil.copytree(repo / "tiny", other)
    (other / "config.pbtxt").write_text(CONFIG.replace('name: "tiny"', 'name: "other_model"'))
    container, url = _serve(client, stack, repo, local_models, "--model-control-mode=explicit", "--load-model=tiny")
    try:
        start = time.monotonic()
        code, report, stderr = _doctor("check", "--server", url, "--only", "live-server", "--model", "other_model")
        took = time.monotonic() - start
        found = {f["id"]: f for f in _live_findings(report)}
        hit = found["live-server[not-loaded]"]
        assert code == 1 and hit["severity"] == "error" and "other_model" in hit["message"], stderr
        assert (
            "--load-model=other_model" in hit["remedy"]
            and f"{url}/v2/repository/models/other_model/load" in hit["remedy"]
        )
        assert "docker logs" not in json.dumps(report) and "--keep" not in json.dumps(report)
        check_ms = next(c["duration_ms"] for c in report["checks"] if c["check"] == "live-server")
        assert check_ms < 2000 and took < 10, (check_ms, took)  # one request, not a wait for --timeout
        print(f"unloaded model: live-server took {check_ms} ms; whole process {took:.2f} s")
        # No model named: READY names only the loaded model; the other one is a warning; no host checks run.
        code, report, stderr = _doctor("check", "--server", url, "--repo", str(repo), "--profile", "quick")
        statuses = {c["check"]: c for c in report["checks"]}
        ready = next(f for f in _live_findings(report) if f["id"] == "live-server[ready]")
        assert ready["message"].startswith("tiny READY"), ready
        assert next(f for f in _live_findings(report) if f["id"] == "live-server[not-loaded]")["severity"] == "warning"
        for host_check in ("gpu-nvml", "docker-daemon", "docker-version", "host-resources"):
            if host_check in statuses:
                assert statuses[host_check]["status"] == "skip", statuses[host_check]
        assert code == 0, stderr
        # A refused connection: reported at once.
        (closed,) = free_ports(1)
        start = time.monotonic()
        code, report, _ = _doctor("check", "--profile", "quick", "--server", f"http://127.0.0.1:{closed}")
        refused_s = time.monotonic() - start
        check_ms = next(c["duration_ms"] for c in report["checks"] if c["check"] == "live-server")
        assert code == 1 and check_ms < 2000 and refused_s < 5, (check_ms, refused_s)
        assert any("connection refused" in f["message"] for f in _live_findings(report))
        assert all(c["status"] == "skip" for c in report["checks"] if c["check"].startswith(("gpu-", "docker-")))
        print(f"refused connection: live-server took {check_ms} ms; whole process {refused_s:.2f} s")
    finally:
        container.remove(force=True)


def _remove_mine(client: Any, tmp_path: Path) -> None:
    """Remove this test's doctor containers (a failed assertion must not leave one behind)."""
    for row in _mine(client, tmp_path):
        with contextlib.suppress(Exception):
            client.api.remove_container(row["Id"], force=True, v=True)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_each_stop_signal_leaves_no_container(
    client: Any, stack: str, local_models: Path, tmp_path: Path, how: str
) -> None:
    """SIGTERM, SIGHUP and SIGINT during a bring-up take the Ctrl-C path: the container is removed."""
    command = _guide_command(stack, _repo(tmp_path), local_models)
    try:
        with _spawn_doctor(command) as proc:
            container = _wait_for_container(client, tmp_path, lambda c: c.status == "running")
            labels = container.labels
            assert labels["io.triton-doctor.owner-pid"] == str(proc.pid)
            assert labels["io.triton-doctor.owner-boot"] and labels["io.triton-doctor.owner-host"]
            sent = time.monotonic()
            proc.send_signal(getattr(signal, how))
            _stdout, stderr = proc.communicate(timeout=120)
            took = time.monotonic() - sent
        assert proc.returncode == 128 + getattr(signal, how), stderr
        assert "containers were removed" in stderr and "Traceback" not in stderr
        assert _mine(client, tmp_path) == []
        print(f"{how}: exited {proc.returncode} {took:.2f} s after the signal, no container left")
    finally:
        _remove_mine(client, tmp_path)


def test_closed_terminal_leaves_no_container(client: Any, stack: str, local_models: Path, tmp_path: Path) -> None:
    """The doctor in a terminal that closes (the kernel sends SIGHUP, and writes fail): no container left."""
    import fcntl
    import pty
    import termios

    command = _guide_command(stack, _repo(tmp_path), local_models)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "triton_doctor",
            "check",
            "--live",
            "--only",
            "live-server",
            "--docker-command",
            command,
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # noqa: PLW1509 - the terminal of its session
        env={**os.environ, "NO_COLOR": "1"},
    )
    os.close(slave)
    try:
        # Drain the terminal while the bring-up starts (a full pty would block the doctor's progress output).
        drained = threading.Thread(target=lambda: _drain(master), daemon=True)
        drained.start()
        _wait_for_container(client, tmp_path, lambda c: c.status == "running")
        closed = time.monotonic()
        os.close(master)  # the terminal closes: SIGHUP to its session
        proc.wait(timeout=120)
        took = time.monotonic() - closed
        assert proc.returncode in {129, 1}, proc.returncode  # SIGHUP, or the failed write to the dead terminal
        assert _mine(client, tmp_path) == []
        print(f"closed terminal: exited {proc.returncode} {took:.2f} s after, no container left")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _remove_mine(client, tmp_path)


def _drain(fd: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 65536):
            pass


def test_orphan_of_a_killed_run_is_reaped_before_ports(
    client: Any, stack: str, local_models: Path, tmp_path: Path
) -> None:
    """After SIGKILL the container stays, holding its ports; the next run removes it with a one-line notice
    before anything checks ports, and then starts on the same ports."""
    command = _guide_command(stack, _repo(tmp_path), local_models)
    try:
        with _spawn_doctor(command) as proc:
            orphan = _wait_for_container(client, tmp_path, lambda c: c.status == "running")
            proc.kill()
            proc.wait(timeout=30)
        assert [c["Id"] for c in _mine(client, tmp_path)] == [orphan.id]  # SIGKILL: nothing could clean up
        start = time.monotonic()
        _code, report, stderr = _doctor(
            "check", "--live", "--only", "docker-ports,live-server", "--timeout", "5", "--docker-command", command
        )
        took = time.monotonic() - start
        notice = [line for line in stderr.splitlines() if orphan.name in line]
        assert len(notice) == 1 and "left by an earlier triton-doctor run" in notice[0], stderr
        assert stderr.index(notice[0]) < stderr.find("Host ports") or "Host ports" not in stderr
        assert "port-in-use" not in json.dumps(report) and "already allocated" not in json.dumps(report), stderr
        statuses = {c["check"]: c["status"] for c in report["checks"]}
        assert statuses.get("docker-ports") in {"pass", None}, statuses
        assert _mine(client, tmp_path) == []
        print(f"orphan {orphan.name} reaped; the next run took {took:.2f} s")
    finally:
        _remove_mine(client, tmp_path)


def test_no_explicit_mode_fails_live_with_the_servers_own_message(
    client: Any, stack: str, local_models: Path, tmp_path: Path
) -> None:
    """Issue 17: without --model-control-mode=explicit the real tritonserver refuses --load-model and exits;
    the doctor runs the command as written, so the live finding is the server's own message, tied to the
    static server-args finding (one cause, one finding)."""
    command = _guide_command(stack, _repo(tmp_path), local_models).replace(" --model-control-mode=explicit", "")
    start = time.monotonic()
    code, report, stderr = _doctor(
        "check", "--live", "--only", "server-args,live-server", "--timeout", "300", "--docker-command", command
    )
    took = time.monotonic() - start
    static = next(f for f in all_findings(report) if f["id"] == "server-args[refused]")
    assert "Use of '--load-model' requires setting '--model-control-mode=explicit' as well." in static["message"]
    live = [f for f in _live_findings(report) if f["severity"] == "error"]
    assert code == 1 and live, stderr
    cid = "server-arg-use-load-model-requires-setting-model-control-mode-explicit"
    assert live[0]["catalog_id"] == cid, live
    assert "same cause as server-args[refused] above" in live[0]["message"]
    assert "READY" not in json.dumps(report)
    assert _mine(client, tmp_path) == []
    print(f"no explicit mode: the server's refusal reported after {took:.2f} s")


def test_no_command_is_reported_by_docker_and_statically(client: Any, stack: str, tmp_path: Path) -> None:
    """`docker run IMAGE` with no tritonserver part: Docker answers 'No command specified'; nothing is added."""
    repo = _repo(tmp_path)
    command = f"docker run -d --rm --shm-size=1g --mount type=bind,source={repo},target=/models {stack}"
    code, report, stderr = _doctor("check", "--live", "--only", "server-args,live-server", "--docker-command", command)
    ids = {f["id"]: f for f in all_findings(report)}
    assert code == 1 and "server-args[no-command]" in ids, stderr
    live = [f for f in _live_findings(report) if f["severity"] == "error"]
    assert live and live[0]["catalog_id"] == "server-arg-no-command", live
    assert "same cause as server-args[no-command] above" in live[0]["message"]
    assert _mine(client, tmp_path) == []


def test_guide_command_as_written_and_up_as_fixed(client: Any, stack: str, local_models: Path, tmp_path: Path) -> None:
    """The guide's exact command has no --shm-size: as written, vLLM refuses Docker's 64 MB /dev/shm, and that is
    the finding (the same cause as the static shm-size warning). `up --as-fixed` runs the corrected command and
    says so in the headline."""
    repo = _repo(tmp_path)
    command = _guide_command(stack, repo, local_models, shm="")
    code, report, stderr = _doctor(
        "check", "--live", "--only", "docker-run-options,live-server", "--timeout", "300", "--docker-command", command
    )
    live = [f for f in _live_findings(report) if f["severity"] == "error"]
    assert code == 1 and live and live[0]["catalog_id"] == "shm-too-small-python-backend", stderr
    assert "same cause as docker-run-options[shm-size] above" in live[0]["message"]
    assert any(f["id"] == "live-server[corrected]" and "--as-fixed" in f["remedy"] for f in _live_findings(report))
    assert _mine(client, tmp_path) == []
    code, report, stderr = _doctor("up", "--as-fixed", "--docker-command", command, "--timeout", "600")
    server = next(c for c in report["checks"] if c["check"] == "live-server")
    assert code == 0 and server["summary"].startswith("corrected command (--as-fixed): READY"), stderr
    assert "bringing up the CORRECTED command" in stderr
    assert _mine(client, tmp_path) == []


def test_network_host_and_options_kept_taken_port_remapped(
    client: Any, stack: str, local_models: Path, tmp_path: Path
) -> None:
    """The live container is the command as written (docker inspect): --network host, --shm-size, the
    tritonserver arguments untouched; with -p and a taken host port it is remapped with a warning."""
    repo = _repo(tmp_path)
    http, grpc, metrics = free_ports(3)
    command = (
        f"docker run -d --rm --network host --shm-size=1g --ulimit stack=67108864 -e MY_SETTING=1 "
        f"--mount type=bind,source={repo},target=/models --mount type=bind,source={local_models},target=/local_models "
        f"{stack} tritonserver --model-repository=/models --model-control-mode=explicit --load-model=tiny "
        f"--http-port={http} --grpc-port={grpc} --metrics-port={metrics}"
    )
    try:
        with _spawn_doctor(command, "--format", "json", "--timeout", "600") as proc:
            container = _wait_for_container(client, tmp_path, lambda c: c.status == "running")
            host = container.attrs["HostConfig"]
            assert host["NetworkMode"] == "host"
            assert host["ShmSize"] == 1024**3
            assert [u["Name"] for u in host["Ulimits"]] == ["stack"]
            assert host.get("PortBindings") in ({}, None)
            assert container.attrs["Config"]["Cmd"] == shlex.split(command.split(f"{stack} ", 1)[1])
            assert "MY_SETTING=1" in container.attrs["Config"]["Env"]
            stdout, stderr = proc.communicate(timeout=900)
        report = json.loads(stdout)
        server = next(c for c in report["checks"] if c["check"] == "live-server")
        assert proc.returncode == 0 and server["status"] == "pass", stderr
        assert f"127.0.0.1:{http}" in server["summary"]
        assert _mine(client, tmp_path) == []
        # A taken host port of -p: remapped, with a warning naming it; everything else as written.
        holder = socket.socket()
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        try:
            command = _guide_command(stack, repo, local_models, port=taken)
            with _spawn_doctor(command, "--format", "json") as proc:
                container = _wait_for_container(client, tmp_path, lambda c: c.status == "running")
                bound = container.attrs["HostConfig"]["PortBindings"]["8000/tcp"][0]["HostPort"]
                assert bound in {"", "0"} or int(bound) != taken
                proc.send_signal(signal.SIGTERM)
                stdout, _stderr = proc.communicate(timeout=120)
        finally:
            holder.close()
        assert _mine(client, tmp_path) == []
    finally:
        _remove_mine(client, tmp_path)
