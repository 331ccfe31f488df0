"""The Hugging Face checks through the real huggingface_hub client, against the local Hub protocol server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import all_findings, run_cli
from tests.hubserver import GATED, LIMITED, PUBLIC, SLOW, HubState, hub_server

GRANTED = "hf_readergranted0000000000000000000"
NOT_ACCEPTED = "hf_readernotaccepted00000000000000"
PENDING = "hf_readerpending000000000000000000"
FINE_NO_GATED = "hf_finegrainednogated0000000000000"
INVALID = "hf_revokedrevokedrevoked0000000000"


@pytest.fixture(scope="module")
def hub() -> Iterator[HubState]:
    with hub_server() as state:
        yield state


def _repo(root: Path, model_id: str) -> Path:
    model = root / "model_repository" / "m"
    (model / "1").mkdir(parents=True)
    (model / "config.pbtxt").write_text('backend: "vllm"\n')
    (model / "1" / "model.json").write_text(json.dumps({"model": model_id}))
    return root / "model_repository"


def _check(
    hub: HubState, tmp: Path, model_id: str, token: str | None, *extra: str, command_env: str = "-e HF_TOKEN"
) -> tuple[int, dict[str, Any], str]:
    repo = _repo(tmp, model_id)
    env = {
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(tmp / "hf_home"),
        "TRITON_DOCTOR_HUB_TIMEOUT": "2",
        "HF_HUB_OFFLINE": "0",
    }
    env["HF_TOKEN"] = token or ""
    env["HUGGING_FACE_HUB_TOKEN"] = ""
    command = (
        f"docker run --gpus all {command_env} --mount type=bind,source={repo},target=/models "
        "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver --model-repository=/models"
    )
    result = run_cli("check", "--only", "hf", "--docker-command", command, "--format", "json", *extra, env=env)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.json(), result.stderr


def _ids(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in all_findings(report)}


def test_granted_token_passes(hub: HubState, tmp_path: Path) -> None:
    code, report, _ = _check(hub, tmp_path, GATED, GRANTED)
    found = _ids(report)
    assert code == 0
    assert found["hf-token[valid]"]["message"].startswith("token of alice, role read")
    assert "hf-model-access[ok]" in found
    assert "GET /api/whoami-v2" in hub.requests and f"GET /api/models/{GATED}/auth-check" in hub.requests


def test_no_token_on_gated_model(hub: HubState, tmp_path: Path) -> None:
    code, report, _ = _check(hub, tmp_path, GATED, None, command_env="")
    found = _ids(report)
    assert code == 1
    assert found["hf-token[none]"]["catalog_id"] == "hf-gated-unauthenticated"
    access = found["hf-model-access[unauthenticated]"]
    assert access["catalog_id"] == "hf-gated-unauthenticated"
    assert f"{hub.url}/{GATED}" in access["remedy"]
    assert "You must be authenticated" in access["evidence"]


@pytest.mark.parametrize(
    ("token", "finding", "catalog"),
    [
        (NOT_ACCEPTED, "hf-model-access[not-accepted]", "hf-license-not-accepted"),
        (PENDING, "hf-model-access[pending]", "hf-license-not-accepted"),
        (FINE_NO_GATED, "hf-model-access[scope]", "hf-finegrained-token-no-gated-scope"),
    ],
)
def test_gated_access_states_are_told_apart(
    hub: HubState, tmp_path: Path, token: str, finding: str, catalog: str
) -> None:
    code, report, _ = _check(hub, tmp_path, GATED, token)
    found = _ids(report)
    assert code == 1
    assert found[finding]["catalog_id"] == catalog
    assert found[finding]["location"]["path"].endswith("m/1/model.json")


def test_fine_grained_token_is_flagged_by_whoami(hub: HubState, tmp_path: Path) -> None:
    _, report, _ = _check(hub, tmp_path, PUBLIC, FINE_NO_GATED)
    found = _ids(report)
    assert found["hf-token[fine-grained-no-gated]"]["catalog_id"] == "hf-finegrained-token-no-gated-scope"
    assert "hf-model-access[ok]" in found


def test_invalid_token(hub: HubState, tmp_path: Path) -> None:
    code, report, stderr = _check(hub, tmp_path, PUBLIC, INVALID)
    found = _ids(report)
    assert code == 1
    assert found["hf-token[invalid]"]["catalog_id"] == "hf-invalid-token"
    assert "HF_TOKEN in your environment takes precedence" in found["hf-token[invalid]"]["message"]
    assert INVALID not in json.dumps(report) and INVALID not in stderr


def test_missing_model(hub: HubState, tmp_path: Path) -> None:
    code, report, _ = _check(hub, tmp_path, "meta-llama/Llama-9-404b", GRANTED)
    assert code == 1
    assert _ids(report)["hf-model-access[not-found]"]["catalog_id"] == "hf-repo-not-found"


def test_rate_limit_and_timeout_are_warnings(hub: HubState, tmp_path: Path) -> None:
    code, report, _ = _check(hub, tmp_path / "a", LIMITED, GRANTED)
    found = _ids(report)
    assert code == 0 and found["hf-model-access[unreachable]"]["catalog_id"] == "hf-rate-limited"
    code, report, _ = _check(hub, tmp_path / "b", SLOW, GRANTED)
    found = _ids(report)
    assert code == 0 and found["hf-model-access[unreachable]"]["severity"] == "warning"
    assert "timeout" in found["hf-model-access[unreachable]"]["message"]


def test_unset_host_variable_in_powershell_command(hub: HubState, tmp_path: Path) -> None:
    code, report, _ = _check(hub, tmp_path, GATED, None, command_env="--env HUGGING_FACE_HUB_TOKEN=$env:HF_TOKEN")
    found = _ids(report)
    assert code == 1
    assert "HF_TOKEN is not set" in found["hf-token[unset-variable]"]["message"]


def test_offline_skips_network_and_never_fails(hub: HubState, tmp_path: Path) -> None:
    seen = len(hub.requests)
    code, report, _ = _check(hub, tmp_path, GATED, GRANTED, "--offline")
    statuses = {c["check"]: c["status"] for c in report["checks"]}
    assert code == 0
    assert statuses["hf-model-access"] == "skip"
    new = [r for r in hub.requests[seen:] if SLOW not in r]  # a slow request of an earlier test may still end
    assert new == []


def test_unreachable_hub_is_a_warning(tmp_path: Path) -> None:
    with hub_server() as gone:
        url = gone.url
    state = HubState(url=url)
    code, report, _ = _check(state, tmp_path, GATED, GRANTED)
    found = _ids(report)
    assert code == 0
    assert found["hf-model-access[unreachable]"]["severity"] == "warning"
    assert found["hf-token[unchecked]"]["severity"] == "warning"


def test_invalid_token_leaves_model_access_unchecked(hub: HubState, tmp_path: Path) -> None:
    code, report, _ = _check(hub, tmp_path, GATED, INVALID)
    found = _ids(report)
    assert code == 1 and "hf-token[invalid]" in found
    assert "hf-model-access[not-found]" not in found
    unchecked = found["hf-model-access[unchecked]"]
    assert unchecked["severity"] == "warning" and "could not be checked" in unchecked["message"]
    assert unchecked["catalog_id"] is None
