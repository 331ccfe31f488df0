"""``backend-features``: LoRA, metrics and health check as the image's own vLLM backend reads them."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.checks.engine_paths import lora_doc, lora_entries
from triton_doctor.deploy.target import host_path
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts, read_json
from triton_doctor.knowledge import image_for_tag
from triton_doctor.knowledge.backend import BackendRelease, backend_for
from triton_doctor.permodel import NotEvaluable, per_model
from triton_doctor.results import Category, Location, Outcome

#: vLLM's EngineArgs default for max_lora_rank (0.4-0.x).
DEFAULT_MAX_LORA_RANK = 16


def _param(model: ModelFacts, name: str) -> str | None:
    """A ``parameters { key: NAME value: { string_value: ... } }`` of config.pbtxt (None: not set)."""
    message = model.parsed.message if model.parsed is not None else None
    if message is None or name not in message.parameters:
        return None
    return str(message.parameters[name].string_value)


def _truthy(value: Any) -> bool:
    """Python's truth of a JSON value as vLLM's dataclass sees it ("false" is a non-empty string: true)."""
    return bool(value)


class BackendFeatures(Check):
    """LoRA, metrics and the health check need more than one setting."""

    id = "backend-features"
    title = "LoRA, metrics and health check"
    category = Category.REPO
    requires = frozenset({"model-repository"})
    after = frozenset({"engine-args", "engine-paths"})
    explanation = (
        "Three features of the vLLM backend need settings in two places, and the backend of each image reads "
        "them its own way (rules generated from triton-inference-server/vllm_backend src/model.py of every "
        "release branch). LoRA: 'enable_lora' in model.json turns on the backend's adapter list, "
        "<version>/multi_lora.json, which must exist (FileNotFoundError); 24.05-24.09 call "
        'enable_lora.lower(), so the flag must be the string "true". Metrics: the vllm: metrics appear only '
        "with the config.pbtxt parameter REPORT_CUSTOM_METRICS ('yes' in 24.08-24.11, 'true' from 24.12) and "
        "disable_log_stats false. Health check: ENABLE_VLLM_HEALTH_CHECK (24.12+) needs "
        "--model-control-mode=explicit."
    )
    sub_ids = {
        "lora-flag": "enable_lora of a type the image's backend cannot read",
        "no-multi-lora": "enable_lora without multi_lora.json",
        "lora-off": "multi_lora.json or LoRA settings without enable_lora",
        "lora-rank": "an adapter's rank above max_lora_rank",
        "metrics": "REPORT_CUSTOM_METRICS that does not turn the vllm: metrics on",
        "health-check": "ENABLE_VLLM_HEALTH_CHECK without explicit model control, or ignored",
    }

    def run(self, ctx: Context) -> Outcome:
        image = image_for_tag(ctx.target.image or "")
        backend = backend_for(image)
        if backend is None:
            return Outcome(skip_reason="image unknown: the backend's rules differ per release (pass --image)")
        return per_model(
            ctx, self.id, lambda m, f: self._evaluate(ctx, m, f, backend), ok=f"as {backend.branch} reads them"
        )

    def _evaluate(self, ctx: Context, model: ModelFacts, f: FindingFactory, backend: BackendRelease) -> None:
        args = ctx.engine_args(model.name)
        if args is None:
            raise NotEvaluable("no readable model.json")
        self._lora(ctx, model, f, backend, args)
        self._metrics(model, f, backend, args)
        self._health(ctx, model, f, backend)

    def _lora(
        self, ctx: Context, model: ModelFacts, f: FindingFactory, backend: BackendRelease, args: dict[str, Any]
    ) -> None:
        doc = lora_doc(model)
        has_file = doc is not None and doc.exists
        value = args.get("enable_lora")
        loc = model.json_location("enable_lora")
        evidence = f'"enable_lora": {json.dumps(value)}'
        if value is None:
            if has_file and doc is not None and backend.lora_flag is not None:
                f.warning(
                    "lora-off",
                    f"{doc.display} exists but model.json has no enable_lora: the backend ignores the adapters",
                    model=model.name,
                    location=Location(path=doc.display, line=1),
                    remedy='add "enable_lora": true to model.json (or delete multi_lora.json)',
                )
            return
        if backend.lora_flag == "string" and not isinstance(value, str):
            f.error(
                "lora-flag",
                f"enable_lora is {json.dumps(value)}; the {backend.tag} backend calls enable_lora.lower() "
                f"({backend.cite(backend.lora_line)}): AttributeError: "
                f"'{type(value).__name__}' object has no attribute 'lower'",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy=f'write "enable_lora": "{"true" if value else "false"}" (a string, for images 24.05-24.09)',
                catalog_id="enable-lora-flag-type",
            )
            return
        on = str(value).lower() == "true"
        if backend.lora_flag is None:
            if _truthy(value):
                f.warning(
                    "lora-off",
                    f"the {backend.tag} backend has no LoRA support: enable_lora reaches vLLM, but no request "
                    "can name an adapter",
                    model=model.name,
                    location=loc,
                    evidence=evidence,
                    remedy="use image 24.05 or newer for multi-LoRA serving",
                )
            return
        if on and not has_file:
            shown = doc.display if doc is not None else "<model>/<version>/multi_lora.json"
            f.error(
                "no-multi-lora",
                f"enable_lora is on but {shown} does not exist: the backend raises FileNotFoundError "
                f"'Triton backend cannot find ...multi_lora.json' ({backend.cite(backend.multi_lora_line)})",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy=f'create {shown} with {{"<adapter name>": "/<mounted dir>/<adapter>"}}',
                catalog_id="multi-lora-json",
            )
            return
        if not on and _truthy(value) and isinstance(value, str):
            f.warning(
                "lora-off",
                f"enable_lora is {json.dumps(value)}: vLLM reads any non-empty string as true and reserves LoRA "
                "memory, while the backend ignores multi_lora.json",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy='delete "enable_lora", or write "true"',
            )
            return
        if on:
            self._ranks(ctx, model, f, args, lora_entries(doc))

    @staticmethod
    def _ranks(
        ctx: Context, model: ModelFacts, f: FindingFactory, args: dict[str, Any], adapters: dict[str, Any]
    ) -> None:
        limit = args.get("max_lora_rank", DEFAULT_MAX_LORA_RANK)
        if not isinstance(limit, int) or isinstance(limit, bool):
            return
        for name, path in adapters.items():
            if not isinstance(path, str) or not path.startswith("/"):
                continue
            mount = ctx.target.mount_for(path)
            if mount is None or mount.type != "bind":
                continue
            rel = PurePosixPath(path).relative_to(PurePosixPath(mount.target))
            doc = read_json(host_path(mount.source).joinpath(*rel.parts, "adapter_config.json"), "")
            rank = doc.data.get("r") if isinstance(doc.data, dict) else None
            if isinstance(rank, int) and not isinstance(rank, bool) and rank > limit:
                shown = str(PurePosixPath(mount.source.replace("\\", "/"), *rel.parts, "adapter_config.json"))
                f.error(
                    "lora-rank",
                    f"adapter {name!r} has rank {rank} ({shown}), above max_lora_rank {limit}"
                    + (" (vLLM's default)" if "max_lora_rank" not in args else "")
                    + f": vLLM refuses it with 'LoRA rank {rank} is greater than max_lora_rank {limit}'",
                    model=model.name,
                    location=model.json_location("max_lora_rank" if "max_lora_rank" in args else "enable_lora"),
                    evidence=f'"r": {rank} in {shown}',
                    remedy=f'write "max_lora_rank": {max(rank, 8)} in model.json',
                )

    @staticmethod
    def _metrics(model: ModelFacts, f: FindingFactory, backend: BackendRelease, args: dict[str, Any]) -> None:
        wanted = _param(model, "REPORT_CUSTOM_METRICS")
        if wanted is None:
            return
        loc = model.config_location("parameters")
        evidence = f'REPORT_CUSTOM_METRICS: "{wanted}"'
        if backend.metrics_value is None:
            f.warning(
                "metrics",
                f"the {backend.tag} backend reports no vLLM metrics: REPORT_CUSTOM_METRICS is ignored",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy="use image 24.08 or newer for vllm: metrics",
            )
            return
        expected = backend.metrics_value
        matches = wanted.lower() == expected if backend.metrics_case_insensitive else wanted == expected
        if not matches:
            f.warning(
                "metrics",
                f'REPORT_CUSTOM_METRICS is "{wanted}"; the {backend.tag} backend turns metrics on only for '
                f'"{expected}" ({backend.cite(backend.metrics_line)}): no vllm: metrics',
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy=f'write value: {{ string_value: "{expected}" }}',
            )
            return
        stats_off = args.get("disable_log_stats")
        if backend.metrics_need_log_stats and _truthy(stats_off):
            f.warning(
                "metrics",
                f"REPORT_CUSTOM_METRICS is on but disable_log_stats is {json.dumps(stats_off)}: the backend "
                f"reports vllm: metrics only when disable_log_stats is false ({backend.cite(backend.metrics_line)})",
                model=model.name,
                location=model.json_location("disable_log_stats"),
                evidence=f'"disable_log_stats": {json.dumps(stats_off)}',
                remedy='write "disable_log_stats": false',
            )

    @staticmethod
    def _health(ctx: Context, model: ModelFacts, f: FindingFactory, backend: BackendRelease) -> None:
        wanted = _param(model, "ENABLE_VLLM_HEALTH_CHECK")
        if wanted is None or wanted.lower() != "true":
            return
        loc = model.config_location("parameters")
        evidence = f'ENABLE_VLLM_HEALTH_CHECK: "{wanted}"'
        if backend.health_check_line is None:
            f.warning(
                "health-check",
                f"the {backend.tag} backend has no vLLM health check: ENABLE_VLLM_HEALTH_CHECK is ignored",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy="use image 24.12 or newer",
            )
            return
        docker = ctx.target.docker
        mode = docker.model_control_mode if docker is not None else None
        if docker is not None and (mode or "none").lower() != "explicit":
            f.warning(
                "health-check",
                f"ENABLE_VLLM_HEALTH_CHECK needs --model-control-mode=explicit (vllm_backend "
                f"docs/health_check.md); the server runs with {mode or 'the default mode (none)'}",
                model=model.name,
                location=loc,
                evidence=evidence,
                remedy="start tritonserver with --model-control-mode=explicit --load-model=<name>",
            )
