"""Shared helpers: run the CLI in-process, load the published JSON Schema, find the fixtures."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

# Only loopback traffic in tests: huggingface_hub fixes its endpoint when first imported (and fetches an
# "agent harness" list from it), so pin it to a closed loopback port before anything imports it. Tests that
# talk to the local Hub server set HF_ENDPOINT for the doctor's own calls.
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HUGGING_FACE_HUB_TOKEN", None)

from triton_doctor.cli import cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
    """Invoke ``triton-doctor`` in-process (click's runner) and return exit code, stdout and stderr."""
    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(cli, list(args), env={"NO_COLOR": "1", **(env or {})}, catch_exceptions=False)
    finally:
        os.chdir(old)
    return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(autouse=True, scope="session")
def _private_hf_cache(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Hub files the doctor downloads during tests (config.json) land in a temporary cache, never the user's."""
    old = os.environ.get("HF_HUB_CACHE")
    os.environ["HF_HUB_CACHE"] = str(tmp_path_factory.mktemp("hf-hub-cache"))
    yield
    if old is None:
        os.environ.pop("HF_HUB_CACHE", None)
    else:
        os.environ["HF_HUB_CACHE"] = old


@pytest.fixture(scope="session")
def report_schema() -> dict[str, Any]:
    text = resources.files("triton_doctor.report").joinpath("schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def validate_report(data: Any, schema: dict[str, Any]) -> None:
    import jsonschema

    jsonschema.validate(data, schema)


def all_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for c in report["checks"] for f in c["findings"]]
