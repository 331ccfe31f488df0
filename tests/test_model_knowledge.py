"""The release knowledge (doctor/knowledge/model_knowledge.json) is complete, well-formed and reproducible."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scripts import gen_model_knowledge
from triton_doctor.knowledge import CATALOG, IMAGES
from triton_doctor.knowledge.models import releases
from triton_doctor.registry import load_registry

DATA = Path(gen_model_knowledge.OUT)


def test_every_image_has_its_release() -> None:
    data = releases()
    assert {i.vllm for i in IMAGES.values()} <= set(data)
    for version, release in data.items():
        assert len(release.generation) >= 40, version
        assert "LlamaForCausalLM" in release.generation and "LlamaForCausalLM" not in release.pooling
        assert release.max_len.keys[0] == "max_position_embeddings" and "seq_length" in release.max_len.keys
        assert release.max_len.default == 2048
        assert {"awq", "gptq"} <= set(release.quantization)
        assert all(c is None or 60 <= c <= 120 for c in release.quantization.values())


def test_knowledge_grows_as_vllm_did() -> None:
    data = releases()
    assert "BertModel" not in data["0.5.5"].pooling and "BertModel" in data["0.9.2"].pooling
    assert not data["0.8.1"].max_len.model_max_length_overrides and data["0.8.4"].max_len.model_max_length_overrides
    assert not data["0.8.4"].max_len.tokenizer_caps and data["0.9.2"].max_len.tokenizer_caps
    assert data["0.4.0.post1"].max_len.rope_key == "type" and data["0.9.2"].max_len.rope_key == "rope_type"


def test_catalog_ids_of_the_new_checks_exist() -> None:
    """Every catalog id the model-facts checks can emit is in the failure catalog."""
    used = {
        "max-model-len-exceeds-model",
        "unsupported-architecture",
        "trust-remote-code-required",
        "tp-not-divisible",
        "gpu-arch-not-supported",
        "bf16-on-pre-ampere",
        "free-memory-below-utilization",
        "server-exits-on-any-load-failure",
    }
    assert used <= set(CATALOG)
    for check_id in ("model-checkpoint", "repository-contents", "max-model-len"):
        source = Path(load_registry().checks[check_id].__module__.replace("triton_doctor.", "").replace(".", "/"))
        text = (Path(__file__).parent.parent / f"{source}.py").read_text()
        for chunk in text.split('catalog_id="')[1:]:
            assert chunk.split('"')[0] in CATALOG


@pytest.mark.skipif(
    not os.environ.get("TRITON_DOCTOR_VLLM_CACHE")
    or not all((Path(os.environ["TRITON_DOCTOR_VLLM_CACHE"]) / v / ".complete").exists() for v in ("0.5.5", "0.9.2")),
    reason="slow: set TRITON_DOCTOR_VLLM_CACHE to a cache filled by scripts/gen_model_knowledge.py (downloads wheels)",
)
def test_regenerating_two_releases_gives_the_committed_data() -> None:
    committed = json.loads(DATA.read_text())["releases"]
    for version in ("0.5.5", "0.9.2"):
        assert gen_model_knowledge.release(version) == committed[version]
