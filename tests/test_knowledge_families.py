"""Issue 23's regression set: the misses of the fresh repositories and the families no check knew.

Each test writes a repository of the guide's local shape and runs the real CLI. The checkpoints are public
config.json files (tests/data/checkpoints): google/gemma-2-2b-it (``sliding_window`` 4096, Gemma 2's
interleaved attention) and google/gemma-3-4b-it (a ``text_config`` without ``max_position_embeddings``,
whose ``Gemma3TextConfig`` default is 131072). The backend rules come from the generated
doctor/knowledge/backend_releases.json (vllm_backend release branches), the config defaults from
doctor/knowledge/config_defaults.json (transformers wheels).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import all_findings
from tests.test_modelfacts import check, problems, write_model
from triton_doctor.knowledge import IMAGES
from triton_doctor.knowledge.backend import backend_for
from triton_doctor.knowledge.config_defaults import class_defaults, fill_defaults
from triton_doctor.knowledge.models import releases

PARAMS = 'parameters: {{\n  key: "{key}"\n  value: {{ string_value: "{value}" }}\n}}\n'


def _model_dir(root: Path, name: str) -> Path:
    return root / "model_repository" / name


def _add_param(root: Path, name: str, key: str, value: str) -> None:
    config = _model_dir(root, name) / "config.pbtxt"
    config.write_text(config.read_text() + PARAMS.format(key=key, value=value))


def _lora_repo(root: Path, args: dict[str, Any], adapters: dict[str, Any] | None, rank: int = 8) -> None:
    write_model(root, "lora", "llama-3.1-8b-instruct", args)
    if adapters is None:
        return
    version = _model_dir(root, "lora") / "1"
    (version / "multi_lora.json").write_text(json.dumps(adapters, indent=2) + "\n")
    for path in adapters.values():
        if isinstance(path, str) and path.startswith("/local_models/"):
            adapter = root / "local_models" / path.removeprefix("/local_models/")
            adapter.mkdir(parents=True, exist_ok=True)
            (adapter / "adapter_config.json").write_text(json.dumps({"r": rank, "peft_type": "LORA"}) + "\n")


# -- lengths: Gemma 2's interleaved-attention cap, Gemma 3's transformers defaults ------------------------


@pytest.mark.parametrize("image", ["24.09", "24.12", "25.01"])
def test_gemma2_capped_at_its_sliding_window(tmp_path: Path, image: str) -> None:
    """vLLM 0.5.1-0.6.x turn Gemma 2's sliding window off and cap the length at it (config.py, 'Gemma 2 uses
    sliding window attention for every odd layer' / 'has interleaved attention')."""
    write_model(tmp_path, "g2", "gemma-2-2b-it", {"max_model_len": 8192})
    write_model(tmp_path, "fits", "gemma-2-2b-it", {"max_model_len": 4096})
    _code, report = check(tmp_path, "--offline", image=image)
    hits = [f for f in all_findings(report) if f["id"] == "max-model-len[exceeds]"]
    assert [h["model"] for h in hits] == ["g2"]
    hit = hits[0]
    assert "4096" in hit["message"] and "sliding_window" in hit["message"]
    assert "interleaved attention" in hit["evidence"] and hit["remedy"] == 'write "max_model_len": 4096 (or less)'
    assert hit["location"]["line"] == 3 and hit["catalog_id"] == "max-model-len-exceeds-model"


def test_gemma2_uncapped_from_vllm_07_unless_xformers(tmp_path: Path) -> None:
    write_model(tmp_path, "g2", "gemma-2-2b-it", {"max_model_len": 8192})
    _code, report = check(tmp_path, "--offline", image="25.02")
    assert "max-model-len[exceeds]" not in problems(report)
    # 0.7.0 keeps the cap for the XFORMERS attention backend, set in the container's environment.
    models = tmp_path / "model_repository"
    command = (
        f"docker run --gpus all -e VLLM_ATTENTION_BACKEND=XFORMERS -v {models}:/models "
        f"-v {tmp_path / 'local_models'}:/local_models nvcr.io/nvidia/tritonserver:25.02-vllm-python-py3 "
        "tritonserver --model-repository=/models"
    )
    result = check(tmp_path, "--offline", "--docker-command", command, image=None)[1]
    assert "max-model-len[exceeds]" in problems(result)


def test_gemma3_text_config_takes_the_transformers_default(tmp_path: Path) -> None:
    """gemma-3-4b-it has no max_position_embeddings: Gemma3TextConfig's 131072 applies, not vLLM's 2048."""
    write_model(tmp_path, "g3", "gemma-3-4b-it", {"max_model_len": 8192})
    write_model(tmp_path, "over", "gemma-3-4b-it", {"max_model_len": 200000})
    _code, report = check(tmp_path, "--offline", image="25.06")
    hits = [f for f in all_findings(report) if f["id"] == "max-model-len[exceeds]"]
    assert [h["model"] for h in hits] == ["over"]
    assert "131072" in hits[0]["message"]
    assert "Gemma3TextConfig default, transformers" in hits[0]["evidence"]
    assert "configuration_gemma3.py:" in hits[0]["evidence"]


def test_config_defaults_are_generated_with_provenance() -> None:
    cls = class_defaults("gemma3_text")
    assert cls is not None and cls.class_name == "Gemma3TextConfig"
    assert cls.defaults["max_position_embeddings"] == 131072 and cls.lines["max_position_embeddings"] > 0
    parent = class_defaults("gemma3")
    assert parent is not None and parent.text_config == "gemma3_text"
    text, filled = fill_defaults({"model_type": "gemma3", "text_config": {"hidden_size": 2560}})
    assert text["max_position_embeddings"] == 131072 and "max_position_embeddings" in filled
    # A key config.json sets is never replaced.
    text, filled = fill_defaults({"model_type": "llama", "max_position_embeddings": 4096})
    assert text["max_position_embeddings"] == 4096 and "max_position_embeddings" not in filled


def test_interleaved_cap_rules_are_read_per_release() -> None:
    data = releases()
    assert data["0.4.0.post1"].max_len.interleaved_cap is None
    cap = data["0.5.3.post1"].max_len.interleaved_cap
    assert cap is not None and cap.model_types == ("gemma2",) and cap.backends == ()
    later = data["0.7.0"].max_len.interleaved_cap
    assert later is not None and later.backends == ("XFORMERS",)
    assert data["0.24.0"].max_len.interleaved_cap is None


# -- paths: every path-valued engine argument and LoRA adapter is mounted ---------------------------------


def test_tokenizer_path_outside_every_mount(tmp_path: Path) -> None:
    write_model(tmp_path, "tok", "llama-3.1-8b-instruct", {"tokenizer": "/tokenizers/llama"})
    code, report = check(tmp_path, "--offline")
    hit = problems(report)["engine-paths[not-mounted]"]
    assert code == 1 and hit["severity"] == "error"
    assert "'/tokenizers/llama'" in hit["message"] and hit["location"]["line"] == 3
    assert hit["evidence"] == '"tokenizer": "/tokenizers/llama"'
    assert "target=/tokenizers" in hit["remedy"] and hit["catalog_id"] == "local-model-path-not-mounted"


def test_download_dir_outside_mounts_is_a_warning(tmp_path: Path) -> None:
    write_model(tmp_path, "dl", "llama-3.1-8b-instruct", {"download_dir": "/cache/hf"})
    _code, report = check(tmp_path, "--offline")
    assert problems(report)["engine-paths[not-mounted]"]["severity"] == "warning"


def test_multi_lora_entry_outside_mounts(tmp_path: Path) -> None:
    _lora_repo(tmp_path, {"enable_lora": True}, {"sql": "/adapters/sql", "ok": "/local_models/ok-lora"})
    _code, report = check(tmp_path, "--offline", image="25.06")
    hit = problems(report)["engine-paths[not-mounted]"]
    assert "LoRA adapter 'sql'" in hit["message"] and hit["location"]["path"].endswith("lora/1/multi_lora.json")
    assert hit["location"]["line"] == 2


# -- encodings and the backend field ----------------------------------------------------------------------


def test_model_json_with_a_utf8_bom(tmp_path: Path) -> None:
    write_model(tmp_path, "bom", "llama-3.1-8b-instruct")
    path = _model_dir(tmp_path, "bom") / "1" / "model.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    code, report = check(tmp_path, "--offline")
    hit = problems(report)["model-json[invalid-json]"]
    assert code == 1 and "Unexpected UTF-8 BOM" in hit["message"]
    assert hit["location"]["line"] == 1 and hit["catalog_id"] == "model-json-invalid-json"
    assert "byte-order mark" in hit["remedy"]


def test_platform_vllm_carries_its_catalog_id(tmp_path: Path) -> None:
    write_model(tmp_path, "plat", "llama-3.1-8b-instruct")
    config = _model_dir(tmp_path, "plat") / "config.pbtxt"
    config.write_text(config.read_text().replace('backend: "vllm"', 'platform: "vllm"'))
    _code, report = check(tmp_path, "--offline")
    hit = problems(report)["config-backend[other]"]
    assert hit["catalog_id"] == "missing-backend-field" and hit["location"]["line"] == 2


# -- LoRA as each backend reads it ------------------------------------------------------------------------


def test_healthy_lora_with_string_flags_is_clean_on_2405(tmp_path: Path) -> None:
    """The 24.05 backend calls enable_lora.lower(): the string form is the right one there."""
    _lora_repo(tmp_path, {"enable_lora": "true", "enforce_eager": "true"}, {"sql": "/local_models/sql-lora"})
    code, report = check(tmp_path, "--offline", image="24.05")
    assert problems(report) == {} and code == 0


def test_boolean_enable_lora_fails_on_2405_to_2409(tmp_path: Path) -> None:
    _lora_repo(tmp_path, {"enable_lora": True}, {"sql": "/local_models/sql-lora"})
    _code, report = check(tmp_path, "--offline", image="24.09")
    hit = problems(report)["backend-features[lora-flag]"]
    assert hit["catalog_id"] == "enable-lora-flag-type" and "'bool' object has no attribute 'lower'" in hit["message"]
    assert "r24.09 src/model.py:192" in hit["message"] and hit["remedy"].startswith('write "enable_lora": "true"')
    _code, report = check(tmp_path, "--offline", image="24.10")
    assert problems(report) == {}


def test_enable_lora_without_multi_lora_json(tmp_path: Path) -> None:
    _lora_repo(tmp_path, {"enable_lora": True}, None)
    code, report = check(tmp_path, "--offline", image="25.06")
    hit = problems(report)["backend-features[no-multi-lora]"]
    assert code == 1 and hit["catalog_id"] == "multi-lora-json" and "FileNotFoundError" in hit["message"]
    assert hit["location"]["line"] == 3


def test_adapter_rank_above_max_lora_rank(tmp_path: Path) -> None:
    _lora_repo(tmp_path, {"enable_lora": True}, {"big": "/local_models/big-lora"}, rank=64)
    _code, report = check(tmp_path, "--offline", image="25.06")
    hit = problems(report)["backend-features[lora-rank]"]
    assert "rank 64" in hit["message"] and "max_lora_rank 16" in hit["message"]
    assert hit["remedy"] == 'write "max_lora_rank": 64 in model.json'


# -- metrics and the health check -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "value", "stats_off", "expect"),
    [
        ("24.10", "yes", False, None),
        ("24.10", "true", False, '"yes"'),  # 24.08-24.11 compare with "yes" exactly
        ("25.06", "yes", False, '"true"'),
        ("25.06", "True", False, None),
        ("25.06", "true", True, "disable_log_stats"),
        ("24.05", "true", False, "reports no vLLM metrics"),
    ],
)
def test_metrics_need_both_settings(
    tmp_path: Path, image: str, value: str, stats_off: bool, expect: str | None
) -> None:
    write_model(tmp_path, "m", "llama-3.1-8b-instruct", {"disable_log_stats": stats_off})
    _add_param(tmp_path, "m", "REPORT_CUSTOM_METRICS", value)
    _code, report = check(tmp_path, "--offline", image=image)
    found = problems(report)
    if expect is None:
        assert "backend-features[metrics]" not in found
    else:
        hit = found["backend-features[metrics]"]
        assert hit["severity"] == "warning" and expect in hit["message"]


def test_health_check_needs_explicit_model_control(tmp_path: Path) -> None:
    write_model(tmp_path, "m", "llama-3.1-8b-instruct")
    _add_param(tmp_path, "m", "ENABLE_VLLM_HEALTH_CHECK", "true")
    models, weights = tmp_path / "model_repository", tmp_path / "local_models"
    base = (
        f"docker run --gpus all -v {models}:/models -v {weights}:/local_models "
        "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver --model-repository=/models"
    )
    hit = problems(check(tmp_path, "--offline", "--docker-command", base, image=None)[1])[
        "backend-features[health-check]"
    ]
    assert "--model-control-mode=explicit" in hit["message"]
    explicit = base + " --model-control-mode=explicit --load-model=m"
    assert "backend-features[health-check]" not in problems(
        check(tmp_path, "--offline", "--docker-command", explicit, image=None)[1]
    )


def test_backend_rules_per_image() -> None:
    first = backend_for(IMAGES["24.05"])
    assert first is not None and first.lora_flag == "string" and first.metrics_value is None
    assert backend_for(IMAGES["24.10"]).lora_flag == "any"  # type: ignore[union-attr]
    late = backend_for(IMAGES["24.12"])
    assert late is not None and late.metrics_value == "true" and late.health_check_line
    assert backend_for(IMAGES["24.04"]).lora_flag is None  # type: ignore[union-attr]
    # Newer images than the newest branch read take its rules.
    assert backend_for(IMAGES["26.07"]).branch == "r26.01"  # type: ignore[union-attr]
