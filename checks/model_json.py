"""``model-json``: ``<model>/<version>/model.json`` exists, is strict JSON, and names the ``model``."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.excerpt import excerpt
from triton_doctor.deploy.tokens import known_secrets
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.fixdata import DeleteJsonKey, Fix, Move, text_edit
from triton_doctor.permodel import NotEvaluable, per_model
from triton_doctor.probes import fs
from triton_doctor.repair.jsonedit import repair_json
from triton_doctor.results import Category, Location, Outcome

SAMPLE = '{\n  "model": "<hf-org>/<model> or /local_models/<dir>",\n  "gpu_memory_utilization": 0.9\n}'


def _json_hint(error: str, line_text: str) -> str:
    stripped = line_text.strip()
    if "UTF-8 BOM" in error:
        return "save it as UTF-8 without a byte-order mark (the backend's json.load refuses the mark)"
    if stripped.startswith(("//", "#")):
        return "delete the comment: JSON has no comments"
    if "Expecting property name enclosed in double quotes" in error and stripped.startswith(("}", "]")):
        return "delete the trailing comma before the closing brace"
    if "'" in line_text and "double quotes" in error:
        return "use double quotes: JSON does not accept single quotes"
    if "Expecting ',' delimiter" in error:
        return "add the missing comma at the end of the previous entry"
    return "fix the JSON at that position (check it with: python -m json.tool FILE)"


class ModelJson(Check):
    """model.json with the engine arguments."""

    id = "model-json"
    title = "model.json"
    category = Category.REPO
    requires = frozenset({"model-repository"})
    after = frozenset({"version-directory"})
    explanation = (
        "The vLLM backend reads <model>/<version>/model.json with json.load and passes every key to vLLM's "
        "AsyncEngineArgs. It must be strict JSON (no comments, no trailing commas) and name the model: a "
        "Hugging Face id or a path inside the container. Without 'model', vLLM falls back to its own default "
        "(facebook/opt-125m) and serves something else."
    )
    sub_ids = {
        "missing": "no model.json in the version directory",
        "invalid-json": "model.json is not valid JSON",
        "not-object": "model.json is not a JSON object",
        "no-model": "model.json has no 'model' key",
        "duplicate-key": "a key appears twice (the last one wins)",
    }

    #: The known secret values, set by each run (quotes are redacted before they are cut).
    _secrets: set[str] = set()

    def run(self, ctx: Context) -> Outcome:
        self._secrets = known_secrets(ctx.target)
        return per_model(ctx, self.id, self._evaluate, ok="model.json is valid")

    def _evaluate(self, model: ModelFacts, f: FindingFactory) -> None:
        doc = model.model_json
        if doc is None:
            raise NotEvaluable("no version directory")
        if not doc.exists:
            remedy = f"create {doc.display} with:\n{SAMPLE}"
            evidence = ""
            fix = None
            if model.stray_model_json:
                remedy = f"mv {model.stray_model_json} {doc.display}"
                evidence = f"found {model.stray_model_json} in the model directory instead"
                fix = Fix(
                    description=f"move {model.stray_model_json} into {doc.display}",
                    edits=(Move(str(model.path / "model.json"), str(doc.path)),),
                )
            f.error(
                "missing",
                f"{doc.display} does not exist",
                model=model.name,
                location=Location(path=doc.display),
                evidence=evidence,
                remedy=remedy,
                catalog_id="model-json-missing",
                fix=fix,
            )
            return
        if doc.error is not None:
            lines = ""
            fix = None
            original = fs.read_text(doc.path).text  # the bounded reader: never a FIFO or a device
            repaired = repair_json(original) if original is not None else None
            edit = text_edit(str(doc.path), original, repaired) if original is not None and repaired else None
            if edit is not None:
                fix = Fix(description="delete the comments and trailing commas", edits=(edit,))
            if doc.line is not None:
                text = fs.read_text(doc.path).text or ""
                all_lines = text.splitlines()
                raw = all_lines[doc.line - 1] if 0 < doc.line <= len(all_lines) else ""
                lines = excerpt(raw, doc.column, self._secrets)
            where = f":{doc.line}:{doc.column}" if doc.line else ""
            f.error(
                "invalid-json",
                f"{doc.display}{where}: {doc.error}",
                model=model.name,
                location=Location(path=doc.display, line=doc.line, column=doc.column),
                evidence=lines.rstrip(),
                remedy=_json_hint(doc.error, lines),
                catalog_id="model-json-invalid-json",
                fix=fix,
            )
            return
        if not isinstance(doc.data, dict):
            f.error(
                "not-object",
                f"{doc.display} is a JSON {type(doc.data).__name__}, not an object",
                model=model.name,
                location=Location(path=doc.display, line=1),
                remedy=f"write an object of engine arguments:\n{SAMPLE}",
                catalog_id="model-json-invalid-json",
            )
            return
        for key in doc.duplicate_keys:
            f.warning(
                "duplicate-key",
                f"key {key!r} appears more than once in {doc.display}; the last one wins",
                model=model.name,
                location=model.json_location(key),
                remedy=f"keep one {key!r}",
                fix=Fix(
                    description=f"delete the earlier {key!r} (the last one, which vLLM uses, stays)",
                    edits=(DeleteJsonKey(str(doc.path), key, keep_last=True),),
                ),
            )
        value = doc.data.get("model")
        if value is None:
            f.error(
                "no-model",
                f'{doc.display} has no "model": vLLM would load its default facebook/opt-125m',
                model=model.name,
                location=Location(path=doc.display, line=1),
                remedy='add "model": "<hf-org>/<model>" (Hugging Face) or "model": "/local_models/<dir>"',
            )
        elif not isinstance(value, str) or not value.strip():
            f.error(
                "no-model",
                f'"model" in {doc.display} is {value!r}, not a model id or path',
                model=model.name,
                location=model.json_location("model"),
                remedy='write "model": "<hf-org>/<model>" or "model": "/local_models/<dir>"',
            )
