"""What each image's vLLM knows about models (``model_knowledge.json``, from scripts/gen_model_knowledge.py).

Per vLLM release: the registered architectures (generation vs pooling), whether an unregistered
architecture may still run through the Transformers backend, the rules of ``_get_and_verify_max_len``
and the minimum compute capability of each quantization method.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from triton_doctor.knowledge import ImageInfo

__all__ = ["InterleavedCap", "MaxLenRules", "ReleaseModels", "release_for", "releases"]


@dataclass(frozen=True, slots=True)
class InterleavedCap:
    """Where a release turns the sliding window off for interleaved attention and caps the length at it
    (``ModelConfig``: "... has interleaved attention ... capping the max length to the sliding window size")."""

    #: ``hf_text_config.model_type`` values it names (Gemma 2 from 0.5.1).
    model_types: tuple[str, ...]
    #: A list-valued ``sliding_window`` counts as interleaved.
    list_window: bool
    #: A ``sliding_window_pattern`` in the config counts (0.9).
    pattern: bool
    #: ``layer_types`` with both full and sliding attention counts (``is_interleaved``, 0.10-0.11).
    layer_types: bool
    #: Only under these ``VLLM_ATTENTION_BACKEND`` values; empty: always.
    backends: tuple[str, ...]
    #: Only on the V0 engine (``VLLM_USE_V1=0``).
    v0_only: bool


@dataclass(frozen=True, slots=True)
class MaxLenRules:
    """How one release derives the model's maximum length from config.json (see modelfacts.derive_max_len)."""

    keys: tuple[str, ...]
    model_max_length_overrides: bool
    tokenizer_caps: bool
    sliding_window_when_disabled: bool
    rope_types_unscaled: tuple[str, ...]
    gemma3_unscaled: bool
    rope_key: str
    default: int
    interleaved_cap: InterleavedCap | None = None


@dataclass(frozen=True, slots=True)
class ReleaseModels:
    """One vLLM release's model knowledge."""

    version: str
    generation: frozenset[str]
    pooling: frozenset[str]
    transformers_fallback: bool
    previously_supported: frozenset[str]
    max_len: MaxLenRules
    #: method -> minimum compute capability x10 (75 = 7.5); None where the release computes it at run time.
    quantization: dict[str, int | None]


def _cap(raw: dict[str, Any] | None) -> InterleavedCap | None:
    if not raw:
        return None
    return InterleavedCap(
        model_types=tuple(raw["model_types"]),
        list_window=bool(raw["list_window"]),
        pattern=bool(raw["pattern"]),
        layer_types=bool(raw["layer_types"]),
        backends=tuple(raw["backends"]),
        v0_only=bool(raw["v0_only"]),
    )


def _release(version: str, raw: dict[str, Any]) -> ReleaseModels:
    arch = raw["architectures"]
    ml = raw["max_len"]
    return ReleaseModels(
        version=version,
        generation=frozenset(arch["generation"]),
        pooling=frozenset(arch["pooling"]),
        transformers_fallback=bool(arch["transformers_fallback"]),
        previously_supported=frozenset(arch["previously_supported"]),
        max_len=MaxLenRules(
            keys=tuple(ml["keys"]),
            model_max_length_overrides=bool(ml["model_max_length_overrides"]),
            tokenizer_caps=bool(ml["tokenizer_caps"]),
            sliding_window_when_disabled=bool(ml["sliding_window_when_disabled"]),
            rope_types_unscaled=tuple(ml["rope_types_unscaled"]),
            gemma3_unscaled=bool(ml["gemma3_unscaled"]),
            rope_key=str(ml["rope_key"]),
            default=int(ml["default"]),
            interleaved_cap=_cap(ml.get("interleaved_cap")),
        ),
        quantization=dict(raw["quantization"]),
    )


@cache
def releases() -> dict[str, ReleaseModels]:
    """Every release in the data, oldest first."""
    text = resources.files("triton_doctor.knowledge").joinpath("model_knowledge.json").read_text("utf-8")
    return {v: _release(v, r) for v, r in json.loads(text)["releases"].items()}


def release_for(image: ImageInfo | None) -> ReleaseModels:
    """The release of an image's vLLM; the newest release when the image is unknown."""
    data = releases()
    if image is not None and image.vllm in data:
        return data[image.vllm]
    return data[next(reversed(data))]
