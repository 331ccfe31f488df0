"""A checkpoint as vLLM sees it: one typed record from its ``config.json`` (local or from the Hub).

The fields are read the way vLLM reads them (sources cited per function; the release knowledge in
``knowledge/model_knowledge.json`` says where releases differ):

- heads, KV heads, layers, hidden size: ``ModelConfig.get_total_num_attention_heads`` /
  ``get_total_num_kv_heads`` / ``get_num_layers`` in vllm/config.py (0.4-0.9), vllm/config/__init__.py (0.10),
  vllm/config/model.py (0.11+), read from the *text* config of multimodal models (``hf_text_config``);
- the maximum length: ``_get_and_verify_max_len`` in the same files (from 0.17 the key search moved to
  ``ModelArchConfigConvertorBase.derive_max_model_len_and_key`` in
  vllm/transformers_utils/model_arch_config_convertor.py), see :func:`derive_max_len`;
- architectures, ``auto_map`` (custom code: vllm/transformers_utils/config.py ``get_config`` passes
  ``trust_remote_code`` to transformers, which refuses custom code without it), ``torch_dtype``,
  ``quantization_config.quant_method`` (``ModelConfig._verify_quantization``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from triton_doctor.facts.repository import JsonDoc
from triton_doctor.knowledge.config_defaults import fill_defaults
from triton_doctor.knowledge.models import InterleavedCap, MaxLenRules, ReleaseModels
from triton_doctor.results import Location

if TYPE_CHECKING:
    from triton_doctor.facts.context import Context

__all__ = ["Checkpoint", "CheckpointRead", "MaxLen", "checkpoint_from", "derive_max_len", "read_checkpoint"]


def _int(config: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


@dataclass(frozen=True, slots=True)
class MaxLen:
    """The maximum length vLLM derives, and how."""

    #: The limit ``max_model_len`` may not exceed.
    value: int
    #: What set it: a config.json key, ``sliding_window``, ``tokenizer_config.json model_max_length`` or
    #: ``default`` (none of the keys: vLLM assumes 2048).
    key: str
    #: The steps, for the evidence line: ``seq_length=2048 (smallest of max_position_embeddings=8192, ...)``.
    steps: tuple[str, ...]
    #: config.json's ``model_max_length``: vLLM also accepts a max_model_len up to it.
    allowance: int | None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The facts of one checkpoint's config.json."""

    #: model.json's ``model``: a container path or a Hub id.
    source: str
    #: ``local`` or ``hub``.
    origin: str
    #: Where config.json was read, as shown to the user.
    display: str
    config: dict[str, Any]
    #: The text config (``text_config`` of multimodal models merged over the top level).
    text: dict[str, Any]
    key_lines: dict[str, int]
    architectures: tuple[str, ...]
    model_type: str
    num_attention_heads: int | None
    num_key_value_heads: int | None
    num_hidden_layers: int | None
    hidden_size: int | None
    vocab_size: int | None
    head_dim: int | None
    torch_dtype: str | None
    quant_method: str | None
    auto_map: tuple[str, ...]
    sliding_window: int | None
    #: tokenizer_config.json's model_max_length (None: no such file or key, or not read).
    tokenizer_max_length: float | None
    #: Tokenizer files beside config.json (None: not known, e.g. a Hub model).
    tokenizer_files: tuple[str, ...] | None
    #: Keys config.json lacks that transformers' config class fills in -> where the default comes from.
    defaulted: dict[str, str] = field(default_factory=dict)

    def location(self, key: str | None = None) -> Location:
        """config.json, at the line of a top-level key when known."""
        return Location(path=self.display, line=self.key_lines.get(key) if key else None)

    def needs_remote_code(self) -> bool:
        """True when transformers needs the checkpoint's own code (``auto_map``) to build the config/model."""
        return bool(self.auto_map)

    def is_pooling(self, release: ReleaseModels) -> bool:
        """Every architecture is a pooling (embedding, classification, reward) model in ``release``."""
        return bool(self.architectures) and all(
            a in release.pooling and a not in release.generation for a in self.architectures
        )

    def max_len(
        self, rules: MaxLenRules, *, disable_sliding_window: bool = False, env: dict[str, str | None] | None = None
    ) -> MaxLen:
        """The limit vLLM derives (see :func:`derive_max_len`); ``env``: the container's environment."""
        return derive_max_len(
            self.text,
            rules,
            tokenizer_max_length=self.tokenizer_max_length,
            disable_sliding_window=disable_sliding_window,
            defaulted=self.defaulted,
            env=env,
        )


def _interleaved(config: dict[str, Any], cap: InterleavedCap | None, env: dict[str, str | None]) -> str | None:
    """Why the release caps this model at its sliding window (None: it does not)."""
    if cap is None or config.get("sliding_window") is None:
        return None
    backend = env.get("VLLM_ATTENTION_BACKEND") or ""
    if cap.backends and backend not in cap.backends:
        return None
    if cap.v0_only and (env.get("VLLM_USE_V1") or "").strip() != "0":
        return None
    model_type = str(config.get("model_type") or "")
    layer_types = config.get("layer_types")
    interleaved = (
        model_type in cap.model_types
        or (cap.list_window and isinstance(config.get("sliding_window"), list))
        or (cap.pattern and config.get("sliding_window_pattern") is not None)
        or (
            cap.layer_types
            and isinstance(layer_types, list)
            and {"full_attention", "sliding_attention"} <= set(layer_types)
        )
    )
    if not interleaved:
        return None
    under = f" under VLLM_ATTENTION_BACKEND={backend}" if cap.backends else ""
    return f"{model_type or 'the model'} has interleaved attention: vLLM turns the sliding window off{under}"


def derive_max_len(
    config: dict[str, Any],
    rules: MaxLenRules,
    *,
    tokenizer_max_length: float | None = None,
    disable_sliding_window: bool = False,
    defaulted: dict[str, str] | None = None,
    env: dict[str, str | None] | None = None,
) -> MaxLen:
    """``_get_and_verify_max_len`` of vLLM (vllm/config.py 0.4-0.9, vllm/config/__init__.py 0.10,
    vllm/config/model.py 0.11+), without the error: the smallest value among ``rules.keys``; from 0.8.4 a
    ``model_max_length`` replaces it (Command-R); with ``disable_sliding_window`` (0.4.3+) the smallest sliding
    window caps it; from 0.9.2 the tokenizer_config.json's ``model_max_length`` caps it; none of the keys: 2048.
    Then rope scaling multiplies it by ``factor`` unless the rope type is in ``rules.rope_types_unscaled``
    (su, longrope, llama3: already in max_position_embeddings) or the model is Gemma 3 (0.8.1+); for ``yarn``
    the base is ``original_max_position_embeddings``."""
    found = [(k, v) for k in rules.keys if (v := _number(config.get(k))) is not None]
    steps: list[str] = []
    if found:
        key, value = min(found, key=lambda kv: kv[1])
        others = [f"{k}={int(v)}" for k, v in found if k != key]
        steps.append(f"{key}={int(value)}" + (f" (smallest of it and {', '.join(others)})" if others else ""))
        if defaulted and key in defaulted:
            steps.append(f"config.json has no {key}: {defaulted[key]}")
    else:
        key, value = "", math.inf
    override = _number(config.get("model_max_length"))
    if rules.model_max_length_overrides and override:
        key, value = "model_max_length", override
        steps.append(f"model_max_length={int(override)} replaces it")
    window = config.get("sliding_window")
    windows = [n for w in (window if isinstance(window, list) else [window]) if (n := _number(w))]
    forced = _interleaved(config, rules.interleaved_cap, env or {}) if not disable_sliding_window else None
    if forced and windows and min(windows) < value:
        steps.append(forced)
        disable_sliding_window = True
    if (rules.sliding_window_when_disabled or forced) and disable_sliding_window and windows:
        smallest = min(windows)
        if smallest < value:
            key, value = "sliding_window", smallest
            how = "caps it" if forced else "(disable_sliding_window)"
            steps.append(f"sliding_window={int(smallest)} {how}")
    if rules.tokenizer_caps and tokenizer_max_length is not None and tokenizer_max_length < value:
        key, value = "tokenizer_config.json model_max_length", tokenizer_max_length
        steps.append(f"tokenizer_config.json model_max_length={int(tokenizer_max_length)} caps it")
    if value == math.inf:
        key, value = "default", float(rules.default)
        steps.append(f"no length key in config.json: vLLM assumes {rules.default}")
    rope = config.get("rope_scaling") or config.get("rope_parameters")
    model_type = str(config.get("model_type") or "")
    if isinstance(rope, dict) and not (rules.gemma3_unscaled and "gemma3" in model_type):
        rope_type = rope.get("rope_type") or rope.get("type")
        factor = _number(rope.get("factor"))
        if rope_type not in rules.rope_types_unscaled and rope_type != "default" and factor:
            if rope_type == "yarn" and _number(rope.get("original_max_position_embeddings")):
                value = float(rope["original_max_position_embeddings"])
                steps.append(f"yarn: original_max_position_embeddings={int(value)}")
            value *= factor
            key = f"{key} x rope_scaling.factor" if key else "rope_scaling.factor"
            steps.append(f"x rope_scaling factor {factor:g} ({rope_type}) = {int(value)}")
    return MaxLen(value=int(value), key=key, steps=tuple(steps), allowance=int(override) if override else None)


def checkpoint_from(
    source: str,
    origin: str,
    doc: JsonDoc,
    *,
    tokenizer_max_length: float | None = None,
    tokenizer_files: tuple[str, ...] | None = None,
) -> Checkpoint | None:
    """The record of a parsed config.json (None when it is not a JSON object)."""
    if not isinstance(doc.data, dict):
        return None
    config: dict[str, Any] = doc.data
    text, defaulted = fill_defaults(config)
    heads = _int(text, "num_attention_heads", "n_head", "num_heads", "n_heads")
    # vLLM get_total_num_kv_heads: falcon n_head_kv / num_kv_heads, chatglm multi_query_group_num, else
    # num_key_value_heads, else every head is a KV head (multi-head attention).
    kv = _int(text, "num_key_value_heads", "n_head_kv", "num_kv_heads", "multi_query_group_num")
    if text.get("multi_query") is True and kv is None:
        kv = 1
    hidden = _int(text, "hidden_size", "n_embd", "d_model")
    quant = config.get("quantization_config") or text.get("quantization_config")
    method = quant.get("quant_method") if isinstance(quant, dict) else None
    auto_map = config.get("auto_map")
    arch = config.get("architectures")
    window = text.get("sliding_window")
    dtype = config.get("torch_dtype") or config.get("dtype") or text.get("torch_dtype")
    return Checkpoint(
        source=source,
        origin=origin,
        display=doc.display,
        config=config,
        text=text,
        key_lines=dict(doc.key_lines),
        architectures=tuple(a for a in arch if isinstance(a, str)) if isinstance(arch, list) else (),
        model_type=str(config.get("model_type") or ""),
        num_attention_heads=heads,
        num_key_value_heads=kv or heads,
        num_hidden_layers=_int(text, "num_hidden_layers", "n_layer", "num_layers", "n_layers"),
        hidden_size=hidden,
        vocab_size=_int(text, "vocab_size", "padded_vocab_size"),
        head_dim=_int(text, "head_dim") or (hidden // heads if hidden and heads else None),
        torch_dtype=str(dtype) if isinstance(dtype, str) else None,
        quant_method=str(method) if isinstance(method, str) else None,
        auto_map=tuple(sorted(auto_map)) if isinstance(auto_map, dict) else (),
        sliding_window=window if isinstance(window, int) and not isinstance(window, bool) else None,
        tokenizer_max_length=tokenizer_max_length,
        tokenizer_files=tokenizer_files,
        defaulted=defaulted,
    )


@dataclass(frozen=True, slots=True)
class CheckpointRead:
    """A checkpoint's facts, or why they are unknown (``why``, for a check's "not checked" reason)."""

    checkpoint: Checkpoint | None
    why: str | None = None
    #: For Hub models that could not be read: the probe's failure kind (gated, not-found, not-cached ...).
    kind: str | None = None


def _tokenizer_length(doc: JsonDoc | None) -> float | None:
    data = doc.data if doc is not None else None
    return _number(data.get("model_max_length")) if isinstance(data, dict) else None


def read_checkpoint(ctx: Context, source: str) -> CheckpointRead:
    """Read config.json of a local directory (through the mounts) or of a Hub id (``hf_hub_download``)."""
    from triton_doctor.core.hfid import is_hub_id
    from triton_doctor.facts.repository import read_json

    if source.startswith("/"):
        local = ctx.local_model(source)
        if local.mount is None and ctx.target.server_url:
            return CheckpointRead(
                None, f"{source} is inside the running server (--server): its files are not visible here"
            )
        if local.config is None or local.host is None:
            return CheckpointRead(None, "no config.json (see model-source)")
        if local.config.error is not None or not isinstance(local.config.data, dict):
            return CheckpointRead(None, f"{local.config.display} is not a JSON object")
        tok = read_json(local.host / "tokenizer_config.json", "") if "tokenizer_config.json" in local.files else None
        found = checkpoint_from(
            source,
            "local",
            local.config,
            tokenizer_max_length=_tokenizer_length(tok),
            tokenizer_files=local.tokenizer_files,
        )
        return CheckpointRead(found)
    if not is_hub_id(source):
        return CheckpointRead(None, "neither a container path nor a Hub id")
    if ctx.static_only:
        return CheckpointRead(None, "--profile quick reads no Hub files (the standard profile fetches config.json)")
    from triton_doctor.deploy.tokens import container_token
    from triton_doctor.probes.hub_files import download_file

    token = container_token(ctx.target).value
    got = download_file(source, "config.json", token, offline=ctx.target.offline)
    if got.path is None:
        reason = {
            "not-cached": "--offline and config.json is not in the HF cache",
            "gated": "gated for this token (see hf-model-access)",
            "not-found": "not found on the Hub (see hf-model-access)",
            "no-file": "the Hub repository has no config.json",
        }.get(got.call.kind or "", f"the Hub did not give config.json ({got.call.kind}: {got.call.message})")
        return CheckpointRead(None, reason, kind=got.call.kind)
    doc = read_json(got.path, f"{source}/config.json (Hub)")
    if doc.error is not None or not isinstance(doc.data, dict):
        return CheckpointRead(None, f"{source}: config.json is not a JSON object")
    tok_file = download_file(source, "tokenizer_config.json", token, offline=ctx.target.offline)
    tok = read_json(tok_file.path, "") if tok_file.path is not None else None
    return CheckpointRead(
        checkpoint_from(
            source,
            "hub",
            doc,
            tokenizer_max_length=_tokenizer_length(tok),
            tokenizer_files=_hub_tokenizer_files(ctx, source, token),
        )
    )


def _hub_tokenizer_files(ctx: Context, source: str, token: str | None) -> tuple[str, ...] | None:
    """The tokenizer files of a Hub repository, from the model info's file list (the same call, memoised, as
    hf-model-access makes); None when not known: --offline, no answer, or a listing without config.json."""
    from triton_doctor.facts.repository import TOKENIZER_FILES

    if ctx.target.offline:
        return None
    info = ctx.hub_model(source, token)
    files = info.data.get("files") if info.ok else None
    if not isinstance(files, list) or "config.json" not in files:
        return None
    return tuple(f for f in files if isinstance(f, str) and f in TOKENIZER_FILES)
