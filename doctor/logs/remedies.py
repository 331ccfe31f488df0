"""Remedies of log findings computed from what exists: the repository's model names and version folders,
and the engine arguments of the image's vLLM.

The catalog's remedy is the fallback, for a log read without its deployment (``triton-doctor logs FILE``);
with the deployment known (``check --live``, ``container-logs``) the remedy names the real folder, model or
key, so that it can be pasted as is.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from triton_doctor.core.closest import closest
from triton_doctor.knowledge import IMAGES, image_for_tag, known_engine_args, suggest_engine_arg
from triton_doctor.logs.catalog import Hit, LogDiagnosis

__all__ = ["Deployment", "remedy_for", "wrapper_remedy"]

_QUOTED = re.compile(r"'([^']+)'")
_KEYWORD = re.compile(r"unexpected keyword argument '([^']+)'")
_VERSION_LIKE = re.compile(r"^(v\d+|0\d+|\d+\.\d+|version_?\d+)$", re.I)
# A repository folder with more entries than this is not listed for a remedy.
_MAX_ENTRIES = 2000


@dataclass(frozen=True, slots=True)
class Deployment:
    """What the log's deployment is known to hold (all optional: ``logs FILE`` knows none of it)."""

    #: The model repository on the host.
    repo: Path | None = None
    #: The model directories in it.
    models: tuple[str, ...] = ()
    #: The image reference (its tag gives the vLLM release).
    image: str | None = None


def _entries(path: Path) -> list[str]:
    try:
        with os.scandir(path) as it:
            names = []
            for i, entry in enumerate(it):
                if i >= _MAX_ENTRIES:
                    break
                names.append(entry.name)
            return sorted(names)
    except OSError:
        return []


def _vllm(deployment: Deployment, log_vllm: str | None, release: str | None) -> tuple[str | None, str]:
    """The engine-args release to check against, and how it is known (for the remedy's words)."""
    info = image_for_tag(deployment.image or "") or (IMAGES.get(release) if release else None)
    if info is not None:
        return info.engine_args_version, f"vLLM {info.vllm} (image {info.tag})"
    if log_vllm:
        try:
            known_engine_args(log_vllm)
        except KeyError:
            return None, f"vLLM {log_vllm}"
        return log_vllm, f"vLLM {log_vllm}"
    return None, "the image's vLLM"


def _load_model(hit: Hit, deployment: Deployment) -> str | None:
    model = dict(hit.groups).get("model")
    if model is None or not deployment.models:
        return None
    near = closest(model, deployment.models)
    if near is not None:
        return f"did you mean {near!r}? write --load-model={near} (the repository has no {model}/)"
    names = ", ".join(deployment.models[:8]) + (" ..." if len(deployment.models) > 8 else "")
    return (
        f"the repository holds {names}: pass --load-model with one of them, or create {model}/ "
        f"(triton-doctor init HUB_ID --name {model})"
    )


def _no_version(hit: Hit, deployment: Deployment) -> str | None:
    names = _QUOTED.findall(hit.text)
    model = names[0] if names else None
    if model is None or deployment.repo is None:
        return "create the version directory 1/ holding model.json (a v1/ or 01/ is renamed to 1/): triton-doctor fix"
    folder = deployment.repo / model
    entries = _entries(folder)
    versionish = [e for e in entries if (folder / e).is_dir() and _VERSION_LIKE.match(e) and e != "1"]
    shown = str(folder)
    if versionish:
        return f"mv {shown}/{versionish[0]} {shown}/1 (a version directory must be a number; triton-doctor fix does it)"
    if "model.json" in entries:
        return f"move model.json into a version directory: mkdir {shown}/1 && mv {shown}/model.json {shown}/1/"
    return f"create {shown}/1/model.json (triton-doctor init HUB_ID --name {model} writes it)"


def _engine_arg(hit: Hit, deployment: Deployment, log_vllm: str | None, release: str | None) -> str | None:
    match = _KEYWORD.search(hit.text)
    if match is None:
        return None
    key = match.group(1)
    version, which = _vllm(deployment, log_vllm, release)
    suggestion = suggest_engine_arg(key, version)
    if suggestion is not None:
        return f"{key!r} is not an engine argument of {which}: rename it to {suggestion!r} in model.json"
    return f"{key!r} is not an engine argument of {which}: delete it from model.json"


def remedy_for(
    cid: str, hit: Hit, deployment: Deployment, *, log_vllm: str | None = None, release: str | None = None
) -> str | None:
    """A remedy computed from the deployment for catalog entry ``cid``, or None to keep the catalog's."""
    if cid == "load-model-not-in-repository":
        return _load_model(hit, deployment)
    if cid == "no-version-directory":
        return _no_version(hit, deployment)
    if cid == "unknown-engine-arg":
        return _engine_arg(hit, deployment, log_vllm, release)
    return None


def wrapper_remedy(cid: str, diag: LogDiagnosis, source: str) -> str | None:
    """A wrapper's remedy from what the log itself says (the failed models, the control mode), or None."""
    if cid == "engine-dead" and cid not in diag.wrapper_context:
        return (
            "the log shows no traceback of the engine: the stub was killed from outside, most often for memory "
            "(the host's OOM killer: sudo dmesg | grep -i oom) or a full /dev/shm (docker run --shm-size=1g); "
            "triton-doctor check with your docker run (--docker-command-file) checks both"
        )
    if cid != "server-exits-on-any-load-failure":
        return None
    failed = [m for m, (_v, status, _n) in diag.models.items() if status.upper().startswith("UNAVAILABLE")]
    loaded = [m for m, (_v, status, _n) in diag.models.items() if status.upper() == "READY"]
    names = ", ".join(failed) or "the model"
    if "explicit" in (diag.options.get("model_control_mode") or "").lower():
        return (
            f"fix the load error of {names} quoted above: a model named by --load-model that fails stops the "
            "server (add --exit-on-error=false to keep it up for the other models)"
        )
    if loaded:
        keep = " ".join(f"--load-model={m}" for m in loaded)
        return f"load only the models that work: --model-control-mode=explicit {keep}; then fix {names}"
    return (
        f"fix the load error of {names} quoted above; with several models, load one at a time: "
        "--model-control-mode=explicit --load-model=NAME"
    )
