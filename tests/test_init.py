"""``triton-doctor init`` and the download fix, against the local Hub server (never a real hub)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, run_cli
from tests.hubserver import TINY, TINY_FILES, hub_server
from tests.test_fix import snapshot


def _doctor(*args: str, cwd: Path, endpoint: str) -> subprocess.CompletedProcess[str]:
    # huggingface_hub reads HF_ENDPOINT when first imported: a fresh process points it at the local server.
    env = {**os.environ, "HF_ENDPOINT": endpoint, "NO_COLOR": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "triton_doctor", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_init_writes_the_guide_layout_that_passes_check(tmp_path: Path) -> None:
    result = run_cli("init", "google/gemma-3-1b-it", "--repo", str(tmp_path / "model_repository"))
    assert result.exit_code == 0, result.stderr
    model = tmp_path / "model_repository" / "gemma-3-1b-it"
    assert (model / "1" / "model.json").is_file()
    text = (model / "config.pbtxt").read_text()
    assert 'backend: "vllm"' in text and "max_batch_size: 0" in text and "decoupled: true" in text
    assert "triton-doctor check --repo" in result.stdout
    check = run_cli("check", "--only", "repo", "--repo", str(tmp_path / "model_repository"))
    assert check.exit_code == 0, check.stderr


def test_init_refuses_to_overwrite_and_bad_ids(tmp_path: Path) -> None:
    repo = str(tmp_path / "model_repository")
    assert run_cli("init", "google/gemma-3-1b-it", "--repo", repo, "--name", "gemma").exit_code == 0
    before = snapshot(tmp_path)
    again = run_cli("init", "other/model", "--repo", repo, "--name", "gemma")
    assert again.exit_code == 2 and "already exists" in again.stderr and "never overwrites" in again.stderr
    bad = run_cli("init", "not a/model id", "--repo", repo)
    assert bad.exit_code == 2 and "not a Hugging Face model id" in bad.stderr
    name = run_cli("init", "google/x", "--repo", repo, "--name", "../escape")
    assert name.exit_code == 2
    assert snapshot(tmp_path) == before


def test_init_local_downloads_and_passes_check(tmp_path: Path) -> None:
    with hub_server() as hub:
        result = _doctor("init", TINY, "--local", "--repo", "model_repository", cwd=tmp_path, endpoint=hub.url)
    assert result.returncode == 0, result.stdout + result.stderr
    local = tmp_path / "local_models" / "tiny-org_tiny-model"
    for name, data in TINY_FILES.items():
        assert (local / name).read_bytes() == data
    assert (
        '"/local_models/tiny-org_tiny-model"'
        in (tmp_path / "model_repository" / "tiny-model" / "1" / "model.json").read_text()
    )
    assert "--mount" in result.stdout
    check = run_cli(
        "check", "--only", "repo", "--repo", str(tmp_path / "model_repository"),
        "--mount", f"{tmp_path / 'local_models'}:/local_models",
    )  # fmt: skip
    assert check.exit_code == 0, check.stderr


def test_download_fix_fills_the_folder_and_undo_removes_it(tmp_path: Path) -> None:
    work = tmp_path / "case"
    shutil.copytree(FIXTURES / "repos" / "healthy-local", work)
    folder = work / "local_models" / "tiny-org_tiny-model"
    folder.mkdir()
    (folder / "README.md").write_text("mine\n")
    model_json = work / "model_repository" / "gemma_local" / "1" / "model.json"
    model_json.write_text(model_json.read_text().replace("google_gemma-3-1b-it", "tiny-org_tiny-model"))
    before = snapshot(work)
    args = ["--repo", "model_repository", "--mount", "local_models:/local_models"]
    with hub_server() as hub:
        safe_only = _doctor("fix", "--yes", *args, cwd=work, endpoint=hub.url)
        assert "unsafe" in safe_only.stdout and snapshot(work) == before
        offline = _doctor("fix", "--yes", "--unsafe", "--offline", *args, cwd=work, endpoint=hub.url)
        assert "--offline given" in offline.stdout and snapshot(work) == before
        result = _doctor("fix", "--yes", "--unsafe", *args, cwd=work, endpoint=hub.url)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "fixed   model-source[no-config]" in result.stdout
    for name, data in TINY_FILES.items():
        assert (folder / name).read_bytes() == data
    assert (folder / "README.md").read_text() == "mine\n"
    undo = _doctor("fix", "--undo", *args, cwd=work, endpoint="http://127.0.0.1:9")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert snapshot(work) == before
