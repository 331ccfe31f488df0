"""``triton-doctor command``: each shell's rendering, read back through the --docker-command reader, gives
the same mounts, env names, ports and arguments; secrets are passed by name only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli
from triton_doctor.deploy.docker_run import parse_docker_run
from triton_doctor.deploy.inputs import TargetInput, build_target
from triton_doctor.deploy.render import build_spec, render

TARGETS = [
    TargetInput(
        repo="/home/me/my project/model_repository",
        mounts=("/home/me/my project/local_models:/local_models",),
        models=("gemma_local",),
    ),
    TargetInput(
        docker_command=(
            "docker run --gpus all -p 127.0.0.1:9000:8000 -e HF_TOKEN=$env:HF_TOKEN -e FOO=bar "
            '-v "C:\\Users\\me\\triton project\\model_repository:/models" '
            "--mount type=bind,source=C:\\Users\\me\\local_models,target=/local_models,readonly "
            "nvcr.io/nvidia/tritonserver:25.09-vllm-python-py3 tritonserver --model-repository=/models "
            "--model-control-mode=explicit --load-model=gemma --log-verbose=1"
        )
    ),
    TargetInput(repo="it's/model repo", models=("a.b", "c")),
]


@pytest.mark.parametrize("shell", ["bash", "powershell", "cmd"])
@pytest.mark.parametrize("inp", TARGETS, ids=["paths-with-spaces", "windows-command", "quotes-and-dots"])
def test_each_dialect_reads_back_the_same(inp: TargetInput, shell: str) -> None:
    target, _ = build_target(inp)
    spec = build_spec(target, list(target.models), parallel=2)
    text = render(spec, shell)  # type: ignore[arg-type]
    run = parse_docker_run(text)
    assert run.dialect == shell
    assert run.image == spec.image
    assert [(m.type, m.source, m.target, m.readonly) for m in run.mounts] == [
        (m.type, m.source, m.target, m.readonly) for m in spec.mounts
    ]
    assert {k for k, v in run.env.items() if v is None} == set(spec.env_names)
    assert {k: v for k, v in run.env.items() if v is not None} == spec.env_values
    assert [(p.host_ip, p.host_port, p.container_port) for p in run.ports] == [
        (p.host_ip, p.host_port, p.container_port) for p in spec.ports
    ]
    assert run.command == spec.command
    assert run.gpus == "all" and run.ipc == "host"  # parallel 2: --ipc=host instead of --shm-size
    assert sorted(run.ulimits) == ["memlock=-1", "stack=67108864"]
    assert "HF_TOKEN" in spec.env_names and "hf_" not in text


def test_defaults_explicit_model_control_and_shm() -> None:
    target, _ = build_target(TargetInput(repo="/srv/model_repository", models=("gemma",)))
    run = parse_docker_run(render(build_spec(target, ["gemma"]), "bash"))
    assert run.shm_size == "1g" and run.model_control_mode == "explicit" and run.load_models == ["gemma"]
    assert [(p.host_port, p.container_port) for p in run.ports] == [(8000, 8000), (8001, 8001), (8002, 8002)]
    assert [(m.source, m.target) for m in run.mounts] == [("/srv/model_repository", "/models")]


def test_command_cli_prints_every_dialect_compose_and_clients(tmp_path: Path) -> None:
    root = FIXTURES / "repos" / "healthy-local"
    result = run_cli(
        "command", "--repo", str(root / "model_repository"), "--mount", f"{root / 'local_models'}:/local_models"
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for heading in ("# bash", "# PowerShell", "# cmd.exe", "# compose.yaml", "# curl (bash)", "# Python"):
        assert heading in out
    assert "--load-model=gemma_local" in out and '"max_tokens": 64' in out and "[DONE]" in out
    assert "generate_stream" in out and "count: all" in out
    bash = out.split("# bash\n", 1)[1].split("\n\n", 1)[0]
    run = parse_docker_run(bash)
    assert [m.target for m in run.mounts] == ["/models", "/local_models"]


def test_load_model_is_not_repeated() -> None:
    target, _ = build_target(
        TargetInput(
            docker_command="docker run -v /srv/m:/models img tritonserver --model-repository=/models --load-model=a"
        )
    )
    spec = build_spec(target, list(target.models))
    assert spec.command == [
        "tritonserver",
        "--model-repository=/models",
        "--load-model=a",
        "--model-control-mode=explicit",
    ]


def test_command_never_prints_a_token_value() -> None:
    secret = "hf_" + "x" * 34
    result = run_cli(
        "command",
        "--docker-command",
        f"docker run --gpus all -e HF_TOKEN={secret} -v /srv/m:/models img tritonserver --model-repository=/models",
        env={"HF_TOKEN": secret},
    )
    assert result.exit_code == 1  # /srv/m holds no model: warned, and the command is still printed
    assert secret not in result.stdout + result.stderr and "-e HF_TOKEN" in result.stdout
