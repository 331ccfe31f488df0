"""The wheel installs everything under the one import package ``triton_doctor``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(proc.stderr[-2000:])
    return next(out.glob("triton_doctor-*.whl"))


def test_wheel_has_no_generic_top_level_modules(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"triton_doctor", next(t for t in tops if t.endswith(".dist-info"))}
    assert "triton_doctor/checks/engine_args.py" in names
    assert "triton_doctor/report/schema.json" in names
    assert "triton_doctor/knowledge/engine_args.json" in names
    assert "triton_doctor/data/sample/model_repository/gemma/config.pbtxt" in names
    assert "triton_doctor/data/sample_guide/model_repository/gemma/config.pbtxt" in names
    assert "triton_doctor/data/sample/local_models/google_gemma-3-1b-it/model.safetensors" in names
    assert "triton_doctor/py.typed" in names


def test_wheel_registers_builtins_through_the_entry_point_group(wheel: Path) -> None:
    zf = zipfile.ZipFile(wheel)
    eps = next(n for n in zf.namelist() if n.endswith("entry_points.txt"))
    text = zf.read(eps).decode()
    assert "[triton_doctor.checks]" in text
    assert "model-config = triton_doctor.checks.model_config:ModelConfig" in text
    assert "triton-doctor = triton_doctor.cli:main" in text
