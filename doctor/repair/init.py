"""``triton-doctor init``: write the guide's model layout for one model, never over anything.

``<repo>/<name>/config.pbtxt`` (backend "vllm", ``max_batch_size: 0``, decoupled, one KIND_MODEL instance)
and ``<repo>/<name>/1/model.json`` naming the Hub id, or with ``--local`` the container path of a snapshot
downloaded into ``local_models/<org>_<name>/`` beside the repository (mounted at ``/local_models``).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

__all__ = ["InitError", "InitRequest", "config_text", "model_json_text", "run_init"]


class InitError(ValueError):
    """Bad input or something already there (exit code 2); nothing was written."""


@dataclass(slots=True, kw_only=True)
class InitRequest:
    """What ``init`` was asked."""

    model_id: str
    repo: str = "model_repository"
    name: str | None = None
    local: bool = False
    gpu_memory_utilization: float = 0.9


def default_name(model_id: str) -> str:
    """A Triton model name from a Hub id: the part after the slash, other characters made underscores."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", model_id.rsplit("/", maxsplit=1)[-1])


def config_text(name: str) -> str:
    """A config.pbtxt the vLLM backend accepts as it is (auto-complete declares the inputs/outputs)."""
    return (
        f'name: "{name}"\n'
        'backend: "vllm"\n'
        "max_batch_size: 0\n"
        "model_transaction_policy { decoupled: true }\n"
        "instance_group [ { count: 1, kind: KIND_MODEL } ]\n"
    )


def model_json_text(model: str, gpu_memory_utilization: float = 0.9) -> str:
    """model.json with the model and the one engine argument almost everyone sets."""
    return json.dumps({"model": model, "gpu_memory_utilization": gpu_memory_utilization}, indent=2) + "\n"


class _Resume(Exception):
    """The layout exists from an earlier init --local of the same model: only the download is left."""


def _written_by_init(model_dir: Path, model_value: str) -> bool:
    """``model_dir`` holds what init --local wrote for ``model_value`` (config.pbtxt and 1/model.json)."""
    try:
        text = (model_dir / "1" / "model.json").read_text(encoding="utf-8")[:4096]
    except OSError:
        return False
    return (model_dir / "config.pbtxt").is_file() and f'"{model_value}"' in text


def run_init(req: InitRequest, *, download: bool = True) -> str:
    """Write the layout; return what to tell the user (the next commands). Raises :class:`InitError`."""
    from triton_doctor.core.hfid import is_hub_id

    if not is_hub_id(req.model_id):
        raise InitError(
            f"{req.model_id!r} is not a Hugging Face model id (write <org>/<name>, e.g. google/gemma-3-1b-it)"
        )
    name = req.name or default_name(req.model_id)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name in {".", ".."}:
        raise InitError(f"--name {name!r}: use letters, digits, '_', '-' and '.' (it is a directory name)")
    repo = Path(req.repo)
    model_dir = repo / name
    local_dir = repo.absolute().parent / "local_models" / req.model_id.replace("/", "_")
    model_value = req.model_id
    if req.local:
        model_value = f"/local_models/{local_dir.name}"
    # A download that failed half-way is resumed by the same command: the layout it wrote is its own.
    resume = req.local and download and _written_by_init(model_dir, model_value)
    if (model_dir.exists() or model_dir.is_symlink()) and not resume:
        raise InitError(f"{model_dir} already exists; init never overwrites (choose --name or remove it)")
    if repo.exists() and not repo.is_dir():
        raise InitError(f"{repo} exists and is not a directory")
    try:
        if resume:
            raise _Resume
        (model_dir / "1").mkdir(parents=True)
        (model_dir / "config.pbtxt").write_text(config_text(name), encoding="utf-8")
        (model_dir / "1" / "model.json").write_text(
            model_json_text(model_value, req.gpu_memory_utilization), encoding="utf-8"
        )
    except _Resume:
        pass
    except OSError as exc:
        raise InitError(f"cannot write {model_dir}: {exc.strerror or exc}") from exc
    lines = [
        f"created {model_dir / 'config.pbtxt'}",
        f"created {model_dir / '1' / 'model.json'}  (model: {model_value})",
    ]
    if resume:
        lines = [f"{model_dir} is already laid out for {model_value}: resuming the download"]
    mount = ""
    if req.local:
        if download:
            from triton_doctor.deploy.tokens import host_token
            from triton_doctor.repair.download_errors import download_error_text
            from triton_doctor.repair.remote import download_into

            try:
                download_into(req.model_id, local_dir)
            except Exception as exc:  # huggingface_hub's and httpx's errors: said in the user's words
                done = "" if resume else f"{model_dir} is written; "
                raise InitError(
                    done + download_error_text(exc, req.model_id, token_set=bool(host_token().value))
                ) from exc
            lines.append(f"downloaded {req.model_id} into {local_dir}")
        mount = f" --mount {shlex.quote(str(local_dir.parent))}:/local_models"
    lines += [
        "",
        "next:",
        f"  triton-doctor check --repo {shlex.quote(str(repo))}{mount}",
        f"  triton-doctor command --repo {shlex.quote(str(repo))} --model {name}{mount}",
    ]
    return "\n".join(lines) + "\n"
