"""The cosmetic items of issue 21, one test each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from triton_doctor.report.redact import one_line


def test_tab_in_a_progress_line_is_a_space() -> None:
    assert one_line("I1124 model_lifecycle.cc:473]\tloading: tiny:1") == "I1124 model_lifecycle.cc:473] loading: tiny:1"
    assert one_line("a\nb") == "a\\x0ab"


def test_log_finding_names_the_model_after_for_model() -> None:
    text = run_cli("logs", str(ROOT / "fixtures" / "logs" / "max-batch-size-nonzero.log")).stderr
    assert "auto-complete-config function for model 'gemma' (line 23): max_batch_size is not 0" in text
    assert "for model (line" not in text


def test_bundle_help_lists_only_its_own_exit_codes() -> None:
    text = run_cli("bundle", "--help").stdout
    assert "0  the archive is written" in text
    assert "--fail-on" not in text and "\n  1  " not in text and "\n  3  " not in text


def test_driver_evidence_has_no_question_mark_for_an_unknown_driver() -> None:
    import json

    replay = ROOT / "tests" / "data" / "nvml" / "h100-80gb-driver580.json"
    report = run_cli(
        "check", "--only", "gpu-driver", "--image", "nvcr.io/nvidia/tritonserver:26.07-vllm-python-py3",
        "--format", "json", env={"TRITON_DOCTOR_NVML_REPLAY": str(replay)},
    ).json()  # fmt: skip
    evidence = [f["evidence"] for c in report["checks"] for f in c["findings"] if f["id"].startswith("gpu-driver")]
    assert any("built on CUDA 13.3.0 (the support matrix names no driver for it)" in e for e in evidence)
    assert not any("driver ?" in e for e in evidence), json.dumps(evidence)


class _Images:
    def __init__(self) -> None:
        self.removed: list[str] = []

    def remove(self, ref: str) -> None:
        self.removed.append(ref)


class _Client:
    def __init__(self) -> None:
        self.images = _Images()

    def close(self) -> None:
        pass


def test_probe_image_is_removed_when_this_run_made_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from triton_doctor.probes.docker_probe import PROBE_IMAGE, DockerProbe

    for keep, made, expected in (("", True, [PROBE_IMAGE]), ("1", True, []), ("", False, [])):
        monkeypatch.setenv("TRITON_DOCTOR_KEEP_PROBE_IMAGE", keep)
        probe = DockerProbe(timeout=1)
        client = _Client()
        probe._client = client
        probe._made_probe_image = made
        probe.close()
        assert client.images.removed == expected, (keep, made)


def test_mount_probe_says_which_image_it_used(tmp_path: Path) -> None:
    from tests.dockerutil import docker_client

    docker_client()  # skips without a daemon
    (tmp_path / "model_repository").mkdir()
    text = run_cli(
        "check", "--only", "mount-daemon-view", "--offline", "--mount", f"{tmp_path / 'model_repository'}:/models",
        "--repo", str(tmp_path / "model_repository"),
    ).stderr  # fmt: skip
    assert "in containers of the empty image triton-doctor/probe:1, labelled io.triton-doctor.owned" in text, text


def test_a_pass_with_models_not_checked_is_not_a_plain_check_mark(tmp_path: Path) -> None:
    # The sample guide's Hub model cannot be read here (the Hub is a closed port): its max_model_len is unknown.
    text = run_cli("check", "--sample", "guide", "--only", "max-model-len").stderr
    line = next(x for x in text.splitlines() if "max_model_len fits the model" in x)
    assert line.startswith("[~] ") and "not checked: gemma:" in line, line
    assert "[✓] max_model_len" not in text


def test_server_mode_does_not_call_an_invisible_local_model_found(tmp_path: Path) -> None:
    model = tmp_path / "model_repository" / "tiny"
    (model / "1").mkdir(parents=True)
    (model / "config.pbtxt").write_text('name: "tiny"\nbackend: "vllm"\nmax_batch_size: 0\n')
    (model / "1" / "model.json").write_text('{"model": "/local_models/tiny", "max_model_len": 4096}')
    text = run_cli(
        "check", "--server", "http://127.0.0.1:9", "--only", "model-source,max-model-len", cwd=tmp_path
    ).stderr  # fmt: skip
    assert "weights source found" not in text and "no config.json" not in text, text
    assert "/local_models/tiny is inside the running server (--server): its files are not visible here" in text
