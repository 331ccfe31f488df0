"""``config-backend``: the model is served by the vLLM backend (``backend: "vllm"``)."""

from __future__ import annotations

from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.context import Context, ModelFacts
from triton_doctor.permodel import per_model, require_config
from triton_doctor.results import Category, Outcome


class ConfigBackend(Check):
    """backend: "vllm"."""

    id = "config-backend"
    title = 'backend: "vllm"'
    category = Category.REPO
    requires = frozenset({"model-repository"})
    after = frozenset({"model-config", "config-name"})
    explanation = (
        "The vLLM backend is a Python-based backend at /opt/tritonserver/backends/vllm/model.py in the "
        "-vllm-python-py3 images. A config without backend: \"vllm\" fails with 'Could not determine backend'."
    )
    sub_ids = {
        "missing": "no backend: line",
        "other": "a backend or platform other than vllm",
    }

    def run(self, ctx: Context) -> Outcome:
        return per_model(ctx, self.id, self._evaluate, ok='backend: "vllm"')

    def _evaluate(self, model: ModelFacts, f: FindingFactory) -> None:
        config: Any = require_config(model)
        if config.platform:
            f.error(
                "other",
                f'platform: "{config.platform}" in {model.config_display}; a vLLM model has no platform',
                model=model.name,
                location=model.config_location("platform"),
                evidence=f'platform: "{config.platform}"',
                remedy='replace it with backend: "vllm"',
            )
        if not config.backend:
            if not config.platform:
                f.error(
                    "missing",
                    f"{model.config_display} has no backend: line",
                    model=model.name,
                    location=model.config_location(),
                    remedy='add the line backend: "vllm"',
                    catalog_id="missing-backend-field",
                )
        elif config.backend != "vllm":
            f.error(
                "other",
                f'backend: "{config.backend}" in {model.config_display}; the vLLM backend is "vllm"',
                model=model.name,
                location=model.config_location("backend"),
                evidence=f'backend: "{config.backend}"',
                remedy='write backend: "vllm"',
            )
