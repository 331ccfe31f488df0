"""``init --local`` errors in the user's words (token, licence, network) and the same command resuming."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.hubserver import GATED, TINY, TINY_FILES, hub_server

NOT_ACCEPTED = "hf_readernotaccepted00000000000000"


def _init(*args: str, cwd: Path, endpoint: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_ENDPOINT": endpoint, "NO_COLOR": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_TOKEN", None)
    env.pop("HUGGING_FACE_HUB_TOKEN", None)
    env["HF_HOME"] = str(cwd / "hf_home")  # no login token of this machine
    if token:
        env["HF_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "triton_doctor", "init", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_gated_model_names_the_token_and_the_licence(tmp_path: Path) -> None:
    with hub_server() as hub:
        result = _init(GATED, "--local", cwd=tmp_path, endpoint=hub.url)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr and "Client Error" not in result.stderr
        assert f"is a gated model and no valid token was sent (HTTP 401): accept its licence at {hub.url}/{GATED}" in (
            result.stderr
        )
        assert "export HF_TOKEN=" in result.stderr
        denied = _init(GATED, "--local", cwd=tmp_path, endpoint=hub.url, token=NOT_ACCEPTED)
    assert denied.returncode == 2
    assert NOT_ACCEPTED not in denied.stderr
    assert (
        f"this token's account has no access yet (HTTP 403): accept the licence at {hub.url}/{GATED}" in denied.stderr
    )


def test_offline_is_said_plainly_and_the_same_command_resumes(tmp_path: Path) -> None:
    offline = _init(TINY, "--local", cwd=tmp_path, endpoint="http://127.0.0.1:9")
    assert offline.returncode == 2
    assert "ConnectError" not in offline.stderr and "Traceback" not in offline.stderr
    assert "cannot download tiny-org/tiny-model: http://127.0.0.1:9 cannot be reached from this machine" in (
        offline.stderr
    )
    assert "model_repository/tiny-model is written" in offline.stderr
    with hub_server() as hub:
        again = _init(TINY, "--local", cwd=tmp_path, endpoint=hub.url)
    assert again.returncode == 0, again.stderr
    assert "resuming the download" in again.stdout
    local = tmp_path / "local_models" / "tiny-org_tiny-model"
    assert all((local / name).read_bytes() == data for name, data in TINY_FILES.items())
