"""The doctor's own image (Dockerfile) built on the real dockerd from a locally made base, and run as the
preflight of ``command --format k8s``: the same mounts as the serving container, ``check --profile quick``."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.dockerutil import TEST_LABEL, docker_client
from triton_doctor.app import sample_paths

#: A base image with Python 3.11 and the doctor's dependencies, made locally (stack/build.sh builds one from
#: Debian packages with debootstrap); no registry is reachable here, so the official slim image cannot be pulled.
BASE_REPOSITORY = "triton-doctor-stack"
#: Dependencies the stack image lacks; repacked as wheels from this test environment (no index is reachable).
MISSING_IN_BASE = ("tritonclient", "docker", "nvidia-ml-py", "hyperscan", "python-rapidjson")


def _repack(name: str, out: Path) -> Path:
    """A wheel of the installed distribution ``name`` (same interpreter and platform as the base's)."""
    dist = importlib.metadata.distribution(name)
    meta = dist.read_text("WHEEL") or ""
    tag = next(line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Tag:"))
    wheel = out / f"{name.replace('-', '_')}-{dist.version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in dist.files or ():
            path = Path(str(dist.locate_file(entry)))
            if ".." in entry.parts or entry.suffix == ".pyc" or not path.is_file():
                continue
            archive.write(path, str(entry))
    return wheel


def _context(tmp: Path) -> Path:
    """The build context: what .dockerignore lets through, plus wheels/ for the offline install."""
    context = tmp / "context"
    context.mkdir()
    for name in ("Dockerfile", ".dockerignore", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, context / name)
    for folder in ("doctor", "checks"):
        shutil.copytree(ROOT / folder, context / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (context / "wheels").mkdir()
    for name in MISSING_IN_BASE:
        _repack(name, context / "wheels")
    return context


def _docker(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def local_base() -> str:
    client = docker_client()
    try:
        images = client.images.list(name=BASE_REPOSITORY)
    finally:
        client.close()
    tags = [t for image in images for t in image.tags]
    if not tags:
        pytest.skip(f"no local {BASE_REPOSITORY} image (bash stack/build.sh makes one)")
    return os.environ.get("TRITON_DOCTOR_PREFLIGHT_BASE", sorted(tags)[-1])


def test_preflight_image_builds_from_a_local_base_and_reports_the_repository(local_base: str, tmp_path: Path) -> None:
    tag = f"triton-doctor-test/preflight:{uuid.uuid4().hex[:12]}"
    name = f"triton-doctor-test-preflight-{uuid.uuid4().hex[:8]}"
    built = _docker(
        "build", "--quiet", "--label", f"{TEST_LABEL}=1", "--build-arg", f"BASE={local_base}",
        "--build-arg", "PIP_ARGS=--no-deps --no-build-isolation --break-system-packages",
        "-t", tag, str(_context(tmp_path)),
    )  # fmt: skip
    try:
        assert built.returncode == 0, built.stderr[-2000:]
        repo, _ = sample_paths(guide=True)
        local = sample_paths()[1]
        # The init container's arguments as command --format k8s writes them (models from the guide's command).
        run = _docker(
            "run", "--name", name, "--label", f"{TEST_LABEL}=1", "--network", "none",
            "-v", f"{repo}:/models:ro", "-v", f"{local}:/local_models:ro",
            tag, "check", "--profile", "quick", "--repo", "/models", "--mount", "/local_models:/local_models",
            "--model=gemma", "--model=gemma_local", "--format", "json",
        )  # fmt: skip
        assert run.returncode == 1, run.stderr[-2000:]
        report = json.loads(run.stdout)
        found = {f["id"] for c in report["checks"] for f in c["findings"]}
        assert "config-batching[max-batch-size]" in found or any(f.startswith("config-batching[") for f in found)
        assert "max_batch_size: 256" in run.stderr
        assert "Traceback" not in run.stderr
    finally:
        _docker("rm", "-f", name, timeout=60)
        _docker("rmi", "-f", tag, timeout=120)


def test_dockerfile_base_is_a_build_argument_defaulting_to_the_slim_image() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "ARG BASE=python:3.11-slim" in text and "FROM ${BASE}" in text
    assert Path(ROOT / ".dockerignore").is_file()
