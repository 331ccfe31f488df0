"""Kubernetes: manifests (public charts and runtimes as fixtures), pod state (captures from public threads),
``command --format k8s``, the read-only ``--kube`` mode against an unreachable API server."""

from __future__ import annotations

import json
import shutil
import socket
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, run_cli
from triton_doctor.app import sample_paths
from triton_doctor.deploy.kube.model import parse_quantity
from triton_doctor.deploy.kube.podstate import pod_catalog, scan_pod_state
from triton_doctor.deploy.kube.record import apply_to_target
from triton_doctor.deploy.kube.yamlread import read_manifests
from triton_doctor.deploy.target import Target
from triton_doctor.facts.context import Context

DATA = ROOT / "tests" / "data" / "k8s"
MANIFESTS = DATA / "manifests"
PODSTATE = DATA / "podstate"

#: What each listed manifest exercises (peers-2.md 3c), as sub-ids of kube-manifest / kube-pod-spec that must
#: be found, and ones that must not (the "good baseline" fields).
EXPECT: dict[str, tuple[set[str], set[str]]] = {
    "triton-inference-server__server/deploy/k8s-onprem/templates/deployment.yaml": (
        {"helm-template", "image-no-vllm", "no-shm", "hf-home", "control-mode"},
        {"no-startup-probe", "startup-budget", "remote-repository"},
    ),
    "triton-inference-server__server/deploy/gcp/templates/deployment.yaml": (
        {"remote-repository", "no-startup-probe", "no-shm", "image-no-vllm"},
        set(),
    ),
    "triton-inference-server__server/deploy/aws/templates/deployment.yaml": (
        {"remote-repository", "no-startup-probe", "no-shm"},
        set(),
    ),
    "triton-inference-server__server/deploy/oci/templates/deployment.yaml": (
        {"remote-repository", "no-startup-probe", "no-shm"},
        set(),
    ),
    "triton-inference-server__server/deploy/fleetcommand/templates/deployment.yaml": (
        {"helm-template", "no-shm", "hf-home"},
        set(),
    ),
    "triton-inference-server__server/deploy/gke-marketplace-app/server-deployer/chart/triton/templates/"
    "deployment.yaml": ({"helm-template", "no-shm", "remote-repository"}, set()),
    "triton-inference-server__tutorials/Deployment/Kubernetes/TensorRT-LLM_Autoscaling_and_Load_Balancing/chart/"
    "templates/deployment.yaml": ({"shm-init-only", "no-startup-probe"}, {"no-shm"}),
    "triton-inference-server__tutorials/Deployment/Kubernetes/EKS_Multinode_Triton_TRTLLM/multinode_helm_chart/"
    "chart/templates/deployment.yaml": (set(), {"no-shm", "shm-init-only", "no-startup-probe", "startup-budget"}),
    "kserve__kserve/config/runtimes/kserve-tritonserver.yaml": (
        {"memory-limit", "cpu-limit", "hf-home", "no-shm", "no-probes"},
        set(),
    ),
    "kserve__kserve/config/runtimes/kserve-vllmserver.yaml": (
        set(),
        {"no-shm", "hf-home", "no-startup-probe", "startup-budget", "spawn"},
    ),
    "kserve__kserve/config/runtimes/kserve-huggingfaceserver-multinode.yaml": (set(), {"no-shm", "hf-home"}),
    "kserve__kserve/docs/samples/v1beta1/triton/torchscript/torchscript.yaml": ({"image-no-vllm"}, set()),
    "kserve__kserve/docs/samples/multimodelserving/triton/multi_model_triton.yaml": ({"no-shm"}, set()),
    "kserve__kserve/docs/samples/multimodelserving/triton/trained_model.yaml": ({"no-workload"}, set()),
    "kserve__kserve/docs/samples/multimodelserving/triton/trained_model2.yaml": ({"no-workload"}, set()),
    "NVIDIA__k8s-nim-operator/config/samples/nim/serving/standalone/basic/llm.yaml": (set(), {"no-shm", "gpu-missing"}),
    "NVIDIA__k8s-nim-operator/config/samples/nim/serving/advanced/multi-node/multi-node-nimservice.yaml": (
        set(),
        {"no-shm", "gpu-missing"},
    ),
    "vllm-project__production-stack/helm/templates/deployment-vllm-multi.yaml": ({"helm-template"}, {"gpu-missing"}),
    "vllm-project__production-stack/helm/templates/ray-cluster.yaml": ({"helm-template"}, {"gpu-missing"}),
    "kubernetes-sigs__lws/docs/examples/vllm/GPU/lws.yaml": ({"token-literal"}, {"no-shm", "gpu-below-tp"}),
    "ray-project__kuberay/ray-operator/config/samples/vllm/ray-service.vllm.yaml": (set(), {"token-literal"}),
}


def _sub_ids(path: Path, repo: str = "/nonexistent") -> set[str]:
    from triton_doctor.checks.kube_manifest import KubeManifest
    from triton_doctor.checks.kube_pod_security import KubePodSecurity
    from triton_doctor.checks.kube_pod_spec import KubePodSpec
    from triton_doctor.checks.kube_probes import KubeProbes

    kube = read_manifests([str(path)])
    ctx = Context(apply_to_target(Target(repo=repo), kube, repo_given=True))
    found: set[str] = set()
    for check in (KubeManifest, KubePodSpec, KubePodSecurity, KubeProbes):
        outcome = check().run(ctx)
        found |= {f.sub_id for f in outcome.findings}
    return found


def test_every_listed_manifest_is_copied_with_source_and_licence() -> None:
    index = tomllib.loads((MANIFESTS / "index.toml").read_text())
    files = {entry["file"] for entry in index["manifest"]}
    on_disk = {str(p.relative_to(MANIFESTS)) for p in MANIFESTS.rglob("*.yaml")}
    assert files == on_disk
    for entry in index["manifest"]:
        assert len(entry["commit"]) == 40 and entry["licence"] in {"Apache-2.0", "BSD-3-Clause"}
        assert entry["path"] in entry["file"]
    assert set(EXPECT) <= files


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_listed_manifest_findings_match_what_it_exercises(name: str) -> None:
    must, must_not = EXPECT[name]
    found = _sub_ids(MANIFESTS / name)
    assert must <= found, f"missing {must - found} in {sorted(found)}"
    assert not (must_not & found), f"unexpected {must_not & found}"


def test_line_marks_point_into_the_file_and_into_helm_templates() -> None:
    kube = read_manifests([str(MANIFESTS / "kserve__kserve/config/runtimes/kserve-tritonserver.yaml")])
    container = kube.containers[0]
    assert container.where("resources", "limits", "memory").endswith("kserve-tritonserver.yaml:61")
    template = MANIFESTS / "triton-inference-server__server/deploy/fleetcommand/templates/deployment.yaml"
    kube = read_manifests([str(template)])
    line = kube.containers[0].doc.line_of((*kube.containers[0].container_path, "image"))
    assert line is not None and "image:" in template.read_text().splitlines()[line - 1]
    assert kube.containers[0].docker.image == "nvcr.io/nvidia/tritonserver:26.07-py3"  # from the chart's values


def test_container_record_maps_pod_fields_to_the_docker_record() -> None:
    kube = read_manifests(
        [str(MANIFESTS / "triton-inference-server__server/deploy/k8s-onprem/templates/deployment.yaml")]
    )
    c = kube.containers[0]
    assert c.docker.gpus == "1" and c.docker.model_repositories == ["/models"]
    assert [(m.type, m.target) for m in c.mounts] == [("nfs", "/models")]
    lws = read_manifests([str(MANIFESTS / "kubernetes-sigs__lws/docs/examples/vllm/GPU/lws.yaml")])
    leader = next(x for x in lws.containers if x.role == "leader")
    assert leader.cli_parallel == 16 and leader.cli_tensor_parallel == 8 and leader.docker.shm_size
    isvc = read_manifests([str(MANIFESTS / "kserve__kserve/docs/samples/v1beta1/triton/torchscript/torchscript.yaml")])
    mount = isvc.containers[0].mounts[-1]
    assert (mount.type, mount.source, mount.target) == (
        "storage-uri",
        "gs://kfserving-examples/models/torchscript",
        "/mnt/models",
    )


def test_quantities() -> None:
    assert parse_quantity("2Gi") == 2 * 1024**3
    assert parse_quantity("500m") == 0.5
    assert parse_quantity("129e6") == 129e6
    assert parse_quantity("1.5G") == 1.5e9
    assert parse_quantity("lots") is None


def _manifest(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deploy.yaml"
    path.write_text(text)
    return path


def _json(result: Any) -> dict[str, dict[str, Any]]:
    report = result.json()
    return {f["id"]: f for c in report["checks"] for f in c["findings"]}


def test_invalid_manifests_are_findings_never_tracebacks(tmp_path: Path) -> None:
    bad_yaml = _manifest(tmp_path, "apiVersion: v1\nkind: Pod\nmetadata: {name: x\nspec: []\n")
    result = run_cli("check", "--manifest", str(bad_yaml), "--format", "json")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert _json(result)["kube-manifest[yaml]"]["location"]["line"] >= 3
    schema = _manifest(
        tmp_path,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n    - name: t\n"
        "      image: nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3\n      ports:\n"
        '        - containerPort: "8000"\n',
    )
    result = run_cli("check", "--manifest", str(schema), "--format", "json")
    finding = _json(result)["kube-manifest[schema]"]
    assert finding["location"]["line"] == 10 and "containerPort" in finding["message"]
    missing = run_cli("check", "--manifest", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2 and "nope.yaml" in missing.stderr and "Traceback" not in missing.stderr


def test_manifest_from_stdin_with_several_documents(tmp_path: Path) -> None:
    text = (MANIFESTS / "kserve__kserve/config/runtimes/kserve-tritonserver.yaml").read_text()
    text += (
        "\n---\n"
        + (MANIFESTS / "kserve__kserve/docs/samples/multimodelserving/triton/multi_model_triton.yaml").read_text()
    )
    from click.testing import CliRunner

    from triton_doctor.cli import cli

    result = CliRunner().invoke(
        cli, ["check", "--manifest", "-", "--format", "json"], input=text, env={"NO_COLOR": "1"}
    )
    assert result.exit_code == 1, result.stderr
    found = {f["id"] for c in json.loads(result.stdout)["checks"] for f in c["findings"]}
    assert {"kube-pod-spec[memory-limit]", "kube-pod-spec[no-shm]"} <= found
    # The InferenceService took the runtime's container: 2Gi limits from the runtime, storageUri at /mnt/models.
    messages = [
        f["message"]
        for c in json.loads(result.stdout)["checks"]
        for f in c["findings"]
        if "InferenceService" in f["message"]
    ]
    assert any("2Gi" in m for m in messages)


def test_token_literal_is_redacted_and_shell_reference_named(tmp_path: Path) -> None:
    secret = "hf_" + "a" * 34
    path = _manifest(
        tmp_path,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n    - name: t\n"
        "      image: nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3\n"
        "      args: [tritonserver, --model-repository=/models]\n"
        f"      env:\n        - name: HF_TOKEN\n          value: {secret}\n",
    )
    result = run_cli("check", "--manifest", str(path), "--format", "json")
    assert secret not in result.stdout and secret not in result.stderr
    finding = _json(result)["kube-pod-security[token-literal]"]
    assert finding["location"]["line"] == 11 and "secretKeyRef" in finding["remedy"]


@pytest.mark.parametrize(
    "entry", tomllib.loads((PODSTATE / "index.toml").read_text())["capture"], ids=lambda e: e["file"]
)
def test_pod_state_captures_from_public_threads(entry: dict[str, Any]) -> None:
    signals = scan_pod_state((PODSTATE / entry["file"]).read_text())
    assert [s.entry.id for s in signals] == entry["expect"]
    assert entry["source"].startswith("https://github.com/")
    result = run_cli("check", "--pod-state", str(PODSTATE / entry["file"]), "--format", "json")
    found = _json(result)
    assert result.exit_code == 1 and f"kube-pod-state[{entry['expect'][0]}]" in found
    assert found[f"kube-pod-state[{entry['expect'][0]}]"]["location"]["line"] >= 1


def test_pod_catalog_entries_have_sources() -> None:
    for entry in pod_catalog():
        assert entry.sources and all(s.startswith("https://github.com/") for s in entry.sources), entry.id


def test_logs_reads_kubectl_describe_too() -> None:
    result = run_cli("logs", str(PODSTATE / "crashloop-oomkilled-describe.txt"), "--format", "json")
    assert "kube-pod-state[oom-killed]" in result.stdout


def _guide_command(repo: Path, local: Path) -> str:
    return (
        "docker run --gpus all -d --rm -p 8000:8000 -p 8001:8001 -p 8002:8002 "
        "--env HUGGING_FACE_HUB_TOKEN=$HF_TOKEN "
        f"--mount type=bind,source={repo},target=/models --mount type=bind,source={local},target=/local_models "
        "--mount type=volume,source=triton_hf_cache,target=/root/.cache/huggingface --name triton_vllm_server "
        "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver --model-repository=/models "
        "--model-control-mode=explicit --load-model=gemma --load-model=gemma_local"
    )


def _repo_findings(result: Any) -> set[tuple[str, str | None]]:
    report = result.json()
    return {(f["id"], f.get("model")) for c in report["checks"] if c["category"] == "repo" for f in c["findings"]}


def test_k8s_command_passes_check_manifest_and_schema_and_keeps_repository_findings(tmp_path: Path) -> None:
    import kubernetes_validate

    repo, local = sample_paths(guide=True)
    local = sample_paths()[1]
    command = _guide_command(repo, local)
    rendered = run_cli("command", "--format", "k8s", "--docker-command", command)
    assert rendered.exit_code == 0, rendered.stderr
    manifest = tmp_path / "triton.yaml"
    manifest.write_text(rendered.stdout)
    docs = list(yaml.safe_load_all(rendered.stdout))
    assert [d["kind"] for d in docs] == ["Deployment", "Service"]
    for doc in docs:
        kubernetes_validate.validate(doc, "1.33", True)
    pod = docs[0]["spec"]["template"]["spec"]
    assert pod["initContainers"][0]["args"][:3] == ["check", "--profile", "quick"]
    assert "&id" not in rendered.stdout and "hf_" not in rendered.stdout
    as_docker = run_cli("check", "--profile", "quick", "--docker-command", command, "--format", "json")
    as_k8s = run_cli(
        "check", "--profile", "quick", "--manifest", str(manifest), "--repo", str(repo),
        "--mount", f"{local}:/local_models", "--format", "json",
    )  # fmt: skip
    k8s_checks = {c["check"]: c for c in as_k8s.json()["checks"]}
    assert k8s_checks["kube-pod-spec"]["status"] == "pass", k8s_checks["kube-pod-spec"]
    for check_id in ("kube-manifest", "kube-pod-security", "kube-probes"):
        assert k8s_checks[check_id]["status"] == "pass", k8s_checks[check_id]
    # The guide's files as written: the same repository findings either way (max_batch_size: 256 among them).
    assert _repo_findings(as_docker) == _repo_findings(as_k8s)
    assert any("config-batching" in f for f, _ in _repo_findings(as_k8s))


def test_manifest_without_repo_checks_the_pod_only(tmp_path: Path) -> None:
    result = run_cli(
        "check",
        "--manifest",
        str(MANIFESTS / "kserve__kserve/config/runtimes/kserve-tritonserver.yaml"),
        "--format",
        "json",
        cwd=tmp_path,
    )
    statuses = {c["check"]: (c["status"], c.get("skip_reason") or "") for c in result.json()["checks"]}
    assert statuses["kube-pod-spec"][0] == "fail"
    assert statuses["model-repository"][0] == "skip" and "--repo" in statuses["model-repository"][1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kube_against_an_unreachable_server_fails_fast_and_clearly(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{_closed_port()}"}}],
                "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
                "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "ctx",
            }
        )
    )
    start = time.monotonic()
    result = run_cli("check", "--kube", "deploy/triton", "--kube-context", "ctx", env={"KUBECONFIG": str(config)})
    elapsed = time.monotonic() - start
    assert result.exit_code == 2 and elapsed < 5, (elapsed, result.stderr)
    assert "not reachable" in result.stderr and "Traceback" not in result.stderr
    assert "not-a-real-token" not in result.stderr


def test_a_200_document_stream_is_read_in_under_a_second(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("kube_read", ROOT / "benchmarks" / "kube_read.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = tmp_path / "stream.yaml"
    path.write_text(bench.stream(200))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        kube = read_manifests([str(path)])
        best = min(best, time.perf_counter() - start)
    assert len(kube.docs) == 200 and kube.containers
    assert best < 1.0, best


def test_kube_reads_through_kubectl_get_and_describe_only(tmp_path: Path) -> None:
    """--kube plumbing with a stand-in kubectl that replays captured output and records its arguments."""
    repo, _ = sample_paths(guide=True)
    rendered = run_cli("command", "--format", "k8s", "--repo", str(repo))
    objects = tmp_path / "objects.yaml"
    objects.write_text(rendered.stdout)
    calls = tmp_path / "calls.txt"
    fake = tmp_path / "kubectl"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {calls}\n'
        'for a in "$@"; do case "$a" in get) exec cat '
        + str(objects)
        + " ;; describe) exec cat "
        + str(PODSTATE / "failedscheduling-gke-events.txt")
        + " ;; esac; done\nexit 1\n"
    )
    fake.chmod(0o755)
    result = run_cli(
        "check", "--kube", "deploy/triton-vllm", "--kube-namespace", "serving", "--format", "json",
        env={"TRITON_DOCTOR_KUBECTL": str(fake)}, cwd=tmp_path,
    )  # fmt: skip
    assert "Traceback" not in result.stderr
    found = _json(result)
    assert "kube-pod-state[failed-scheduling]" in found
    statuses = {c["check"]: c["status"] for c in result.json()["checks"]}
    assert statuses["kube-manifest"] == "pass" and statuses["kube-pod-spec"] == "pass"
    verbs = [line.split()[2] for line in calls.read_text().splitlines()]  # --namespace serving VERB ...
    assert verbs == ["get", "describe"]
    assert "-l app=triton-vllm" in calls.read_text()


def test_token_from_a_secret_is_not_a_missing_token(tmp_path: Path) -> None:
    repo, local = sample_paths()
    rendered = run_cli("command", "--format", "k8s", "--repo", str(repo))
    manifest = tmp_path / "triton.yaml"
    manifest.write_text(rendered.stdout)
    result = run_cli(
        "check", "--offline", "--manifest", str(manifest), "--repo", str(repo),
        "--mount", f"{local}:/local_models", "--format", "json",
    )  # fmt: skip
    checks = {c["check"]: c for c in result.json()["checks"]}
    assert checks["hf-token"]["status"] == "skip" and "Secret" in checks["hf-token"]["skip_reason"]
    assert checks["docker-run-options"]["status"] == "skip"
    assert checks["model-repository"]["status"] == "pass"
