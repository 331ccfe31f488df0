"""``engine-paths``: every path model.json (or multi_lora.json) names is inside a mount of the container."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.deploy.target import host_path
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import JsonDoc, ModelFacts, read_json
from triton_doctor.permodel import NotEvaluable, per_model
from triton_doctor.probes import fs
from triton_doctor.results import Category, Location, Outcome

#: Engine arguments whose value is a file or directory vLLM opens (``model`` itself: model-source).
#: ``download_dir`` is created when missing: outside a mount it works, but every download is lost with the
#: container, so it is a warning.
PATH_ARGS = ("tokenizer", "download_dir", "qlora_adapter_name_or_path", "speculative_model", "hf_config_path")


def lora_doc(model: ModelFacts) -> JsonDoc | None:
    """``<model>/<version>/multi_lora.json`` (None: no version directory)."""
    if model.model_json is None:
        return None
    path = model.model_json.path.parent / "multi_lora.json"
    display = model.model_json.display.rsplit("/", 1)[0] + "/multi_lora.json"
    return read_json(path, display)


class EnginePaths(Check):
    """Paths in model.json and multi_lora.json lie under a mount."""

    id = "engine-paths"
    title = "Paths in model.json are mounted"
    category = Category.REPO
    requires = frozenset({"model-repository"})
    after = frozenset({"model-source"})
    explanation = (
        "vLLM opens every path model.json names inside the container: 'tokenizer' (a directory or a Hub id), "
        "'download_dir', 'qlora_adapter_name_or_path', 'speculative_model', and the backend opens each LoRA "
        "adapter directory named in multi_lora.json. Like 'model', each container path must lie under a bind "
        "mount whose host side holds it; a tokenizer path that is not there is taken for a Hub id "
        "(HFValidationError or 'not found on the Hub')."
    )
    sub_ids = {
        "not-mounted": "a path lies under no mount of the container",
        "missing": "the host side of a mounted path does not exist",
        "lora-json": "multi_lora.json is not a JSON object of adapter name -> path",
    }

    def run(self, ctx: Context) -> Outcome:
        if ctx.target.server_url and ctx.target.docker is None:
            return Outcome(skip_reason="--server: the running container's mounts are not known here")
        return per_model(ctx, self.id, lambda m, f: self._evaluate(ctx, m, f), ok="paths mounted")

    def _evaluate(self, ctx: Context, model: ModelFacts, f: FindingFactory) -> None:
        args = ctx.engine_args(model.name)
        if args is None:
            raise NotEvaluable("no readable model.json")
        for key in PATH_ARGS:
            value = args.get(key)
            if isinstance(value, str) and value.startswith("/"):
                self._path(ctx, model, f, key, value, model.json_location(key), f'"{key}": {json.dumps(value)}')
        doc = lora_doc(model)
        if doc is None or not doc.exists:
            return
        where = Location(path=doc.display, line=doc.line, column=doc.column)
        if doc.error is not None or not isinstance(doc.data, dict):
            f.error(
                "lora-json",
                f"{doc.display}: {doc.error or 'not a JSON object'}; the backend reads it with json.load",
                model=model.name,
                location=where if doc.error else Location(path=doc.display, line=1),
                remedy='write {"<adapter name>": "/<mounted dir>/<adapter>"} as strict UTF-8 JSON',
                catalog_id="multi-lora-json",
            )
            return
        for name, value in doc.data.items():
            loc = Location(path=doc.display, line=doc.key_lines.get(name))
            evidence = f"{json.dumps(name)}: {json.dumps(value)}"
            if not isinstance(value, str) or not value.strip():
                f.error(
                    "lora-json",
                    f"adapter {name!r} in {doc.display} is {json.dumps(value)}, not a path",
                    model=model.name,
                    location=loc,
                    evidence=evidence,
                    remedy=f'write "{name}": "/<mounted dir>/{name}"',
                    catalog_id="multi-lora-json",
                )
            elif value.startswith("/"):
                self._path(ctx, model, f, f"LoRA adapter {name!r}", value, loc, evidence)

    @staticmethod
    def _path(
        ctx: Context, model: ModelFacts, f: FindingFactory, what: str, value: str, loc: Location | None, evidence: str
    ) -> None:
        mount = ctx.target.mount_for(value)
        soft = what == "download_dir"
        if mount is None:
            targets = ", ".join(sorted({m.target for m in ctx.target.mounts})) or "none"
            top = "/" + value.strip("/").split("/")[0]
            message = f"{what} {value!r} lies under no mount of the container (mount targets: {targets})"
            if soft:
                message += "; vLLM creates it inside the container and every download is lost with it"
            (f.warning if soft else f.error)(
                "not-mounted",
                message,
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy=f"add --mount type=bind,source=<host dir>,target={top} to docker run "
                f"(or --mount HOST:{top} for the doctor)",
                catalog_id=None if soft else "local-model-path-not-mounted",
            )
            return
        if mount.type != "bind" or soft:
            return
        rel = PurePosixPath(value).relative_to(PurePosixPath(mount.target))
        host = host_path(mount.source).joinpath(*rel.parts)
        listing = fs.list_dir(host)
        if listing.missing:
            shown = str(PurePosixPath(mount.source.replace("\\", "/"), *rel.parts))
            f.error(
                "missing",
                f"{what} {value!r} is mounted from {shown}, which does not exist",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy=f"put the files at {shown} or fix the path",
                catalog_id="local-model-path-not-mounted",
            )


def lora_entries(doc: JsonDoc | None) -> dict[str, Any]:
    """The adapters of a parsed multi_lora.json (empty when absent or malformed)."""
    return dict(doc.data) if doc is not None and doc.exists and isinstance(doc.data, dict) else {}
