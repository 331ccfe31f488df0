"""Reading users' docker run command lines: the guide's own commands in bash, PowerShell and cmd."""

from __future__ import annotations

import pytest

from triton_doctor.deploy.docker_run import DockerCommandError, parse_docker_run
from triton_doctor.deploy.inputs import TargetInput, build_target
from triton_doctor.deploy.shellwords import split_command
from triton_doctor.deploy.target import TargetError

GUIDE_REMOTE_PS = (
    "docker run --gpus all -d --rm -p 8000:8000 -p 8001:8001 -p 8002:8002 --env HUGGING_FACE_HUB_TOKEN=$env:HF_TOKEN "
    '--mount type=bind,source="C:\\Users\\me\\triton_project\\model_repository",target="/models" '
    '--mount type=volume,source=triton_hf_cache,target="/root/.cache/huggingface" --name triton_vllm_server '
    "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver --model-repository=/models "
    "--model-control-mode=explicit --load-model=gemma"
)
GUIDE_LOCAL_BASH = (
    "docker run --gpus all -d --rm -p 8000:8000 -p 8001:8001 -p 8002:8002 --env HUGGING_FACE_HUB_TOKEN=$env:HF_TOKEN "
    '--mount type=bind,source="C:\\Users\\me\\triton_project\\model_repository",target="/models" '
    '--mount type=bind,source="C:\\Users\\me\\triton_project\\local_models",target="/local_models" '
    '--mount type=volume,source=triton_hf_cache,target="/root/.cache/huggingface" --name triton_vllm_server '
    "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver --model-repository=/models "
    "--model-control-mode=explicit --load-model=gemma_local"
)


def test_guide_remote_command_powershell() -> None:
    run = parse_docker_run(GUIDE_REMOTE_PS)
    assert run.dialect == "powershell"
    assert run.image == "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3"
    assert run.gpus == "all" and run.detach and run.remove
    assert [(p.host_port, p.container_port) for p in run.ports] == [(8000, 8000), (8001, 8001), (8002, 8002)]
    assert run.env == {"HUGGING_FACE_HUB_TOKEN": "$env:HF_TOKEN"}
    bind, volume = run.mounts
    assert bind.type == "bind" and bind.source == "C:\\Users\\me\\triton_project\\model_repository"
    assert bind.target == "/models"
    assert volume.type == "volume" and volume.source == "triton_hf_cache"
    assert run.name == "triton_vllm_server"
    assert run.model_repositories == ["/models"]
    assert run.load_models == ["gemma"] and run.model_control_mode == "explicit"


def test_guide_local_command_keeps_windows_backslashes_in_every_dialect() -> None:
    for dialect in ("bash", "powershell", "cmd"):
        run = parse_docker_run(GUIDE_LOCAL_BASH, dialect)  # type: ignore[arg-type]
        sources = [m.source for m in run.mounts if m.type == "bind"]
        assert sources == [
            "C:\\Users\\me\\triton_project\\model_repository",
            "C:\\Users\\me\\triton_project\\local_models",
        ], dialect
        assert run.load_models == ["gemma_local"]


def test_bash_line_continuations_and_quotes() -> None:
    text = """sudo docker run --rm -it \\
      --shm-size=1g --ulimit memlock=-1 --ulimit stack=67108864 \\
      -v "$PWD/model_repository:/models:ro" -e HF_TOKEN -e 'VLLM_X=a b' \\
      -p 127.0.0.1:9000:8000/tcp --ipc=host \\
      nvcr.io/nvidia/tritonserver:24.12-vllm-python-py3 \\
      tritonserver --model-repository /models --load-model a --load-model b"""
    run = parse_docker_run(text)
    assert run.dialect == "bash"
    assert run.shm_size == "1g" and run.ulimits == ["memlock=-1", "stack=67108864"] and run.ipc == "host"
    assert run.mounts[0].source == "$PWD/model_repository" and run.mounts[0].readonly
    assert run.env == {"HF_TOKEN": None, "VLLM_X": "a b"}
    port = run.ports[0]
    assert (port.host_ip, port.host_port, port.container_port, port.protocol) == ("127.0.0.1", 9000, 8000, "tcp")
    assert run.model_repositories == ["/models"] and run.load_models == ["a", "b"]


def test_powershell_backtick_continuation_and_single_quotes() -> None:
    text = (
        "docker run --gpus all `\n  -v 'C:\\Users\\O''Brien\\repo:/models' `\n"
        "  -e HF_TOKEN=$env:HF_TOKEN img:1 tritonserver --model-repository=/models"
    )
    run = parse_docker_run(text)
    assert run.dialect == "powershell"
    assert run.mounts[0].source == "C:\\Users\\O'Brien\\repo" and run.mounts[0].target == "/models"
    assert run.mounts[0].type == "bind"


def test_cmd_caret_continuation() -> None:
    text = 'docker run --gpus all ^\n -v "C:\\work\\repo":/models ^\n -e HF_TOKEN=%HF_TOKEN% img:1'
    run = parse_docker_run(text)
    assert run.dialect == "cmd"
    assert run.mounts[0].source == "C:\\work\\repo" and run.env["HF_TOKEN"] == "%HF_TOKEN%"


def test_short_options_glued_and_combined_flags() -> None:
    run = parse_docker_run("docker run -dit -p8000:8000 -eA=1 --name=x img")
    assert run.detach and run.ports[0].host_port == 8000 and run.env == {"A": "1"} and run.name == "x"
    assert run.image == "img" and run.command == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a command starting with 'docker run'"),
        ("docker ps -a", "expected 'docker run ...'"),
        ("docker run --rm", "no image found"),
        ("docker run --name", "needs a value"),
        ('docker run -v "unterminated img', "cannot split"),
        ("docker run -p abc img", "-p 'abc'"),
        ("docker run --mount type=bind,source=/x img", "has no target="),
    ],
)
def test_bad_commands_raise_with_the_fix(text: str, message: str) -> None:
    with pytest.raises(DockerCommandError, match=None) as info:
        parse_docker_run(text)
    assert message in str(info.value)


def test_split_command_guesses_dialect() -> None:
    assert split_command("docker run -e X=$env:Y img")[1] == "powershell"
    assert split_command("docker run -e X=%Y% img")[1] == "cmd"
    assert split_command("docker run img")[1] == "bash"


def test_target_from_guide_command_uses_mount_and_load_model(tmp_path: object) -> None:
    target, _ = build_target(TargetInput(docker_command=GUIDE_LOCAL_BASH))
    assert target.repo.endswith("model_repository") and "triton_project" in target.repo
    assert target.models == ("gemma_local",)
    assert target.image == "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3"
    assert target.mount_for("/local_models/google_gemma-3-1b-it") is not None
    assert "HUGGING_FACE_HUB_TOKEN" not in str(target.to_json())


def test_target_flag_errors() -> None:
    with pytest.raises(TargetError, match="HOST:TARGET"):
        build_target(TargetInput(mounts=("nocolon",)))
    with pytest.raises(TargetError, match="must be absolute"):
        build_target(TargetInput(mounts=("a:b",)))


def test_comment_lines_around_the_command_are_not_words() -> None:
    """What `triton-doctor command --shell bash > run.sh` writes reads back: its comment lines are skipped."""
    text = (
        "# bash\ndocker run --rm \\\n  --gpus all \\\n  -v /srv/repo:/models \\\n"
        "  nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 \\\n  tritonserver --model-repository=/models \\\n"
        "  --load-model=gemma\n\n# HF_TOKEN is passed by name: set it in your shell first.\n"
    )
    run = parse_docker_run(text)
    assert run.image == "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3"
    assert run.load_models == ["gemma"]
    assert run.command[-1] == "--load-model=gemma"
