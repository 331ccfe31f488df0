"""``config-name``: ``name:`` in config.pbtxt, when present, equals the model's directory name."""

from __future__ import annotations

from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.permodel import per_model, require_config
from triton_doctor.repair.locate import config_fix, position
from triton_doctor.repair.pbtxtedit import set_scalar
from triton_doctor.results import Category, Outcome


class ConfigName(Check):
    """The model name matches its directory."""

    id = "config-name"
    title = "Model name matches its directory"
    category = Category.REPO
    requires = frozenset({"model-repository"})
    after = frozenset({"model-config"})
    explanation = (
        "Triton names a model after its directory. 'name:' in config.pbtxt is optional; if present it must "
        "equal the directory name, or the load fails with 'unexpected directory name'."
    )
    sub_ids = {"mismatch": "name: differs from the directory name"}

    def run(self, ctx: Context) -> Outcome:
        return per_model(ctx, self.id, self._evaluate, ok="names match")

    def _evaluate(self, model: ModelFacts, f: FindingFactory) -> None:
        config: Any = require_config(model)
        if config.name and config.name != model.name:

            def rename(text: str) -> str:
                pos = position(text, "name")
                if pos is None:
                    raise ValueError("no name field")
                return set_scalar(text, *pos, f'"{model.name}"')

            f.error(
                "mismatch",
                f'name: "{config.name}" in {model.config_display} differs from the directory name {model.name!r}',
                model=model.name,
                location=model.config_location("name"),
                evidence=f'name: "{config.name}"',
                remedy=f'write name: "{model.name}" (or delete the line: the name is optional), or rename the '
                f"directory to {config.name!r} and use --load-model={config.name}",
                catalog_id="dir-name-mismatch",
                fix=config_fix(model, rename, f'write name: "{model.name}"'),
            )
