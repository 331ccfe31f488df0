"""``model-source``: model.json's ``model`` is a Hugging Face id, or a container path backed by local weights."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.hfid import classify_model_ref
from triton_doctor.core.units import human_bytes
from triton_doctor.deploy.target import host_path, writable_here
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.fixdata import Applicability, Download, Fix, SetJsonKey
from triton_doctor.permodel import NotEvaluable, per_model
from triton_doctor.repair.locate import model_json_path
from triton_doctor.results import Category, Location, Outcome


def download_command(host_dir: str) -> str:
    """``hf download ORG/NAME --local-dir DIR``, the id read from the guide's folder naming (``org_name``)."""
    name = host_dir.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    org, sep, rest = name.partition("_")
    repo_id = f"{org}/{rest}" if sep and org and rest else "<org>/<name>"
    return f'hf download {repo_id} --local-dir "{host_dir}"'


class ModelSource(Check):
    """Where the weights come from."""

    id = "model-source"
    title = "Model weights source"
    category = Category.REPO
    requires = frozenset({"model-repository"})
    after = frozenset({"engine-args"})
    explanation = (
        "'model' in model.json is either a Hugging Face id (downloaded into the HF cache inside the "
        "container) or a path inside the container. A path must lie under a bind mount (the guide mounts "
        "local_models at /local_models), and the host directory behind it must hold config.json, a tokenizer "
        "and *.safetensors or *.bin weights. A path vLLM cannot find is taken for a Hub id and fails with "
        "HFValidationError. A Windows path (C:\\...) in model.json never exists inside the Linux container."
    )
    sub_ids = {
        "hf-id": "the model is a Hugging Face id (see the hf checks)",
        "host-path": "a Windows or relative host path in model.json",
        "invalid": "neither a Hub id nor an absolute path",
        "not-mounted": "the container path lies under no mount",
        "not-downloaded": "the local model directory is empty: the download never happened",
        "volume": "the path lies in a named volume the doctor cannot look into",
        "missing": "the host directory behind the path does not exist",
        "no-config": "no config.json in the model directory",
        "bad-config": "config.json is not strict JSON (transformers refuses it)",
        "no-tokenizer": "no tokenizer files in the model directory",
        "no-weights": "no *.safetensors or *.bin weights",
        "weights": "what the weights weigh",
    }

    def run(self, ctx: Context) -> Outcome:
        return per_model(ctx, self.id, lambda m, f: self._evaluate(ctx, m, f), ok="weights source found")

    def _evaluate(self, ctx: Context, model: ModelFacts, f: FindingFactory) -> None:
        args = ctx.engine_args(model.name)
        value = args.get("model") if args else None
        if not isinstance(value, str) or not value.strip():
            raise NotEvaluable("no model in model.json")
        loc = model.json_location("model")
        evidence = f'"model": "{value}"'
        kind = classify_model_ref(value)
        if kind == "hf":
            f.info("hf-id", f"{value!r} is a Hugging Face model id", model=model.name, location=loc)
            return
        if kind in {"windows", "relative"}:
            f.error(
                "host-path",
                f"model.json names a host path {value!r}; vLLM runs inside the container and never sees host paths",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy="mount the directory (--mount type=bind,source=<host dir>,target=/local_models) and "
                'write "model": "/local_models/<dir>"',
                catalog_id="local-model-path-not-mounted",
                fix=_rewrite(ctx, model, value),
            )
            return
        if kind == "invalid":
            f.error(
                "invalid",
                f"{value!r} is neither a Hugging Face id (org/name) nor an absolute container path",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy='write "model": "<org>/<name>" or "model": "/local_models/<dir>"',
                catalog_id="hf-repo-not-found",
            )
            return
        local = ctx.local_model(value)
        if local.mount is None and ctx.target.server_url:
            # Not "found": the running server's files are not visible from here (server-models reads its index).
            raise NotEvaluable(f"{value} is inside the running server (--server): its files are not visible here")
        if local.mount is None:
            targets = ", ".join(sorted({m.target for m in ctx.target.mounts})) or "none"
            top = "/" + value.strip("/").split("/")[0]
            f.error(
                "not-mounted",
                f"{value!r} lies under no mount of the container (mount targets: {targets})",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy=f"add --mount type=bind,source=<host dir with the model>,target={top} to docker run "
                f"(or --mount HOST:{top} for the doctor)",
                catalog_id="local-model-path-not-mounted",
                fix=_rewrite(ctx, model, value),
            )
            return
        if local.mount.type != "bind":
            f.warning(
                "volume",
                f"{value!r} lies in the {local.mount.type} {local.mount.source!r}; its contents "
                "cannot be checked from the host",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy="make sure the volume holds the model, or bind-mount the host directory instead",
            )
            return
        where = f"{value} -> host {local.host_display}"
        host_loc = Location(path=local.host_display)
        download = download_command(local.host_display)
        if not local.exists or not local.is_dir:
            what = "does not exist" if not local.exists else "is not a directory"
            f.error(
                "missing",
                f"the host directory behind {value!r} {what}: {local.host_display}",
                model=model.name,
                location=loc,
                evidence=where,
                remedy=f"download the model there ({download}) or fix the path in model.json",
                catalog_id="local-model-path-not-mounted",
                fix=_download(local.host, local.host_display) if not local.exists else None,
            )
            return
        if not [name for name in local.files if not name.startswith(".")]:
            f.error(
                "not-downloaded",
                f"{local.host_display} is empty: the model was never downloaded there",
                model=model.name,
                location=loc,
                evidence=where,
                remedy=f"download it: {download}",
            )
            return
        if local.config is None:
            f.error(
                "no-config",
                f"{local.host_display} has no config.json; vLLM treats the path as a Hub id",
                model=model.name,
                location=host_loc,
                evidence=f"files: {', '.join(local.files[:8]) or 'none'}",
                remedy="download the full snapshot (config.json, tokenizer, weights) into that directory",
                catalog_id="local-model-path-not-mounted",
                fix=_download(local.host, local.host_display),
            )
        elif local.config.error is not None:
            doc = local.config
            f.error(
                "bad-config",
                f"{doc.display}:{doc.line or 1}:{doc.column or 1}: {doc.error}; transformers reads config.json with "
                "json.loads and stops: 'It looks like the config file ... is not a valid JSON file'",
                model=model.name,
                location=Location(path=doc.display, line=doc.line, column=doc.column),
                evidence=where,
                remedy="save config.json as strict UTF-8 JSON without a byte-order mark (as the Hub serves it)",
            )
        if (
            not local.tokenizer_files
            and not (args and args.get("tokenizer"))
            and not (args and args.get("skip_tokenizer_init"))
        ):
            f.warning(
                "no-tokenizer",
                f"{local.host_display} has no tokenizer files (tokenizer.json, tokenizer.model, tokenizer_config.json)",
                model=model.name,
                location=host_loc,
                remedy='download the tokenizer files too, or set "tokenizer" in model.json',
            )
        if not local.weight_files:
            f.error(
                "no-weights",
                f"{local.host_display} has no weights (*.safetensors, *.bin)",
                model=model.name,
                location=host_loc,
                evidence=f"files: {', '.join(local.files[:8]) or 'none'}",
                remedy="download the weights (snapshot_download without allow_patterns that leave them out)",
            )
            return
        f.info(
            "weights",
            f"{len(local.weight_files)} weight file(s), {human_bytes(local.weights_bytes)} in {local.host_display}",
            model=model.name,
            location=host_loc,
            evidence=", ".join(local.weight_files[:4]) + (" ..." if len(local.weight_files) > 4 else ""),
        )


def _parts(path: str) -> tuple[str, ...]:
    """A host path's components, case-folded for drive letters, whatever its slashes."""
    text = path.replace("\\", "/").rstrip("/")
    parts = tuple(p for p in text.split("/") if p not in ("", "."))
    if parts and len(parts[0]) == 2 and parts[0][1] == ":":
        parts = (parts[0].lower(), *parts[1:])
    return parts


def container_path_for(ctx: Context, value: str) -> str | None:
    """The container path of a host path written in model.json, through the bind mount that covers it.

    Exact when the path lies under a mount's source; otherwise the deepest directory name shared with a
    mount's source (``C:\\...\\local_models\\x`` and a mount of ``.../local_models``) when the rest exists
    under that mount on this host. None when no mount covers it, or more than one could.
    """
    candidates: set[str] = set()
    absolute = value if not value.startswith((".", "~")) else str(Path.cwd() / host_path(value))
    wanted = _parts(absolute if not value.startswith("~") else str(host_path(value)))
    for mount in ctx.target.mounts:
        if mount.type != "bind":
            continue
        for source in {mount.source, str(host_path(mount.source).absolute())}:
            src = _parts(source)
            if src and wanted[: len(src)] == src:
                candidates.add(str(PurePosixPath(mount.target, *wanted[len(src) :])))
        if candidates or mount.target.rstrip("/") == ctx.target.repo_target.rstrip("/"):
            continue
        base = _parts(mount.source)[-1:] or ()
        if base and base[0] in wanted:
            rest = wanted[wanted.index(base[0]) + 1 :]
            if rest and host_path(mount.source).joinpath(*rest).is_dir():
                candidates.add(str(PurePosixPath(mount.target, *rest)))
    return candidates.pop() if len(candidates) == 1 else None


def _rewrite(ctx: Context, model: ModelFacts, value: str) -> Fix | None:
    new = container_path_for(ctx, value)
    if new is None or new == value:
        return None
    return Fix(
        description=f'write "model": "{new}" (the container path of that directory)',
        edits=(SetJsonKey(model_json_path(model), "model", json.dumps(new)),),
    )


def _download(host: Path | None, display: str) -> Fix | None:
    """Download the snapshot a ``local_models/<org>_<name>`` folder is named after (a guess: unsafe)."""
    if host is None or not writable_here(display):
        return None  # a guide's <placeholder>, or a Windows path on this system: no folder to download into
    org, sep, name = host.name.partition("_")
    if not sep or not org or not name:
        return None
    repo_id = f"{org}/{name}"
    return Fix(
        description=f"download {repo_id} (guessed from the folder name) into {display}",
        applicability=Applicability.UNSAFE,
        edits=(Download(repo_id, str(host)),),
    )
