"""Remedies computed from the same facts as the finding: did-you-mean against what exists, nothing left as a
placeholder the doctor could fill, and one root cause reported once with later findings pointing to it."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import all_findings, run_cli
from triton_doctor.app import sample_paths
from triton_doctor.core.closest import closest, closest_dir
from triton_doctor.logs import scan_lines
from triton_doctor.logs.findings import diagnosis_outcome
from triton_doctor.logs.remedies import Deployment
from triton_doctor.results import Category, CheckResult, Finding, Severity, Status
from triton_doctor.rootcause import RootCauses

IMAGE = "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3"


def _project(tmp_path: Path) -> Path:
    """A project folder with the shipped sample's ``model_repository/gemma``."""
    shutil.copytree(sample_paths()[0], tmp_path / "model_repository")
    return tmp_path / "model_repository"


def test_closest_names_the_nearest_existing_thing(tmp_path: Path) -> None:
    assert closest("tiyn", ["tiny", "gemma"]) == "tiny"
    assert closest("/model", ["/models", "/local_models"]) == "/models"
    assert closest("Gemma", ["gemma"]) == "gemma"
    assert closest("llama", ["gemma"]) is None
    (tmp_path / "triton_project" / "model_repository").mkdir(parents=True)
    assert (
        closest_dir(tmp_path / "triton_projet" / "model_repositry") == tmp_path / "triton_project" / "model_repository"
    )
    assert closest_dir(tmp_path / "elsewhere") is None


def test_mistyped_bind_source_gets_did_you_mean(tmp_path: Path) -> None:
    repo = _project(tmp_path)
    typo = tmp_path / "model_repositry"
    for spelled, expected in (
        (f"--mount type=bind,source={typo},target=/models", f"write source={repo}"),
        (f"-v {typo}:/models", f"write -v {repo}:/models"),
    ):
        command = f"docker run --gpus all --shm-size=1g {spelled} {IMAGE} tritonserver --model-repository=/models"
        result = run_cli(
            "check", "--only", "mount-sources", "--offline", "--docker-command", command, "--format", "json"
        )
        found = [f for f in all_findings(result.json()) if f["id"].startswith("mount-sources[")]
        assert found, result.stdout
        assert found[0]["remedy"] == f"did you mean {repo}? {expected}", found[0]
        assert "mkdir" not in found[0]["remedy"] and "<" not in found[0]["remedy"]


def test_model_repository_path_typo_names_the_mounted_target(tmp_path: Path) -> None:
    repo = _project(tmp_path)
    command = f"docker run --gpus all -v {repo}:/models {IMAGE} tritonserver --model-repository=/model"
    result = run_cli("check", "--only", "mount-coverage", "--offline", "--docker-command", command, "--format", "json")
    (finding,) = all_findings(result.json())
    assert finding["id"] == "mount-coverage[not-mounted]"
    assert finding["remedy"] == "did you mean /models? write --model-repository=/models"


def test_repository_typo_without_a_mount_gets_did_you_mean(tmp_path: Path) -> None:
    repo = _project(tmp_path)
    result = run_cli(
        "check", "--only", "model-repository", "--repo", str(tmp_path / "model_repositry"), "--format", "json"
    )
    (finding,) = all_findings(result.json())
    assert finding["remedy"] == f"did you mean {repo}? pass --repo {repo}"


COMPILER_LOG = """\
I1124 10:00:01.000 1 model_lifecycle.cc:473] loading: tiny:1
ERROR 11-24 10:00:05 [core.py:500] EngineCore failed to start.
  File "/usr/lib/python3/dist-packages/torch/_inductor/cpp_builder.py", line 120, in get_cpp_compiler
RuntimeError: No working C++ compiler found in torch._inductor.config.cpp.cxx: (None, 'g++')
RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}
E1124 10:00:06.000 1 model_lifecycle.cc:654] failed to load 'tiny' version 1: Internal: RuntimeError: Engine \
core initialization failed. See root cause above.
"""


def _log_findings(log: str, deployment: Deployment | None = None) -> list[Finding]:
    return list(diagnosis_outcome(scan_lines(log.splitlines()), "container triton_vllm_server", deployment).findings)


def test_missing_compiler_is_reported_once() -> None:
    first, second = (f for f in _log_findings(COMPILER_LOG) if f.severity is Severity.ERROR)
    assert "No working C++ compiler" in first.message and "g++" in first.remedy
    assert second.id == "container-logs[uncatalogued-load-failure]"
    assert second.message.endswith("same cause as container-logs[engine-dead] above (line 4)"), second.message
    assert second.remedy == "see container-logs[engine-dead] above"


def test_live_load_model_typo_gets_did_you_mean(tmp_path: Path) -> None:
    log = "E1124 1 model_repository_manager.cc:1] failed to poll model 'tiyn': model not found in any model repository"
    (finding,) = _log_findings(log, Deployment(repo=tmp_path, models=("tiny", "gemma")))
    assert finding.remedy == "did you mean 'tiny'? write --load-model=tiny (the repository has no tiyn/)"
    (finding,) = _log_findings(log, Deployment(repo=tmp_path, models=("gemma",)))
    assert finding.remedy.startswith("the repository holds gemma: pass --load-model with one of them")
    (finding,) = _log_findings(log)  # a log read alone: the catalog's remedy, with the name filled in
    assert "create the directory tiyn/" in finding.remedy


def test_version_directory_remedy_follows_what_is_there(tmp_path: Path) -> None:
    log = "E1124 1 model_lifecycle.cc:1] failed to load 'tiny', no version is available"
    model = tmp_path / "tiny"
    (model / "v1").mkdir(parents=True)
    (finding,) = _log_findings(log, Deployment(repo=tmp_path, models=("tiny",)))
    assert finding.remedy.startswith(f"mv {model}/v1 {model}/1 "), finding.remedy
    (model / "v1").rmdir()
    (model / "model.json").write_text("{}")
    (finding,) = _log_findings(log, Deployment(repo=tmp_path, models=("tiny",)))
    assert (
        finding.remedy
        == f"move model.json into a version directory: mkdir {model}/1 && mv {model}/model.json {model}/1/"
    )
    (model / "model.json").unlink()
    (finding,) = _log_findings(log, Deployment(repo=tmp_path, models=("tiny",)))
    assert "rename" not in finding.remedy and f"create {model}/1/model.json" in finding.remedy


def test_live_engine_argument_typo_names_the_key_of_the_images_vllm() -> None:
    log = "TypeError: AsyncEngineArgs.__init__() got an unexpected keyword argument 'gpu_memory_utilisation'"
    (finding,) = _log_findings(log, Deployment(image=IMAGE))
    assert finding.remedy == (
        "'gpu_memory_utilisation' is not an engine argument of vLLM 0.9.0rc1 (image 25.06): "
        "rename it to 'gpu_memory_utilization' in model.json"
    )
    assert "<" not in _log_findings(log)[0].remedy


def _result(check: str, *findings: Finding) -> CheckResult:
    return CheckResult(check=check, title=check, category=Category.DOCKER, status=Status.FAIL, findings=findings)


def test_no_gpu_runtime_is_reported_once() -> None:
    roots = RootCauses()
    cid = "docker-gpu-runtime-missing"
    first = roots.link(
        _result(
            "docker-gpu-runtime",
            Finding(
                id="docker-gpu-runtime[missing]",
                severity=Severity.ERROR,
                message="no runtime",
                evidence="x",
                remedy="install",
                catalog_id=cid,
            ),
        )
    )
    probe = roots.link(
        _result(
            "docker-gpu-runtime",
            Finding(
                id="docker-gpu-runtime[live]",
                severity=Severity.ERROR,
                message="refused",
                evidence="y",
                remedy="install",
                catalog_id=cid,
            ),
        )
    )
    live = roots.link(
        _result(
            "live-server",
            Finding(
                id="live-server[docker-gpu-runtime-missing]",
                severity=Severity.ERROR,
                message="refused",
                evidence="z",
                remedy="install",
                catalog_id=cid,
            ),
        )
    )
    assert first.findings[0].remedy == "install"
    for later in (probe, live):
        assert later.findings[0].remedy == "see docker-gpu-runtime[missing] above"
        assert later.findings[0].message.endswith("(same cause as docker-gpu-runtime[missing] above)")
        assert later.findings[0].severity is Severity.ERROR
