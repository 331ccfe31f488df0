"""Generated tables of what each image ships (Triton, vLLM releases, engine arguments, model support).

Takes nothing at run time (JSON made by scripts/ from the wheels); gives lookups by image and release.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "CATALOG",
    "IMAGES",
    "ImageInfo",
    "engine_arg_versions",
    "image_for_tag",
    "known_engine_args",
    "suggest_engine_arg",
]

#: catalog id -> stage, in the knowledge base's order.
CATALOG: dict[str, str] = {
    "docker-gpu-runtime-missing": "docker",
    "image-pull-no-space": "docker",
    "port-in-use": "docker",
    "host-network-on-docker-desktop": "docker",
    "shm-too-small-python-backend": "docker",
    "host-ram-oom-killed": "load",
    "nvml-library-missing": "gpu",
    "wsl-no-gpu-adapter": "gpu",
    "driver-too-old-requirement": "gpu",
    "driver-too-old-banner": "gpu",
    "no-gpu-in-container": "gpu",
    "nvml-unknown-error-after-reload": "gpu",
    "gpu-arch-not-supported": "gpu",
    "ptx-unsupported-toolchain": "runtime",
    "bind-source-missing": "mount",
    "model-repo-not-found-in-container": "mount",
    "local-model-path-not-mounted": "mount",
    "hf-cache-unwritable": "mount",
    "hf-gated-unauthenticated": "hf",
    "hf-license-not-accepted": "hf",
    "hf-finegrained-token-no-gated-scope": "hf",
    "hf-invalid-token": "hf",
    "hf-repo-not-found": "hf",
    "hf-offline-not-cached": "hf",
    "hf-rate-limited": "hf",
    "model-json-missing": "layout",
    "no-version-directory": "layout",
    "dir-name-mismatch": "layout",
    "config-pbtxt-syntax": "layout",
    "model-json-invalid-json": "layout",
    "missing-backend-field": "layout",
    "wrong-image-no-vllm-backend": "layout",
    "decoupled-disabled": "config",
    "max-batch-size-nonzero": "config",
    "kind-gpu-with-multi-gpu": "config",
    "unknown-engine-arg": "config",
    "max-model-len-exceeds-model": "config",
    "kv-cache-too-small-for-max-len": "load",
    "bf16-on-pre-ampere": "config",
    "trust-remote-code-required": "config",
    "unsupported-architecture": "config",
    "tp-not-divisible": "config",
    "stale-explicit-io-config": "config",
    "backend-vllm-version-skew": "config",
    "enable-lora-flag-type": "config",
    "multi-lora-json": "layout",
    "no-kv-cache-memory": "load",
    "free-memory-below-utilization": "load",
    "cuda-oom-during-load": "load",
    "memory-profiling-race": "load",
    "nccl-shm-tensor-parallel": "load",
    "cuda-reinit-in-forked-subprocess": "load",
    "tokenizer-format-too-new": "load",
    "server-exits-on-any-load-failure": "load",
    "engine-dead": "runtime",
    "prompt-too-long": "runtime/client",
    "http-infer-on-decoupled-model": "client",
    "stream-true-on-generate": "client",
    "stream-with-prompt-echo": "client",
    "unknown-or-unready-model": "client",
    "output-truncated-16-tokens": "client",
    "bad-sampling-parameter": "client",
    "load-model-not-in-repository": "layout",
    "uncatalogued-load-failure": "load",
}


def _server_arg_ids() -> list[str]:
    """One catalog id per start-time refusal of tritonserver's parser (``server_args.json``), in its order."""
    text = resources.files("triton_doctor.knowledge").joinpath("server_args.json").read_text("utf-8")
    return ["server-arg-" + row["id"] for row in json.loads(text)["refusals"]]


CATALOG.update(dict.fromkeys(_server_arg_ids(), "command"))


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """One ``<yy.mm>-vllm-python-py3`` release (server docs: compatibility matrix)."""

    tag: str
    vllm: str
    cuda: str
    #: The driver the image was built with (always enough); None where the matrix does not say.
    driver: str | None
    python: str
    #: Compressed size in GB; None where the matrix does not say.
    size_gb: float | None
    #: The engine-args list used for this image's vLLM (nearest release we have field names for).
    engine_args_version: str


def _img(tag: str, vllm: str, cuda: str, driver: str | None, python: str, size: float | None, ea: str) -> ImageInfo:
    return ImageInfo(tag, vllm, cuda, driver, python, size, ea)


IMAGES: dict[str, ImageInfo] = {
    i.tag: i
    for i in (
        _img("24.04", "0.4.0.post1", "12.4.1", "550.54.15", "3.10", 17.5, "0.4.0.post1"),
        _img("24.05", "0.4.0.post1", "12.4.1", "550.54.15", "3.10", 18, "0.4.0.post1"),
        _img("24.06", "0.4.3", "12.5.0", "555.42.02", "3.10", 18, "0.4.3"),
        _img("24.07", "0.5.0.post1", "12.5.1", "555.42.06", "3.10", 19, "0.5.0.post1"),
        _img("24.08", "0.5.0.post1", "12.6.0", "560.35.03", "3.10", 19, "0.5.0.post1"),
        _img("24.09", "0.5.3.post1", "12.6.1", "560.35.03", "3.10", 19, "0.5.3.post1"),
        _img("24.10", "0.5.5", "12.6.2", "560.35.03", "3.10", 21, "0.5.5"),
        _img("24.11", "0.5.5", "12.6.3", "560.35.05", "3.12", 20, "0.5.5"),
        _img("24.12", "0.5.5", "12.6.3", "560.35.05", "3.12", 22, "0.5.5"),
        _img("25.01", "0.6.3.post1", "12.8.0", "570.86.10", "3.12", 23, "0.6.3.post1"),
        _img("25.02", "0.7.0", "12.8.0", "570.86.10", "3.12", 22, "0.7.0"),
        _img("25.03", "0.7.3", "12.8.1", "570.124.06", "3.12", 22, "0.7.3"),
        _img("25.04", "0.8.1", "12.9.0", "575.51.02", "3.12", 10, "0.8.1"),
        _img("25.05", "0.8.4", "12.9.0", "575.51.03", "3.12", 10, "0.8.4"),
        _img("25.06", "0.9.0rc1", "12.9.0", "575.51.03", "3.12", 10, "0.9.0"),
        _img("25.07", "0.9.0rc1", "12.9.0", "575.51.03", "3.12", 10, "0.9.0"),
        _img("25.08", "0.9.2", "13.0.1", "580.82.07", "3.12", 8.1, "0.9.2"),
        _img("25.09", "0.10.1.1", "13.0.1", "580.82.07", "3.12", 7.8, "0.10.1.1"),
        _img("25.10", "0.10.2", "13.0.2", "580.95.05", "3.12", 8.3, "0.10.2"),
        _img("25.11", "0.11.0", "13.0.2", "580.95.05", "3.12", 8.7, "0.11.0"),
        _img("25.12", "0.11.1", "13.1.0", "590.44.01", "3.12", 8.5, "0.11.1"),
        _img("26.01", "0.13.0", "13.1.1", None, "3.12", None, "0.13.0"),
        _img("26.03", "0.17.1", "13.2.0", None, "3.12", None, "0.17.1"),
        _img("26.05", "0.19.0", "13.2.1", None, "3.12", None, "0.19.0"),
        _img("26.07", "0.24.0", "13.3.0", None, "3.12", None, "0.24.0"),
    )
}

_TAG_RE = re.compile(r":(\d\d\.\d\d)(?:-|$)")


def image_for_tag(image: str) -> ImageInfo | None:
    """The matrix row for an image reference such as ``nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3``."""
    match = _TAG_RE.search(image or "")
    return IMAGES.get(match.group(1)) if match else None


@cache
def _engine_args() -> dict[str, frozenset[str]]:
    text = resources.files("triton_doctor.knowledge").joinpath("engine_args.json").read_text("utf-8")
    return {v: frozenset(names) for v, names in json.loads(text)["versions"].items()}


def known_engine_args(vllm_version: str | None = None) -> frozenset[str]:
    """Engine-arg names of one vLLM release, or of any release we know when ``vllm_version`` is None."""
    data = _engine_args()
    if vllm_version is None:
        return frozenset().union(*data.values())
    return data[vllm_version]


def engine_arg_versions(name: str) -> list[str]:
    """The vLLM releases (in the table's order) whose engine args include ``name``."""
    return [v for v, names in _engine_args().items() if name in names]


def suggest_engine_arg(name: str, vllm_version: str | None = None) -> str | None:
    """The closest known engine-arg name to ``name`` ("did you mean"), or None."""
    candidates = sorted(known_engine_args(vllm_version))
    normalised = name.replace("-", "_").lower()
    if normalised != name and normalised in candidates:
        return normalised
    close = difflib.get_close_matches(normalised, candidates, n=1, cutoff=0.75)
    return close[0] if close else None
