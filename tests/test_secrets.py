"""A canary token given in env, token file and docker command appears in no output, any format, any verbosity."""

from __future__ import annotations

import json
import secrets
import string
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.hubserver import GATED, hub_server

ALPHABET = string.ascii_letters + string.digits


def _canary() -> str:
    return "hf_" + "".join(secrets.choice(ALPHABET) for _ in range(34))


@pytest.mark.parametrize("fmt", ["text", "json", "junit"])
@pytest.mark.parametrize("verbose", [False, True])
def test_canary_tokens_never_printed(tmp_path: Path, fmt: str, verbose: bool) -> None:
    in_env, in_file, in_command = _canary(), _canary(), _canary()
    home = tmp_path / "hf_home"
    home.mkdir()
    (home / "token").write_text(in_file)
    repo = tmp_path / "model_repository"
    model = repo / "gemma" / "1"
    model.mkdir(parents=True)
    (repo / "gemma" / "config.pbtxt").write_text(f'backend: "vllm"\n# {in_env} {in_command}\nname: {in_file}\n')
    (model / "model.json").write_text(json.dumps({"model": GATED, "hf_token": in_command}))
    command = (
        f"docker run --gpus all -e HUGGING_FACE_HUB_TOKEN={in_command} -e HF_TOKEN "
        f"--mount type=bind,source={repo},target=/models --mount type=bind,source={home},target=/root/.cache/"
        f"huggingface nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver --model-repository=/models"
    )
    out = tmp_path / f"report.{fmt}"
    with hub_server() as hub:
        env = {
            "HF_TOKEN": in_env,
            "HF_HOME": str(home),
            "HF_ENDPOINT": hub.url,
            "DOCKER_HOST": "unix:///nonexistent",
            "TRITON_DOCTOR_HUB_TIMEOUT": "2",
        }
        args = ["check", "--docker-command", command, "--format", fmt, *(["-v"] if verbose else [])]
        to_stdout = run_cli(*args, env=env)
        to_file = run_cli(*args, "--output", str(out), env=env)
        explained = run_cli("list-checks", env=env)
    texts = [to_stdout.stdout, to_stdout.stderr, to_file.stdout, to_file.stderr, out.read_text(), explained.stdout]
    for text in texts:
        for canary in (in_env, in_file, in_command):
            assert canary not in text
    # The run did use them: the Hub was asked, and the command's token was recognised.
    assert any("whoami" in r for r in hub.requests)
    assert "<redacted>" in to_stdout.stdout + to_stdout.stderr or (fmt == "text" and "<redacted>" in to_stdout.stderr)


def test_redact_catches_token_shaped_strings() -> None:
    from triton_doctor.core.secrets import redact

    assert redact("Bearer hf_abcdefghijklmnop and hf_short", set()) == "Bearer hf_<redacted> and hf_short"
    assert redact("x secret-value y", {"secret-value"}) == "x <redacted> y"
