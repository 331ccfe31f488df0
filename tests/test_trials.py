"""Reproductions from new-user trials (issue 12): each finding true for the user's situation, each remedy fitting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES, all_findings, run_cli
from tests.tritonfake import fake_triton
from triton_doctor.deploy.target import Target
from triton_doctor.facts.context import Context, Probes
from triton_doctor.probes.docker_facts import DockerFacts
from triton_doctor.probes.docker_probe import DockerProbe
from triton_doctor.results import Status
from triton_doctor.runner import SERVER_SKIP, RunOptions, run_checks

HEALTHY_LOCAL = FIXTURES / "repos" / "healthy-local"
NO_DAEMON = {"DOCKER_HOST": "unix:///nonexistent/triton-doctor-test.sock"}


def _statuses(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in report["checks"]}


# -- up -----------------------------------------------------------------------------------------------------


def test_up_help_says_what_up_does() -> None:
    text = run_cli("up", "--help").stdout
    assert "no generation" not in text
    assert "test generation" in text
    lines = text.splitlines()
    for option in ("--format", "-v, --verbose", "--fail-on", "--output"):
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(option))
        # Every option has its help text, on its line or (after a long metavar) on the next one.
        wrapped = (
            at + 1 < len(lines) and lines[at + 1].startswith(" " * 6) and not lines[at + 1].strip().startswith("-")
        )
        assert len(lines[at].split(None, 2)) > 2 or wrapped, lines[at]
    assert "--fail-on [warn|fail]" in text  # the epilog's exit code 1 mentions --fail-on: up has it


def test_up_without_docker_daemon_does_not_exit_0() -> None:
    result = run_cli("up", "--repo", str(HEALTHY_LOCAL / "model_repository"), "--format", "json", env=NO_DAEMON)
    assert result.exit_code == 1, result.stderr
    found = {f["id"]: f for f in all_findings(result.json())}
    assert "live-server[no-docker]" in found
    assert "--server" in found["live-server[no-docker]"]["remedy"]


# -- --server -----------------------------------------------------------------------------------------------


GUIDE_COMMAND = (
    "docker run --gpus all -d --shm-size=1g -p 8000:8000 -p 8001:8001 -p 8002:8002 "
    "--mount type=bind,source={repo},target=/models --name triton_vllm_server "
    "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver --model-repository=/models "
    "--model-control-mode=explicit --load-model=tiny"
)


def _tiny_repo(tmp_path: Path, model: str = "/local_models/tiny-llama") -> Path:
    repo = tmp_path / "model_repository"
    (repo / "tiny" / "1").mkdir(parents=True)
    (repo / "tiny" / "config.pbtxt").write_text(
        'backend: "vllm"\nmax_batch_size: 0\nmodel_transaction_policy { decoupled: true }\n'
        "instance_group [ { count: 1, kind: KIND_MODEL } ]\n"
    )
    (repo / "tiny" / "1" / "model.json").write_text(json.dumps({"model": model, "max_model_len": 512}))
    return repo


def test_server_mode_judges_the_running_server_not_a_container_to_start(tmp_path: Path) -> None:
    repo = _tiny_repo(tmp_path)
    command = GUIDE_COMMAND.format(repo=repo)
    with fake_triton({"tiny": {"name": "tiny", "backend": "vllm", "max_batch_size": 0}}) as url:
        result = run_cli("check", "--server", url, "--docker-command", command, "--format", "json", env=NO_DAEMON)
    report = result.json()
    checks = _statuses(report)
    for cid in ("docker-ports", "docker-container-name", "docker-run-options", "docker-gpu-runtime"):
        assert checks[cid]["status"] == "skip" and checks[cid]["skip_reason"] == SERVER_SKIP, checks[cid]
    for cid in ("mount-coverage", "mount-daemon-view", "mount-sources", "hf-token", "hf-model-access"):
        assert checks[cid]["skip_reason"] == SERVER_SKIP, checks[cid]
    messages = " ".join(f["message"] for f in all_findings(report))
    assert "lies under no mount" not in messages
    assert checks["live-server"]["status"] == "pass"
    assert checks["live-server"]["summary"].count(url) == 1, checks["live-server"]["summary"]
    assert checks["live-generate"]["status"] == "pass"


def test_verbose_shows_the_generated_text_and_the_generation_time(tmp_path: Path) -> None:
    repo = _tiny_repo(tmp_path)
    pieces = [" Paris", " is\tthe [bold]capital[/bold]", "\n"]
    with fake_triton({"tiny": {"name": "tiny", "backend": "vllm"}}, pieces, delay_s=0.4) as url:
        result = run_cli("check", "--server", url, "--repo", str(repo), "--only", "live", "-v")
    text = result.stderr
    assert '" Paris is\\tthe [bold]capital[/bold]\\n"' in text, text  # escaped, not rendered as markup
    line = next(line for line in text.splitlines() if line.startswith("[✓] Real generation"))
    assert int(line.rsplit(" ", 2)[-2]) >= 400, line  # the generation's own duration, not 0 ms


def test_live_generate_capped_text() -> None:
    from triton_doctor.checks.live_generate import SHOWN_CHARS, shown_text

    shown = shown_text("x" * (SHOWN_CHARS + 50))
    assert shown.endswith("(+50 more)") and shown.count("x") == SHOWN_CHARS


# -- GPU runtime --------------------------------------------------------------------------------------------


class _RecordedDocker(DockerProbe):
    """``docker info`` as recorded on another host (the daemon's answer replayed, like NVML replays)."""

    def __init__(self, facts: DockerFacts) -> None:
        super().__init__()
        self._facts = facts

    def facts(self) -> DockerFacts:
        return self._facts


def _run_check(check_id: str, target: Target, facts: DockerFacts, **ctx_kw: Any) -> Any:
    from triton_doctor.registry import load_registry

    ctx = Context(target, probes=Probes(docker=_RecordedDocker(facts)), **ctx_kw)
    cls = load_registry().checks[check_id]
    (result,) = [r for r in run_checks([cls], ctx, RunOptions()) if r.check == check_id]
    return result


def test_cdi_counts_as_gpu_runtime(tmp_path: Path) -> None:
    cdi = tmp_path / "cdi"
    cdi.mkdir()
    (cdi / "nvidia.yaml").write_text('cdiVersion: "0.5.0"\nkind: nvidia.com/gpu\ndevices:\n- name: all\n')
    facts = DockerFacts(
        host="unix:///var/run/docker.sock", reachable=True, runtimes=("runc",), cdi_spec_dirs=(str(cdi),)
    )
    result = _run_check("docker-gpu-runtime", Target(repo=str(tmp_path)), facts)
    assert result.status is Status.PASS, result
    assert "CDI" in result.summary
    bare = DockerFacts(host="unix:///var/run/docker.sock", reachable=True, runtimes=("runc",), cdi_spec_dirs=())
    result = _run_check("docker-gpu-runtime", Target(repo=str(tmp_path)), bare)
    if result.status is Status.FAIL:  # a host with the toolkit on PATH passes
        assert "--no-gpus" in result.findings[0].remedy


def test_no_gpus_runs_no_gpu_probe(tmp_path: Path) -> None:
    from triton_doctor.live import LiveOptions

    bare = DockerFacts(host="unix:///var/run/docker.sock", reachable=True, runtimes=("runc",))
    ctx_target = Target(repo=str(tmp_path))
    from triton_doctor.registry import load_registry

    ctx = Context(ctx_target, probes=Probes(docker=_RecordedDocker(bare)), live=True)
    ctx.live_options = LiveOptions(gpus=False)
    cls = load_registry().checks["docker-gpu-runtime"]
    (result,) = [r for r in run_checks([cls], ctx, RunOptions()) if r.check == "docker-gpu-runtime"]
    assert result.status is Status.PASS, result
    assert "docker-gpu-runtime[live-skipped]" in {f.id for f in result.findings}


# -- plugins ------------------------------------------------------------------------------------------------


def _plugin_dist(root: Path, module_text: str) -> Path:
    """A real installed distribution (a module and its .dist-info) registering the check ``hang-check``."""
    (root / "hangplugin.py").write_text(module_text)
    info = root / "hangplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hangplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[triton_doctor.checks]\nhang-check = hangplugin:HangCheck\n")
    return root


def _doctor_subprocess(root: Path, *args: str) -> Any:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(root), "TRITON_DOCTOR_PLUGIN_TIMEOUT": "1", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "triton_doctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_plugin_hanging_on_import_is_reported_not_loaded(tmp_path: Path) -> None:
    root = _plugin_dist(tmp_path, "import time\ntime.sleep(3600)\n")
    for args, code in (
        (("list-checks",), 0),
        (("explain", "config-name"), 0),
        (("check", "--sample", "--only", "repo"), 0),
    ):
        proc = _doctor_subprocess(root, *args)
        assert proc.returncode == code, (args, proc.stderr)
        assert "hang-check = hangplugin:HangCheck" in proc.stderr or args[0] == "explain", (args, proc.stderr)
        assert "did not finish in 1 s" in proc.stderr or args[0] == "explain", proc.stderr


def test_plugin_timeout_is_capped() -> None:
    import time

    from triton_doctor.check import Check
    from triton_doctor.results import Category, Outcome
    from triton_doctor.runner import PLUGIN_TIMEOUT_S, check_timeout

    class Forever(Check):
        id = "forever"
        title = "a plugin check that never ends"
        category = Category.REPO
        timeout_s = 1e12

        def run(self, ctx: Context) -> Outcome:
            time.sleep(3600)
            return Outcome()

    assert check_timeout(Forever) == PLUGIN_TIMEOUT_S
    start = time.monotonic()
    (result,) = run_checks([Forever], Context(Target(repo=".")), RunOptions(timeout_scale=0.002))
    assert result.status is Status.ERROR and time.monotonic() - start < 5
    from triton_doctor.registry import load_registry

    assert check_timeout(load_registry().checks["live-server"]) == 3600.0


# -- pasted commands ----------------------------------------------------------------------------------------

PLACEHOLDER_ROOT = "C:\\Users\\<ваше_имя_пользователя>\\triton_project"
GUIDE_PS = (
    "docker run --gpus all -d --rm -p 8000:8000 -p 8001:8001 -p 8002:8002 --env HUGGING_FACE_HUB_TOKEN=$env:HF_TOKEN "
    f'--mount type=bind,source="{PLACEHOLDER_ROOT}\\model_repository",target="/models" '
    '--mount type=volume,source=triton_hf_cache,target="/root/.cache/huggingface" --name triton_vllm_server '
    "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver --model-repository=/models "
    "--model-control-mode=explicit --load-model=gemma"
)


def _guide_project(root: Path) -> Path:
    """The guide's remote-model project folder: model_repository/gemma with the guide's own files."""
    from triton_doctor.app import sample_paths

    src = sample_paths(guide=True)[0] / "gemma"
    model = root / "model_repository" / "gemma"
    (model / "1").mkdir(parents=True)
    (model / "config.pbtxt").write_text((src / "config.pbtxt").read_text(encoding="utf-8"), encoding="utf-8")
    (model / "1" / "model.json").write_text((src / "1" / "model.json").read_text(encoding="utf-8"), encoding="utf-8")
    return root


def test_powershell_command_pasted_verbatim(tmp_path: Path) -> None:
    project = _guide_project(tmp_path / "triton_project")
    (project / "run.ps1").write_text(GUIDE_PS, encoding="utf-8")
    env = {"HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyz12345678", **NO_DAEMON}
    result = run_cli("check", "--docker-command-file", "run.ps1", "--offline", "--format", "json", cwd=project, env=env)
    report = result.json()
    found = {f["id"]: f for f in all_findings(report)}
    placeholder = found["mount-sources[placeholder]"]
    assert "<ваше_имя_пользователя>" in placeholder["message"] and "replace" in placeholder["remedy"]
    # The folder the command means is checked through its copy here: the guide's files, Hub id and bug seen.
    checks = _statuses(report)
    assert checks["model-repository"]["status"] == "pass", checks["model-repository"]
    assert checks["hf-token"]["status"] != "skip", checks["hf-token"]
    assert "config-batching[max-batch-size]" in found or any(i.startswith("config-batching[") for i in found)
    # Without the copy: one warning that the path cannot be read here, never also "does not exist".
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    (empty / "run.ps1").write_text(GUIDE_PS.replace("<ваше_имя_пользователя>", "me"), encoding="utf-8")
    report = run_cli(
        "check", "--docker-command-file", "run.ps1", "--only", "repo,mounts", "--format", "json", cwd=empty, env=env
    ).json()
    found = {f["id"]: f for f in all_findings(report)}
    assert "model-repository[missing]" not in found
    assert found["model-repository[windows-elsewhere]"]["severity"] == "warning"
    assert "mkdir -p C:" not in json.dumps(report)


def test_missing_windows_repository_remedy_uses_backslashes() -> None:
    result = run_cli("check", "--only", "model-repository", "--repo", "D:\\nowhere\\model_repository")
    if "cannot be read from this system" in result.stderr:
        return  # Not Windows: the path cannot be judged here, which the other test covers.
    assert 'mkdir "D:\\nowhere\\model_repository\\<model>\\1"' in result.stderr


def test_powershell_env_syntax_in_a_bash_file(tmp_path: Path) -> None:
    project = _guide_project(tmp_path)
    command = GUIDE_PS.replace(f"{PLACEHOLDER_ROOT}\\model_repository", str(project / "model_repository"))
    (project / "run.sh").write_text(command, encoding="utf-8")
    result = run_cli(
        "check", "--docker-command-file", str(project / "run.sh"), "--only", "hf-token", "--offline", "--format", "json"
    )
    found = {f["id"]: f for f in all_findings(result.json())}
    bad = found["hf-token[powershell-in-bash]"]
    assert bad["severity"] == "error" and "HUGGING_FACE_HUB_TOKEN=:HF_TOKEN" in bad["message"]
    assert "$HF_TOKEN" in bad["remedy"]
    # The same line in a .ps1 file is right.
    (project / "run.ps1").write_text(command, encoding="utf-8")
    result = run_cli("check", "--docker-command-file", str(project / "run.ps1"), "--only", "hf-token", "--offline")
    assert "powershell-in-bash" not in result.stderr and "PowerShell syntax" not in result.stderr


def test_v_with_missing_source_will_be_created(tmp_path: Path) -> None:
    missing = tmp_path / "not_yet"
    image = "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3"
    report = run_cli(
        "check", "--only", "mount-sources", "--docker-command", f"docker run -v {missing}:/extra {image}",
        "--format", "json",
    ).json()  # fmt: skip
    found = {f["id"]: f for f in all_findings(report)}
    assert found["mount-sources[will-create]"]["severity"] == "warning"
    assert "Docker will create an empty directory" in found["mount-sources[will-create]"]["message"]
    report = run_cli(
        "check", "--only", "mount-sources", "--docker-command",
        f"docker run --mount type=bind,source={missing},target=/extra {image}", "--format", "json",
    ).json()  # fmt: skip
    assert {f["id"] for f in all_findings(report)} == {"mount-sources[missing]"}


# -- the README's main command ------------------------------------------------------------------------------


def test_sample_guide_is_the_guide_as_written_and_its_bug_is_found() -> None:
    from triton_doctor.app import sample_paths

    guide = sample_paths(guide=True)[0] / "gemma" / "config.pbtxt"
    assert "max_batch_size: 256" in guide.read_text(encoding="utf-8")
    result = run_cli("check", "--sample", "guide", "--only", "repo", "--format", "json")
    assert result.exit_code == 1, result.stderr
    found = [f for f in all_findings(result.json()) if f["severity"] == "error"]
    assert [f["catalog_id"] for f in found] == ["max-batch-size-nonzero"], found
    assert found[0]["location"]["line"] == 3
    assert run_cli("check", "--sample", "--only", "repo").exit_code == 0
    assert run_cli("check", "--sample", "nope").exit_code == 2


# -- remedies -----------------------------------------------------------------------------------------------

COMPILER_LOG = """\
I1124 10:00:01.000 1 model_lifecycle.cc:473] loading: tiny:1
ERROR 11-24 10:00:05 [core.py:500] EngineCore failed to start.
  File "/usr/lib/python3/dist-packages/torch/_inductor/cpp_builder.py", line 120, in get_cpp_compiler
RuntimeError: No working C++ compiler found in torch._inductor.config.cpp.cxx: (None, 'g++')
RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}
"""

ODD_LOG = COMPILER_LOG.replace(
    "RuntimeError: No working C++ compiler found in torch._inductor.config.cpp.cxx: (None, 'g++')",
    "ValueError: the flux capacitor is not charged",
)


def test_uncatalogued_load_failure_remedy_fits_the_quoted_cause(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text(COMPILER_LOG)
    found = all_findings(run_cli("logs", str(log), "--format", "json").json())
    errors = [f for f in found if f["severity"] == "error"]
    assert errors and "No working C++ compiler found" in errors[0]["message"]
    assert "compiler" in errors[0]["remedy"] and "max_num_seqs" not in errors[0]["remedy"]
    log.write_text(ODD_LOG)
    errors = [f for f in all_findings(run_cli("logs", str(log), "--format", "json").json()) if f["severity"] == "error"]
    assert "flux capacitor" in errors[0]["message"]
    assert "not one triton-doctor knows" in errors[0]["remedy"] and "max_num_seqs" not in errors[0]["remedy"]


def test_one_mount_typo_is_reported_once(tmp_path: Path) -> None:
    typo = tmp_path / "model_repositry"
    command = (
        f"docker run --gpus all --shm-size=1g --mount type=bind,source={typo},target=/models "
        "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver --model-repository=/models"
    )
    result = run_cli("check", "--only", "mounts,repo", "--offline", "--docker-command", command, "--format", "json")
    assert result.exit_code == 1
    found = [f for f in all_findings(result.json()) if f["catalog_id"] == "bind-source-missing"]
    first, *others = found
    assert first["id"] == "mount-sources[missing]" and "mkdir -p" in first["remedy"]
    assert others and all(f["remedy"] == "see mount-sources[missing] above" and not f["evidence"] for f in others)
    assert result.stderr.count("mkdir -p") == 1, result.stderr


# -- a big repository ---------------------------------------------------------------------------------------


def _many_models(root: Path, count: int = 200, broken: tuple[int, ...] = (7, 157)) -> Path:
    import shutil

    from triton_doctor.app import sample_paths

    src = sample_paths()[0] / "gemma"
    repo = root / "model_repository"
    for i in range(count):
        model = repo / f"model_{i:03d}"
        shutil.copytree(src, model)
        text = (model / "config.pbtxt").read_text().replace('name: "gemma"', f'name: "model_{i:03d}"')
        if i in broken:
            text = text.replace("max_batch_size: 0", "max_batch_size: 256")
        (model / "config.pbtxt").write_text(text)
    return repo


def test_text_report_for_200_models_summarises(tmp_path: Path) -> None:
    repo = _many_models(tmp_path)
    text = run_cli("check", "--only", "repo", "--repo", str(repo)).stderr
    headlines = [line for line in text.splitlines() if line.startswith("[")]
    assert all(len(line) < 250 for line in headlines), max(headlines, key=len)
    assert "model_100" not in text  # a model without findings is counted, not named
    assert "2 with findings: model_007: 1 error; model_157: 1 error" in text
    assert len(text.encode()) < 5000, len(text.encode())
    verbose = run_cli("check", "--only", "repo", "--repo", str(repo), "-v").stderr
    assert "model_100: config.pbtxt parses" in verbose
    report = run_cli("check", "--only", "repo", "--repo", str(repo), "--format", "json").json()
    parses = next(c for c in report["checks"] if c["check"] == "model-config")
    assert "model_100: config.pbtxt parses" in parses["summary"]


def test_server_mode_reads_the_running_servers_models_and_configs(tmp_path: Path) -> None:
    repo = _tiny_repo(tmp_path)
    config = repo / "tiny" / "config.pbtxt"
    config.write_text(config.read_text().replace("max_batch_size: 0", "max_batch_size: 256"))
    served = {
        "tiny": {
            "name": "tiny",
            "backend": "vllm",
            "max_batch_size": 0,
            "model_transaction_policy": {"decoupled": True},
        }
    }
    with fake_triton(served, broken={"other": "failed to load 'other': no version"}) as url:
        result = run_cli(
            "check", "--server", url, "--repo", str(repo), "--model", "tiny", "--only", "live", "--format", "json"
        )
    found = {f["id"]: f for f in all_findings(result.json())}
    drift = found["server-models[drift]"]
    assert "max_batch_size: server 0, local 256" in drift["evidence"]
    assert drift["location"]["path"].endswith("tiny/config.pbtxt")
    assert "no version" in found["server-models[unavailable]"]["message"]


def test_server_mode_grpc_endpoint_is_derived_and_only_tried_when_it_answers(tmp_path: Path) -> None:
    import socket

    from triton_doctor.live.generate import answers as _answers
    from triton_doctor.live.generate import grpc_url_of as _grpc_url_of

    assert _grpc_url_of("http://staging:8000") == "grpc://staging:8001"
    assert _grpc_url_of("http://127.0.0.1:18080") is None
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert _answers(f"grpc://127.0.0.1:{listener.getsockname()[1]}")
        closed = listener.getsockname()[1]
    assert not _answers(f"grpc://127.0.0.1:{closed}", timeout=1.0)
    # --grpc naming a port where nothing answers: HTTP generations only, no gRPC failure.
    repo = _tiny_repo(tmp_path)
    with fake_triton({"tiny": {"name": "tiny", "backend": "vllm"}}) as url:
        report = run_cli(
            "check", "--server", url, "--grpc", f"127.0.0.1:{closed}", "--repo", str(repo), "--only", "live",
            "--format", "json",
        ).json()  # fmt: skip
    generations = [f for f in all_findings(report) if f["id"].startswith("live-generate[")]
    assert [f["id"] for f in generations if f["id"] != "live-generate[counters]"] == ["live-generate[ok]"] * 2


def test_v_with_missing_repository_is_an_empty_repository_not_a_mount_error(tmp_path: Path) -> None:
    missing = tmp_path / "model_repository"
    command = f"docker run -v {missing}:/models nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver"
    report = run_cli("check", "--only", "repo,mounts", "--offline", "--docker-command", command, "--format", "json")
    found = {f["id"]: f for f in all_findings(report.json())}
    assert found["mount-sources[will-create]"]["severity"] == "warning"
    repo = found["model-repository[missing]"]
    assert "creates it empty" in repo["message"] and repo["catalog_id"] is None
