"""``config-backend``: the model is served by the vLLM backend (``backend: "vllm"``)."""

from __future__ import annotations

from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.fixdata import Applicability
from triton_doctor.permodel import per_model, require_config
from triton_doctor.repair.locate import config_fix, position
from triton_doctor.repair.pbtxtedit import insert_after_line, replace_field, set_scalar
from triton_doctor.results import Category, Outcome

#: Platforms Triton's model_config_utils.cc maps to a backend (tensorrt, tensorflow, onnxruntime, pytorch).
KNOWN_PLATFORMS = frozenset(
    {
        "tensorrt_plan",
        "tensorflow_graphdef",
        "tensorflow_savedmodel",
        "onnxruntime_onnx",
        "pytorch_libtorch",
        "ensemble",
    }
)


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
                # Triton maps the platforms it knows to their backends; for any other (platform: "vllm")
                # it finds none: the backend field is what is missing.
                catalog_id=None if config.backend or config.platform in KNOWN_PLATFORMS else "missing-backend-field",
                fix=None
                if config.backend
                else config_fix(
                    model,
                    lambda t: replace_field(t, *_at(t, "platform"), 'backend: "vllm"'),
                    'replace platform: with backend: "vllm"',
                    Applicability.UNSAFE,
                ),
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
                    fix=config_fix(model, _add_backend, 'add backend: "vllm"'),
                )
        elif config.backend != "vllm":
            f.error(
                "other",
                f'backend: "{config.backend}" in {model.config_display}; the vLLM backend is "vllm"',
                model=model.name,
                location=model.config_location("backend"),
                evidence=f'backend: "{config.backend}"',
                remedy='write backend: "vllm"',
                fix=config_fix(
                    model,
                    lambda t: set_scalar(t, *_at(t, "backend"), '"vllm"'),
                    f'replace backend: "{config.backend}" with "vllm"',
                    Applicability.UNSAFE,
                ),
            )


def _at(text: str, name: str) -> tuple[int, int]:
    pos = position(text, name)
    if pos is None:
        raise ValueError(f"no {name} field")
    return pos


def _add_backend(text: str) -> str:
    """Insert ``backend: "vllm"`` after the name line (or at the top)."""
    pos = position(text, "name")
    return insert_after_line(text, pos[0] if pos else 0, 'backend: "vllm"')
