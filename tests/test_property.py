"""Random and mutated config.pbtxt / model.json: never a traceback, always findings with a location."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.generate import LOCAL_CONFIG, LOCAL_JSON, REMOTE_CONFIG, REMOTE_JSON
from triton_doctor.deploy.target import MountSpec, Target
from triton_doctor.facts.context import Context
from triton_doctor.registry import load_registry
from triton_doctor.results import Category, Severity, Status
from triton_doctor.runner import RunOptions, run_checks

REPO_CHECKS = [c for c in load_registry().checks.values() if c.category is Category.REPO]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PBTXT_ALPHABET = st.sampled_from(list("{}[]<>:;,\"' \n\t#-.0123456789abcdefgkmnoprstuvwxyz_ABCDEKLMNOPRSTUVY\\\xff"))
JSON_ALPHABET = st.sampled_from(list("{}[]:,\" \n\t'/-.0123456789aeflmnorstu_\\"))


@st.composite
def mutated(draw: st.DrawFn, base: str, alphabet: st.SearchStrategy[str]) -> str:
    text = base
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "swap-lines", "truncate", "duplicate"]))
        pos = draw(st.integers(0, max(0, len(text))))
        if op == "insert":
            text = text[:pos] + draw(st.text(alphabet, min_size=1, max_size=4)) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 8)) :]
        elif op == "replace" and text:
            text = text[:pos] + draw(alphabet) + text[pos + 1 :]
        elif op == "swap-lines":
            lines = text.splitlines(keepends=True)
            if len(lines) > 1:
                i = draw(st.integers(0, len(lines) - 2))
                lines[i], lines[i + 1] = lines[i + 1], lines[i]
                text = "".join(lines)
        elif op == "truncate":
            text = text[:pos]
        else:
            text = text[:pos] + text[pos : pos + 20] + text[pos:]
    return text


def _run(config: str | bytes, model_json: str | bytes, local: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        name = "gemma_local" if local else "gemma"
        model = root / "model_repository" / name
        (model / "1").mkdir(parents=True)
        (model / "config.pbtxt").write_bytes(
            config.encode("utf-8", "surrogatepass") if isinstance(config, str) else config
        )
        (model / "1" / "model.json").write_bytes(
            model_json.encode("utf-8", "surrogatepass") if isinstance(model_json, str) else model_json
        )
        weights = root / "local_models" / "google_gemma-3-1b-it"
        weights.mkdir(parents=True)
        (weights / "config.json").write_text(json.dumps({"max_position_embeddings": 4096}))
        (weights / "model.safetensors").write_bytes(b"\0" * 16)
        target = Target(
            repo=str(root / "model_repository"),
            mounts=(
                MountSpec(source=str(root / "model_repository"), target="/models"),
                MountSpec(source=str(root / "local_models"), target="/local_models"),
            ),
        )
        results = run_checks(REPO_CHECKS, Context(target), RunOptions())
        for result in results:
            assert result.status is not Status.ERROR, (result.check, result.error, result.traceback)
            for finding in result.findings:
                assert finding.message
                if finding.severity is not Severity.INFO:
                    assert finding.location is not None and finding.location.path, finding
                    assert finding.remedy, finding


@SETTINGS
@given(mutated(REMOTE_CONFIG, PBTXT_ALPHABET), mutated(REMOTE_JSON, JSON_ALPHABET))
def test_mutated_remote_shape(config: str, model_json: str) -> None:
    _run(config, model_json, local=False)


@SETTINGS
@given(mutated(LOCAL_CONFIG, PBTXT_ALPHABET), mutated(LOCAL_JSON, JSON_ALPHABET))
def test_mutated_local_shape(config: str, model_json: str) -> None:
    _run(config, model_json, local=True)


@SETTINGS
@given(st.text(max_size=300), st.text(max_size=300))
def test_random_text(config: str, model_json: str) -> None:
    _run(config, model_json, local=False)


@SETTINGS
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_random_bytes(config: bytes, model_json: bytes) -> None:
    _run(config, model_json, local=True)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "model",
                "tensor_parallel_size",
                "gpu_memory_utilization",
                "max_model_len",
                "dtype",
                "enforce_eager",
                "seed",
                "pipeline_parallel_size",
                "tokenizer",
                "x",
            ]
        ),
        json_values,
        max_size=6,
    )
)
def test_random_engine_arg_values(args: dict[str, object]) -> None:
    _run(LOCAL_CONFIG, json.dumps(args, allow_nan=True), local=True)
